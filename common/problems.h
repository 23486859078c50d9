/*
 * problems.h — a list of validation problems, each tied to a JSON pointer.
 *
 * Owns: the strings it holds. Used by the JSON Schema validator, the config
 * loader and (later) the admin API, so that every "bad input" answer can name
 * the exact field that is wrong. Not thread-safe; one list per caller.
 */
#ifndef YIWANG_COMMON_PROBLEMS_H
#define YIWANG_COMMON_PROBLEMS_H

#include <stddef.h>

struct problem {
    char *pointer; /* RFC 6901 JSON pointer, "" for the document root */
    char *message;
};

struct problem_list {
    struct problem *items;
    size_t count;
    size_t capacity;
};

#define PROBLEM_LIST_INIT                                                                                                          \
    {                                                                                                                              \
        NULL, 0, 0                                                                                                                 \
    }

/* Appends a problem; the message is printf-formatted. Aborts on out-of-memory. */
void problem_list_add(struct problem_list *list, const char *pointer, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
void problem_list_clear(struct problem_list *list);

/* Appends "/token" (escaped per RFC 6901) to a pointer; returns a malloc'ed string. */
char *json_pointer_append(const char *pointer, const char *token);
char *json_pointer_append_index(const char *pointer, size_t index);

#endif
