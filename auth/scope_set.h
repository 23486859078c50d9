/*
 * scope_set.h — space-separated word lists: OAuth scopes (RFC 6749 §3.3) and
 * the other lists stored that way (a client's grant types).
 *
 * Words are compared byte for byte (scopes are case-sensitive); runs of
 * spaces separate them and an empty word is never a member. Pure; any thread.
 */
#ifndef YIWANG_AUTH_SCOPE_SET_H
#define YIWANG_AUTH_SCOPE_SET_H

#include <stddef.h>

/* Is the word `word` (`len` bytes, not NUL-terminated) in `list`? */
int scope_set_has(const char *list, const char *word, size_t len);
/* Is the NUL-terminated `word` in `list`? */
int scope_set_has_word(const char *list, const char *word);
/* Is every word of `subset` in `set`? (An empty subset is covered.) */
int scope_set_covers(const char *set, const char *subset);
/*
 * Appends the words of `words` that are not in `out` yet, single-space
 * separated: `out` is a list built by this function (or ""), `size` its
 * buffer size. 0, or -1 when it does not fit (out is then unchanged).
 */
int scope_set_add(char *out, size_t size, const char *words);

#endif
