#include "gateway/catalog_endpoints.h"

#include <string.h>

#define MAX_AGE "public, max-age=60"

/* Does If-None-Match list `etag` (or "*")? Weak comparison, as RFC 9110 §13.1.2 asks for GET. */
static int not_modified(h2o_req_t *req, const char *etag)
{
    ssize_t at = h2o_find_header(&req->headers, H2O_TOKEN_IF_NONE_MATCH, -1);
    if (at < 0)
        return 0;
    h2o_iovec_t value = req->headers.entries[at].value;
    size_t etag_len = strlen(etag);
    for (size_t i = 0; i < value.len;) {
        while (i < value.len && (value.base[i] == ' ' || value.base[i] == ','))
            i++;
        if (i + 2 <= value.len && value.base[i] == 'W' && value.base[i + 1] == '/')
            i += 2;
        size_t start = i;
        while (i < value.len && value.base[i] != ',')
            i++;
        size_t end = i;
        while (end > start && value.base[end - 1] == ' ')
            end--;
        if ((end - start == 1 && value.base[start] == '*') ||
            (end - start == etag_len && memcmp(value.base + start, etag, etag_len) == 0))
            return 1;
    }
    return 0;
}

static void serve(struct request_ctx *rc, const char *body, size_t len, const char *etag)
{
    h2o_req_t *req = rc->req;
    if (!h2o_memis(req->method.base, req->method.len, H2O_STRLIT("GET")) &&
        !h2o_memis(req->method.base, req->method.len, H2O_STRLIT("HEAD"))) {
        h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_ALLOW, NULL, H2O_STRLIT("GET, HEAD"));
        request_send_error(rc, GW_ERR_METHOD_NOT_ALLOWED);
        return;
    }
    h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CACHE_CONTROL, NULL, H2O_STRLIT(MAX_AGE));
    h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_ETAG, NULL, etag, strlen(etag));
    static h2o_generator_t generator = {NULL, NULL};
    if (not_modified(req, etag)) {
        req->res.status = 304;
        req->res.reason = "Not Modified";
        h2o_start_response(req, &generator);
        h2o_send(req, NULL, 0, H2O_SEND_STATE_FINAL);
        return;
    }
    req->res.status = 200;
    req->res.reason = "OK";
    req->res.content_length = len;
    h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CONTENT_TYPE, NULL, H2O_STRLIT("application/json"));
    /* the snapshot is pinned for the request's lifetime, so its bytes are sent without a copy */
    h2o_start_response(req, &generator);
    h2o_iovec_t chunk = h2o_iovec_init(body, len);
    h2o_send(req, &chunk, 1, H2O_SEND_STATE_FINAL);
}

int catalog_endpoint_dispatch(struct request_ctx *rc, const char *path, size_t path_len)
{
    const struct snapshot *snapshot = rc->holder->snapshot;
    if (snapshot->catalog == NULL || snapshot->openapi == NULL)
        return 0; /* a snapshot built without snapshot_add_catalog: routes answer as before */
    if (h2o_memis(path, path_len, H2O_STRLIT("/v1/catalog"))) {
        serve(rc, snapshot->catalog, snapshot->catalog_len, snapshot->catalog_etag);
        return 1;
    }
    if (h2o_memis(path, path_len, H2O_STRLIT("/openapi.json"))) {
        serve(rc, snapshot->openapi, snapshot->openapi_len, snapshot->openapi_etag);
        return 1;
    }
    return 0;
}
