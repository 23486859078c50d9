/*
 * balancer.h — choose an upstream target among the eligible ones.
 *
 * Pure selection logic, no I/O. The caller (the proxy, on an event-loop
 * thread) passes the per-target facts it reads from shared state and owns the
 * per-thread `state` arrays, so picking takes no lock.
 */
#ifndef YIWANG_ROUTES_BALANCER_H
#define YIWANG_ROUTES_BALANCER_H

#include <stddef.h>

struct balancer_target {
    unsigned weight;    /* >= 1 */
    unsigned in_flight; /* requests currently sent to this target */
    int eligible;       /* healthy, not ejected, not already tried for this request */
};

/*
 * Smooth weighted round robin (as in nginx): over a full cycle each eligible
 * target is picked in proportion to its weight, interleaved rather than in
 * bursts. `current` is the caller's state, one int per target, zeroed at start.
 * Returns the chosen index, or -1 when no target is eligible.
 */
int balancer_pick_round_robin(const struct balancer_target *targets, size_t n, int *current);

/*
 * Least in flight: the eligible target with the smallest in_flight / weight.
 * Ties are broken by smooth weighted round robin over the tied targets using
 * `current`, so equal loads still spread by weight.
 */
int balancer_pick_least_in_flight(const struct balancer_target *targets, size_t n, int *current);

#endif
