#include "auth/consents.h"

#include <stdlib.h>
#include <string.h>

#include "auth/scope_set.h"
#include "common/xalloc.h"

static int fail(struct db *db, const char *what, char **err)
{
    *err = xasprintf("consents: %s: %s", what, db_error(db));
    return -1;
}

/* The approved scopes into `out` ("" when none); with `lock`, the row stays locked until the transaction ends. */
static int read_scope(struct db *db, const char *account_id, const char *client_id, int lock, char out[CONSENT_SCOPE_MAX + 1],
                      char **err)
{
    struct db_result *res = db_query(db, lock ? 0 : DB_IDEMPOTENT,
                                     lock ? "SELECT scope FROM oauth_consents WHERE account_id = ? AND client_id = ? FOR UPDATE"
                                          : "SELECT scope FROM oauth_consents WHERE account_id = ? AND client_id = ?",
                                     DB_ARGS(db_text(account_id), db_text(client_id)));
    out[0] = '\0';
    int row = res != NULL ? db_result_next(res) : -1;
    if (row < 0 || (row == 1 && db_result_text_copy(res, 0, out, CONSENT_SCOPE_MAX + 1) != DB_GET_OK))
        return fail(db, "cannot read the consent", err);
    return 0;
}

int consents_cover(struct db *db, const char *account_id, const char *client_id, const char *scope, char **err)
{
    char approved[CONSENT_SCOPE_MAX + 1];
    if (read_scope(db, account_id, client_id, 0, approved, err) != 0)
        return -1;
    return approved[0] != '\0' && scope_set_covers(approved, scope);
}

/* Inside a transaction: the row exists (possibly empty) and is locked, so parallel grants add up instead of overwriting. */
static int grant_locked(struct db *db, const char *account_id, const char *client_id, const char *scope, char **err)
{
    char approved[CONSENT_SCOPE_MAX + 1];
    if (db_exec(db, 0, "INSERT IGNORE INTO oauth_consents (account_id, client_id, scope) VALUES (?, ?, '')",
                DB_ARGS(db_text(account_id), db_text(client_id))) != 0)
        return fail(db, "cannot record the consent", err);
    if (read_scope(db, account_id, client_id, 1, approved, err) != 0)
        return -1;
    if (scope_set_add(approved, sizeof(approved), scope) != 0) {
        *err = xstrdup("consents: too many scopes to remember");
        return -1;
    }
    if (db_exec(db, 0, "UPDATE oauth_consents SET scope = ? WHERE account_id = ? AND client_id = ?",
                DB_ARGS(db_text(approved), db_text(account_id), db_text(client_id))) != 0)
        return fail(db, "cannot record the consent", err);
    return 0;
}

int consents_grant(struct db *db, const char *account_id, const char *client_id, const char *scope, char **err)
{
    if (db_begin(db) != 0)
        return fail(db, "cannot start a transaction", err);
    int rc = grant_locked(db, account_id, client_id, scope, err);
    if (rc == 0 && db_commit(db) != 0)
        rc = fail(db, "cannot commit the consent", err);
    if (rc != 0)
        db_rollback(db);
    return rc;
}
