/*
 * path_normalize.c — one left-to-right pass over the request path.
 *
 * Each segment is copied (and percent-decoded) into `out` as it is read, then
 * judged on its decoded form: that is what makes "%2e%2e" a dot segment here
 * exactly as it will be one for the upstream. The write position never passes
 * the read position, so the output cannot outgrow the input.
 */
#include "routes/path_normalize.h"

#include <string.h>

#include <stdint.h>

#include "common/hex.h"

/* Longer paths are refused: no legitimate API path comes close, and a bound
 * keeps per-request work predictable. */
#define PATH_MAX_INPUT 8192

/* RFC 3986 §2.3: decoding these never changes what a URI means. */
static int is_unreserved(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' ||
           c == '~';
}

static int is_control(unsigned char c)
{
    return c < 0x20 || c == 0x7f;
}

/* RFC 3986 pchar minus pct-encoded (handled separately): what may appear raw in a segment. A raw '#' would start a
 * fragment to any URI parser downstream, so "/private#/../x" could mean "/x" to one server and "/private" to another. */
static int is_raw_pchar(unsigned char c)
{
    return is_unreserved(c) || (c != 0 && strchr("!$&'()*+,;=:@", c) != NULL);
}

/* Reads the "%XX" at in[i] into *value, refusing the bytes whose decoded
 * meaning differs between servers (separators, NUL, control bytes). */
static enum path_status read_percent(const char *in, size_t len, size_t i, unsigned char *value)
{
    if (len - i < 3)
        return PATH_BAD_PERCENT;
    int hi = hex_digit_value((unsigned char)in[i + 1]), lo = hex_digit_value((unsigned char)in[i + 2]);
    if (hi < 0 || lo < 0)
        return PATH_BAD_PERCENT;
    unsigned char v = (unsigned char)(hi << 4 | lo);
    if (v == 0)
        return PATH_NUL;
    if (v == '/')
        return PATH_ENCODED_SLASH;
    if (v == '\\')
        return PATH_ENCODED_BACKSLASH;
    if (is_control(v))
        return PATH_CONTROL_CHAR;
    *value = v;
    return PATH_OK;
}

/*
 * Copies the segment starting at in[*pos] to out[*w], up to the next '/' or the
 * end. *semi receives the output offset of the segment's first ';' — raw or
 * %3B, since a backend that decodes before splitting off path parameters sees
 * both the same way — or SIZE_MAX when there is none.
 */
static enum path_status copy_segment(const char *in, size_t len, size_t *pos, char *out, size_t *w, size_t *semi)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t i = *pos, o = *w;

    *semi = SIZE_MAX;
    while (i < len && in[i] != '/') {
        unsigned char c = (unsigned char)in[i];
        if (c == '%') {
            enum path_status status = read_percent(in, len, i, &c);
            if (status != PATH_OK)
                return status;
            i += 3;
            if (c == ';' && *semi == SIZE_MAX)
                *semi = o;
            if (is_unreserved(c)) {
                out[o++] = (char)c;
            } else {
                out[o++] = '%';
                out[o++] = hex[c >> 4];
                out[o++] = hex[c & 15];
            }
            continue;
        }
        if (is_control(c))
            return PATH_CONTROL_CHAR;
        if (c == '\\')
            return PATH_BACKSLASH;
        if (!is_raw_pchar(c))
            return PATH_INVALID_CHAR;
        if (c == ';' && *semi == SIZE_MAX)
            *semi = o;
        out[o++] = (char)c;
        i++;
    }
    *pos = i;
    *w = o;
    return PATH_OK;
}

/* 1 for ".", 2 for "..", 0 for anything else. */
static int dot_segment(const char *s, size_t n)
{
    if (n == 1 && s[0] == '.')
        return 1;
    if (n == 2 && s[0] == '.' && s[1] == '.')
        return 2;
    return 0;
}

/* Drops the last output segment for "..": `end` is just past a '/'. The root
 * cannot be left, so "/.." is "/" (RFC 3986 §5.2.4). */
static size_t pop_segment(const char *out, size_t end)
{
    if (end <= 1)
        return 1;
    end--;
    while (out[end - 1] != '/')
        end--;
    return end;
}

static enum path_status normalize(const char *in, size_t len, char *out, size_t *out_len)
{
    if (len > PATH_MAX_INPUT)
        return PATH_TOO_LONG;
    if (len == 0 || in[0] != '/')
        return PATH_NOT_ABSOLUTE;

    size_t i = 0, w = 0;
    out[w++] = '/';
    for (;;) {
        while (i < len && in[i] == '/') /* "//" would be an empty segment to some backends and none to others */
            i++;
        if (i == len)
            break;
        size_t start = w, semi;
        enum path_status status = copy_segment(in, len, &i, out, &w, &semi);
        if (status != PATH_OK)
            return status;
        int dots = dot_segment(out + start, (semi == SIZE_MAX ? w : semi) - start);
        if (dots != 0 && semi != SIZE_MAX)
            return PATH_DOT_PARAMETER; /* "..;x" is ".." to servlet containers, a plain name to us */
        if (dots == 1)
            w = start;
        else if (dots == 2)
            w = pop_segment(out, start);
        else if (i < len)
            out[w++] = '/';
    }
    *out_len = w;
    return PATH_OK;
}

enum path_status path_normalize(const char *in, size_t len, char *out, size_t *out_len)
{
    size_t w = 0;
    enum path_status status = normalize(in, len, out, &w);
    if (status != PATH_OK)
        w = 0; /* never hand out a half-normalised path */
    out[w] = '\0';
    if (out_len != NULL)
        *out_len = w;
    return status;
}

const char *path_status_name(enum path_status status)
{
    switch (status) {
    case PATH_OK:
        return "ok";
    case PATH_NOT_ABSOLUTE:
        return "not_absolute";
    case PATH_BAD_PERCENT:
        return "bad_percent_encoding";
    case PATH_ENCODED_SLASH:
        return "encoded_slash";
    case PATH_ENCODED_BACKSLASH:
        return "encoded_backslash";
    case PATH_NUL:
        return "nul";
    case PATH_BACKSLASH:
        return "backslash";
    case PATH_CONTROL_CHAR:
        return "control_char";
    case PATH_INVALID_CHAR:
        return "invalid_char";
    case PATH_DOT_PARAMETER:
        return "dot_parameter";
    case PATH_TOO_LONG:
        return "too_long";
    }
    return "unknown";
}
