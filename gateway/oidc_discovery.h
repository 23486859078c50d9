/*
 * oidc_discovery.h — GET /.well-known/openid-configuration (OpenID Connect
 * Discovery 1.0 §4, RFC 8414): where the endpoints are and what they
 * support, so relying parties configure themselves from the issuer alone.
 *
 * The document depends only on the configuration, so it is built once per
 * snapshot (like the JWKS) and served from it: no work per request. Endpoint
 * URLs are the issuer followed by the gateway's fixed paths, which is right
 * when the issuer is the gateway's own origin (the deployment rule).
 *
 * oidc_discovery_build: whoever builds snapshots (not an event loop);
 * oidc_discovery_serve: event-loop thread.
 */
#ifndef YIWANG_GATEWAY_OIDC_DISCOVERY_H
#define YIWANG_GATEWAY_OIDC_DISCOVERY_H

#include <stddef.h>

#include "common/config.h"
#include "gateway/request.h"

/* The document for `identity` (issuer set), malloc'ed, with its length in *len. */
char *oidc_discovery_build(const struct identity_config *identity, size_t *len);

/* Answers GET/HEAD with the snapshot's document; Cache-Control: public, max-age=300. */
void oidc_discovery_serve(struct request_ctx *rc);

#endif
