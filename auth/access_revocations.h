/*
 * access_revocations.h — single access tokens revoked before they expire
 * (table revoked_access_tokens), by their jti.
 *
 * Access tokens are JWTs checked without the database, so revoking one means
 * publishing its jti: gateway/revocation_sync.h reads the rows of tokens
 * that could still be valid into every node's revocation set once a second,
 * and the proxy path refuses them from then on. A row is useful until the
 * token's own expiry (plus the clock skew); access_revocations_sweep deletes
 * older ones.
 *
 * Threads: functions taking a `struct db` block (workers). Nothing logs.
 */
#ifndef YIWANG_AUTH_ACCESS_REVOCATIONS_H
#define YIWANG_AUTH_ACCESS_REVOCATIONS_H

#include <stdint.h>

#include "common/db.h"

enum access_revocation_reason {
    ACCESS_REVOKED_BY_CLIENT,  /* "client_revoked": RFC 7009 revocation by the token's own client */
    ACCESS_REVOKED_CODE_REUSE, /* "code_reuse": issued for an authorization code that was used again */
};

/* Revokes the token `jti` of `client_id` that expires at `expires_at` (Unix seconds). Revoking twice is fine. 0 or -1. */
int access_revocations_add(struct db *db, const char *jti, const char *client_id, int64_t expires_at,
                           enum access_revocation_reason reason, char **err);
/* Has `jti` been revoked? 1, 0, or -1 on error. */
int access_revocations_contains(struct db *db, const char *jti, char **err);
/* Deletes up to `limit` rows whose token expired more than `grace_s` ago. The number deleted, or -1. */
long access_revocations_sweep(struct db *db, unsigned grace_s, unsigned limit, char **err);

#endif
