/*
 * rate_limiter.h — per-key rate limiting with GCRA (issue 5), the core only:
 * policies, the counter table and the RateLimit header values. Not yet wired
 * into the proxy path.
 *
 * Algorithm (GCRA, the "virtual scheduling" form). A key's whole state is one
 * 64-bit TAT, its theoretical arrival time in nanoseconds. A policy allows
 * `limit` requests per `period_ns`, so the emission interval is
 * T = period_ns / limit (integer ns; a policy whose T would be 0 is refused)
 * and the tolerance is tau = T * burst. A request at `now`:
 *
 *     tat     = max(TAT, now)
 *     allowed = tat - now <= tau         (equivalently tat + T - now <= tau + T)
 *     if allowed: TAT = tat + T          (a refusal never changes TAT)
 *
 * Burst semantics, exactly: from a full bucket (a fresh or idle key) burst + 1
 * requests may arrive at the same instant; the (burst + 2)nd is refused with
 * retry_after = T. After that one request is allowed every T, so over any
 * period the total is at most limit + burst. burst = 0 means strict spacing.
 * (This is the classic GCRA / redis-cell convention: burst counts the
 * requests beyond the one the steady rate allows.)
 *
 * Storage. The table is sharded: a key's 64-bit hash picks one of `shards`
 * (a power of two, 256 by default) and a slot inside it. Each shard is an
 * open-addressing table with linear probing, guarded by its own spinlock, so
 * there is no global lock: two checks contend only when their keys fall in
 * the same shard (1/256 for random keys), and a critical section is a few
 * dozen instructions. A per-shard lock was chosen over a lock-free CAS on the
 * TAT because inserting and evicting move entries, which a CAS on one word
 * cannot do safely; over per-thread tables because a key's requests arrive
 * on whichever event-loop thread holds the connection and the limit must be
 * exact across threads.
 *
 * Keys are not stored. An entry is {hash, fingerprint, TAT} = 24 bytes: the
 * hash and a second, independently seeded 64-bit fingerprint of the key
 * bytes; two keys share counters only if both 64-bit values collide (about
 * n^2 / 2^129 for n keys — for 10^6 keys, ~10^-27). The table is sized once,
 * at creation, at a load factor of at most 3/4; 1,000,000 keys take 256 shards
 * x 8,192 slots x 24 bytes = 48 MiB (rate_limiter_memory_bytes()).
 *
 * Eviction. A shard holds at most its share of max_keys (plus 1/8 slack for
 * uneven hashing when there are several shards). Inserting into a full shard
 * first drops every idle entry — one whose TAT <= now. That is exact: such a
 * key's bucket is full again, and a fresh key (no entry) is treated as
 * TAT = now, which gives the same decision, remaining and reset as any
 * TAT <= now (max(TAT, now) = now). Only if nothing is idle (more keys active
 * at once than the table holds) is the entry with the oldest TAT — the one
 * closest to idle — dropped; that does change a decision (the key gets a full
 * bucket early) and is counted in rate_limiter_stats().evicted_active.
 *
 * Time is whatever monotonic nanosecond clock the caller passes. A `now`
 * earlier than a previous one is handled: it only makes tat - now larger, so
 * going backwards can refuse more, never allow more.
 *
 * Threads: rate_limiter_check may be called from any number of threads at
 * once. rate_limiter_new / rate_limiter_free are not thread-safe with
 * anything else. Policies are plain values, read-only after
 * rate_policy_init. The caller owns the limiter.
 */
#ifndef YIWANG_GATEWAY_RATE_LIMITER_H
#define YIWANG_GATEWAY_RATE_LIMITER_H

#include <stddef.h>
#include <stdint.h>

struct rate_policy {
    uint64_t limit;        /* requests ... */
    uint64_t period_ns;    /* ... per this many ns */
    uint64_t burst;        /* extra requests allowed at once, see above */
    uint64_t emission_ns;  /* T = period_ns / limit */
    uint64_t tolerance_ns; /* tau = T * burst */
};

struct rate_limit_result {
    int allowed;
    uint64_t remaining;      /* requests still allowed right now (after this one, if allowed) */
    uint64_t reset_ns;       /* ns until the bucket is full again */
    uint64_t retry_after_ns; /* refused: ns until a request would be allowed; 0 when allowed */
};

struct rate_limiter_stats {
    uint64_t keys;           /* entries held now */
    uint64_t evicted_idle;   /* idle entries dropped to make room (exact, harmless) */
    uint64_t evicted_active; /* active entries dropped because the table was full (changes decisions) */
};

/* Fills *policy; returns -1 (policy untouched) if limit or period is 0, T would be 0 or tau overflows. */
int rate_policy_init(struct rate_policy *policy, uint64_t limit, uint64_t period_ns, uint64_t burst);

struct rate_limiter;

/* Room for max_keys active keys in `shards` shards (a power of two; 0 = 256). NULL on bad arguments or no memory. */
struct rate_limiter *rate_limiter_new(size_t max_keys, unsigned shards);
void rate_limiter_free(struct rate_limiter *limiter);

/*
 * One request for `key` under `policy` at `now_ns`. The caller includes the
 * policy's name in the key when one client is limited by several policies:
 * the table keeps one TAT per key. Always fills *result.
 */
void rate_limiter_check(struct rate_limiter *limiter, const struct rate_policy *policy, const void *key, size_t key_len,
                        uint64_t now_ns, struct rate_limit_result *result);

void rate_limiter_stats(struct rate_limiter *limiter, struct rate_limiter_stats *stats);
/* Bytes the limiter allocated (fixed at creation). */
size_t rate_limiter_memory_bytes(const struct rate_limiter *limiter);

/*
 * The RateLimit-Policy and RateLimit field values
 * (draft-ietf-httpapi-ratelimit-headers-10/-11, structured-field lists):
 *
 *     RateLimit-Policy: "default";q=100;w=60
 *     RateLimit: "default";r=42;t=17
 *
 * q = limit, w = period in seconds (rounded up, at least 1), r = remaining,
 * t = reset in seconds (rounded up). `name` is the policy identifier, written
 * as an sf-string (" and \ escaped); it must be printable ASCII. Returns 0, or
 * -1 if a name character is not allowed or a buffer is too small (the
 * buffers then hold an empty string). Pure: no state, no allocation.
 */
int rate_limit_header_values(const char *name, const struct rate_policy *policy, const struct rate_limit_result *result,
                             char *policy_value, size_t policy_size, char *limit_value, size_t limit_size);

#endif
