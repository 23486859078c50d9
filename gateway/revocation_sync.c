#include "gateway/revocation_sync.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth/retention.h"
#include "common/db_open.h"
#include "common/log.h"
#include "common/xalloc.h"

struct revocation_sync {
    struct database_config database; /* borrowed: the boot config outlives this */
    unsigned window_s;               /* how long an ended session can still have valid tokens */
    unsigned skew_s;                 /* a revoked token is refused until its exp plus this */
    struct db *db;
    char fingerprint[192];
    unsigned polls; /* the identity tables' housekeeping runs every SWEEP_EVERY polls */
    int failing;
};

/* About once a minute: rows pile up at the rate clients revoke, so a small batch keeps the table short. */
#define SWEEP_EVERY 60
#define SWEEP_LIMIT 1000

/* Ended sessions whose tokens could still be valid, and revoked tokens that have not expired (plus the skew). */
#define ENDED_SESSIONS "FROM sso_sessions WHERE ended_at > UTC_TIMESTAMP(6) - INTERVAL ? SECOND"
#define REVOKED_TOKENS "FROM revoked_access_tokens WHERE expires_at > UTC_TIMESTAMP(6) - INTERVAL ? SECOND"

struct revocation_sync *revocation_sync_new(const struct config *config)
{
    if (config->database.dsn == NULL)
        return NULL;
    struct revocation_sync *sync = xcalloc(1, sizeof(*sync));
    sync->database = config->database;
    sync->window_s = config->identity.access_token_ttl_s + config->identity.clock_skew_s;
    sync->skew_s = config->identity.clock_skew_s;
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

/*
 * A cheap summary of both lists: the set is rebuilt only when it changes. A
 * revoked token only ever joins its list (rows leave by expiring), so its
 * count and newest revocation time change whenever the list does.
 */
static int read_fingerprint(struct revocation_sync *sync, char *out, size_t size)
{
    struct db_result *res =
        db_query(sync->db, DB_IDEMPOTENT,
                 "SELECT (SELECT COUNT(*) " ENDED_SESSIONS "), (SELECT COALESCE(MAX(ended_at), '') " ENDED_SESSIONS "), "
                 "(SELECT COUNT(*) " REVOKED_TOKENS "), (SELECT COALESCE(MAX(revoked_at), '') " REVOKED_TOKENS ")",
                 DB_ARGS(db_uint(sync->window_s), db_uint(sync->window_s), db_uint(sync->skew_s), db_uint(sync->skew_s)));
    const char *v[4] = {NULL, NULL, NULL, NULL};
    if (res == NULL || db_result_next(res) != 1)
        return -1;
    for (unsigned i = 0; i < 4; i++) {
        if (db_result_text(res, i, &v[i], NULL) != DB_GET_OK)
            return -1;
    }
    snprintf(out, size, "%s/%s/%s/%s", v[0], v[1], v[2], v[3]);
    return 0;
}

/* Adds the values of the query's only column as `kind`; 0, or -1 on a database error. */
static int add_rows(struct revocation_sync *sync, struct revocation_set *set, enum revocation_kind kind, const char *sql,
                    unsigned window_s)
{
    struct db_result *res = db_query(sync->db, DB_IDEMPOTENT, sql, DB_ARGS(db_uint(window_s)));
    if (res == NULL)
        return -1;
    int row;
    while ((row = db_result_next(res)) == 1) {
        const char *value = NULL;
        if (db_result_text(res, 0, &value, NULL) == DB_GET_OK)
            revocation_set_add(set, kind, value);
    }
    return row < 0 ? -1 : 0;
}

static struct revocation_set *read_set(struct revocation_sync *sync)
{
    struct revocation_set *set = revocation_set_new(64);
    if (add_rows(sync, set, REVOKED_SESSION, "SELECT sid " ENDED_SESSIONS, sync->window_s) != 0 ||
        add_rows(sync, set, REVOKED_TOKEN, "SELECT jti " REVOKED_TOKENS, sync->skew_s) != 0) {
        revocation_set_release(set);
        return NULL;
    }
    return set;
}

/* The identity tables' housekeeping (auth/retention.h), off the event loops, on this thread's connection. */
static void sweep(struct revocation_sync *sync)
{
    char *err = NULL;
    struct retention_report report;
    if (retention_sweep(sync->db, sync->skew_s, SWEEP_LIMIT, &report, &err) != 0) {
        log_warn("housekeeping: %s", err);
        free(err);
    }
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
    if (++sync->polls % SWEEP_EVERY == 0)
        sweep(sync);
    if (read_fingerprint(sync, fingerprint, sizeof(fingerprint)) != 0)
        return fail(sync, "cannot read revocations");
    if (strcmp(fingerprint, sync->fingerprint) == 0)
        return NULL;
    struct revocation_set *set = read_set(sync);
    if (set == NULL)
        return fail(sync, "cannot read revocations");
    if (sync->failing)
        log_info("revocations: database reachable again");
    sync->failing = 0;
    memcpy(sync->fingerprint, fingerprint, sizeof(fingerprint));
    return set;
}
