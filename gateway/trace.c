#include "gateway/trace.h"

#include <string.h>

#define REQUEST_ID_MAX 128
#define TRACEPARENT_LEN 55 /* "00-" 32 "-" 16 "-" 2 */

int trace_request_id_is_sane(const char *id, size_t len)
{
    if (len == 0 || len > REQUEST_ID_MAX)
        return 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)id[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || strchr("._:+/=-", c) != NULL) || c == 0)
            return 0;
    }
    return 1;
}

static int is_lower_hex(const char *s, size_t len, int require_nonzero)
{
    int nonzero = 0;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
            return 0;
        nonzero |= c != '0';
    }
    return !require_nonzero || nonzero;
}

int trace_traceparent_is_valid(const char *v, size_t len)
{
    if (len < TRACEPARENT_LEN || v[2] != '-' || v[35] != '-' || v[52] != '-')
        return 0;
    if (!is_lower_hex(v, 2, 0) || memcmp(v, "ff", 2) == 0)
        return 0;
    /* version 00 has exactly these fields; later versions may append "-…" fields */
    if (memcmp(v, "00", 2) == 0 ? len != TRACEPARENT_LEN : (len > TRACEPARENT_LEN && v[TRACEPARENT_LEN] != '-'))
        return 0;
    return is_lower_hex(v + 3, 32, 1) && is_lower_hex(v + 36, 16, 1) && is_lower_hex(v + 53, 2, 0);
}

/* Several fields of one name, joined with "," as W3C Trace Context requires for tracestate. */
static h2o_iovec_t join_headers(h2o_req_t *req, const char *name, size_t name_len)
{
    size_t total = 0, count = 0;
    for (ssize_t i = -1; (i = h2o_find_header_by_str(&req->headers, name, name_len, i)) != -1; count++)
        total += req->headers.entries[i].value.len + 1;
    if (count <= 1)
        return request_header(req, name, name_len);
    char *joined = h2o_mem_alloc_pool(&req->pool, total), *p = joined;
    for (ssize_t i = -1; (i = h2o_find_header_by_str(&req->headers, name, name_len, i)) != -1;) {
        if (p != joined)
            *p++ = ',';
        memcpy(p, req->headers.entries[i].value.base, req->headers.entries[i].value.len);
        p += req->headers.entries[i].value.len;
    }
    return h2o_iovec_init(joined, (size_t)(p - joined));
}

void trace_assign_request_id(struct request_ctx *rc)
{
    h2o_req_t *req = rc->req;
    h2o_iovec_t incoming = request_header(req, H2O_STRLIT("x-request-id"));
    if (trace_request_id_is_sane(incoming.base, incoming.len)) {
        rc->request_id = incoming;
        rc->request_id_from_client = 1;
    } else {
        char *id = h2o_mem_alloc_pool(&req->pool, 32);
        loop_thread_random_hex(rc->thread, id, 32);
        rc->request_id = h2o_iovec_init(id, 32);
    }
    h2o_add_header_by_str(&req->pool, &req->res.headers, H2O_STRLIT("x-request-id"), 0, NULL, rc->request_id.base,
                          rc->request_id.len);
}

void trace_assign_traceparent(struct request_ctx *rc)
{
    h2o_req_t *req = rc->req;
    h2o_iovec_t incoming = request_header(req, H2O_STRLIT("traceparent"));
    char *out = h2o_mem_alloc_pool(&req->pool, TRACEPARENT_LEN);
    memcpy(out, "00-", 3);
    if (trace_traceparent_is_valid(incoming.base, incoming.len)) {
        memcpy(out + 3, incoming.base + 3, 32);
        memcpy(out + 52, incoming.base + 52, 3);
        rc->tracestate = join_headers(req, H2O_STRLIT("tracestate"));
    } else {
        loop_thread_random_hex(rc->thread, out + 3, 32);
        memcpy(out + 52, "-00", 3);
    }
    out[35] = '-';
    loop_thread_random_hex(rc->thread, out + 36, 16);
    rc->traceparent = h2o_iovec_init(out, TRACEPARENT_LEN);
    h2o_add_header_by_str(&req->pool, &req->res.headers, H2O_STRLIT("traceparent"), 0, NULL, out, TRACEPARENT_LEN);
}
