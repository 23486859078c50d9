#include "gateway/openapi_merge.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/embedded_schemas.h"
#include "common/log.h"
#include "common/xalloc.h"

#define BASE_DOCUMENT "public.json"
#define SCHEME "yiwang" /* the OAuth 2.0 security scheme every service operation names */

static const char *const oidc_scopes[][2] = {
    {"openid", "OpenID Connect sign-in"},
    {"profile", "Name"},
    {"phone", "Mobile number"},
    {"email", "E-mail address"},
};

static const struct {
    const char *name;
    unsigned bit;
} operation_methods[] = {
    {"get", HTTP_METHOD_GET},     {"head", HTTP_METHOD_HEAD},     {"post", HTTP_METHOD_POST},       {"put", HTTP_METHOD_PUT},
    {"patch", HTTP_METHOD_PATCH}, {"delete", HTTP_METHOD_DELETE}, {"options", HTTP_METHOD_OPTIONS}, {"trace", 0},
};

/* The gateway's own public endpoints; a minimal valid document should the embedded one ever fail to parse. */
static json_t *base_document(void)
{
    const struct embedded_schema *base = embedded_schema_find(BASE_DOCUMENT);
    json_error_t error;
    json_t *doc = base != NULL ? json_loadb(base->text, base->len, 0, &error) : NULL;
    if (!json_is_object(doc)) {
        log_error("openapi: the embedded %s does not parse; serving the services' paths only", BASE_DOCUMENT);
        json_decref(doc);
        doc = json_pack("{s:s,s:{s:s,s:s},s:{}}", "openapi", "3.1.0", "info", "title", "Yiwang", "version", "0", "paths");
    }
    return doc;
}

static json_t *member_object(json_t *parent, const char *key)
{
    json_t *child = json_object_get(parent, key);
    if (!json_is_object(child)) {
        child = json_object();
        json_object_set_new(parent, key, child);
    }
    return child;
}

/* ---- security ---- */

static char *issuer_url(const struct config *config, const char *path)
{
    const char *issuer = config->identity.issuer != NULL ? config->identity.issuer : "";
    size_t n = strlen(issuer);
    return xasprintf("%.*s%s", (int)(n > 0 && issuer[n - 1] == '/' ? n - 1 : n), issuer, path);
}

/*
 * Every scope a client may request, with its display name: the OIDC ones, the
 * registry's open ones (third_party; this document is public), any a route requires.
 */
static json_t *scope_names(const struct config *config, const json_t *registry)
{
    json_t *scopes = json_object();
    for (size_t i = 0; i < sizeof(oidc_scopes) / sizeof(oidc_scopes[0]); i++)
        json_object_set_new(scopes, oidc_scopes[i][0], json_string(oidc_scopes[i][1]));
    size_t i;
    const json_t *scope;
    json_array_foreach(json_object_get(registry, "scopes"), i, scope)
    {
        const char *name = json_string_value(json_object_get(scope, "name"));
        const char *display = json_string_value(json_object_get(scope, "display_name"));
        if (name != NULL)
            json_object_set_new(scopes, name, json_string(display != NULL ? display : name));
    }
    for (size_t r = 0; r < config->num_routes; r++)
        for (size_t s = 0; s < config->routes[r].auth.num_scopes; s++)
            if (json_object_get(scopes, config->routes[r].auth.scopes[s]) == NULL)
                json_object_set_new(scopes, config->routes[r].auth.scopes[s], json_string(config->routes[r].auth.scopes[s]));
    return scopes;
}

static void add_security_scheme(json_t *doc, const struct config *config, const json_t *registry)
{
    char *authorize = issuer_url(config, "/oauth/authorize"), *token = issuer_url(config, "/oauth/token");
    char *refresh = issuer_url(config, "/oauth/token");
    json_t *scopes = scope_names(config, registry);
    json_t *scheme =
        json_pack("{s:s,s:s,s:s,s:{s:{s:s,s:s,s:s,s:O},s:{s:s,s:O}}}", "type", "oauth2", "description",
                  "Access tokens issued by the gateway. People sign in through the authorization code flow, which requires PKCE "
                  "(S256); services acting for themselves use client credentials. Send the token as `Authorization: Bearer`.",
                  "x-usePkce", "SHA-256", "flows", "authorizationCode", "authorizationUrl", authorize, "tokenUrl", token,
                  "refreshUrl", refresh, "scopes", scopes, "clientCredentials", "tokenUrl", token, "scopes", scopes);
    json_object_set_new(member_object(member_object(doc, "components"), "securitySchemes"), SCHEME, scheme);
    json_decref(scopes);
    free(authorize);
    free(token);
    free(refresh);
}

static json_t *route_security(const struct route_config *route)
{
    if (route->auth.policy == ROUTE_AUTH_PUBLIC)
        return json_array(); /* explicitly none */
    json_t *scopes = json_array();
    for (size_t i = 0; i < route->auth.num_scopes; i++)
        json_array_append_new(scopes, json_string(route->auth.scopes[i]));
    return json_pack("[{s:o}]", SCHEME, scopes);
}

/* ---- one service's document, renamed ---- */

/* "#/components/schemas/Invoice..." as "#/components/schemas/<service>_Invoice..." (malloc'ed), or NULL when `ref`
 * is not a local component reference. */
static char *renamed_ref(const char *ref, const char *service)
{
    static const char prefix[] = "#/components/";
    if (ref == NULL || strncmp(ref, prefix, sizeof(prefix) - 1) != 0)
        return NULL;
    const char *kind_end = strchr(ref + sizeof(prefix) - 1, '/');
    return kind_end != NULL ? xasprintf("%.*s/%s_%s", (int)(kind_end - ref), ref, service, kind_end + 1) : NULL;
}

/* Rewrites every local component reference in `node`: `$ref` values and a discriminator's `mapping` values. */
static void rewrite_refs(json_t *node, const char *service)
{
    if (json_is_array(node)) {
        size_t i;
        json_t *value;
        json_array_foreach(node, i, value)
        {
            rewrite_refs(value, service);
        }
        return;
    }
    if (!json_is_object(node))
        return;
    const char *key;
    json_t *value;
    json_object_foreach(node, key, value)
    {
        char *renamed = strcmp(key, "$ref") == 0 ? renamed_ref(json_string_value(value), service) : NULL;
        if (renamed != NULL) {
            json_object_set_new(node, key, json_string(renamed));
            free(renamed);
            continue;
        }
        if (strcmp(key, "mapping") == 0 && json_is_object(value) && json_is_string(json_object_get(node, "propertyName"))) {
            const char *name;
            json_t *target;
            json_object_foreach(value, name, target)
            {
                char *mapped = renamed_ref(json_string_value(target), service);
                if (mapped != NULL)
                    json_object_set_new(value, name, json_string(mapped));
                free(mapped);
            }
            continue;
        }
        rewrite_refs(value, service);
    }
}

/* The service's document with its components renamed and its local references following them (a new reference). */
static json_t *prepare(const json_t *document, const char *service)
{
    json_t *copy = json_deep_copy(document);
    rewrite_refs(copy, service);
    json_t *components = json_object_get(copy, "components"), *renamed = json_object();
    const char *kind;
    json_t *members;
    json_object_foreach(components, kind, members)
    {
        /* callers authenticate to the gateway, not to the service: its schemes do not apply */
        if (strcmp(kind, "securitySchemes") == 0 || !json_is_object(members))
            continue;
        json_t *out = json_object();
        const char *name;
        json_t *value;
        json_object_foreach(members, name, value)
        {
            char *key = xasprintf("%s_%s", service, name);
            json_object_set(out, key, value);
            free(key);
        }
        json_object_set_new(renamed, kind, out);
    }
    json_object_set_new(copy, "components", renamed);
    return copy;
}

/* ---- placing paths ---- */

struct merge {
    const struct config *config;
    json_t *doc;
    json_t *paths;           /* doc.paths */
    json_t *operation_ids;   /* every id in use: {"id": true} */
    json_t *merged_services; /* services whose components are already in doc: {"name": true} */
};

static void collect_operation_ids(struct merge *m)
{
    const char *path, *method;
    json_t *item, *operation;
    json_object_foreach(m->paths, path, item)
    {
        json_object_foreach(item, method, operation)
        {
            const char *id = json_string_value(json_object_get(operation, "operationId"));
            if (id != NULL)
                json_object_set_new(m->operation_ids, id, json_true());
        }
    }
}

static char *unique_operation_id(struct merge *m, const char *service, const char *id)
{
    char *candidate = xasprintf("%s_%s", service, id);
    for (unsigned n = 2; json_object_get(m->operation_ids, candidate) != NULL; n++) {
        free(candidate);
        candidate = xasprintf("%s_%s_%u", service, id, n);
    }
    json_object_set_new(m->operation_ids, candidate, json_true());
    return candidate;
}

/* Where the service's `path` is reachable through `route`: a malloc'ed path, or NULL when it is not. */
static char *gateway_path(const struct route_config *route, const char *path)
{
    const char *prefix = route->path_prefix;
    size_t n = strlen(prefix);
    while (n > 0 && prefix[n - 1] == '/')
        n--;
    if (route->strip_prefix)
        return strcmp(path, "/") == 0 && n > 0 ? xasprintf("%.*s", (int)n, prefix) : xasprintf("%.*s%s", (int)n, prefix, path);
    /* the service sees the whole path: only its paths under the prefix are routed to it */
    if (n == 0 || (strncmp(path, prefix, n) == 0 && (path[n] == '\0' || path[n] == '/')))
        return xstrdup(path);
    return NULL;
}

/* The path item as the gateway serves it through `route`, or NULL when the route passes none of its methods. */
static json_t *place_item(struct merge *m, const struct route_config *route, const json_t *item)
{
    json_t *out = json_deep_copy(item);
    json_object_del(out, "servers");
    int operations = 0;
    for (size_t i = 0; i < sizeof(operation_methods) / sizeof(operation_methods[0]); i++) {
        json_t *operation = json_object_get(out, operation_methods[i].name);
        if (operation == NULL)
            continue;
        if (!(route->methods & operation_methods[i].bit) || !json_is_object(operation)) {
            json_object_del(out, operation_methods[i].name);
            continue;
        }
        operations++;
        const char *id = json_string_value(json_object_get(operation, "operationId"));
        if (id != NULL) {
            char *unique = unique_operation_id(m, route->service, id);
            json_object_set_new(operation, "operationId", json_string(unique));
            free(unique);
        }
        json_object_del(operation, "servers");
        json_object_set_new(operation, "tags", json_pack("[s]", route->service));
        json_object_set_new(operation, "security", route_security(route));
        if (route->auth.min_acr > 0)
            json_object_set_new(operation, "x-yiwang-min-acr", json_integer(route->auth.min_acr));
    }
    if (operations == 0) {
        json_decref(out);
        return NULL;
    }
    if (route->host != NULL) {
        char *url = xasprintf("https://%s", route->host);
        json_object_set_new(out, "servers", json_pack("[{s:s}]", "url", url));
        free(url);
    }
    return out;
}

static void merge_components(struct merge *m, const json_t *prepared, const char *service)
{
    if (json_object_get(m->merged_services, service) != NULL)
        return;
    json_object_set_new(m->merged_services, service, json_true());
    json_t *components = member_object(m->doc, "components");
    const char *kind;
    json_t *members;
    json_object_foreach(json_object_get(prepared, "components"), kind, members)
    {
        json_object_update_missing(member_object(components, kind), members);
    }
    char *description = xasprintf("The %s service, as its department documents it.", service);
    json_array_append_new(json_object_get(m->doc, "tags"), json_pack("{s:s,s:s}", "name", service, "description", description));
    free(description);
}

static void place_route(struct merge *m, const struct route_config *route, const json_t *prepared)
{
    const char *path;
    json_t *item;
    int placed = 0;
    json_object_foreach(json_object_get(prepared, "paths"), path, item)
    {
        char *full = gateway_path(route, path);
        json_t *out = full != NULL && json_object_get(m->paths, full) == NULL ? place_item(m, route, item) : NULL;
        if (out != NULL) {
            json_object_set_new(m->paths, full, out);
            placed = 1;
        }
        free(full);
    }
    if (placed)
        merge_components(m, prepared, route->service);
}

char *openapi_merge_build(const struct config *config, const json_t *registry, size_t *len)
{
    json_t *doc = base_document();
    struct merge m = {.config = config,
                      .doc = doc,
                      .paths = member_object(doc, "paths"),
                      .operation_ids = json_object(),
                      .merged_services = json_object()};
    if (!json_is_array(json_object_get(doc, "tags")))
        json_object_set_new(doc, "tags", json_array());
    json_t *info = member_object(doc, "info");
    json_object_set_new(info, "title", json_string("Yiwang: the gateway and the department APIs behind it"));
    json_object_set_new(info, "summary",
                        json_string("The gateway's sign-in and token endpoints, and every department API it publishes, "
                                    "at the paths and with the security the gateway applies."));
    if (config->identity.issuer != NULL)
        json_object_set_new(doc, "servers",
                            json_pack("[{s:s,s:s}]", "url", config->identity.issuer, "description", "The gateway."));
    add_security_scheme(doc, config, registry);
    collect_operation_ids(&m);
    const json_t *documents = json_object_get(registry, "openapi");
    json_t *prepared = json_object();
    for (size_t i = 0; i < config->num_routes; i++) {
        const struct route_config *route = &config->routes[i];
        const json_t *document = json_object_get(documents, route->service);
        if (document == NULL)
            continue;
        json_t *ready = json_object_get(prepared, route->service);
        if (ready == NULL) {
            ready = prepare(document, route->service);
            json_object_set_new(prepared, route->service, ready);
        }
        place_route(&m, route, ready);
    }
    json_decref(prepared);
    json_decref(m.operation_ids);
    json_decref(m.merged_services);
    char *text = json_dumps(doc, JSON_COMPACT);
    json_decref(doc);
    if (text == NULL)
        text = xstrdup("{}");
    *len = strlen(text);
    return text;
}
