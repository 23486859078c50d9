/*
 * test_browser_cookies.c — finding the gateway's cookies among several Cookie
 * fields (HTTP/2 sends one per cookie), names that merely contain or extend
 * ours, the Set-Cookie attributes, and the anti-forgery token check: the right
 * token passes, a token of another browser, a tampered one or a missing cookie
 * do not.
 */
#include <h2o.h>
#include <string.h>

#include "gateway/browser_cookies.h"
#include "tests/unit/test.h"

#define BINDING_A "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
#define BINDING_B "BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB"

static void init_req(h2o_req_t *req)
{
    memset(req, 0, sizeof(*req));
    h2o_mem_init_pool(&req->pool);
}

static void add_cookie_field(h2o_req_t *req, const char *value)
{
    h2o_add_header(&req->pool, &req->headers, H2O_TOKEN_COOKIE, NULL, value, strlen(value));
}

static int found_equals(const h2o_req_t *req, const char *name, const char *expected)
{
    h2o_iovec_t v = browser_cookie_find(req, name);
    if (expected == NULL)
        return v.base == NULL;
    return v.base != NULL && h2o_memis(v.base, v.len, expected, strlen(expected));
}

static void test_find(void)
{
    h2o_req_t req;
    init_req(&req);
    CHECK(found_equals(&req, BROWSER_SSO_COOKIE, NULL));
    add_cookie_field(&req, "x__Host-yiwang-sso=evil; __Host-yiwang-sso-old=stale");
    CHECK(found_equals(&req, BROWSER_SSO_COOKIE, NULL)); /* neither name is ours */
    add_cookie_field(&req, "theme=dark");
    add_cookie_field(&req, " __Host-yiwang-sso=good ;other=1");
    CHECK(found_equals(&req, BROWSER_SSO_COOKIE, "good"));
    CHECK(found_equals(&req, "other", "1"));
    CHECK(found_equals(&req, "theme", "dark"));
    add_cookie_field(&req, "__Host-yiwang-sso=second");
    CHECK(found_equals(&req, BROWSER_SSO_COOKIE, "good")); /* the first one wins */
    add_cookie_field(&req, "novalue; =empty-name");
    CHECK(found_equals(&req, "novalue", NULL));
    h2o_mem_clear_pool(&req.pool);
}

static void test_set_and_clear(void)
{
    h2o_req_t req;
    init_req(&req);
    browser_cookie_set(&req, BROWSER_SSO_COOKIE, "v", 1, 43200);
    browser_cookie_clear(&req, BROWSER_CSRF_COOKIE);
    CHECK_INT_EQ(req.res.headers.size, 2);
    const h2o_iovec_t *set = &req.res.headers.entries[0].value, *clear = &req.res.headers.entries[1].value;
    CHECK(h2o_memis(set->base, set->len, H2O_STRLIT("__Host-yiwang-sso=v; Path=/; Secure; HttpOnly; SameSite=Lax; Max-Age=43200")));
    CHECK(h2o_memis(clear->base, clear->len, H2O_STRLIT("__Host-yiwang-csrf=; Path=/; Secure; HttpOnly; SameSite=Lax; Max-Age=0")));
    h2o_mem_clear_pool(&req.pool);
}

static void test_csrf(void)
{
    unsigned char key[SECRETS_KEY_LEN], other_key[SECRETS_KEY_LEN];
    memset(key, 7, sizeof(key));
    memset(other_key, 8, sizeof(other_key));
    char token_a[BROWSER_CSRF_TOKEN_BUFSIZE], token_b[BROWSER_CSRF_TOKEN_BUFSIZE], token_other[BROWSER_CSRF_TOKEN_BUFSIZE];
    CHECK_INT_EQ(browser_csrf_token(key, BINDING_A, token_a), 0);
    CHECK_INT_EQ(browser_csrf_token(key, BINDING_B, token_b), 0);
    CHECK_INT_EQ(browser_csrf_token(other_key, BINDING_A, token_other), 0);
    CHECK_INT_EQ(browser_csrf_token(key, "short", token_b), -1);
    CHECK_INT_EQ(strlen(token_a), 43);

    h2o_req_t req;
    init_req(&req);
    CHECK(!browser_csrf_check(&req, key, token_a)); /* no cookie */
    add_cookie_field(&req, "__Host-yiwang-csrf=" BINDING_A);
    CHECK(browser_csrf_check(&req, key, token_a));
    CHECK(!browser_csrf_check(&req, key, token_b));     /* another browser's token */
    CHECK(!browser_csrf_check(&req, key, token_other)); /* another key */
    CHECK(!browser_csrf_check(&req, key, NULL));
    CHECK(!browser_csrf_check(&req, key, ""));
    char tampered[BROWSER_CSRF_TOKEN_BUFSIZE];
    memcpy(tampered, token_a, sizeof(tampered));
    tampered[0] = tampered[0] == 'A' ? 'B' : 'A';
    CHECK(!browser_csrf_check(&req, key, tampered));
    char longer[BROWSER_CSRF_TOKEN_BUFSIZE + 1];
    snprintf(longer, sizeof(longer), "%sx", token_a);
    CHECK(!browser_csrf_check(&req, key, longer));
    h2o_mem_clear_pool(&req.pool);

    /* a malformed cookie binds nothing, and the binding is kept when well formed */
    init_req(&req);
    add_cookie_field(&req, "__Host-yiwang-csrf=short");
    CHECK(!browser_csrf_check(&req, key, token_a));
    char binding[SECRETS_TOKEN_BUFSIZE];
    CHECK_INT_EQ(browser_csrf_binding(&req, binding), 0);
    CHECK(strcmp(binding, "short") != 0 && strlen(binding) == 43);
    CHECK_INT_EQ(req.res.headers.size, 1); /* a new one is set */
    h2o_mem_clear_pool(&req.pool);
    init_req(&req);
    add_cookie_field(&req, "__Host-yiwang-csrf=" BINDING_A);
    CHECK_INT_EQ(browser_csrf_binding(&req, binding), 0);
    CHECK_STR_EQ(binding, BINDING_A);
    CHECK_INT_EQ(req.res.headers.size, 0);
    h2o_mem_clear_pool(&req.pool);
}

int main(void)
{
    test_find();
    test_set_and_clear();
    test_csrf();
    return TEST_REPORT();
}
