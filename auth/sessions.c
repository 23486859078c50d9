#include "auth/sessions.h"

#include <stdlib.h>
#include <string.h>

#include "auth/refresh_tokens.h"
#include "common/xalloc.h"

#define SESSION_COLUMNS                                                                                                            \
    "sid, account_id, acr, amr, client_id, auth_time, created_at, last_seen_at, idle_expires_at, absolute_expires_at, ended_at"

static const char *const end_reason_names[] = {
    [SESSION_END_LOGOUT] = "logout",
    [SESSION_END_PASSWORD_CHANGED] = "password_changed",
    [SESSION_END_ACCOUNT_DISABLED] = "account_disabled",
    [SESSION_END_ADMIN] = "admin",
};

const char *session_amr_name(enum session_amr amr)
{
    return amr == SESSION_AMR_PWD ? "pwd" : "sms";
}

static const char *end_reason_name(enum session_end_reason reason)
{
    return (unsigned)reason < sizeof(end_reason_names) / sizeof(end_reason_names[0]) ? end_reason_names[reason] : "admin";
}

static int fail(struct db *db, const char *what, char **err)
{
    *err = xasprintf("sessions: %s: %s", what, db_error(db));
    return -1;
}

/* Reads the current row of a SESSION_COLUMNS query. */
static int read_row(struct db *db, struct db_result *res, struct session *out, char **err)
{
    char amr[8];
    int acr = 0;
    memset(out, 0, sizeof(*out));
    int ok = db_result_text_copy(res, 0, out->sid, sizeof(out->sid)) == DB_GET_OK &&
             db_result_text_copy(res, 1, out->account_id, sizeof(out->account_id)) == DB_GET_OK &&
             db_result_int(res, 2, &acr) == DB_GET_OK && db_result_text_copy(res, 3, amr, sizeof(amr)) == DB_GET_OK &&
             db_result_text_copy(res, 4, out->client_id, sizeof(out->client_id)) == DB_GET_OK &&
             db_result_unix_time(res, 5, &out->auth_time) == DB_GET_OK &&
             db_result_unix_time(res, 6, &out->created_at) == DB_GET_OK &&
             db_result_unix_time(res, 7, &out->last_seen_at) == DB_GET_OK &&
             db_result_unix_time(res, 8, &out->idle_expires_at) == DB_GET_OK &&
             db_result_unix_time(res, 9, &out->absolute_expires_at) == DB_GET_OK &&
             db_result_unix_time(res, 10, &out->ended_at) != DB_GET_ERROR;
    if (!ok)
        return fail(db, "a session row cannot be read", err);
    out->acr = (unsigned)acr;
    out->amr = strcmp(amr, "pwd") == 0 ? SESSION_AMR_PWD : SESSION_AMR_SMS;
    return 1;
}

static int read_one(struct db *db, struct db_result *res, struct session *out, char **err)
{
    if (res == NULL)
        return fail(db, "cannot read the session", err);
    int row = db_result_next(res);
    if (row <= 0)
        return row < 0 ? fail(db, "cannot read the session", err) : 0;
    return read_row(db, res, out, err);
}

int sessions_find(struct db *db, const char *sid, struct session *out, char **err)
{
    return read_one(
        db, db_query(db, DB_IDEMPOTENT, "SELECT " SESSION_COLUMNS " FROM sso_sessions WHERE sid = ?", DB_ARGS(db_text(sid))), out,
        err);
}

int sessions_create(struct db *db, const unsigned char token_hash_key[SECRETS_KEY_LEN], const struct session_config *policy,
                    const struct account *account, enum session_amr amr, const char *client_id, char secret[SECRETS_TOKEN_BUFSIZE],
                    struct session *out, char **err)
{
    char sid[RANDOM_ID_BUFSIZE];
    unsigned char hash[SECRETS_HASH_LEN];
    if (random_id_generate(sid) != 0 || secrets_token_generate(secret) != 0 ||
        secrets_token_hash(token_hash_key, secret, SECRETS_TOKEN_LEN, hash) != 0) {
        *err = xstrdup("sessions: the random generator failed");
        return -1;
    }
    int rc = db_exec(db, 0,
                     "INSERT INTO sso_sessions (sid, id_hash, account_id, acr, amr, client_id, auth_time, last_seen_at, "
                     "idle_expires_at, absolute_expires_at) VALUES (?, ?, ?, ?, ?, ?, UTC_TIMESTAMP(6), UTC_TIMESTAMP(6), "
                     "UTC_TIMESTAMP(6) + INTERVAL ? SECOND, UTC_TIMESTAMP(6) + INTERVAL ? SECOND)",
                     DB_ARGS(db_text(sid), db_blob(hash, sizeof(hash)), db_text(account->id), db_uint(account->assurance_level),
                             db_text(session_amr_name(amr)), db_text(client_id), db_uint(policy->idle_timeout_s),
                             db_uint(policy->absolute_timeout_s)));
    if (rc != 0 || sessions_find(db, sid, out, err) != 1) {
        secrets_wipe(secret, SECRETS_TOKEN_BUFSIZE);
        return rc != 0 ? fail(db, "cannot create the session", err) : -1;
    }
    return 0;
}

int sessions_resume(struct db *db, const unsigned char token_hash_key[SECRETS_KEY_LEN], const struct session_config *policy,
                    const char *secret, size_t len, struct session *out, char **err)
{
    unsigned char hash[SECRETS_HASH_LEN];
    if (!secrets_token_is_wellformed(secret, len))
        return 0;
    if (secrets_token_hash(token_hash_key, secret, len, hash) != 0) {
        *err = xstrdup("sessions: cannot hash the session id");
        return -1;
    }
    /* one statement checks and slides: a session that expired a moment ago is not revived by a race */
    if (db_exec(db, 0,
                "UPDATE sso_sessions SET last_seen_at = UTC_TIMESTAMP(6), "
                "idle_expires_at = LEAST(UTC_TIMESTAMP(6) + INTERVAL ? SECOND, absolute_expires_at) "
                "WHERE id_hash = ? AND ended_at IS NULL AND idle_expires_at > UTC_TIMESTAMP(6) "
                "AND absolute_expires_at > UTC_TIMESTAMP(6)",
                DB_ARGS(db_uint(policy->idle_timeout_s), db_blob(hash, sizeof(hash)))) != 0)
        return fail(db, "cannot touch the session", err);
    if (db_affected_rows(db) == 0)
        return 0;
    return read_one(db,
                    db_query(db, DB_IDEMPOTENT, "SELECT " SESSION_COLUMNS " FROM sso_sessions WHERE id_hash = ?",
                             DB_ARGS(db_blob(hash, sizeof(hash)))),
                    out, err);
}

int sessions_reauthenticate(struct db *db, const unsigned char token_hash_key[SECRETS_KEY_LEN], const struct session_config *policy,
                            const char *sid, const struct account *account, enum session_amr amr,
                            char secret[SECRETS_TOKEN_BUFSIZE], struct session *out, char **err)
{
    unsigned char hash[SECRETS_HASH_LEN];
    if (secrets_token_generate(secret) != 0 || secrets_token_hash(token_hash_key, secret, SECRETS_TOKEN_LEN, hash) != 0) {
        *err = xstrdup("sessions: the random generator failed");
        return -1;
    }
    /* the account must match too: a sign-in as somebody else never inherits this session */
    int rc =
        db_exec(db, 0,
                "UPDATE sso_sessions SET id_hash = ?, acr = ?, amr = ?, auth_time = UTC_TIMESTAMP(6), "
                "last_seen_at = UTC_TIMESTAMP(6), idle_expires_at = UTC_TIMESTAMP(6) + INTERVAL ? SECOND, "
                "absolute_expires_at = UTC_TIMESTAMP(6) + INTERVAL ? SECOND "
                "WHERE sid = ? AND account_id = ? AND ended_at IS NULL AND idle_expires_at > UTC_TIMESTAMP(6) "
                "AND absolute_expires_at > UTC_TIMESTAMP(6)",
                DB_ARGS(db_blob(hash, sizeof(hash)), db_uint(account->assurance_level), db_text(session_amr_name(amr)),
                        db_uint(policy->idle_timeout_s), db_uint(policy->absolute_timeout_s), db_text(sid), db_text(account->id)));
    int found = rc != 0                     ? fail(db, "cannot renew the session", err)
                : db_affected_rows(db) == 0 ? 0
                                            : sessions_find(db, sid, out, err);
    if (found != 1)
        secrets_wipe(secret, SECRETS_TOKEN_BUFSIZE);
    return found;
}

static int end_in_transaction(struct db *db, const char *sid, enum session_end_reason reason, char **err)
{
    if (db_exec(db, 0, "UPDATE sso_sessions SET ended_at = UTC_TIMESTAMP(6), end_reason = ? WHERE sid = ? AND ended_at IS NULL",
                DB_ARGS(db_text(end_reason_name(reason)), db_text(sid))) != 0)
        return fail(db, "cannot end the session", err);
    if (db_affected_rows(db) == 0)
        return 0;
    enum refresh_revoke_reason why = reason == SESSION_END_ACCOUNT_DISABLED ? REFRESH_REVOKED_ACCOUNT_DISABLED
                                     : reason == SESSION_END_ADMIN          ? REFRESH_REVOKED_ADMIN
                                                                            : REFRESH_REVOKED_SESSION_ENDED;
    return refresh_tokens_revoke_session(db, sid, why, err) < 0 ? -1 : 1;
}

int sessions_end(struct db *db, const char *sid, enum session_end_reason reason, char **err)
{
    if (db_begin(db) != 0)
        return fail(db, "cannot start a transaction", err);
    int ended = end_in_transaction(db, sid, reason, err);
    if (ended >= 0 && db_commit(db) != 0)
        ended = fail(db, "cannot commit the end of the session", err);
    if (ended < 0)
        db_rollback(db);
    return ended;
}

long sessions_end_all(struct db *db, const char *account_id, const char *keep_sid, enum session_end_reason reason, char **err)
{
    struct db_result *res =
        db_query(db, DB_IDEMPOTENT, "SELECT sid FROM sso_sessions WHERE account_id = ? AND ended_at IS NULL AND sid <> ?",
                 DB_ARGS(db_text(account_id), db_text(keep_sid != NULL ? keep_sid : "")));
    if (res == NULL)
        return fail(db, "cannot list the sessions", err);
    /* the rows belong to the result, which the next statement replaces: copy the ids first */
    size_t count = (size_t)db_result_rows(res), n = 0;
    char(*sids)[RANDOM_ID_BUFSIZE] = xcalloc(count + 1, sizeof(*sids));
    while (n < count && db_result_next(res) == 1 && db_result_text_copy(res, 0, sids[n], sizeof(sids[n])) == DB_GET_OK)
        n++;
    long ended = 0;
    for (size_t i = 0; i < n && ended >= 0; i++) {
        int rc = sessions_end(db, sids[i], reason, err);
        ended = rc < 0 ? -1 : ended + rc;
    }
    free(sids);
    return ended;
}

long sessions_list(struct db *db, const char *account_id, struct session *out, size_t max, char **err)
{
    struct db_result *res = db_query(db, DB_IDEMPOTENT,
                                     "SELECT " SESSION_COLUMNS " FROM sso_sessions WHERE account_id = ? AND ended_at IS NULL "
                                     "ORDER BY created_at DESC LIMIT ?",
                                     DB_ARGS(db_text(account_id), db_uint(max)));
    if (res == NULL)
        return fail(db, "cannot list the sessions", err);
    size_t n = 0;
    for (int row; n < max && (row = db_result_next(res)) != 0; n++) {
        if (row < 0)
            return fail(db, "cannot list the sessions", err);
        if (read_row(db, res, &out[n], err) < 0)
            return -1;
    }
    return (long)n;
}
