#include "auth/retention.h"

#include <stdlib.h>
#include <string.h>

#include "auth/access_revocations.h"
#include "auth/accounts.h"
#include "auth/authz_codes.h"
#include "common/xalloc.h"

/* Families whose every token expired or was revoked more than a day ago: nothing of them can be used or reused. */
#define DEAD_FAMILY_CANDIDATES                                                                                                     \
    "SELECT DISTINCT family_id FROM refresh_tokens WHERE expires_at < UTC_TIMESTAMP(6) - INTERVAL 1 DAY LIMIT ?"
#define FAMILY_IS_DEAD                                                                                                             \
    "SELECT MAX(IF(revoked_at IS NULL, expires_at, LEAST(expires_at, revoked_at))) < UTC_TIMESTAMP(6) - INTERVAL 1 DAY "           \
    "FROM refresh_tokens WHERE family_id = ?"

static long fail(struct db *db, const char *what, char **err)
{
    *err = xasprintf("retention: %s: %s", what, db_error(db));
    return -1;
}

/* Deletes `family` when it is dead: 1 deleted, 0 still alive, -1 error. A dead family cannot rotate, so no row can join it. */
static int delete_if_dead(struct db *db, const char *family, long *rows, char **err)
{
    struct db_result *res = db_query(db, DB_IDEMPOTENT, FAMILY_IS_DEAD, DB_ARGS(db_text(family)));
    int dead = 0;
    if (res == NULL || db_result_next(res) != 1 || db_result_int(res, 0, &dead) == DB_GET_ERROR)
        return (int)fail(db, "cannot check a refresh-token family", err);
    if (!dead)
        return 0;
    if (db_exec(db, DB_IDEMPOTENT, "DELETE FROM refresh_tokens WHERE family_id = ?", DB_ARGS(db_text(family))) != 0)
        return (int)fail(db, "cannot delete a refresh-token family", err);
    *rows += (long)db_affected_rows(db);
    return 1;
}

static long sweep_refresh_families(struct db *db, unsigned limit, char **err)
{
    struct db_result *res = db_query(db, DB_IDEMPOTENT, DEAD_FAMILY_CANDIDATES, DB_ARGS(db_uint(limit)));
    if (res == NULL)
        return fail(db, "cannot find expired refresh tokens", err);
    /* the ids are copied out first: the result is gone with the next query */
    char(*families)[RANDOM_ID_BUFSIZE] = xcalloc(limit != 0 ? limit : 1, sizeof(*families));
    size_t n = 0;
    int row;
    while (n < limit && (row = db_result_next(res)) == 1) {
        if (db_result_text_copy(res, 0, families[n], sizeof(families[n])) != DB_GET_OK) {
            free(families);
            return fail(db, "cannot read a family id", err);
        }
        n++;
    }
    long rows = 0;
    for (size_t i = 0; i < n; i++) {
        if (delete_if_dead(db, families[i], &rows, err) < 0) {
            free(families);
            return -1;
        }
    }
    free(families);
    return rows;
}

static long delete_rows(struct db *db, const char *what, const char *sql, unsigned limit, char **err)
{
    if (db_exec(db, DB_IDEMPOTENT, sql, DB_ARGS(db_uint(limit))) != 0)
        return fail(db, what, err);
    return (long)db_affected_rows(db);
}

int retention_sweep(struct db *db, unsigned skew_s, unsigned limit, struct retention_report *out, char **err)
{
    memset(out, 0, sizeof(*out));
    if ((out->authorization_codes = authz_codes_sweep(db, limit, err)) < 0 ||
        (out->revoked_access_tokens = access_revocations_sweep(db, skew_s, limit, err)) < 0 ||
        (out->refresh_tokens = sweep_refresh_families(db, limit, err)) < 0)
        return -1;
    out->sms_codes = delete_rows(db, "cannot delete old SMS codes",
                                 "DELETE FROM sms_codes WHERE last_sent_at < UTC_TIMESTAMP(6) - INTERVAL 2 DAY "
                                 "AND expires_at < UTC_TIMESTAMP(6) LIMIT ?",
                                 limit, err);
    if (out->sms_codes < 0)
        return -1;
    out->sms_quotas = delete_rows(db, "cannot delete old SMS quotas",
                                  "DELETE FROM sms_ip_quota WHERE day < UTC_DATE() - INTERVAL 2 DAY LIMIT ?", limit, err);
    if (out->sms_quotas < 0)
        return -1;
    out->login_throttles = delete_rows(db, "cannot delete old login throttles",
                                       "DELETE FROM login_throttle WHERE updated_at < UTC_TIMESTAMP(6) - INTERVAL 1 DAY "
                                       "AND locked_until < UTC_TIMESTAMP(6) LIMIT ?",
                                       limit, err);
    return out->login_throttles < 0 ? -1 : 0;
}
