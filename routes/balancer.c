/*
 * balancer.c — smooth weighted round robin and least-in-flight selection.
 *
 * Smooth WRR is nginx's (ngx_http_upstream_get_peer): every pick adds each
 * candidate's weight to its `current`, takes the largest and subtracts the
 * candidates' total weight from the winner. Over a cycle of total-weight picks
 * each candidate wins exactly `weight` times, and a heavy target's wins are
 * spread through the cycle instead of coming in one burst (5,1,1 gives
 * a a b a c a a).
 *
 * Only candidates take part in a pick: an ineligible target's `current` is
 * left as it is, so a target that comes back after an outage does not cash in
 * the weight of the picks it missed as a burst of requests.
 */
#include "routes/balancer.h"

/*
 * Weights are clamped to the range the configuration allows (1..1000) so that
 * `current`, which stays within a small multiple of the total weight, cannot
 * overflow an int for any realistic number of targets. A weight of 0 would
 * add nothing to `current` and let one target win every tie forever.
 */
#define WEIGHT_MAX 1000

static int clamped_weight(const struct balancer_target *t)
{
    if (t->weight == 0)
        return 1;
    return t->weight > WEIGHT_MAX ? WEIGHT_MAX : (int)t->weight;
}

/* Orders two loads in_flight / weight without division: <0, 0 or >0 like strcmp. */
static int compare_load(const struct balancer_target *a, const struct balancer_target *b)
{
    unsigned long long left = (unsigned long long)a->in_flight * (unsigned long long)clamped_weight(b);
    unsigned long long right = (unsigned long long)b->in_flight * (unsigned long long)clamped_weight(a);
    return (left > right) - (left < right);
}

/*
 * One smooth WRR step over the eligible targets, restricted to those whose
 * load equals `*load_of` when it is not NULL. Returns the pick or -1.
 */
static int pick_smooth(const struct balancer_target *targets, size_t n, int *current, const struct balancer_target *load_of)
{
    int best = -1;
    int total = 0;
    for (size_t i = 0; i < n; i++) {
        const struct balancer_target *t = &targets[i];
        if (!t->eligible || (load_of != NULL && compare_load(t, load_of) != 0))
            continue;
        int weight = clamped_weight(t);
        current[i] += weight;
        total += weight;
        if (best < 0 || current[i] > current[best])
            best = (int)i;
    }
    if (best >= 0)
        current[best] -= total;
    return best;
}

int balancer_pick_round_robin(const struct balancer_target *targets, size_t n, int *current)
{
    return pick_smooth(targets, n, current, NULL);
}

int balancer_pick_least_in_flight(const struct balancer_target *targets, size_t n, int *current)
{
    const struct balancer_target *least = NULL;
    for (size_t i = 0; i < n; i++) {
        if (targets[i].eligible && (least == NULL || compare_load(&targets[i], least) < 0))
            least = &targets[i];
    }
    if (least == NULL)
        return -1;
    return pick_smooth(targets, n, current, least);
}
