#include "auth/access_revocations.h"

#include "common/xalloc.h"

static int fail(struct db *db, const char *what, char **err)
{
    *err = xasprintf("access revocations: %s: %s", what, db_error(db));
    return -1;
}

int access_revocations_add(struct db *db, const char *jti, const char *client_id, int64_t expires_at,
                           enum access_revocation_reason reason, char **err)
{
    /* the first reason stays: a token revoked by its client and then caught in a code reuse was revoked by its client */
    if (db_exec(db, DB_IDEMPOTENT,
                "INSERT IGNORE INTO revoked_access_tokens (jti, client_id, expires_at, reason) VALUES (?, ?, FROM_UNIXTIME(?), ?)",
                DB_ARGS(db_text(jti), db_text(client_id), db_int(expires_at),
                        db_text(reason == ACCESS_REVOKED_CODE_REUSE ? "code_reuse" : "client_revoked"))) != 0)
        return fail(db, "cannot revoke the token", err);
    return 0;
}

int access_revocations_contains(struct db *db, const char *jti, char **err)
{
    struct db_result *res = db_query(db, DB_IDEMPOTENT, "SELECT 1 FROM revoked_access_tokens WHERE jti = ?", DB_ARGS(db_text(jti)));
    int row = res != NULL ? db_result_next(res) : -1;
    return row < 0 ? fail(db, "cannot look the token up", err) : row;
}

long access_revocations_sweep(struct db *db, unsigned grace_s, unsigned limit, char **err)
{
    if (db_exec(db, DB_IDEMPOTENT,
                "DELETE FROM revoked_access_tokens WHERE expires_at < UTC_TIMESTAMP(6) - INTERVAL ? SECOND LIMIT ?",
                DB_ARGS(db_uint(grace_s), db_uint(limit))) != 0)
        return fail(db, "cannot sweep", err);
    return (long)db_affected_rows(db);
}
