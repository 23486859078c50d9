/*
 * key_sync.h — keeps a node's copy of the signing keys in step with MariaDB.
 *
 * `yiwang keys rotate` on any node (or an operator's script) changes the
 * signing_keys table; every gateway polls a cheap fingerprint of the keys in
 * service once a second and, when it changes, loads them (opening the active
 * private key with the master key) so the caller can publish a new snapshot:
 * rotation reaches every node within seconds. When the database is
 * unreachable the last keys loaded stay in use and the outage is logged once.
 *
 * Main thread only (blocking database calls); never on an event loop.
 */
#ifndef YIWANG_GATEWAY_KEY_SYNC_H
#define YIWANG_GATEWAY_KEY_SYNC_H

#include "auth/signing_keys.h"
#include "common/config.h"

struct key_sync;

/* NULL and a malloc'ed *err when the master key file is configured but unusable (a start-up error). */
struct key_sync *key_sync_new(const struct config *config, char **err);
void key_sync_free(struct key_sync *sync);

enum key_sync_result {
    KEY_SYNC_UNCHANGED,
    KEY_SYNC_CHANGED,     /* key_sync_keys() is a new set */
    KEY_SYNC_UNAVAILABLE, /* no database configured, or it cannot be read now */
};

enum key_sync_result key_sync_poll(struct key_sync *sync);
/* The master key, or NULL when none is configured. */
const struct secrets_master *key_sync_master(const struct key_sync *sync);
/* The last set loaded (empty before the first successful poll). */
const struct signing_key_set *key_sync_keys(const struct key_sync *sync);
/* Whether the last poll reached the database (1), failed (0), or none is configured (-1). */
int key_sync_database_state(const struct key_sync *sync);

#endif
