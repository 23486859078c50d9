/*
 * test_pii_mask.c — which digit runs are masked, and exactly how.
 */
#include <stdlib.h>
#include <string.h>

#include "common/pii_mask.h"
#include "common/xalloc.h"
#include "tests/unit/test.h"

/* Masks `in` both ways; the in-place result must equal the appended one and keep the length. */
static char *mask_both(const char *in, size_t *count)
{
    size_t len = strlen(in);
    struct strbuf sb = STRBUF_INIT;
    strbuf_append_str(&sb, "prefix:");
    pii_mask_append(&sb, in, len);
    char *inplace = xstrdup(in);
    *count = pii_mask_inplace(inplace, len);
    CHECK_INT_EQ(strlen(inplace), len);
    CHECK_STR_EQ(sb.data + strlen("prefix:"), inplace);
    CHECK(strncmp(sb.data, "prefix:", 7) == 0);
    strbuf_free(&sb);
    return inplace;
}

#define EXPECT_MASK(in, expected, expected_count)                                                                                  \
    do {                                                                                                                           \
        size_t count_;                                                                                                             \
        char *got_ = mask_both((in), &count_);                                                                                     \
        CHECK_STR_EQ(got_, (expected));                                                                                            \
        CHECK_INT_EQ(count_, (expected_count));                                                                                    \
        free(got_);                                                                                                                \
    } while (0)

static void test_mobile(void)
{
    EXPECT_MASK("13812345678", "138****5678", 1);
    EXPECT_MASK("19912345678", "199****5678", 1);
    EXPECT_MASK("?mobile=13812345678&x=1", "?mobile=138****5678&x=1", 1);
    EXPECT_MASK("/users/13812345678", "/users/138****5678", 1);
    /* 1[0-2] is not a mobile prefix. */
    EXPECT_MASK("12812345678", "12812345678", 0);
    EXPECT_MASK("10012345678", "10012345678", 0);
    /* One digit short or long: not a mobile number. */
    EXPECT_MASK("1381234567", "1381234567", 0);
    EXPECT_MASK("138123456789", "138123456789", 0);
    /* A 13-digit millisecond timestamp that contains a mobile-like run. */
    EXPECT_MASK("ts=1713812345678", "ts=1713812345678", 0);
}

static void test_country_code(void)
{
    EXPECT_MASK("+8613812345678", "+86138****5678", 1);
    EXPECT_MASK("8613812345678", "86138****5678", 1);
    EXPECT_MASK("008613812345678", "0086138****5678", 1);
    EXPECT_MASK("tel=%2B8613812345678", "tel=%2B86138****5678", 1);
    /* "86" in front of something that is not a mobile number is left alone. */
    EXPECT_MASK("8612812345678", "8612812345678", 0);
}

static void test_resident_id(void)
{
    EXPECT_MASK("110105194912310025", "110105********0025", 1);
    EXPECT_MASK("/hrss/persons/110105194912310025/card", "/hrss/persons/110105********0025/card", 1);
    EXPECT_MASK("11010519491231002X", "110105********002X", 1);
    EXPECT_MASK("11010519491231002x", "110105********002x", 1);
    EXPECT_MASK("id=11010519491231002X&y=2", "id=110105********002X&y=2", 1);
    /* 17 digits with no X: not an ID number. */
    EXPECT_MASK("11010519491231002", "11010519491231002", 0);
    EXPECT_MASK("11010519491231002-", "11010519491231002-", 0);
    /* 18 digits followed by X: the run is the ID number, the X is just a letter after it. */
    EXPECT_MASK("110105194912310025X", "110105********0025X", 1);
}

static void test_legacy_id(void)
{
    EXPECT_MASK("110105491231002", "110105*****1002", 1);
    EXPECT_MASK("/persons/110105491231002/", "/persons/110105*****1002/", 1);
    EXPECT_MASK("14-digit 11010549123100", "14-digit 11010549123100", 0);
    EXPECT_MASK("16-digit 1101054912310021", "16-digit 1101054912310021", 0);
}

static void test_longer_runs_untouched(void)
{
    /* Order numbers, bank cards and trace ids that merely contain an identifier. */
    EXPECT_MASK("order=213812345678", "order=213812345678", 0);
    EXPECT_MASK("order=1381234567800", "order=1381234567800", 0);
    EXPECT_MASK("1101051949123100251", "1101051949123100251", 0);
    EXPECT_MASK("6222021101051949123100", "6222021101051949123100", 0);
    EXPECT_MASK("11010519491231002511010519491231002X", "11010519491231002511010519491231002X", 0);
    EXPECT_MASK("", "", 0);
    EXPECT_MASK("no digits at all", "no digits at all", 0);
}

static void test_boundaries(void)
{
    /* Letters and punctuation are boundaries: the run is exactly 11 digits. */
    EXPECT_MASK("tel13812345678end", "tel138****5678end", 1);
    EXPECT_MASK("a13812345678b", "a138****5678b", 1);
    EXPECT_MASK("13812345678.json", "138****5678.json", 1);
    EXPECT_MASK("(13812345678)", "(138****5678)", 1);
    /* UTF-8 text around the number. */
    EXPECT_MASK("手机13812345678号", "手机138****5678号", 1);
    EXPECT_MASK("身份证：110105194912310025。", "身份证：110105********0025。", 1);
}

static void test_percent_escapes(void)
{
    /* "%20" then a mobile number: the escape's digits are not part of the number. */
    EXPECT_MASK("q=%2013812345678", "q=%20138****5678", 1);
    /* The last byte of a %-encoded UTF-8 character ("张三" = %E5%BC%A0%E4%B8%89). */
    EXPECT_MASK("name=%E5%BC%A0%E4%B8%8913812345678", "name=%E5%BC%A0%E4%B8%89138****5678", 1);
    /* A hex letter then a digit: only one digit belongs to the escape. */
    EXPECT_MASK("q=%A013812345678", "q=%A0138****5678", 1);
    EXPECT_MASK("q=%2C110105194912310025", "q=%2C110105********0025", 1);
    EXPECT_MASK("q=%20110105194912310025", "q=%20110105********0025", 1);
    EXPECT_MASK("q=%2011010519491231002X", "q=%20110105********002X", 1);
    /* The whole run is tried first: a raw '%' in front of a mobile number. */
    EXPECT_MASK("50%13812345678", "50%138****5678", 1);
    /* Skipping the escape must still leave an exact match. */
    EXPECT_MASK("q=%20213812345678", "q=%20213812345678", 0);
}

static void test_multiple(void)
{
    EXPECT_MASK("13812345678,13912345678", "138****5678,139****5678", 2);
    EXPECT_MASK("/p/110105194912310025/m/13812345678?bak=15012345678&id=11010519491231002x",
                "/p/110105********0025/m/138****5678?bak=150****5678&id=110105********002x", 4);
    EXPECT_MASK("13812345678 order 20240101123456789012 13812345678", "138****5678 order 20240101123456789012 138****5678", 2);
}

static void test_not_nul_terminated(void)
{
    /* Only `len` bytes are looked at: the digit after them does not lengthen the run. */
    char buf[] = "138123456789";
    CHECK_INT_EQ(pii_mask_inplace(buf, 11), 1);
    CHECK_STR_EQ(buf, "138****56789");

    /* An X beyond `len` is not part of the ID number. */
    char id[] = "11010519491231002X";
    CHECK_INT_EQ(pii_mask_inplace(id, 17), 0);
    CHECK_STR_EQ(id, "11010519491231002X");

    struct strbuf sb = STRBUF_INIT;
    pii_mask_append(&sb, "13812345678999", 11);
    CHECK_STR_EQ(sb.data, "138****5678");
    CHECK_INT_EQ(sb.len, 11);
    strbuf_free(&sb);
}

static void test_long_input(void)
{
    /* A long line with many numbers: every one is found, nothing else changes. */
    struct strbuf in = STRBUF_INIT, expected = STRBUF_INIT, out = STRBUF_INIT;
    for (int i = 0; i < 5000; i++) {
        strbuf_append_str(&in, "/x/13812345678/y/1234567890123456789/");
        strbuf_append_str(&expected, "/x/138****5678/y/1234567890123456789/");
    }
    pii_mask_append(&out, in.data, in.len);
    CHECK(out.len == expected.len && memcmp(out.data, expected.data, out.len) == 0);
    CHECK_INT_EQ(pii_mask_inplace(in.data, in.len), 5000);
    strbuf_free(&in);
    strbuf_free(&expected);
    strbuf_free(&out);
}

int main(void)
{
    test_mobile();
    test_country_code();
    test_resident_id();
    test_legacy_id();
    test_longer_runs_untouched();
    test_boundaries();
    test_percent_escapes();
    test_multiple();
    test_not_nul_terminated();
    test_long_input();
    return TEST_REPORT();
}
