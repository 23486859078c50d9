/*
 * form.h — application/x-www-form-urlencoded bodies and query strings, as
 * OAuth endpoints receive them (RFC 6749 §3.2, WHATWG URL "urlencoded").
 *
 * Strict where lenience would be a risk: a malformed percent-escape, a NUL
 * byte or a parameter given twice makes the whole form invalid (RFC 6749:
 * "parameters MUST NOT be included more than once"), so no two components can
 * read a different value for the same name. Owns copies of names and values.
 * Pure; any thread.
 */
#ifndef YIWANG_COMMON_FORM_H
#define YIWANG_COMMON_FORM_H

#include <stddef.h>

#define FORM_MAX_FIELDS 64

struct form {
    struct form_field {
        char *name;
        char *value;
        size_t value_len;
    } fields[FORM_MAX_FIELDS];
    size_t count;
};

enum form_status {
    FORM_OK = 0,
    FORM_BAD_ENCODING, /* '%' not followed by two hex digits, or a decoded NUL */
    FORM_DUPLICATE,    /* a name given twice */
    FORM_TOO_MANY,     /* more than FORM_MAX_FIELDS */
};

/* Parses `len` bytes; on failure *bad_name (may be NULL) points into the form at the offending name if known. */
enum form_status form_parse(struct form *form, const char *text, size_t len, const char **bad_name);
/* The value of `name`, or NULL when absent. */
const char *form_get(const struct form *form, const char *name);
void form_clear(struct form *form);

/* Percent-decodes (and '+' -> space); returns the decoded length or -1. `out` holds `len` + 1 bytes; NUL-terminated. */
long form_decode(const char *in, size_t len, char *out);

#endif
