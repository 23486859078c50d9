#include "gateway/forwarding.h"

#include <stdio.h>
#include <string.h>

/* Names the client may send but the upstream must not receive from it. */
static int is_dropped_request_header(const h2o_iovec_t *name)
{
    static const char *const dropped[] = {/* hop-by-hop (RFC 9110 §7.6.1) and framing, which the gateway sets itself */
                                          "connection", "keep-alive", "proxy-connection", "te", "trailer", "transfer-encoding",
                                          "upgrade", "http2-settings", "host", "content-length", "expect", "proxy-authorization",
                                          /* set by the gateway from what it knows, never taken from the client */
                                          "x-forwarded-for", "x-forwarded-proto", "x-forwarded-host", "x-forwarded-port",
                                          "forwarded", "x-real-ip", "x-request-id", "traceparent", "tracestate",
                                          /* replaced by the verified identity; a route may ask for it as well */
                                          "authorization"};
    for (size_t i = 0; i < sizeof(dropped) / sizeof(dropped[0]); i++) {
        if (h2o_memis(name->base, name->len, dropped[i], strlen(dropped[i])))
            return 1;
    }
    /* X-Gateway-* carries the identity the gateway asserts; a client-sent copy would be a forged identity. */
    return name->len >= 10 && h2o_lcstris(name->base, 10, H2O_STRLIT("x-gateway-"));
}

static int listed_in_connection_header(const h2o_req_t *req, const h2o_iovec_t *name)
{
    for (size_t i = 0; i < req->headers.size; i++) {
        const h2o_header_t *h = &req->headers.entries[i];
        if (h->name == &H2O_TOKEN_CONNECTION->buf && h2o_contains_token(h->value.base, h->value.len, name->base, name->len, ','))
            return 1;
    }
    return 0;
}

static char *append(char *dst, const char *src, size_t len)
{
    memcpy(dst, src, len);
    return dst + len;
}

static char *append_line(char *dst, const char *name, size_t name_len, const char *value, size_t value_len)
{
    dst = append(dst, name, name_len);
    dst = append(dst, ": ", 2);
    dst = append(dst, value, value_len);
    return append(dst, "\r\n", 2);
}

/* HTTP/2 may split cookies into several fields; HTTP/1.1 wants one, joined with "; " (RFC 9113 §8.2.3). */
static char *append_cookies(char *p, const h2o_req_t *req)
{
    int started = 0;
    for (size_t i = 0; i < req->headers.size; i++) {
        const h2o_header_t *h = &req->headers.entries[i];
        if (h->name != &H2O_TOKEN_COOKIE->buf)
            continue;
        p = append(p, started ? "; " : "cookie: ", started ? 2 : 8);
        p = append(p, h->value.base, h->value.len);
        started = 1;
    }
    return started ? append(p, "\r\n", 2) : p;
}

static int method_has_body_semantics(h2o_iovec_t method)
{
    return h2o_memis(method.base, method.len, H2O_STRLIT("POST")) || h2o_memis(method.base, method.len, H2O_STRLIT("PUT")) ||
           h2o_memis(method.base, method.len, H2O_STRLIT("PATCH"));
}

h2o_iovec_t forwarding_build_headers(struct request_ctx *rc)
{
    h2o_req_t *req = rc->req;
    size_t capacity =
        512 + rc->identity_headers.len + rc->request_id.len + rc->traceparent.len + rc->tracestate.len + req->authority.len;
    for (size_t i = 0; i < req->headers.size; i++)
        capacity += req->headers.entries[i].name->len + req->headers.entries[i].value.len + 4;
    char *buf = h2o_mem_alloc_pool(&req->pool, capacity), *p = buf;

    for (size_t i = 0; i < req->headers.size; i++) {
        const h2o_header_t *h = &req->headers.entries[i];
        if (h->name == &H2O_TOKEN_COOKIE->buf || is_dropped_request_header(h->name) || listed_in_connection_header(req, h->name))
            continue;
        p = append_line(p, h->name->base, h->name->len, h->value.base, h->value.len);
    }
    if (rc->route->config->auth.forward_authorization) {
        for (ssize_t i = -1; (i = h2o_find_header(&req->headers, H2O_TOKEN_AUTHORIZATION, i)) != -1;)
            p = append_line(p, H2O_STRLIT("authorization"), req->headers.entries[i].value.base, req->headers.entries[i].value.len);
    }
    if (rc->identity_headers.len != 0)
        p = append(p, rc->identity_headers.base, rc->identity_headers.len);
    p = append_cookies(p, req);
    p = append_line(p, H2O_STRLIT("x-forwarded-for"), rc->client_ip, strlen(rc->client_ip));
    p = req->scheme == &H2O_URL_SCHEME_HTTPS ? append(p, H2O_STRLIT("x-forwarded-proto: https\r\n"))
                                             : append(p, H2O_STRLIT("x-forwarded-proto: http\r\n"));
    p = append_line(p, H2O_STRLIT("x-forwarded-host"), req->authority.base, req->authority.len);
    p = append_line(p, H2O_STRLIT("x-request-id"), rc->request_id.base, rc->request_id.len);
    p = append_line(p, H2O_STRLIT("traceparent"), rc->traceparent.base, rc->traceparent.len);
    if (rc->tracestate.len != 0)
        p = append_line(p, H2O_STRLIT("tracestate"), rc->tracestate.base, rc->tracestate.len);
    if (req->entity.base != NULL || method_has_body_semantics(req->method)) {
        char length[32];
        int n = snprintf(length, sizeof(length), "%zu", req->entity.len);
        p = append_line(p, H2O_STRLIT("content-length"), length, (size_t)n);
    }
    p = append(p, "\r\n", 2);
    return h2o_iovec_init(buf, (size_t)(p - buf));
}

h2o_iovec_t forwarding_build_request_line(struct request_ctx *rc, const char *authority)
{
    h2o_req_t *req = rc->req;
    size_t authority_len = strlen(authority);
    size_t capacity = req->method.len + rc->upstream_target.len + authority_len + 32;
    char *buf = h2o_mem_alloc_pool(&req->pool, capacity), *p = buf;
    p = append(p, req->method.base, req->method.len);
    p = append(p, " ", 1);
    p = append(p, rc->upstream_target.base, rc->upstream_target.len);
    p = append(p, H2O_STRLIT(" HTTP/1.1\r\n"));
    p = append_line(p, H2O_STRLIT("host"), authority, authority_len);
    return h2o_iovec_init(buf, (size_t)(p - buf));
}
