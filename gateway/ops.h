/*
 * ops.h — the ops listener: GET /healthz, /readyz and /metrics, and the admin
 * API under /admin/v1/ (admin_api.h), which alone goes to the worker pool.
 *
 * Served by the event-loop threads on a separate listener (loopback by
 * default) whose accept context only knows the ops host, so these endpoints
 * are unreachable through the public port. Answers are computed from the
 * serving thread's current snapshot and atomics; no lock is held except the
 * metrics registry's while rendering /metrics.
 *
 * /readyz: 200 "ready", or 503 "not_ready" with reasons (a service without a
 * healthy target, shutting down). With the registry in the database it also
 * names the registry version served and when it was last confirmed; during a
 * registry database outage or while the newest version is rejected here it
 * answers 200 "degraded" with a reason, and 503 only when no registry was
 * ever loaded (docs/registry.md §4).
 */
#ifndef YIWANG_GATEWAY_OPS_H
#define YIWANG_GATEWAY_OPS_H

#include <h2o.h>

struct server;

void ops_register(h2o_pathconf_t *pathconf, struct server *server);

#endif
