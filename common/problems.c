#include "common/problems.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/xalloc.h"

void problem_list_add(struct problem_list *list, const char *pointer, const char *fmt, ...)
{
    if (list->count == list->capacity) {
        list->capacity = list->capacity ? list->capacity * 2 : 8;
        list->items = xrealloc(list->items, list->capacity * sizeof(*list->items));
    }
    va_list ap;
    va_start(ap, fmt);
    char *message = xvasprintf(fmt, ap);
    va_end(ap);
    list->items[list->count++] = (struct problem){xstrdup(pointer), message};
}

void problem_list_clear(struct problem_list *list)
{
    for (size_t i = 0; i < list->count; i++) {
        free(list->items[i].pointer);
        free(list->items[i].message);
    }
    free(list->items);
    *list = (struct problem_list)PROBLEM_LIST_INIT;
}

char *json_pointer_append(const char *pointer, const char *token)
{
    size_t plen = strlen(pointer), extra = 0;
    for (const char *p = token; *p; p++)
        extra += (*p == '~' || *p == '/');
    char *out = xmalloc(plen + 1 + strlen(token) + extra + 1), *w = out;
    memcpy(w, pointer, plen);
    w += plen;
    *w++ = '/';
    for (const char *p = token; *p; p++) {
        if (*p == '~') {
            *w++ = '~';
            *w++ = '0';
        } else if (*p == '/') {
            *w++ = '~';
            *w++ = '1';
        } else {
            *w++ = *p;
        }
    }
    *w = '\0';
    return out;
}

char *json_pointer_append_index(const char *pointer, size_t index)
{
    char token[32];
    snprintf(token, sizeof(token), "%zu", index);
    return json_pointer_append(pointer, token);
}
