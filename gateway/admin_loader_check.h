/*
 * admin_loader_check.h — the config loader's semantic rules (common/config.c)
 * applied to one service or route of the registry before it is written.
 *
 * docs/registry.md §1: every rule about services and routes has one
 * implementation, the loader's. The entity is wrapped in a minimal config
 * document (a route with a stand-in for its service, a stand-in identity
 * section so that policies other than public are judged on their own, and
 * this node's limits.max_body_bytes) and handed to config_load_string; its
 * problems are reported with pointers into the entity ("/timeouts/connect_ms"
 * instead of "/services/0/timeouts/connect_ms"). Members the config file does
 * not have yet (a route's rate_policy) are left out.
 *
 * Pure apart from allocation; any thread.
 */
#ifndef YIWANG_GATEWAY_ADMIN_LOADER_CHECK_H
#define YIWANG_GATEWAY_ADMIN_LOADER_CHECK_H

#include <jansson.h>
#include <stddef.h>

#include "common/problems.h"

/* Adds the loader's problems with a service document (schema-valid). 0, or -1 when the check could not run. */
int admin_loader_check_service(const json_t *service, struct problem_list *problems);

/* The same for a route; max_body_bytes is this node's limits.max_body_bytes. */
int admin_loader_check_route(const json_t *route, size_t max_body_bytes, struct problem_list *problems);

#endif
