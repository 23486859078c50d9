/*
 * test_access_log.c — one access-log line is one valid JSON object with the
 * documented fields, and citizens' numbers never appear in it unmasked.
 */
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "gateway/access_log.h"
#include "tests/unit/test.h"

static json_t *format_and_parse(const struct access_log_entry *entry, size_t *len)
{
    struct strbuf line = STRBUF_INIT;
    access_log_format(&line, entry);
    CHECK(line.len > 0 && line.data[line.len - 1] == '\n');
    CHECK(memchr(line.data, '\n', line.len - 1) == NULL); /* exactly one line */
    json_error_t error;
    json_t *object = json_loadb(line.data, line.len, JSON_REJECT_DUPLICATES, &error);
    if (object == NULL)
        fprintf(stderr, "not JSON (%s): %s", error.text, line.data);
    *len = line.len;
    strbuf_free(&line);
    return object;
}

static struct access_log_entry proxied_entry(void)
{
    static const char path[] = "/hrss/persons/%313812345678/cards?id=11010519491231002X&n=2";
    return (struct access_log_entry){
        .time_ms = 1795600000123ull,
        .request_id = "abc-123",
        .request_id_len = 7,
        .protocol = "h2",
        .tls = 1,
        .client_ip = "127.0.0.1",
        .method = "GET",
        .method_len = 3,
        .path = path,
        .path_len = sizeof(path) - 1,
        .status = 200,
        .bytes_sent = 487,
        .duration_us = 1234,
        .route = "hrss",
        .service = "hrss",
        .target = "127.0.0.1:9101",
        .upstream_us = 1000,
        .error_code = NULL,
    };
}

static void test_proxied_request(void)
{
    struct access_log_entry entry = proxied_entry();
    size_t len;
    json_t *o = format_and_parse(&entry, &len);
    CHECK(o != NULL);
    if (o == NULL)
        return;
    CHECK_STR_EQ(json_string_value(json_object_get(o, "time")), "2026-11-25T09:46:40.123Z");
    CHECK_STR_EQ(json_string_value(json_object_get(o, "request_id")), "abc-123");
    CHECK_STR_EQ(json_string_value(json_object_get(o, "protocol")), "h2");
    CHECK(json_is_true(json_object_get(o, "tls")));
    CHECK_STR_EQ(json_string_value(json_object_get(o, "method")), "GET");
    /* encoded digits are decoded before masking: "%31" is "1" to every backend */
    CHECK_STR_EQ(json_string_value(json_object_get(o, "path")), "/hrss/persons/138****5678/cards?id=110105********002X&n=2");
    CHECK_INT_EQ(json_integer_value(json_object_get(o, "status")), 200);
    CHECK_INT_EQ(json_integer_value(json_object_get(o, "bytes")), 487);
    CHECK(json_real_value(json_object_get(o, "duration_ms")) > 1.233 && json_real_value(json_object_get(o, "duration_ms")) < 1.235);
    CHECK_STR_EQ(json_string_value(json_object_get(o, "route")), "hrss");
    CHECK_STR_EQ(json_string_value(json_object_get(o, "target")), "127.0.0.1:9101");
    CHECK(json_real_value(json_object_get(o, "upstream_ms")) > 0.999);
    CHECK(json_is_null(json_object_get(o, "error")));
    /* time request_id protocol tls client method path status bytes duration_ms route service target upstream_ms error
     * auth_failure */
    CHECK_INT_EQ(json_object_size(o), 16);
    CHECK(json_is_null(json_object_get(o, "auth_failure")));
    json_decref(o);
}

static void test_gateway_error_and_hostile_input(void)
{
    struct access_log_entry entry = proxied_entry();
    static const char path[] = "/x\"y\\z\n\x01\xff";
    entry.path = path;
    entry.path_len = sizeof(path) - 1;
    entry.request_id = "13812345678";
    entry.request_id_len = 11;
    entry.request_id_from_client = 1;
    entry.route = entry.service = entry.target = NULL;
    entry.upstream_us = -1;
    entry.status = 404;
    entry.error_code = "route_not_found";
    size_t len;
    json_t *o = format_and_parse(&entry, &len);
    CHECK(o != NULL);
    if (o == NULL)
        return;
    CHECK_STR_EQ(json_string_value(json_object_get(o, "path")), "/x\"y\\z\n\x01\xef\xbf\xbd");
    CHECK_STR_EQ(json_string_value(json_object_get(o, "request_id")), "138****5678"); /* client-chosen ids are masked too */
    CHECK(json_is_null(json_object_get(o, "route")));
    CHECK(json_is_null(json_object_get(o, "upstream_ms")));
    CHECK_STR_EQ(json_string_value(json_object_get(o, "error")), "route_not_found");
    json_decref(o);

    /* an id the gateway generated is random hex: kept as is, even where it happens to hold a long digit run */
    entry.request_id = "cb67cdef2152abd710901017495359d9";
    entry.request_id_len = 32;
    entry.request_id_from_client = 0;
    o = format_and_parse(&entry, &len);
    CHECK(o != NULL);
    if (o != NULL)
        CHECK_STR_EQ(json_string_value(json_object_get(o, "request_id")), "cb67cdef2152abd710901017495359d9");
    json_decref(o);
}

static const char *logged_path(const char *path)
{
    static char result[512];
    struct access_log_entry entry = proxied_entry();
    entry.path = path;
    entry.path_len = strlen(path);
    size_t len;
    json_t *o = format_and_parse(&entry, &len);
    snprintf(result, sizeof(result), "%s", o != NULL ? json_string_value(json_object_get(o, "path")) : "(not JSON)");
    json_decref(o);
    return result;
}

/* Refused requests are logged too: a token in the query or a logout's ID token must not end up in the file. */
static void test_credentials_in_the_query_are_redacted(void)
{
    CHECK_STR_EQ(logged_path("/hrss/x?access_token=eyJhbGciOi.eyJzdWIi.c2ln"), "/hrss/x?access_token=REDACTED");
    CHECK_STR_EQ(logged_path("/oauth/logout?state=s&id_token_hint=eyJ.eyJ.sig&client_id=rp"),
                 "/oauth/logout?state=s&id_token_hint=REDACTED&client_id=rp");
    CHECK_STR_EQ(logged_path("/cb?code=abc&code_verifier=xyz&token=t&refresh_token=r&client_secret=s&password=p"),
                 "/cb?code=REDACTED&code_verifier=REDACTED&token=REDACTED&refresh_token=REDACTED&client_secret=REDACTED"
                 "&password=REDACTED");
    /* only exact names; other parameters, empty pairs and a value-less name stay as they are */
    CHECK_STR_EQ(logged_path("/x?my_access_token=1&codes=2&&access_token&n=13812345678"),
                 "/x?my_access_token=1&codes=2&&access_token&n=138****5678");
    CHECK_STR_EQ(logged_path("/x?"), "/x?");
    CHECK_STR_EQ(logged_path("/x/code=1"), "/x/code=1"); /* not a query */
}

int main(void)
{
    test_proxied_request();
    test_credentials_in_the_query_are_redacted();
    test_gateway_error_and_hostile_input();
    return TEST_REPORT();
}
