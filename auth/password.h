/*
 * password.h — password hashing (Argon2id, libargon2) and the password policy.
 *
 * Stored form: a PHC string,
 *
 *     $argon2id$v=19$m=19456,t=2,p=1$<salt: 16 bytes>$<hash: 32 bytes>
 *
 * (salt and hash in unpadded standard base64, as libargon2 writes them),
 * at most PASSWORD_PHC_BUFSIZE - 1 characters. The parameters are OWASP's
 * first recommendation for Argon2id (Password Storage Cheat Sheet,
 * https://cheatsheetseries.owasp.org/cheatsheets/Password_Storage_Cheat_Sheet.html:
 * "m=19456 (19 MiB), t=2, p=1"). They are recorded in every PHC string, so
 * raising them later leaves old hashes verifiable: password_needs_rehash
 * tells the login path to store a new hash after a successful verify.
 *
 * Accepted passwords are 1..PASSWORD_MAX_BYTES bytes of anything (the
 * policy below decides what a *new* password may be; verification takes
 * whatever was once accepted). The upper bound is a denial-of-service guard:
 * Argon2 pre-hashes the password with BLAKE2b, so the cost of a long
 * password is small, but a login body should not be able to make it grow
 * without limit. A password outside the bounds never matches and is never
 * hashed.
 *
 * Timing: password_verify costs one Argon2id evaluation with the stored
 * parameters. When a login names an account that does not exist, call
 * password_verify_dummy instead, so the answer takes as long as a wrong
 * password for a real account and response times do not reveal which
 * accounts exist. (Accounts whose stored hash still has older, cheaper
 * parameters verify faster until they are rehashed.)
 *
 * Threads: password_hash, password_verify and password_verify_dummy take
 * tens of milliseconds of CPU and 19 MiB of memory per call: worker threads
 * only, never an event loop. password_needs_rehash and the policy are cheap
 * and pure: any thread. Every function is reentrant; libargon2 allocates its
 * memory per call.
 */
#ifndef YIWANG_AUTH_PASSWORD_H
#define YIWANG_AUTH_PASSWORD_H

#include <stddef.h>

#define PASSWORD_ARGON2_M_KIB 19456
#define PASSWORD_ARGON2_T 2
#define PASSWORD_ARGON2_P 1
#define PASSWORD_SALT_LEN 16
#define PASSWORD_HASH_LEN 32

/* Enough for the PHC string of the parameters above, with room to raise them. */
#define PASSWORD_PHC_BUFSIZE 160
#define PASSWORD_MAX_BYTES 1024
/* Characters (Unicode code points), not bytes: a password of Chinese characters counts as what the user typed. */
#define PASSWORD_MIN_CHARS 8

/*
 * Stored parameters beyond these are refused by password_verify without
 * hashing: no hash this code writes comes near them, and a corrupted or
 * planted row must not make a worker allocate gigabytes.
 */
#define PASSWORD_MAX_M_KIB (256 * 1024)
#define PASSWORD_MAX_T 16
#define PASSWORD_MAX_P 16

enum password_result {
    PASSWORD_MATCH = 0,
    PASSWORD_MISMATCH, /* wrong password, or a password outside 1..PASSWORD_MAX_BYTES */
    PASSWORD_ERROR,    /* the PHC string is malformed or out of bounds, or hashing failed */
};

/*
 * Hashes a new password with the current parameters and a fresh random salt
 * and writes the NUL-terminated PHC string to out_phc. Returns 0, or -1 if
 * the password is empty or longer than PASSWORD_MAX_BYTES, out_size is
 * smaller than PASSWORD_PHC_BUFSIZE, or hashing failed (out_phc is then "").
 * Does not apply the policy: call password_policy_check first.
 */
int password_hash(const char *password, size_t len, char *out_phc, size_t out_size);

/* Checks a password against a stored PHC string (argon2id, v=19 only). The final comparison is constant-time (libargon2). */
enum password_result password_verify(const char *phc, const char *password, size_t len);

/*
 * 1 if `phc` was made with weaker settings than the current ones — m or t
 * below the current values, or a salt or hash shorter than now — so the
 * password should be hashed again after a successful verify; 0 if not; -1 if
 * `phc` is malformed. p is not compared: with m fixed, more lanes do not
 * make a guess cheaper.
 */
int password_needs_rehash(const char *phc);

/*
 * Costs what password_verify costs with current parameters, and never
 * matches. For logins naming an unknown account. Returns PASSWORD_MISMATCH
 * (PASSWORD_ERROR only if hashing itself failed); either way the caller
 * answers as for a wrong password.
 */
enum password_result password_verify_dummy(const char *password, size_t len);

/*
 * The policy for a new password (registration, change, reset), checked in
 * this order; the first failure is returned. The codes are stable — they go
 * into API error responses (see password_policy_code).
 */
enum password_policy {
    PASSWORD_POLICY_OK = 0,
    PASSWORD_POLICY_TOO_LONG,        /* more than PASSWORD_MAX_BYTES bytes */
    PASSWORD_POLICY_BAD_CHARACTERS,  /* not valid UTF-8, or contains a control character (C0, DEL, C1) */
    PASSWORD_POLICY_TOO_SHORT,       /* fewer than PASSWORD_MIN_CHARS code points (includes empty) */
    PASSWORD_POLICY_ALL_DIGITS,      /* only ASCII digits: a date, a phone number, an ID number fragment */
    PASSWORD_POLICY_CONTAINS_MOBILE, /* contains the 11 digits of the account's own mobile number */
};

/*
 * Checks password[0..len) against the policy. `mobile` is the account's
 * mobile number in any form auth/identifiers.h accepts, or NULL; if it is not
 * a valid mobile number it is ignored. Pure; any thread.
 */
enum password_policy password_policy_check(const char *password, size_t len, const char *mobile);

/* "ok", "too_long", "bad_characters", "too_short", "all_digits", "contains_mobile". */
const char *password_policy_code(enum password_policy result);

#endif
