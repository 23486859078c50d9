#include "auth/scope_set.h"

#include <string.h>

int scope_set_has(const char *list, const char *word, size_t len)
{
    for (const char *p = list; *p != '\0';) {
        p += strspn(p, " ");
        size_t n = strcspn(p, " ");
        if (n == len && n != 0 && memcmp(p, word, n) == 0)
            return 1;
        p += n;
    }
    return 0;
}

int scope_set_has_word(const char *list, const char *word)
{
    return scope_set_has(list, word, strlen(word));
}

int scope_set_covers(const char *set, const char *subset)
{
    for (const char *p = subset; *p != '\0';) {
        p += strspn(p, " ");
        size_t n = strcspn(p, " ");
        if (n != 0 && !scope_set_has(set, p, n))
            return 0;
        p += n;
    }
    return 1;
}

int scope_set_add(char *out, size_t size, const char *words)
{
    size_t used = strlen(out), start = used;
    for (const char *p = words; *p != '\0';) {
        p += strspn(p, " ");
        size_t n = strcspn(p, " ");
        if (n != 0 && !scope_set_has(out, p, n)) {
            if (used + n + 2 > size) {
                out[start] = '\0';
                return -1;
            }
            if (used != 0)
                out[used++] = ' ';
            memcpy(out + used, p, n);
            out[used += n] = '\0';
        }
        p += n;
    }
    return 0;
}
