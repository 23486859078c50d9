#include "auth/refresh_tokens.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth/scope_set.h"
#include "common/xalloc.h"

#define SEALED_MAX SECRETS_SEALED_LEN(SECRETS_TOKEN_LEN)

static const char *const revoke_reason_names[] = {
    [REFRESH_REVOKED_REUSE] = "reuse",
    [REFRESH_REVOKED_CLIENT_MISMATCH] = "client_mismatch",
    [REFRESH_REVOKED_SESSION_ENDED] = "session_ended",
    [REFRESH_REVOKED_ACCOUNT_DISABLED] = "account_disabled",
    [REFRESH_REVOKED_ADMIN] = "admin",
    [REFRESH_REVOKED_BY_CLIENT] = "client_revoked",
    [REFRESH_REVOKED_AGENT_REMOVED] = "agent_removed",
};

static const char *const result_names[] = {
    [REFRESH_ROTATED] = "rotated", [REFRESH_REPEATED] = "repeated",         [REFRESH_INVALID] = "invalid",
    [REFRESH_REUSED] = "reused",   [REFRESH_WRONG_CLIENT] = "wrong_client", [REFRESH_BAD_SCOPE] = "bad_scope",
    [REFRESH_ERROR] = "error",
};

const char *refresh_result_name(enum refresh_result result)
{
    return (unsigned)result < sizeof(result_names) / sizeof(result_names[0]) ? result_names[result] : "error";
}

static const char *revoke_reason_name(enum refresh_revoke_reason reason)
{
    return (unsigned)reason < sizeof(revoke_reason_names) / sizeof(revoke_reason_names[0]) ? revoke_reason_names[reason] : "admin";
}

static int fail(struct db *db, const char *what, char **err)
{
    *err = xasprintf("refresh tokens: %s: %s", what, db_error(db));
    return -1;
}

static enum db_get copy_blob(struct db_result *res, size_t col, unsigned char *out, size_t size, size_t *len)
{
    const void *data = NULL;
    enum db_get got = db_result_blob(res, col, &data, len);
    if (got != DB_GET_OK)
        return got;
    if (*len > size)
        return DB_GET_ERROR;
    memcpy(out, data, *len);
    return DB_GET_OK;
}

/* ---- scopes ---- */

int refresh_scope_narrow(const char *granted, const char *requested, const char *allowed, char *out, size_t size)
{
    const char *source = requested != NULL ? requested : granted;
    size_t used = 0;
    out[0] = '\0';
    for (const char *p = source; *p != '\0';) {
        p += strspn(p, " ");
        size_t n = strcspn(p, " ");
        if (n != 0 && !scope_set_has(granted, p, n))
            return -1; /* never wider than what the person granted */
        if (n != 0 && scope_set_has(allowed, p, n) && !scope_set_has(out, p, n)) {
            if (used + n + 2 > size)
                return -1;
            if (used != 0)
                out[used++] = ' ';
            memcpy(out + used, p, n);
            out[used += n] = '\0';
        }
        p += n;
    }
    return 0;
}

/* ---- issuing ---- */

int refresh_tokens_issue(struct db *db, const unsigned char token_hash_key[SECRETS_KEY_LEN], const struct refresh_policy *policy,
                         const struct refresh_family *family, char token[SECRETS_TOKEN_BUFSIZE], char family_id[RANDOM_ID_BUFSIZE],
                         char **err)
{
    unsigned char hash[SECRETS_HASH_LEN];
    if (random_id_generate(family_id) != 0 || secrets_token_generate(token) != 0 ||
        secrets_token_hash(token_hash_key, token, SECRETS_TOKEN_LEN, hash) != 0) {
        *err = xstrdup("refresh tokens: the random generator failed");
        return -1;
    }
    /* account and auth_time come from the session row, so a token cannot name another person than its session */
    int rc = db_exec(db, 0,
                     "INSERT INTO refresh_tokens (token_hash, family_id, client_id, account_id, sid, scope, org, auth_time, "
                     "expires_at) SELECT ?, ?, ?, account_id, sid, ?, ?, auth_time, UTC_TIMESTAMP(6) + INTERVAL ? SECOND "
                     "FROM sso_sessions WHERE sid = ? AND ended_at IS NULL",
                     DB_ARGS(db_blob(hash, sizeof(hash)), db_text(family_id), db_text(family->client_id), db_text(family->scope),
                             db_text(family->org), db_uint(policy->ttl_s), db_text(family->sid)));
    if (rc != 0 || db_affected_rows(db) != 1) {
        secrets_wipe(token, SECRETS_TOKEN_BUFSIZE);
        if (rc != 0)
            return fail(db, "cannot store the token", err);
        *err = xstrdup("refresh tokens: the session does not exist or has ended");
        return -1;
    }
    return 0;
}

/* ---- revoking ---- */

long refresh_tokens_revoke_family(struct db *db, const char *family_id, enum refresh_revoke_reason reason, char **err)
{
    if (db_exec(db, 0,
                "UPDATE refresh_tokens SET revoked_at = UTC_TIMESTAMP(6), revoke_reason = ?, successor_sealed = NULL, "
                "sealed_until = NULL WHERE family_id = ? AND revoked_at IS NULL",
                DB_ARGS(db_text(revoke_reason_name(reason)), db_text(family_id))) != 0)
        return fail(db, "cannot revoke the family", err);
    return (long)db_affected_rows(db);
}

long refresh_tokens_revoke_session(struct db *db, const char *sid, enum refresh_revoke_reason reason, char **err)
{
    if (db_exec(db, 0,
                "UPDATE refresh_tokens SET revoked_at = UTC_TIMESTAMP(6), revoke_reason = ?, successor_sealed = NULL, "
                "sealed_until = NULL WHERE sid = ? AND revoked_at IS NULL",
                DB_ARGS(db_text(revoke_reason_name(reason)), db_text(sid))) != 0)
        return fail(db, "cannot revoke the session's tokens", err);
    return (long)db_affected_rows(db);
}

/* The stored form of a well-formed token: 1, 0 for a token this module never issued, -1 error. */
static int hash_token(const unsigned char key[SECRETS_KEY_LEN], const char *token, size_t len, unsigned char hash[SECRETS_HASH_LEN],
                      char **err)
{
    if (!secrets_token_is_wellformed(token, len))
        return 0;
    if (secrets_token_hash(key, token, len, hash) != 0) {
        *err = xstrdup("refresh tokens: cannot hash the token");
        return -1;
    }
    return 1;
}

int refresh_tokens_revoke_by_client(struct db *db, const unsigned char token_hash_key[SECRETS_KEY_LEN], const char *token,
                                    size_t len, const char *client_id, char **err)
{
    unsigned char hash[SECRETS_HASH_LEN];
    int ok = hash_token(token_hash_key, token, len, hash, err);
    if (ok <= 0)
        return ok;
    struct db_result *res =
        db_query(db, DB_IDEMPOTENT, "SELECT family_id FROM refresh_tokens WHERE token_hash = ? AND client_id = ?",
                 DB_ARGS(db_blob(hash, sizeof(hash)), db_text(client_id)));
    char family[RANDOM_ID_BUFSIZE];
    int found = res != NULL ? db_result_next(res) : -1;
    if (found < 0 || (found == 1 && db_result_text_copy(res, 0, family, sizeof(family)) != DB_GET_OK))
        return fail(db, "cannot read the token", err);
    if (found == 0)
        return 0;
    return refresh_tokens_revoke_family(db, family, REFRESH_REVOKED_BY_CLIENT, err) < 0 ? -1 : 1;
}

int refresh_tokens_inspect(struct db *db, const unsigned char token_hash_key[SECRETS_KEY_LEN], const char *token, size_t len,
                           struct refresh_token_info *out, char **err)
{
    unsigned char hash[SECRETS_HASH_LEN];
    memset(out, 0, sizeof(*out));
    int ok = hash_token(token_hash_key, token, len, hash, err);
    if (ok <= 0)
        return ok;
    struct db_result *res =
        db_query(db, DB_IDEMPOTENT,
                 "SELECT r.client_id, r.account_id, r.sid, r.scope, r.created_at, r.expires_at, "
                 "r.used_at IS NULL AND r.revoked_at IS NULL AND r.expires_at > UTC_TIMESTAMP(6) AND s.ended_at IS NULL "
                 "AND a.status = 'active' "
                 "FROM refresh_tokens r JOIN sso_sessions s ON s.sid = r.sid JOIN accounts a ON a.id = r.account_id "
                 "WHERE r.token_hash = ?",
                 DB_ARGS(db_blob(hash, sizeof(hash))));
    int found = res != NULL ? db_result_next(res) : -1;
    if (found <= 0)
        return found < 0 ? fail(db, "cannot read the token", err) : 0;
    int read = db_result_text_copy(res, 0, out->client_id, sizeof(out->client_id)) == DB_GET_OK &&
               db_result_text_copy(res, 1, out->account_id, sizeof(out->account_id)) == DB_GET_OK &&
               db_result_text_copy(res, 2, out->sid, sizeof(out->sid)) == DB_GET_OK &&
               db_result_text_copy(res, 3, out->scope, sizeof(out->scope)) == DB_GET_OK &&
               db_result_unix_time(res, 4, &out->issued_at) == DB_GET_OK &&
               db_result_unix_time(res, 5, &out->expires_at) == DB_GET_OK && db_result_int(res, 6, &out->active) == DB_GET_OK;
    return read ? 1 : fail(db, "a token row cannot be read", err);
}

/*
 * The candidates are read without locks, then wiped one row at a time by primary key: a locking range UPDATE over the
 * sealed_until index would take gap locks that deadlock with rotations (which update that index too), while a
 * single-row statement holds one lock at a time and can only wait, never close a cycle.
 */
long refresh_tokens_sweep(struct db *db, unsigned limit, char **err)
{
    struct db_result *res =
        db_query(db, DB_IDEMPOTENT, "SELECT token_hash FROM refresh_tokens WHERE sealed_until < UTC_TIMESTAMP(6) LIMIT ?",
                 DB_ARGS(db_uint(limit)));
    if (res == NULL)
        return fail(db, "cannot find sealed successors to sweep", err);
    size_t count = (size_t)db_result_rows(res), n = 0;
    unsigned char(*hashes)[SECRETS_HASH_LEN] = xcalloc(count + 1, sizeof(*hashes));
    size_t len = 0;
    while (n < count && db_result_next(res) == 1 && copy_blob(res, 0, hashes[n], SECRETS_HASH_LEN, &len) == DB_GET_OK &&
           len == SECRETS_HASH_LEN)
        n++;
    long wiped = 0;
    for (size_t i = 0; i < n && wiped >= 0; i++) {
        if (db_exec(db, DB_IDEMPOTENT,
                    "UPDATE refresh_tokens SET successor_sealed = NULL, sealed_until = NULL WHERE token_hash = ? "
                    "AND sealed_until < UTC_TIMESTAMP(6)",
                    DB_ARGS(db_blob(hashes[i], SECRETS_HASH_LEN))) != 0)
            wiped = fail(db, "cannot sweep sealed successors", err);
        else
            wiped += (long)db_affected_rows(db);
    }
    free(hashes);
    return wiped;
}

/* ---- rotating ---- */

/* The presented token's row with its session and account, locked for the transaction. */
struct token_row {
    struct refresh_grant grant;
    int unexpired, used, revoked, in_grace, session_live, account_active;
    unsigned char sealed[SEALED_MAX];
    size_t sealed_len; /* 0: none kept */
    unsigned char parent[SECRETS_HASH_LEN];
    int has_parent;
};

static void successor_ad(const unsigned char hash[SECRETS_HASH_LEN], char out[64 + 32])
{
    char hex[SECRETS_HASH_HEX_BUFSIZE];
    secrets_hex_encode(hash, SECRETS_HASH_LEN, hex);
    snprintf(out, 64 + 32, "refresh_tokens.successor:%s", hex);
}

static int read_flags(struct db_result *res, struct token_row *row)
{
    int level = 0;
    int ok = db_result_int(res, 6, &row->unexpired) == DB_GET_OK && db_result_int(res, 7, &row->used) == DB_GET_OK &&
             db_result_int(res, 8, &row->revoked) == DB_GET_OK && db_result_int(res, 9, &row->in_grace) == DB_GET_OK &&
             db_result_int(res, 12, &row->session_live) == DB_GET_OK && db_result_int(res, 13, &row->account_active) == DB_GET_OK &&
             db_result_int(res, 14, &level) == DB_GET_OK && level >= 1 && level <= ACCOUNT_MAX_LEVEL;
    row->grant.acr = ok ? (unsigned)level : 0;
    return ok;
}

/* 1 found, 0 unknown token, -1 error. */
static int read_row(struct db *db, const unsigned char hash[SECRETS_HASH_LEN], unsigned grace_s, struct token_row *row, char **err)
{
    struct db_result *res =
        db_query(db, 0,
                 "SELECT r.family_id, r.client_id, r.account_id, r.sid, r.scope, r.auth_time, r.expires_at > UTC_TIMESTAMP(6), "
                 "r.used_at IS NOT NULL, r.revoked_at IS NOT NULL, COALESCE(r.sealed_until > UTC_TIMESTAMP(6), 0) AND ? > 0, "
                 "r.successor_sealed, r.parent_hash, s.ended_at IS NULL, a.status = 'active', a.assurance_level, r.org "
                 "FROM refresh_tokens r JOIN sso_sessions s ON s.sid = r.sid JOIN accounts a ON a.id = r.account_id "
                 "WHERE r.token_hash = ? FOR UPDATE",
                 DB_ARGS(db_uint(grace_s), db_blob(hash, SECRETS_HASH_LEN)));
    int found = res != NULL ? db_result_next(res) : -1;
    if (found <= 0)
        return found < 0 ? fail(db, "cannot read the token", err) : 0;
    struct refresh_grant *g = &row->grant;
    size_t parent_len = 0;
    enum db_get sealed = copy_blob(res, 10, row->sealed, sizeof(row->sealed), &row->sealed_len);
    enum db_get parent = copy_blob(res, 11, row->parent, sizeof(row->parent), &parent_len);
    enum db_get org = db_result_text_copy(res, 15, g->org, sizeof(g->org));
    int ok = db_result_text_copy(res, 0, g->family_id, sizeof(g->family_id)) == DB_GET_OK &&
             db_result_text_copy(res, 1, g->client_id, sizeof(g->client_id)) == DB_GET_OK &&
             db_result_text_copy(res, 2, g->account_id, sizeof(g->account_id)) == DB_GET_OK &&
             db_result_text_copy(res, 3, g->sid, sizeof(g->sid)) == DB_GET_OK &&
             db_result_text_copy(res, 4, g->scope, sizeof(g->scope)) == DB_GET_OK &&
             db_result_unix_time(res, 5, &g->auth_time) == DB_GET_OK && read_flags(res, row) && sealed != DB_GET_ERROR &&
             parent != DB_GET_ERROR && (parent == DB_GET_NULL || parent_len == SECRETS_HASH_LEN) && org != DB_GET_ERROR;
    if (!ok)
        return fail(db, "a token row cannot be read", err);
    if (sealed == DB_GET_NULL)
        row->sealed_len = 0;
    if (org == DB_GET_NULL)
        g->org[0] = '\0';
    row->has_parent = parent == DB_GET_OK;
    return 1;
}

/* The grace rule's answer: the successor this row was rotated to. */
static enum refresh_result repeat(const struct identity_keys *keys, const unsigned char hash[SECRETS_HASH_LEN],
                                  const struct token_row *row, char new_token[SECRETS_TOKEN_BUFSIZE], char **err)
{
    char ad[96];
    size_t len = 0;
    successor_ad(hash, ad);
    if (secrets_open(keys->refresh_seal, ad, strlen(ad), row->sealed, row->sealed_len, (unsigned char *)new_token,
                     SECRETS_TOKEN_BUFSIZE - 1, &len) != SECRETS_OK ||
        !secrets_token_is_wellformed(new_token, len)) {
        secrets_wipe(new_token, SECRETS_TOKEN_BUFSIZE);
        *err = xstrdup("refresh tokens: a sealed successor does not open");
        return REFRESH_ERROR;
    }
    new_token[len] = '\0';
    return REFRESH_REPEATED;
}

static enum refresh_result rotate(struct db *db, const struct identity_keys *keys, const struct refresh_policy *policy,
                                  const unsigned char hash[SECRETS_HASH_LEN], const struct token_row *row,
                                  char new_token[SECRETS_TOKEN_BUFSIZE], char **err)
{
    unsigned char new_hash[SECRETS_HASH_LEN], sealed[SEALED_MAX];
    size_t sealed_len = 0;
    char ad[96];
    successor_ad(hash, ad);
    if (secrets_token_generate(new_token) != 0 ||
        secrets_token_hash(keys->token_hash, new_token, SECRETS_TOKEN_LEN, new_hash) != 0 ||
        (policy->reuse_grace_s > 0 && secrets_seal(keys->refresh_seal, ad, strlen(ad), new_token, SECRETS_TOKEN_LEN, sealed,
                                                   sizeof(sealed), &sealed_len) != SECRETS_OK)) {
        *err = xstrdup("refresh tokens: cannot make the successor");
        return REFRESH_ERROR;
    }
    const struct refresh_grant *g = &row->grant;
    /* one UPDATE marks this token used (keeping its successor sealed for the grace window) and wipes the sealed copy of
     * this token kept by its parent, which can never be needed again now that this token was used */
    if (db_exec(db, 0,
                "INSERT INTO refresh_tokens (token_hash, family_id, parent_hash, client_id, account_id, sid, scope, org, "
                "auth_time, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, FROM_UNIXTIME(?), UTC_TIMESTAMP(6) + INTERVAL ? SECOND)",
                DB_ARGS(db_blob(new_hash, sizeof(new_hash)), db_text(g->family_id), db_blob(hash, SECRETS_HASH_LEN),
                        db_text(g->client_id), db_text(g->account_id), db_text(g->sid), db_text(g->scope),
                        db_text(g->org[0] != '\0' ? g->org : NULL), db_int(g->auth_time), db_uint(policy->ttl_s))) != 0 ||
        db_exec(db, 0,
                "UPDATE refresh_tokens SET used_at = IF(token_hash = ?, UTC_TIMESTAMP(6), used_at), "
                "replaced_by = IF(token_hash = ?, ?, replaced_by), successor_sealed = IF(token_hash = ?, ?, NULL), "
                "sealed_until = IF(token_hash = ? AND ? > 0, UTC_TIMESTAMP(6) + INTERVAL ? SECOND, NULL) "
                "WHERE token_hash IN (?, ?)",
                DB_ARGS(db_blob(hash, SECRETS_HASH_LEN), db_blob(hash, SECRETS_HASH_LEN), db_blob(new_hash, sizeof(new_hash)),
                        db_blob(hash, SECRETS_HASH_LEN), sealed_len > 0 ? db_blob(sealed, sealed_len) : db_null(),
                        db_blob(hash, SECRETS_HASH_LEN), db_uint(sealed_len), db_uint(policy->reuse_grace_s),
                        db_blob(hash, SECRETS_HASH_LEN), row->has_parent ? db_blob(row->parent, SECRETS_HASH_LEN) : db_null())) !=
            0) {
        secrets_wipe(new_token, SECRETS_TOKEN_BUFSIZE);
        fail(db, "cannot store the successor", err);
        return REFRESH_ERROR;
    }
    secrets_wipe(sealed, sizeof(sealed));
    return REFRESH_ROTATED;
}

/* Revokes the row's family for `reason` and answers `result`. */
static enum refresh_result revoke(struct db *db, const struct token_row *row, enum refresh_revoke_reason reason,
                                  enum refresh_result result, char **err)
{
    return refresh_tokens_revoke_family(db, row->grant.family_id, reason, err) < 0 ? REFRESH_ERROR : result;
}

/* The decision, in order: what is dead stays dead; a foreign client or a reuse kills the family; then the grace. */
static enum refresh_result decide(struct db *db, const struct identity_keys *keys, const struct refresh_policy *policy,
                                  const unsigned char hash[SECRETS_HASH_LEN], struct token_row *row, const char *client_id,
                                  const struct refresh_scope_request *scope, char new_token[SECRETS_TOKEN_BUFSIZE], char **err)
{
    if (row->revoked)
        return REFRESH_INVALID;
    if (strcmp(row->grant.client_id, client_id) != 0)
        return revoke(db, row, REFRESH_REVOKED_CLIENT_MISMATCH, REFRESH_WRONG_CLIENT, err);
    if (!row->session_live || !row->account_active)
        return REFRESH_INVALID;
    if (refresh_scope_narrow(row->grant.scope, scope->requested, scope->allowed, row->grant.access_scope,
                             sizeof(row->grant.access_scope)) != 0)
        return REFRESH_BAD_SCOPE;
    if (row->used) {
        if (row->in_grace && row->sealed_len > 0)
            return repeat(keys, hash, row, new_token, err);
        return revoke(db, row, REFRESH_REVOKED_REUSE, REFRESH_REUSED, err);
    }
    if (!row->unexpired)
        return REFRESH_INVALID;
    return rotate(db, keys, policy, hash, row, new_token, err);
}

static enum refresh_result rotate_once(struct db *db, const struct identity_keys *keys, const struct refresh_policy *policy,
                                       const unsigned char hash[SECRETS_HASH_LEN], const char *client_id,
                                       const struct refresh_scope_request *scope, char new_token[SECRETS_TOKEN_BUFSIZE],
                                       struct refresh_grant *grant, int *retryable, char **err)
{
    struct token_row row;
    memset(&row, 0, sizeof(row));
    if (db_begin(db) != 0) {
        fail(db, "cannot start a transaction", err);
        return REFRESH_ERROR;
    }
    int found = read_row(db, hash, policy->reuse_grace_s, &row, err);
    enum refresh_result result = found < 0    ? REFRESH_ERROR
                                 : found == 0 ? REFRESH_INVALID
                                              : decide(db, keys, policy, hash, &row, client_id, scope, new_token, err);
    if (result != REFRESH_ERROR && db_commit(db) != 0) {
        fail(db, "cannot commit", err);
        result = REFRESH_ERROR;
    }
    if (result == REFRESH_ERROR) {
        *retryable = db_error_is_retryable_txn(db); /* before the rollback clears the error */
        db_rollback(db);
        secrets_wipe(new_token, SECRETS_TOKEN_BUFSIZE);
    }
    *grant = row.grant;
    secrets_wipe(row.sealed, sizeof(row.sealed));
    return result;
}

enum refresh_result refresh_tokens_rotate(struct db *db, const struct identity_keys *keys, const struct refresh_policy *policy,
                                          const char *token, size_t len, const char *client_id,
                                          const struct refresh_scope_request *scope, char new_token[SECRETS_TOKEN_BUFSIZE],
                                          struct refresh_grant *grant, char **err)
{
    unsigned char hash[SECRETS_HASH_LEN];
    memset(grant, 0, sizeof(*grant));
    new_token[0] = '\0';
    int ok = hash_token(keys->token_hash, token, len, hash, err);
    if (ok <= 0)
        return ok == 0 ? REFRESH_INVALID : REFRESH_ERROR;
    int retryable = 0;
    enum refresh_result result = rotate_once(db, keys, policy, hash, client_id, scope, new_token, grant, &retryable, err);
    /* a deadlock (e.g. with a parallel logout of the same session): the loser runs once more and sees the outcome */
    if (result == REFRESH_ERROR && retryable) {
        free(*err);
        *err = NULL;
        retryable = 0;
        result = rotate_once(db, keys, policy, hash, client_id, scope, new_token, grant, &retryable, err);
    }
    return result;
}
