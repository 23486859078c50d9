/*
 * registry_read.h — reads the department service registry (docs/registry.md)
 * out of MariaDB and renders its services and routes as the config file's
 * JSON, so that they go through the loader the file goes through.
 *
 * One consistent picture: registry_read_begin() opens a read-only
 * transaction with a consistent snapshot and reads the version inside it.
 * Writers bump the version in the transaction that writes their rows (plan
 * §3), so every read made before registry_read_end() shows exactly the
 * content that version names.
 *
 * Rendering (plan §4 step 3): a service is its `spec` plus `name` and
 * `department` (the department's name); a route is its columns as members,
 * `methods` (a SET) as an array and absent when NULL, `auth.scopes` from
 * route_scopes. Items are ordered by name in byte order (the names are
 * ascii_bin), so equal content renders equally. The nodes' snapshots and
 * `yiwang config export` use this same code.
 *
 * Threads: every call blocks on the database; the gateway's main thread or a
 * CLI command, on a connection the caller owns.
 */
#ifndef YIWANG_GATEWAY_REGISTRY_READ_H
#define YIWANG_GATEWAY_REGISTRY_READ_H

#include <stdint.h>

#include <jansson.h>

#include "common/db.h"

/* Opens the read transaction and reads the registry version in it. 0, or -1 with a malloc'ed *err (no transaction
 * left open). */
int registry_read_begin(struct db *db, uint64_t *version, char **err);
/* Ends the read transaction; 0, or -1 with a malloc'ed *err. */
int registry_read_end(struct db *db, char **err);
/* After a failed read: ends the transaction without caring how. */
void registry_read_abort(struct db *db);

/* The `services` array (new reference), or NULL with a malloc'ed *err. */
json_t *registry_read_services(struct db *db, char **err);

enum registry_route_members {
    REGISTRY_ROUTES_CONFIG, /* exactly the config file's route members */
    REGISTRY_ROUTES_EXPORT, /* plus `rate_policy` (route.schema.json), which the config file does not have yet */
};

/* The `routes` array (new reference), or NULL with a malloc'ed *err. */
json_t *registry_read_routes(struct db *db, enum registry_route_members members, char **err);

/*
 * What the public catalog and the merged OpenAPI document need beyond the services and routes (docs/registry.md §8):
 * {"departments": [{"name", "display_name", "region_code", "parent"?}], "scopes": [{"name", "display_name",
 * "department"}], "openapi": {"<service>": <its uploaded document>}}, each list ordered by name. A new reference, or
 * NULL with a malloc'ed *err. A stored document that no longer parses is left out, so one bad row cannot
 * stop every node from following the registry.
 */
json_t *registry_read_catalog(struct db *db, char **err);

#endif
