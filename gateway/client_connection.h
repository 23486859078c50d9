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
 * h2o's HTTP/1 request reader (its callback is captured from the first
 * cleartext connection of the thread) and holds unconsumed bytes. HTTP/2
 * connections use another reader and are never answered this way.
 *
 * Event-loop thread only; the state is freed when the socket closes.
 */
#ifndef YIWANG_GATEWAY_CLIENT_CONNECTION_H
#define YIWANG_GATEWAY_CLIENT_CONNECTION_H

#include <h2o.h>

#include "gateway/loop_thread.h"

/* Call right after h2o_accept(). `cleartext` connections teach the thread what h2o's HTTP/1 reader is. */
void client_connection_attach(struct loop_thread *thread, h2o_socket_t *sock, int cleartext, int guard_slow_requests);

#endif
