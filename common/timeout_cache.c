#include "common/timeout_cache.h"

#include "common/xalloc.h"

h2o_timeout_t *timeout_cache_get(struct timeout_cache *cache, h2o_loop_t *loop, uint64_t ms)
{
    for (size_t i = 0; i < cache->count; i++) {
        if (cache->entries[i].ms == ms)
            return cache->entries[i].timeout;
    }
    cache->entries = xrealloc(cache->entries, (cache->count + 1) * sizeof(*cache->entries));
    h2o_timeout_t *timeout = xcalloc(1, sizeof(*timeout));
    h2o_timeout_init(loop, timeout, ms);
    cache->entries[cache->count++] = (struct timeout_cache_entry){ms, timeout};
    return timeout;
}
