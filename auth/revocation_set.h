/*
 * revocation_set.h — access tokens that must stop working before they expire.
 *
 * Access tokens are verified locally and cached, so a logout or a revocation
 * has to reach every node as data: the set of ended SSO sessions (by the
 * token's `sid`) and of revoked tokens (by `jti`). A node rebuilds the set
 * from the database every second and hands it to each event-loop thread;
 * the proxy path then looks a token up in the thread's current set — one hash
 * probe, no lock. An entry is kept only as long as a token it covers could
 * still be valid (its expiry), so the set stays small.
 *
 * Threads: built by the main thread, immutable afterwards, refcounted
 * (atomically) so threads can drop their reference when they adopt a newer set.
 */
#ifndef YIWANG_AUTH_REVOCATION_SET_H
#define YIWANG_AUTH_REVOCATION_SET_H

#include <stddef.h>
#include <stdint.h>

enum revocation_kind {
    REVOKED_SESSION = 's', /* every token with this sid */
    REVOKED_TOKEN = 'j',   /* the token with this jti */
};

struct revocation_set;

struct revocation_set *revocation_set_new(size_t expected);
/* Adds while building (before the set is shared). Values longer than 127 bytes are ignored: no token carries them. */
void revocation_set_add(struct revocation_set *set, enum revocation_kind kind, const char *value);
int revocation_set_contains(const struct revocation_set *set, enum revocation_kind kind, const char *value);
size_t revocation_set_size(const struct revocation_set *set);

void revocation_set_retain(struct revocation_set *set);
void revocation_set_release(struct revocation_set *set);

#endif
