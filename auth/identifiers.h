/*
 * identifiers.h — validation and normalisation of the identifiers citizens
 * and enterprises sign in with, and their masked display forms.
 *
 *   resident ID number   居民身份证号码, GB 11643-1999: 17 digits + check
 *                        character (ISO 7064 MOD 11-2, digit or X)
 *   unified social       统一社会信用代码, GB 32100-2015: 18 characters of
 *   credit code (USCC)   "0123456789ABCDEFGHJKLMNPQRTUWXY", check character
 *                        mod 31
 *   mobile number        mainland China, 11 digits 1[3-9]xxxxxxxxx
 *
 * Every function writes the normalised form (the one stored, compared and
 * hashed) and returns a status whose code string (identifier_status_code) is
 * stable: it goes into API error responses. Checks run in the order the
 * statuses are listed for each identifier and the first failure is returned.
 * The input itself never goes into an error or a log; mask it first.
 *
 * Pure functions with no allocation; any thread.
 */
#ifndef YIWANG_AUTH_IDENTIFIERS_H
#define YIWANG_AUTH_IDENTIFIERS_H

#include <stddef.h>
#include <time.h>

#define IDENTIFIERS_RESIDENT_ID_LEN 18
#define IDENTIFIERS_RESIDENT_ID_BUFSIZE (IDENTIFIERS_RESIDENT_ID_LEN + 1)
#define IDENTIFIERS_USCC_LEN 18
#define IDENTIFIERS_USCC_BUFSIZE (IDENTIFIERS_USCC_LEN + 1)
#define IDENTIFIERS_MOBILE_LEN 11
#define IDENTIFIERS_MOBILE_BUFSIZE (IDENTIFIERS_MOBILE_LEN + 1)

enum identifier_status {
    IDENTIFIER_OK = 0,
    IDENTIFIER_BAD_LENGTH,      /* "bad_length" */
    IDENTIFIER_BAD_CHAR,        /* "bad_char": a character the identifier cannot contain at that position */
    IDENTIFIER_BAD_REGION,      /* "bad_region": ID number region code / USCC division code */
    IDENTIFIER_BAD_BIRTH_DATE,  /* "bad_birth_date": not a calendar date, before 1900 or in the future */
    IDENTIFIER_BAD_CATEGORY,    /* "bad_category": USCC registration authority / organisation category */
    IDENTIFIER_BAD_PREFIX,      /* "bad_prefix": not a mainland mobile prefix (country code, 1[3-9]) */
    IDENTIFIER_BAD_CHECK_DIGIT, /* "bad_check_digit": the check character does not match */
};

/* The stable code string of a status ("ok", "bad_length", ...). */
const char *identifier_status_code(enum identifier_status status);

/*
 * Resident ID number. Input: exactly 18 characters, no surrounding spaces.
 * Checks, in order: length (bad_length); 17 digits then a digit or X/x
 * (bad_char); region code — the first digit is 1-9, as in every issued code
 * (bad_region); birth date YYYYMMDD at positions 7-14 is a real date from
 * 1900-01-01 to today in China Standard Time (UTC+8), `now` being the
 * current time (bad_birth_date); the check character (bad_check_digit).
 * `out` receives the number with a lower-case x made upper-case.
 * The older 15-digit numbers are not accepted: they were replaced in 2004-2013.
 */
enum identifier_status identifiers_resident_id_normalise(const char *in, size_t len, time_t now,
                                                         char out[IDENTIFIERS_RESIDENT_ID_BUFSIZE]);

/*
 * Unified social credit code. Input: exactly 18 characters, any case.
 * Checks, in order: length (bad_length); every character in the code's
 * alphabet after upper-casing — no I, O, Z, S, V (bad_char); registration
 * authority code (1st) and organisation category (2nd) is a combination the
 * standard assigns (bad_category); positions 3-8 are a 6-digit division code
 * (bad_region); the check character (bad_check_digit). `out` is upper case.
 */
enum identifier_status identifiers_uscc_normalise(const char *in, size_t len, char out[IDENTIFIERS_USCC_BUFSIZE]);

/*
 * Mainland mobile number, as people type it: spaces and '-' anywhere are
 * dropped, and a country code "+86", "0086" or "86" in front is removed
 * ("0086" and "86" only when 11 digits remain after it). Checks, in order:
 * input longer than 32 bytes (bad_length); anything but digits, spaces,
 * dashes and one '+' before the first digit (bad_char); '+' with a country
 * code other than 86 (bad_prefix); not 11 digits once the country code is
 * gone (bad_length); not starting 13-19 (bad_prefix). `out` receives the
 * 11 digits.
 */
enum identifier_status identifiers_mobile_normalise(const char *in, size_t len, char out[IDENTIFIERS_MOBILE_BUFSIZE]);

/*
 * Display forms of normalised identifiers, with the same masks the logs use
 * (common/pii_mask.h): "138****5678", "110105********002X". Input that is
 * not a normalised identifier comes out entirely as '*' of the identifier's
 * length, so a mistake upstream can never display an unmasked value.
 */
void identifiers_mobile_mask(const char *mobile, char out[IDENTIFIERS_MOBILE_BUFSIZE]);
void identifiers_resident_id_mask(const char *id, char out[IDENTIFIERS_RESIDENT_ID_BUFSIZE]);

#endif
