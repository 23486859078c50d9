/*
 * forwarding.h — what a department service receives: the HTTP/1.1 request
 * head the gateway writes upstream.
 *
 * The upstream sees the normalised path (what was matched, prefix stripped),
 * the client's headers minus hop-by-hop ones and minus everything the client
 * must not be able to assert: any `X-Gateway-*` header (reserved for the
 * identity the gateway asserts), `Forwarded`, `X-Real-IP` and incoming
 * `X-Forwarded-*`, which the gateway sets itself from the connection. It adds
 * `X-Request-Id`, a W3C `traceparent` and, on protected routes, the verified
 * identity (X-Gateway-Subject, -Client, -Scopes, -Acr, -Org). Authorization is
 * forwarded only when the route asks for it.
 *
 * Event-loop thread only; results live in the request's memory pool.
 */
#ifndef YIWANG_GATEWAY_FORWARDING_H
#define YIWANG_GATEWAY_FORWARDING_H

#include <h2o.h>

#include "gateway/request.h"

/* Header lines after Host, blank line included. Built once per request. */
h2o_iovec_t forwarding_build_headers(struct request_ctx *rc);
/* "METHOD target HTTP/1.1\r\nhost: authority\r\n" for one attempt. */
h2o_iovec_t forwarding_build_request_line(struct request_ctx *rc, const char *authority);

#endif
