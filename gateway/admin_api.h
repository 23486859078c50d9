/*
 * admin_api.h — the registry's admin API under /admin/v1/ on the ops listener
 * (docs/registry.md §5, §6).
 *
 * The event loop only reads the request: path, method, headers, query and
 * body (parsed as JSON; a bad one is remembered, not answered, so that an
 * unauthenticated caller learns nothing but 401). Everything else runs on a
 * worker thread (async_request.h): the Bearer admin token is looked up
 * (auth/admin_accounts.h), then the collection's handler runs
 * (admin_entity.h). The loop thread sends the answer: the gateway's error
 * envelope (with "problems" for invalid bodies), ETag, Location and
 * WWW-Authenticate as needed.
 *
 * Event-loop thread only (except what runs on the worker).
 */
#ifndef YIWANG_GATEWAY_ADMIN_API_H
#define YIWANG_GATEWAY_ADMIN_API_H

#include <h2o.h>

#define ADMIN_API_PREFIX "/admin/"
#define ADMIN_API_MAX_BODY (1024 * 1024)
#define ADMIN_API_DEFAULT_LIMIT 100
#define ADMIN_API_MAX_LIMIT 500

/* Answers `req` when its path is under /admin/ and returns 1; returns 0 (nothing sent) otherwise. */
int admin_api_handle(h2o_req_t *req);

#endif
