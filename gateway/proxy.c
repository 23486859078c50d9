#include "gateway/proxy.h"

#include <errno.h>
#include <string.h>

#include "common/log.h"
#include "gateway/forwarding.h"
#include "gateway/picohttpparser_abi.h"
#include "gateway/upstream_pool.h"
#include "routes/balancer.h"

#define MAX_RESPONSE_HEADERS 100

enum proxy_state {
    PROXY_CONNECTING,
    PROXY_SENDING,
    PROXY_AWAITING_HEAD,
    PROXY_STREAMING,
    PROXY_UPSTREAM_DONE, /* upstream exchange over; the client may still be receiving */
};

enum body_framing {
    BODY_NONE,
    BODY_CONTENT_LENGTH,
    BODY_CHUNKED,
    BODY_UNTIL_CLOSE,
};

/* Why an attempt failed before a response head arrived. */
enum attempt_failure {
    FAIL_CONNECT,         /* refused, unreachable: nothing was sent */
    FAIL_CONNECT_TIMEOUT, /* nothing was sent */
    FAIL_STALE,           /* a reused keep-alive connection closed before answering */
    FAIL_IO,              /* the connection broke while sending or waiting */
    FAIL_HEAD_TIMEOUT,
    FAIL_BAD_RESPONSE,
    FAIL_LOCAL, /* the gateway itself is out of descriptors: not the target's fault */
};

struct proxy {
    struct request_ctx *rc;
    h2o_req_t *req;
    struct loop_thread *thread;
    struct service *service;
    struct upstream_target *target;
    h2o_socket_t *sock;
    enum proxy_state state;
    int reused;
    int idempotent;
    unsigned attempts;
    unsigned char *tried; /* one flag per target of the service */
    int holds_service_slot;
    int holds_target_slot;
    h2o_timeout_entry_t phase_timer; /* connect, then response head */
    h2o_timeout_entry_t total_timer;
    h2o_iovec_t forwarded_headers; /* everything after the Host line, built once for all attempts */
    uint64_t attempt_started_us;
    /* response */
    enum body_framing framing;
    size_t body_remaining;
    struct phr_chunked_decoder chunked;
    int upstream_keepalive;
    int response_started;
    int body_complete;
    int send_in_flight;
    int final_sent;
    int stream_failed;
    int client_gone;
    int paused;
    h2o_buffer_t *pending; /* received from upstream, not yet given to h2o */
    h2o_buffer_t *sending; /* given to h2o, waiting for proceed */
    h2o_generator_t generator;
};

static void start_attempt(struct proxy *p);
static void on_body_readable(h2o_socket_t *sock, const char *err);
static void flush_to_client(struct proxy *p);

static int method_is_idempotent(h2o_iovec_t method)
{
    static const char *const idempotent[] = {"GET", "HEAD", "PUT", "DELETE", "OPTIONS"};
    for (size_t i = 0; i < sizeof(idempotent) / sizeof(idempotent[0]); i++) {
        if (h2o_memis(method.base, method.len, idempotent[i], strlen(idempotent[i])))
            return 1;
    }
    return 0;
}

static struct upstream_pool *thread_pool(struct loop_thread *thread, const char *authority)
{
    size_t len = strlen(authority);
    struct upstream_pool *pool = strmap_get(&thread->upstream_pools, authority, len);
    if (pool == NULL) {
        pool = upstream_pool_new(thread->ctx.loop);
        strmap_put(&thread->upstream_pools, authority, len, pool);
    }
    return pool;
}

/* ---- slots and timers ---- */

static void release_target_slot(struct proxy *p)
{
    if (p->holds_target_slot) {
        atomic_fetch_sub_explicit(&p->target->state->in_flight, 1, memory_order_relaxed);
        p->holds_target_slot = 0;
    }
}

static void release_service_slot(struct proxy *p)
{
    if (p->holds_service_slot) {
        atomic_fetch_sub_explicit(&p->service->state->in_flight, 1, memory_order_relaxed);
        p->holds_service_slot = 0;
    }
}

static void stop_timer(h2o_timeout_entry_t *timer)
{
    if (h2o_timeout_is_linked(timer))
        h2o_timeout_unlink(timer);
}

static void start_phase_timer(struct proxy *p, unsigned ms, h2o_timeout_cb cb)
{
    stop_timer(&p->phase_timer);
    p->phase_timer.cb = cb;
    h2o_timeout_link(p->thread->ctx.loop, loop_thread_timeout(p->thread, ms), &p->phase_timer);
}

static void close_upstream(struct proxy *p)
{
    if (p->sock != NULL) {
        h2o_socket_close(p->sock);
        p->sock = NULL;
    }
}

/* The upstream exchange is over: free the target for others, and keep the connection if it can carry another request. */
static void finish_upstream(struct proxy *p, int reusable)
{
    stop_timer(&p->phase_timer);
    stop_timer(&p->total_timer);
    if (p->sock != NULL) {
        h2o_socket_read_stop(p->sock);
        if (reusable && p->upstream_keepalive && p->sock->input->size == 0) {
            struct upstream_pool *pool = thread_pool(p->thread, p->target->authority);
            upstream_pool_put(pool, p->sock, loop_thread_timeout(p->thread, p->service->config->keepalive_timeout_ms));
            p->sock = NULL;
        } else {
            close_upstream(p);
        }
    }
    release_target_slot(p);
    release_service_slot(p);
    p->state = PROXY_UPSTREAM_DONE;
}

/* ---- failures before the response head ---- */

static enum gateway_error error_for_failure(enum attempt_failure failure)
{
    switch (failure) {
    case FAIL_CONNECT:
        return GW_ERR_UPSTREAM_UNAVAILABLE;
    case FAIL_CONNECT_TIMEOUT:
    case FAIL_HEAD_TIMEOUT:
        return GW_ERR_UPSTREAM_TIMEOUT;
    case FAIL_LOCAL:
        return GW_ERR_GATEWAY_OVERLOADED;
    case FAIL_STALE:
    case FAIL_IO:
    case FAIL_BAD_RESPONSE:
        break;
    }
    return GW_ERR_UPSTREAM_BAD_RESPONSE;
}

static int may_retry(const struct proxy *p, enum attempt_failure failure)
{
    if (!p->idempotent)
        return 0;
    if (failure == FAIL_STALE)
        return p->attempts <= p->service->config->retries + p->service->num_targets;
    if (failure == FAIL_CONNECT || failure == FAIL_CONNECT_TIMEOUT)
        return p->attempts <= p->service->config->retries;
    return 0;
}

static void fail_attempt(struct proxy *p, enum attempt_failure failure)
{
    stop_timer(&p->phase_timer);
    close_upstream(p);
    release_target_slot(p);
    if (failure != FAIL_STALE && failure != FAIL_LOCAL) {
        /* A stale keep-alive connection or a local shortage says nothing about the target's health. */
        if (upstream_target_record_failure(p->service, p->target, (int64_t)h2o_now(p->thread->ctx.loop)))
            log_warn("target %s of service %s ejected for %u ms after %u consecutive failures", p->target->authority,
                     p->service->config->name, p->service->config->passive_cooldown_ms, p->service->config->passive_max_failures);
    }
    if (may_retry(p, failure)) {
        if (failure == FAIL_STALE)
            p->tried[p->target - p->service->targets] = 0; /* the target itself is fine: try it again, fresh */
        start_attempt(p);
        return;
    }
    stop_timer(&p->total_timer);
    release_service_slot(p);
    p->state = PROXY_UPSTREAM_DONE;
    request_send_error(p->rc, error_for_failure(failure));
}

static void on_total_timeout(h2o_timeout_entry_t *entry)
{
    struct proxy *p = H2O_STRUCT_FROM_MEMBER(struct proxy, total_timer, entry);
    if (!p->response_started) {
        fail_attempt(p, FAIL_HEAD_TIMEOUT);
        return;
    }
    /* Mid-body: the status is already sent, so the only honest signal left is an aborted stream. */
    upstream_target_record_failure(p->service, p->target, (int64_t)h2o_now(p->thread->ctx.loop));
    p->stream_failed = 1;
    finish_upstream(p, 0);
    flush_to_client(p);
}

static void on_connect_timeout(h2o_timeout_entry_t *entry)
{
    fail_attempt(H2O_STRUCT_FROM_MEMBER(struct proxy, phase_timer, entry), FAIL_CONNECT_TIMEOUT);
}

static void on_head_timeout(h2o_timeout_entry_t *entry)
{
    fail_attempt(H2O_STRUCT_FROM_MEMBER(struct proxy, phase_timer, entry), FAIL_HEAD_TIMEOUT);
}

/* ---- response head ---- */

static int header_is_hop_by_hop(const h2o_iovec_t *name)
{
    static const char *const names[] = {"keep-alive",        "proxy-connection", "te",        "trailer",
                                        "transfer-encoding", "upgrade",          "connection"};
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        if (h2o_memis(name->base, name->len, names[i], strlen(names[i])))
            return 1;
    }
    return 0;
}

/* Is `name` listed in the Connection header (which names more hop-by-hop headers)? */
static int listed_in_connection(const struct phr_header *headers, size_t num_headers, const char *name, size_t name_len)
{
    for (size_t i = 0; i < num_headers; i++) {
        if (h2o_lcstris(headers[i].name, headers[i].name_len, H2O_STRLIT("connection")) &&
            h2o_contains_token(headers[i].value, headers[i].value_len, name, name_len, ','))
            return 1;
    }
    return 0;
}

/* Decides how the body is delimited (RFC 9112 §6.3). Returns -1 for a response that cannot be framed safely. */
static int decide_framing(struct proxy *p, int minor_version, int status, const struct phr_header *headers, size_t num_headers)
{
    size_t content_length = SIZE_MAX;
    int chunked = 0, close_requested = 0, keepalive_requested = 0;
    for (size_t i = 0; i < num_headers; i++) {
        const struct phr_header *h = &headers[i];
        if (h2o_lcstris(h->name, h->name_len, H2O_STRLIT("transfer-encoding"))) {
            if (!h2o_lcstris(h->value, h->value_len, H2O_STRLIT("chunked")) || chunked)
                return -1;
            chunked = 1;
        } else if (h2o_lcstris(h->name, h->name_len, H2O_STRLIT("content-length"))) {
            size_t v = h2o_strtosize(h->value, h->value_len);
            if (v == SIZE_MAX || (content_length != SIZE_MAX && content_length != v))
                return -1; /* unparsable or conflicting lengths: a smuggling vector, never guess */
            content_length = v;
        } else if (h2o_lcstris(h->name, h->name_len, H2O_STRLIT("connection"))) {
            close_requested |= h2o_contains_token(h->value, h->value_len, H2O_STRLIT("close"), ',');
            keepalive_requested |= h2o_contains_token(h->value, h->value_len, H2O_STRLIT("keep-alive"), ',');
        }
    }
    p->upstream_keepalive = minor_version >= 1 ? !close_requested : keepalive_requested;
    if (chunked && content_length != SIZE_MAX)
        p->upstream_keepalive = 0; /* both present: chunked wins, and the connection is not trusted again */
    if (h2o_memis(p->req->method.base, p->req->method.len, H2O_STRLIT("HEAD")) || status == 204 || status == 304) {
        p->framing = BODY_NONE;
    } else if (chunked) {
        p->framing = BODY_CHUNKED;
        memset(&p->chunked, 0, sizeof(p->chunked));
        p->chunked.consume_trailer = 1;
    } else if (content_length != SIZE_MAX) {
        p->framing = content_length == 0 ? BODY_NONE : BODY_CONTENT_LENGTH;
        p->body_remaining = content_length;
    } else {
        p->framing = BODY_UNTIL_CLOSE;
        p->upstream_keepalive = 0;
    }
    if (content_length != SIZE_MAX && !chunked)
        p->req->res.content_length = content_length;
    return 0;
}

static void copy_response_headers(struct proxy *p, const struct phr_header *headers, size_t num_headers)
{
    h2o_mem_pool_t *pool = &p->req->pool;
    for (size_t i = 0; i < num_headers; i++) {
        const struct phr_header *h = &headers[i];
        h2o_iovec_t name = h2o_strdup(pool, h->name, h->name_len);
        h2o_strtolower(name.base, name.len);
        if (header_is_hop_by_hop(&name) || listed_in_connection(headers, num_headers, name.base, name.len))
            continue;
        /* content-length is re-emitted by h2o from res.content_length; date and server are the gateway's own;
         * x-request-id is the gateway's (already set) so the client sees one id per request */
        if (h2o_memis(name.base, name.len, H2O_STRLIT("content-length")) || h2o_memis(name.base, name.len, H2O_STRLIT("date")) ||
            h2o_memis(name.base, name.len, H2O_STRLIT("server")) || h2o_memis(name.base, name.len, H2O_STRLIT("x-request-id")))
            continue;
        h2o_iovec_t value = h2o_strdup(pool, h->value, h->value_len);
        const h2o_token_t *token = h2o_lookup_token(name.base, name.len);
        if (token != NULL)
            h2o_add_header(pool, &p->req->res.headers, token, NULL, value.base, value.len);
        else
            h2o_add_header_by_str(pool, &p->req->res.headers, name.base, name.len, 0, NULL, value.base, value.len);
    }
}

static void on_generator_proceed(h2o_generator_t *generator, h2o_req_t *req);
static void on_generator_stop(h2o_generator_t *generator, h2o_req_t *req);

static void start_response(struct proxy *p, int status, const char *msg, size_t msg_len, const struct phr_header *headers,
                           size_t num_headers)
{
    h2o_req_t *req = p->req;
    req->res.status = status;
    req->res.reason = h2o_strdup(&req->pool, msg, msg_len).base;
    copy_response_headers(p, headers, num_headers);
    p->generator = (h2o_generator_t){on_generator_proceed, on_generator_stop};
    p->response_started = 1;
    h2o_buffer_init(&p->pending, &h2o_socket_buffer_prototype);
    h2o_buffer_init(&p->sending, &h2o_socket_buffer_prototype);
    h2o_start_response(req, &p->generator);
}

static void record_upstream_outcome(struct proxy *p, int status)
{
    p->rc->upstream_us = (int64_t)(monotonic_us() - p->attempt_started_us);
    if (status == 502 || status == 503 || status == 504) {
        if (upstream_target_record_failure(p->service, p->target, (int64_t)h2o_now(p->thread->ctx.loop)))
            log_warn("target %s of service %s ejected after %u consecutive failures", p->target->authority,
                     p->service->config->name, p->service->config->passive_max_failures);
    } else {
        upstream_target_record_success(p->target);
    }
}

/* Parses what has arrived; returns 1 when a final head was handled, 0 when more input is needed, -1 on a bad response. */
static int parse_head(struct proxy *p)
{
    h2o_buffer_t *input = p->sock->input;
    for (;;) {
        struct phr_header headers[MAX_RESPONSE_HEADERS];
        size_t num_headers = MAX_RESPONSE_HEADERS, msg_len;
        int minor_version, status;
        const char *msg;
        int rlen = phr_parse_response(input->bytes, input->size, &minor_version, &status, &msg, &msg_len, headers, &num_headers, 0);
        if (rlen == -2)
            return input->size > PROXY_MAX_RESPONSE_HEAD ? -1 : 0;
        if (rlen < 0 || status < 100 || status > 999 || status == 101)
            return -1;
        if (status < 200) { /* interim (100 Continue, 103 Early Hints): not forwarded, wait for the final head */
            h2o_buffer_consume(&p->sock->input, (size_t)rlen);
            continue;
        }
        if (decide_framing(p, minor_version, status, headers, num_headers) != 0)
            return -1;
        stop_timer(&p->phase_timer);
        record_upstream_outcome(p, status);
        start_response(p, status, msg, msg_len, headers, num_headers);
        h2o_buffer_consume(&p->sock->input, (size_t)rlen);
        return 1;
    }
}

static void on_head_readable(h2o_socket_t *sock, const char *err)
{
    struct proxy *p = sock->data;
    if (err != NULL) {
        /* EOF or reset with nothing received on a reused connection: the upstream closed it while it sat idle. */
        fail_attempt(p, p->reused && sock->input->size == 0 ? FAIL_STALE : FAIL_IO);
        return;
    }
    int rc = parse_head(p);
    if (rc < 0) {
        fail_attempt(p, FAIL_BAD_RESPONSE);
        return;
    }
    if (rc == 0)
        return;
    if (p->framing == BODY_NONE) {
        p->body_complete = 1;
        finish_upstream(p, 1);
        flush_to_client(p);
        return;
    }
    p->state = PROXY_STREAMING;
    h2o_socket_read_start(sock, on_body_readable);
    if (p->sock->input->size != 0)
        on_body_readable(sock, NULL);
}

/* ---- response body ---- */

static void append_pending(struct proxy *p, const char *bytes, size_t len)
{
    if (len == 0)
        return;
    h2o_iovec_t room = h2o_buffer_reserve(&p->pending, len);
    memcpy(room.base, bytes, len);
    p->pending->size += len;
}

/* Moves decoded body bytes from the socket's input to `pending`. Returns -1 on a framing error. */
static int take_body_bytes(struct proxy *p)
{
    h2o_buffer_t *input = p->sock->input;
    switch (p->framing) {
    case BODY_CONTENT_LENGTH: {
        size_t n = input->size < p->body_remaining ? input->size : p->body_remaining;
        append_pending(p, input->bytes, n);
        p->body_remaining -= n;
        if (input->size > n)
            p->upstream_keepalive = 0; /* bytes beyond the declared length: never reuse this connection */
        h2o_buffer_consume(&p->sock->input, input->size);
        if (p->body_remaining == 0)
            p->body_complete = 1;
        return 0;
    }
    case BODY_CHUNKED: {
        size_t decoded = input->size;
        ssize_t rc = phr_decode_chunked(&p->chunked, input->bytes, &decoded);
        if (rc == -1)
            return -1;
        append_pending(p, input->bytes, decoded);
        h2o_buffer_consume(&p->sock->input, input->size);
        if (rc >= 0) {
            p->body_complete = 1;
            if (rc > 0)
                p->upstream_keepalive = 0;
        }
        return 0;
    }
    case BODY_UNTIL_CLOSE:
        append_pending(p, input->bytes, input->size);
        h2o_buffer_consume(&p->sock->input, input->size);
        return 0;
    case BODY_NONE:
        break;
    }
    return 0;
}

static void on_body_readable(h2o_socket_t *sock, const char *err)
{
    struct proxy *p = sock->data;
    if (err != NULL) {
        /* Only a body delimited by the close itself ends cleanly here; a short Content-Length or an unterminated
         * chunked body is a truncated response, which the client must see as an error, not as success. */
        if (p->framing == BODY_UNTIL_CLOSE) {
            p->body_complete = 1;
        } else {
            p->stream_failed = 1;
            upstream_target_record_failure(p->service, p->target, (int64_t)h2o_now(p->thread->ctx.loop));
        }
        finish_upstream(p, 0);
        flush_to_client(p);
        return;
    }
    if (take_body_bytes(p) != 0) {
        p->stream_failed = 1;
        finish_upstream(p, 0);
    } else if (p->body_complete) {
        finish_upstream(p, 1);
    } else if (p->pending->size >= PROXY_BUFFER_HIGH_WATER && !p->paused) {
        /* The client is slower than the upstream: stop reading so memory stays bounded; proceed() resumes. */
        h2o_socket_read_stop(sock);
        p->paused = 1;
    }
    flush_to_client(p);
}

static void flush_to_client(struct proxy *p)
{
    if (p->send_in_flight || p->final_sent || p->client_gone)
        return;
    if (p->stream_failed) {
        p->final_sent = 1;
        h2o_send(p->req, NULL, 0, H2O_SEND_STATE_ERROR);
        return;
    }
    if (p->pending->size == 0 && !p->body_complete)
        return;
    h2o_buffer_t *swap = p->sending;
    p->sending = p->pending;
    p->pending = swap;
    p->send_in_flight = 1;
    h2o_iovec_t chunk = h2o_iovec_init(p->sending->bytes, p->sending->size);
    h2o_send_state_t state = p->body_complete ? H2O_SEND_STATE_FINAL : H2O_SEND_STATE_IN_PROGRESS;
    if (state == H2O_SEND_STATE_FINAL)
        p->final_sent = 1;
    h2o_send(p->req, &chunk, chunk.len != 0 ? 1 : 0, state);
}

static void on_generator_proceed(h2o_generator_t *generator, h2o_req_t *req)
{
    (void)req;
    struct proxy *p = H2O_STRUCT_FROM_MEMBER(struct proxy, generator, generator);
    p->send_in_flight = 0;
    h2o_buffer_consume(&p->sending, p->sending->size);
    if (p->paused && p->sock != NULL) {
        p->paused = 0;
        h2o_socket_read_start(p->sock, on_body_readable);
    }
    flush_to_client(p);
}

static void on_generator_stop(h2o_generator_t *generator, h2o_req_t *req)
{
    (void)req;
    struct proxy *p = H2O_STRUCT_FROM_MEMBER(struct proxy, generator, generator);
    p->client_gone = 1;
    if (p->state != PROXY_UPSTREAM_DONE)
        finish_upstream(p, 0);
}

/* ---- request ---- */

static void on_request_written(h2o_socket_t *sock, const char *err)
{
    struct proxy *p = sock->data;
    if (err != NULL) {
        fail_attempt(p, p->reused ? FAIL_STALE : FAIL_IO);
        return;
    }
    p->state = PROXY_AWAITING_HEAD;
    h2o_socket_read_start(sock, on_head_readable);
}

static void send_request(struct proxy *p)
{
    p->state = PROXY_SENDING;
    p->sock->data = p;
    start_phase_timer(p, p->service->config->response_header_timeout_ms, on_head_timeout);
    h2o_iovec_t bufs[3] = {forwarding_build_request_line(p->rc, p->target->authority), p->forwarded_headers, p->req->entity};
    h2o_socket_write(p->sock, bufs, p->req->entity.len != 0 ? 3 : 2, on_request_written);
}

static void on_connect(h2o_socket_t *sock, const char *err)
{
    struct proxy *p = sock->data;
    if (err != NULL) {
        fail_attempt(p, FAIL_CONNECT);
        return;
    }
    send_request(p);
}

static struct upstream_target *pick_target(struct proxy *p)
{
    struct service *service = p->service;
    struct balancer_target candidates[service->num_targets];
    int64_t now = (int64_t)h2o_now(p->thread->ctx.loop);
    for (size_t i = 0; i < service->num_targets; i++) {
        struct upstream_target *t = &service->targets[i];
        candidates[i] = (struct balancer_target){
            .weight = t->config->weight,
            .in_flight = atomic_load_explicit(&t->state->in_flight, memory_order_relaxed),
            .eligible = !p->tried[i] && upstream_target_is_available(t, now),
        };
    }
    int *state = snapshot_holder_balancer_state(p->rc->holder, service);
    int index = service->config->balancer == BALANCER_LEAST_IN_FLIGHT
                    ? balancer_pick_least_in_flight(candidates, service->num_targets, state)
                    : balancer_pick_round_robin(candidates, service->num_targets, state);
    return index < 0 ? NULL : &service->targets[index];
}

static void start_attempt(struct proxy *p)
{
    struct upstream_target *target = pick_target(p);
    if (target == NULL) {
        stop_timer(&p->total_timer);
        release_service_slot(p);
        p->state = PROXY_UPSTREAM_DONE;
        request_send_error(p->rc, p->attempts == 0 ? GW_ERR_NO_HEALTHY_TARGET : GW_ERR_UPSTREAM_UNAVAILABLE);
        return;
    }
    if (p->attempts != 0)
        metrics_counter_add(&p->thread->counters->upstream_retries, 1);
    p->target = target;
    p->rc->target_authority = target->authority;
    p->tried[target - p->service->targets] = 1;
    p->attempts++;
    p->holds_target_slot = 1;
    atomic_fetch_add_explicit(&target->state->in_flight, 1, memory_order_relaxed);
    p->attempt_started_us = monotonic_us();

    p->sock = upstream_pool_take(thread_pool(p->thread, target->authority));
    if (p->sock != NULL) {
        p->reused = 1;
        send_request(p);
        return;
    }
    p->reused = 0;
    p->state = PROXY_CONNECTING;
    p->sock = h2o_socket_connect(p->thread->ctx.loop, (struct sockaddr *)&target->addr, target->addrlen, on_connect);
    if (p->sock == NULL) {
        fail_attempt(p, errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM ? FAIL_LOCAL : FAIL_CONNECT);
        return;
    }
    p->sock->data = p;
    start_phase_timer(p, p->service->config->connect_timeout_ms, on_connect_timeout);
}

void proxy_start(struct request_ctx *rc)
{
    h2o_req_t *req = rc->req;
    struct service *service = rc->route->service;
    unsigned max_in_flight = service->config->max_in_flight;
    if (atomic_fetch_add_explicit(&service->state->in_flight, 1, memory_order_relaxed) >= max_in_flight) {
        atomic_fetch_sub_explicit(&service->state->in_flight, 1, memory_order_relaxed);
        metrics_counter_add(&rc->thread->counters->rejected_capacity, 1);
        request_send_error(rc, GW_ERR_SERVICE_AT_CAPACITY);
        return;
    }
    struct proxy *p = h2o_mem_alloc_pool(&req->pool, sizeof(*p));
    memset(p, 0, sizeof(*p));
    p->rc = rc;
    p->req = req;
    p->thread = rc->thread;
    p->service = service;
    p->holds_service_slot = 1;
    p->idempotent = method_is_idempotent(req->method);
    p->tried = h2o_mem_alloc_pool(&req->pool, service->num_targets);
    memset(p->tried, 0, service->num_targets);
    p->forwarded_headers = forwarding_build_headers(rc);
    rc->proxy = p;
    p->total_timer.cb = on_total_timeout;
    h2o_timeout_link(p->thread->ctx.loop, loop_thread_timeout(p->thread, service->config->total_timeout_ms), &p->total_timer);
    start_attempt(p);
}

void proxy_dispose(struct proxy *p)
{
    stop_timer(&p->phase_timer);
    stop_timer(&p->total_timer);
    close_upstream(p);
    release_target_slot(p);
    release_service_slot(p);
    if (p->pending != NULL)
        h2o_buffer_dispose(&p->pending);
    if (p->sending != NULL)
        h2o_buffer_dispose(&p->sending);
}
