#include "auth/admin_accounts.h"

#include <openssl/rand.h>
#include <string.h>

#include "common/base64url.h"
#include "common/xalloc.h"

static const char *const role_names[] = {
    [ADMIN_ROLE_PLATFORM_ADMIN] = "platform_admin",
    [ADMIN_ROLE_DEPARTMENT_ADMIN] = "department_admin",
    [ADMIN_ROLE_AUDITOR] = "auditor",
    [ADMIN_ROLE_OPERATOR] = "operator",
};

const char *admin_role_name(enum admin_role role)
{
    return (unsigned)role < sizeof(role_names) / sizeof(role_names[0]) ? role_names[role] : "operator";
}

int admin_role_from_name(const char *name, enum admin_role *out)
{
    for (size_t i = 0; i < sizeof(role_names) / sizeof(role_names[0]); i++) {
        if (strcmp(name, role_names[i]) == 0) {
            *out = (enum admin_role)i;
            return 0;
        }
    }
    return -1;
}

static int fail(struct db *db, const char *what, char **err)
{
    *err = xasprintf("admin tokens: %s: %s", what, db_error(db));
    return -1;
}

int admin_token_issue(struct db *db, const unsigned char key[SECRETS_KEY_LEN], uint64_t account_id, const char *label,
                      char token[ADMIN_TOKEN_BUFSIZE], char token_id[ADMIN_TOKEN_ID_LEN + 1], char **err)
{
    unsigned char id_bytes[16], hash[SECRETS_HASH_LEN];
    memcpy(token, ADMIN_TOKEN_PREFIX, ADMIN_TOKEN_PREFIX_LEN);
    if (secrets_token_generate(token + ADMIN_TOKEN_PREFIX_LEN) != 0 || RAND_bytes(id_bytes, sizeof(id_bytes)) != 1) {
        *err = xstrdup("admin tokens: the random generator failed");
        return -1;
    }
    token_id[base64url_encode(id_bytes, sizeof(id_bytes), token_id)] = '\0';
    if (secrets_token_hash(key, token, ADMIN_TOKEN_LEN, hash) != 0) {
        secrets_wipe(token, ADMIN_TOKEN_BUFSIZE);
        *err = xstrdup("admin tokens: cannot hash the token");
        return -1;
    }
    int rc = db_exec(db, 0, "INSERT INTO admin_tokens (id, account_id, token_hash, label) VALUES (?, ?, ?, ?)",
                     DB_ARGS(db_text(token_id), db_uint(account_id), db_blob(hash, sizeof(hash)), db_text(label ? label : "")));
    if (rc != 0) {
        secrets_wipe(token, ADMIN_TOKEN_BUFSIZE);
        return fail(db, "insert", err);
    }
    return 0;
}

static int wellformed(const char *token, size_t len)
{
    return len == ADMIN_TOKEN_LEN && memcmp(token, ADMIN_TOKEN_PREFIX, ADMIN_TOKEN_PREFIX_LEN) == 0 &&
           secrets_token_is_wellformed(token + ADMIN_TOKEN_PREFIX_LEN, SECRETS_TOKEN_LEN);
}

static int read_identity(struct db_result *res, struct admin_identity *out, char token_id[ADMIN_TOKEN_ID_LEN + 1])
{
    char role[32];
    memset(out, 0, sizeof(*out));
    if (db_result_uint64(res, 0, &out->account_id) != DB_GET_OK ||
        db_result_text_copy(res, 1, out->name, sizeof(out->name)) != DB_GET_OK ||
        db_result_text_copy(res, 2, role, sizeof(role)) != DB_GET_OK || admin_role_from_name(role, &out->role) != 0 ||
        db_result_uint64(res, 3, &out->department_id) == DB_GET_ERROR ||
        db_result_text_copy(res, 4, out->department, sizeof(out->department)) == DB_GET_ERROR ||
        db_result_text_copy(res, 5, token_id, ADMIN_TOKEN_ID_LEN + 1) != DB_GET_OK)
        return -1;
    return 0;
}

int admin_token_lookup(struct db *db, const unsigned char key[SECRETS_KEY_LEN], const char *token, size_t len,
                       struct admin_identity *out, char **err)
{
    unsigned char hash[SECRETS_HASH_LEN];
    if (!wellformed(token, len))
        return 0;
    if (secrets_token_hash(key, token, len, hash) != 0) {
        *err = xstrdup("admin tokens: cannot hash the token");
        return -1;
    }
    struct db_result *res =
        db_query(db, DB_IDEMPOTENT,
                 "SELECT a.id, a.name, a.role, a.department_id, d.name, t.id, t.last_used_at IS NULL OR t.last_used_at < "
                 "UTC_TIMESTAMP(6) - INTERVAL 1 MINUTE FROM admin_tokens t JOIN admin_accounts a ON a.id = t.account_id "
                 "LEFT JOIN departments d ON d.id = a.department_id WHERE t.token_hash = ? AND t.revoked_at IS NULL "
                 "AND (t.expires_at IS NULL OR t.expires_at > UTC_TIMESTAMP(6)) AND a.status = 'active'",
                 DB_ARGS(db_blob(hash, sizeof(hash))));
    if (res == NULL)
        return fail(db, "lookup", err);
    int row = db_result_next(res);
    if (row <= 0)
        return row == 0 ? 0 : fail(db, "lookup", err);
    char token_id[ADMIN_TOKEN_ID_LEN + 1];
    int stale = 0;
    if (read_identity(res, out, token_id) != 0 || db_result_int(res, 6, &stale) != DB_GET_OK)
        return fail(db, "lookup row", err);
    if (stale && db_exec(db, DB_IDEMPOTENT, "UPDATE admin_tokens SET last_used_at = UTC_TIMESTAMP(6) WHERE id = ?",
                         DB_ARGS(db_text(token_id))) != 0)
        return fail(db, "mark used", err);
    return 1;
}
