/*
 * base64url.h — RFC 4648 §5 base64url without padding, as JOSE uses it.
 *
 * Decoding is strict: only the URL-safe alphabet, no padding, no whitespace,
 * and the unused low bits of the last character must be zero, so that every
 * byte string has exactly one accepted encoding (a token cannot be altered
 * without changing what was signed). Pure functions; any thread.
 */
#ifndef YIWANG_COMMON_BASE64URL_H
#define YIWANG_COMMON_BASE64URL_H

#include <stddef.h>

/* Bytes needed to decode `len` characters. */
#define BASE64URL_DECODED_MAX(len) (((len)*3) / 4 + 1)
/* Characters needed to encode `len` bytes (no NUL). */
#define BASE64URL_ENCODED_LEN(len) (((len)*4 + 2) / 3)

/* Returns the decoded length, or -1 if `in` is not canonical base64url. `out` holds BASE64URL_DECODED_MAX(len). */
long base64url_decode(const char *in, size_t len, unsigned char *out);

/* Writes BASE64URL_ENCODED_LEN(len) characters (no NUL) and returns that length. */
size_t base64url_encode(const unsigned char *in, size_t len, char *out);

#endif
