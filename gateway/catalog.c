#include "gateway/catalog.h"

#include <string.h>

#include "common/xalloc.h"

static const struct {
    unsigned bit;
    const char *name;
} method_names[] = {
    {HTTP_METHOD_GET, "GET"},     {HTTP_METHOD_HEAD, "HEAD"},     {HTTP_METHOD_POST, "POST"},       {HTTP_METHOD_PUT, "PUT"},
    {HTTP_METHOD_PATCH, "PATCH"}, {HTTP_METHOD_DELETE, "DELETE"}, {HTTP_METHOD_OPTIONS, "OPTIONS"},
};

json_t *catalog_methods(unsigned methods)
{
    json_t *array = json_array();
    for (size_t i = 0; i < sizeof(method_names) / sizeof(method_names[0]); i++)
        if (methods & method_names[i].bit)
            json_array_append_new(array, json_string(method_names[i].name));
    return array;
}

static const char *policy_name(enum route_auth_policy policy)
{
    return policy == ROUTE_AUTH_PUBLIC ? "public" : policy == ROUTE_AUTH_USER ? "user" : "client";
}

/* What a caller needs to know about one route, and nothing about where it goes. */
static json_t *public_route(const struct route_config *route)
{
    json_t *scopes = json_array();
    for (size_t i = 0; i < route->auth.num_scopes; i++)
        json_array_append_new(scopes, json_string(route->auth.scopes[i]));
    json_t *out = json_object();
    if (route->host != NULL)
        json_object_set_new(out, "host", json_string(route->host));
    json_object_set_new(out, "path_prefix", json_string(route->path_prefix));
    json_object_set_new(out, "methods", catalog_methods(route->methods));
    json_object_set_new(out, "auth",
                        json_pack("{s:s,s:o,s:i}", "policy", policy_name(route->auth.policy), "scopes", scopes, "min_acr",
                                  (int)route->auth.min_acr));
    return out;
}

/* [{"name", "department", "routes": [...]}] in the config's order (the registry's is by name). */
static json_t *services(const struct config *config, int with_department)
{
    json_t *list = json_array();
    for (size_t i = 0; i < config->num_services; i++) {
        const struct service_config *service = &config->services[i];
        json_t *routes = json_array();
        for (size_t r = 0; r < config->num_routes; r++)
            if (strcmp(config->routes[r].service, service->name) == 0)
                json_array_append_new(routes, public_route(&config->routes[r]));
        json_t *item = json_pack("{s:s}", "name", service->name);
        if (with_department && service->department != NULL)
            json_object_set_new(item, "department", json_string(service->department));
        json_object_set_new(item, "routes", routes);
        json_array_append_new(list, item);
    }
    return list;
}

/* The registry's departments, each with the names of its services. */
static json_t *departments(const json_t *registry, const json_t *service_list)
{
    json_t *list = json_array();
    size_t i;
    const json_t *department;
    json_array_foreach(json_object_get(registry, "departments"), i, department)
    {
        json_t *item = json_deep_copy(department), *names = json_array();
        const char *name = json_string_value(json_object_get(department, "name"));
        size_t s;
        const json_t *service;
        json_array_foreach(service_list, s, service)
        {
            const char *owner = json_string_value(json_object_get(service, "department"));
            if (owner != NULL && name != NULL && strcmp(owner, name) == 0)
                json_array_append(names, json_object_get(service, "name"));
        }
        json_object_set_new(item, "services", names);
        json_array_append_new(list, item);
    }
    return list;
}

char *catalog_build(const struct config *config, const json_t *registry, size_t *len)
{
    json_t *doc = json_object();
    json_t *service_list = services(config, registry != NULL);
    if (registry != NULL) {
        json_object_set_new(doc, "source", json_string("registry"));
        json_object_set_new(doc, "departments", departments(registry, service_list));
    } else {
        /* routes from the config file belong to no registered department; an empty list keeps the shape */
        json_object_set_new(doc, "source", json_string("file"));
        json_object_set_new(doc, "departments", json_array());
    }
    json_object_set_new(doc, "services", service_list);
    const json_t *scopes = registry != NULL ? json_object_get(registry, "scopes") : NULL;
    json_object_set_new(doc, "scopes", json_is_array(scopes) ? json_deep_copy(scopes) : json_array());
    char *text = json_dumps(doc, JSON_COMPACT);
    json_decref(doc);
    if (text == NULL)
        text = xstrdup("{}");
    *len = strlen(text);
    return text;
}
