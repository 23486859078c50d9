/*
 * db_dsn.c — parsing the database DSN of the config file (contract in db.h).
 *
 * Error messages describe the part that is wrong but never quote the user
 * or password part: a DSN ends up in logs and CI output when it is wrong.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/db.h"
#include "common/hex.h"
#include "common/xalloc.h"

#define DSN_SCHEME "mysql://"
#define DSN_DEFAULT_PORT 3306
#define DSN_MAX_DATABASE_LEN 64
#define SOCKET_PATH_MAX 107 /* sizeof(sun_path) - 1 */

static int fail_dsn(struct db_dsn *out, char **err, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static int fail_dsn(struct db_dsn *out, char **err, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *message = xvasprintf(fmt, ap);
    va_end(ap);
    *err = xasprintf("invalid database DSN: %s (expected mysql://USER[:PASSWORD]@HOST[:PORT]/DATABASE or "
                     "mysql://USER[:PASSWORD]@/DATABASE?socket=/path)",
                     message);
    free(message);
    db_dsn_clear(out);
    return -1;
}

/* Decodes %XX escapes of s[0..len). Returns a malloc'ed string, or NULL for a bad or NUL escape. */
static char *percent_decode(const char *s, size_t len)
{
    char *out = xmalloc(len + 1);
    size_t n = 0;
    for (size_t i = 0; i < len; i++) {
        int c = (unsigned char)s[i];
        if (c == '%') {
            int hi = i + 2 < len ? hex_digit_value((unsigned char)s[i + 1]) : -1;
            int lo = i + 2 < len ? hex_digit_value((unsigned char)s[i + 2]) : -1;
            if (hi < 0 || lo < 0 || (hi == 0 && lo == 0)) {
                free(out);
                return NULL;
            }
            c = hi * 16 + lo;
            i += 2;
        }
        out[n++] = (char)c;
    }
    out[n] = '\0';
    return out;
}

static int all_chars_in(const char *s, size_t len, const char *allowed)
{
    for (size_t i = 0; i < len; i++)
        if (s[i] == '\0' || strchr(allowed, s[i]) == NULL)
            return 0;
    return 1;
}

#define ALNUM "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"

static int parse_port(const char *s, size_t len, unsigned *port)
{
    if (len == 0 || len > 5 || !all_chars_in(s, len, "0123456789"))
        return -1;
    unsigned value = 0;
    for (size_t i = 0; i < len; i++)
        value = value * 10 + (unsigned)(s[i] - '0');
    if (value == 0 || value > 65535)
        return -1;
    *port = value;
    return 0;
}

/* HOST[:PORT] or [IPv6][:PORT]; an empty part leaves host NULL. */
static int parse_host(const char *s, size_t len, struct db_dsn *out, char **err)
{
    if (len == 0)
        return 0;
    const char *host = s, *port = NULL;
    size_t host_len = len, port_len = 0;
    if (s[0] == '[') {
        const char *close = memchr(s, ']', len);
        if (close == NULL)
            return fail_dsn(out, err, "unterminated [ in the host");
        host = s + 1;
        host_len = (size_t)(close - host);
        if (host_len == 0 || !all_chars_in(host, host_len, "0123456789abcdefABCDEF:."))
            return fail_dsn(out, err, "invalid IPv6 address in the host");
        if (close + 1 < s + len) {
            if (close[1] != ':')
                return fail_dsn(out, err, "unexpected characters after ]");
            port = close + 2;
            port_len = (size_t)(s + len - port);
        }
    } else {
        const char *colon = memchr(s, ':', len);
        if (colon != NULL) {
            host_len = (size_t)(colon - s);
            port = colon + 1;
            port_len = (size_t)(s + len - port);
        }
        if (host_len == 0)
            return fail_dsn(out, err, "a port needs a host");
        if (!all_chars_in(host, host_len, ALNUM ".-_"))
            return fail_dsn(out, err, "invalid host name '%.*s'", (int)host_len, host);
    }
    out->port = DSN_DEFAULT_PORT;
    if (port != NULL && parse_port(port, port_len, &out->port) != 0)
        return fail_dsn(out, err, "the port must be a number from 1 to 65535");
    out->host = xstrndup(host, host_len);
    return 0;
}

/* The part after '?': only socket=/absolute/path. */
static int parse_query(const char *s, struct db_dsn *out, char **err)
{
    while (*s != '\0') {
        size_t len = strcspn(s, "&");
        if (len >= 7 && memcmp(s, "socket=", 7) == 0) {
            if (out->socket != NULL)
                return fail_dsn(out, err, "socket= is given twice");
            if (len == 7)
                return fail_dsn(out, err, "the socket path is empty");
            out->socket = percent_decode(s + 7, len - 7);
            if (out->socket == NULL)
                return fail_dsn(out, err, "invalid percent-encoding in the socket path");
            if (out->socket[0] != '/')
                return fail_dsn(out, err, "the socket path must be absolute");
            if (strlen(out->socket) > SOCKET_PATH_MAX)
                return fail_dsn(out, err, "the socket path is longer than %d bytes", SOCKET_PATH_MAX);
        } else {
            return fail_dsn(out, err, "unknown parameter '%.*s' (only socket= is supported)", (int)strcspn(s, "=&"), s);
        }
        s += len;
        if (*s == '&')
            s++;
    }
    return 0;
}

static int parse_userinfo(const char *s, size_t len, struct db_dsn *out, char **err)
{
    const char *colon = memchr(s, ':', len);
    size_t user_len = colon != NULL ? (size_t)(colon - s) : len;
    if (user_len == 0)
        return fail_dsn(out, err, "the user name is empty");
    out->user = percent_decode(s, user_len);
    if (out->user == NULL)
        return fail_dsn(out, err, "invalid percent-encoding in the user name");
    out->password = colon != NULL ? percent_decode(colon + 1, len - user_len - 1) : xstrdup("");
    if (out->password == NULL)
        return fail_dsn(out, err, "invalid percent-encoding in the password");
    return 0;
}

int db_dsn_parse(const char *text, struct db_dsn *out, char **err)
{
    memset(out, 0, sizeof(*out));
    *err = NULL;
    if (text == NULL || strncmp(text, DSN_SCHEME, strlen(DSN_SCHEME)) != 0)
        return fail_dsn(out, err, "it must start with " DSN_SCHEME);
    const char *p = text + strlen(DSN_SCHEME);
    const char *slash = strchr(p, '/');
    if (slash == NULL)
        return fail_dsn(out, err, "missing /DATABASE");
    /* the last '@' before the path: a password may have one even though it should be encoded as %40 */
    const char *at = memrchr(p, '@', (size_t)(slash - p));
    if (at == NULL)
        return fail_dsn(out, err, "missing USER@ before the host (in a password, encode / as %%2F, @ as %%40, ? as %%3F)");
    if (parse_userinfo(p, (size_t)(at - p), out, err) != 0 || parse_host(at + 1, (size_t)(slash - at - 1), out, err) != 0)
        return -1;

    const char *database = slash + 1;
    const char *query = strchr(database, '?');
    size_t database_len = query != NULL ? (size_t)(query - database) : strlen(database);
    if (database_len == 0)
        return fail_dsn(out, err, "the database name is empty");
    if (database_len > DSN_MAX_DATABASE_LEN || !all_chars_in(database, database_len, ALNUM "_"))
        return fail_dsn(out, err, "the database name must be 1 to %d of A-Z a-z 0-9 _", DSN_MAX_DATABASE_LEN);
    out->database = xstrndup(database, database_len);
    if (query != NULL && parse_query(query + 1, out, err) != 0)
        return -1;

    if (out->host != NULL && out->socket != NULL)
        return fail_dsn(out, err, "give a host or ?socket=, not both");
    if (out->host == NULL && out->socket == NULL)
        return fail_dsn(out, err, "no host: give HOST[:PORT] or an empty host and ?socket=/path");
    return 0;
}

static char *strdup_or_null(const char *s)
{
    return s != NULL ? xstrdup(s) : NULL;
}

void db_dsn_copy(struct db_dsn *dst, const struct db_dsn *src)
{
    dst->user = strdup_or_null(src->user);
    dst->password = strdup_or_null(src->password);
    dst->host = strdup_or_null(src->host);
    dst->port = src->port;
    dst->socket = strdup_or_null(src->socket);
    dst->database = strdup_or_null(src->database);
}

void db_dsn_clear(struct db_dsn *dsn)
{
    free(dsn->user);
    if (dsn->password != NULL) {
        /* a password should not linger in freed heap memory */
        volatile char *p = dsn->password;
        while (*p != '\0')
            *p++ = '\0';
        free(dsn->password);
    }
    free(dsn->host);
    free(dsn->socket);
    free(dsn->database);
    memset(dsn, 0, sizeof(*dsn));
}

char *db_dsn_describe(const struct db_dsn *dsn)
{
    const char *secret = dsn->password != NULL && dsn->password[0] != '\0' ? ":***" : "";
    if (dsn->socket != NULL)
        return xasprintf(DSN_SCHEME "%s%s@/%s?socket=%s", dsn->user, secret, dsn->database, dsn->socket);
    int v6 = strchr(dsn->host, ':') != NULL;
    return xasprintf(DSN_SCHEME "%s%s@%s%s%s:%u/%s", dsn->user, secret, v6 ? "[" : "", dsn->host, v6 ? "]" : "", dsn->port,
                     dsn->database);
}
