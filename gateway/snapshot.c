#include "gateway/snapshot.h"

#include <stdio.h>
#include <openssl/pem.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/strbuf.h"
#include "common/xalloc.h"
#include "gateway/catalog.h"
#include "gateway/oidc_discovery.h"
#include "gateway/openapi_merge.h"

static int add_routes(struct snapshot *snapshot, struct metrics_registry *metrics, struct problem_list *problems)
{
    const struct config *config = snapshot->config;
    snapshot->num_routes = config->num_routes;
    snapshot->routes = xcalloc(config->num_routes, sizeof(*snapshot->routes));
    int ok = 1;
    for (size_t i = 0; i < config->num_routes; i++) {
        struct snapshot_route *route = &snapshot->routes[i];
        route->config = &config->routes[i];
        route->service = service_set_find(snapshot->services, route->config->service);
        if (route->service == NULL) {
            /* config_load already checks this; kept so a snapshot can never hold a dangling route */
            char pointer[64];
            snprintf(pointer, sizeof(pointer), "/routes/%zu/service", i);
            problem_list_add(problems, pointer, "unknown service '%s'", route->config->service);
            ok = 0;
            continue;
        }
        route->metrics = metrics_route_series(metrics, route->config->name, route->config->service);
        char *err = NULL;
        if (route_table_add(snapshot->table, route->config->host, route->config->path_prefix, route->config->methods, route,
                            &err) != 0) {
            char pointer[64];
            snprintf(pointer, sizeof(pointer), "/routes/%zu/path_prefix", i);
            problem_list_add(problems, pointer, "%s", err);
            free(err);
            ok = 0;
        }
    }
    return ok ? 0 : -1;
}

static enum jwt_alg parse_alg(const char *alg)
{
    return strcmp(alg, "RS256") == 0 ? JWT_ALG_RS256_PINNED : JWT_ALG_ES256_PINNED;
}

/* Reads the trusted public keys named by the config (blocking file reads: never on an event loop). */
static int load_keyset(struct snapshot *snapshot, struct problem_list *problems)
{
    const struct identity_config *identity = &snapshot->config->identity;
    struct jwt_keyset *keyset = &snapshot->keyset;
    keyset->clock_skew_s = identity->clock_skew_s;
    for (size_t i = 0; i < identity->num_audiences; i++)
        jwt_keyset_add_audience(keyset, identity->audiences[i]);
    int ok = 1;
    for (size_t i = 0; i < identity->num_trusted_keys; i++) {
        const struct trusted_key_config *k = &identity->trusted_keys[i];
        char pointer[64], *err = NULL;
        snprintf(pointer, sizeof(pointer), "/identity/trusted_keys/%zu/public_key_file", i);
        FILE *f = fopen(k->public_key_file, "re");
        EVP_PKEY *pkey = f != NULL ? PEM_read_PUBKEY(f, NULL, NULL, NULL) : NULL;
        if (f != NULL)
            fclose(f);
        if (pkey == NULL) {
            problem_list_add(problems, pointer, "cannot read a PEM public key from %s", k->public_key_file);
            ok = 0;
        } else if (jwt_keyset_add_pkey(keyset, k->kid, parse_alg(k->alg), pkey, k->issuer != NULL ? k->issuer : identity->issuer,
                                       k->typ, &err) != 0) {
            problem_list_add(problems, pointer, "%s", err);
            free(err);
            ok = 0;
        }
    }
    return ok ? 0 : -1;
}

/* The gateway's own keys: trusted for tokens it issued, published in the JWKS, the active one kept for signing. */
static void add_own_keys(struct snapshot *snapshot, const struct signing_key_set *keys)
{
    struct strbuf jwks = STRBUF_INIT;
    strbuf_append_str(&jwks, "{\"keys\":[");
    for (size_t i = 0; keys != NULL && i < keys->num_keys; i++) {
        const struct published_key *key = &keys->keys[i];
        char *err = NULL;
        EVP_PKEY_up_ref(key->pkey);
        if (jwt_keyset_add_pkey(&snapshot->keyset, key->kid, key->alg, key->pkey, snapshot->config->identity.issuer, "at+jwt",
                                &err) != 0) {
            log_error("signing key %s cannot be used: %s", key->kid, err);
            free(err);
            continue;
        }
        if (jwks.data[jwks.len - 1] == '}')
            strbuf_append_char(&jwks, ',');
        jwt_append_jwk(&jwks, key->pkey, key->kid, key->alg);
    }
    strbuf_append_str(&jwks, "]}");
    snapshot->jwks = strbuf_detach(&jwks, &snapshot->jwks_len);
    if (keys != NULL && keys->active.pkey != NULL) {
        snapshot->signer = keys->active;
        EVP_PKEY_up_ref(snapshot->signer.pkey);
    }
}

struct snapshot *snapshot_build(struct config *config, const struct snapshot *previous, const struct signing_key_set *keys,
                                struct metrics_registry *metrics, uint64_t generation, struct problem_list *problems)
{
    struct snapshot *snapshot = xcalloc(1, sizeof(*snapshot));
    atomic_init(&snapshot->refcount, 1);
    snapshot->generation = generation;
    snapshot->config = config;
    snapshot->table = route_table_new();
    snapshot->services = service_set_build(config, previous != NULL ? previous->services : NULL, problems);
    if (snapshot->services == NULL || add_routes(snapshot, metrics, problems) != 0 || load_keyset(snapshot, problems) != 0) {
        snapshot_release(snapshot);
        return NULL;
    }
    if (config->identity.issuer != NULL) {
        add_own_keys(snapshot, keys);
        snapshot->discovery = oidc_discovery_build(&config->identity, &snapshot->discovery_len);
    }
    snapshot->latency = xcalloc(snapshot->services->num_services, sizeof(*snapshot->latency));
    for (size_t i = 0; i < snapshot->services->num_services; i++)
        snapshot->latency[i] = metrics_latency_series(metrics, snapshot->services->services[i].config->name);
    snapshot->unmatched = metrics_route_series(metrics, "", "");
    snapshot->unmatched_latency = metrics_latency_series(metrics, "");
    return snapshot;
}

static uint64_t fnv1a(const char *text, size_t len)
{
    uint64_t h = 14695981039346656037ull;
    for (size_t i = 0; i < len; i++)
        h = (h ^ (unsigned char)text[i]) * 1099511628211ull;
    return h;
}

void snapshot_add_catalog(struct snapshot *snapshot, const json_t *sections, uint64_t version)
{
    const json_t *registry = NULL;
    json_t *empty = NULL;
    if (sections != NULL) {
        registry = json_object_get(sections, "catalog");
        if (!json_is_object(registry))
            registry = empty = json_object(); /* no registry loaded yet: an empty catalog of the registry's shape */
    }
    snapshot->catalog = catalog_build(snapshot->config, registry, &snapshot->catalog_len);
    snapshot->openapi = openapi_merge_build(snapshot->config, registry, &snapshot->openapi_len);
    json_decref(empty);
    uint64_t openapi_hash = fnv1a(snapshot->openapi, snapshot->openapi_len);
    /* The catalog is the registry's content alone, so its version names it. The OpenAPI document also depends on
     * the file (the issuer) and the binary (the gateway's own paths): a hash keeps its ETag honest across those. */
    if (sections != NULL) {
        snprintf(snapshot->catalog_etag, sizeof(snapshot->catalog_etag), "\"%llu\"", (unsigned long long)version);
        snprintf(snapshot->openapi_etag, sizeof(snapshot->openapi_etag), "\"%llu-%016llx\"", (unsigned long long)version,
                 (unsigned long long)openapi_hash);
    } else {
        snprintf(snapshot->catalog_etag, sizeof(snapshot->catalog_etag), "\"file-%016llx\"",
                 (unsigned long long)fnv1a(snapshot->catalog, snapshot->catalog_len));
        snprintf(snapshot->openapi_etag, sizeof(snapshot->openapi_etag), "\"file-%016llx\"", (unsigned long long)openapi_hash);
    }
}

void snapshot_retain(struct snapshot *snapshot)
{
    atomic_fetch_add(&snapshot->refcount, 1);
}

void snapshot_release(struct snapshot *snapshot)
{
    if (snapshot == NULL || atomic_fetch_sub(&snapshot->refcount, 1) != 1)
        return;
    route_table_free(snapshot->table);
    jwt_keyset_clear(&snapshot->keyset);
    jwt_signer_clear(&snapshot->signer);
    free(snapshot->jwks);
    free(snapshot->discovery);
    free(snapshot->catalog);
    free(snapshot->openapi);
    service_set_free(snapshot->services);
    free(snapshot->routes);
    free(snapshot->latency);
    config_free(snapshot->config);
    free(snapshot);
}

struct snapshot_holder *snapshot_holder_new(struct snapshot *snapshot)
{
    struct snapshot_holder *holder = xcalloc(1, sizeof(*holder));
    holder->snapshot = snapshot;
    holder->balancer_state = xcalloc(snapshot->services->num_targets, sizeof(*holder->balancer_state));
    return holder;
}

static void holder_free(struct snapshot_holder *holder)
{
    free(holder->balancer_state);
    snapshot_release(holder->snapshot);
    free(holder);
}

void snapshot_holder_pin(struct snapshot_holder *holder)
{
    holder->pinned++;
}

void snapshot_holder_unpin(struct snapshot_holder *holder)
{
    if (--holder->pinned == 0 && holder->retired)
        holder_free(holder);
}

void snapshot_holder_retire(struct snapshot_holder *holder)
{
    holder->retired = 1;
    if (holder->pinned == 0)
        holder_free(holder);
}
