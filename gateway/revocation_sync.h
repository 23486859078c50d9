/*
 * revocation_sync.h — feeds the proxy path's revocation set from MariaDB.
 *
 * Once a second the main thread asks the database which SSO sessions ended
 * recently enough that tokens issued under them could still be valid (within
 * the access-token lifetime plus the clock skew), and which single access
 * tokens were revoked (auth/access_revocations.h) and have not yet expired
 * (plus the skew). When either list changed, it
 * builds a new auth/revocation_set.h set and the caller hands it to every
 * event-loop thread: a logout on any node stops the session's access tokens
 * on every node within about a second. While the database is unreachable the
 * last set stays in force.
 *
 * About once a minute it also deletes revoked-token rows past their expiry:
 * the main thread already holds a connection and blocks on it, so no event
 * loop and no request pays for the sweep.
 *
 * Main thread only (blocking database calls).
 */
#ifndef YIWANG_GATEWAY_REVOCATION_SYNC_H
#define YIWANG_GATEWAY_REVOCATION_SYNC_H

#include "auth/revocation_set.h"
#include "common/config.h"

struct revocation_sync;

/* NULL when no database is configured (nothing to sync). */
struct revocation_sync *revocation_sync_new(const struct config *config);
void revocation_sync_free(struct revocation_sync *sync);

/* Returns a new set (the caller owns the reference) when the revocations changed, else NULL. */
struct revocation_set *revocation_sync_poll(struct revocation_sync *sync);

#endif
