/*
 * client_connection.h — the gateway's own bookkeeping for each accepted
 * client connection: open-connection accounting and the slow-client guard.
 *
 * h2o 2.2.5 closes an HTTP/1.1 connection whose request does not arrive in
 * time without saying why. A client on a bad mobile network then sees a reset
 * and retries blindly. The guard instead answers 408 with the error envelope
 * when a request has been partially received for longer than
 * limits.client_timeout_ms, then lets h2o close the connection through its
 * own error path (so h2o's connection state is never torn down under it).
 * Idle keep-alive connections are left to h2o's idle timeout.
 *
 * How a partial HTTP/1.1 request is recognised: the socket is being read by
 * h2o's HTTP/1 request reader (loop_thread.http1_reader, learnt when the
 * thread starts) and holds unconsumed bytes. HTTP/2
 * connections use another reader and are never answered this way.
 *
 * HTTP/2 Rapid Reset (CVE-2023-44487), which h2o 2.2.5 does not mitigate: a
 * client that opens streams and resets them before any answer makes the
 * gateway start — and, worse, forward — request after request at no cost to
 * itself. More than CANCELLED_STREAMS_MAX such streams within
 * CANCELLED_STREAMS_WINDOW_MS close the connection.
 *
 * Event-loop thread only; the state is freed when the socket closes.
 */
#ifndef YIWANG_GATEWAY_CLIENT_CONNECTION_H
#define YIWANG_GATEWAY_CLIENT_CONNECTION_H

#include <h2o.h>

#include "gateway/loop_thread.h"

#define CANCELLED_STREAMS_MAX 100
#define CANCELLED_STREAMS_WINDOW_MS 10000

/* Call right after h2o_accept(). */
void client_connection_attach(struct loop_thread *thread, h2o_socket_t *sock, int guard_slow_requests);

/* A request on an HTTP/2 connection ended before the gateway could answer it: the client reset the stream. */
void client_connection_note_cancelled_stream(h2o_req_t *req);

#endif
