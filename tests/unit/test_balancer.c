/*
 * test_balancer.c — smooth weighted round robin and least-in-flight picks.
 */
#include <string.h>

#include "routes/balancer.h"
#include "tests/unit/test.h"

/* Runs `picks` round-robin picks and writes them as letters ('a' = index 0, '-' = none) into `seq`. */
static void rr_sequence(const struct balancer_target *targets, size_t n, int *current, int picks, char *seq)
{
    for (int i = 0; i < picks; i++) {
        int pick = balancer_pick_round_robin(targets, n, current);
        seq[i] = pick < 0 ? '-' : (char)('a' + pick);
    }
    seq[picks] = '\0';
}

static void rr_counts(const struct balancer_target *targets, size_t n, int *current, int picks, int *counts)
{
    memset(counts, 0, n * sizeof(*counts));
    for (int i = 0; i < picks; i++) {
        int pick = balancer_pick_round_robin(targets, n, current);
        CHECK(pick >= 0 && (size_t)pick < n);
        if (pick >= 0 && (size_t)pick < n)
            counts[pick]++;
    }
}

static void test_rr_nginx_sequence(void)
{
    /* nginx's documented order for weights 5,1,1. */
    struct balancer_target t[] = {{5, 0, 1}, {1, 0, 1}, {1, 0, 1}};
    int current[3] = {0};
    char seq[64];
    rr_sequence(t, 3, current, 7, seq);
    CHECK_STR_EQ(seq, "aabacaa");
    /* A full cycle brings the state back to zero, so the next cycle repeats. */
    CHECK(current[0] == 0 && current[1] == 0 && current[2] == 0);
    rr_sequence(t, 3, current, 14, seq);
    CHECK_STR_EQ(seq, "aabacaaaabacaa");
}

static void test_rr_distribution(void)
{
    struct balancer_target t[] = {{5, 0, 1}, {3, 0, 1}, {2, 0, 1}};
    int current[3] = {0}, counts[3];
    rr_counts(t, 3, current, 10000, counts);
    CHECK_INT_EQ(counts[0], 5000);
    CHECK_INT_EQ(counts[1], 3000);
    CHECK_INT_EQ(counts[2], 2000);

    /*
     * Weights 5,1,1 over 10,000 picks: every window of 7 consecutive picks holds
     * exactly 5 a, 1 b and 1 c. The longest run of a's is 4, where one cycle's
     * "...caa" meets the next one's "aab..."; plain weighted round robin would
     * send 5 in a row.
     */
    enum { PICKS = 10000 };
    static int seq[PICKS];
    struct balancer_target u[] = {{5, 0, 1}, {1, 0, 1}, {1, 0, 1}};
    int state[3] = {0}, total[3] = {0}, run = 0, longest = 0, bad_windows = 0;
    for (int i = 0; i < PICKS; i++) {
        seq[i] = balancer_pick_round_robin(u, 3, state);
        CHECK(seq[i] >= 0 && seq[i] < 3);
        if (seq[i] < 0 || seq[i] >= 3)
            return;
        total[seq[i]]++;
        run = seq[i] == 0 ? run + 1 : 0;
        longest = run > longest ? run : longest;
    }
    for (int start = 0; start + 7 <= PICKS; start++) {
        int window[3] = {0};
        for (int i = start; i < start + 7; i++)
            window[seq[i]]++;
        bad_windows += !(window[0] == 5 && window[1] == 1 && window[2] == 1);
    }
    CHECK_INT_EQ(bad_windows, 0);
    CHECK_INT_EQ(longest, 4);
    /* 1428 full cycles, then "aaba". */
    CHECK_INT_EQ(total[0], 1428 * 5 + 3);
    CHECK_INT_EQ(total[1], 1428 + 1);
    CHECK_INT_EQ(total[2], 1428);
}

static void test_rr_equal_weights(void)
{
    struct balancer_target t[] = {{1, 0, 1}, {1, 0, 1}, {1, 0, 1}, {1, 0, 1}};
    int current[4] = {0};
    char seq[64];
    rr_sequence(t, 4, current, 8, seq);
    CHECK_STR_EQ(seq, "abcdabcd");
}

static void test_rr_ineligible(void)
{
    struct balancer_target t[] = {{5, 0, 0}, {1, 0, 1}, {1, 0, 1}};
    int current[3] = {0}, counts[3];
    rr_counts(t, 3, current, 1000, counts);
    CHECK_INT_EQ(counts[0], 0);
    CHECK_INT_EQ(counts[1], 500);
    CHECK_INT_EQ(counts[2], 500);
    /* The skipped target did not accumulate weight while it was out... */
    CHECK_INT_EQ(current[0], 0);
    /* ...so when it comes back it gets its share, not a burst for the picks it missed. */
    t[0].eligible = 1;
    char seq[64];
    rr_sequence(t, 3, current, 7, seq);
    CHECK_STR_EQ(seq, "aabacaa");

    /* A middle target taken out: its share goes to the others in proportion to their weights. */
    struct balancer_target u[] = {{2, 0, 1}, {3, 0, 0}, {1, 0, 1}};
    int state[3] = {0};
    rr_counts(u, 3, state, 9000, counts);
    CHECK_INT_EQ(counts[0], 6000);
    CHECK_INT_EQ(counts[1], 0);
    CHECK_INT_EQ(counts[2], 3000);
}

static void test_rr_none_eligible(void)
{
    struct balancer_target t[] = {{1, 0, 0}, {2, 0, 0}};
    int current[2] = {0};
    CHECK_INT_EQ(balancer_pick_round_robin(t, 2, current), -1);
    CHECK(current[0] == 0 && current[1] == 0);
    CHECK_INT_EQ(balancer_pick_round_robin(t, 0, current), -1);
    CHECK_INT_EQ(balancer_pick_least_in_flight(t, 2, current), -1);
    CHECK_INT_EQ(balancer_pick_least_in_flight(t, 0, current), -1);
    CHECK(current[0] == 0 && current[1] == 0);
}

static void test_rr_weight_zero_defended(void)
{
    /* The contract says weight >= 1; a 0 is treated as 1 rather than starving or pinning. */
    struct balancer_target t[] = {{0, 0, 1}, {1, 0, 1}};
    int current[2] = {0};
    char seq[8];
    rr_sequence(t, 2, current, 4, seq);
    CHECK_STR_EQ(seq, "abab");
}

static void test_lif_least_loaded(void)
{
    struct balancer_target t[] = {{1, 3, 1}, {1, 1, 1}, {1, 2, 1}};
    int current[3] = {0};
    for (int i = 0; i < 5; i++)
        CHECK_INT_EQ(balancer_pick_least_in_flight(t, 3, current), 1);
    /* The least loaded target is ineligible: the next least loaded one is chosen. */
    t[1].eligible = 0;
    CHECK_INT_EQ(balancer_pick_least_in_flight(t, 3, current), 2);
    CHECK_INT_EQ(current[1], 0);
}

static void test_lif_weight(void)
{
    /* 4 in flight on weight 4 is the same load as 1 in flight on weight 1. */
    struct balancer_target tied[] = {{4, 4, 1}, {1, 1, 1}};
    int current[2] = {0}, counts[2] = {0};
    for (int i = 0; i < 500; i++) {
        int pick = balancer_pick_least_in_flight(tied, 2, current);
        CHECK(pick == 0 || pick == 1);
        if (pick == 0 || pick == 1)
            counts[pick]++;
    }
    /* Equal loads are spread by weight, 4:1. */
    CHECK_INT_EQ(counts[0], 400);
    CHECK_INT_EQ(counts[1], 100);

    /* 3/4 < 1/1: the heavier target is less loaded despite more requests. */
    struct balancer_target heavy[] = {{4, 3, 1}, {1, 1, 1}};
    int state[2] = {0};
    CHECK_INT_EQ(balancer_pick_least_in_flight(heavy, 2, state), 0);
    /* 5/4 > 1/1. */
    heavy[0].in_flight = 5;
    CHECK_INT_EQ(balancer_pick_least_in_flight(heavy, 2, state), 1);

    /* Cross-multiplication does not overflow with large counts. */
    struct balancer_target big[] = {{1000, 4000000000u, 1}, {999, 4000000000u, 1}};
    int big_state[2] = {0};
    CHECK_INT_EQ(balancer_pick_least_in_flight(big, 2, big_state), 0);
}

static void test_lif_tie_round_robin(void)
{
    struct balancer_target t[] = {{1, 0, 1}, {1, 0, 1}, {1, 0, 1}};
    int current[3] = {0};
    char seq[16];
    for (int i = 0; i < 6; i++) {
        int pick = balancer_pick_least_in_flight(t, 3, current);
        seq[i] = pick < 0 ? '-' : (char)('a' + pick);
    }
    seq[6] = '\0';
    CHECK_STR_EQ(seq, "abcabc");

    /* Only the tied targets take part: c is busier and neither wins nor accumulates weight. */
    struct balancer_target u[] = {{1, 2, 1}, {1, 2, 1}, {1, 5, 1}};
    int state[3] = {0};
    for (int i = 0; i < 6; i++) {
        int pick = balancer_pick_least_in_flight(u, 3, state);
        seq[i] = pick < 0 ? '-' : (char)('a' + pick);
    }
    seq[6] = '\0';
    CHECK_STR_EQ(seq, "ababab");
    CHECK_INT_EQ(state[2], 0);
}

static void test_lif_simulated_load(void)
{
    /* Requests that never finish: the picks keep in_flight / weight level, so weights 3:1 get 3:1 of the work. */
    struct balancer_target t[] = {{3, 0, 1}, {1, 0, 1}};
    int current[2] = {0};
    for (int i = 0; i < 4000; i++) {
        int pick = balancer_pick_least_in_flight(t, 2, current);
        CHECK(pick == 0 || pick == 1);
        if (pick == 0 || pick == 1)
            t[pick].in_flight++;
    }
    CHECK_INT_EQ(t[0].in_flight, 3000);
    CHECK_INT_EQ(t[1].in_flight, 1000);
}

int main(void)
{
    test_rr_nginx_sequence();
    test_rr_distribution();
    test_rr_equal_weights();
    test_rr_ineligible();
    test_rr_none_eligible();
    test_rr_weight_zero_defended();
    test_lif_least_loaded();
    test_lif_weight();
    test_lif_tie_round_robin();
    test_lif_simulated_load();
    return TEST_REPORT();
}
