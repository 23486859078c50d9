/*
 * sms.h — one-time codes sent by SMS (table sms_codes, sms_ip_quota).
 *
 * A code is 6 decimal digits drawn uniformly from the CSPRNG (RAND_bytes
 * with rejection sampling, so no digit string is likelier than another). It
 * is stored only as HMAC-SHA256(sms-code key, mobile ":" purpose ":" code):
 * a 6-digit code hashed without a key would be read back from a dump in a
 * millisecond. It is single use, expires after code_ttl_s (default 5
 * minutes) and is void after max_attempts wrong entries (default 5).
 *
 * One row per (mobile, purpose) holds the current code: sending a new code
 * replaces the previous one. Sending is throttled, all in one transaction:
 *   - resend_interval_s (60 s) between two codes to one number, checked and
 *     updated by a single UPDATE whose WHERE clause is the check, so two
 *     parallel requests cannot both pass;
 *   - daily_limit_per_mobile codes per number and daily_limit_per_ip per
 *     client address per day, the day being China Standard Time's (the
 *     gateway's clock decides the date; minutes of skew between nodes only
 *     move the boundary).
 * A refused send changes nothing (the transaction is rolled back).
 *
 * Checking a code is one transaction too: the row is updated (attempt
 * counted, marked used if the hash matches) only while the code is unused,
 * unexpired and under its attempt limit, then read back under the same row
 * lock — so two parallel right answers log in once, and wrong answers past
 * the limit are never compared.
 *
 * Codes, hashes and mobile numbers are never logged here. Delivery is
 * sms_provider.h's job.
 *
 * Threads: functions taking a `struct db` block (workers); the others are
 * pure.
 */
#ifndef YIWANG_AUTH_SMS_H
#define YIWANG_AUTH_SMS_H

#include <stddef.h>
#include <stdint.h>

#include "auth/identity_keys.h"
#include "common/config.h"
#include "common/db.h"

#define SMS_CODE_LEN 6
#define SMS_CODE_BUFSIZE (SMS_CODE_LEN + 1)
/* China Standard Time, for the daily limits. */
#define SMS_DAY_OFFSET_S (8 * 3600)

enum sms_purpose {
    SMS_PURPOSE_LOGIN,    /* registration and login */
    SMS_PURPOSE_PASSWORD, /* setting or resetting a password */
};

/* "login", "password". */
const char *sms_purpose_name(enum sms_purpose purpose);
int sms_purpose_from_name(const char *name, enum sms_purpose *out);

/* A fresh uniformly random code; 0, or -1 if the random generator failed. */
int sms_code_generate(char out[SMS_CODE_BUFSIZE]);
/* Exactly SMS_CODE_LEN ASCII digits? */
int sms_code_is_wellformed(const char *code, size_t len);
/* The stored form of a code. 0 or -1. */
int sms_code_hash(const unsigned char key[SECRETS_KEY_LEN], const char *mobile, enum sms_purpose purpose, const char *code,
                  unsigned char out[SECRETS_HASH_LEN]);
/* The day (YYYY-MM-DD, China Standard Time) of `now`, and the seconds until the next one begins. */
void sms_day(int64_t now, char out[11], unsigned *seconds_left);

enum sms_issue_status {
    SMS_ISSUED,
    SMS_TOO_SOON,           /* within resend_interval_s of the last code */
    SMS_MOBILE_DAILY_LIMIT, /* the number had its codes for today */
    SMS_IP_DAILY_LIMIT,     /* the address had its codes for today */
    SMS_ISSUE_ERROR,
};

/*
 * Makes and stores a new code for `mobile` (normalised) and writes it to
 * `code` for delivery. On a limit, *retry_after_s says when asking again can
 * succeed. `now` is the gateway's clock (Unix seconds), used for the day.
 */
enum sms_issue_status sms_issue(struct db *db, const unsigned char key[SECRETS_KEY_LEN], const struct sms_config *policy,
                                const char *mobile, enum sms_purpose purpose, const char *client_ip, int64_t now,
                                char code[SMS_CODE_BUFSIZE], unsigned *retry_after_s, char **err);

enum sms_verify_status {
    SMS_CODE_OK,       /* right, and now used */
    SMS_CODE_WRONG,    /* wrong; one attempt spent */
    SMS_CODE_UNUSABLE, /* no code, expired, used, or out of attempts */
    SMS_VERIFY_ERROR,
};

enum sms_verify_status sms_verify(struct db *db, const unsigned char key[SECRETS_KEY_LEN], const struct sms_config *policy,
                                  const char *mobile, enum sms_purpose purpose, const char *code, char **err);

#endif
