#include "gateway/registry_read.h"

#include <stdlib.h>
#include <string.h>

#include "common/xalloc.h"

static const char *const policy_names[] = {"public", "user", "client"};

static char *db_failure(struct db *db, const char *what)
{
    return xasprintf("%s: %s", what, db_error(db));
}

int registry_read_begin(struct db *db, uint64_t *version, char **err)
{
    if (db_begin_consistent_read(db) != 0) {
        *err = db_failure(db, "cannot start reading the registry");
        return -1;
    }
    struct db_result *res = db_query(db, 0, "SELECT version FROM registry_version WHERE id = 1", DB_NO_ARGS);
    int row = res != NULL ? db_result_next(res) : -1;
    if (row == 1 && db_result_uint64(res, 0, version) == DB_GET_OK)
        return 0;
    *err = row == 0 ? xstrdup("the registry_version row is missing (run yiwang migrate)")
                    : db_failure(db, "cannot read the registry version");
    registry_read_abort(db);
    return -1;
}

int registry_read_end(struct db *db, char **err)
{
    if (db_commit(db) == 0)
        return 0;
    *err = db_failure(db, "cannot finish reading the registry");
    return -1;
}

void registry_read_abort(struct db *db)
{
    db_rollback(db);
}

/* ---- services ---- */

/* The service object of the config file: name, department, then the spec's members (which may not override them). */
static json_t *render_service(const char *name, const char *department, const char *spec_text, char **err)
{
    json_error_t error;
    json_t *spec = json_loads(spec_text, JSON_REJECT_DUPLICATES, &error);
    if (!json_is_object(spec)) {
        *err = xasprintf("service %s: spec is not a JSON object (%s)", name, spec != NULL ? "wrong type" : error.text);
        json_decref(spec);
        return NULL;
    }
    json_t *service = json_object();
    json_object_set_new(service, "name", json_string(name));
    json_object_set_new(service, "department", json_string(department));
    json_object_update_missing(service, spec);
    json_decref(spec);
    return service;
}

json_t *registry_read_services(struct db *db, char **err)
{
    struct db_result *res = db_query(db, 0,
                                     "SELECT s.name, d.name, s.spec FROM services s JOIN departments d ON d.id = s.department_id "
                                     "ORDER BY s.name",
                                     DB_NO_ARGS);
    if (res == NULL) {
        *err = db_failure(db, "cannot read services");
        return NULL;
    }
    json_t *services = json_array();
    int row;
    while ((row = db_result_next(res)) == 1) {
        const char *name = NULL, *department = NULL, *spec = NULL;
        if (db_result_text(res, 0, &name, NULL) != DB_GET_OK || db_result_text(res, 1, &department, NULL) != DB_GET_OK ||
            db_result_text(res, 2, &spec, NULL) != DB_GET_OK) {
            row = -1;
            break;
        }
        json_t *service = render_service(name, department, spec, err);
        if (service == NULL) {
            json_decref(services);
            return NULL;
        }
        json_array_append_new(services, service);
    }
    if (row < 0) {
        *err = db_failure(db, "cannot read services");
        json_decref(services);
        return NULL;
    }
    return services;
}

/* ---- routes ---- */

enum route_column {
    COL_NAME,
    COL_HOST,
    COL_PREFIX,
    COL_METHODS,
    COL_SERVICE,
    COL_STRIP,
    COL_MAX_BODY,
    COL_POLICY,
    COL_MIN_ACR,
    COL_FORWARD,
    COL_RATE_POLICY,
};

/* "GET,POST" (a SET as MariaDB returns it, in definition order) as ["GET", "POST"]. */
static json_t *methods_array(const char *set)
{
    json_t *methods = json_array();
    for (const char *p = set; *p;) {
        size_t n = strcspn(p, ",");
        if (n > 0)
            json_array_append_new(methods, json_stringn(p, n));
        p += n + (p[n] == ',');
    }
    return methods;
}

static int optional_text(struct db_result *res, size_t col, json_t *object, const char *key)
{
    const char *value = NULL;
    enum db_get got = db_result_text(res, col, &value, NULL);
    if (got == DB_GET_OK)
        json_object_set_new(object, key, json_string(value));
    return got == DB_GET_ERROR ? -1 : 0;
}

static json_t *render_auth(struct db_result *res)
{
    const char *policy = NULL;
    int min_acr = 0, forward = 0;
    if (db_result_text(res, COL_POLICY, &policy, NULL) != DB_GET_OK || db_result_int(res, COL_MIN_ACR, &min_acr) != DB_GET_OK ||
        db_result_int(res, COL_FORWARD, &forward) != DB_GET_OK)
        return NULL;
    json_t *auth = json_object();
    for (size_t i = 0; i < sizeof(policy_names) / sizeof(policy_names[0]); i++)
        if (strcmp(policy, policy_names[i]) == 0)
            json_object_set_new(auth, "policy", json_string(policy_names[i]));
    json_object_set_new(auth, "scopes", json_array());
    json_object_set_new(auth, "min_acr", json_integer(min_acr));
    json_object_set_new(auth, "forward_authorization", json_boolean(forward));
    return auth;
}

/* One row as the config file's route object; NULL when a column does not read. */
static json_t *render_route(struct db_result *res, enum registry_route_members members)
{
    json_t *route = json_object();
    const char *methods = NULL;
    int strip = 0;
    uint64_t max_body = 0;
    enum db_get got_methods = db_result_text(res, COL_METHODS, &methods, NULL);
    enum db_get got_max_body = db_result_uint64(res, COL_MAX_BODY, &max_body);
    json_t *auth = render_auth(res);
    if (optional_text(res, COL_NAME, route, "name") != 0 || optional_text(res, COL_HOST, route, "host") != 0 ||
        optional_text(res, COL_PREFIX, route, "path_prefix") != 0 || got_methods == DB_GET_ERROR ||
        optional_text(res, COL_SERVICE, route, "service") != 0 || db_result_int(res, COL_STRIP, &strip) != DB_GET_OK ||
        got_max_body == DB_GET_ERROR || auth == NULL ||
        (members == REGISTRY_ROUTES_EXPORT && optional_text(res, COL_RATE_POLICY, route, "rate_policy") != 0)) {
        json_decref(auth);
        json_decref(route);
        return NULL;
    }
    if (got_methods == DB_GET_OK)
        json_object_set_new(route, "methods", methods_array(methods));
    json_object_set_new(route, "strip_prefix", json_boolean(strip));
    if (got_max_body == DB_GET_OK)
        json_object_set_new(route, "max_body_bytes", json_integer((json_int_t)max_body));
    json_object_set_new(route, "auth", auth);
    return route;
}

/* Appends each route's required scopes to its auth.scopes; `index` maps a route name to its object. */
static int add_scopes(struct db *db, json_t *index, char **err)
{
    struct db_result *res = db_query(db, 0,
                                     "SELECT r.name, sc.name FROM route_scopes rs JOIN routes r ON r.id = rs.route_id "
                                     "JOIN scopes sc ON sc.id = rs.scope_id ORDER BY r.name, sc.name",
                                     DB_NO_ARGS);
    int row = res != NULL ? 1 : -1;
    while (row == 1 && (row = db_result_next(res)) == 1) {
        const char *route = NULL, *scope = NULL;
        if (db_result_text(res, 0, &route, NULL) != DB_GET_OK || db_result_text(res, 1, &scope, NULL) != DB_GET_OK) {
            row = -1;
            break;
        }
        json_t *object = json_object_get(index, route);
        json_array_append_new(json_object_get(json_object_get(object, "auth"), "scopes"), json_string(scope));
    }
    if (row < 0)
        *err = db_failure(db, "cannot read route scopes");
    return row < 0 ? -1 : 0;
}

json_t *registry_read_routes(struct db *db, enum registry_route_members members, char **err)
{
    struct db_result *res = db_query(db, 0,
                                     "SELECT r.name, r.host, r.path_prefix, r.methods, s.name, r.strip_prefix, r.max_body_bytes, "
                                     "r.auth_policy, r.min_acr, r.forward_authorization, p.name "
                                     "FROM routes r JOIN services s ON s.id = r.service_id "
                                     "LEFT JOIN rate_policies p ON p.id = r.rate_policy_id ORDER BY r.name",
                                     DB_NO_ARGS);
    if (res == NULL) {
        *err = db_failure(db, "cannot read routes");
        return NULL;
    }
    json_t *routes = json_array(), *index = json_object();
    int row;
    while ((row = db_result_next(res)) == 1) {
        json_t *route = render_route(res, members);
        if (route == NULL) {
            row = -1;
            break;
        }
        json_array_append_new(routes, route);
        json_object_set(index, json_string_value(json_object_get(route, "name")), route);
    }
    if (row < 0)
        *err = db_failure(db, "cannot read routes");
    if (row < 0 || add_scopes(db, index, err) != 0) {
        json_decref(index);
        json_decref(routes);
        return NULL;
    }
    json_decref(index);
    return routes;
}

/* ---- the catalog ---- */

static json_t *read_departments(struct db *db, char **err)
{
    struct db_result *res = db_query(db, 0,
                                     "SELECT d.name, d.display_name, d.region_code, p.name FROM departments d "
                                     "LEFT JOIN departments p ON p.id = d.parent_id ORDER BY d.name",
                                     DB_NO_ARGS);
    json_t *departments = json_array();
    int row = res != NULL ? 1 : -1;
    while (row == 1 && (row = db_result_next(res)) == 1) {
        json_t *department = json_object();
        json_array_append_new(departments, department);
        if (optional_text(res, 0, department, "name") != 0 || optional_text(res, 1, department, "display_name") != 0 ||
            optional_text(res, 2, department, "region_code") != 0 || optional_text(res, 3, department, "parent") != 0)
            row = -1;
    }
    if (row == 0)
        return departments;
    *err = db_failure(db, "cannot read departments");
    json_decref(departments);
    return NULL;
}

/* Only the scopes a third party may be given (third_party): the catalog is for integrators. */
static json_t *read_scopes(struct db *db, char **err)
{
    struct db_result *res = db_query(db, 0,
                                     "SELECT sc.name, sc.display_name, d.name FROM scopes sc "
                                     "JOIN departments d ON d.id = sc.department_id WHERE sc.third_party ORDER BY sc.name",
                                     DB_NO_ARGS);
    json_t *scopes = json_array();
    int row = res != NULL ? 1 : -1;
    while (row == 1 && (row = db_result_next(res)) == 1) {
        json_t *scope = json_object();
        json_array_append_new(scopes, scope);
        if (optional_text(res, 0, scope, "name") != 0 || optional_text(res, 1, scope, "display_name") != 0 ||
            optional_text(res, 2, scope, "department") != 0)
            row = -1;
    }
    if (row == 0)
        return scopes;
    *err = db_failure(db, "cannot read scopes");
    json_decref(scopes);
    return NULL;
}

static json_t *read_documents(struct db *db, char **err)
{
    struct db_result *res = db_query(db, 0,
                                     "SELECT s.name, o.document FROM service_openapi o JOIN services s ON s.id = o.service_id "
                                     "ORDER BY s.name",
                                     DB_NO_ARGS);
    json_t *documents = json_object();
    int row = res != NULL ? 1 : -1;
    while (row == 1 && (row = db_result_next(res)) == 1) {
        const char *service = NULL, *text = NULL;
        size_t len = 0;
        if (db_result_text(res, 0, &service, NULL) != DB_GET_OK || db_result_text(res, 1, &text, &len) != DB_GET_OK) {
            row = -1;
            break;
        }
        json_error_t error;
        json_t *document = json_loadb(text, len, 0, &error);
        if (json_is_object(document))
            json_object_set_new(documents, service, document);
        else
            json_decref(document); /* the admin API only stores objects; an edit by hand is not worth a rejected version */
    }
    if (row == 0)
        return documents;
    *err = db_failure(db, "cannot read service OpenAPI documents");
    json_decref(documents);
    return NULL;
}

json_t *registry_read_catalog(struct db *db, char **err)
{
    json_t *departments = read_departments(db, err);
    json_t *scopes = departments != NULL ? read_scopes(db, err) : NULL;
    json_t *documents = scopes != NULL ? read_documents(db, err) : NULL;
    if (documents == NULL) {
        json_decref(departments);
        json_decref(scopes);
        return NULL;
    }
    return json_pack("{s:o,s:o,s:o}", "departments", departments, "scopes", scopes, "openapi", documents);
}
