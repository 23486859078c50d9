/*
 * auth_check.h — the pipeline's identity stage: who is calling, and may they
 * use this route?
 *
 * Runs after the route match, before the proxy. For every route it refuses
 * access tokens in the query string (they end up in logs and Referer
 * headers). For a protected route (policy user or client) it reads the one
 * Bearer token from Authorization, verifies it against the snapshot's keyset
 * (or finds it in the thread's token cache), then applies the route's
 * policy, scopes and minimum assurance level. On success the verified
 * identity is prepared for the upstream as X-Gateway-* headers; on failure
 * the client gets 400/401/403 with the error envelope and the RFC 6750 /
 * RFC 9470 WWW-Authenticate challenge, and nothing reaches the upstream.
 *
 * Event-loop thread only; no lock, no I/O.
 */
#ifndef YIWANG_GATEWAY_AUTH_CHECK_H
#define YIWANG_GATEWAY_AUTH_CHECK_H

#include "gateway/request.h"

/* Returns 0 when the request may go on, -1 when it has been answered. */
int auth_check_request(struct request_ctx *rc);

/* The same reading of a request's credentials, for the gateway's own endpoints that take a Bearer token (/userinfo): */
/* Does the query string carry access_token=...? */
int auth_check_query_carries_token(const h2o_req_t *req);
/* The token of the single "Authorization: Bearer <token>"; {NULL, 0} when absent, {"", 0} when unusable. */
h2o_iovec_t auth_check_bearer_token(const h2o_req_t *req);

#endif
