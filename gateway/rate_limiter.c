/*
 * rate_limiter.c — GCRA over a sharded open-addressing table; see
 * rate_limiter.h for the algorithm, the eviction rules and the thread rules.
 */
#include "gateway/rate_limiter.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#define DEFAULT_SHARDS 256
#define CACHE_LINE 64
#define HUGE_PAGE (2u << 20)

struct entry {
    uint64_t hash;        /* 0 = empty slot (a real fingerprint is never 0) */
    uint64_t fingerprint; /* independent of hash; never 0 */
    uint64_t tat;
};

/* One per shard, on its own cache line so two shards' locks never share one. */
struct shard {
    _Alignas(CACHE_LINE) atomic_flag lock;
    struct entry *slots;
    size_t mask;  /* slots - 1 */
    size_t count; /* entries held */
    size_t cap;   /* most entries held before evicting */
    /* Written under the lock, read by rate_limiter_stats without it. */
    _Atomic uint64_t evicted_idle;
    _Atomic uint64_t evicted_active;
};

struct rate_limiter {
    struct shard *shards;
    struct entry *slots; /* every shard's slots, one block */
    unsigned shard_bits;
    unsigned shard_count;
    size_t memory;
};

int rate_policy_init(struct rate_policy *policy, uint64_t limit, uint64_t period_ns, uint64_t burst)
{
    if (limit == 0 || period_ns == 0)
        return -1;
    uint64_t emission = period_ns / limit;
    if (emission == 0)
        return -1;
    /* tau + T and TAT + T must stay far from overflow: cap tau at 2^62 ns (~146 years). */
    if (burst > ((uint64_t)1 << 62) / emission)
        return -1;
    policy->limit = limit;
    policy->period_ns = period_ns;
    policy->burst = burst;
    policy->emission_ns = emission;
    policy->tolerance_ns = emission * burst;
    return 0;
}

/*
 * Two 64-bit values from one pass over the key: a multiply-xorshift mix over
 * 8-byte words, run with two seeds, each finished with the murmur3 finalizer.
 * The seeds and multipliers differ, so the fingerprint is not a function of
 * the hash; it is what tells two keys with the same hash apart.
 */
static inline uint64_t fmix64(uint64_t x)
{
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53ULL;
    x ^= x >> 33;
    return x;
}

static void key_hash(const void *key, size_t len, uint64_t *hash, uint64_t *fingerprint)
{
    const unsigned char *p = key;
    uint64_t a = 0x9e3779b97f4a7c15ULL ^ len, b = 0x6a09e667f3bcc909ULL ^ (len * 0x100000001b3ULL);
    while (len >= 8) {
        uint64_t w;
        memcpy(&w, p, 8);
        a = (a ^ w) * 0x87c37b91114253d5ULL;
        a ^= a >> 31;
        b = (b ^ w) * 0x4cf5ad432745937fULL;
        b ^= b >> 29;
        p += 8;
        len -= 8;
    }
    if (len > 0) {
        uint64_t w = 0;
        memcpy(&w, p, len);
        a = (a ^ w) * 0x87c37b91114253d5ULL;
        b = (b ^ w) * 0x4cf5ad432745937fULL;
    }
    *hash = fmix64(a);
    *fingerprint = fmix64(b ^ 0x510e527fade682d1ULL) | 1; /* never 0: 0 marks an empty slot */
}

static size_t pow2_at_least(size_t n)
{
    size_t p = 1;
    while (p < n)
        p <<= 1;
    return p;
}

struct rate_limiter *rate_limiter_new(size_t max_keys, unsigned shards)
{
    if (shards == 0)
        shards = DEFAULT_SHARDS;
    if (max_keys == 0 || (shards & (shards - 1)) != 0 || shards > (1u << 16))
        return NULL;
    struct rate_limiter *limiter = calloc(1, sizeof(*limiter));
    if (limiter == NULL)
        return NULL;
    limiter->shard_count = shards;
    while ((1u << limiter->shard_bits) < shards)
        limiter->shard_bits++;
    limiter->shards = aligned_alloc(CACHE_LINE, sizeof(struct shard) * shards);
    if (limiter->shards == NULL) {
        free(limiter);
        return NULL;
    }
    memset(limiter->shards, 0, sizeof(struct shard) * shards);
    limiter->memory = sizeof(*limiter) + sizeof(struct shard) * shards;

    /* Keys spread unevenly over shards: with several, give each 1/8 (+8) more than its even share. */
    size_t share = (max_keys + shards - 1) / shards;
    size_t cap = shards > 1 ? share + share / 8 + 8 : share;
    size_t slots = pow2_at_least(cap + cap / 3 + 1); /* load factor <= 3/4, and always one empty slot */
    /*
     * One block for every shard, in 2 MiB huge pages where the kernel allows:
     * with a million keys nearly every check touches a different 4 KiB page,
     * and a TLB miss costs as much as the cache miss itself.
     */
    size_t bytes = (size_t)shards * slots * sizeof(struct entry);
    size_t align = bytes >= HUGE_PAGE ? HUGE_PAGE : CACHE_LINE; /* small tables are not worth a 2 MiB page */
    bytes = (bytes + align - 1) / align * align;
    limiter->slots = aligned_alloc(align, bytes);
    if (limiter->slots == NULL) {
        rate_limiter_free(limiter);
        return NULL;
    }
#ifdef MADV_HUGEPAGE
    (void)madvise(limiter->slots, bytes, MADV_HUGEPAGE); /* advice only: 4 KiB pages work too */
#endif
    memset(limiter->slots, 0, bytes);
    limiter->memory += bytes;
    for (unsigned i = 0; i < shards; i++) {
        struct shard *s = &limiter->shards[i];
        atomic_flag_clear(&s->lock);
        s->slots = limiter->slots + (size_t)i * slots;
        s->mask = slots - 1;
        s->cap = cap;
    }
    return limiter;
}

void rate_limiter_free(struct rate_limiter *limiter)
{
    if (limiter == NULL)
        return;
    free(limiter->slots);
    free(limiter->shards);
    free(limiter);
}

static inline void shard_lock(struct shard *s)
{
    while (atomic_flag_test_and_set_explicit(&s->lock, memory_order_acquire)) {
#if defined(__x86_64__) || defined(__i386__)
        __builtin_ia32_pause();
#endif
    }
}

static inline void shard_unlock(struct shard *s)
{
    atomic_flag_clear_explicit(&s->lock, memory_order_release);
}

/* Home slot: the low bits of the hash (the high bits chose the shard). */
static inline size_t home_of(const struct shard *s, uint64_t hash)
{
    return (size_t)hash & s->mask;
}

/* Places an entry known not to be present; the shard always has an empty slot. */
static struct entry *shard_place(struct shard *s, const struct entry *e)
{
    size_t i = home_of(s, e->hash);
    while (s->slots[i].fingerprint != 0)
        i = (i + 1) & s->mask;
    s->slots[i] = *e;
    return &s->slots[i];
}

/*
 * Removes slot i by shifting later members of its probe run back (Knuth's
 * algorithm R), so linear probing needs no tombstones.
 */
static void shard_remove(struct shard *s, size_t i)
{
    size_t j = i;
    for (;;) {
        j = (j + 1) & s->mask;
        if (s->slots[j].fingerprint == 0)
            break;
        size_t home = home_of(s, s->slots[j].hash);
        /* Entry j may move to i only if its home is not cyclically in (i, j]. */
        int stays = i <= j ? (home > i && home <= j) : (home > i || home <= j);
        if (!stays) {
            s->slots[i] = s->slots[j];
            i = j;
        }
    }
    memset(&s->slots[i], 0, sizeof(s->slots[i]));
    s->count--;
}

/*
 * Drops every idle entry (TAT <= now) in one pass: clear them, then re-place
 * each remaining entry in probe order starting after an empty slot, which
 * closes the gaps the clearing left. O(slots), amortised over the entries it
 * frees. Returns how many it dropped.
 */
static size_t shard_sweep_idle(struct shard *s, uint64_t now)
{
    size_t dropped = 0;
    for (size_t i = 0; i <= s->mask; i++) {
        if (s->slots[i].fingerprint != 0 && s->slots[i].tat <= now) {
            memset(&s->slots[i], 0, sizeof(s->slots[i]));
            dropped++;
        }
    }
    if (dropped == 0)
        return 0;
    size_t start = 0;
    while (s->slots[start].fingerprint != 0)
        start++;
    for (size_t n = 1; n <= s->mask; n++) {
        size_t i = (start + n) & s->mask;
        if (s->slots[i].fingerprint == 0)
            continue;
        struct entry e = s->slots[i];
        memset(&s->slots[i], 0, sizeof(s->slots[i]));
        shard_place(s, &e);
    }
    s->count -= dropped;
    return dropped;
}

/* Makes room for one more entry in a full shard. */
static void shard_make_room(struct shard *s, uint64_t now)
{
    size_t dropped = shard_sweep_idle(s, now);
    if (dropped > 0) {
        atomic_fetch_add_explicit(&s->evicted_idle, dropped, memory_order_relaxed);
        return;
    }
    size_t oldest = 0;
    uint64_t oldest_tat = UINT64_MAX;
    for (size_t i = 0; i <= s->mask; i++) {
        if (s->slots[i].fingerprint != 0 && s->slots[i].tat < oldest_tat) {
            oldest_tat = s->slots[i].tat;
            oldest = i;
        }
    }
    shard_remove(s, oldest);
    atomic_fetch_add_explicit(&s->evicted_active, 1, memory_order_relaxed);
}

/* The GCRA step on one TAT; *tat is updated only when the request is allowed. */
static void gcra(const struct rate_policy *p, uint64_t *tat, uint64_t now, struct rate_limit_result *r)
{
    uint64_t t = *tat > now ? *tat : now;
    uint64_t ahead = t - now; /* how far the key is ahead of its steady rate */
    if (ahead > p->tolerance_ns) {
        r->allowed = 0;
        r->remaining = 0;
        r->reset_ns = ahead;
        r->retry_after_ns = ahead - p->tolerance_ns;
        return;
    }
    *tat = t + p->emission_ns;
    ahead += p->emission_ns;
    r->allowed = 1;
    /* The next request is allowed while ahead + k*T <= tau + T, i.e. k <= (tau + T - ahead) / T more. */
    r->remaining = (p->tolerance_ns + p->emission_ns - ahead) / p->emission_ns;
    r->reset_ns = ahead;
    r->retry_after_ns = 0;
}

void rate_limiter_check(struct rate_limiter *limiter, const struct rate_policy *policy, const void *key, size_t key_len,
                        uint64_t now_ns, struct rate_limit_result *result)
{
    uint64_t hash, fingerprint;
    key_hash(key, key_len, &hash, &fingerprint);
    struct shard *s = &limiter->shards[limiter->shard_bits == 0 ? 0 : hash >> (64 - limiter->shard_bits)];

    shard_lock(s);
    size_t i = home_of(s, hash);
    for (;;) {
        struct entry *e = &s->slots[i];
        if (e->fingerprint == 0)
            break;
        if (e->hash == hash && e->fingerprint == fingerprint) {
            gcra(policy, &e->tat, now_ns, result);
            shard_unlock(s);
            return;
        }
        i = (i + 1) & s->mask;
    }
    /* A new key starts with a full bucket (TAT = now). A refused request stores nothing, but a new key is never refused. */
    struct entry fresh = {.hash = hash, .fingerprint = fingerprint, .tat = now_ns};
    gcra(policy, &fresh.tat, now_ns, result);
    if (s->count >= s->cap) {
        shard_make_room(s, now_ns);
        shard_place(s, &fresh); /* slots moved: probe again */
    } else {
        s->slots[i] = fresh;
    }
    s->count++;
    shard_unlock(s);
}

void rate_limiter_stats(struct rate_limiter *limiter, struct rate_limiter_stats *stats)
{
    memset(stats, 0, sizeof(*stats));
    for (unsigned i = 0; i < limiter->shard_count; i++) {
        struct shard *s = &limiter->shards[i];
        shard_lock(s);
        stats->keys += s->count;
        shard_unlock(s);
        stats->evicted_idle += atomic_load_explicit(&s->evicted_idle, memory_order_relaxed);
        stats->evicted_active += atomic_load_explicit(&s->evicted_active, memory_order_relaxed);
    }
}

size_t rate_limiter_memory_bytes(const struct rate_limiter *limiter)
{
    return limiter->memory;
}

static uint64_t ceil_seconds(uint64_t ns)
{
    return ns / 1000000000ULL + (ns % 1000000000ULL != 0);
}

/* Writes name as an sf-string ("..." with " and \ escaped); -1 if a character is not printable ASCII or it does not fit. */
static int write_sf_string(const char *name, char *out, size_t size, size_t *len)
{
    size_t n = 0;
    if (size < 1)
        return -1;
    out[n++] = '"';
    for (const char *c = name; *c != '\0'; c++) {
        unsigned char ch = (unsigned char)*c;
        if (ch < 0x20 || ch > 0x7e)
            return -1;
        if (ch == '"' || ch == '\\') {
            if (n + 1 >= size)
                return -1;
            out[n++] = '\\';
        }
        if (n + 1 >= size)
            return -1;
        out[n++] = (char)ch;
    }
    if (n + 1 >= size)
        return -1;
    out[n++] = '"';
    out[n] = '\0';
    *len = n;
    return 0;
}

int rate_limit_header_values(const char *name, const struct rate_policy *policy, const struct rate_limit_result *result,
                             char *policy_value, size_t policy_size, char *limit_value, size_t limit_size)
{
    size_t plen, llen;
    if (policy_size > 0)
        policy_value[0] = '\0';
    if (limit_size > 0)
        limit_value[0] = '\0';
    if (write_sf_string(name, policy_value, policy_size, &plen) != 0 || write_sf_string(name, limit_value, limit_size, &llen) != 0)
        goto fail;
    uint64_t window = ceil_seconds(policy->period_ns);
    int n = snprintf(policy_value + plen, policy_size - plen, ";q=%llu;w=%llu", (unsigned long long)policy->limit,
                     (unsigned long long)(window == 0 ? 1 : window));
    if (n < 0 || (size_t)n >= policy_size - plen)
        goto fail;
    n = snprintf(limit_value + llen, limit_size - llen, ";r=%llu;t=%llu", (unsigned long long)result->remaining,
                 (unsigned long long)ceil_seconds(result->reset_ns));
    if (n < 0 || (size_t)n >= limit_size - llen)
        goto fail;
    return 0;
fail:
    if (policy_size > 0)
        policy_value[0] = '\0';
    if (limit_size > 0)
        limit_value[0] = '\0';
    return -1;
}
