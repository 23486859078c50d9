/*
 * identity_endpoints.h — the gateway's own HTTP endpoints on the public
 * listener, served before any route is matched: paths under /.well-known/
 * (and, as the token service grows, /oauth/ and /userinfo) belong to the
 * gateway, so no route can shadow them.
 *
 * Now: GET /.well-known/jwks.json — the gateway's published signing keys,
 * from the request's snapshot (no database on the request path);
 * POST /oauth/token (oauth_token.h); POST /oauth/revoke (oauth_revoke.h);
 * POST /oauth/introspect (oauth_introspect.h); GET/POST /oauth/logout
 * (oidc_logout.h); GET/POST /userinfo (oidc_userinfo.h);
 * GET /.well-known/openid-configuration (oidc_discovery.h, built per
 * snapshot); POST /v1/auth/sms, /v1/auth/login and
 * /v1/auth/password, the sign-in API for first-party apps (auth_api.h);
 * GET|POST /oauth/authorize, POST /oauth/login and POST /oauth/consent, the
 * browser sign-in flow (browser_flow.h).
 * GET /v1/catalog and GET /openapi.json (catalog_endpoints.h), which are
 * served also without an identity section.
 * A route under /v1/auth/ other than these three is still served by its
 * route.
 *
 * Event-loop thread only.
 */
#ifndef YIWANG_GATEWAY_IDENTITY_ENDPOINTS_H
#define YIWANG_GATEWAY_IDENTITY_ENDPOINTS_H

#include "gateway/request.h"

/* Answers the request and returns 1 when `path` (normalised) is one of these endpoints, else returns 0. */
int identity_endpoint_dispatch(struct request_ctx *rc, const char *path, size_t path_len);

#endif
