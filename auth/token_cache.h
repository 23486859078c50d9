/*
 * token_cache.h — a thread's memory of access tokens it has already verified.
 *
 * Verifying an ES256 signature costs ~70 µs; a mobile app sends the same
 * token on every request for its whole 10-minute life. Each event-loop thread
 * keeps a direct-mapped cache: one slot per hash bucket, a newer token simply
 * replaces an older one, so memory is bounded by the slot count and lookups
 * are O(1) with no lock. Entries remember the keyset generation they were
 * verified under and their expiry, so a key rotation or reload, and the
 * passing of `exp`, turn them into misses.
 *
 * Owned by one event-loop thread; never shared.
 */
#ifndef YIWANG_AUTH_TOKEN_CACHE_H
#define YIWANG_AUTH_TOKEN_CACHE_H

#include <stddef.h>
#include <stdint.h>

#include "auth/jwt_verify.h"

struct token_cache;

/* `slots` is rounded up to a power of two. */
struct token_cache *token_cache_new(size_t slots);
void token_cache_free(struct token_cache *cache);

/* Picks the slot; cheap (it reads the token's last 64 bytes), since every request with a token computes it. */
uint64_t token_cache_hash(const char *token, size_t len);

/* The claims of a token verified under `generation` that is still valid at `now`, or NULL. */
const struct jwt_claims *token_cache_get(struct token_cache *cache, const char *token, size_t len, uint64_t hash,
                                         uint64_t generation, int64_t now);
/* Remembers a verified token until `valid_until` (its exp plus the allowed skew). */
const struct jwt_claims *token_cache_put(struct token_cache *cache, const char *token, size_t len, uint64_t hash,
                                         uint64_t generation, int64_t valid_until, const struct jwt_claims *claims);

#endif
