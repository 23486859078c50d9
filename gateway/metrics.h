/*
 * metrics.h — request counters and latency histograms, Prometheus text output.
 *
 * Owns: the registry and every series in it. Series are created by name when
 * a snapshot is built (control path, under the registry's mutex) and live as
 * long as the registry, so counters survive reloads and a route that comes
 * back keeps counting where it left off.
 *
 * Hot path: each series has one cache-line-aligned slot per event-loop thread.
 * A thread only ever writes its own slot, with a relaxed load + store (no
 * atomic read-modify-write, no lock); the scraper sums the slots with relaxed
 * loads. Gauges that live elsewhere (in-flight counts, target health) are
 * rendered by the caller.
 */
#ifndef YIWANG_GATEWAY_METRICS_H
#define YIWANG_GATEWAY_METRICS_H

#include <stdatomic.h>
#include <stdint.h>

#include "common/strbuf.h"

#define METRICS_LATENCY_BUCKETS 14
#define METRICS_TOKEN_REASONS 16 /* > the number of enum jwt_status values */

struct metrics_registry;

struct route_series;   /* requests by route and status class */
struct latency_series; /* request duration histogram, per service */

struct thread_counters {
    atomic_ullong connections_accepted;
    atomic_ullong connections_closed;
    atomic_ullong requests;
    atomic_ullong upstream_retries;
    atomic_ullong rejected_capacity;                     /* 503 service_at_capacity */
    atomic_ullong requests_timed_out;                    /* 408: a request arrived too slowly */
    atomic_ullong connections_reset_abuse;               /* HTTP/2 connections closed for resetting too many streams */
    atomic_ullong token_refusals[METRICS_TOKEN_REASONS]; /* access tokens refused, by enum jwt_status */
} __attribute__((aligned(64)));                          /* one cache line per thread: no false sharing */

struct metrics_registry *metrics_registry_new(unsigned num_threads);
void metrics_registry_free(struct metrics_registry *registry);

/* Find-or-create. Control path only (takes the registry mutex). */
struct route_series *metrics_route_series(struct metrics_registry *registry, const char *route, const char *service);
struct latency_series *metrics_latency_series(struct metrics_registry *registry, const char *service);
struct thread_counters *metrics_thread_counters(struct metrics_registry *registry, unsigned thread);

/* Hot path: only the owning thread writes its slot. */
void metrics_count_response(struct route_series *series, unsigned thread, int status);
void metrics_observe_latency(struct latency_series *series, unsigned thread, uint64_t duration_us);

static inline void metrics_counter_add(atomic_ullong *counter, unsigned long long n)
{
    atomic_store_explicit(counter, atomic_load_explicit(counter, memory_order_relaxed) + n, memory_order_relaxed);
}

/* Appends every counter and histogram in Prometheus text format 0.0.4. */
void metrics_render(struct metrics_registry *registry, struct strbuf *out);

/* Appends `value` escaped for a Prometheus label value (\\, \", \n). */
void metrics_append_label_value(struct strbuf *out, const char *value);

#endif
