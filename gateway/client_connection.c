#include "gateway/client_connection.h"

#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/net_address.h"
#include "common/strbuf.h"
#include "common/xalloc.h"
#include "gateway/errors.h"
#include "gateway/server.h"

/* The first members of h2o 2.2.5's h2o_http2_conn_t (h2o/http2_internal.h, which cannot be included: it needs
 * khash.h, which Debian does not ship). Only `sock` is read. */
struct http2_conn_prefix {
    h2o_conn_t super;
    h2o_socket_t *sock;
};

struct client_connection {
    struct loop_thread *thread;
    h2o_socket_t *sock;
    h2o_timeout_entry_t tick;
    uint64_t partial_since; /* when a partial request was first seen; 0 = none */
    char *response;         /* the 408, while it is being written */
    h2o_socket_cb reader;   /* h2o's HTTP/1 reader, saved while its reading is stopped */
    uint64_t cancel_window_start;
    unsigned cancelled_in_window;
    h2o_timeout_entry_t close_timer; /* closing is deferred: h2o is mid-frame when a stream is reset */
    char peer[INET6_ADDRSTRLEN];
};

static void on_connection_closed(void *data)
{
    struct client_connection *conn = data;
    struct loop_thread *thread = conn->thread;
    thread->open_connections--;
    metrics_counter_add(&thread->counters->connections_closed, 1);
    if (h2o_timeout_is_linked(&conn->tick))
        h2o_timeout_unlink(&conn->tick);
    if (h2o_timeout_is_linked(&conn->close_timer))
        h2o_timeout_unlink(&conn->close_timer);
    free(conn->response);
    free(conn);
}

static unsigned tick_ms(const struct loop_thread *thread)
{
    unsigned ms = thread->server->boot_config->limits.client_timeout_ms / 2;
    return ms < 50 ? 50 : ms;
}

static void schedule_tick(struct client_connection *conn)
{
    h2o_timeout_link(conn->thread->ctx.loop, loop_thread_timeout(conn->thread, tick_ms(conn->thread)), &conn->tick);
}

static void on_timeout_answer_written(h2o_socket_t *sock, const char *err)
{
    (void)err;
    struct client_connection *conn = sock->on_close.data;
    /* Hand the connection back to h2o's own error path: its HTTP/1 reader closes the connection on any error. */
    conn->reader(sock, "request timeout");
}

static void answer_request_timeout(struct client_connection *conn)
{
    struct loop_thread *thread = conn->thread;
    const struct gateway_error_info *info = gateway_error_info(GW_ERR_REQUEST_TIMEOUT);
    char id[33];
    loop_thread_random_hex(thread, id, 32);
    id[32] = '\0';
    struct strbuf body = STRBUF_INIT, response = STRBUF_INIT;
    error_envelope_append(&body, info->code, info->message_en, id, 32);
    strbuf_appendf(&response,
                   "HTTP/1.1 408 %s\r\nserver: yiwang\r\nconnection: close\r\ncontent-type: application/json; charset=utf-8\r\n"
                   "cache-control: no-store\r\nx-request-id: %s\r\ncontent-length: %zu\r\n\r\n%s",
                   info->reason, id, body.len, body.data);
    strbuf_free(&body);
    metrics_counter_add(&thread->counters->requests_timed_out, 1);

    conn->reader = conn->sock->_cb.read;
    h2o_socket_read_stop(conn->sock); /* nothing more is parsed: the answer is final */
    size_t len;
    conn->response = strbuf_detach(&response, &len);
    h2o_iovec_t buf = h2o_iovec_init(conn->response, len);
    h2o_socket_write(conn->sock, &buf, 1, on_timeout_answer_written);
}

static void on_tick(h2o_timeout_entry_t *entry)
{
    struct client_connection *conn = H2O_STRUCT_FROM_MEMBER(struct client_connection, tick, entry);
    struct loop_thread *thread = conn->thread;
    h2o_socket_t *sock = conn->sock;
    int partial = thread->http1_reader != NULL && sock->_cb.read == thread->http1_reader && sock->input->size != 0;
    if (!partial) {
        conn->partial_since = 0;
    } else {
        uint64_t now = h2o_now(thread->ctx.loop);
        if (conn->partial_since == 0) {
            conn->partial_since = now;
        } else if (now - conn->partial_since >= thread->server->boot_config->limits.client_timeout_ms) {
            answer_request_timeout(conn);
            return;
        }
    }
    schedule_tick(conn);
}

static void on_close_timer(h2o_timeout_entry_t *entry)
{
    struct client_connection *conn = H2O_STRUCT_FROM_MEMBER(struct client_connection, close_timer, entry);
    if (conn->sock->_cb.read == NULL) {
        /* h2o paused reading (write backpressure): try again shortly */
        h2o_timeout_link(conn->thread->ctx.loop, loop_thread_timeout(conn->thread, 10), &conn->close_timer);
        return;
    }
    /* h2o's HTTP/2 reader closes the connection (and its streams) on any read error */
    conn->sock->_cb.read(conn->sock, "too many cancelled streams");
}

void client_connection_note_cancelled_stream(h2o_req_t *req)
{
    if (req->version < 0x200)
        return;
    h2o_socket_t *sock = ((struct http2_conn_prefix *)req->conn)->sock;
    if (sock == NULL || sock->on_close.cb != on_connection_closed)
        return;
    struct client_connection *conn = sock->on_close.data;
    uint64_t now = h2o_now(conn->thread->ctx.loop);
    if (now - conn->cancel_window_start > CANCELLED_STREAMS_WINDOW_MS) {
        conn->cancel_window_start = now;
        conn->cancelled_in_window = 0;
    }
    if (++conn->cancelled_in_window != CANCELLED_STREAMS_MAX + 1)
        return;
    log_warn("closing an HTTP/2 connection from %s: more than %d streams reset before an answer within %d ms", conn->peer,
             CANCELLED_STREAMS_MAX, CANCELLED_STREAMS_WINDOW_MS);
    metrics_counter_add(&conn->thread->counters->connections_reset_abuse, 1);
    conn->close_timer.cb = on_close_timer;
    h2o_timeout_link(conn->thread->ctx.loop, loop_thread_timeout(conn->thread, 0), &conn->close_timer);
}

void client_connection_attach(struct loop_thread *thread, h2o_socket_t *sock, int guard_slow_requests)
{
    struct client_connection *conn = xcalloc(1, sizeof(*conn));
    conn->thread = thread;
    conn->sock = sock;
    conn->tick.cb = on_tick;
    sock->on_close.cb = on_connection_closed;
    sock->on_close.data = conn;
    struct sockaddr_storage peer;
    socklen_t peer_len = h2o_socket_getpeername(sock, (struct sockaddr *)&peer);
    net_address_format_ip(&peer, peer_len, conn->peer, sizeof(conn->peer));
    thread->open_connections++;
    metrics_counter_add(&thread->counters->connections_accepted, 1);
    if (guard_slow_requests)
        schedule_tick(conn);
}
