#include "common/json_diff.h"

#include <string.h>

static int is_ignored(const char *key, const char *const *ignore)
{
    for (; ignore != NULL && *ignore != NULL; ignore++) {
        if (strcmp(key, *ignore) == 0)
            return 1;
    }
    return 0;
}

/* Members of `from` that `other` lacks or holds with another value; `other` NULL: all of them. */
static json_t *members_differing(const json_t *from, const json_t *other, const char *const *ignore)
{
    json_t *out = json_object();
    const char *key;
    json_t *value;
    json_object_foreach((json_t *)from, key, value)
    {
        if (is_ignored(key, ignore))
            continue;
        const json_t *theirs = other != NULL ? json_object_get(other, key) : NULL;
        if (theirs == NULL || !json_equal(value, theirs))
            json_object_set(out, key, value);
    }
    return out;
}

void json_diff_top_level(const json_t *before, const json_t *after, const char *const *ignore, json_t **out_before,
                         json_t **out_after)
{
    *out_before = json_is_object(before) ? members_differing(before, after, ignore) : NULL;
    *out_after = json_is_object(after) ? members_differing(after, before, ignore) : NULL;
}
