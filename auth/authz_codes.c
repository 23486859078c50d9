#include "auth/authz_codes.h"

#include <stdlib.h>
#include <string.h>

#include "auth/access_revocations.h"
#include "auth/pkce.h"
#include "auth/refresh_tokens.h"
#include "common/xalloc.h"

static int fail(struct db *db, const char *what, char **err)
{
    *err = xasprintf("authorization codes: %s: %s", what, db_error(db));
    return -1;
}

int authz_codes_issue(struct db *db, const unsigned char token_hash_key[SECRETS_KEY_LEN], const struct authz_code_spec *spec,
                      char code[SECRETS_TOKEN_BUFSIZE], char **err)
{
    unsigned char hash[SECRETS_HASH_LEN];
    if (secrets_token_generate(code) != 0 || secrets_token_hash(token_hash_key, code, SECRETS_TOKEN_LEN, hash) != 0) {
        *err = xstrdup("authorization codes: the random generator failed");
        return -1;
    }
    /* the account comes from the session row, so a code cannot name another person than its session */
    int rc = db_exec(db, 0,
                     "INSERT INTO authorization_codes (code_hash, client_id, redirect_uri, code_challenge, nonce, sid, account_id, "
                     "scope, org, expires_at) SELECT ?, ?, ?, ?, ?, sid, account_id, ?, ?, UTC_TIMESTAMP(6) + INTERVAL ? SECOND "
                     "FROM sso_sessions WHERE sid = ? AND ended_at IS NULL",
                     DB_ARGS(db_blob(hash, sizeof(hash)), db_text(spec->client_id), db_text(spec->redirect_uri),
                             db_text(spec->code_challenge), db_text(spec->nonce), db_text(spec->scope), db_text(spec->org),
                             db_uint(spec->ttl_s), db_text(spec->sid)));
    if (rc != 0 || db_affected_rows(db) != 1) {
        secrets_wipe(code, SECRETS_TOKEN_BUFSIZE);
        if (rc != 0)
            return fail(db, "cannot store the code", err);
        *err = xstrdup("authorization codes: the session does not exist or has ended");
        return -1;
    }
    return 0;
}

/* ---- redeeming ---- */

/* The code's row with its session and account, locked for the transaction. */
struct code_row {
    struct authz_code_grant grant;
    char redirect_uri[AUTHZ_REDIRECT_URI_MAX + 1];
    char challenge[PKCE_CHALLENGE_LEN + 1]; /* "" when none */
    int unexpired, used, session_live, account_active;
    struct authz_code_tokens issued; /* by the first use */
};

static enum db_get optional_text(struct db_result *res, size_t col, char *buf, size_t size)
{
    buf[0] = '\0';
    enum db_get got = db_result_text_copy(res, col, buf, size);
    return got == DB_GET_NULL ? DB_GET_OK : got;
}

static int read_state(struct db_result *res, struct code_row *row)
{
    char amr[8];
    int level = 0;
    int ok = db_result_int(res, 7, &row->unexpired) == DB_GET_OK && db_result_int(res, 8, &row->used) == DB_GET_OK &&
             optional_text(res, 9, row->issued.family_id, sizeof(row->issued.family_id)) == DB_GET_OK &&
             optional_text(res, 10, row->issued.access_jti, sizeof(row->issued.access_jti)) == DB_GET_OK &&
             db_result_unix_time(res, 11, &row->issued.access_expires_at) != DB_GET_ERROR &&
             db_result_int(res, 12, &row->session_live) == DB_GET_OK &&
             db_result_unix_time(res, 13, &row->grant.auth_time) == DB_GET_OK &&
             db_result_text_copy(res, 14, amr, sizeof(amr)) == DB_GET_OK &&
             db_result_int(res, 15, &row->account_active) == DB_GET_OK && db_result_int(res, 16, &level) == DB_GET_OK &&
             level >= 1 && level <= ACCOUNT_MAX_LEVEL &&
             optional_text(res, 17, row->grant.org, sizeof(row->grant.org)) == DB_GET_OK;
    row->grant.acr = (unsigned)level;
    row->grant.amr = strcmp(amr, "pwd") == 0 ? SESSION_AMR_PWD : SESSION_AMR_SMS;
    return ok;
}

/* 1 found, 0 unknown code, -1 error. */
static int read_row(struct db *db, const unsigned char hash[SECRETS_HASH_LEN], struct code_row *row, char **err)
{
    struct db_result *res =
        db_query(db, 0,
                 "SELECT c.client_id, c.redirect_uri, c.code_challenge, c.nonce, c.sid, c.account_id, c.scope, "
                 "c.expires_at > UTC_TIMESTAMP(6), c.used_at IS NOT NULL, c.family_id, c.access_jti, c.access_expires_at, "
                 "s.ended_at IS NULL, s.auth_time, s.amr, a.status = 'active', a.assurance_level, c.org "
                 "FROM authorization_codes c JOIN sso_sessions s ON s.sid = c.sid JOIN accounts a ON a.id = c.account_id "
                 "WHERE c.code_hash = ? FOR UPDATE",
                 DB_ARGS(db_blob(hash, SECRETS_HASH_LEN)));
    int found = res != NULL ? db_result_next(res) : -1;
    if (found <= 0)
        return found < 0 ? fail(db, "cannot read the code", err) : 0;
    struct authz_code_grant *g = &row->grant;
    int ok = db_result_text_copy(res, 0, g->client_id, sizeof(g->client_id)) == DB_GET_OK &&
             db_result_text_copy(res, 1, row->redirect_uri, sizeof(row->redirect_uri)) == DB_GET_OK &&
             optional_text(res, 2, row->challenge, sizeof(row->challenge)) == DB_GET_OK &&
             optional_text(res, 3, g->nonce, sizeof(g->nonce)) == DB_GET_OK &&
             db_result_text_copy(res, 4, g->sid, sizeof(g->sid)) == DB_GET_OK &&
             db_result_text_copy(res, 5, g->account_id, sizeof(g->account_id)) == DB_GET_OK &&
             db_result_text_copy(res, 6, g->scope, sizeof(g->scope)) == DB_GET_OK && read_state(res, row);
    return ok ? 1 : fail(db, "a code row cannot be read", err);
}

/* Without a challenge in the authorization request, a verifier is refused too (RFC 9700 §2.1.1: PKCE downgrade). */
static int pkce_matches(const struct code_row *row, const char *verifier)
{
    if (row->challenge[0] == '\0')
        return verifier == NULL;
    return verifier != NULL && pkce_verify_s256(verifier, strlen(verifier), row->challenge, strlen(row->challenge));
}

static int is_redeemable(const struct code_row *row, const struct authz_code_redemption *request)
{
    return row->unexpired && strcmp(row->grant.client_id, request->client_id) == 0 && request->redirect_uri != NULL &&
           strcmp(row->redirect_uri, request->redirect_uri) == 0 && pkce_matches(row, request->code_verifier) &&
           row->session_live && row->account_active;
}

/* RFC 6749 §4.1.2: a code used twice revokes what its first use issued. */
static enum authz_code_result revoke_first_use(struct db *db, const struct code_row *row, char **err)
{
    if (row->issued.family_id[0] != '\0' && refresh_tokens_revoke_family(db, row->issued.family_id, REFRESH_REVOKED_REUSE, err) < 0)
        return AUTHZ_CODE_ERROR;
    if (row->issued.access_jti[0] != '\0' &&
        access_revocations_add(db, row->issued.access_jti, row->grant.client_id, row->issued.access_expires_at,
                               ACCESS_REVOKED_CODE_REUSE, err) != 0)
        return AUTHZ_CODE_ERROR;
    return AUTHZ_CODE_REPLAYED;
}

static enum authz_code_result consume(struct db *db, const unsigned char hash[SECRETS_HASH_LEN], const struct code_row *row,
                                      authz_code_issue_cb issue, void *arg, char **err)
{
    struct authz_code_tokens tokens;
    memset(&tokens, 0, sizeof(tokens));
    if (db_exec(db, 0, "UPDATE authorization_codes SET used_at = UTC_TIMESTAMP(6) WHERE code_hash = ?",
                DB_ARGS(db_blob(hash, SECRETS_HASH_LEN))) != 0) {
        fail(db, "cannot mark the code used", err);
        return AUTHZ_CODE_ERROR;
    }
    if (issue(db, &row->grant, arg, &tokens, err) != 0)
        return AUTHZ_CODE_ERROR;
    if (db_exec(db, 0,
                "UPDATE authorization_codes SET family_id = ?, access_jti = ?, access_expires_at = FROM_UNIXTIME(?) "
                "WHERE code_hash = ?",
                DB_ARGS(tokens.family_id[0] != '\0' ? db_text(tokens.family_id) : db_null(), db_text(tokens.access_jti),
                        db_int(tokens.access_expires_at), db_blob(hash, SECRETS_HASH_LEN))) != 0) {
        fail(db, "cannot record the issued tokens", err);
        return AUTHZ_CODE_ERROR;
    }
    return AUTHZ_CODE_REDEEMED;
}

static enum authz_code_result redeem_once(struct db *db, const unsigned char hash[SECRETS_HASH_LEN],
                                          const struct authz_code_redemption *request, authz_code_issue_cb issue, void *arg,
                                          struct authz_code_grant *grant, int *retryable, char **err)
{
    struct code_row row;
    memset(&row, 0, sizeof(row));
    if (db_begin(db) != 0) {
        fail(db, "cannot start a transaction", err);
        return AUTHZ_CODE_ERROR;
    }
    int found = read_row(db, hash, &row, err);
    enum authz_code_result result = found < 0                       ? AUTHZ_CODE_ERROR
                                    : found == 0                    ? AUTHZ_CODE_INVALID
                                    : row.used                      ? revoke_first_use(db, &row, err)
                                    : !is_redeemable(&row, request) ? AUTHZ_CODE_INVALID
                                                                    : consume(db, hash, &row, issue, arg, err);
    if (result != AUTHZ_CODE_ERROR && db_commit(db) != 0) {
        fail(db, "cannot commit", err);
        result = AUTHZ_CODE_ERROR;
    }
    if (result == AUTHZ_CODE_ERROR) {
        *retryable = db_error_is_retryable_txn(db); /* before the rollback clears the error */
        db_rollback(db);
    }
    *grant = row.grant;
    return result;
}

enum authz_code_result authz_codes_redeem(struct db *db, const unsigned char token_hash_key[SECRETS_KEY_LEN],
                                          const struct authz_code_redemption *request, authz_code_issue_cb issue, void *arg,
                                          struct authz_code_grant *grant, char **err)
{
    unsigned char hash[SECRETS_HASH_LEN];
    memset(grant, 0, sizeof(*grant));
    if (!secrets_token_is_wellformed(request->code, request->code_len))
        return AUTHZ_CODE_INVALID;
    if (secrets_token_hash(token_hash_key, request->code, request->code_len, hash) != 0) {
        *err = xstrdup("authorization codes: cannot hash the code");
        return AUTHZ_CODE_ERROR;
    }
    int retryable = 0;
    enum authz_code_result result = redeem_once(db, hash, request, issue, arg, grant, &retryable, err);
    /* a deadlock with a parallel logout or redemption: run once more and see the other's outcome */
    if (result == AUTHZ_CODE_ERROR && retryable) {
        free(*err);
        *err = NULL;
        retryable = 0;
        result = redeem_once(db, hash, request, issue, arg, grant, &retryable, err);
    }
    return result;
}

long authz_codes_sweep(struct db *db, unsigned limit, char **err)
{
    if (db_exec(db, DB_IDEMPOTENT, "DELETE FROM authorization_codes WHERE expires_at < UTC_TIMESTAMP(6) - INTERVAL 1 DAY LIMIT ?",
                DB_ARGS(db_uint(limit))) != 0)
        return fail(db, "cannot sweep", err);
    return (long)db_affected_rows(db);
}
