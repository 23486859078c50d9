/*
 * strbuf.h — a growable byte buffer with JSON-aware appenders.
 *
 * Owns its bytes (malloc'ed). Used off the hot path and for fixed-shape JSON
 * built by hand (faster than Jansson for small responses, techguide §6).
 * Not thread-safe; one buffer per caller.
 */
#ifndef YIWANG_COMMON_STRBUF_H
#define YIWANG_COMMON_STRBUF_H

#include <stddef.h>

struct strbuf {
    char *data; /* always NUL-terminated when non-NULL */
    size_t len;
    size_t capacity;
};

#define STRBUF_INIT                                                                                                                \
    {                                                                                                                              \
        NULL, 0, 0                                                                                                                 \
    }

void strbuf_reserve(struct strbuf *sb, size_t extra);
void strbuf_append(struct strbuf *sb, const char *bytes, size_t len);
void strbuf_append_str(struct strbuf *sb, const char *s);
void strbuf_append_char(struct strbuf *sb, char c);
void strbuf_appendf(struct strbuf *sb, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Appends `bytes` as the inside of a JSON string: escapes '"', '\\' and control
 * bytes; invalid UTF-8 bytes become U+FFFD so the output is always valid JSON. */
void strbuf_append_json_escaped(struct strbuf *sb, const char *bytes, size_t len);
/* Appends a complete JSON string literal, quotes included. */
void strbuf_append_json_string(struct strbuf *sb, const char *bytes, size_t len);
void strbuf_reset(struct strbuf *sb);
void strbuf_free(struct strbuf *sb);
/* Hands the buffer to the caller (NUL-terminated, never NULL) and resets sb. */
char *strbuf_detach(struct strbuf *sb, size_t *len);

#endif
