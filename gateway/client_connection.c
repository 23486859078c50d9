#include "gateway/client_connection.h"

#include <stdlib.h>
#include <string.h>

#include "common/strbuf.h"
#include "common/xalloc.h"
#include "gateway/errors.h"
#include "gateway/server.h"

struct client_connection {
    struct loop_thread *thread;
    h2o_socket_t *sock;
    h2o_timeout_entry_t tick;
    uint64_t partial_since; /* when a partial request was first seen; 0 = none */
    char *response;         /* the 408, while it is being written */
    h2o_socket_cb reader;   /* h2o's HTTP/1 reader, saved while its reading is stopped */
};

static void on_connection_closed(void *data)
{
    struct client_connection *conn = data;
    struct loop_thread *thread = conn->thread;
    thread->open_connections--;
    metrics_counter_add(&thread->counters->connections_closed, 1);
    if (h2o_timeout_is_linked(&conn->tick))
        h2o_timeout_unlink(&conn->tick);
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
    snprintf(id, sizeof(id), "%016llx%016llx", (unsigned long long)loop_thread_random(thread),
             (unsigned long long)loop_thread_random(thread));
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

void client_connection_attach(struct loop_thread *thread, h2o_socket_t *sock, int cleartext, int guard_slow_requests)
{
    struct client_connection *conn = xcalloc(1, sizeof(*conn));
    conn->thread = thread;
    conn->sock = sock;
    conn->tick.cb = on_tick;
    sock->on_close.cb = on_connection_closed;
    sock->on_close.data = conn;
    thread->open_connections++;
    metrics_counter_add(&thread->counters->connections_accepted, 1);
    if (cleartext && thread->http1_reader == NULL)
        thread->http1_reader = sock->_cb.read; /* a fresh cleartext connection is always read by h2o's HTTP/1 reader */
    if (guard_slow_requests)
        schedule_tick(conn);
}
