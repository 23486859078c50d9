/*
 * proxy.h — forwards a matched request to a target of its service and streams
 * the answer back.
 *
 * Built on h2o sockets directly (not h2o's proxy handler, which 2.2.5 limits to
 * 502-only errors, one I/O timeout and unbounded buffering; techguide §3, §7):
 *  - per-service connect / response-header / total timeouts, mapped to 502,
 *    503 and 504 correctly;
 *  - per-service in-flight cap (503 + Retry-After) and per-target in-flight
 *    counts for least-in-flight balancing;
 *  - retries after a connect failure for idempotent methods, on another target;
 *  - passive health (consecutive failures eject a target for a cool-down);
 *  - response bodies streamed with backpressure: at most PROXY_BUFFER_HIGH_WATER
 *    bytes wait for a slow client before the upstream socket stops being read.
 *
 * Event-loop thread only.
 */
#ifndef YIWANG_GATEWAY_PROXY_H
#define YIWANG_GATEWAY_PROXY_H

#include "gateway/request.h"

#define PROXY_BUFFER_HIGH_WATER (128 * 1024)
#define PROXY_MAX_RESPONSE_HEAD (64 * 1024)

/* Starts proxying rc->req (route already matched). Always answers: a response, an error envelope, or a reset stream. */
void proxy_start(struct request_ctx *rc);

/* Called from the request's dispose hook: cancels whatever is still running and releases in-flight slots. */
void proxy_dispose(struct proxy *proxy);

#endif
