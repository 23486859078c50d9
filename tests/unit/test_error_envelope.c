/*
 * test_error_envelope.c — Accept-Language choice, the envelope's exact bytes,
 * and the completeness of the error catalogue.
 */
#include <jansson.h>
#include <string.h>

#include "common/error_envelope.h"
#include "gateway/errors.h"
#include "tests/unit/test.h"

static enum message_language lang(const char *header)
{
    return error_language_from_accept(header, header ? strlen(header) : 0);
}

static void test_language_examples(void)
{
    CHECK_INT_EQ(lang("zh-CN,zh;q=0.9,en;q=0.8"), LANGUAGE_ZH);
    CHECK_INT_EQ(lang("en-US,en;q=0.9,zh-CN;q=0.8"), LANGUAGE_EN);
    CHECK_INT_EQ(lang("zh;q=0"), LANGUAGE_EN);
    CHECK_INT_EQ(lang("fr, zh;q=0.5"), LANGUAGE_ZH);
    CHECK_INT_EQ(lang(NULL), LANGUAGE_EN);
    CHECK_INT_EQ(lang(""), LANGUAGE_EN);
    CHECK_INT_EQ(lang("   "), LANGUAGE_EN);
    CHECK_INT_EQ(lang("zh"), LANGUAGE_ZH);
    CHECK_INT_EQ(lang("en"), LANGUAGE_EN);
    CHECK_INT_EQ(lang("fr"), LANGUAGE_EN);
    /* What WeChat and Alipay WebViews on a Chinese phone typically send. */
    CHECK_INT_EQ(lang("zh-CN,zh-Hans;q=0.9"), LANGUAGE_ZH);
    CHECK_INT_EQ(lang("zh-Hans-CN;q=1, en-CN;q=0.9"), LANGUAGE_ZH);
}

static void test_language_q_values(void)
{
    CHECK_INT_EQ(lang("en;q=0.5, zh;q=0.6"), LANGUAGE_ZH);
    CHECK_INT_EQ(lang("en;q=0.6, zh;q=0.5"), LANGUAGE_EN);
    CHECK_INT_EQ(lang("en;q=0.501, zh;q=0.502"), LANGUAGE_ZH);
    CHECK_INT_EQ(lang("zh;q=0.001"), LANGUAGE_ZH);
    CHECK_INT_EQ(lang("zh;q=0.000"), LANGUAGE_EN);
    CHECK_INT_EQ(lang("zh;q=0."), LANGUAGE_EN);
    CHECK_INT_EQ(lang("zh;q=1"), LANGUAGE_ZH);
    CHECK_INT_EQ(lang("zh;q=1.000"), LANGUAGE_ZH);
    /* Both refused: English is the default. */
    CHECK_INT_EQ(lang("zh;q=0, en;q=0"), LANGUAGE_EN);
    /* English refused, Chinese acceptable. */
    CHECK_INT_EQ(lang("en;q=0, zh;q=0.1"), LANGUAGE_ZH);
    /* The best zh range counts, not the first one. */
    CHECK_INT_EQ(lang("zh-TW;q=0.1, en;q=0.5, zh-CN;q=0.9"), LANGUAGE_ZH);
    CHECK_INT_EQ(lang("en;q=0.5, zh-TW;q=0.1"), LANGUAGE_EN);
}

static void test_language_ties(void)
{
    CHECK_INT_EQ(lang("zh, en"), LANGUAGE_ZH);
    CHECK_INT_EQ(lang("en, zh"), LANGUAGE_EN);
    CHECK_INT_EQ(lang("zh;q=0.8, en;q=0.8"), LANGUAGE_ZH);
    CHECK_INT_EQ(lang("en;q=0.8, zh;q=0.8"), LANGUAGE_EN);
    /* The tie is decided by where each language's best range is, not its first. */
    CHECK_INT_EQ(lang("zh;q=0.2, en;q=0.8, zh-CN;q=0.8"), LANGUAGE_EN);
}

static void test_language_case_and_whitespace(void)
{
    CHECK_INT_EQ(lang("ZH-cn"), LANGUAGE_ZH);
    CHECK_INT_EQ(lang("Zh;Q=0.9, EN;q=0.8"), LANGUAGE_ZH);
    CHECK_INT_EQ(lang(" \tzh-CN ; q=0.9 ,\ten ; q=0.8 "), LANGUAGE_ZH);
    /* Empty list elements are allowed in a "#" list. */
    CHECK_INT_EQ(lang(",, zh ,"), LANGUAGE_ZH);
    CHECK_INT_EQ(lang(","), LANGUAGE_EN);
}

static void test_language_primary_subtag(void)
{
    /* "zha" (Zhuang) and "eng" are not zh and en. */
    CHECK_INT_EQ(lang("zha"), LANGUAGE_EN);
    CHECK_INT_EQ(lang("eng, zh;q=0.5"), LANGUAGE_ZH);
    /* Traditional Chinese readers still get Chinese rather than English. */
    CHECK_INT_EQ(lang("zh-TW, en;q=0.9"), LANGUAGE_ZH);
    CHECK_INT_EQ(lang("zh-Hant-HK"), LANGUAGE_ZH);
}

static void test_language_wildcard(void)
{
    /* "*" alone gives both languages the same q from the same range: English. */
    CHECK_INT_EQ(lang("*"), LANGUAGE_EN);
    CHECK_INT_EQ(lang("fr, *;q=0.1"), LANGUAGE_EN);
    /* "*" stands for English when English is not named... */
    CHECK_INT_EQ(lang("zh;q=0.5, *"), LANGUAGE_EN);
    CHECK_INT_EQ(lang("zh;q=0.5, *;q=0.4"), LANGUAGE_ZH);
    CHECK_INT_EQ(lang("zh;q=0.5, *;q=0.5"), LANGUAGE_ZH);
    CHECK_INT_EQ(lang("*;q=0.5, zh;q=0.5"), LANGUAGE_EN);
    /* ...and for Chinese when Chinese is not named. */
    CHECK_INT_EQ(lang("en;q=0.3, *;q=0.5"), LANGUAGE_ZH);
    CHECK_INT_EQ(lang("en;q=0, *"), LANGUAGE_ZH);
    /* A named language is not overridden by "*". */
    CHECK_INT_EQ(lang("zh;q=0, *"), LANGUAGE_EN);
    CHECK_INT_EQ(lang("en, *;q=0"), LANGUAGE_EN);
}

static void test_language_malformed(void)
{
    static const char *const bad[] = {
        "zh;q=abc",
        "zh;q=",
        "zh;q=1.5",
        "zh;q=2",
        "zh;q=0.5000",
        "zh;q=1.001",
        "zh;q=.5",
        "zh;q = 0.5",
        "zh;level=1",
        "zh;",
        "zh;q=0.5;q=0.6",
        "zh en",
        "zh-",
        "-zh",
        "zh--CN",
        "zh_CN",
        "zhongwenzhongwen",
        "zh-CN-abcdefghi",
        "zh-*",
        "**",
        "zh;q=0.5x",
        "中文",
        "\"zh\"",
        "zh,\x01",
        "garbage!!!",
        "<script>zh</script>",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (lang(bad[i]) != LANGUAGE_EN) {
            fprintf(stderr, "malformed header chose Chinese: \"%s\"\n", bad[i]);
            CHECK(0);
        } else {
            CHECK(1);
        }
    }
    /* An embedded NUL is malformed, and `len` bounds the parse. */
    CHECK_INT_EQ(error_language_from_accept("zh\0en", 5), LANGUAGE_EN);
    CHECK_INT_EQ(error_language_from_accept("zh;q=0.9,en", 8), LANGUAGE_ZH);
    CHECK_INT_EQ(error_language_from_accept("zh", 0), LANGUAGE_EN);
}

static void test_envelope_exact(void)
{
    struct strbuf sb = STRBUF_INIT;
    error_envelope_append(&sb, "route_not_found", "No API is registered at this path.", "abc123", 6);
    CHECK_STR_EQ(
        sb.data,
        "{\"error\":{\"code\":\"route_not_found\",\"message\":\"No API is registered at this path.\",\"request_id\":\"abc123\"}}");
    strbuf_free(&sb);

    /* Appends: existing content stays in front. */
    strbuf_append_str(&sb, "x");
    error_envelope_append(&sb, "c", "m", "r", 1);
    CHECK_STR_EQ(sb.data, "x{\"error\":{\"code\":\"c\",\"message\":\"m\",\"request_id\":\"r\"}}");
    strbuf_free(&sb);
}

static void test_envelope_problems(void)
{
    struct problem_list problems = PROBLEM_LIST_INIT;
    struct strbuf sb = STRBUF_INIT;
    /* an empty list adds nothing: the member is optional */
    error_envelope_append_problems(&sb, "c", "m", "r", 1, &problems);
    CHECK_STR_EQ(sb.data, "{\"error\":{\"code\":\"c\",\"message\":\"m\",\"request_id\":\"r\"}}");
    strbuf_free(&sb);
    problem_list_add(&problems, "/region_code", "must be \"6 digits\"");
    problem_list_add(&problems, "", "unknown member");
    error_envelope_append_problems(&sb, "invalid_body", "m", "r", 1, &problems);
    CHECK_STR_EQ(sb.data, "{\"error\":{\"code\":\"invalid_body\",\"message\":\"m\",\"request_id\":\"r\","
                          "\"problems\":[{\"pointer\":\"/region_code\",\"message\":\"must be \\\"6 digits\\\"\"},"
                          "{\"pointer\":\"\",\"message\":\"unknown member\"}]}}");
    strbuf_free(&sb);
    problem_list_clear(&problems);
}

static void test_envelope_escaping(void)
{
    struct strbuf sb = STRBUF_INIT;
    const char rid[] = "a\"b\\c\n\x01\x7f";
    error_envelope_append(&sb, "bad_request", "say \"hi\"", rid, sizeof(rid) - 1);
    CHECK_STR_EQ(sb.data, "{\"error\":{\"code\":\"bad_request\",\"message\":\"say \\\"hi\\\"\","
                          "\"request_id\":\"a\\\"b\\\\c\\u000a\\u0001\\u007f\"}}");
    /* The result parses, and the request id round-trips. */
    json_error_t error;
    json_t *doc = json_loadb(sb.data, sb.len, 0, &error);
    CHECK(doc != NULL);
    json_t *got = json_object_get(json_object_get(doc, "error"), "request_id");
    CHECK(json_is_string(got) && json_string_length(got) == sizeof(rid) - 1 &&
          memcmp(json_string_value(got), rid, sizeof(rid) - 1) == 0);
    json_decref(doc);
    strbuf_free(&sb);

    /* Only request_id_len bytes are used; an embedded NUL is escaped, not a terminator. */
    error_envelope_append(&sb, "c", "m", "r\0s-ignored", 3);
    CHECK_STR_EQ(sb.data, "{\"error\":{\"code\":\"c\",\"message\":\"m\",\"request_id\":\"r\\u0000s\"}}");
    strbuf_free(&sb);

    /* Chinese messages stay as UTF-8; invalid bytes become U+FFFD so the body is still JSON. */
    error_envelope_append(&sb, "c", "请求的接口不存在。", "\xff", 1);
    CHECK_STR_EQ(sb.data, "{\"error\":{\"code\":\"c\",\"message\":\"请求的接口不存在。\",\"request_id\":\"\xef\xbf\xbd\"}}");
    strbuf_free(&sb);

    /* NULLs still give the documented shape. */
    error_envelope_append(&sb, NULL, NULL, NULL, 7);
    CHECK_STR_EQ(sb.data, "{\"error\":{\"code\":\"\",\"message\":\"\",\"request_id\":\"\"}}");
    strbuf_free(&sb);
}

static int code_is_well_formed(const char *code)
{
    if (code[0] < 'a' || code[0] > 'z')
        return 0;
    for (const char *p = code + 1; *p; p++) {
        if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '_'))
            return 0;
    }
    return 1;
}

/* Well-formed UTF-8 survives JSON escaping unchanged (no U+FFFD, no \u escapes). */
static int is_clean_text(const char *s)
{
    struct strbuf sb = STRBUF_INIT;
    strbuf_append_json_escaped(&sb, s, strlen(s));
    int clean = strcmp(sb.data, s) == 0;
    strbuf_free(&sb);
    return clean;
}

static void test_catalogue_complete(void)
{
    for (int e = 0; e < GW_ERR__COUNT; e++) {
        const struct gateway_error_info *info = gateway_error_info((enum gateway_error)e);
        CHECK(info != NULL);
        if (info == NULL)
            continue;
        int ok = info->status >= 400 && info->status <= 599 && info->reason != NULL && info->reason[0] != '\0' &&
                 info->code != NULL && code_is_well_formed(info->code) && info->message_en != NULL && info->message_en[0] != '\0' &&
                 info->message_zh != NULL && info->message_zh[0] != '\0' && is_clean_text(info->message_en) &&
                 is_clean_text(info->message_zh);
        if (!ok)
            fprintf(stderr, "catalogue entry %d is incomplete or malformed\n", e);
        CHECK(ok);
        for (int other = 0; other < e && ok; other++) {
            const struct gateway_error_info *prev = gateway_error_info((enum gateway_error)other);
            if (prev->code != NULL && strcmp(prev->code, info->code) == 0) {
                fprintf(stderr, "duplicate code \"%s\" (%d and %d)\n", info->code, other, e);
                CHECK(0);
            }
        }
    }
}

static void test_catalogue_codes(void)
{
    /* Clients switch on these: a rename must fail here first (and be documented in openapi/yiwang.yaml). */
    static const struct {
        enum gateway_error error;
        int status;
        const char *code;
    } expected[] = {
        {GW_ERR_BAD_PATH, 400, "invalid_path"},
        {GW_ERR_BAD_REQUEST, 400, "bad_request"},
        {GW_ERR_ROUTE_NOT_FOUND, 404, "route_not_found"},
        {GW_ERR_METHOD_NOT_ALLOWED, 405, "method_not_allowed"},
        {GW_ERR_REQUEST_TIMEOUT, 408, "request_timeout"},
        {GW_ERR_BODY_TOO_LARGE, 413, "body_too_large"},
        {GW_ERR_HEADERS_TOO_LARGE, 431, "headers_too_large"},
        {GW_ERR_UPSTREAM_BAD_RESPONSE, 502, "upstream_bad_response"},
        {GW_ERR_UPSTREAM_UNAVAILABLE, 502, "upstream_connect_failed"},
        {GW_ERR_NO_HEALTHY_TARGET, 503, "no_healthy_target"},
        {GW_ERR_SERVICE_AT_CAPACITY, 503, "service_at_capacity"},
        {GW_ERR_GATEWAY_OVERLOADED, 503, "gateway_overloaded"},
        {GW_ERR_UPSTREAM_TIMEOUT, 504, "upstream_timeout"},
        {GW_ERR_INTERNAL, 500, "internal_error"},
        {GW_ERR_NOT_FOUND, 404, "not_found"},
        {GW_ERR_TOKEN_IN_QUERY, 400, "token_in_query"},
        {GW_ERR_TOKEN_MISSING, 401, "token_missing"},
        {GW_ERR_TOKEN_INVALID, 401, "token_invalid"},
        {GW_ERR_STEP_UP_REQUIRED, 401, "insufficient_user_authentication"},
        {GW_ERR_INSUFFICIENT_SCOPE, 403, "insufficient_scope"},
        {GW_ERR_USER_TOKEN_REQUIRED, 403, "user_token_required"},
        {GW_ERR_INVALID_CLIENT, 401, "invalid_client"},
        {GW_ERR_INVALID_SCOPE, 400, "invalid_scope"},
        {GW_ERR_INVALID_MOBILE, 400, "invalid_mobile"},
        {GW_ERR_INVALID_CREDENTIALS, 401, "invalid_credentials"},
        {GW_ERR_TOO_MANY_ATTEMPTS, 429, "too_many_attempts"},
        {GW_ERR_SMS_TOO_SOON, 429, "sms_too_soon"},
        {GW_ERR_SMS_DAILY_LIMIT, 429, "sms_daily_limit"},
        {GW_ERR_SMS_UNAVAILABLE, 503, "sms_unavailable"},
        {GW_ERR_SIGN_IN_UNAVAILABLE, 503, "sign_in_unavailable"},
        {GW_ERR_ACCOUNT_DISABLED, 403, "account_disabled"},
        {GW_ERR_REAUTHENTICATION_REQUIRED, 401, "reauthentication_required"},
        {GW_ERR_PASSWORD_TOO_SHORT, 400, "password_too_short"},
        {GW_ERR_PASSWORD_TOO_LONG, 400, "password_too_long"},
        {GW_ERR_PASSWORD_BAD_CHARACTERS, 400, "password_bad_characters"},
        {GW_ERR_PASSWORD_ALL_DIGITS, 400, "password_all_digits"},
        {GW_ERR_PASSWORD_CONTAINS_MOBILE, 400, "password_contains_mobile"},
        {GW_ERR_INVALID_ORG, 400, "invalid_org"},
        {GW_ERR_ORG_NOT_PERMITTED, 403, "org_not_permitted"},
        {GW_ERR_ADMIN_UNAUTHENTICATED, 401, "admin_unauthenticated"},
        {GW_ERR_ADMIN_FORBIDDEN, 403, "admin_forbidden"},
        {GW_ERR_ENTITY_NOT_FOUND, 404, "entity_not_found"},
        {GW_ERR_INVALID_BODY, 400, "invalid_body"},
        {GW_ERR_INVALID_QUERY, 400, "invalid_query"},
        {GW_ERR_UNSUPPORTED_MEDIA_TYPE, 415, "unsupported_media_type"},
        {GW_ERR_ENTITY_EXISTS, 409, "entity_exists"},
        {GW_ERR_IN_USE, 409, "in_use"},
        {GW_ERR_PRECONDITION_FAILED, 412, "precondition_failed"},
        {GW_ERR_PRECONDITION_REQUIRED, 428, "precondition_required"},
        {GW_ERR_REGISTRY_UNAVAILABLE, 503, "registry_unavailable"},
    };
    CHECK_INT_EQ(sizeof(expected) / sizeof(expected[0]), GW_ERR__COUNT);
    for (size_t i = 0; i < sizeof(expected) / sizeof(expected[0]); i++) {
        const struct gateway_error_info *info = gateway_error_info(expected[i].error);
        CHECK_INT_EQ(info->status, expected[i].status);
        CHECK_STR_EQ(info->code, expected[i].code);
    }
    CHECK_STR_EQ(gateway_error_info(GW_ERR_ROUTE_NOT_FOUND)->message_en, "No API is registered at this path.");
    CHECK_STR_EQ(gateway_error_info(GW_ERR_ROUTE_NOT_FOUND)->message_zh, "请求的接口不存在。");
    CHECK_STR_EQ(gateway_error_info(GW_ERR_SERVICE_AT_CAPACITY)->message_zh, "部门服务繁忙，请稍后重试。");
    CHECK_STR_EQ(gateway_error_info(GW_ERR_UPSTREAM_TIMEOUT)->message_zh, "部门服务响应超时，请稍后重试。");
    CHECK_STR_EQ(gateway_error_info(GW_ERR_BODY_TOO_LARGE)->reason, "Content Too Large");
    CHECK_STR_EQ(gateway_error_info(GW_ERR_TOO_MANY_ATTEMPTS)->reason, "Too Many Requests");
    /* the one answer for every wrong credential, existing account or not */
    CHECK_STR_EQ(gateway_error_info(GW_ERR_INVALID_CREDENTIALS)->message_en, "The mobile number or the code/password is wrong.");
    /* Out-of-range values answer internal_error instead of reading past the table. */
    CHECK_STR_EQ(gateway_error_info(GW_ERR__COUNT)->code, "internal_error");
    CHECK_STR_EQ(gateway_error_info((enum gateway_error) - 1)->code, "internal_error");
}

int main(void)
{
    test_language_examples();
    test_language_q_values();
    test_language_ties();
    test_language_case_and_whitespace();
    test_language_primary_subtag();
    test_language_wildcard();
    test_language_malformed();
    test_envelope_exact();
    test_envelope_escaping();
    test_envelope_problems();
    test_catalogue_complete();
    test_catalogue_codes();
    return TEST_REPORT();
}
