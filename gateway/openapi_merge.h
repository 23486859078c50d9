/*
 * openapi_merge.h — GET /openapi.json (docs/registry.md §8): one OpenAPI 3.1
 * document an integrator can import, built once per snapshot.
 *
 * It is the gateway's own public endpoints (openapi/public.json, generated
 * from openapi/yiwang.yaml and embedded) plus every uploaded service
 * document, placed where the gateway serves it:
 *
 *  - paths are re-rooted under the prefix of each route to the service
 *    (prefix + path with strip_prefix; without it the service sees the full
 *    path, so only its paths under the prefix are reachable and kept as they
 *    are), only the route's methods are kept, and a route bound to a host
 *    gets that host as the path's server;
 *  - operationIds become "<service>_<id>" (and stay unique when one service
 *    is reachable under two prefixes);
 *  - components are renamed "<service>_<name>" and every local $ref of the
 *    document (and discriminator mapping) is rewritten to match, so two
 *    services' "Invoice" never clash;
 *  - security comes from the route, not from the document: an OAuth 2.0
 *    scheme "yiwang" (authorization code with PKCE and client credentials,
 *    URLs under the issuer) with the route's scopes, none for public routes.
 *    The document's own securitySchemes and servers are dropped: callers
 *    only ever talk to the gateway.
 *
 * A path the gateway itself answers, or that an earlier route already
 * placed, is not overwritten.
 *
 * Threads: main thread (snapshot build).
 */
#ifndef YIWANG_GATEWAY_OPENAPI_MERGE_H
#define YIWANG_GATEWAY_OPENAPI_MERGE_H

#include <stddef.h>

#include <jansson.h>

#include "common/config.h"

/*
 * The merged document's JSON text (malloc'ed, *len set). `registry` is the registry's catalog section (its "openapi"
 * member maps service names to documents, its "scopes" give the scopes' display names), or NULL with the config file
 * as the source (then only the gateway's own endpoints are described).
 */
char *openapi_merge_build(const struct config *config, const json_t *registry, size_t *len);

#endif
