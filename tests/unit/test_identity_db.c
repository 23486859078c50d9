/*
 * test_identity_db.c — accounts, SMS codes, the login guard, sessions and
 * refresh tokens against a real MariaDB (the migrations of schemas/sql/
 * applied to a database of its own, dropped at the end).
 *
 * Each attack a module stops has a check here: a copied ID-number
 * ciphertext, a second use of an SMS code, guessing past the attempt limit,
 * parallel wrong passwords against the guard, a reused refresh token, one
 * presented by another client, a token of an ended session. And a signing
 * key rotation inside the caller's transaction, which must neither commit
 * nor roll back on its own (the admin API's rotation and audit record).
 *
 * Needs YIWANG_TEST_DSN; without it the test is skipped (exit 77).
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "auth/accounts.h"
#include "auth/authz_codes.h"
#include "auth/login_guard.h"
#include "auth/refresh_tokens.h"
#include "auth/retention.h"
#include "auth/sessions.h"
#include "auth/signing_keys.h"
#include "auth/sms.h"
#include "common/embedded_migrations.h"
#include "common/xalloc.h"
#include "tests/unit/test.h"

#define SKIP_RETURN_CODE 77
#define ID_NUMBER "11010519491231002X" /* GB 11643's own example */
#define ID_NUMBER_2 "440524188001010014"

static struct db_dsn test_dsn;
static struct identity_keys keys;

static struct db *open_db(void)
{
    char *err = NULL;
    struct db *db = db_connect(&test_dsn, 2000, &err);
    if (db == NULL) {
        fprintf(stderr, "cannot connect: %s\n", err);
        exit(1);
    }
    return db;
}

static void must(struct db *db, const char *sql)
{
    if (db_exec(db, 0, sql, DB_NO_ARGS) != 0) {
        fprintf(stderr, "%s: %s\n", sql, db_error(db));
        exit(1);
    }
}

/* The one number `sql` selects; every `?` of it is `arg`. */
static long long scalar(struct db *db, const char *sql, const char *arg)
{
    int64_t n = -1;
    struct db_result *res = strstr(strchr(sql, '?') + 1, "?") != NULL ? db_query(db, 0, sql, DB_ARGS(db_text(arg), db_text(arg)))
                                                                      : db_query(db, 0, sql, DB_ARGS(db_text(arg)));
    if (res == NULL || db_result_next(res) != 1 || db_result_int64(res, 0, &n) != DB_GET_OK)
        fprintf(stderr, "%s: %s\n", sql, db_error(db));
    return n;
}

static void print_err(char **err)
{
    if (*err != NULL)
        fprintf(stderr, "  error: %s\n", *err);
    free(*err);
    *err = NULL;
}

/* ---- accounts ---- */

static void test_accounts(struct db *db)
{
    char *err = NULL;
    struct account a, b, found;
    struct account_spec spec = {.mobile = "13800138000", .name = "张三", .id_number = ID_NUMBER};
    CHECK_INT_EQ(accounts_create(db, &keys, &spec, &a, &err), ACCOUNTS_OK);
    print_err(&err);
    CHECK_INT_EQ(strlen(a.id), RANDOM_ID_LEN);
    CHECK_STR_EQ(a.name, "张三");
    CHECK_INT_EQ(a.assurance_level, 1);
    CHECK_INT_EQ(a.status, ACCOUNT_ACTIVE);
    CHECK(a.has_id_number && a.password_hash[0] == '\0');
    /* the ID number is not in the row in clear, only sealed and indexed */
    CHECK_INT_EQ(scalar(db, "SELECT COUNT(*) FROM accounts WHERE INSTR(id_number_sealed, ?) > 0", "1949123"), 0);
    CHECK_INT_EQ(accounts_find_by_id_number(db, &keys, ID_NUMBER, &found, &err), 1);
    CHECK_STR_EQ(found.id, a.id);
    CHECK_INT_EQ(accounts_find_by_mobile(db, "13800138000", &found, &err), 1);
    CHECK_INT_EQ(accounts_find_by_mobile(db, "13900000000", &found, &err), 0);

    struct account_spec same_mobile = {.mobile = "13800138000"}, same_id = {.mobile = "13800138001", .id_number = ID_NUMBER};
    CHECK_INT_EQ(accounts_create(db, &keys, &same_mobile, &b, &err), ACCOUNTS_MOBILE_TAKEN);
    CHECK_INT_EQ(accounts_create(db, &keys, &same_id, &b, &err), ACCOUNTS_ID_NUMBER_TAKEN);
    print_err(&err);

    /* SMS registration: found or created, once */
    int created = 0;
    CHECK_INT_EQ(accounts_find_or_create_by_mobile(db, "13800138002", &b, &created, &err), 1);
    CHECK(created && b.assurance_level == 1 && !b.has_id_number);
    CHECK_INT_EQ(accounts_find_or_create_by_mobile(db, "13800138002", &found, &created, &err), 1);
    CHECK(!created && strcmp(found.id, b.id) == 0);

    char id_number[IDENTIFIERS_RESIDENT_ID_BUFSIZE];
    CHECK_INT_EQ(accounts_read_id_number(db, &keys, a.id, id_number, &err), 1);
    CHECK_STR_EQ(id_number, ID_NUMBER);
    CHECK_INT_EQ(accounts_read_id_number(db, &keys, b.id, id_number, &err), 0);
    CHECK_INT_EQ(accounts_set_id_number(db, &keys, b.id, ID_NUMBER, &err), ACCOUNTS_ID_NUMBER_TAKEN);
    CHECK_INT_EQ(accounts_set_id_number(db, &keys, b.id, ID_NUMBER_2, &err), ACCOUNTS_OK);
    /* attack: someone with write access copies a's sealed number into b's row; it must not open as b's */
    struct db_result *res = db_query(db, 0,
                                     "UPDATE accounts t JOIN accounts s ON s.id = ? SET t.id_number_sealed = s.id_number_sealed "
                                     "WHERE t.id = ?",
                                     DB_ARGS(db_text(a.id), db_text(b.id)));
    CHECK(res != NULL);
    CHECK_INT_EQ(accounts_read_id_number(db, &keys, b.id, id_number, &err), -1);
    CHECK_STR_EQ(id_number, "");
    CHECK(err != NULL && strstr(err, ID_NUMBER) == NULL);
    print_err(&err);

    CHECK_INT_EQ(accounts_set_password(db, a.id, "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0c2FsdA$aGFzaA", &err),
                 ACCOUNTS_OK);
    CHECK_INT_EQ(accounts_set_password(db, "nobody", "x", &err), ACCOUNTS_NOT_FOUND);
    CHECK_INT_EQ(accounts_raise_assurance(db, a.id, 2, "verifier:test", "txn-1", &err), 1);
    CHECK_INT_EQ(accounts_raise_assurance(db, a.id, 2, "verifier:test", "txn-2", &err), 0);
    CHECK_INT_EQ(accounts_raise_assurance(db, a.id, 1, "verifier:test", "", &err), -1); /* never lowers */
    print_err(&err);
    CHECK_INT_EQ(accounts_raise_assurance(db, a.id, 3, "", "", &err), -1); /* no actor: no raise */
    print_err(&err);
    CHECK_INT_EQ(accounts_find_by_id(db, a.id, &found, &err), 1);
    CHECK_INT_EQ(found.assurance_level, 2);
    CHECK(strncmp(found.password_hash, "$argon2id$", 10) == 0);
    CHECK_INT_EQ(scalar(db, "SELECT COUNT(*) FROM account_assurance_events WHERE account_id = ?", a.id), 1);
    CHECK_INT_EQ(accounts_set_status(db, b.id, ACCOUNT_DISABLED, &err), ACCOUNTS_OK);
    CHECK_INT_EQ(accounts_find_by_id(db, b.id, &found, &err), 1);
    CHECK_INT_EQ(found.status, ACCOUNT_DISABLED);
    print_err(&err);
}

/* ---- SMS codes ---- */

static const struct sms_config sms_policy = {
    .enabled = 1,
    .code_ttl_s = 300,
    .max_attempts = 5,
    .resend_interval_s = 60,
    .daily_limit_per_mobile = 3,
    .daily_limit_per_ip = 4,
};

static void allow_resend(struct db *db, const char *mobile)
{
    db_exec(db, 0, "UPDATE sms_codes SET last_sent_at = last_sent_at - INTERVAL 61 SECOND WHERE mobile = ?",
            DB_ARGS(db_text(mobile)));
}

/* A well-formed code that is not `code`. */
static void wrong_code(const char *code, char out[SMS_CODE_BUFSIZE])
{
    memcpy(out, code, SMS_CODE_BUFSIZE);
    out[0] = out[0] == '9' ? '0' : (char)(out[0] + 1);
}

static void test_sms(struct db *db)
{
    char *err = NULL, code[SMS_CODE_BUFSIZE], second[SMS_CODE_BUFSIZE];
    unsigned retry = 0;
    int64_t now = time(NULL);
    const char *m = "13700000001";
    CHECK_INT_EQ(sms_issue(db, keys.sms_code_hash, &sms_policy, m, SMS_PURPOSE_LOGIN, "10.0.0.1", now, code, &retry, &err),
                 SMS_ISSUED);
    print_err(&err);
    /* stored hashed only */
    CHECK_INT_EQ(scalar(db, "SELECT COUNT(*) FROM sms_codes WHERE LENGTH(code_hash) = 32 AND mobile = ?", m), 1);
    /* resend cooldown: refused, and the refused attempt does not use up the address's quota */
    CHECK_INT_EQ(sms_issue(db, keys.sms_code_hash, &sms_policy, m, SMS_PURPOSE_LOGIN, "10.0.0.1", now, second, &retry, &err),
                 SMS_TOO_SOON);
    CHECK(retry >= 59 && retry <= 60);
    CHECK_INT_EQ(scalar(db, "SELECT sent FROM sms_ip_quota WHERE client_ip = ?", "10.0.0.1"), 1);
    /* the purpose is separate: a password code may be sent now */
    CHECK_INT_EQ(sms_issue(db, keys.sms_code_hash, &sms_policy, m, SMS_PURPOSE_PASSWORD, "10.0.0.1", now, second, &retry, &err),
                 SMS_ISSUED);
    CHECK_INT_EQ(sms_verify(db, keys.sms_code_hash, &sms_policy, m, SMS_PURPOSE_PASSWORD, code, &err),
                 strcmp(code, second) == 0 ? SMS_CODE_OK : SMS_CODE_WRONG);
    /* wrong, then right, then right again: single use */
    char wrong[SMS_CODE_BUFSIZE];
    wrong_code(code, wrong);
    CHECK_INT_EQ(sms_verify(db, keys.sms_code_hash, &sms_policy, m, SMS_PURPOSE_LOGIN, wrong, &err), SMS_CODE_WRONG);
    CHECK_INT_EQ(sms_verify(db, keys.sms_code_hash, &sms_policy, "13700000009", SMS_PURPOSE_LOGIN, code, &err), SMS_CODE_UNUSABLE);
    CHECK_INT_EQ(sms_verify(db, keys.sms_code_hash, &sms_policy, m, SMS_PURPOSE_LOGIN, code, &err), SMS_CODE_OK);
    CHECK_INT_EQ(sms_verify(db, keys.sms_code_hash, &sms_policy, m, SMS_PURPOSE_LOGIN, code, &err), SMS_CODE_UNUSABLE);

    /* attempt limit: after 5 wrong entries even the right code is refused */
    allow_resend(db, m);
    CHECK_INT_EQ(sms_issue(db, keys.sms_code_hash, &sms_policy, m, SMS_PURPOSE_LOGIN, "10.0.0.1", now, code, &retry, &err),
                 SMS_ISSUED);
    wrong_code(code, wrong);
    for (int i = 0; i < 5; i++)
        CHECK_INT_EQ(sms_verify(db, keys.sms_code_hash, &sms_policy, m, SMS_PURPOSE_LOGIN, wrong, &err), SMS_CODE_WRONG);
    CHECK_INT_EQ(sms_verify(db, keys.sms_code_hash, &sms_policy, m, SMS_PURPOSE_LOGIN, code, &err), SMS_CODE_UNUSABLE);

    /* expiry; and that was the third code today for this number: the fourth is refused until tomorrow */
    allow_resend(db, m);
    CHECK_INT_EQ(sms_issue(db, keys.sms_code_hash, &sms_policy, m, SMS_PURPOSE_LOGIN, "10.0.0.1", now, code, &retry, &err),
                 SMS_ISSUED);
    db_exec(db, 0, "UPDATE sms_codes SET expires_at = UTC_TIMESTAMP(6) - INTERVAL 1 SECOND WHERE mobile = ?", DB_ARGS(db_text(m)));
    CHECK_INT_EQ(sms_verify(db, keys.sms_code_hash, &sms_policy, m, SMS_PURPOSE_LOGIN, code, &err), SMS_CODE_UNUSABLE);
    allow_resend(db, m);
    CHECK_INT_EQ(sms_issue(db, keys.sms_code_hash, &sms_policy, m, SMS_PURPOSE_LOGIN, "10.0.0.2", now, code, &retry, &err),
                 SMS_MOBILE_DAILY_LIMIT);
    CHECK(retry >= 1 && retry <= 86400);
    /* the address 10.0.0.1 has had 4 codes: any number is refused from it today */
    CHECK_INT_EQ(
        sms_issue(db, keys.sms_code_hash, &sms_policy, "13700000002", SMS_PURPOSE_LOGIN, "10.0.0.1", now, code, &retry, &err),
        SMS_IP_DAILY_LIMIT);
    CHECK_INT_EQ(
        sms_issue(db, keys.sms_code_hash, &sms_policy, "13700000002", SMS_PURPOSE_LOGIN, "10.0.0.3", now, code, &retry, &err),
        SMS_ISSUED);
    print_err(&err);
}

/* ---- the login guard under parallel attempts ---- */

static const struct login_guard_config guard_policy = {
    .mobile_max_failures = 5, .ip_max_failures = 50, .failure_window_s = 900, .lock_s = 60, .max_lock_s = 1800};

struct charger {
    pthread_t thread;
    int allowed, locked;
};

static void *charge_many(void *arg)
{
    struct charger *c = arg;
    db_thread_init();
    struct db *db = open_db();
    char *err = NULL;
    unsigned retry;
    for (int i = 0; i < 10; i++) {
        enum login_guard_status s = login_guard_charge(db, &guard_policy, LOGIN_GUARD_MOBILE, "13600000000", &retry, &err);
        c->allowed += s == LOGIN_GUARD_ALLOWED;
        c->locked += s == LOGIN_GUARD_LOCKED;
        print_err(&err);
    }
    db_close(db);
    db_thread_end();
    return NULL;
}

static void test_guard(struct db *db)
{
    struct charger chargers[8];
    memset(chargers, 0, sizeof(chargers));
    for (int i = 0; i < 8; i++)
        pthread_create(&chargers[i].thread, NULL, charge_many, &chargers[i]);
    int allowed = 0, locked = 0;
    for (int i = 0; i < 8; i++) {
        pthread_join(chargers[i].thread, NULL);
        allowed += chargers[i].allowed;
        locked += chargers[i].locked;
    }
    /* 80 parallel attempts: exactly 5 reach the password check */
    CHECK_INT_EQ(allowed, 5);
    CHECK_INT_EQ(locked, 75);
    char *err = NULL;
    unsigned retry = 0;
    CHECK_INT_EQ(login_guard_charge(db, &guard_policy, LOGIN_GUARD_MOBILE, "13600000000", &retry, &err), LOGIN_GUARD_LOCKED);
    CHECK(retry >= 58 && retry <= 60);
    /* a proven phone (SMS login) lifts the lock */
    CHECK_INT_EQ(login_guard_succeeded(db, LOGIN_GUARD_MOBILE, "13600000000", &err), 0);
    CHECK_INT_EQ(login_guard_charge(db, &guard_policy, LOGIN_GUARD_MOBILE, "13600000000", &retry, &err), LOGIN_GUARD_ALLOWED);
    /* an address's success refunds one attempt only */
    CHECK_INT_EQ(login_guard_charge(db, &guard_policy, LOGIN_GUARD_IP, "10.1.1.1", &retry, &err), LOGIN_GUARD_ALLOWED);
    CHECK_INT_EQ(login_guard_charge(db, &guard_policy, LOGIN_GUARD_IP, "10.1.1.1", &retry, &err), LOGIN_GUARD_ALLOWED);
    CHECK_INT_EQ(login_guard_succeeded(db, LOGIN_GUARD_IP, "10.1.1.1", &err), 0);
    CHECK_INT_EQ(scalar(db, "SELECT failures FROM login_throttle WHERE kind = 'ip' AND subject = ?", "10.1.1.1"), 1);
    print_err(&err);
}

/* ---- sessions and refresh tokens ---- */

static const struct session_config session_policy = {.idle_timeout_s = 1800, .absolute_timeout_s = 43200};

static void test_sessions(struct db *db)
{
    char *err = NULL, secret[SECRETS_TOKEN_BUFSIZE], other[SECRETS_TOKEN_BUFSIZE];
    struct account a;
    int created;
    CHECK_INT_EQ(accounts_find_or_create_by_mobile(db, "13500000000", &a, &created, &err), 1);
    struct session s, found;
    CHECK_INT_EQ(sessions_create(db, keys.token_hash, &session_policy, &a, SESSION_AMR_SMS, "app", secret, &s, &err), 0);
    print_err(&err);
    CHECK_INT_EQ(strlen(secret), SECRETS_TOKEN_LEN);
    CHECK(strcmp(s.sid, secret) != 0 && s.acr == 1 && s.amr == SESSION_AMR_SMS && s.ended_at == 0);
    CHECK_INT_EQ(s.absolute_expires_at - s.auth_time, 43200);
    /* the opaque id itself is stored nowhere */
    CHECK_INT_EQ(scalar(db, "SELECT COUNT(*) FROM sso_sessions WHERE sid = ? OR account_id = ?", secret), 0);
    CHECK_INT_EQ(sessions_resume(db, keys.token_hash, &session_policy, secret, strlen(secret), &found, &err), 1);
    CHECK_STR_EQ(found.sid, s.sid);
    CHECK_INT_EQ(sessions_resume(db, keys.token_hash, &session_policy, s.sid, strlen(s.sid), &found, &err), 0); /* sid is no key */
    memcpy(other, secret, sizeof(other));
    other[0] = other[0] == 'A' ? 'B' : 'A';
    CHECK_INT_EQ(sessions_resume(db, keys.token_hash, &session_policy, other, strlen(other), &found, &err), 0);
    /* idle: no longer signs in */
    db_exec(db, 0, "UPDATE sso_sessions SET idle_expires_at = UTC_TIMESTAMP(6) WHERE sid = ?", DB_ARGS(db_text(s.sid)));
    CHECK_INT_EQ(sessions_resume(db, keys.token_hash, &session_policy, secret, strlen(secret), &found, &err), 0);

    struct session s2, s3, list[4];
    CHECK_INT_EQ(sessions_create(db, keys.token_hash, &session_policy, &a, SESSION_AMR_PWD, "app", other, &s2, &err), 0);
    CHECK_INT_EQ(sessions_create(db, keys.token_hash, &session_policy, &a, SESSION_AMR_PWD, "web", other, &s3, &err), 0);
    CHECK_INT_EQ(sessions_list(db, a.id, list, 4, &err), 3);
    CHECK_INT_EQ(sessions_end_all(db, a.id, s3.sid, SESSION_END_PASSWORD_CHANGED, &err), 2);
    CHECK_INT_EQ(sessions_list(db, a.id, list, 4, &err), 1);
    CHECK_STR_EQ(list[0].sid, s3.sid);
    CHECK_INT_EQ(sessions_end(db, s3.sid, SESSION_END_LOGOUT, &err), 1);
    CHECK_INT_EQ(sessions_end(db, s3.sid, SESSION_END_LOGOUT, &err), 0);
    print_err(&err);
}

static const struct refresh_policy refresh_policy = {.ttl_s = 3600, .reuse_grace_s = 10};

static enum refresh_result use_scoped(struct db *db, const char *token, const char *client, const char *requested,
                                      char next[SECRETS_TOKEN_BUFSIZE], struct refresh_grant *grant)
{
    struct refresh_scope_request scope = {.requested = requested, .allowed = "a b c"};
    char *err = NULL;
    enum refresh_result r =
        refresh_tokens_rotate(db, &keys, &refresh_policy, token, strlen(token), client, &scope, next, grant, &err);
    print_err(&err);
    return r;
}

static enum refresh_result use(struct db *db, const char *token, const char *client, char next[SECRETS_TOKEN_BUFSIZE])
{
    struct refresh_grant grant;
    return use_scoped(db, token, client, NULL, next, &grant);
}

static void test_refresh(struct db *db)
{
    char *err = NULL, secret[SECRETS_TOKEN_BUFSIZE], family[RANDOM_ID_BUFSIZE];
    char t1[SECRETS_TOKEN_BUFSIZE], t2[SECRETS_TOKEN_BUFSIZE], t3[SECRETS_TOKEN_BUFSIZE], again[SECRETS_TOKEN_BUFSIZE];
    struct account a;
    struct session s;
    int created;
    CHECK_INT_EQ(accounts_find_or_create_by_mobile(db, "13400000000", &a, &created, &err), 1);
    CHECK_INT_EQ(sessions_create(db, keys.token_hash, &session_policy, &a, SESSION_AMR_SMS, "app", secret, &s, &err), 0);
    CHECK_INT_EQ(refresh_tokens_issue(db, keys.token_hash, &refresh_policy, &(struct refresh_family){s.sid, "app", "a b", NULL}, t1,
                                      family, &err),
                 0);
    print_err(&err);
    /* a wider scope is refused before anything changes: the token still works afterwards */
    struct refresh_grant grant;
    CHECK_INT_EQ(use_scoped(db, t1, "app", "a c", t2, &grant), REFRESH_BAD_SCOPE);
    CHECK_INT_EQ(use_scoped(db, t1, "app", "b", t2, &grant), REFRESH_ROTATED);
    CHECK_STR_EQ(grant.access_scope, "b");
    CHECK_STR_EQ(grant.scope, "a b"); /* the refresh token keeps what was granted */
    CHECK_STR_EQ(grant.account_id, a.id);
    CHECK_STR_EQ(grant.sid, s.sid);
    CHECK_INT_EQ(grant.acr, 1);
    CHECK_INT_EQ(grant.auth_time, s.auth_time);
    CHECK(strcmp(t1, t2) != 0);
    /* a repeat within the grace window by the same client: the same successor, nothing revoked */
    CHECK_INT_EQ(use(db, t1, "app", again), REFRESH_REPEATED);
    CHECK_STR_EQ(again, t2);
    CHECK_INT_EQ(use(db, t2, "app", t3), REFRESH_ROTATED);
    /* t2 is used now: t1's sealed copy of it is gone, so t1 again is a reuse and kills the family, t3 included */
    CHECK_INT_EQ(scalar(db, "SELECT COUNT(*) FROM refresh_tokens WHERE successor_sealed IS NOT NULL AND family_id = ?", family), 1);
    CHECK_INT_EQ(use(db, t1, "app", again), REFRESH_REUSED);
    CHECK_INT_EQ(use(db, t3, "app", again), REFRESH_INVALID);
    CHECK_INT_EQ(scalar(db, "SELECT COUNT(*) FROM refresh_tokens WHERE successor_sealed IS NOT NULL AND family_id = ?", family), 0);

    /* another client presenting a token, even the newest: the family is revoked */
    CHECK_INT_EQ(refresh_tokens_issue(db, keys.token_hash, &refresh_policy, &(struct refresh_family){s.sid, "app", "a", NULL}, t1,
                                      family, &err),
                 0);
    CHECK_INT_EQ(use(db, t1, "evil", t2), REFRESH_WRONG_CLIENT);
    CHECK_INT_EQ(use(db, t1, "app", t2), REFRESH_INVALID);

    /* after the window: a repeat is a reuse */
    CHECK_INT_EQ(refresh_tokens_issue(db, keys.token_hash, &refresh_policy, &(struct refresh_family){s.sid, "app", "a", NULL}, t1,
                                      family, &err),
                 0);
    CHECK_INT_EQ(use(db, t1, "app", t2), REFRESH_ROTATED);
    db_exec(db, 0,
            "UPDATE refresh_tokens SET sealed_until = UTC_TIMESTAMP(6) - INTERVAL 1 SECOND WHERE family_id = ? AND sealed_until IS "
            "NOT NULL",
            DB_ARGS(db_text(family)));
    CHECK_INT_EQ(refresh_tokens_sweep(db, 100, &err), 1);
    CHECK_INT_EQ(use(db, t1, "app", again), REFRESH_REUSED);
    CHECK_INT_EQ(use(db, t2, "app", again), REFRESH_INVALID);

    /* expired, malformed, unknown */
    CHECK_INT_EQ(refresh_tokens_issue(db, keys.token_hash, &refresh_policy, &(struct refresh_family){s.sid, "app", "a", NULL}, t1,
                                      family, &err),
                 0);
    db_exec(db, 0, "UPDATE refresh_tokens SET expires_at = UTC_TIMESTAMP(6) WHERE family_id = ?", DB_ARGS(db_text(family)));
    CHECK_INT_EQ(use(db, t1, "app", t2), REFRESH_INVALID);
    CHECK_INT_EQ(use(db, "short", "app", t2), REFRESH_INVALID);
    CHECK_INT_EQ(use(db, secret, "app", t2), REFRESH_INVALID); /* the session id is no refresh token */

    /* a disabled account refreshes nothing; an ended session revokes its families */
    CHECK_INT_EQ(refresh_tokens_issue(db, keys.token_hash, &refresh_policy, &(struct refresh_family){s.sid, "app", "a", NULL}, t1,
                                      family, &err),
                 0);
    CHECK_INT_EQ(accounts_set_status(db, a.id, ACCOUNT_DISABLED, &err), ACCOUNTS_OK);
    CHECK_INT_EQ(use(db, t1, "app", t2), REFRESH_INVALID);
    CHECK_INT_EQ(accounts_set_status(db, a.id, ACCOUNT_ACTIVE, &err), ACCOUNTS_OK);
    CHECK_INT_EQ(use(db, t1, "app", t2), REFRESH_ROTATED);
    CHECK_INT_EQ(sessions_end(db, s.sid, SESSION_END_LOGOUT, &err), 1);
    CHECK_INT_EQ(scalar(db, "SELECT COUNT(*) FROM refresh_tokens WHERE revoked_at IS NULL AND sid = ?", s.sid), 0);
    CHECK_INT_EQ(use(db, t2, "app", t3), REFRESH_INVALID);
    CHECK_INT_EQ(refresh_tokens_issue(db, keys.token_hash, &refresh_policy, &(struct refresh_family){s.sid, "app", "a", NULL}, t1,
                                      family, &err),
                 -1);
    print_err(&err);
}

static int exists(struct db *db, const char *sql, const char *arg)
{
    return scalar(db, sql, arg) > 0;
}

/* A new family for session `sid`, written to `token`; its family id to `family`. */
static void new_family(struct db *db, const char *sid, char token[SECRETS_TOKEN_BUFSIZE], char family[RANDOM_ID_BUFSIZE])
{
    char *err = NULL;
    CHECK_INT_EQ(refresh_tokens_issue(db, keys.token_hash, &refresh_policy, &(struct refresh_family){sid, "app", "a", NULL}, token,
                                      family, &err),
                 0);
    print_err(&err);
}

/* What the housekeeping deletes, and above all what it must keep (auth/retention.h). */
static void test_retention(struct db *db)
{
    char *err = NULL, secret[SECRETS_TOKEN_BUFSIZE], old_code[SECRETS_TOKEN_BUFSIZE], young_code[SECRETS_TOKEN_BUFSIZE];
    char t1[SECRETS_TOKEN_BUFSIZE], t2[SECRETS_TOKEN_BUFSIZE], expired[RANDOM_ID_BUFSIZE], alive[RANDOM_ID_BUFSIZE],
        revoked[RANDOM_ID_BUFSIZE];
    struct account a;
    struct session s;
    int created;
    CHECK_INT_EQ(accounts_find_or_create_by_mobile(db, "13500000009", &a, &created, &err), 1);
    CHECK_INT_EQ(sessions_create(db, keys.token_hash, &session_policy, &a, SESSION_AMR_SMS, "web", secret, &s, &err), 0);
    const struct authz_code_spec spec = {
        .client_id = "web", .redirect_uri = "https://web.example/cb", .sid = s.sid, .scope = "openid", .ttl_s = 60};
    CHECK_INT_EQ(authz_codes_issue(db, keys.token_hash, &spec, old_code, &err), 0);
    CHECK_INT_EQ(authz_codes_issue(db, keys.token_hash, &spec, young_code, &err), 0);
    print_err(&err);
    db_exec(db, 0, "UPDATE authorization_codes SET expires_at = UTC_TIMESTAMP(6) - INTERVAL 25 HOUR ORDER BY expires_at LIMIT 1",
            DB_NO_ARGS);

    new_family(db, s.sid, t1, expired); /* every token expired two days ago */
    db_exec(db, 0, "UPDATE refresh_tokens SET expires_at = UTC_TIMESTAMP(6) - INTERVAL 2 DAY WHERE family_id = ?",
            DB_ARGS(db_text(expired)));
    new_family(db, s.sid, t1, alive); /* an old used token, but its successor lives: reuse detection needs the old one */
    CHECK_INT_EQ(use(db, t1, "app", t2), REFRESH_ROTATED);
    db_exec(db, 0,
            "UPDATE refresh_tokens SET expires_at = UTC_TIMESTAMP(6) - INTERVAL 2 DAY WHERE family_id = ? AND used_at IS NOT NULL",
            DB_ARGS(db_text(alive)));
    new_family(db, s.sid, t1, revoked); /* revoked two days ago: its newest token had not expired, but is useless */
    CHECK_INT_EQ(use(db, t1, "app", t2), REFRESH_ROTATED);
    CHECK_INT_EQ(refresh_tokens_revoke_family(db, revoked, REFRESH_REVOKED_ADMIN, &err), 2);
    db_exec(db, 0,
            "UPDATE refresh_tokens SET revoked_at = UTC_TIMESTAMP(6) - INTERVAL 2 DAY, "
            "expires_at = IF(used_at IS NULL, expires_at, UTC_TIMESTAMP(6) - INTERVAL 2 DAY) WHERE family_id = ?",
            DB_ARGS(db_text(revoked)));

    db_exec(db, 0,
            "INSERT INTO sms_codes (mobile, purpose, expires_at, last_sent_at) VALUES "
            "('13500000071', 'login', UTC_TIMESTAMP(6) - INTERVAL 3 DAY, UTC_TIMESTAMP(6) - INTERVAL 3 DAY), "
            "('13500000072', 'login', UTC_TIMESTAMP(6) + INTERVAL 1 MINUTE, UTC_TIMESTAMP(6))",
            DB_NO_ARGS);
    db_exec(db, 0,
            "INSERT INTO sms_ip_quota (client_ip, day, sent) VALUES ('10.9.0.1', UTC_DATE() - INTERVAL 3 DAY, 5), "
            "('10.9.0.2', UTC_DATE(), 5)",
            DB_NO_ARGS);
    db_exec(db, 0,
            "INSERT INTO login_throttle (kind, subject, updated_at, locked_until) VALUES "
            "('mobile', '13500000073', UTC_TIMESTAMP(6) - INTERVAL 2 DAY, '1970-01-01'), "
            "('mobile', '13500000074', UTC_TIMESTAMP(6) - INTERVAL 2 DAY, UTC_TIMESTAMP(6) + INTERVAL 1 HOUR), "
            "('ip', '10.9.0.3', UTC_TIMESTAMP(6), '1970-01-01')",
            DB_NO_ARGS);

    struct retention_report report;
    CHECK_INT_EQ(retention_sweep(db, 60, 100, &report, &err), 0);
    print_err(&err);
    CHECK_INT_EQ(report.authorization_codes, 1);
    CHECK_INT_EQ(scalar(db, "SELECT COUNT(*) FROM authorization_codes WHERE sid = ?", s.sid), 1);
    CHECK(!exists(db, "SELECT COUNT(*) FROM refresh_tokens WHERE family_id = ?", expired));
    CHECK(!exists(db, "SELECT COUNT(*) FROM refresh_tokens WHERE family_id = ?", revoked));
    CHECK_INT_EQ(scalar(db, "SELECT COUNT(*) FROM refresh_tokens WHERE family_id = ?", alive), 2);
    CHECK(report.refresh_tokens >= 2);
    CHECK(!exists(db, "SELECT COUNT(*) FROM sms_codes WHERE mobile = ?", "13500000071"));
    CHECK(exists(db, "SELECT COUNT(*) FROM sms_codes WHERE mobile = ?", "13500000072"));
    CHECK(!exists(db, "SELECT COUNT(*) FROM sms_ip_quota WHERE client_ip = ?", "10.9.0.1"));
    CHECK(exists(db, "SELECT COUNT(*) FROM sms_ip_quota WHERE client_ip = ?", "10.9.0.2"));
    CHECK(!exists(db, "SELECT COUNT(*) FROM login_throttle WHERE subject = ?", "13500000073"));
    CHECK(exists(db, "SELECT COUNT(*) FROM login_throttle WHERE subject = ?", "13500000074")); /* still locked */
    CHECK(exists(db, "SELECT COUNT(*) FROM login_throttle WHERE subject = ?", "10.9.0.3"));
    CHECK(report.sms_codes >= 1 && report.sms_quotas >= 1 && report.login_throttles >= 1);
    /* nothing is left to delete: a second sweep finds nothing of the above */
    CHECK_INT_EQ(retention_sweep(db, 60, 100, &report, &err), 0);
    CHECK_INT_EQ(report.authorization_codes + report.refresh_tokens + report.sms_codes + report.sms_quotas + report.login_throttles,
                 0);
    CHECK_INT_EQ(scalar(db, "SELECT COUNT(*) FROM refresh_tokens WHERE family_id = ? AND used_at IS NULL", alive), 1);
    print_err(&err);
}

static void migrate(struct db *db)
{
    for (const struct embedded_migration *m = embedded_migrations; m->name != NULL; m++) {
        if (db_exec_script(db, m->text, m->len) != 0) {
            fprintf(stderr, "%s: %s\n", m->name, db_error(db));
            exit(1);
        }
    }
}

/* ---- signing keys: rotation inside the caller's transaction ---- */

static void test_signing_keys(struct db *db, const struct secrets_master *master)
{
    char *err = NULL, kid[44], first[44], second[44];
    int created = 0;
    const char *count = "SELECT COUNT(*) FROM signing_keys WHERE alg = ?";
    const char *state_of = "SELECT COUNT(*) FROM signing_keys WHERE kid = ? AND state = 'active'";

    /* rolled back by the caller: nothing of it stays, so the variant did not commit on its own */
    CHECK(db_begin(db) == 0);
    CHECK(signing_keys_rotate_in_transaction(db, master, JWT_ALG_ES256_PINNED, 0, &created, kid, &err) == 0);
    print_err(&err);
    CHECK(created == 1 && strlen(kid) == 43);
    CHECK(db_rollback(db) == 0);
    CHECK(scalar(db, count, "ES256") == 0);

    /* the wrapper commits by itself, as the CLI needs */
    CHECK(signing_keys_rotate(db, master, JWT_ALG_ES256_PINNED, 0, &created, first, &err) == 0 && created == 1);
    print_err(&err);
    CHECK(scalar(db, state_of, first) == 1);

    /* only_if_none inside a transaction: nothing made, the active kid reported */
    CHECK(db_begin(db) == 0);
    CHECK(signing_keys_rotate_in_transaction(db, master, JWT_ALG_ES256_PINNED, 1, &created, kid, &err) == 0);
    print_err(&err);
    CHECK(created == 0 && strcmp(kid, first) == 0);
    CHECK(db_rollback(db) == 0);

    /* committed by the caller: the new key is active, the old one previous */
    CHECK(db_begin(db) == 0);
    CHECK(signing_keys_rotate_in_transaction(db, master, JWT_ALG_ES256_PINNED, 0, &created, second, &err) == 0 && created);
    print_err(&err);
    CHECK(db_commit(db) == 0);
    CHECK(scalar(db, state_of, second) == 1 && scalar(db, state_of, first) == 0);
    CHECK(scalar(db, "SELECT COUNT(*) FROM signing_keys WHERE kid = ? AND state = 'previous'", first) == 1);
    CHECK(scalar(db, count, "ES256") == 2);
}

int main(void)
{
    const char *text = getenv("YIWANG_TEST_DSN");
    if (text == NULL || text[0] == '\0') {
        printf("skipped: no YIWANG_TEST_DSN (scripts/test.sh provides a private MariaDB)\n");
        return SKIP_RETURN_CODE;
    }
    db_library_init();
    char *err = NULL;
    struct db_dsn admin_dsn;
    if (db_dsn_parse(text, &admin_dsn, &err) != 0) {
        fprintf(stderr, "YIWANG_TEST_DSN: %s\n", err);
        return 1;
    }
    struct db *admin = db_connect(&admin_dsn, 2000, &err);
    if (admin == NULL) {
        fprintf(stderr, "%s\n", err);
        return 1;
    }
    char *database = xasprintf("yiwang_test_identity_%ld", (long)getpid());
    char *create = xasprintf("CREATE DATABASE %s CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci", database);
    char *drop = xasprintf("DROP DATABASE IF EXISTS %s", database);
    must(admin, drop);
    must(admin, create);
    db_dsn_copy(&test_dsn, &admin_dsn);
    free(test_dsn.database);
    test_dsn.database = xstrdup(database);

    unsigned char master_bytes[32];
    memset(master_bytes, 0x5a, sizeof(master_bytes));
    master_bytes[0] = 1;
    struct secrets_master *master = secrets_master_from_bytes(master_bytes, sizeof(master_bytes));
    CHECK(master != NULL && identity_keys_derive(master, &keys) == 0);

    struct db *db = open_db();
    migrate(db);
    test_accounts(db);
    test_sms(db);
    test_guard(db);
    test_sessions(db);
    test_refresh(db);
    test_retention(db);
    test_signing_keys(db, master);
    db_close(db);

    must(admin, drop);
    db_close(admin);
    secrets_master_free(master);
    identity_keys_wipe(&keys);
    db_dsn_clear(&admin_dsn);
    db_dsn_clear(&test_dsn);
    free(database);
    free(create);
    free(drop);
    db_library_end();
    return TEST_REPORT();
}
