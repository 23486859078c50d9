/*
 * test_identifiers.c — resident ID numbers, unified social credit codes and
 * mobile numbers: valid and invalid vectors for every reason code, and the
 * display masks.
 *
 * Besides published samples (GB 11643's 11010519491231002X, the commonly
 * cited USCC 91350100M000100Y43), vectors get their check characters from
 * independent implementations written differently from the module's
 * weight tables: ISO 7064 MOD 11-2 in its iterative form, and the USCC sum
 * with weights computed as powers of 3 mod 31.
 */
#include <string.h>
#include <time.h>

#include "auth/identifiers.h"
#include "tests/unit/test.h"

/* 2025-06-14T16:30:00Z, which is already 2025-06-15 00:30 in China. */
static const time_t fixed_now = 1749918600;

/* ISO 7064 MOD 11-2, iterative: p = 2(p + d) mod 11 per digit, check = (12 - p) mod 11, 10 written X. */
static char mod11_2_check(const char *digits17)
{
    unsigned p = 0;
    for (int i = 0; i < 17; i++)
        p = (p + (unsigned)(digits17[i] - '0')) * 2 % 11;
    unsigned c = (12 - p) % 11;
    return c == 10 ? 'X' : (char)('0' + c);
}

/* Builds body17 + its check character into out (19 bytes). */
static const char *with_id_check(const char *body17, char *out)
{
    memcpy(out, body17, 17);
    out[17] = mod11_2_check(body17);
    out[18] = '\0';
    return out;
}

static int uscc_char_value(char c)
{
    static const char letters[] = "ABCDEFGHJKLMNPQRTUWXY";
    if (c >= '0' && c <= '9')
        return c - '0';
    const char *p = strchr(letters, c);
    return p != NULL && c != '\0' ? 10 + (int)(p - letters) : -1000;
}

static char uscc_char_of(int v)
{
    static const char letters[] = "ABCDEFGHJKLMNPQRTUWXY";
    return v < 10 ? (char)('0' + v) : letters[v - 10];
}

/* GB 32100 check character with weights generated as 3^i mod 31. */
static const char *with_uscc_check(const char *body17, char *out)
{
    int sum = 0, weight = 1;
    for (int i = 0; i < 17; i++) {
        sum += uscc_char_value(body17[i]) * weight;
        weight = weight * 3 % 31;
    }
    memcpy(out, body17, 17);
    out[17] = uscc_char_of((31 - sum % 31) % 31);
    out[18] = '\0';
    return out;
}

#define EXPECT_ID(in, code, expected_out)                                                                                          \
    do {                                                                                                                           \
        char out_[IDENTIFIERS_RESIDENT_ID_BUFSIZE];                                                                                \
        const char *in_ = (in);                                                                                                    \
        CHECK_STR_EQ(identifier_status_code(identifiers_resident_id_normalise(in_, strlen(in_), fixed_now, out_)), (code));        \
        CHECK_STR_EQ(out_, (expected_out));                                                                                        \
    } while (0)

#define EXPECT_USCC(in, code, expected_out)                                                                                        \
    do {                                                                                                                           \
        char out_[IDENTIFIERS_USCC_BUFSIZE];                                                                                       \
        const char *in_ = (in);                                                                                                    \
        CHECK_STR_EQ(identifier_status_code(identifiers_uscc_normalise(in_, strlen(in_), out_)), (code));                          \
        CHECK_STR_EQ(out_, (expected_out));                                                                                        \
    } while (0)

#define EXPECT_MOBILE(in, code, expected_out)                                                                                      \
    do {                                                                                                                           \
        char out_[IDENTIFIERS_MOBILE_BUFSIZE];                                                                                     \
        const char *in_ = (in);                                                                                                    \
        CHECK_STR_EQ(identifier_status_code(identifiers_mobile_normalise(in_, strlen(in_), out_)), (code));                        \
        CHECK_STR_EQ(out_, (expected_out));                                                                                        \
    } while (0)

static void test_independent_checks_agree_with_samples(void)
{
    char buf[19];
    /* If the helpers were wrong, every generated vector below would be suspect. */
    CHECK_STR_EQ(with_id_check("11010519491231002", buf), "11010519491231002X");
    CHECK_STR_EQ(with_uscc_check("91350100M000100Y4", buf), "91350100M000100Y43");
}

static void test_resident_id_valid(void)
{
    char buf[19];
    EXPECT_ID("11010519491231002X", "ok", "11010519491231002X");
    EXPECT_ID("11010519491231002x", "ok", "11010519491231002X");
    EXPECT_ID(with_id_check("44030419900101123", buf), "ok", buf);
    EXPECT_ID(with_id_check("31011520000229004", buf), "ok", buf); /* 2000 is a leap year */
    EXPECT_ID(with_id_check("65010219000101001", buf), "ok", buf); /* earliest accepted date */
    /* Born today in China, though it is still yesterday in UTC. */
    EXPECT_ID(with_id_check("51010720250615002", buf), "ok", buf);
    /* 9: the 2023 foreigners' permanent residence card uses the same number format. */
    EXPECT_ID(with_id_check("91110019850301123", buf), "ok", buf);
    /* Input need not be NUL-terminated after 18 characters. */
    char out[IDENTIFIERS_RESIDENT_ID_BUFSIZE];
    CHECK_INT_EQ(identifiers_resident_id_normalise("11010519491231002X-trailing", 18, fixed_now, out), IDENTIFIER_OK);
    CHECK_STR_EQ(out, "11010519491231002X");
}

static void test_resident_id_invalid(void)
{
    char buf[19];
    EXPECT_ID("", "bad_length", "");
    EXPECT_ID("11010519491231002", "bad_length", "");
    EXPECT_ID("11010519491231002X0", "bad_length", "");
    EXPECT_ID("110105491231002", "bad_length", ""); /* first-generation, 15 digits */
    EXPECT_ID(" 11010519491231002X", "bad_length", "");

    EXPECT_ID("1101051949123100XX", "bad_char", "");
    EXPECT_ID("11010519491231002Y", "bad_char", "");
    EXPECT_ID("110105-9491231002X", "bad_char", "");
    EXPECT_ID("11010519491231002 ", "bad_char", "");
    EXPECT_ID("X10105194912310025", "bad_char", "");

    EXPECT_ID(with_id_check("01010519491231002", buf), "bad_region", "");
    EXPECT_ID(with_id_check("00000019491231002", buf), "bad_region", "");

    EXPECT_ID(with_id_check("11010519491331002", buf), "bad_birth_date", ""); /* month 13 */
    EXPECT_ID(with_id_check("11010519490001002", buf), "bad_birth_date", ""); /* month 0 */
    EXPECT_ID(with_id_check("11010519490132002", buf), "bad_birth_date", ""); /* 32 January */
    EXPECT_ID(with_id_check("11010519490100002", buf), "bad_birth_date", ""); /* day 0 */
    EXPECT_ID(with_id_check("11010519490431002", buf), "bad_birth_date", ""); /* 31 April */
    EXPECT_ID(with_id_check("11010519000229002", buf), "bad_birth_date", ""); /* 1900 is not a leap year */
    EXPECT_ID(with_id_check("11010520010229002", buf), "bad_birth_date", "");
    EXPECT_ID(with_id_check("11010518991231002", buf), "bad_birth_date", ""); /* before 1900 */
    EXPECT_ID(with_id_check("11010520250616002", buf), "bad_birth_date", ""); /* tomorrow in China */
    EXPECT_ID(with_id_check("11010530000101002", buf), "bad_birth_date", "");

    EXPECT_ID("110105194912310021", "bad_check_digit", "");
    EXPECT_ID("110105194912310020", "bad_check_digit", "");
    /* One digit mistyped: the check character catches it. */
    EXPECT_ID("11010519491231003X", "bad_check_digit", "");
    /* Two adjacent digits swapped. */
    EXPECT_ID("11010519491231020X", "bad_check_digit", "");
}

static void test_uscc_valid(void)
{
    char buf[19];
    EXPECT_USCC("91350100M000100Y43", "ok", "91350100M000100Y43");
    EXPECT_USCC("91350100m000100y43", "ok", "91350100M000100Y43");
    const char *bodies[] = {
        "11100000000013040", /* 机构编制 / 机关 */
        "12440300455755100", /* 机构编制 / 事业单位 */
        "21110000MA0000001", /* 外交 */
        "31440000MD0000001", /* 司法行政 / 律师执业机构 */
        "51100000500000010", /* 民政 / 社会团体 */
        "53100000500021676", /* 民政 / 基金会 */
        "54330106MEA000001", /* 民政 / 村(居)民委员会 */
        "92440300MA5DXXX01", /* 工商 / 个体工商户 */
        "93320500MA1MXXXX0", /* 工商 / 农民专业合作社 */
        "A1100000MB0000001", /* 中央军委改革和编制办公室 */
        "N2330106MF0000001", /* 农业 / 村级集体经济组织 */
        "Y1110000MG0000001", /* 其他 */
    };
    for (size_t i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++)
        EXPECT_USCC(with_uscc_check(bodies[i], buf), "ok", buf);
}

static void test_uscc_invalid(void)
{
    char buf[19];
    EXPECT_USCC("", "bad_length", "");
    EXPECT_USCC("91350100M000100Y4", "bad_length", "");
    EXPECT_USCC("91350100M000100Y430", "bad_length", "");

    /* I, O, Z, S, V are not in the alphabet, in either case. */
    EXPECT_USCC("91350100I000100Y43", "bad_char", "");
    EXPECT_USCC("91350100O000100Y43", "bad_char", "");
    EXPECT_USCC("91350100Z000100Y43", "bad_char", "");
    EXPECT_USCC("91350100S000100Y43", "bad_char", "");
    EXPECT_USCC("91350100V000100Y43", "bad_char", "");
    EXPECT_USCC("91350100i000100y43", "bad_char", "");
    EXPECT_USCC("91350100M000100Y4-", "bad_char", "");
    EXPECT_USCC("91350100M00 100Y43", "bad_char", "");
    EXPECT_USCC("91350100-M000100Y4", "bad_char", "");

    EXPECT_USCC(with_uscc_check("01350100M000100Y4", buf), "bad_category", ""); /* no authority 0 */
    EXPECT_USCC(with_uscc_check("B1350100M000100Y4", buf), "bad_category", "");
    EXPECT_USCC(with_uscc_check("94350100M000100Y4", buf), "bad_category", ""); /* 工商 has 1-3 */
    EXPECT_USCC(with_uscc_check("99350100M000100Y4", buf), "bad_category", "");
    EXPECT_USCC(with_uscc_check("Y2350100M000100Y4", buf), "bad_category", ""); /* 其他 has only 1 */
    EXPECT_USCC(with_uscc_check("22350100M000100Y4", buf), "bad_category", "");
    EXPECT_USCC(with_uscc_check("36350100M000100Y4", buf), "bad_category", "");
    EXPECT_USCC(with_uscc_check("55350100M000100Y4", buf), "bad_category", "");
    EXPECT_USCC(with_uscc_check("N4350100M000100Y4", buf), "bad_category", "");
    EXPECT_USCC(with_uscc_check("9A350100M000100Y4", buf), "bad_category", "");

    EXPECT_USCC(with_uscc_check("913A0100M000100Y4", buf), "bad_region", "");
    EXPECT_USCC(with_uscc_check("9135010YM000100Y4", buf), "bad_region", "");

    EXPECT_USCC("91350100M000100Y44", "bad_check_digit", "");
    EXPECT_USCC("91350100M000100Y4Y", "bad_check_digit", "");
    EXPECT_USCC("91350100M000010Y43", "bad_check_digit", ""); /* swapped */
}

static void test_mobile_valid(void)
{
    EXPECT_MOBILE("13812345678", "ok", "13812345678");
    EXPECT_MOBILE("19912345678", "ok", "19912345678");
    EXPECT_MOBILE("+8613812345678", "ok", "13812345678");
    EXPECT_MOBILE("+86 138 1234 5678", "ok", "13812345678");
    EXPECT_MOBILE("+86-138-1234-5678", "ok", "13812345678");
    EXPECT_MOBILE("0086 13812345678", "ok", "13812345678");
    EXPECT_MOBILE("008613812345678", "ok", "13812345678");
    EXPECT_MOBILE("8613812345678", "ok", "13812345678");
    EXPECT_MOBILE("138-1234-5678", "ok", "13812345678");
    EXPECT_MOBILE(" 138 1234 5678 ", "ok", "13812345678");
    EXPECT_MOBILE("+ 86 13812345678", "ok", "13812345678");
}

static void test_mobile_invalid(void)
{
    EXPECT_MOBILE("", "bad_length", "");
    EXPECT_MOBILE("1381234567", "bad_length", "");
    EXPECT_MOBILE("138123456789", "bad_length", "");
    EXPECT_MOBILE("+86", "bad_length", "");
    EXPECT_MOBILE("+861381234567", "bad_length", "");
    EXPECT_MOBILE("86138123456789", "bad_length", "");
    /* At most 32 bytes of input, however many of them are separators. */
    static const char spaced32[] = "1 3 8 1 2 3 4 5 6 7 8           ", spaced33[] = "1 3 8 1 2 3 4 5 6 7 8            ";
    CHECK_INT_EQ(strlen(spaced32), 32);
    CHECK_INT_EQ(strlen(spaced33), 33);
    EXPECT_MOBILE(spaced32, "ok", "13812345678");
    EXPECT_MOBILE(spaced33, "bad_length", "");

    EXPECT_MOBILE("138l2345678", "bad_char", "");
    EXPECT_MOBILE("(138)12345678", "bad_char", "");
    EXPECT_MOBILE("138.1234.5678", "bad_char", "");
    EXPECT_MOBILE("13812345678\n", "bad_char", "");
    EXPECT_MOBILE("+86+13812345678", "bad_char", "");
    EXPECT_MOBILE("++8613812345678", "bad_char", "");
    EXPECT_MOBILE("138+12345678", "bad_char", "");

    EXPECT_MOBILE("12812345678", "bad_prefix", "");
    EXPECT_MOBILE("10012345678", "bad_prefix", "");
    EXPECT_MOBILE("23812345678", "bad_prefix", "");
    EXPECT_MOBILE("+85291234567", "bad_prefix", ""); /* Hong Kong */
    EXPECT_MOBILE("+1 415 555 0123", "bad_prefix", "");
    EXPECT_MOBILE("+8", "bad_prefix", "");
    EXPECT_MOBILE("8612812345678", "bad_prefix", "");
}

static void test_masks(void)
{
    char mobile[IDENTIFIERS_MOBILE_BUFSIZE], id[IDENTIFIERS_RESIDENT_ID_BUFSIZE];
    identifiers_mobile_mask("13812345678", mobile);
    CHECK_STR_EQ(mobile, "138****5678");
    identifiers_resident_id_mask("11010519491231002X", id);
    CHECK_STR_EQ(id, "110105********002X");
    identifiers_resident_id_mask("110105194912310025", id);
    CHECK_STR_EQ(id, "110105********0025");

    /* Not normalised: nothing of it is shown. */
    const char *bad_mobiles[] = {"1381234567", "138123456789", "+8613812345678", "12812345678", "1381234567x", ""};
    for (size_t i = 0; i < sizeof(bad_mobiles) / sizeof(bad_mobiles[0]); i++) {
        identifiers_mobile_mask(bad_mobiles[i], mobile);
        CHECK_STR_EQ(mobile, "***********");
    }
    identifiers_mobile_mask(NULL, mobile);
    CHECK_STR_EQ(mobile, "***********");
    const char *bad_ids[] = {"11010519491231002x", "1101051949123100", "11010519491231002XX", "abcdefg13812345678", ""};
    for (size_t i = 0; i < sizeof(bad_ids) / sizeof(bad_ids[0]); i++) {
        identifiers_resident_id_mask(bad_ids[i], id);
        CHECK_STR_EQ(id, "******************");
    }
    identifiers_resident_id_mask(NULL, id);
    CHECK_STR_EQ(id, "******************");
}

static void test_status_codes(void)
{
    CHECK_STR_EQ(identifier_status_code(IDENTIFIER_OK), "ok");
    CHECK_STR_EQ(identifier_status_code(IDENTIFIER_BAD_LENGTH), "bad_length");
    CHECK_STR_EQ(identifier_status_code(IDENTIFIER_BAD_CHAR), "bad_char");
    CHECK_STR_EQ(identifier_status_code(IDENTIFIER_BAD_REGION), "bad_region");
    CHECK_STR_EQ(identifier_status_code(IDENTIFIER_BAD_BIRTH_DATE), "bad_birth_date");
    CHECK_STR_EQ(identifier_status_code(IDENTIFIER_BAD_CATEGORY), "bad_category");
    CHECK_STR_EQ(identifier_status_code(IDENTIFIER_BAD_PREFIX), "bad_prefix");
    CHECK_STR_EQ(identifier_status_code(IDENTIFIER_BAD_CHECK_DIGIT), "bad_check_digit");
}

int main(void)
{
    test_independent_checks_agree_with_samples();
    test_resident_id_valid();
    test_resident_id_invalid();
    test_uscc_valid();
    test_uscc_invalid();
    test_mobile_valid();
    test_mobile_invalid();
    test_masks();
    test_status_codes();
    return TEST_REPORT();
}
