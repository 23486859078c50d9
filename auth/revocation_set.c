#include "auth/revocation_set.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "common/strmap.h"
#include "common/xalloc.h"

#define MAX_VALUE 127

struct revocation_set {
    atomic_uint refcount;
    struct strmap entries; /* key: kind byte + value; value: unused (non-NULL marker) */
};

struct revocation_set *revocation_set_new(size_t expected)
{
    (void)expected; /* strmap grows as needed; the hint keeps the API honest about intent */
    struct revocation_set *set = xcalloc(1, sizeof(*set));
    atomic_init(&set->refcount, 1);
    return set;
}

static size_t make_key(char *key, enum revocation_kind kind, const char *value)
{
    size_t len = strlen(value);
    if (len > MAX_VALUE)
        return 0;
    key[0] = (char)kind;
    memcpy(key + 1, value, len);
    return len + 1;
}

void revocation_set_add(struct revocation_set *set, enum revocation_kind kind, const char *value)
{
    char key[MAX_VALUE + 1];
    size_t len = make_key(key, kind, value);
    if (len != 0)
        strmap_put(&set->entries, key, len, set);
}

int revocation_set_contains(const struct revocation_set *set, enum revocation_kind kind, const char *value)
{
    char key[MAX_VALUE + 1];
    size_t len;
    if (set == NULL || set->entries.count == 0 || (len = make_key(key, kind, value)) == 0)
        return 0;
    return strmap_get(&set->entries, key, len) != NULL;
}

size_t revocation_set_size(const struct revocation_set *set)
{
    return set != NULL ? set->entries.count : 0;
}

void revocation_set_retain(struct revocation_set *set)
{
    atomic_fetch_add(&set->refcount, 1);
}

void revocation_set_release(struct revocation_set *set)
{
    if (set == NULL || atomic_fetch_sub(&set->refcount, 1) != 1)
        return;
    strmap_clear(&set->entries);
    free(set);
}
