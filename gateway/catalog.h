/*
 * catalog.h — the public catalog (GET /v1/catalog, docs/registry.md §8):
 * which departments publish which routes, how each is protected, and the
 * scopes a third party may ask for. Built once per snapshot on the main
 * thread; requests only send the bytes.
 *
 * Only what an integrator needs: a route's host, path prefix, methods, auth
 * policy, required scopes and minimum assurance level. Never targets,
 * timeouts, body limits or other internals.
 *
 * Threads: main thread (snapshot build).
 */
#ifndef YIWANG_GATEWAY_CATALOG_H
#define YIWANG_GATEWAY_CATALOG_H

#include <stddef.h>

#include <jansson.h>

#include "common/config.h"

/*
 * The catalog's JSON text (malloc'ed, *len set). `registry` is the registry's catalog section (registry_read_catalog:
 * departments, scopes), or NULL when the routes come from the config file: then the file's services and routes are
 * listed, with no departments or scopes.
 */
char *catalog_build(const struct config *config, const json_t *registry, size_t *len);

/* A route's methods as a JSON array of names (every method when the route did not restrict them). */
json_t *catalog_methods(unsigned methods);

#endif
