/*
 * test_sign_in.c — the pure parts of sign-in: SMS codes (format, uniformity,
 * keyed hashes bound to number and purpose, the China Standard Time day),
 * the login guard's schedule, refresh-token scope narrowing and the SMS
 * provider's message. The database parts are in test_identity_db.c.
 */
#include <stdlib.h>
#include <string.h>

#include "auth/login_guard.h"
#include "auth/refresh_tokens.h"
#include "auth/sms.h"
#include "auth/sms_provider.h"
#include "tests/unit/test.h"

static void test_codes(void)
{
    char code[SMS_CODE_BUFSIZE];
    unsigned first_digit[10] = {0};
    for (int i = 0; i < 20000; i++) {
        CHECK_INT_EQ(sms_code_generate(code), 0);
        CHECK(sms_code_is_wellformed(code, strlen(code)));
        first_digit[code[0] - '0']++;
    }
    /* leading zeros are kept ("%06u"), and every first digit turns up about equally often (2000 each) */
    for (int d = 0; d < 10; d++)
        CHECK(first_digit[d] > 1700 && first_digit[d] < 2300);
    CHECK(!sms_code_is_wellformed("12345", 5));
    CHECK(!sms_code_is_wellformed("12345a", 6));
    CHECK(!sms_code_is_wellformed("1234567", 7));
    CHECK(!sms_code_is_wellformed("-12345", 6));
}

static void test_code_hash(void)
{
    unsigned char key[SECRETS_KEY_LEN] = {1}, other_key[SECRETS_KEY_LEN] = {2};
    unsigned char a[SECRETS_HASH_LEN], b[SECRETS_HASH_LEN];
    CHECK_INT_EQ(sms_code_hash(key, "13800138000", SMS_PURPOSE_LOGIN, "123456", a), 0);
    CHECK_INT_EQ(sms_code_hash(key, "13800138000", SMS_PURPOSE_LOGIN, "123456", b), 0);
    CHECK(memcmp(a, b, sizeof(a)) == 0);
    /* a code sent to one number or for one purpose is worthless for another, and the key matters */
    CHECK_INT_EQ(sms_code_hash(key, "13800138001", SMS_PURPOSE_LOGIN, "123456", b), 0);
    CHECK(memcmp(a, b, sizeof(a)) != 0);
    CHECK_INT_EQ(sms_code_hash(key, "13800138000", SMS_PURPOSE_PASSWORD, "123456", b), 0);
    CHECK(memcmp(a, b, sizeof(a)) != 0);
    CHECK_INT_EQ(sms_code_hash(other_key, "13800138000", SMS_PURPOSE_LOGIN, "123456", b), 0);
    CHECK(memcmp(a, b, sizeof(a)) != 0);
    enum sms_purpose purpose;
    CHECK(sms_purpose_from_name("password", &purpose) == 0 && purpose == SMS_PURPOSE_PASSWORD);
    CHECK(sms_purpose_from_name("admin", &purpose) != 0);
}

static void test_day(void)
{
    char day[11];
    unsigned left = 0;
    sms_day(1795595400, day, &left); /* 2026-11-25T08:30:00Z = 16:30 in Beijing */
    CHECK_STR_EQ(day, "2026-11-25");
    CHECK_INT_EQ(left, 7.5 * 3600);
    sms_day(1795622399, day, &left); /* 15:59:59Z: the last second of the day in Beijing */
    CHECK_STR_EQ(day, "2026-11-25");
    CHECK_INT_EQ(left, 1);
    sms_day(1795622400, day, &left); /* 16:00:00Z: midnight in Beijing */
    CHECK_STR_EQ(day, "2026-11-26");
    CHECK_INT_EQ(left, 86400);
}

static const struct login_guard_config guard = {
    .mobile_max_failures = 5, .ip_max_failures = 50, .failure_window_s = 900, .lock_s = 60, .max_lock_s = 1800};

/* Charges `n` attempts at `now`; returns how many were allowed. */
static unsigned charge(struct login_guard_state *state, unsigned n, int64_t now, unsigned *retry)
{
    unsigned allowed = 0;
    for (unsigned i = 0; i < n; i++)
        allowed += login_guard_step(&guard, guard.mobile_max_failures, state, now, retry) == LOGIN_GUARD_ALLOWED;
    return allowed;
}

static void test_guard_schedule(void)
{
    struct login_guard_state state = {0};
    unsigned retry = 0;
    int64_t t = 1795595400;
    /* the 5th attempt is still checked, and it starts a 60 s lock */
    CHECK_INT_EQ(charge(&state, 5, t, &retry), 5);
    CHECK_INT_EQ(state.locked_until, t + 60);
    CHECK_INT_EQ(charge(&state, 10, t + 1, &retry), 0);
    CHECK_INT_EQ(retry, 59);
    /* after it: five more, then twice as long, ... up to the 30-minute cap */
    unsigned expected[] = {120, 240, 480, 960, 1800, 1800};
    for (size_t i = 0; i < sizeof(expected) / sizeof(expected[0]); i++) {
        t = state.locked_until;
        CHECK_INT_EQ(charge(&state, 5, t, &retry), 5);
        CHECK_INT_EQ(state.locked_until - t, expected[i]);
    }
    /* a day without a lock forgets the doubling */
    t = state.locked_until + LOGIN_GUARD_FORGET_LOCKOUTS_S;
    CHECK_INT_EQ(charge(&state, 5, t, &retry), 5);
    CHECK_INT_EQ(state.locked_until - t, 60);
    /* failures older than the window are forgotten: 4 now and 4 in 16 minutes lock nothing */
    struct login_guard_state slow = {0};
    CHECK_INT_EQ(charge(&slow, 4, t, &retry), 4);
    CHECK_INT_EQ(charge(&slow, 4, t + 901, &retry), 4);
    CHECK_INT_EQ(slow.locked_until, 0);
    CHECK_INT_EQ(slow.failures, 4);
}

static void test_scope_narrowing(void)
{
    char out[64];
    CHECK_INT_EQ(refresh_scope_narrow("a b c", NULL, "a b c d", out, sizeof(out)), 0);
    CHECK_STR_EQ(out, "a b c");
    CHECK_INT_EQ(refresh_scope_narrow("a b c", "c  a", "a b c", out, sizeof(out)), 0);
    CHECK_STR_EQ(out, "c a");
    /* wider than granted: refused, even when the client may have it */
    CHECK_INT_EQ(refresh_scope_narrow("a b", "a d", "a b d", out, sizeof(out)), -1);
    /* a scope the client lost since the login is dropped silently */
    CHECK_INT_EQ(refresh_scope_narrow("a b c", NULL, "a c", out, sizeof(out)), 0);
    CHECK_STR_EQ(out, "a c");
    CHECK_INT_EQ(refresh_scope_narrow("a b", "a a b", "a b", out, sizeof(out)), 0);
    CHECK_STR_EQ(out, "a b");
    CHECK_INT_EQ(refresh_scope_narrow("", NULL, "a", out, sizeof(out)), 0);
    CHECK_STR_EQ(out, "");
    CHECK_INT_EQ(refresh_scope_narrow("abcdef", NULL, "abcdef", out, 4), -1);
    /* prefixes are not matches */
    CHECK_INT_EQ(refresh_scope_narrow("ab", "a", "a ab", out, sizeof(out)), -1);
}

static void test_provider_message(void)
{
    struct sms_message message = {
        .mobile = "13800138000", .code = "012345", .purpose = "login", .ttl_s = 300, .time_ms = 1795595400123};
    size_t len = 0;
    char *json = sms_provider_message_json(&message, &len);
    CHECK_STR_EQ(json,
                 "{\"time\":\"2026-11-25T08:30:00.123Z\",\"mobile\":\"13800138000\",\"code\":\"012345\",\"purpose\":\"login\","
                 "\"ttl_s\":300}");
    CHECK_INT_EQ(len, strlen(json));
    free(json);
    /* no provider configured: refused, never silently dropped */
    struct sms_config none = {0};
    char *err = NULL;
    CHECK_INT_EQ(sms_provider_send(&none, &message, &err), -1);
    CHECK(err != NULL && strstr(err, "13800138000") == NULL && strstr(err, "012345") == NULL);
    free(err);
}

int main(void)
{
    test_codes();
    test_code_hash();
    test_day();
    test_guard_schedule();
    test_scope_narrowing();
    test_provider_message();
    return TEST_REPORT();
}
