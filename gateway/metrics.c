#include "gateway/metrics.h"

#include <pthread.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "auth/jwt_verify.h"
#include "common/strmap.h"
#include "common/xalloc.h"

/* Upper bounds in microseconds: 1 ms .. 30 s, then +Inf. */
static const uint64_t latency_bounds_us[METRICS_LATENCY_BUCKETS] = {1000,   2500,   5000,    10000,   25000,   50000,    100000,
                                                                    250000, 500000, 1000000, 2500000, 5000000, 10000000, 30000000};

#define STATUS_CLASSES 5 /* 1xx .. 5xx */

struct route_slot {
    atomic_ullong by_class[STATUS_CLASSES];
} __attribute__((aligned(64)));

struct route_series {
    char *route;
    char *service;
    struct route_slot *slots; /* one per thread */
};

struct latency_slot {
    atomic_ullong buckets[METRICS_LATENCY_BUCKETS + 1]; /* last = +Inf */
    atomic_ullong sum_us;
    atomic_ullong count;
} __attribute__((aligned(64)));

struct latency_series {
    char *service;
    struct latency_slot *slots;
};

struct metrics_registry {
    unsigned num_threads;
    pthread_mutex_t mutex;
    struct strmap routes;    /* name -> route_series */
    struct strmap latencies; /* service -> latency_series */
    struct thread_counters *threads;
};

static void *alloc_slots(unsigned count, size_t size)
{
    void *p = NULL;
    if (posix_memalign(&p, 64, (size_t)count * size) != 0)
        abort();
    memset(p, 0, (size_t)count * size);
    return p;
}

struct metrics_registry *metrics_registry_new(unsigned num_threads)
{
    struct metrics_registry *registry = xcalloc(1, sizeof(*registry));
    registry->num_threads = num_threads;
    pthread_mutex_init(&registry->mutex, NULL);
    registry->threads = alloc_slots(num_threads, sizeof(struct thread_counters));
    return registry;
}

void metrics_registry_free(struct metrics_registry *registry)
{
    if (registry == NULL)
        return;
    strmap_foreach(&registry->routes, e)
    {
        struct route_series *series = e->value;
        free(series->route);
        free(series->service);
        free(series->slots);
        free(series);
    }
    strmap_foreach(&registry->latencies, e)
    {
        struct latency_series *series = e->value;
        free(series->service);
        free(series->slots);
        free(series);
    }
    strmap_clear(&registry->routes);
    strmap_clear(&registry->latencies);
    free(registry->threads);
    pthread_mutex_destroy(&registry->mutex);
    free(registry);
}

struct route_series *metrics_route_series(struct metrics_registry *registry, const char *route, const char *service)
{
    pthread_mutex_lock(&registry->mutex);
    struct route_series *series = strmap_get(&registry->routes, route, strlen(route));
    if (series != NULL && strcmp(series->service, service) != 0) {
        /* The route now points at another service: relabel by replacing the series (old counts stay with the old
         * series object, which in-flight requests of the previous snapshot may still write to). */
        series = NULL;
    }
    if (series == NULL) {
        series = xcalloc(1, sizeof(*series));
        series->route = xstrdup(route);
        series->service = xstrdup(service);
        series->slots = alloc_slots(registry->num_threads, sizeof(struct route_slot));
        struct route_series *replaced = strmap_put(&registry->routes, route, strlen(route), series);
        if (replaced != NULL) {
            /* Keep it reachable for writers of the old snapshot but out of the output: park it under a unique key. */
            char *key = xasprintf("\x01%p", (void *)replaced);
            strmap_put(&registry->routes, key, strlen(key), replaced);
            free(key);
        }
    }
    pthread_mutex_unlock(&registry->mutex);
    return series;
}

struct latency_series *metrics_latency_series(struct metrics_registry *registry, const char *service)
{
    pthread_mutex_lock(&registry->mutex);
    struct latency_series *series = strmap_get(&registry->latencies, service, strlen(service));
    if (series == NULL) {
        series = xcalloc(1, sizeof(*series));
        series->service = xstrdup(service);
        series->slots = alloc_slots(registry->num_threads, sizeof(struct latency_slot));
        strmap_put(&registry->latencies, service, strlen(service), series);
    }
    pthread_mutex_unlock(&registry->mutex);
    return series;
}

struct thread_counters *metrics_thread_counters(struct metrics_registry *registry, unsigned thread)
{
    return &registry->threads[thread];
}

void metrics_count_response(struct route_series *series, unsigned thread, int status)
{
    int cls = status / 100 - 1;
    if (cls < 0 || cls >= STATUS_CLASSES)
        cls = STATUS_CLASSES - 1;
    metrics_counter_add(&series->slots[thread].by_class[cls], 1);
}

void metrics_observe_latency(struct latency_series *series, unsigned thread, uint64_t duration_us)
{
    struct latency_slot *slot = &series->slots[thread];
    size_t i = 0;
    while (i < METRICS_LATENCY_BUCKETS && duration_us > latency_bounds_us[i])
        i++;
    metrics_counter_add(&slot->buckets[i], 1);
    metrics_counter_add(&slot->sum_us, duration_us);
    metrics_counter_add(&slot->count, 1);
}

void metrics_append_label_value(struct strbuf *out, const char *value)
{
    for (const char *p = value; *p; p++) {
        if (*p == '\\' || *p == '"')
            strbuf_append_char(out, '\\'), strbuf_append_char(out, *p);
        else if (*p == '\n')
            strbuf_append_str(out, "\\n");
        else
            strbuf_append_char(out, *p);
    }
}

static unsigned long long load(const atomic_ullong *counter)
{
    return atomic_load_explicit(counter, memory_order_relaxed);
}

static void render_routes(struct metrics_registry *registry, struct strbuf *out)
{
    static const char *const classes[STATUS_CLASSES] = {"1xx", "2xx", "3xx", "4xx", "5xx"};
    strbuf_append_str(out, "# HELP yiwang_requests_total Requests answered, by route and status class.\n"
                           "# TYPE yiwang_requests_total counter\n");
    strmap_foreach(&registry->routes, e)
    {
        if (e->key[0] == '\x01')
            continue;
        struct route_series *series = e->value;
        for (int c = 0; c < STATUS_CLASSES; c++) {
            unsigned long long total = 0;
            for (unsigned t = 0; t < registry->num_threads; t++)
                total += load(&series->slots[t].by_class[c]);
            if (total == 0 && c != 1)
                continue;
            strbuf_append_str(out, "yiwang_requests_total{route=\"");
            metrics_append_label_value(out, series->route);
            strbuf_append_str(out, "\",service=\"");
            metrics_append_label_value(out, series->service);
            strbuf_appendf(out, "\",code=\"%s\"} %llu\n", classes[c], total);
        }
    }
}

static void render_latency_series(struct metrics_registry *registry, struct latency_series *series, struct strbuf *out)
{
    unsigned long long cumulative = 0, sum_us = 0, count = 0;
    for (unsigned t = 0; t < registry->num_threads; t++) {
        sum_us += load(&series->slots[t].sum_us);
        count += load(&series->slots[t].count);
    }
    for (size_t i = 0; i <= METRICS_LATENCY_BUCKETS; i++) {
        for (unsigned t = 0; t < registry->num_threads; t++)
            cumulative += load(&series->slots[t].buckets[i]);
        strbuf_append_str(out, "yiwang_request_duration_seconds_bucket{service=\"");
        metrics_append_label_value(out, series->service);
        if (i < METRICS_LATENCY_BUCKETS)
            strbuf_appendf(out, "\",le=\"%g\"} %llu\n", (double)latency_bounds_us[i] / 1e6, cumulative);
        else
            strbuf_appendf(out, "\",le=\"+Inf\"} %llu\n", cumulative);
    }
    strbuf_append_str(out, "yiwang_request_duration_seconds_sum{service=\"");
    metrics_append_label_value(out, series->service);
    strbuf_appendf(out, "\"} %.6f\n", (double)sum_us / 1e6);
    strbuf_append_str(out, "yiwang_request_duration_seconds_count{service=\"");
    metrics_append_label_value(out, series->service);
    strbuf_appendf(out, "\"} %llu\n", count);
}

static void render_thread_counter(struct metrics_registry *registry, struct strbuf *out, const char *name, const char *type,
                                  const char *help, size_t offset)
{
    unsigned long long total = 0;
    for (unsigned t = 0; t < registry->num_threads; t++)
        total += load((const atomic_ullong *)((const char *)&registry->threads[t] + offset));
    strbuf_appendf(out, "# HELP %s %s\n# TYPE %s %s\n%s %llu\n", name, help, name, type, name, total);
}

static void render_token_refusals(struct metrics_registry *registry, struct strbuf *out)
{
    strbuf_append_str(out, "# HELP yiwang_token_refusals_total Access tokens refused on protected routes, by reason.\n"
                           "# TYPE yiwang_token_refusals_total counter\n");
    for (int reason = 1; reason < METRICS_TOKEN_REASONS; reason++) {
        const char *name = jwt_status_name((enum jwt_status)reason);
        if (strcmp(name, "unknown") == 0)
            continue;
        unsigned long long total = 0;
        for (unsigned t = 0; t < registry->num_threads; t++)
            total += load(&registry->threads[t].token_refusals[reason]);
        strbuf_appendf(out, "yiwang_token_refusals_total{reason=\"%s\"} %llu\n", name, total);
    }
}

void metrics_render(struct metrics_registry *registry, struct strbuf *out)
{
    pthread_mutex_lock(&registry->mutex);
    render_routes(registry, out);
    strbuf_append_str(out, "# HELP yiwang_request_duration_seconds Time from request received to response completed.\n"
                           "# TYPE yiwang_request_duration_seconds histogram\n");
    strmap_foreach(&registry->latencies, e) render_latency_series(registry, e->value, out);
    pthread_mutex_unlock(&registry->mutex);

    render_thread_counter(registry, out, "yiwang_connections_accepted_total", "counter", "Client connections accepted.",
                          offsetof(struct thread_counters, connections_accepted));
    unsigned long long open = 0;
    for (unsigned t = 0; t < registry->num_threads; t++) {
        /* closed first: it never overtakes accepted, so the difference cannot go negative */
        unsigned long long closed = load(&registry->threads[t].connections_closed);
        open += load(&registry->threads[t].connections_accepted) - closed;
    }
    strbuf_appendf(out,
                   "# HELP yiwang_connections_open Client connections currently open.\n"
                   "# TYPE yiwang_connections_open gauge\nyiwang_connections_open %llu\n",
                   open);
    render_thread_counter(registry, out, "yiwang_upstream_retries_total", "counter",
                          "Upstream attempts retried after a connect failure.", offsetof(struct thread_counters, upstream_retries));
    render_thread_counter(registry, out, "yiwang_rejected_at_capacity_total", "counter",
                          "Requests refused because their service had max_in_flight requests in flight.",
                          offsetof(struct thread_counters, rejected_capacity));
    render_thread_counter(registry, out, "yiwang_requests_timed_out_total", "counter",
                          "Clients answered 408 because their request arrived slower than limits.client_timeout_ms.",
                          offsetof(struct thread_counters, requests_timed_out));
    render_token_refusals(registry, out);
    render_thread_counter(registry, out, "yiwang_http2_rapid_reset_closes_total", "counter",
                          "HTTP/2 connections closed for resetting too many streams before an answer (CVE-2023-44487).",
                          offsetof(struct thread_counters, connections_reset_abuse));
}
