/*
 * test_password.c — Argon2id hashing and verification, PHC string handling,
 * rehash decisions, the dummy verify and the password policy. Prints how
 * long one hash takes on this machine.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <argon2.h>

#include "auth/password.h"
#include "tests/unit/test.h"

/* Generous: the hash takes tens of milliseconds natively, a few times that under sanitizers. */
#define HASH_TIME_LIMIT_MS 10000.0

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000.0 + ts.tv_nsec / 1e6;
}

static const char correct[] = "correct horse battery staple";

/* A PHC string with chosen parameters, made with libargon2 directly (what an older version of this code would have stored). */
static void legacy_phc(unsigned t, unsigned m, unsigned p, size_t salt_len, size_t hash_len, char *out, size_t out_size)
{
    const unsigned char salt[32] = "0123456789abcdef0123456789abcde";
    int rc = argon2id_hash_encoded(t, m, p, correct, strlen(correct), salt, salt_len, hash_len, out, out_size);
    CHECK_INT_EQ(rc, ARGON2_OK);
}

static void test_hash_and_verify(void)
{
    char phc[PASSWORD_PHC_BUFSIZE], phc2[PASSWORD_PHC_BUFSIZE];
    double start = now_ms();
    CHECK_INT_EQ(password_hash(correct, strlen(correct), phc, sizeof(phc)), 0);
    double hash_ms = now_ms() - start;

    static const char prefix[] = "$argon2id$v=19$m=19456,t=2,p=1$";
    CHECK(strncmp(phc, prefix, strlen(prefix)) == 0);
    /* 16-byte salt = 22 base64 characters, 32-byte hash = 43. */
    const char *salt = phc + strlen(prefix), *dollar = strchr(salt, '$');
    CHECK(dollar != NULL);
    if (dollar != NULL) {
        CHECK_INT_EQ(dollar - salt, 22);
        CHECK_INT_EQ(strlen(dollar + 1), 43);
    }
    CHECK_INT_EQ(strlen(phc), strlen(prefix) + 22 + 1 + 43);

    start = now_ms();
    CHECK_INT_EQ(password_verify(phc, correct, strlen(correct)), PASSWORD_MATCH);
    double verify_ms = now_ms() - start;
    CHECK_INT_EQ(password_verify(phc, "correct horse battery stapler", 29), PASSWORD_MISMATCH);
    CHECK_INT_EQ(password_verify(phc, "Correct horse battery staple", strlen(correct)), PASSWORD_MISMATCH);
    /* The length is honoured: a prefix is not the password. */
    CHECK_INT_EQ(password_verify(phc, correct, strlen(correct) - 1), PASSWORD_MISMATCH);
    CHECK_INT_EQ(password_needs_rehash(phc), 0);

    /* A fresh salt each time. */
    CHECK_INT_EQ(password_hash(correct, strlen(correct), phc2, sizeof(phc2)), 0);
    CHECK(strcmp(phc, phc2) != 0);
    CHECK_INT_EQ(password_verify(phc2, correct, strlen(correct)), PASSWORD_MATCH);

    /* The first call pays for page faults on fresh memory; a few more show the steady state. */
    double best_ms = hash_ms;
    for (int i = 0; i < 4; i++) {
        start = now_ms();
        CHECK_INT_EQ(password_hash(correct, strlen(correct), phc2, sizeof(phc2)), 0);
        double ms = now_ms() - start;
        best_ms = ms < best_ms ? ms : best_ms;
    }
    fprintf(stderr, "argon2id m=%d KiB t=%d p=%d: first hash %.1f ms, best of 5 %.1f ms, verify %.1f ms\n", PASSWORD_ARGON2_M_KIB,
            PASSWORD_ARGON2_T, PASSWORD_ARGON2_P, hash_ms, best_ms, verify_ms);
    CHECK(hash_ms < HASH_TIME_LIMIT_MS);
    CHECK(verify_ms < HASH_TIME_LIMIT_MS);
}

/* Embedded NUL bytes are password bytes like any other. */
static void test_binary_password(void)
{
    char phc[PASSWORD_PHC_BUFSIZE];
    CHECK_INT_EQ(password_hash("abc\0defgh", 9, phc, sizeof(phc)), 0);
    CHECK_INT_EQ(password_verify(phc, "abc\0defgh", 9), PASSWORD_MATCH);
    CHECK_INT_EQ(password_verify(phc, "abc", 3), PASSWORD_MISMATCH);
    CHECK_INT_EQ(password_verify(phc, "abc\0defgX", 9), PASSWORD_MISMATCH);
}

static void test_length_bounds(void)
{
    char phc[PASSWORD_PHC_BUFSIZE], small[PASSWORD_PHC_BUFSIZE - 1];
    char *long_pw = malloc(PASSWORD_MAX_BYTES + 1);
    memset(long_pw, 'a', PASSWORD_MAX_BYTES + 1);

    strcpy(phc, "junk");
    CHECK_INT_EQ(password_hash("", 0, phc, sizeof(phc)), -1);
    CHECK_STR_EQ(phc, "");
    CHECK_INT_EQ(password_hash(NULL, 0, phc, sizeof(phc)), -1);
    CHECK_INT_EQ(password_hash(long_pw, PASSWORD_MAX_BYTES + 1, phc, sizeof(phc)), -1);
    CHECK_STR_EQ(phc, "");
    CHECK_INT_EQ(password_hash(correct, strlen(correct), small, sizeof(small)), -1);
    CHECK_STR_EQ(small, "");

    CHECK_INT_EQ(password_hash(long_pw, PASSWORD_MAX_BYTES, phc, sizeof(phc)), 0);
    CHECK_INT_EQ(password_verify(phc, long_pw, PASSWORD_MAX_BYTES), PASSWORD_MATCH);
    /* Outside the bounds nothing matches, and nothing is hashed. */
    CHECK_INT_EQ(password_verify(phc, long_pw, PASSWORD_MAX_BYTES + 1), PASSWORD_MISMATCH);
    CHECK_INT_EQ(password_verify(phc, "", 0), PASSWORD_MISMATCH);
    CHECK_INT_EQ(password_verify(phc, NULL, 0), PASSWORD_MISMATCH);
    free(long_pw);
}

static void test_needs_rehash(void)
{
    char phc[PASSWORD_PHC_BUFSIZE];
    struct {
        unsigned t, m, p;
        size_t salt_len, hash_len;
        int expected;
    } cases[] = {
        {2, 19456, 1, 16, 32, 0}, /* current */
        {1, 19456, 1, 16, 32, 1}, /* fewer passes */
        {2, 4096, 1, 16, 32, 1},  /* less memory */
        {3, 12288, 1, 16, 32, 1}, /* OWASP's alternative set, but less memory than now */
        {2, 19456, 2, 16, 32, 0}, /* more lanes, same memory and passes */
        {3, 47104, 1, 16, 32, 0}, /* stronger */
        {2, 19456, 1, 8, 32, 1},  /* short salt */
        {2, 19456, 1, 16, 16, 1}, /* short hash */
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        legacy_phc(cases[i].t, cases[i].m, cases[i].p, cases[i].salt_len, cases[i].hash_len, phc, sizeof(phc));
        CHECK_INT_EQ(password_needs_rehash(phc), cases[i].expected);
        /* Old hashes stay verifiable until they are replaced. */
        CHECK_INT_EQ(password_verify(phc, correct, strlen(correct)), PASSWORD_MATCH);
        CHECK_INT_EQ(password_verify(phc, "wrong password", 14), PASSWORD_MISMATCH);
    }
}

static void test_malformed_phc(void)
{
    /* A valid string to start from: hash of `correct` with t=2, m=19456, p=1, 16-byte salt "0123456789abcdef". */
    char good[PASSWORD_PHC_BUFSIZE];
    legacy_phc(2, 19456, 1, 16, 32, good, sizeof(good));
    const char *hash = strrchr(good, '$') + 1;
    char buf[600];
    const char *bad[] = {
        "",
        "$argon2id$",
        "argon2id$v=19$m=19456,t=2,p=1$MDEyMzQ1Njc4OWFiY2RlZg$%s",
        "$argon2i$v=19$m=19456,t=2,p=1$MDEyMzQ1Njc4OWFiY2RlZg$%s",
        "$argon2d$v=19$m=19456,t=2,p=1$MDEyMzQ1Njc4OWFiY2RlZg$%s",
        "$argon2id$v=16$m=19456,t=2,p=1$MDEyMzQ1Njc4OWFiY2RlZg$%s",
        "$argon2id$m=19456,t=2,p=1$MDEyMzQ1Njc4OWFiY2RlZg$%s",
        "$argon2id$v=19$m=019456,t=2,p=1$MDEyMzQ1Njc4OWFiY2RlZg$%s",
        "$argon2id$v=19$t=2,m=19456,p=1$MDEyMzQ1Njc4OWFiY2RlZg$%s",
        "$argon2id$v=19$m=19456,t=2$MDEyMzQ1Njc4OWFiY2RlZg$%s",
        "$argon2id$v=19$m=19456,t=2,p=1$MDEyMzQ1Njc4OWFiY2RlZg",
        "$argon2id$v=19$m=19456,t=2,p=1$MDEyMzQ1Njc4OWFiY2RlZg$",
        "$argon2id$v=19$m=19456,t=2,p=1$$%s",
        "$argon2id$v=19$m=19456,t=2,p=1$MDEyMzQ1Njc4OWFiY2RlZg$%s$",
        "$argon2id$v=19$m=19456,t=2,p=1$MDEyMzQ1Njc4OWFiY2RlZg$%s ",
        "$argon2id$v=19$m=19456,t=2,p=1$MDEyMzQ1Njc4OWFiY2RlZg==$%s",
        "$argon2id$v=19$m=19456,t=2,p=1$MDEy-zQ1Njc4OWFiY2RlZg$%s",
        "$argon2id$v=19$m=19456,t=2,p=1$MDEyMzQ1Njc4OWFiY2RlZ$%s",
        "$argon2id$v=19$m=19456,t=2,p=1$MDEyMzQ1Njc4OWFiY2RlZh$%s",
        "$argon2id$v=19$m=99999999999,t=2,p=1$MDEyMzQ1Njc4OWFiY2RlZg$%s",
        "$argon2id$v=19$m=-1,t=2,p=1$MDEyMzQ1Njc4OWFiY2RlZg$%s",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        snprintf(buf, sizeof(buf), bad[i], hash);
        if (password_verify(buf, correct, strlen(correct)) != PASSWORD_ERROR)
            fprintf(stderr, "accepted: %s\n", buf);
        CHECK_INT_EQ(password_verify(buf, correct, strlen(correct)), PASSWORD_ERROR);
        CHECK_INT_EQ(password_needs_rehash(buf), -1);
    }
    CHECK_INT_EQ(password_verify(NULL, correct, strlen(correct)), PASSWORD_ERROR);
    CHECK_INT_EQ(password_needs_rehash(NULL), -1);

    /* Well-formed but beyond what this process will spend: refused before any memory is allocated. */
    const char *costly[] = {
        "$argon2id$v=19$m=4194304,t=2,p=1$MDEyMzQ1Njc4OWFiY2RlZg$%s", "$argon2id$v=19$m=19456,t=1000,p=1$MDEyMzQ1Njc4OWFiY2RlZg$%s",
        "$argon2id$v=19$m=19456,t=2,p=64$MDEyMzQ1Njc4OWFiY2RlZg$%s",  "$argon2id$v=19$m=19456,t=0,p=1$MDEyMzQ1Njc4OWFiY2RlZg$%s",
        "$argon2id$v=19$m=4,t=2,p=1$MDEyMzQ1Njc4OWFiY2RlZg$%s",
    };
    for (size_t i = 0; i < sizeof(costly) / sizeof(costly[0]); i++) {
        snprintf(buf, sizeof(buf), costly[i], hash);
        CHECK_INT_EQ(password_verify(buf, correct, strlen(correct)), PASSWORD_ERROR);
    }

    /* Longer than any PHC string could be. */
    memset(buf, 'A', sizeof(buf) - 1);
    buf[sizeof(buf) - 1] = '\0';
    memcpy(buf, good, strlen(good));
    CHECK_INT_EQ(password_verify(buf, correct, strlen(correct)), PASSWORD_ERROR);

    /* The unmodified string verifies: the failures above come from the modifications. */
    snprintf(buf, sizeof(buf), "$argon2id$v=19$m=19456,t=2,p=1$MDEyMzQ1Njc4OWFiY2RlZg$%s", hash);
    CHECK_STR_EQ(buf, good);
    CHECK_INT_EQ(password_verify(buf, correct, strlen(correct)), PASSWORD_MATCH);
}

static double best_of_three_verify(const char *phc)
{
    double best = 1e9;
    for (int i = 0; i < 3; i++) {
        double start = now_ms();
        if (phc != NULL)
            CHECK_INT_EQ(password_verify(phc, "guess", 5), PASSWORD_MISMATCH);
        else
            CHECK_INT_EQ(password_verify_dummy("guess", 5), PASSWORD_MISMATCH);
        double ms = now_ms() - start;
        best = ms < best ? ms : best;
    }
    return best;
}

static void test_dummy_verify(void)
{
    char phc[PASSWORD_PHC_BUFSIZE];
    CHECK_INT_EQ(password_hash(correct, strlen(correct), phc, sizeof(phc)), 0);
    CHECK_INT_EQ(password_verify_dummy(correct, strlen(correct)), PASSWORD_MISMATCH);
    CHECK_INT_EQ(password_verify_dummy("", 0), PASSWORD_MISMATCH);
    double real_ms = best_of_three_verify(phc), dummy_ms = best_of_three_verify(NULL);
    fprintf(stderr, "verify (wrong password) %.1f ms, dummy verify %.1f ms\n", real_ms, dummy_ms);
    /* It does hash with the same parameters (skipping the hash would take microseconds); loose, as the machine may be busy. */
    CHECK(dummy_ms > real_ms / 3 && dummy_ms < real_ms * 3);
}

#define EXPECT_POLICY(pw, len, mobile, code)                                                                                       \
    CHECK_STR_EQ(password_policy_code(password_policy_check((pw), (len), (mobile))), (code))

static void test_policy(void)
{
    EXPECT_POLICY("abcd1234", 8, NULL, "ok");
    EXPECT_POLICY("abc1234", 7, NULL, "too_short");
    EXPECT_POLICY("", 0, NULL, "too_short");
    EXPECT_POLICY(NULL, 0, NULL, "too_short");
    /* Characters, not bytes: 8 Chinese characters are 24 bytes and enough; 7 are 21 bytes and not. */
    EXPECT_POLICY("我的密码很安全啊", strlen("我的密码很安全啊"), NULL, "ok");
    EXPECT_POLICY("我的密码很安全", strlen("我的密码很安全"), NULL, "too_short");
    EXPECT_POLICY("pass word with spaces", 21, NULL, "ok");
    EXPECT_POLICY("😀😀😀😀😀😀😀😀", strlen("😀😀😀😀😀😀😀😀"), NULL, "ok");

    EXPECT_POLICY("12345678", 8, NULL, "all_digits");
    EXPECT_POLICY("19491231", 8, NULL, "all_digits");
    EXPECT_POLICY("1234567a", 8, NULL, "ok");
    /* Fullwidth digits are not ASCII digits. */
    EXPECT_POLICY("１２３４５６７８", strlen("１２３４５６７８"), NULL, "ok");

    EXPECT_POLICY("zhang13812345678", 16, "13812345678", "contains_mobile");
    EXPECT_POLICY("13812345678abc", 14, "+86 138-1234-5678", "contains_mobile");
    EXPECT_POLICY("zhang13812345678", 16, NULL, "ok");
    EXPECT_POLICY("zhang13812345678", 16, "13912345678", "ok");
    EXPECT_POLICY("zhang13812345678", 16, "not a phone", "ok");
    EXPECT_POLICY("zhang1381234567", 15, "13812345678", "ok");
    /* The order is fixed: an all-digit password that is the mobile number reports all_digits. */
    EXPECT_POLICY("13812345678", 11, "13812345678", "all_digits");

    EXPECT_POLICY("abc\x01"
                  "defgh",
                  9, NULL, "bad_characters");
    EXPECT_POLICY("abcdefg\x7f", 8, NULL, "bad_characters");
    EXPECT_POLICY("abcd\0efgh", 9, NULL, "bad_characters");
    EXPECT_POLICY("abcdefgh\n", 9, NULL, "bad_characters");
    EXPECT_POLICY("abcdefgh\xff", 9, NULL, "bad_characters");
    EXPECT_POLICY("abcdefgh\xc0\xaf", 10, NULL, "bad_characters");         /* overlong '/' */
    EXPECT_POLICY("abcdefgh\xe0\x80\xaf", 11, NULL, "bad_characters");     /* overlong, 3 bytes */
    EXPECT_POLICY("abcdefgh\xed\xa0\x80", 11, NULL, "bad_characters");     /* surrogate U+D800 */
    EXPECT_POLICY("abcdefgh\xf4\x90\x80\x80", 12, NULL, "bad_characters"); /* above U+10FFFF */
    EXPECT_POLICY("abcdefgh\xe6\x88", 10, NULL, "bad_characters");         /* truncated */
    EXPECT_POLICY("abcdefgh\xc2\x85", 10, NULL, "bad_characters");         /* C1 control NEL */
    EXPECT_POLICY("abcdefgh\xc2\xa0", 10, NULL, "ok");                     /* no-break space is text */
    EXPECT_POLICY("abcdefgh\xf0\x9f\x98\x80", 12, NULL, "ok");

    char *long_pw = malloc(PASSWORD_MAX_BYTES + 1);
    memset(long_pw, 'a', PASSWORD_MAX_BYTES + 1);
    EXPECT_POLICY(long_pw, PASSWORD_MAX_BYTES, NULL, "ok");
    EXPECT_POLICY(long_pw, PASSWORD_MAX_BYTES + 1, NULL, "too_long");
    free(long_pw);

    CHECK_STR_EQ(password_policy_code(PASSWORD_POLICY_OK), "ok");
    CHECK_STR_EQ(password_policy_code(PASSWORD_POLICY_TOO_LONG), "too_long");
    CHECK_STR_EQ(password_policy_code(PASSWORD_POLICY_BAD_CHARACTERS), "bad_characters");
    CHECK_STR_EQ(password_policy_code(PASSWORD_POLICY_TOO_SHORT), "too_short");
    CHECK_STR_EQ(password_policy_code(PASSWORD_POLICY_ALL_DIGITS), "all_digits");
    CHECK_STR_EQ(password_policy_code(PASSWORD_POLICY_CONTAINS_MOBILE), "contains_mobile");
}

int main(void)
{
    test_hash_and_verify();
    test_binary_password();
    test_length_bounds();
    test_needs_rehash();
    test_malformed_phc();
    test_dummy_verify();
    test_policy();
    return TEST_REPORT();
}
