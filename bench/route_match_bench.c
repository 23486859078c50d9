/*
 * route_match_bench.c — nanoseconds per route_table_match at 10, 100, 1,000 and
 * 10,000 routes (issue 4: lookup time stays flat as the registry grows).
 *
 * The tables look like a registry: /<department>/<service>[/v<n>[/admin]],
 * about 20 services per department, one route in ten bound to its
 * department's host, one in four allowing only GET and HEAD. The requests are
 * the same mix at every size: hits at depths 2 to 6 (with and without a Host
 * that has routes of its own), a POST to a GET-only route (405), and misses at
 * the first, second and third segment. Each repetition times ITERATIONS
 * lookups cycling over the mix; the table shows the median and the fastest of
 * REPETITIONS. A benchmark, not a test: it asserts nothing about time.
 *
 *   build/bench/route_match_bench [iterations]
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/config.h"
#include "routes/route_table.h"

#define REPETITIONS 7
#define NUM_REQUESTS 16

struct request {
    const char *host;
    char path[128];
    unsigned method;
    enum route_match_status expect;
};

static double now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static size_t num_departments(size_t n)
{
    return n < 20 ? 1 : n / 20;
}

/* Route i of a table of n: its prefix, host (NULL = any) and methods. */
static void route_at(size_t i, size_t n, char *prefix, size_t size, char *host, size_t host_size, unsigned *methods)
{
    size_t dept = i % num_departments(n);
    switch (i % 4) {
    case 0:
        snprintf(prefix, size, "/dept-%zu/service-%zu", dept, i);
        break;
    case 1:
        snprintf(prefix, size, "/dept-%zu/service-%zu/v1", dept, i);
        break;
    case 2:
        snprintf(prefix, size, "/dept-%zu/service-%zu/v2/admin", dept, i);
        break;
    default:
        snprintf(prefix, size, "/dept-%zu/service-%zu/v1", dept, i);
        break;
    }
    *methods = i % 4 == 3 ? HTTP_METHOD_GET | HTTP_METHOD_HEAD : HTTP_METHOD_ALL;
    if (i % 10 == 7)
        snprintf(host, host_size, "dept-%zu.gov.cn", dept);
    else
        host[0] = '\0';
}

static struct route_table *build(size_t n, double *build_ms)
{
    struct route_table *t = route_table_new();
    char prefix[96], host[64];
    unsigned methods;
    double start = now_ns();
    for (size_t i = 0; i < n; i++) {
        route_at(i, n, prefix, sizeof(prefix), host, sizeof(host), &methods);
        char *err = NULL;
        if (route_table_add(t, host[0] ? host : NULL, prefix, methods, (void *)(uintptr_t)(i + 1), &err) != 0) {
            fprintf(stderr, "route %zu (%s) refused: %s\n", i, prefix, err);
            exit(1);
        }
    }
    *build_ms = (now_ns() - start) / 1e6;
    return t;
}

/* The first route at or after `from` with i % 4 == shape and, if `hosted`, a host of its own (i % 10 == 7); a small
 * table may have no such route, then any with the right hostedness. */
static size_t pick(size_t n, size_t from, size_t shape, int hosted)
{
    for (int any_shape = 0; any_shape < 2; any_shape++)
        for (size_t k = 0; k < n; k++) {
            size_t i = (from + k) % n;
            if ((any_shape || i % 4 == shape) && (i % 10 == 7) == hosted)
                return i;
        }
    return 0;
}

static void add_hit(struct request *r, size_t n, size_t i, const char *suffix, unsigned method, enum route_match_status expect)
{
    static char hosts[NUM_REQUESTS][64 + sizeof(":443")]; /* a host of route_at's buffer and the port */
    static size_t next_host;
    char prefix[96], host[64];
    unsigned methods;
    route_at(i, n, prefix, sizeof(prefix), host, sizeof(host), &methods);
    snprintf(r->path, sizeof(r->path), "%s%s", prefix, suffix);
    if (host[0]) {
        char *h = hosts[next_host++ % NUM_REQUESTS];
        snprintf(h, sizeof(hosts[0]), "%s:443", host);
        r->host = h;
    } else {
        r->host = "www.gov.cn";
    }
    r->method = method;
    r->expect = expect;
}

static void add_miss(struct request *r, const char *path)
{
    snprintf(r->path, sizeof(r->path), "%s", path);
    r->host = "www.gov.cn";
    r->method = HTTP_METHOD_GET;
    r->expect = ROUTE_NOT_FOUND;
}

/* The request mix for a table of n routes: 12 hits or 405s spread over the table, 4 misses. */
static size_t requests_for(size_t n, struct request *reqs)
{
    size_t c = 0;
    const size_t GET = HTTP_METHOD_GET, POST = HTTP_METHOD_POST;
    add_hit(&reqs[c++], n, pick(n, n / 2, 0, 0), "", GET, ROUTE_MATCHED);                       /* depth 2, exact */
    add_hit(&reqs[c++], n, pick(n, n / 3, 0, 0), "/items/42", POST, ROUTE_MATCHED);             /* depth 4 */
    add_hit(&reqs[c++], n, pick(n, n / 5, 1, 0), "/invoices", GET, ROUTE_MATCHED);              /* depth 4 */
    add_hit(&reqs[c++], n, pick(n, 7 * n / 8, 1, 0), "/invoices/2026/11", GET, ROUTE_MATCHED);  /* depth 6 */
    add_hit(&reqs[c++], n, pick(n, n / 4, 2, 0), "/users/9", GET, ROUTE_MATCHED);               /* depth 6 */
    add_hit(&reqs[c++], n, pick(n, n - 1, 2, 0), "", POST, ROUTE_MATCHED);                      /* depth 4, exact */
    add_hit(&reqs[c++], n, pick(n, n / 6, 3, 0), "/query", GET, ROUTE_MATCHED);                 /* method-specific */
    add_hit(&reqs[c++], n, pick(n, 5 * n / 6, 3, 0), "/query", POST, ROUTE_METHOD_NOT_ALLOWED); /* 405 */
    add_hit(&reqs[c++], n, pick(n, n / 2, 1, 1), "/x", GET, ROUTE_MATCHED);                     /* host-specific */
    add_hit(&reqs[c++], n, pick(n, 0, 3, 1), "/q", GET, ROUTE_MATCHED);                         /* host + method */
    add_hit(&reqs[c++], n, pick(n, 2 * n / 3, 0, 0), "/a/b/c", GET, ROUTE_MATCHED);             /* depth 5 */
    add_hit(&reqs[c++], n, pick(n, n / 7, 1, 0), "", GET, ROUTE_MATCHED);                       /* depth 3, exact */
    add_miss(&reqs[c++], "/");
    add_miss(&reqs[c++], "/no-such-department/service-1/v1");
    add_miss(&reqs[c++], "/dept-0/no-such-service/v1/items");
    add_miss(&reqs[c++], "/static/assets/app.js");
    return c;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
    static const size_t sizes[] = {10, 100, 1000, 10000};
    long iterations = argc > 1 ? atol(argv[1]) : 4000000;
    if (iterations < NUM_REQUESTS) {
        fprintf(stderr, "usage: %s [iterations >= %d]\n", argv[0], NUM_REQUESTS);
        return 2;
    }
    printf("route_table_match: %ld lookups per repetition, %d repetitions, %d-request mix (12 hits/405, 4 misses)\n\n", iterations,
           REPETITIONS, NUM_REQUESTS);
    printf("| routes | build | ns/lookup (median) | ns/lookup (fastest) | median vs 10 routes |\n");
    printf("|---:|---:|---:|---:|---:|\n");
    double base = 0;
    for (size_t s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
        size_t n = sizes[s];
        double build_ms;
        struct route_table *t = build(n, &build_ms);
        struct request reqs[NUM_REQUESTS];
        size_t lens[NUM_REQUESTS], count = requests_for(n, reqs);
        for (size_t k = 0; k < count; k++) {
            lens[k] = strlen(reqs[k].path);
            struct route_match m = route_table_match(t, reqs[k].host, strlen(reqs[k].host), reqs[k].path, lens[k], reqs[k].method);
            if (m.status != reqs[k].expect) {
                fprintf(stderr, "%zu routes: %s %s gave status %d, expected %d\n", n, reqs[k].host, reqs[k].path, (int)m.status,
                        (int)reqs[k].expect);
                return 1;
            }
        }
        size_t host_lens[NUM_REQUESTS];
        for (size_t k = 0; k < count; k++)
            host_lens[k] = strlen(reqs[k].host);
        double results[REPETITIONS] = {0};
        volatile size_t sink = 0;
        for (int r = -1; r < REPETITIONS; r++) { /* r == -1: warm-up, not counted */
            size_t matched = 0;
            double start = now_ns();
            for (long i = 0; i < iterations; i++) {
                size_t k = (size_t)i % NUM_REQUESTS;
                matched +=
                    route_table_match(t, reqs[k].host, host_lens[k], reqs[k].path, lens[k], reqs[k].method).status == ROUTE_MATCHED;
            }
            double ns = (now_ns() - start) / (double)iterations;
            sink += matched;
            if (r >= 0)
                results[r] = ns;
        }
        (void)sink;
        qsort(results, REPETITIONS, sizeof(results[0]), cmp_double);
        double median = results[REPETITIONS / 2];
        if (s == 0)
            base = median;
        printf("| %zu | %.2f ms | %.1f | %.1f | %.2f× |\n", n, build_ms, median, results[0], median / base);
        route_table_free(t);
    }
    return 0;
}
