/*
 * registry_import.h — makes the registry match an export document
 * (`"format": "yiwang-registry/1"`, docs/registry.md §7), inside a registry
 * write the caller has opened (common/registry_write.h).
 *
 * Every item goes through the admin API's own code for its entity
 * (admin_entity.h): the embedded schema, then `resolve` (references,
 * department hierarchy, route overlaps, the loader's rules), then `store`,
 * and one audit row (action "import") per entity written. Nothing here is a
 * second validator. Problems carry pointers into the file
 * ("/routes/3/service: unknown service 'x'").
 *
 * Sections present are authoritative; absent sections are untouched. Order:
 * leaves that nothing refers to and whose removal frees a path (routes,
 * clients, route namespaces) are deleted first, so a renamed route does not
 * overlap its old self; then every section is created or updated, parents
 * first (departments in hierarchy order); then the remaining deletions run
 * in reverse order (services, rate policies, scopes, departments, children
 * before parents), after the updates have moved references away from them.
 *
 * An entity whose item equals its row (schema defaults filled in on both
 * sides, read-only members ignored) is unchanged: not written, not audited.
 *
 * Threads: blocking; a CLI command's main thread, with its own db.
 */
#ifndef YIWANG_GATEWAY_REGISTRY_IMPORT_H
#define YIWANG_GATEWAY_REGISTRY_IMPORT_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "common/db.h"
#include "common/problems.h"
#include "common/strbuf.h"

#define REGISTRY_IMPORT_FORMAT "yiwang-registry/1"

struct registry_import_options {
    const char *actor;              /* "cli:<OS user>", with actor role "cli" */
    const char *request_id;         /* "import:<random>", on every audit row */
    size_t node_max_body_bytes;     /* this node's limits.max_body_bytes (a route's may not exceed it) */
    const unsigned char *token_key; /* the token-hash key: new confidential clients' secrets are hashed under it */
};

struct registry_import_result {
    struct strbuf plan;           /* "create route x\n", "update service y\n", "delete scope z\n", in the order run */
    size_t changed, unchanged;    /* entities written / left as they were */
    json_t *secrets;              /* {"client_id": "secret"} of new confidential clients; shown once, never stored */
    struct problem_list problems; /* with pointers into the file; any problem means the caller must roll back */
};

void registry_import_result_init(struct registry_import_result *result);
void registry_import_result_free(struct registry_import_result *result);

/*
 * Applies `file` in the open registry write of `version`. 0: done (result
 * filled; result->problems non-empty means nothing may be committed), -1: a
 * database failure (*err malloc'ed). Either way the caller commits or rolls
 * back.
 */
int registry_import_apply(struct db *db, uint64_t version, const json_t *file, const struct registry_import_options *options,
                          struct registry_import_result *result, char **err);

#endif
