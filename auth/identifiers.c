/*
 * identifiers.c — resident ID numbers, unified social credit codes and mobile
 * numbers: checks, normal forms and display masks. The contract is in
 * identifiers.h.
 */
#include "auth/identifiers.h"

#include <string.h>

#include "common/pii_mask.h"

/* Mobile input as typed ("+86 138-1234-5678" is 17 bytes); a longer string is not a phone number. */
#define MOBILE_INPUT_MAX 32
/* China Standard Time, for "born no later than today": no daylight saving since 1991. */
#define CHINA_UTC_OFFSET_S (8 * 3600)

const char *identifier_status_code(enum identifier_status status)
{
    switch (status) {
    case IDENTIFIER_OK:
        return "ok";
    case IDENTIFIER_BAD_LENGTH:
        return "bad_length";
    case IDENTIFIER_BAD_CHAR:
        return "bad_char";
    case IDENTIFIER_BAD_REGION:
        return "bad_region";
    case IDENTIFIER_BAD_BIRTH_DATE:
        return "bad_birth_date";
    case IDENTIFIER_BAD_CATEGORY:
        return "bad_category";
    case IDENTIFIER_BAD_PREFIX:
        return "bad_prefix";
    case IDENTIFIER_BAD_CHECK_DIGIT:
        return "bad_check_digit";
    }
    return "unknown";
}

static int is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static int all_digits(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (!is_digit(s[i]))
            return 0;
    return 1;
}

static unsigned digits_value(const char *s, size_t len)
{
    unsigned v = 0;
    for (size_t i = 0; i < len; i++)
        v = v * 10 + (unsigned)(s[i] - '0');
    return v;
}

/* ---- resident ID number (GB 11643-1999) ---- */

static int is_leap_year(unsigned y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static unsigned days_in_month(unsigned y, unsigned m)
{
    static const unsigned days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return m == 2 && is_leap_year(y) ? 29 : days[m - 1];
}

/* Today's date in China as YYYYMMDD. */
static unsigned china_today(time_t now)
{
    time_t local = now + CHINA_UTC_OFFSET_S;
    struct tm tm;
    if (gmtime_r(&local, &tm) == NULL)
        return 0;
    return (unsigned)(tm.tm_year + 1900) * 10000 + (unsigned)(tm.tm_mon + 1) * 100 + (unsigned)tm.tm_mday;
}

/* 8 digits YYYYMMDD: a calendar date from 1900-01-01 up to `today` (YYYYMMDD). */
static int birth_date_ok(const char *date, unsigned today)
{
    unsigned y = digits_value(date, 4), m = digits_value(date + 4, 2), d = digits_value(date + 6, 2);
    if (y < 1900 || m < 1 || m > 12 || d < 1 || d > days_in_month(y, m))
        return 0;
    return y * 10000 + m * 100 + d <= today;
}

/* The check character of the first 17 digits: ISO 7064 MOD 11-2, weights 2^(17-i) mod 11. */
static char resident_id_check_char(const char *id)
{
    static const unsigned weights[17] = {7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2};
    static const char check[11] = {'1', '0', 'X', '9', '8', '7', '6', '5', '4', '3', '2'};
    unsigned sum = 0;
    for (size_t i = 0; i < 17; i++)
        sum += (unsigned)(id[i] - '0') * weights[i];
    return check[sum % 11];
}

enum identifier_status identifiers_resident_id_normalise(const char *in, size_t len, time_t now,
                                                         char out[IDENTIFIERS_RESIDENT_ID_BUFSIZE])
{
    out[0] = '\0';
    if (in == NULL || len != IDENTIFIERS_RESIDENT_ID_LEN)
        return IDENTIFIER_BAD_LENGTH;
    char last = in[17] == 'x' ? 'X' : in[17];
    if (!all_digits(in, 17) || !(is_digit(last) || last == 'X'))
        return IDENTIFIER_BAD_CHAR;
    /* Region codes (GB/T 2260) start with 1-8; 9 is used by the 2023 permanent residence cards for foreigners. */
    if (in[0] == '0')
        return IDENTIFIER_BAD_REGION;
    if (!birth_date_ok(in + 6, china_today(now)))
        return IDENTIFIER_BAD_BIRTH_DATE;
    if (resident_id_check_char(in) != last)
        return IDENTIFIER_BAD_CHECK_DIGIT;
    memcpy(out, in, 17);
    out[17] = last;
    out[18] = '\0';
    return IDENTIFIER_OK;
}

/* ---- unified social credit code (GB 32100-2015) ---- */

static const char uscc_alphabet[] = "0123456789ABCDEFGHJKLMNPQRTUWXY";

/* Value 0..30 of an upper-case code character, or -1 if it is not in the alphabet. */
static int uscc_value(char c)
{
    const char *p = c != '\0' ? strchr(uscc_alphabet, c) : NULL;
    return p != NULL ? (int)(p - uscc_alphabet) : -1;
}

static char to_upper_ascii(char c)
{
    return c >= 'a' && c <= 'z' ? (char)(c - 'a' + 'A') : c;
}

/*
 * Registration authority (1st character) and the organisation categories
 * (2nd) it assigns, from GB 32100-2015 and the authorities' published
 * assignments. 5/4 is the civil-affairs category for villagers' and
 * residents' committees (基层群众性自治组织), coded after the standard. A
 * category missing here would lock an organisation out, so when a registry
 * adds one, add it here.
 */
static const struct {
    char authority;
    const char *categories;
} uscc_categories[] = {
    {'1', "1239"}, /* 机构编制: 机关, 事业单位, 编办直管群众团体, 其他 */
    {'2', "19"},   /* 外交: 外国常驻新闻机构, 其他 */
    {'3', "123459"}, /* 司法行政: 律师执业机构, 公证处, 基层法律服务所, 司法鉴定机构, 仲裁委员会, 其他 */
    {'4', "19"},    /* 文化: 外国在华文化中心, 其他 */
    {'5', "12349"}, /* 民政: 社会团体, 民办非企业单位, 基金会, 基层群众性自治组织, 其他 */
    {'6', "129"},   /* 旅游: 外国旅游部门常驻代表机构, 港澳台旅游部门常驻代表机构, 其他 */
    {'7', "129"},   /* 宗教: 宗教活动场所, 宗教院校, 其他 */
    {'8', "19"},    /* 工会: 基层工会, 其他 */
    {'9', "123"},   /* 工商 (市场监管): 企业, 个体工商户, 农民专业合作社 */
    {'A', "19"},    /* 中央军委改革和编制办公室: 军队事业单位, 其他 */
    {'N', "1239"},  /* 农业: 组级, 村级, 乡镇级集体经济组织, 其他 */
    {'Y', "1"},     /* 其他 */
};

static int uscc_category_ok(char authority, char category)
{
    for (size_t i = 0; i < sizeof(uscc_categories) / sizeof(uscc_categories[0]); i++)
        if (uscc_categories[i].authority == authority)
            return strchr(uscc_categories[i].categories, category) != NULL && category != '\0';
    return 0;
}

/* GB 32100 check character: weights 3^i mod 31, check = (31 - sum mod 31) mod 31. */
static char uscc_check_char(const char *code)
{
    static const unsigned weights[17] = {1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28};
    unsigned sum = 0;
    for (size_t i = 0; i < 17; i++)
        sum += (unsigned)uscc_value(code[i]) * weights[i];
    return uscc_alphabet[(31 - sum % 31) % 31];
}

enum identifier_status identifiers_uscc_normalise(const char *in, size_t len, char out[IDENTIFIERS_USCC_BUFSIZE])
{
    char code[IDENTIFIERS_USCC_BUFSIZE];
    out[0] = '\0';
    if (in == NULL || len != IDENTIFIERS_USCC_LEN)
        return IDENTIFIER_BAD_LENGTH;
    for (size_t i = 0; i < IDENTIFIERS_USCC_LEN; i++) {
        code[i] = to_upper_ascii(in[i]);
        if (uscc_value(code[i]) < 0)
            return IDENTIFIER_BAD_CHAR;
    }
    code[IDENTIFIERS_USCC_LEN] = '\0';
    if (!uscc_category_ok(code[0], code[1]))
        return IDENTIFIER_BAD_CATEGORY;
    if (!all_digits(code + 2, 6))
        return IDENTIFIER_BAD_REGION;
    if (uscc_check_char(code) != code[17])
        return IDENTIFIER_BAD_CHECK_DIGIT;
    memcpy(out, code, sizeof(code));
    return IDENTIFIER_OK;
}

/* ---- mobile numbers ---- */

/*
 * Copies the digits of in[0..len) to digits (at most MOBILE_INPUT_MAX),
 * skipping spaces and dashes; *plus is set if a '+' came before the first
 * digit. Returns the digit count, or -1 on any other character.
 */
static int collect_mobile_digits(const char *in, size_t len, char *digits, int *plus)
{
    int n = 0;
    *plus = 0;
    for (size_t i = 0; i < len; i++) {
        char c = in[i];
        if (is_digit(c))
            digits[n++] = c;
        else if (c == '+' && n == 0 && !*plus)
            *plus = 1;
        else if (c != ' ' && c != '-')
            return -1;
    }
    return n;
}

enum identifier_status identifiers_mobile_normalise(const char *in, size_t len, char out[IDENTIFIERS_MOBILE_BUFSIZE])
{
    char digits[MOBILE_INPUT_MAX];
    int plus;
    out[0] = '\0';
    if (in == NULL || len > MOBILE_INPUT_MAX)
        return IDENTIFIER_BAD_LENGTH;
    int n = collect_mobile_digits(in, len, digits, &plus);
    if (n < 0)
        return IDENTIFIER_BAD_CHAR;
    const char *d = digits;
    if (plus && (n < 2 || memcmp(d, "86", 2) != 0))
        return IDENTIFIER_BAD_PREFIX;
    if (plus || (n == IDENTIFIERS_MOBILE_LEN + 2 && memcmp(d, "86", 2) == 0)) {
        d += 2;
        n -= 2;
    } else if (n == IDENTIFIERS_MOBILE_LEN + 4 && memcmp(d, "0086", 4) == 0) {
        d += 4;
        n -= 4;
    }
    if (n != IDENTIFIERS_MOBILE_LEN)
        return IDENTIFIER_BAD_LENGTH;
    if (d[0] != '1' || d[1] < '3')
        return IDENTIFIER_BAD_PREFIX;
    memcpy(out, d, IDENTIFIERS_MOBILE_LEN);
    out[IDENTIFIERS_MOBILE_LEN] = '\0';
    return IDENTIFIER_OK;
}

/* ---- display masks ---- */

static int is_mobile_shape(const char *s)
{
    return strnlen(s, IDENTIFIERS_MOBILE_LEN + 1) == IDENTIFIERS_MOBILE_LEN && all_digits(s, IDENTIFIERS_MOBILE_LEN) &&
           s[0] == '1' && s[1] >= '3';
}

static int is_resident_id_shape(const char *s)
{
    return strnlen(s, IDENTIFIERS_RESIDENT_ID_LEN + 1) == IDENTIFIERS_RESIDENT_ID_LEN && all_digits(s, 17) &&
           (is_digit(s[17]) || s[17] == 'X');
}

/*
 * Writes `value` (a `len`-character identifier of the right shape, or NULL
 * if it is not one) to out with the log masker's mask — it knows both
 * shapes, so display and logs agree — or all '*' for NULL.
 */
static void mask_display(const char *value, size_t len, char *out)
{
    int masked = 0;
    if (value != NULL) {
        memcpy(out, value, len);
        masked = pii_mask_inplace(out, len) == 1;
    }
    if (!masked)
        memset(out, '*', len);
    out[len] = '\0';
}

void identifiers_mobile_mask(const char *mobile, char out[IDENTIFIERS_MOBILE_BUFSIZE])
{
    mask_display(mobile != NULL && is_mobile_shape(mobile) ? mobile : NULL, IDENTIFIERS_MOBILE_LEN, out);
}

void identifiers_resident_id_mask(const char *id, char out[IDENTIFIERS_RESIDENT_ID_BUFSIZE])
{
    mask_display(id != NULL && is_resident_id_shape(id) ? id : NULL, IDENTIFIERS_RESIDENT_ID_LEN, out);
}
