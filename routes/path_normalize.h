/*
 * path_normalize.h — turn a request path into the one canonical form that
 * routing, policy and the upstream all see.
 *
 * A route's policy must not be bypassable by spelling the same resource
 * differently, so the gateway matches, logs and forwards only the normalised
 * path, and refuses the encodings whose meaning differs between servers.
 *
 * Pure functions; any thread.
 */
#ifndef YIWANG_ROUTES_PATH_NORMALIZE_H
#define YIWANG_ROUTES_PATH_NORMALIZE_H

#include <stddef.h>

enum path_status {
    PATH_OK = 0,
    PATH_NOT_ABSOLUTE,      /* does not start with '/' */
    PATH_BAD_PERCENT,       /* '%' not followed by two hex digits */
    PATH_ENCODED_SLASH,     /* %2F: one segment or two? servers disagree */
    PATH_ENCODED_BACKSLASH, /* %5C */
    PATH_NUL,               /* %00 */
    PATH_BACKSLASH,         /* raw '\': a separator on some backends */
    PATH_CONTROL_CHAR,      /* raw bytes < 0x20 or 0x7f, or %-encoded ones */
    PATH_INVALID_CHAR,      /* a raw byte RFC 3986 does not allow in a path ('#', space, '"', '<', non-ASCII, ...) */
    PATH_DOT_PARAMETER,     /* "..;x" / ".;x": a dot segment to servlet containers */
    PATH_TOO_LONG,
};

/*
 * Normalises `in` (the path part of the request target, query excluded):
 *  - percent-decodes unreserved characters (ALPHA DIGIT - . _ ~); other %XX
 *    stay encoded with upper-case hex digits;
 *  - removes dot segments (RFC 3986 §5.2.4; ".." at the root stays at the root);
 *  - merges runs of '/' into one;
 *  - refuses the ambiguous forms listed in enum path_status.
 * `out` must hold at least `len + 1` bytes; the result is NUL-terminated and
 * never longer than the input. Returns PATH_OK or the first problem found.
 */
enum path_status path_normalize(const char *in, size_t len, char *out, size_t *out_len);

/* A stable machine-readable name for a status, e.g. "encoded_slash". */
const char *path_status_name(enum path_status status);

#endif
