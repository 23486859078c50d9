/*
 * ops.h — the ops listener: GET /healthz, /readyz and /metrics, and the admin
 * API under /admin/v1/ (admin_api.h), which alone goes to the worker pool.
 *
 * Served by the event-loop threads on a separate listener (loopback by
 * default) whose accept context only knows the ops host, so these endpoints
 * are unreachable through the public port. Answers are computed from the
 * serving thread's current snapshot and atomics; no lock is held except the
 * metrics registry's while rendering /metrics.
 */
#ifndef YIWANG_GATEWAY_OPS_H
#define YIWANG_GATEWAY_OPS_H

#include <h2o.h>

struct server;

void ops_register(h2o_pathconf_t *pathconf, struct server *server);

#endif
