/*
 * request.h — the gateway's state for one client request.
 *
 * Allocated in the request's h2o memory pool with a dispose hook, so it lives
 * exactly as long as the h2o request: the hook (request_ctx dispose, in
 * pipeline.c) is the single place where a request ends — upstream work is
 * cancelled, in-flight slots released, metrics counted and the access-log
 * line written. Only the owning event-loop thread touches it.
 */
#ifndef YIWANG_GATEWAY_REQUEST_H
#define YIWANG_GATEWAY_REQUEST_H

#include <h2o.h>
#include <netinet/in.h>
#include <stdint.h>

#include "gateway/errors.h"
#include "gateway/loop_thread.h"
#include "gateway/snapshot.h"

struct proxy;
struct async_request;

struct request_ctx {
    h2o_req_t *req;
    struct loop_thread *thread;
    struct snapshot_holder *holder; /* pinned until dispose */
    struct snapshot_route *route;   /* NULL until matched */
    uint64_t start_unix_ms;
    uint64_t start_mono_us;
    h2o_iovec_t request_id;
    int request_id_from_client;
    h2o_iovec_t traceparent;      /* what the upstream receives */
    h2o_iovec_t tracestate;       /* forwarded only with a valid incoming traceparent */
    h2o_iovec_t normalized_path;  /* set once the path is normalised */
    h2o_iovec_t upstream_target;  /* normalised path, prefix stripped, plus the query */
    const char *error_code;       /* set when the gateway answered with an error */
    const char *auth_failure;     /* why a token was refused (jwt_status_name), for the access log */
    h2o_iovec_t identity_headers; /* X-Gateway-* lines for the upstream, once the caller is verified */
    char client_ip[INET6_ADDRSTRLEN];
    int is_http2;
    struct proxy *proxy;
    struct async_request *async;  /* blocking work on a worker thread, while it runs */
    const char *target_authority; /* last upstream target tried */
    int64_t upstream_us;          /* -1 until an upstream answered */
};

/* The first value of a request header (names are lower-case), or {NULL, 0}. */
static inline h2o_iovec_t request_header(const h2o_req_t *req, const char *name, size_t name_len)
{
    ssize_t i = h2o_find_header_by_str(&req->headers, name, name_len, -1);
    return i < 0 ? h2o_iovec_init(NULL, 0) : req->headers.entries[i].value;
}

/*
 * Starts the gateway's accounting of a request (pipeline.c): a request_ctx in
 * the request's pool whose dispose hook counts it, writes its access-log line
 * and detaches any async work. The admin API on the ops listener uses it too,
 * so admin calls are access-logged and can use async_request.h.
 */
struct request_ctx *request_begin(h2o_req_t *req);

/* Answers with the error envelope (status, code, localised message, request id). */
void request_send_error(struct request_ctx *rc, enum gateway_error error);

uint64_t monotonic_us(void);

#endif
