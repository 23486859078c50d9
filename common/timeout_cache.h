/*
 * timeout_cache.h — h2o 2.2.5 timeouts per duration.
 *
 * An h2o_timeout_t has one fixed duration and belongs to one loop, so code
 * that needs timers of configurable lengths keeps one per distinct duration.
 * The cache belongs to its loop's thread; timeouts are created on first use
 * and live as long as the cache (there are only a handful of distinct values).
 */
#ifndef YIWANG_COMMON_TIMEOUT_CACHE_H
#define YIWANG_COMMON_TIMEOUT_CACHE_H

#include <h2o.h>
#include <stdint.h>

struct timeout_cache {
    struct timeout_cache_entry {
        uint64_t ms;
        h2o_timeout_t *timeout;
    } * entries;
    size_t count;
};

h2o_timeout_t *timeout_cache_get(struct timeout_cache *cache, h2o_loop_t *loop, uint64_t ms);

#endif
