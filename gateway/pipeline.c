#include "gateway/pipeline.h"

#include <string.h>
#include <time.h>

#include "common/net_address.h"
#include "common/strbuf.h"
#include "gateway/async_request.h"
#include "gateway/auth_check.h"
#include "gateway/client_connection.h"
#include "gateway/identity_endpoints.h"
#include "gateway/proxy.h"
#include "gateway/request.h"
#include "gateway/trace.h"
#include "routes/path_normalize.h"

uint64_t monotonic_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

void request_send_error(struct request_ctx *rc, enum gateway_error error)
{
    h2o_req_t *req = rc->req;
    const struct gateway_error_info *info = gateway_error_info(error);
    h2o_iovec_t accept = request_header(req, H2O_STRLIT("accept-language"));
    enum message_language lang = error_language_from_accept(accept.base, accept.len);

    struct strbuf body = STRBUF_INIT;
    error_envelope_append(&body, info->code, lang == LANGUAGE_ZH ? info->message_zh : info->message_en, rc->request_id.base,
                          rc->request_id.len);
    rc->error_code = info->code;
    req->res.status = info->status;
    req->res.reason = info->reason;
    req->res.content_length = body.len;
    h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CONTENT_TYPE, NULL, H2O_STRLIT("application/json; charset=utf-8"));
    h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CACHE_CONTROL, NULL, H2O_STRLIT("no-store"));
    h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CONTENT_LANGUAGE, NULL, lang == LANGUAGE_ZH ? "zh-CN" : "en",
                   lang == LANGUAGE_ZH ? 5 : 2);
    h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_VARY, NULL, H2O_STRLIT("Accept-Language"));
    if (info->status == 503)
        h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_RETRY_AFTER, NULL, H2O_STRLIT("1"));
    h2o_send_inline(req, body.data, body.len);
    strbuf_free(&body);
}

/* ---- request end: the one place that accounts for a request ---- */

/* What the access log shows as the path: the normalised one (what was matched and forwarded) plus the query. */
static h2o_iovec_t logged_path(struct request_ctx *rc)
{
    h2o_req_t *req = rc->req;
    if (rc->normalized_path.base == NULL)
        return req->path;
    size_t query_len = req->query_at != SIZE_MAX ? req->path.len - req->query_at : 0;
    h2o_iovec_t path =
        h2o_concat(&req->pool, rc->normalized_path, h2o_iovec_init(req->path.base + req->path.len - query_len, query_len));
    return path;
}

static void write_access_log(struct request_ctx *rc, int status, uint64_t duration_us)
{
    h2o_req_t *req = rc->req;
    h2o_iovec_t path = logged_path(rc);
    struct access_log_entry entry = {
        .time_ms = rc->start_unix_ms,
        .request_id = rc->request_id.base,
        .request_id_len = rc->request_id.len,
        .request_id_from_client = rc->request_id_from_client,
        .protocol = rc->is_http2 ? "h2" : "h1",
        .tls = req->scheme == &H2O_URL_SCHEME_HTTPS,
        .client_ip = rc->client_ip,
        .method = req->method.base,
        .method_len = req->method.len,
        .path = path.base,
        .path_len = path.len,
        .status = status,
        .bytes_sent = req->bytes_sent,
        .duration_us = duration_us,
        .route = rc->route != NULL ? rc->route->config->name : NULL,
        .service = rc->route != NULL ? rc->route->config->service : NULL,
        .target = rc->target_authority,
        .upstream_us = rc->upstream_us,
        .error_code = rc->error_code,
        .auth_failure = rc->auth_failure,
    };
    access_log_append(&rc->thread->access_log, &entry);
}

static void on_request_dispose(void *data)
{
    struct request_ctx *rc = data;
    struct snapshot *snapshot = rc->holder->snapshot;
    if (rc->proxy != NULL)
        proxy_dispose(rc->proxy);
    if (rc->async != NULL)
        async_request_detach(rc->async);
    /* 499: the client went away before the gateway could answer (the convention nginx set). */
    int status = rc->req->res.status != 0 ? rc->req->res.status : 499;
    if (status == 499)
        client_connection_note_cancelled_stream(rc->req);
    uint64_t duration_us = monotonic_us() - rc->start_mono_us;
    unsigned thread = rc->thread->id;
    if (rc->route != NULL) {
        metrics_count_response(rc->route->metrics, thread, status);
        metrics_observe_latency(snapshot->latency[rc->route->service->index], thread, duration_us);
    } else {
        metrics_count_response(snapshot->unmatched, thread, status);
        metrics_observe_latency(snapshot->unmatched_latency, thread, duration_us);
    }
    write_access_log(rc, status, duration_us);
    rc->thread->active_requests--;
    snapshot_holder_unpin(rc->holder);
}

/* ---- the stages ---- */

static void set_client_address(struct request_ctx *rc)
{
    struct sockaddr_storage ss;
    socklen_t len = rc->req->conn->callbacks->get_peername(rc->req->conn, (struct sockaddr *)&ss);
    net_address_format_ip(&ss, len, rc->client_ip, sizeof(rc->client_ip));
}

static int is_token_char(unsigned char c)
{
    /* RFC 9110 tchar, lower-case only: h2o lower-cases HTTP/1 names, and HTTP/2 requires lower case */
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || (c != 0 && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

static int is_valid_header(const h2o_header_t *h)
{
    if (h->name->len == 0)
        return 0;
    for (size_t i = 0; i < h->name->len; i++) {
        if (!is_token_char((unsigned char)h->name->base[i]))
            return 0;
    }
    /* CR, LF and NUL would let a value end the line early and inject headers into the upstream request. */
    for (size_t i = 0; i < h->value.len; i++) {
        unsigned char c = (unsigned char)h->value.base[i];
        if (c == '\r' || c == '\n' || c == '\0')
            return 0;
    }
    return 1;
}

/* Header limits and validity; returns the error to answer or -1 when fine. */
static int check_headers(const struct request_ctx *rc)
{
    const h2o_req_t *req = rc->req;
    size_t total = req->method.len + req->path.len + req->authority.len;
    for (size_t i = 0; i < req->headers.size; i++) {
        const h2o_header_t *h = &req->headers.entries[i];
        total += h->name->len + h->value.len + 4;
        if (!is_valid_header(h))
            return GW_ERR_BAD_REQUEST;
    }
    if (total > rc->holder->snapshot->config->limits.max_header_bytes)
        return GW_ERR_HEADERS_TOO_LARGE;
    for (size_t i = 0; i < req->method.len; i++) {
        unsigned char c = (unsigned char)req->method.base[i];
        if (!(c >= 'A' && c <= 'Z') && !is_token_char(c))
            return GW_ERR_BAD_REQUEST;
    }
    for (size_t i = 0; i < req->authority.len; i++) {
        unsigned char c = (unsigned char)req->authority.base[i];
        if (c <= 0x20 || c >= 0x7f || c == '/' || c == '\\' || c == '@')
            return GW_ERR_BAD_REQUEST;
    }
    return -1;
}

/* The query is forwarded as received, so it may only hold bytes that are safe on an HTTP/1.1 request line. */
static int query_is_valid(const char *query, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)query[i];
        if (c <= 0x20 || c >= 0x7f || c == '#')
            return 0;
    }
    return 1;
}

static unsigned method_bit(h2o_iovec_t method)
{
    return http_method_bit_from_name(method.base, method.len);
}

static void send_method_not_allowed(struct request_ctx *rc, unsigned allowed)
{
    static const char *const names[] = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"};
    char allow[64];
    size_t len = 0;
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        if (allowed & (1u << i))
            len += (size_t)snprintf(allow + len, sizeof(allow) - len, "%s%s", len ? ", " : "", names[i]);
    }
    h2o_req_t *req = rc->req;
    h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_ALLOW, NULL, h2o_strdup(&req->pool, allow, len).base, len);
    request_send_error(rc, GW_ERR_METHOD_NOT_ALLOWED);
}

/* Normalises the path, matches a route and prepares what the upstream will be asked for. */
static int route_request(struct request_ctx *rc)
{
    h2o_req_t *req = rc->req;
    size_t path_len = req->query_at != SIZE_MAX ? req->query_at : req->path.len;
    const char *query = req->path.base + path_len;
    size_t query_len = req->path.len - path_len;

    char *normalized = h2o_mem_alloc_pool(&req->pool, path_len + 1);
    size_t normalized_len;
    if (path_normalize(req->path.base, path_len, normalized, &normalized_len) != PATH_OK || !query_is_valid(query, query_len)) {
        request_send_error(rc, GW_ERR_BAD_PATH);
        return -1;
    }
    rc->normalized_path = h2o_iovec_init(normalized, normalized_len);
    if (identity_endpoint_dispatch(rc, normalized, normalized_len))
        return -1; /* answered by the gateway itself */
    struct route_match match = route_table_match(rc->holder->snapshot->table, req->authority.base, req->authority.len, normalized,
                                                 normalized_len, method_bit(req->method));
    if (match.status == ROUTE_NOT_FOUND) {
        request_send_error(rc, GW_ERR_ROUTE_NOT_FOUND);
        return -1;
    }
    if (match.status == ROUTE_METHOD_NOT_ALLOWED) {
        send_method_not_allowed(rc, match.allowed_methods);
        return -1;
    }
    rc->route = match.value;
    if (req->entity.len > rc->route->config->max_body_bytes) {
        request_send_error(rc, GW_ERR_BODY_TOO_LARGE);
        return -1;
    }
    const char *rest = normalized;
    size_t rest_len = normalized_len;
    if (rc->route->config->strip_prefix) {
        rest += match.prefix_len;
        rest_len -= match.prefix_len;
    }
    /* "/" when stripping leaves nothing; the query is appended verbatim. */
    size_t target_len = (rest_len != 0 ? rest_len : 1) + query_len;
    char *target = h2o_mem_alloc_pool(&req->pool, target_len);
    if (rest_len != 0)
        memcpy(target, rest, rest_len);
    else
        target[0] = '/';
    memcpy(target + (rest_len != 0 ? rest_len : 1), query, query_len);
    rc->upstream_target = h2o_iovec_init(target, target_len);
    return 0;
}

struct request_ctx *request_begin(h2o_req_t *req)
{
    struct loop_thread *thread = loop_thread_from_context(req->conn->ctx);
    struct request_ctx *rc = h2o_mem_alloc_shared(&req->pool, sizeof(*rc), on_request_dispose);
    memset(rc, 0, sizeof(*rc));
    rc->req = req;
    rc->thread = thread;
    rc->holder = thread->holder;
    snapshot_holder_pin(rc->holder);
    rc->start_unix_ms = h2o_now(thread->ctx.loop);
    rc->start_mono_us = monotonic_us();
    rc->upstream_us = -1;
    rc->is_http2 = req->version >= 0x200;
    thread->active_requests++;
    metrics_counter_add(&thread->counters->requests, 1);
    set_client_address(rc);
    trace_assign_request_id(rc);
    trace_assign_traceparent(rc);
    return rc;
}

static int on_req(h2o_handler_t *self, h2o_req_t *req)
{
    (void)self;
    struct request_ctx *rc = request_begin(req);
    int error = check_headers(rc);
    if (error >= 0) {
        request_send_error(rc, (enum gateway_error)error);
        return 0;
    }
    if (route_request(rc) != 0 || auth_check_request(rc) != 0)
        return 0;
    proxy_start(rc);
    return 0;
}

void pipeline_register(h2o_pathconf_t *pathconf)
{
    h2o_handler_t *handler = h2o_create_handler(pathconf, sizeof(*handler));
    handler->on_req = on_req;
}
