#include "gateway/browser_cookies.h"

#include <openssl/crypto.h>
#include <string.h>

#include "common/base64url.h"

#define CSRF_CONTEXT "yiwang form v1:"

/* Searches one cookie header value ("a=1; b=2") for `name`. */
static h2o_iovec_t find_in_field(h2o_iovec_t field, const char *name, size_t name_len)
{
    const char *p = field.base, *end = field.base + field.len;
    while (p < end) {
        while (p < end && (*p == ' ' || *p == '\t' || *p == ';'))
            p++;
        const char *pair_end = memchr(p, ';', (size_t)(end - p));
        if (pair_end == NULL)
            pair_end = end;
        const char *eq = memchr(p, '=', (size_t)(pair_end - p));
        if (eq != NULL && (size_t)(eq - p) == name_len && memcmp(p, name, name_len) == 0) {
            const char *value_end = pair_end;
            while (value_end > eq + 1 && (value_end[-1] == ' ' || value_end[-1] == '\t'))
                value_end--;
            return h2o_iovec_init(eq + 1, (size_t)(value_end - (eq + 1)));
        }
        p = pair_end;
    }
    return h2o_iovec_init(NULL, 0);
}

h2o_iovec_t browser_cookie_find(const h2o_req_t *req, const char *name)
{
    size_t name_len = strlen(name);
    for (size_t i = 0; i < req->headers.size; i++) {
        const h2o_header_t *h = &req->headers.entries[i];
        if (h->name != &H2O_TOKEN_COOKIE->buf)
            continue;
        h2o_iovec_t value = find_in_field(h->value, name, name_len);
        if (value.base != NULL)
            return value;
    }
    return h2o_iovec_init(NULL, 0);
}

void browser_cookie_set(h2o_req_t *req, const char *name, const char *value, size_t value_len, unsigned max_age_s)
{
    char max_age[32] = "";
    if (max_age_s != 0)
        snprintf(max_age, sizeof(max_age), "; Max-Age=%u", max_age_s);
    h2o_iovec_t header = h2o_concat(
        &req->pool, h2o_iovec_init(name, strlen(name)), h2o_iovec_init(H2O_STRLIT("=")), h2o_iovec_init(value, value_len),
        h2o_iovec_init(H2O_STRLIT("; Path=/; Secure; HttpOnly; SameSite=Lax")), h2o_iovec_init(max_age, strlen(max_age)));
    h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_SET_COOKIE, NULL, header.base, header.len);
}

void browser_cookie_clear(h2o_req_t *req, const char *name)
{
    h2o_iovec_t header = h2o_concat(&req->pool, h2o_iovec_init(name, strlen(name)),
                                    h2o_iovec_init(H2O_STRLIT("=; Path=/; Secure; HttpOnly; SameSite=Lax; Max-Age=0")));
    h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_SET_COOKIE, NULL, header.base, header.len);
}

int browser_csrf_binding(h2o_req_t *req, char out[SECRETS_TOKEN_BUFSIZE])
{
    h2o_iovec_t cookie = browser_cookie_find(req, BROWSER_CSRF_COOKIE);
    if (cookie.base != NULL && secrets_token_is_wellformed(cookie.base, cookie.len)) {
        memcpy(out, cookie.base, SECRETS_TOKEN_LEN);
        out[SECRETS_TOKEN_LEN] = '\0';
        return 0;
    }
    if (secrets_token_generate(out) != 0)
        return -1;
    /* lives as long as the browser: a login page left open for an hour must still submit */
    browser_cookie_set(req, BROWSER_CSRF_COOKIE, out, SECRETS_TOKEN_LEN, 0);
    return 0;
}

int browser_csrf_token(const unsigned char key[SECRETS_KEY_LEN], const char *binding, char out[BROWSER_CSRF_TOKEN_BUFSIZE])
{
    unsigned char input[sizeof(CSRF_CONTEXT) - 1 + SECRETS_TOKEN_LEN], mac[SECRETS_HASH_LEN];
    size_t len = strlen(binding);
    if (len != SECRETS_TOKEN_LEN)
        return -1;
    memcpy(input, CSRF_CONTEXT, sizeof(CSRF_CONTEXT) - 1);
    memcpy(input + sizeof(CSRF_CONTEXT) - 1, binding, len);
    if (secrets_keyed_hash(key, input, sizeof(input), mac) != 0)
        return -1;
    out[base64url_encode(mac, sizeof(mac), out)] = '\0';
    return 0;
}

int browser_csrf_check(const h2o_req_t *req, const unsigned char key[SECRETS_KEY_LEN], const char *token)
{
    h2o_iovec_t cookie = browser_cookie_find(req, BROWSER_CSRF_COOKIE);
    char binding[SECRETS_TOKEN_BUFSIZE], expected[BROWSER_CSRF_TOKEN_BUFSIZE];
    if (token == NULL || cookie.base == NULL || !secrets_token_is_wellformed(cookie.base, cookie.len) ||
        strlen(token) != SECRETS_TOKEN_LEN)
        return 0;
    memcpy(binding, cookie.base, SECRETS_TOKEN_LEN);
    binding[SECRETS_TOKEN_LEN] = '\0';
    if (browser_csrf_token(key, binding, expected) != 0)
        return 0;
    return CRYPTO_memcmp(expected, token, SECRETS_TOKEN_LEN) == 0;
}
