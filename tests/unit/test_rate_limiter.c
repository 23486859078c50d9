/*
 * test_rate_limiter.c — GCRA exactness (counts, retry_after, remaining,
 * reset to the nanosecond), refusals that leave state alone, time going
 * backwards, eviction (idle is exact, oldest is counted), no lost updates
 * under threads, and the RateLimit header values.
 */
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "gateway/rate_limiter.h"
#include "tests/unit/test.h"

#define SEC 1000000000ULL

static int check(struct rate_limiter *rl, const struct rate_policy *p, const char *key, uint64_t now, struct rate_limit_result *r)
{
    rate_limiter_check(rl, p, key, strlen(key), now, r);
    return r->allowed;
}

static void test_policy(void)
{
    struct rate_policy p;
    CHECK(rate_policy_init(&p, 0, SEC, 0) == -1);
    CHECK(rate_policy_init(&p, 10, 0, 0) == -1);
    CHECK(rate_policy_init(&p, 10, 5, 0) == -1); /* T would be 0 ns */
    CHECK(rate_policy_init(&p, 1, SEC, UINT64_MAX) == -1);
    CHECK(rate_policy_init(&p, 100, 60 * SEC, 9) == 0);
    CHECK_INT_EQ(p.emission_ns, 600000000ULL);
    CHECK_INT_EQ(p.tolerance_ns, 9 * 600000000ULL);
}

/* 10 per second, burst 4: 5 at once, then exactly one per 100 ms. */
static void test_exactness(void)
{
    struct rate_limiter *rl = rate_limiter_new(64, 1);
    struct rate_policy p;
    struct rate_limit_result r;
    rate_policy_init(&p, 10, SEC, 4);
    const uint64_t T = 100000000ULL, t0 = 1000 * SEC;
    for (int i = 0; i < 5; i++) {
        CHECK(check(rl, &p, "k", t0, &r));
        CHECK_INT_EQ(r.remaining, 4 - i);
        CHECK_INT_EQ(r.reset_ns, (uint64_t)(i + 1) * T);
        CHECK_INT_EQ(r.retry_after_ns, 0);
    }
    CHECK(!check(rl, &p, "k", t0, &r));
    CHECK_INT_EQ(r.remaining, 0);
    CHECK_INT_EQ(r.retry_after_ns, T);
    CHECK_INT_EQ(r.reset_ns, 5 * T);
    /* One ns early is still refused, with exactly 1 ns to wait; on the dot it passes. */
    CHECK(!check(rl, &p, "k", t0 + T - 1, &r));
    CHECK_INT_EQ(r.retry_after_ns, 1);
    CHECK(check(rl, &p, "k", t0 + T, &r));
    CHECK_INT_EQ(r.remaining, 0);
    CHECK_INT_EQ(r.reset_ns, 5 * T);
    /* Steady state: over the next 10 s exactly 100 more pass when asked every 10 ms. */
    int allowed = 0;
    for (uint64_t t = t0 + T + SEC / 100; t <= t0 + T + 10 * SEC; t += SEC / 100)
        allowed += check(rl, &p, "k", t, &r);
    CHECK_INT_EQ(allowed, 100);
    /* After the bucket refills (reset), the whole burst is there again. */
    uint64_t later = t0 + 100 * SEC;
    for (int i = 0; i < 5; i++)
        CHECK(check(rl, &p, "k", later, &r));
    CHECK(!check(rl, &p, "k", later, &r));
    /* Keys are independent. */
    CHECK(check(rl, &p, "other", later, &r));
    CHECK_INT_EQ(r.remaining, 4);
    rate_limiter_free(rl);
}

/* burst 0: strict spacing; N in a window of N*T, the (N+1)st refused. */
static void test_no_burst(void)
{
    struct rate_limiter *rl = rate_limiter_new(64, 1);
    struct rate_policy p;
    struct rate_limit_result r;
    rate_policy_init(&p, 3, 3 * SEC, 0);
    CHECK(check(rl, &p, "a", 10 * SEC, &r));
    CHECK_INT_EQ(r.remaining, 0);
    CHECK(!check(rl, &p, "a", 10 * SEC, &r));
    CHECK_INT_EQ(r.retry_after_ns, SEC);
    CHECK(check(rl, &p, "a", 11 * SEC, &r));
    CHECK(check(rl, &p, "a", 12 * SEC, &r));
    CHECK(!check(rl, &p, "a", 12 * SEC + SEC / 2, &r));
    CHECK_INT_EQ(r.retry_after_ns, SEC / 2);
    rate_limiter_free(rl);
}

/* Many refusals in a row do not push the key further back. */
static void test_refusal_keeps_state(void)
{
    struct rate_limiter *rl = rate_limiter_new(64, 1);
    struct rate_policy p;
    struct rate_limit_result r;
    rate_policy_init(&p, 1, SEC, 1);
    CHECK(check(rl, &p, "k", 5 * SEC, &r));
    CHECK(check(rl, &p, "k", 5 * SEC, &r));
    for (int i = 0; i < 1000; i++) {
        CHECK(!check(rl, &p, "k", 5 * SEC, &r));
        CHECK_INT_EQ(r.retry_after_ns, SEC);
    }
    CHECK(check(rl, &p, "k", 6 * SEC, &r));
    rate_limiter_free(rl);
}

/* A clock that steps back only makes the key look further ahead. */
static void test_time_backwards(void)
{
    struct rate_limiter *rl = rate_limiter_new(64, 1);
    struct rate_policy p;
    struct rate_limit_result r;
    rate_policy_init(&p, 1, SEC, 2);
    CHECK(check(rl, &p, "k", 100 * SEC, &r)); /* TAT = 101 s */
    CHECK(check(rl, &p, "k", 99 * SEC, &r));  /* ahead 2 s <= tau: TAT = 102 s */
    CHECK(!check(rl, &p, "k", 99 * SEC, &r)); /* ahead 3 s > tau 2 s */
    CHECK_INT_EQ(r.retry_after_ns, SEC);
    CHECK_INT_EQ(r.reset_ns, 3 * SEC);
    CHECK(!check(rl, &p, "k", 10, &r)); /* far in the past: refused, nothing overflows */
    CHECK(check(rl, &p, "k", 100 * SEC, &r));
    rate_limiter_free(rl);
}

/* An idle key (bucket full again) evicted to make room behaves exactly like a fresh one. */
static void test_idle_eviction(void)
{
    struct rate_limiter *rl = rate_limiter_new(4, 1);
    struct rate_policy p;
    struct rate_limit_result r, fresh;
    struct rate_limiter_stats st;
    rate_policy_init(&p, 1, SEC, 2);
    CHECK(check(rl, &p, "a", 10 * SEC, &r));
    CHECK(check(rl, &p, "b", 10 * SEC, &r));
    CHECK(check(rl, &p, "c", 10 * SEC, &r));
    CHECK(check(rl, &p, "d", 10 * SEC, &r)); /* full: 4 keys, each TAT = 11 s */
    rate_limiter_stats(rl, &st);
    CHECK_INT_EQ(st.keys, 4);
    /* At 11 s every key is idle; a new key sweeps them all out. */
    CHECK(check(rl, &p, "e", 11 * SEC, &r));
    rate_limiter_stats(rl, &st);
    CHECK_INT_EQ(st.evicted_idle, 4);
    CHECK_INT_EQ(st.evicted_active, 0);
    CHECK_INT_EQ(st.keys, 1);
    /* "a" comes back: same answers as a never-seen key at the same time. */
    CHECK(check(rl, &p, "a", 11 * SEC, &r));
    CHECK(check(rl, &p, "never-seen", 11 * SEC, &fresh));
    CHECK_INT_EQ(r.remaining, fresh.remaining);
    CHECK_INT_EQ(r.reset_ns, fresh.reset_ns);
    CHECK_INT_EQ(r.remaining, 2);
    rate_limiter_free(rl);
}

/* More active keys than room: the oldest TAT goes, and it is counted. */
static void test_oldest_eviction(void)
{
    struct rate_limiter *rl = rate_limiter_new(3, 1);
    struct rate_policy p;
    struct rate_limit_result r;
    struct rate_limiter_stats st;
    rate_policy_init(&p, 1, 100 * SEC, 1);
    CHECK(check(rl, &p, "a", 1 * SEC, &r)); /* TAT 101 */
    CHECK(check(rl, &p, "b", 2 * SEC, &r)); /* TAT 102 */
    CHECK(check(rl, &p, "c", 3 * SEC, &r)); /* TAT 103 */
    CHECK(check(rl, &p, "b", 3 * SEC, &r)); /* TAT 202 */
    CHECK(check(rl, &p, "d", 4 * SEC, &r)); /* evicts "a", the oldest TAT */
    rate_limiter_stats(rl, &st);
    CHECK_INT_EQ(st.evicted_active, 1);
    CHECK_INT_EQ(st.evicted_idle, 0);
    CHECK_INT_EQ(st.keys, 3);
    /* "b" and "c" kept their state; "b" is out of burst. */
    CHECK(!check(rl, &p, "b", 4 * SEC, &r));
    CHECK(check(rl, &p, "c", 4 * SEC, &r));
    CHECK(!check(rl, &p, "c", 4 * SEC, &r));
    rate_limiter_free(rl);
}

/* Oldest eviction over many keys: removal inside probe runs must keep every remaining key findable. */
static void test_oldest_eviction_many(void)
{
    struct rate_limiter *rl = rate_limiter_new(100, 1);
    struct rate_policy p;
    struct rate_limit_result r;
    struct rate_limiter_stats st;
    char key[32];
    rate_policy_init(&p, 1, SEC, 0);
    for (int i = 0; i < 1000; i++) {
        snprintf(key, sizeof(key), "k%d", i);
        CHECK(check(rl, &p, key, (uint64_t)i, &r)); /* TAT = i + 1 s: all active, key i - 100 the oldest */
    }
    rate_limiter_stats(rl, &st);
    CHECK_INT_EQ(st.keys, 100);
    CHECK_INT_EQ(st.evicted_active, 900);
    int refused = 0;
    for (int i = 900; i < 1000; i++) {
        snprintf(key, sizeof(key), "k%d", i);
        refused += !check(rl, &p, key, 1000, &r); /* still held: refused, so nothing new is inserted */
    }
    CHECK_INT_EQ(refused, 100);
    rate_limiter_free(rl);
}

/* Many keys through a small sharded table with deletions: nothing lost or duplicated. */
static void test_many_keys(void)
{
    struct rate_limiter *rl = rate_limiter_new(20000, 16);
    struct rate_policy p;
    struct rate_limit_result r;
    struct rate_limiter_stats st;
    char key[32];
    rate_policy_init(&p, 1, SEC, 0);
    for (int i = 0; i < 20000; i++) {
        snprintf(key, sizeof(key), "client-%d", i);
        CHECK(check(rl, &p, key, SEC, &r));
    }
    int refused = 0;
    for (int i = 0; i < 20000; i++) {
        snprintf(key, sizeof(key), "client-%d", i);
        refused += !check(rl, &p, key, SEC, &r);
    }
    CHECK_INT_EQ(refused, 20000);
    rate_limiter_stats(rl, &st);
    CHECK_INT_EQ(st.keys, 20000);
    CHECK_INT_EQ(st.evicted_active, 0);
    /* A second generation at 2 s: the first is idle, and sweeping must keep every second-generation key findable. */
    int allowed = 0;
    for (int i = 0; i < 20000; i++) {
        snprintf(key, sizeof(key), "gen2-%d", i);
        allowed += check(rl, &p, key, 2 * SEC + (uint64_t)i, &r);
    }
    CHECK_INT_EQ(allowed, 20000);
    rate_limiter_stats(rl, &st);
    CHECK_INT_EQ(st.evicted_active, 0);
    CHECK(st.evicted_idle > 0);
    refused = 0;
    for (int i = 0; i < 20000; i++) {
        snprintf(key, sizeof(key), "gen2-%d", i);
        refused += !check(rl, &p, key, 2 * SEC + 20000, &r);
    }
    CHECK_INT_EQ(refused, 20000);
    rate_limiter_free(rl);
}

struct hammer {
    struct rate_limiter *rl;
    const struct rate_policy *p;
    int allowed;
};

static void *hammer_run(void *arg)
{
    struct hammer *h = arg;
    struct rate_limit_result r;
    for (int i = 0; i < 100000; i++) {
        rate_limiter_check(h->rl, h->p, "shared", 6, 50 * SEC, &r);
        h->allowed += r.allowed;
        rate_limiter_check(h->rl, h->p, "other", 5, 50 * SEC, &r); /* another key, likely another shard */
    }
    return NULL;
}

/* 4 threads, one key, a fixed clock: exactly burst + 1 pass in total — no lost updates. */
static void test_threads(void)
{
    struct rate_limiter *rl = rate_limiter_new(1024, 0);
    struct rate_policy p;
    rate_policy_init(&p, 1000, SEC, 999);
    struct hammer h[4];
    pthread_t tid[4];
    for (int i = 0; i < 4; i++) {
        h[i] = (struct hammer){.rl = rl, .p = &p};
        CHECK(pthread_create(&tid[i], NULL, hammer_run, &h[i]) == 0);
    }
    int total = 0;
    for (int i = 0; i < 4; i++) {
        pthread_join(tid[i], NULL);
        total += h[i].allowed;
    }
    CHECK_INT_EQ(total, 1000);
    rate_limiter_free(rl);
}

static void test_headers(void)
{
    struct rate_policy p;
    struct rate_limit_result r = {.allowed = 1, .remaining = 42, .reset_ns = 16 * SEC + 1};
    char pol[64], lim[64];
    rate_policy_init(&p, 100, 60 * SEC, 99);
    CHECK(rate_limit_header_values("default", &p, &r, pol, sizeof(pol), lim, sizeof(lim)) == 0);
    CHECK_STR_EQ(pol, "\"default\";q=100;w=60");
    CHECK_STR_EQ(lim, "\"default\";r=42;t=17");
    r.reset_ns = 0;
    r.remaining = 0;
    rate_policy_init(&p, 5, SEC / 2, 0); /* sub-second window rounds up to 1 s */
    CHECK(rate_limit_header_values("a\"b\\c", &p, &r, pol, sizeof(pol), lim, sizeof(lim)) == 0);
    CHECK_STR_EQ(pol, "\"a\\\"b\\\\c\";q=5;w=1");
    CHECK_STR_EQ(lim, "\"a\\\"b\\\\c\";r=0;t=0");
    CHECK(rate_limit_header_values("bad\n", &p, &r, pol, sizeof(pol), lim, sizeof(lim)) == -1);
    CHECK_STR_EQ(pol, "");
    CHECK(rate_limit_header_values("default", &p, &r, pol, 12, lim, sizeof(lim)) == -1);
    CHECK_STR_EQ(pol, "");
    CHECK_STR_EQ(lim, "");
}

int main(void)
{
    CHECK(rate_limiter_new(0, 1) == NULL);
    CHECK(rate_limiter_new(10, 3) == NULL); /* shards must be a power of two */
    test_policy();
    test_exactness();
    test_no_burst();
    test_refusal_keeps_state();
    test_time_backwards();
    test_idle_eviction();
    test_oldest_eviction();
    test_oldest_eviction_many();
    test_many_keys();
    test_threads();
    test_headers();
    return TEST_REPORT();
}
