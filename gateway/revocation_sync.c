#include "gateway/revocation_sync.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/db_open.h"
#include "common/log.h"
#include "common/xalloc.h"

struct revocation_sync {
    struct database_config database; /* borrowed: the boot config outlives this */
    unsigned window_s;               /* how long an ended session can still have valid tokens */
    struct db *db;
    char fingerprint[96];
    int failing;
};

struct revocation_sync *revocation_sync_new(const struct config *config)
{
    if (config->database.dsn == NULL)
        return NULL;
    struct revocation_sync *sync = xcalloc(1, sizeof(*sync));
    sync->database = config->database;
    sync->window_s = config->identity.access_token_ttl_s + config->identity.clock_skew_s;
    return sync;
}

void revocation_sync_free(struct revocation_sync *sync)
{
    if (sync == NULL)
        return;
    db_close(sync->db);
    free(sync);
}

static struct revocation_set *fail(struct revocation_sync *sync, const char *what)
{
    if (!sync->failing)
        log_error("revocations: %s: %s; keeping the last set", what, sync->db != NULL ? db_error(sync->db) : "no connection");
    sync->failing = 1;
    if (sync->db != NULL && db_error_is_connection_lost(sync->db)) {
        db_close(sync->db);
        sync->db = NULL;
    }
    return NULL;
}

/* A cheap summary of the sessions in the window: the set is rebuilt only when it changes. */
static int read_fingerprint(struct revocation_sync *sync, char *out, size_t size)
{
    struct db_result *res = db_query(sync->db, DB_IDEMPOTENT,
                                     "SELECT COUNT(*), COALESCE(MAX(ended_at), '') FROM sso_sessions "
                                     "WHERE ended_at > UTC_TIMESTAMP(6) - INTERVAL ? SECOND",
                                     DB_ARGS(db_uint(sync->window_s)));
    const char *count = NULL, *newest = NULL;
    if (res == NULL || db_result_next(res) != 1 || db_result_text(res, 0, &count, NULL) != DB_GET_OK ||
        db_result_text(res, 1, &newest, NULL) != DB_GET_OK)
        return -1;
    snprintf(out, size, "%s/%s", count, newest);
    return 0;
}

static struct revocation_set *read_set(struct revocation_sync *sync)
{
    struct db_result *res =
        db_query(sync->db, DB_IDEMPOTENT, "SELECT sid FROM sso_sessions WHERE ended_at > UTC_TIMESTAMP(6) - INTERVAL ? SECOND",
                 DB_ARGS(db_uint(sync->window_s)));
    if (res == NULL)
        return NULL;
    struct revocation_set *set = revocation_set_new((size_t)db_result_rows(res));
    int row;
    while ((row = db_result_next(res)) == 1) {
        const char *sid = NULL;
        if (db_result_text(res, 0, &sid, NULL) == DB_GET_OK)
            revocation_set_add(set, REVOKED_SESSION, sid);
    }
    if (row < 0) {
        revocation_set_release(set);
        return NULL;
    }
    return set;
}

struct revocation_set *revocation_sync_poll(struct revocation_sync *sync)
{
    char *err = NULL, fingerprint[sizeof(sync->fingerprint)];
    if (sync->db == NULL && (sync->db = db_open_configured(&sync->database, &err)) == NULL) {
        if (!sync->failing)
            log_error("revocations: %s; keeping the last set", err);
        sync->failing = 1;
        free(err);
        return NULL;
    }
    if (read_fingerprint(sync, fingerprint, sizeof(fingerprint)) != 0)
        return fail(sync, "cannot read ended sessions");
    if (strcmp(fingerprint, sync->fingerprint) == 0)
        return NULL;
    struct revocation_set *set = read_set(sync);
    if (set == NULL)
        return fail(sync, "cannot read ended sessions");
    if (sync->failing)
        log_info("revocations: database reachable again");
    sync->failing = 0;
    memcpy(sync->fingerprint, fingerprint, sizeof(fingerprint));
    return set;
}
