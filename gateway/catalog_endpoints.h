/*
 * catalog_endpoints.h — GET /v1/catalog and GET /openapi.json on the public
 * listener (docs/registry.md §8). Both answer from the request's snapshot,
 * where the documents were built once (snapshot_add_catalog): no database
 * and no JSON work on the request path. They are dispatched with the
 * gateway's own endpoints, before any route, so no route can shadow them,
 * and they are served with or without an identity section.
 *
 * Cache-Control: public, max-age=60 (the registry changes rarely and a
 * minute of staleness only delays documentation), a strong ETag, and 304 for
 * a matching If-None-Match.
 *
 * Event-loop thread only.
 */
#ifndef YIWANG_GATEWAY_CATALOG_ENDPOINTS_H
#define YIWANG_GATEWAY_CATALOG_ENDPOINTS_H

#include "gateway/request.h"

/* Answers the request and returns 1 when `path` (normalised) is one of the two, else returns 0. */
int catalog_endpoint_dispatch(struct request_ctx *rc, const char *path, size_t path_len);

#endif
