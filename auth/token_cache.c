#include "auth/token_cache.h"

#include <stdlib.h>
#include <string.h>

#include "common/xalloc.h"

struct cached_token {
    uint64_t hash;
    uint64_t generation;
    int64_t valid_until;
    struct jwt_claims claims;
    size_t len;
    char token[]; /* compared in full: the hash only picks the slot */
};

struct token_cache {
    size_t mask;
    struct cached_token **slots;
};

struct token_cache *token_cache_new(size_t slots)
{
    size_t n = 1;
    while (n < slots)
        n <<= 1;
    struct token_cache *cache = xcalloc(1, sizeof(*cache));
    cache->mask = n - 1;
    cache->slots = xcalloc(n, sizeof(*cache->slots));
    return cache;
}

void token_cache_free(struct token_cache *cache)
{
    if (cache == NULL)
        return;
    for (size_t i = 0; i <= cache->mask; i++)
        free(cache->slots[i]);
    free(cache->slots);
    free(cache);
}

uint64_t token_cache_hash(const char *token, size_t len)
{
    /* FNV-1a over 8-byte words of the last 64 bytes (the signature, which differs between any two tokens) with a
     * final avalanche. Collisions only cost a cache slot: lookups compare the whole token. */
    uint64_t h = 0xcbf29ce484222325ull ^ len;
    if (len > 64) {
        token += len - 64;
        len = 64;
    }
    size_t i = 0;
    for (; i + 8 <= len; i += 8) {
        uint64_t w;
        memcpy(&w, token + i, 8);
        h = (h ^ w) * 0x100000001b3ull;
        h ^= h >> 29;
    }
    for (; i < len; i++)
        h = (h ^ (unsigned char)token[i]) * 0x100000001b3ull;
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdull;
    h ^= h >> 33;
    return h;
}

const struct jwt_claims *token_cache_get(struct token_cache *cache, const char *token, size_t len, uint64_t hash,
                                         uint64_t generation, int64_t now)
{
    const struct cached_token *entry = cache->slots[hash & cache->mask];
    if (entry == NULL || entry->hash != hash || entry->len != len || entry->generation != generation || entry->valid_until <= now ||
        memcmp(entry->token, token, len) != 0)
        return NULL;
    return &entry->claims;
}

const struct jwt_claims *token_cache_put(struct token_cache *cache, const char *token, size_t len, uint64_t hash,
                                         uint64_t generation, int64_t valid_until, const struct jwt_claims *claims)
{
    struct cached_token **slot = &cache->slots[hash & cache->mask];
    if (*slot == NULL || (*slot)->len < len) {
        free(*slot);
        *slot = xmalloc(sizeof(**slot) + len);
    }
    (*slot)->hash = hash;
    (*slot)->generation = generation;
    (*slot)->valid_until = valid_until;
    (*slot)->claims = *claims;
    (*slot)->len = len;
    memcpy((*slot)->token, token, len);
    return &(*slot)->claims;
}
