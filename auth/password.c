/*
 * password.c — Argon2id hashing through libargon2, PHC string checks and the
 * password policy. The contract is in password.h.
 */
#include "auth/password.h"

#include <string.h>

#include <argon2.h>
#include <openssl/rand.h>

#include "auth/identifiers.h"

#define STRINGIFY_(x) #x
#define STRINGIFY(x) STRINGIFY_(x)

/* Longest PHC string looked at; anything longer is malformed (and not worth a strlen over). */
#define PHC_MAX_LEN 256

#define PHC_PREFIX "$argon2id$v=19$m="

/*
 * The string password_verify_dummy checks against: current parameters, a
 * salt and a "hash" of random bytes that are the hash of no known password.
 * Built from the same constants as real hashes, so it costs what they cost.
 */
static const char dummy_phc[] = PHC_PREFIX STRINGIFY(PASSWORD_ARGON2_M_KIB) ",t=" STRINGIFY(PASSWORD_ARGON2_T) ",p=" STRINGIFY(
    PASSWORD_ARGON2_P) "$dp9EN6PJLSoOo9HDHg0QkA$5a9tFhCvZ9OTmNeHSknGie2Syn8lYiQkEorvw4Ia6dc";

struct phc_params {
    unsigned long m, t, p;
    size_t salt_len, hash_len; /* decoded bytes */
};

/* ---- PHC string parsing ---- */

static int accept_literal(const char **s, const char *literal)
{
    size_t n = strlen(literal);
    if (strncmp(*s, literal, n) != 0)
        return 0;
    *s += n;
    return 1;
}

/* A decimal of 1..10 digits without a leading zero, at most 2^32 - 1 (libargon2's uint32_t). */
static int accept_uint(const char **s, unsigned long *out)
{
    const char *p = *s;
    unsigned long long v = 0;
    size_t n = 0;
    while (p[n] >= '0' && p[n] <= '9') {
        if (++n > 10)
            return 0;
        v = v * 10 + (unsigned long long)(p[n - 1] - '0');
    }
    if (n == 0 || (n > 1 && p[0] == '0') || v > 0xffffffffULL)
        return 0;
    *out = (unsigned long)v;
    *s = p + n;
    return 1;
}

/* Value of a standard base64 character, or -1. */
static int b64_value(char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+')
        return 62;
    if (c == '/')
        return 63;
    return -1;
}

/*
 * Unpadded standard base64 up to the next '$' or the end, in its one
 * canonical spelling (unused low bits of the last character zero, as
 * libargon2 requires); stores the decoded length.
 */
static int accept_b64(const char **s, size_t *decoded_len)
{
    size_t n = 0;
    while (b64_value((*s)[n]) >= 0)
        n++;
    if (n == 0 || n % 4 == 1)
        return 0;
    int unused_bits = n % 4 == 2 ? 4 : n % 4 == 3 ? 2 : 0;
    if ((b64_value((*s)[n - 1]) & ((1 << unused_bits) - 1)) != 0)
        return 0;
    *decoded_len = n * 3 / 4;
    *s += n;
    return 1;
}

/* Parses "$argon2id$v=19$m=M,t=T,p=P$SALT$HASH" and nothing else. 0 or -1. */
static int phc_parse(const char *phc, struct phc_params *out)
{
    if (phc == NULL || strnlen(phc, PHC_MAX_LEN + 1) > PHC_MAX_LEN)
        return -1;
    const char *s = phc;
    if (accept_literal(&s, PHC_PREFIX) && accept_uint(&s, &out->m) && accept_literal(&s, ",t=") && accept_uint(&s, &out->t) &&
        accept_literal(&s, ",p=") && accept_uint(&s, &out->p) && accept_literal(&s, "$") && accept_b64(&s, &out->salt_len) &&
        accept_literal(&s, "$") && accept_b64(&s, &out->hash_len) && *s == '\0')
        return 0;
    return -1;
}

/* Parameters this process is willing to spend time and memory on. */
static int phc_within_bounds(const struct phc_params *params)
{
    return params->t >= 1 && params->t <= PASSWORD_MAX_T && params->p >= 1 && params->p <= PASSWORD_MAX_P &&
           params->m >= 8 * params->p && params->m <= PASSWORD_MAX_M_KIB && params->salt_len >= ARGON2_MIN_SALT_LENGTH &&
           params->salt_len <= 64 && params->hash_len >= ARGON2_MIN_OUTLEN && params->hash_len <= 64;
}

/* ---- hashing and verifying ---- */

static int password_len_ok(const char *password, size_t len)
{
    return password != NULL && len > 0 && len <= PASSWORD_MAX_BYTES;
}

int password_hash(const char *password, size_t len, char *out_phc, size_t out_size)
{
    if (out_phc == NULL || out_size < PASSWORD_PHC_BUFSIZE) {
        if (out_phc != NULL && out_size > 0)
            out_phc[0] = '\0';
        return -1;
    }
    out_phc[0] = '\0';
    unsigned char salt[PASSWORD_SALT_LEN];
    if (!password_len_ok(password, len) || RAND_bytes(salt, sizeof(salt)) != 1)
        return -1;
    int rc = argon2id_hash_encoded(PASSWORD_ARGON2_T, PASSWORD_ARGON2_M_KIB, PASSWORD_ARGON2_P, password, len, salt, sizeof(salt),
                                   PASSWORD_HASH_LEN, out_phc, out_size);
    if (rc != ARGON2_OK) {
        out_phc[0] = '\0';
        return -1;
    }
    return 0;
}

/* The common path of real and dummy verification, so both do the same work. */
static enum password_result verify_phc(const char *phc, const char *password, size_t len)
{
    struct phc_params params;
    if (phc_parse(phc, &params) != 0 || !phc_within_bounds(&params))
        return PASSWORD_ERROR;
    if (!password_len_ok(password, len))
        return PASSWORD_MISMATCH;
    switch (argon2id_verify(phc, password, len)) {
    case ARGON2_OK:
        return PASSWORD_MATCH;
    case ARGON2_VERIFY_MISMATCH:
        return PASSWORD_MISMATCH;
    default:
        return PASSWORD_ERROR;
    }
}

enum password_result password_verify(const char *phc, const char *password, size_t len)
{
    return verify_phc(phc, password, len);
}

enum password_result password_verify_dummy(const char *password, size_t len)
{
    enum password_result result = verify_phc(dummy_phc, password, len);
    /* A match would need a preimage of random bytes; even then, an unknown account never logs in. */
    return result == PASSWORD_MATCH ? PASSWORD_MISMATCH : result;
}

int password_needs_rehash(const char *phc)
{
    struct phc_params params;
    if (phc_parse(phc, &params) != 0)
        return -1;
    return params.m < PASSWORD_ARGON2_M_KIB || params.t < PASSWORD_ARGON2_T || params.salt_len < PASSWORD_SALT_LEN ||
           params.hash_len < PASSWORD_HASH_LEN;
}

/* ---- policy ---- */

/*
 * Length in bytes of the well-formed UTF-8 sequence at s[0..len), or 0 if it
 * is malformed (overlong, surrogate, above U+10FFFF, truncated) or a control
 * character (C0, DEL, or C1 U+0080..U+009F).
 */
static size_t utf8_char_len(const unsigned char *s, size_t len)
{
    unsigned char c = s[0];
    size_t n;
    unsigned char lo = 0x80, hi = 0xbf; /* allowed range of the second byte */
    if (c < 0x80)
        return c >= 0x20 && c != 0x7f ? 1 : 0;
    if (c >= 0xc2 && c <= 0xdf) {
        n = 2;
        lo = c == 0xc2 ? 0xa0 : 0x80; /* C2 80..C2 9F are the C1 controls */
    } else if (c >= 0xe0 && c <= 0xef) {
        n = 3;
        lo = c == 0xe0 ? 0xa0 : 0x80; /* E0 80..9F would be overlong */
        hi = c == 0xed ? 0x9f : 0xbf; /* ED A0..BF are UTF-16 surrogates */
    } else if (c >= 0xf0 && c <= 0xf4) {
        n = 4;
        lo = c == 0xf0 ? 0x90 : 0x80; /* F0 80..8F would be overlong */
        hi = c == 0xf4 ? 0x8f : 0xbf; /* beyond F4 8F is above U+10FFFF */
    } else {
        return 0;
    }
    if (len < n || s[1] < lo || s[1] > hi)
        return 0;
    for (size_t i = 2; i < n; i++)
        if (s[i] < 0x80 || s[i] > 0xbf)
            return 0;
    return n;
}

/* Number of code points in s[0..len), or -1 if it is not acceptable UTF-8 text. */
static long count_chars(const char *s, size_t len)
{
    long chars = 0;
    for (size_t i = 0; i < len; chars++) {
        size_t n = utf8_char_len((const unsigned char *)s + i, len - i);
        if (n == 0)
            return -1;
        i += n;
    }
    return chars;
}

static int all_ascii_digits(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (s[i] < '0' || s[i] > '9')
            return 0;
    return 1;
}

static int contains_mobile(const char *password, size_t len, const char *mobile)
{
    char digits[IDENTIFIERS_MOBILE_BUFSIZE];
    if (mobile == NULL || identifiers_mobile_normalise(mobile, strlen(mobile), digits) != IDENTIFIER_OK)
        return 0;
    return memmem(password, len, digits, IDENTIFIERS_MOBILE_LEN) != NULL;
}

enum password_policy password_policy_check(const char *password, size_t len, const char *mobile)
{
    if (password == NULL)
        return PASSWORD_POLICY_TOO_SHORT;
    if (len > PASSWORD_MAX_BYTES)
        return PASSWORD_POLICY_TOO_LONG;
    long chars = count_chars(password, len);
    if (chars < 0)
        return PASSWORD_POLICY_BAD_CHARACTERS;
    if (chars < PASSWORD_MIN_CHARS)
        return PASSWORD_POLICY_TOO_SHORT;
    if (all_ascii_digits(password, len))
        return PASSWORD_POLICY_ALL_DIGITS;
    if (contains_mobile(password, len, mobile))
        return PASSWORD_POLICY_CONTAINS_MOBILE;
    return PASSWORD_POLICY_OK;
}

const char *password_policy_code(enum password_policy result)
{
    switch (result) {
    case PASSWORD_POLICY_OK:
        return "ok";
    case PASSWORD_POLICY_TOO_LONG:
        return "too_long";
    case PASSWORD_POLICY_BAD_CHARACTERS:
        return "bad_characters";
    case PASSWORD_POLICY_TOO_SHORT:
        return "too_short";
    case PASSWORD_POLICY_ALL_DIGITS:
        return "all_digits";
    case PASSWORD_POLICY_CONTAINS_MOBILE:
        return "contains_mobile";
    }
    return "unknown";
}
