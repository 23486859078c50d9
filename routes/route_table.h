/*
 * route_table.h — longest-prefix route matching over path segments.
 *
 * Owns: its tree nodes and copies of host/prefix strings; NOT the `value`
 * pointers the caller stores (typically the snapshot's route objects).
 *
 * Matching rules (the security contract, see docs/routing.md):
 *  - a prefix matches whole segments only: "/hrss" matches "/hrss" and
 *    "/hrss/x", never "/hrssx"; a trailing '/' in the prefix is ignored;
 *  - segments compare ASCII case-insensitively, so "/PRIVATE" meets the
 *    policy of "/private" instead of slipping to a looser parent route;
 *  - routes with a host that equals the request's Host (case-insensitive,
 *    port ignored) are tried first; host-less routes are the fallback;
 *  - the longest matching prefix decides. If its routes do not allow the
 *    method, the result is "method not allowed" — never a shorter prefix, so a
 *    method cannot be used to reach a less protected parent route.
 * Lookup cost grows with the number of path segments, not with the number of
 * routes (hash lookup per segment).
 *
 * Threads: build on one thread; once built the table is immutable and
 * route_table_match may be called from any number of threads at once.
 */
#ifndef YIWANG_ROUTES_ROUTE_TABLE_H
#define YIWANG_ROUTES_ROUTE_TABLE_H

#include <stddef.h>

struct route_table;

struct route_table *route_table_new(void);
void route_table_free(struct route_table *table);

/*
 * Adds a route. `host` may be NULL (any host). `path_prefix` must already be
 * normalised. `methods` is a mask of HTTP_METHOD_* bits (common/config.h).
 * Fails (returns -1 with a malloc'ed message in *err) when another route with
 * the same host and prefix already allows one of these methods.
 */
int route_table_add(struct route_table *table, const char *host, const char *path_prefix, unsigned methods, void *value,
                    char **err);

enum route_match_status {
    ROUTE_MATCHED,
    ROUTE_NOT_FOUND,
    ROUTE_METHOD_NOT_ALLOWED, /* *allowed_methods tells which ones are */
};

struct route_match {
    enum route_match_status status;
    void *value;              /* ROUTE_MATCHED: what route_table_add stored */
    size_t prefix_len;        /* bytes of the path covered by the matched prefix (for strip_prefix) */
    unsigned allowed_methods; /* ROUTE_METHOD_NOT_ALLOWED: union of methods at that prefix */
};

/* `path` must be normalised (path_normalize). `host` may include ":port". */
struct route_match route_table_match(const struct route_table *table, const char *host, size_t host_len, const char *path,
                                     size_t path_len, unsigned method_bit);

size_t route_table_size(const struct route_table *table);

#endif
