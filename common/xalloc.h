/*
 * xalloc.h — allocation that cannot fail.
 *
 * Out-of-memory is not a recoverable condition for the gateway (like Redis'
 * zmalloc): these abort with a message instead of returning NULL, so callers
 * need no error path for it. Thread-safe.
 */
#ifndef YIWANG_COMMON_XALLOC_H
#define YIWANG_COMMON_XALLOC_H

#include <stdarg.h>
#include <stddef.h>

void *xmalloc(size_t size);
void *xcalloc(size_t count, size_t size);
void *xrealloc(void *ptr, size_t size);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t len);
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
char *xvasprintf(const char *fmt, va_list ap);

#endif
