/*
 * snapshot_load_bench.c — how long a 1,000-service / 10,000-route configuration
 * takes from text to a snapshot ready to publish (issue 4: load and swap ≤ 1 s).
 *
 * The configuration is the one tests/unit/test_config.c loads (a host, two
 * methods and limits per route; two targets, timeouts and a health check per
 * service), with literal addresses for targets, because snapshot_build
 * resolves host names and this measures the gateway, not the resolver. Each
 * repetition times config_load_string (parse, schema, rules), snapshot_build
 * from nothing (the first snapshot), and snapshot_build with the previous one
 * (a reload or registry change: state carried over), then frees them. The
 * table shows the median and the slowest of REPETITIONS. Publishing to the
 * event-loop threads is a pointer hand-over per thread and is not timed here.
 *
 *   build/bench/snapshot_load_bench
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/config.h"
#include "common/log.h"
#include "common/problems.h"
#include "common/strbuf.h"
#include "gateway/metrics.h"
#include "gateway/snapshot.h"

#define REPETITIONS 5
#define SERVICES 1000
#define ROUTES 10000

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static char *large_config(void)
{
    struct strbuf sb = STRBUF_INIT;
    strbuf_append_str(&sb, "{\"services\":[");
    for (int i = 0; i < SERVICES; i++)
        strbuf_appendf(&sb,
                       "%s{\"name\":\"svc-%d\",\"department\":\"部门 %d\",\"targets\":[{\"host\":\"10.0.%d.%d\",\"port\":%d},"
                       "{\"host\":\"10.1.%d.%d\",\"port\":8080,\"weight\":3}],\"balancer\":\"least_in_flight\","
                       "\"timeouts\":{\"connect_ms\":500,\"response_header_ms\":5000,\"total_ms\":20000},"
                       "\"health_check\":{\"path\":\"/healthz\"}}",
                       i ? "," : "", i, i, i / 250, i % 250, 9000 + i, i / 250, i % 250);
    strbuf_append_str(&sb, "],\"routes\":[");
    for (int i = 0; i < ROUTES; i++)
        strbuf_appendf(&sb,
                       "%s{\"name\":\"route-%d\",\"host\":\"api%d.example.gov.cn\",\"path_prefix\":\"/dept-%d/v1/item-%d/\","
                       "\"methods\":[\"GET\",\"POST\"],\"service\":\"svc-%d\",\"strip_prefix\":true,\"max_body_bytes\":1048576}",
                       i ? "," : "", i, i % 10, i % 1000, i, i % 1000);
    strbuf_append_str(&sb, "]}");
    return strbuf_detach(&sb, NULL);
}

static struct snapshot *build(const char *json, const struct snapshot *previous, struct metrics_registry *metrics, double *load_ms,
                              double *build_ms)
{
    struct problem_list problems = PROBLEM_LIST_INIT;
    double t0 = now_ms();
    struct config *config = config_load_string(json, strlen(json), &problems);
    double t1 = now_ms();
    struct snapshot *snapshot = config != NULL ? snapshot_build(config, previous, NULL, metrics, 1, &problems) : NULL;
    double t2 = now_ms();
    for (size_t i = 0; i < problems.count; i++)
        fprintf(stderr, "%s: %s\n", problems.items[i].pointer, problems.items[i].message);
    problem_list_clear(&problems);
    if (snapshot == NULL) {
        fprintf(stderr, "the generated configuration did not build\n");
        exit(1);
    }
    *load_ms = t1 - t0;
    *build_ms = t2 - t1;
    return snapshot;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static void row(const char *what, double *ms)
{
    qsort(ms, REPETITIONS, sizeof(ms[0]), cmp_double);
    printf("| %s | %.1f ms | %.1f ms |\n", what, ms[REPETITIONS / 2], ms[REPETITIONS - 1]);
}

int main(void)
{
    log_set_min_level(LOG_LEVEL_WARN);
    char *json = large_config();
    struct metrics_registry *metrics = metrics_registry_new(1);
    double load[REPETITIONS], first[REPETITIONS], swap_load[REPETITIONS], swap[REPETITIONS], total[REPETITIONS];
    for (int r = 0; r < REPETITIONS; r++) {
        struct snapshot *a = build(json, NULL, metrics, &load[r], &first[r]);
        struct snapshot *b = build(json, a, metrics, &swap_load[r], &swap[r]);
        total[r] = swap_load[r] + swap[r];
        snapshot_release(a);
        snapshot_release(b);
    }
    printf("%d services, %d routes, %zu KiB of JSON; %d repetitions\n\n", SERVICES, ROUTES, strlen(json) / 1024, REPETITIONS);
    printf("| step | median | slowest |\n|---|---:|---:|\n");
    row("config_load_string", load);
    row("snapshot_build, first", first);
    row("snapshot_build, with the previous snapshot", swap);
    row("**load + build for a swap**", total);
    metrics_registry_free(metrics);
    free(json);
    return 0;
}
