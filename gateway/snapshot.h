/*
 * snapshot.h — the immutable configuration a request is served with.
 *
 * A snapshot bundles the parsed config, the route table, the services with
 * their targets and the metric series they write to. It is built off the
 * event loops (start-up, SIGHUP), then published to every event-loop thread.
 * A request pins the snapshot it started with (snapshot_holder below) and
 * keeps using it to the end, so a reload never changes a request in flight.
 *
 * Threads: built by the control path; afterwards read-only for everyone.
 * The refcount is atomic; it is touched once per thread per swap, never per
 * request (requests pin the thread-local holder instead).
 */
#ifndef YIWANG_GATEWAY_SNAPSHOT_H
#define YIWANG_GATEWAY_SNAPSHOT_H

#include <stdatomic.h>
#include <stdint.h>

#include <jansson.h>

#include "auth/jwt_sign.h"
#include "auth/jwt_verify.h"
#include "auth/signing_keys.h"
#include "common/config.h"
#include "gateway/metrics.h"
#include "routes/route_table.h"
#include "routes/service.h"

struct snapshot_route {
    const struct route_config *config;
    struct service *service;
    struct route_series *metrics;
};

struct snapshot {
    atomic_uint refcount;
    uint64_t generation;
    struct config *config;
    struct service_set *services;
    struct route_table *table; /* values: struct snapshot_route * */
    struct snapshot_route *routes;
    size_t num_routes;
    struct latency_series **latency; /* indexed by service->index */
    struct jwt_keyset keyset;        /* keys and audiences access tokens are checked against */
    struct jwt_signer signer;        /* the gateway's active signing key; pkey NULL when it cannot issue tokens */
    char *jwks;                      /* /.well-known/jwks.json: the gateway's own published keys */
    size_t jwks_len;
    char *discovery; /* /.well-known/openid-configuration (oidc_discovery.h); NULL without an issuer */
    size_t discovery_len;
    char *catalog; /* GET /v1/catalog (catalog.h) */
    size_t catalog_len;
    char *openapi; /* GET /openapi.json (openapi_merge.h) */
    size_t openapi_len;
    char catalog_etag[48]; /* quoted: the registry version, or a hash of the body with the file as the source */
    char openapi_etag[48];
    struct route_series *unmatched; /* requests that matched no route */
    struct latency_series *unmatched_latency;
};

/*
 * Builds a snapshot, taking ownership of `config` (freed on failure too).
 * Shared target/service state is carried over from `previous` (may be NULL).
 * `keys` (may be NULL) are the gateway's own signing keys from the database:
 * published in the JWKS, trusted for its own tokens, the active one signs.
 * Returns NULL and appends to `problems` if routes conflict or hosts do not
 * resolve. Blocking (DNS); never call on an event loop.
 */
struct snapshot *snapshot_build(struct config *config, const struct snapshot *previous, const struct signing_key_set *keys,
                                struct metrics_registry *metrics, uint64_t generation, struct problem_list *problems);
/*
 * Builds the public catalog and the merged OpenAPI document into a snapshot just built (docs/registry.md §8).
 * `sections` is the registry being served (registry_sync.h: its "catalog") and `version` its registry version, or
 * NULL when the config file is the source. Main thread, before the snapshot is published.
 */
void snapshot_add_catalog(struct snapshot *snapshot, const json_t *sections, uint64_t version);
void snapshot_retain(struct snapshot *snapshot);
void snapshot_release(struct snapshot *snapshot);

/*
 * A thread's handle on its current snapshot. Requests pin the holder with a
 * plain (non-atomic) counter since holder and requests live on one thread;
 * when the thread adopts a newer snapshot the old holder is retired and frees
 * itself (dropping its snapshot reference) once its last request ends.
 */
struct snapshot_holder {
    struct snapshot *snapshot;
    unsigned pinned;
    int retired;
    int *balancer_state; /* the thread's round-robin weights, one per target of the snapshot */
};

struct snapshot_holder *snapshot_holder_new(struct snapshot *snapshot /* reference transferred */);
void snapshot_holder_pin(struct snapshot_holder *holder);
void snapshot_holder_unpin(struct snapshot_holder *holder);
void snapshot_holder_retire(struct snapshot_holder *holder);

/* The thread's balancer state for one service (its targets are contiguous in the snapshot). */
static inline int *snapshot_holder_balancer_state(struct snapshot_holder *holder, const struct service *service)
{
    return holder->balancer_state + service->targets[0].global_index;
}

#endif
