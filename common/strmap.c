#include "common/strmap.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/xalloc.h"

/* FNV-1a: short keys (route and service names), no adversarial input at build time. */
static size_t hash_bytes(const char *key, size_t len)
{
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < len; i++) {
        h ^= (unsigned char)key[i];
        h *= 1099511628211ull;
    }
    return (size_t)h;
}

static struct strmap_entry *find_slot(struct strmap_entry *entries, size_t capacity, const char *key, size_t key_len, size_t hash)
{
    size_t mask = capacity - 1;
    for (size_t i = hash & mask;; i = (i + 1) & mask) {
        struct strmap_entry *e = &entries[i];
        if (e->key == NULL || (e->hash == hash && e->key_len == key_len && memcmp(e->key, key, key_len) == 0))
            return e;
    }
}

void *strmap_get(const struct strmap *map, const char *key, size_t key_len)
{
    if (map->count == 0)
        return NULL;
    struct strmap_entry *e = find_slot(map->entries, map->capacity, key, key_len, hash_bytes(key, key_len));
    return e->key != NULL ? e->value : NULL;
}

static void grow(struct strmap *map)
{
    size_t capacity = map->capacity ? map->capacity * 2 : 16;
    struct strmap_entry *entries = xcalloc(capacity, sizeof(*entries));
    for (size_t i = 0; i < map->capacity; i++) {
        struct strmap_entry *old = &map->entries[i];
        if (old->key != NULL)
            *find_slot(entries, capacity, old->key, old->key_len, old->hash) = *old;
    }
    free(map->entries);
    map->entries = entries;
    map->capacity = capacity;
}

void *strmap_put(struct strmap *map, const char *key, size_t key_len, void *value)
{
    if ((map->count + 1) * 4 > map->capacity * 3)
        grow(map);
    size_t hash = hash_bytes(key, key_len);
    struct strmap_entry *e = find_slot(map->entries, map->capacity, key, key_len, hash);
    if (e->key != NULL) {
        void *previous = e->value;
        e->value = value;
        return previous;
    }
    *e = (struct strmap_entry){xstrndup(key, key_len), key_len, hash, value};
    map->count++;
    return NULL;
}

void strmap_clear(struct strmap *map)
{
    for (size_t i = 0; i < map->capacity; i++)
        free(map->entries[i].key);
    free(map->entries);
    *map = (struct strmap)STRMAP_INIT;
}
