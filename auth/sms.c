#include "auth/sms.h"

#include <openssl/rand.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "common/xalloc.h"

/* The largest multiple of 10^6 below 2^32: values at or above it are drawn again, so every code is equally likely. */
#define CODE_SPACE 1000000u
#define SAMPLE_LIMIT (4294u * CODE_SPACE)

static const char *const purpose_names[] = {
    [SMS_PURPOSE_LOGIN] = "login",
    [SMS_PURPOSE_PASSWORD] = "password",
};

const char *sms_purpose_name(enum sms_purpose purpose)
{
    return (unsigned)purpose < sizeof(purpose_names) / sizeof(purpose_names[0]) ? purpose_names[purpose] : "login";
}

int sms_purpose_from_name(const char *name, enum sms_purpose *out)
{
    for (size_t i = 0; i < sizeof(purpose_names) / sizeof(purpose_names[0]); i++) {
        if (strcmp(purpose_names[i], name) == 0) {
            *out = (enum sms_purpose)i;
            return 0;
        }
    }
    return -1;
}

int sms_code_generate(char out[SMS_CODE_BUFSIZE])
{
    uint32_t value;
    do {
        if (RAND_bytes((unsigned char *)&value, sizeof(value)) != 1)
            return -1;
    } while (value >= SAMPLE_LIMIT);
    snprintf(out, SMS_CODE_BUFSIZE, "%06u", (unsigned)(value % CODE_SPACE));
    value = 0;
    return 0;
}

int sms_code_is_wellformed(const char *code, size_t len)
{
    if (len != SMS_CODE_LEN)
        return 0;
    for (size_t i = 0; i < len; i++) {
        if (code[i] < '0' || code[i] > '9')
            return 0;
    }
    return 1;
}

int sms_code_hash(const unsigned char key[SECRETS_KEY_LEN], const char *mobile, enum sms_purpose purpose, const char *code,
                  unsigned char out[SECRETS_HASH_LEN])
{
    char input[64];
    int n = snprintf(input, sizeof(input), "%s:%s:%s", mobile, sms_purpose_name(purpose), code);
    int rc = n > 0 && (size_t)n < sizeof(input) ? secrets_keyed_hash(key, input, (size_t)n, out) : -1;
    secrets_wipe(input, sizeof(input));
    return rc;
}

void sms_day(int64_t now, char out[11], unsigned *seconds_left)
{
    time_t local = (time_t)(now + SMS_DAY_OFFSET_S);
    struct tm tm;
    gmtime_r(&local, &tm);
    strftime(out, 11, "%Y-%m-%d", &tm);
    *seconds_left = (unsigned)(86400 - (tm.tm_hour * 3600 + tm.tm_min * 60 + tm.tm_sec));
}

/* ---- issuing ---- */

static enum sms_issue_status fail_issue(struct db *db, const char *what, char **err)
{
    *err = xasprintf("sms: %s: %s", what, db_error(db));
    return SMS_ISSUE_ERROR;
}

/* Why the mobile number's row refused a new code: too soon (with the wait) or its daily limit. */
static enum sms_issue_status mobile_refusal(struct db *db, const struct sms_config *policy, const char *mobile, const char *purpose,
                                            unsigned day_left, unsigned *retry_after_s, char **err)
{
    struct db_result *res =
        db_query(db, 0,
                 "SELECT CEIL(TIMESTAMPDIFF(MICROSECOND, UTC_TIMESTAMP(6), last_sent_at + INTERVAL ? SECOND) / 1000000) "
                 "FROM sms_codes WHERE mobile = ? AND purpose = ?",
                 DB_ARGS(db_uint(policy->resend_interval_s), db_text(mobile), db_text(purpose)));
    int64_t wait = 0;
    if (res == NULL || db_result_next(res) != 1 || db_result_int64(res, 0, &wait) != DB_GET_OK)
        return fail_issue(db, "cannot read the resend time", err);
    if (wait > 0) {
        *retry_after_s = (unsigned)wait;
        return SMS_TOO_SOON;
    }
    *retry_after_s = day_left;
    return SMS_MOBILE_DAILY_LIMIT;
}

static enum sms_issue_status store_code(struct db *db, const unsigned char key[SECRETS_KEY_LEN], const struct sms_config *policy,
                                        const char *mobile, enum sms_purpose purpose, const char *code, const char *day,
                                        unsigned day_left, unsigned *retry_after_s, char **err)
{
    const char *purpose_name = sms_purpose_name(purpose);
    unsigned char hash[SECRETS_HASH_LEN];
    if (sms_code_hash(key, mobile, purpose, code, hash) != 0) {
        *err = xstrdup("sms: cannot hash the code");
        return SMS_ISSUE_ERROR;
    }
    if (db_exec(db, 0, "INSERT INTO sms_codes (mobile, purpose) VALUES (?, ?) ON DUPLICATE KEY UPDATE mobile = mobile",
                DB_ARGS(db_text(mobile), db_text(purpose_name))) != 0)
        return fail_issue(db, "cannot create the row", err);
    /* the WHERE clause is the check: a parallel send waits for this row and then fails it */
    if (db_exec(db, 0,
                "UPDATE sms_codes SET sent_on_day = IF(sent_day = ?, sent_on_day + 1, 1), sent_day = ?, code_hash = ?, "
                "expires_at = UTC_TIMESTAMP(6) + INTERVAL ? SECOND, attempts = 0, used = 0, last_sent_at = UTC_TIMESTAMP(6) "
                "WHERE mobile = ? AND purpose = ? AND last_sent_at <= UTC_TIMESTAMP(6) - INTERVAL ? SECOND "
                "AND (sent_day <> ? OR sent_on_day < ?)",
                DB_ARGS(db_text(day), db_text(day), db_blob(hash, sizeof(hash)), db_uint(policy->code_ttl_s), db_text(mobile),
                        db_text(purpose_name), db_uint(policy->resend_interval_s), db_text(day),
                        db_uint(policy->daily_limit_per_mobile))) != 0)
        return fail_issue(db, "cannot store the code", err);
    if (db_affected_rows(db) == 0)
        return mobile_refusal(db, policy, mobile, purpose_name, day_left, retry_after_s, err);
    return SMS_ISSUED;
}

static enum sms_issue_status count_for_ip(struct db *db, const struct sms_config *policy, const char *client_ip, const char *day,
                                          unsigned day_left, unsigned *retry_after_s, char **err)
{
    if (db_exec(db, 0, "INSERT INTO sms_ip_quota (client_ip, day) VALUES (?, ?) ON DUPLICATE KEY UPDATE day = day",
                DB_ARGS(db_text(client_ip), db_text(day))) != 0 ||
        db_exec(db, 0, "UPDATE sms_ip_quota SET sent = sent + 1 WHERE client_ip = ? AND day = ? AND sent < ?",
                DB_ARGS(db_text(client_ip), db_text(day), db_uint(policy->daily_limit_per_ip))) != 0)
        return fail_issue(db, "cannot count the address's codes", err);
    if (db_affected_rows(db) == 0) {
        *retry_after_s = day_left;
        return SMS_IP_DAILY_LIMIT;
    }
    return SMS_ISSUED;
}

enum sms_issue_status sms_issue(struct db *db, const unsigned char key[SECRETS_KEY_LEN], const struct sms_config *policy,
                                const char *mobile, enum sms_purpose purpose, const char *client_ip, int64_t now,
                                char code[SMS_CODE_BUFSIZE], unsigned *retry_after_s, char **err)
{
    char day[11];
    unsigned day_left;
    *retry_after_s = 0;
    sms_day(now, day, &day_left);
    if (sms_code_generate(code) != 0) {
        *err = xstrdup("sms: the random generator failed");
        return SMS_ISSUE_ERROR;
    }
    if (db_begin(db) != 0)
        return fail_issue(db, "cannot start a transaction", err);
    enum sms_issue_status status = count_for_ip(db, policy, client_ip, day, day_left, retry_after_s, err);
    if (status == SMS_ISSUED)
        status = store_code(db, key, policy, mobile, purpose, code, day, day_left, retry_after_s, err);
    if (status == SMS_ISSUED && db_commit(db) != 0)
        status = fail_issue(db, "cannot commit", err);
    if (status != SMS_ISSUED) {
        db_rollback(db); /* a refused send must not use up the address's quota */
        secrets_wipe(code, SMS_CODE_BUFSIZE);
    }
    return status;
}

/* ---- checking ---- */

static enum sms_verify_status fail_verify(struct db *db, const char *what, char **err)
{
    *err = xasprintf("sms: %s: %s", what, db_error(db));
    return SMS_VERIFY_ERROR;
}

static enum sms_verify_status verify_locked(struct db *db, const unsigned char hash[SECRETS_HASH_LEN],
                                            const struct sms_config *policy, const char *mobile, const char *purpose, char **err)
{
    if (db_exec(db, 0,
                "UPDATE sms_codes SET attempts = attempts + 1, used = (code_hash = ?) WHERE mobile = ? AND purpose = ? "
                "AND used = 0 AND code_hash IS NOT NULL AND expires_at > UTC_TIMESTAMP(6) AND attempts < ?",
                DB_ARGS(db_blob(hash, SECRETS_HASH_LEN), db_text(mobile), db_text(purpose), db_uint(policy->max_attempts))) != 0)
        return fail_verify(db, "cannot count the attempt", err);
    if (db_affected_rows(db) == 0)
        return SMS_CODE_UNUSABLE;
    /* still under this transaction's row lock: what we read is what our UPDATE decided */
    struct db_result *res =
        db_query(db, 0, "SELECT used FROM sms_codes WHERE mobile = ? AND purpose = ?", DB_ARGS(db_text(mobile), db_text(purpose)));
    int used = 0;
    if (res == NULL || db_result_next(res) != 1 || db_result_int(res, 0, &used) != DB_GET_OK)
        return fail_verify(db, "cannot read the outcome", err);
    return used ? SMS_CODE_OK : SMS_CODE_WRONG;
}

enum sms_verify_status sms_verify(struct db *db, const unsigned char key[SECRETS_KEY_LEN], const struct sms_config *policy,
                                  const char *mobile, enum sms_purpose purpose, const char *code, char **err)
{
    unsigned char hash[SECRETS_HASH_LEN];
    if (!sms_code_is_wellformed(code, strlen(code)))
        return SMS_CODE_WRONG;
    if (sms_code_hash(key, mobile, purpose, code, hash) != 0) {
        *err = xstrdup("sms: cannot hash the code");
        return SMS_VERIFY_ERROR;
    }
    if (db_begin(db) != 0)
        return fail_verify(db, "cannot start a transaction", err);
    enum sms_verify_status status = verify_locked(db, hash, policy, mobile, sms_purpose_name(purpose), err);
    if (status != SMS_VERIFY_ERROR && db_commit(db) != 0)
        status = fail_verify(db, "cannot commit", err);
    if (status == SMS_VERIFY_ERROR)
        db_rollback(db);
    return status;
}
