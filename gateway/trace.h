/*
 * trace.h — request ids and W3C trace context.
 *
 * X-Request-Id: a client-sent id is kept when it is sane (1–128 characters of
 * [A-Za-z0-9._:+/=-]) so a mobile app can correlate its own logs; otherwise
 * the gateway makes a random 32-hex-digit one. Either way it is echoed in the
 * response and forwarded upstream.
 *
 * traceparent (W3C Trace Context): a valid incoming one keeps its trace id and
 * flags, and the gateway, being a hop, forwards it with a fresh parent id; an
 * absent or invalid one starts a new trace. `tracestate` is forwarded only
 * together with a valid incoming traceparent, as the spec requires.
 *
 * Event-loop thread only.
 */
#ifndef YIWANG_GATEWAY_TRACE_H
#define YIWANG_GATEWAY_TRACE_H

#include <stddef.h>

#include "gateway/request.h"

void trace_assign_request_id(struct request_ctx *rc);
void trace_assign_traceparent(struct request_ctx *rc);

/* Pure checks, exposed for unit tests. */
int trace_request_id_is_sane(const char *id, size_t len);
int trace_traceparent_is_valid(const char *value, size_t len);

#endif
