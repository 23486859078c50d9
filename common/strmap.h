/*
 * strmap.h — a string-keyed hash map (open addressing, linear probing).
 *
 * Owns copies of its keys, not its values. Not thread-safe: one owner, or an
 * external lock, or built once and then only read.
 */
#ifndef YIWANG_COMMON_STRMAP_H
#define YIWANG_COMMON_STRMAP_H

#include <stddef.h>

struct strmap_entry {
    char *key; /* NULL = empty slot */
    size_t key_len;
    size_t hash;
    void *value;
};

struct strmap {
    struct strmap_entry *entries;
    size_t capacity; /* power of two */
    size_t count;
};

#define STRMAP_INIT                                                                                                                \
    {                                                                                                                              \
        NULL, 0, 0                                                                                                                 \
    }

void *strmap_get(const struct strmap *map, const char *key, size_t key_len);
/* Inserts or replaces; returns the previous value (or NULL). */
void *strmap_put(struct strmap *map, const char *key, size_t key_len, void *value);
/* Frees the map's own memory; values are the caller's. */
void strmap_clear(struct strmap *map);

#define strmap_foreach(map, entry)                                                                                                 \
    for (struct strmap_entry *entry = (map)->entries; entry != NULL && entry < (map)->entries + (map)->capacity; entry++)          \
        if (entry->key != NULL)

#endif
