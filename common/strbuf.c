#include "common/strbuf.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/xalloc.h"

void strbuf_reserve(struct strbuf *sb, size_t extra)
{
    if (sb->len + extra + 1 <= sb->capacity)
        return;
    size_t capacity = sb->capacity ? sb->capacity : 64;
    while (capacity < sb->len + extra + 1)
        capacity *= 2;
    sb->data = xrealloc(sb->data, capacity);
    sb->capacity = capacity;
}

void strbuf_append(struct strbuf *sb, const char *bytes, size_t len)
{
    strbuf_reserve(sb, len);
    memcpy(sb->data + sb->len, bytes, len);
    sb->len += len;
    sb->data[sb->len] = '\0';
}

void strbuf_append_str(struct strbuf *sb, const char *s)
{
    strbuf_append(sb, s, strlen(s));
}

void strbuf_append_char(struct strbuf *sb, char c)
{
    strbuf_append(sb, &c, 1);
}

void strbuf_appendf(struct strbuf *sb, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    va_list copy;
    va_copy(copy, ap);
    int n = vsnprintf(NULL, 0, fmt, copy);
    va_end(copy);
    if (n > 0) {
        strbuf_reserve(sb, (size_t)n);
        vsnprintf(sb->data + sb->len, (size_t)n + 1, fmt, ap);
        sb->len += (size_t)n;
    }
    va_end(ap);
}

/* Length of the valid UTF-8 sequence starting at p (1..4), or 0 if invalid. */
static size_t utf8_sequence_length(const unsigned char *p, size_t avail)
{
    unsigned char c = p[0];
    size_t n;
    uint32_t cp;
    if (c < 0x80)
        return 1;
    if (c >= 0xc2 && c <= 0xdf) {
        n = 2;
        cp = c & 0x1f;
    } else if (c >= 0xe0 && c <= 0xef) {
        n = 3;
        cp = c & 0x0f;
    } else if (c >= 0xf0 && c <= 0xf4) {
        n = 4;
        cp = c & 0x07;
    } else {
        return 0;
    }
    if (avail < n)
        return 0;
    for (size_t i = 1; i < n; i++) {
        if ((p[i] & 0xc0) != 0x80)
            return 0;
        cp = (cp << 6) | (p[i] & 0x3f);
    }
    if ((n == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) || (n == 4 && (cp < 0x10000 || cp > 0x10ffff)))
        return 0;
    return n;
}

void strbuf_append_json_escaped(struct strbuf *sb, const char *bytes, size_t len)
{
    static const char hex[] = "0123456789abcdef";
    const unsigned char *p = (const unsigned char *)bytes, *end = p + len;
    strbuf_reserve(sb, len + 2);
    while (p < end) {
        unsigned char c = *p;
        if (c == '"' || c == '\\') {
            char esc[2] = {'\\', (char)c};
            strbuf_append(sb, esc, 2);
            p++;
        } else if (c < 0x20 || c == 0x7f) {
            char esc[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
            strbuf_append(sb, esc, 6);
            p++;
        } else {
            size_t n = utf8_sequence_length(p, (size_t)(end - p));
            if (n == 0) {
                strbuf_append(sb, "\xef\xbf\xbd", 3);
                p++;
            } else {
                strbuf_append(sb, (const char *)p, n);
                p += n;
            }
        }
    }
}

void strbuf_append_json_string(struct strbuf *sb, const char *bytes, size_t len)
{
    strbuf_append_char(sb, '"');
    strbuf_append_json_escaped(sb, bytes, len);
    strbuf_append_char(sb, '"');
}

void strbuf_reset(struct strbuf *sb)
{
    sb->len = 0;
    if (sb->data != NULL)
        sb->data[0] = '\0';
}

void strbuf_free(struct strbuf *sb)
{
    free(sb->data);
    *sb = (struct strbuf)STRBUF_INIT;
}

char *strbuf_detach(struct strbuf *sb, size_t *len)
{
    if (sb->data == NULL)
        strbuf_reserve(sb, 0), sb->data[0] = '\0';
    char *data = sb->data;
    if (len != NULL)
        *len = sb->len;
    *sb = (struct strbuf)STRBUF_INIT;
    return data;
}
