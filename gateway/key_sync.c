#include "gateway/key_sync.h"

#include <stdlib.h>
#include <string.h>

#include "common/db_open.h"
#include "common/log.h"
#include "common/xalloc.h"

struct key_sync {
    struct database_config database; /* borrowed strings: the boot config outlives this */
    struct secrets_master *master;
    enum jwt_alg signing_alg;
    struct db *db;
    struct signing_key_set keys;
    int state; /* -1 no database, 0 failing, 1 fine */
};

struct key_sync *key_sync_new(const struct config *config, char **err)
{
    struct key_sync *sync = xcalloc(1, sizeof(*sync));
    sync->database = config->database;
    sync->state = config->database.dsn != NULL ? 0 : -1;
    sync->signing_alg = config->identity.signing_alg != NULL && strcmp(config->identity.signing_alg, "RS256") == 0
                            ? JWT_ALG_RS256_PINNED
                            : JWT_ALG_ES256_PINNED;
    if (config->identity.master_key_file != NULL) {
        char reason[256];
        if ((sync->master = secrets_master_load(config->identity.master_key_file, reason, sizeof(reason))) == NULL) {
            *err = xasprintf("identity.master_key_file: %s", reason);
            free(sync);
            return NULL;
        }
    }
    return sync;
}

void key_sync_free(struct key_sync *sync)
{
    if (sync == NULL)
        return;
    db_close(sync->db);
    secrets_master_free(sync->master);
    signing_key_set_clear(&sync->keys);
    free(sync);
}

/* Logs only when the state changes, so an outage is one line, not one per second. */
static void set_state(struct key_sync *sync, int ok, const char *err)
{
    if (ok && sync->state != 1)
        log_info("signing keys: database reachable");
    else if (!ok && sync->state != 0)
        log_error("signing keys: database unavailable, keeping the keys loaded before: %s", err);
    sync->state = ok;
}

static enum key_sync_result fail(struct key_sync *sync, char *err)
{
    set_state(sync, 0, err);
    free(err);
    if (sync->db != NULL && db_error_is_connection_lost(sync->db)) {
        db_close(sync->db);
        sync->db = NULL;
    }
    return KEY_SYNC_UNAVAILABLE;
}

enum key_sync_result key_sync_poll(struct key_sync *sync)
{
    if (sync->state < 0)
        return KEY_SYNC_UNAVAILABLE;
    char *err = NULL;
    if (sync->db == NULL && (sync->db = db_open_configured(&sync->database, &err)) == NULL)
        return fail(sync, err);
    char *fingerprint = signing_keys_fingerprint(sync->db, &err);
    if (fingerprint == NULL)
        return fail(sync, err);
    set_state(sync, 1, NULL);
    if (sync->keys.fingerprint != NULL && strcmp(fingerprint, sync->keys.fingerprint) == 0) {
        free(fingerprint);
        return KEY_SYNC_UNCHANGED;
    }
    free(fingerprint);
    struct signing_key_set keys;
    if (signing_keys_load(sync->db, sync->master, sync->signing_alg, &keys, &err) != 0)
        return fail(sync, err);
    signing_key_set_clear(&sync->keys);
    sync->keys = keys;
    log_info("signing keys: %zu in service, signing with %s", keys.num_keys, keys.active.pkey != NULL ? keys.active.kid : "(none)");
    return KEY_SYNC_CHANGED;
}

const struct secrets_master *key_sync_master(const struct key_sync *sync)
{
    return sync->master;
}

const struct signing_key_set *key_sync_keys(const struct key_sync *sync)
{
    return &sync->keys;
}

int key_sync_database_state(const struct key_sync *sync)
{
    return sync->state;
}
