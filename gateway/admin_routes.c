/*
 * admin_routes.c — /admin/v1/routes (admin_entity.h).
 *
 * A route is one row (one column per member) plus its auth.scopes in
 * route_scopes. Its department is its service's. What the schema cannot
 * check, checked here while the registry_version lock is held (so two
 * writers cannot both pass):
 *  - the service, rate policy and scopes exist; a rate policy is the route's
 *    department's or platform-wide;
 *  - a department admin's route lies inside one of the department's
 *    route_namespaces, or one department could take another's traffic by a
 *    longer prefix;
 *  - the loader's own rules for one route (a canonical host, max_body_bytes
 *    within this node's limit; admin_loader_check.h);
 *  - no other route has the same host and prefix (as the route table compares
 *    them: case-insensitively, trailing '/' ignored — the generated host_key
 *    and prefix_key columns) with a method in common, the rule
 *    common/config.c applies to the config file (GET also allows HEAD).
 */
#include <stdlib.h>
#include <string.h>

#include "gateway/admin_entity.h"
#include "gateway/admin_loader_check.h"

#define COLUMNS                                                                                                                    \
    "SELECT r.id, s.department_id, r.name, r.host, r.path_prefix, r.methods, s.name, r.strip_prefix, r.max_body_bytes, "           \
    "r.auth_policy, r.min_acr, r.forward_authorization, p.name, (SELECT GROUP_CONCAT(sc.name ORDER BY sc.name SEPARATOR ' ') "     \
    "FROM route_scopes rs JOIN scopes sc ON sc.id = rs.scope_id WHERE rs.route_id = r.id), r.version, r.created_at, "              \
    "r.updated_at FROM routes r JOIN services s ON s.id = r.service_id LEFT JOIN rate_policies p ON p.id = r.rate_policy_id "

static const char *const method_names[] = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"};
#define ALL_METHODS 0x7fu

static unsigned method_bit(const char *name, size_t len)
{
    for (size_t i = 0; i < sizeof(method_names) / sizeof(method_names[0]); i++) {
        if (strlen(method_names[i]) == len && memcmp(method_names[i], name, len) == 0)
            return 1u << i;
    }
    return 0;
}

/* The methods a route serves as the route table sees them: GET also allows HEAD. */
static unsigned served(unsigned mask)
{
    return mask & 1u ? mask | 2u : mask;
}

/* A SET column's text ("GET,POST") as a mask; NULL (all methods) as ALL_METHODS. */
static unsigned set_mask(const char *text)
{
    if (text == NULL)
        return ALL_METHODS;
    unsigned mask = 0;
    for (const char *p = text; *p != '\0';) {
        size_t n = strcspn(p, ",");
        mask |= method_bit(p, n);
        p += n + (p[n] == ',');
    }
    return mask;
}

static json_t *split(const char *text, const char *separators)
{
    json_t *array = json_array();
    for (const char *p = text; *p != '\0';) {
        size_t n = strcspn(p, separators);
        if (n != 0)
            json_array_append_new(array, json_stringn(p, n));
        p += n + (p[n] != '\0');
    }
    return array;
}

/* auth with its non-default members only, so a route written without them reads back the same */
static int put_auth(json_t *doc, struct db_result *res)
{
    json_t *auth = json_object();
    const char *policy = NULL, *scopes = NULL;
    int min_acr = 0, forward = 0;
    if (db_result_text(res, 9, &policy, NULL) != DB_GET_OK || db_result_int(res, 10, &min_acr) != DB_GET_OK ||
        db_result_int(res, 11, &forward) != DB_GET_OK || db_result_text(res, 13, &scopes, NULL) == DB_GET_ERROR) {
        json_decref(auth);
        return -1;
    }
    if (strcmp(policy, "public") != 0)
        json_object_set_new(auth, "policy", json_string(policy));
    if (scopes != NULL)
        json_object_set_new(auth, "scopes", split(scopes, " "));
    if (min_acr != 0)
        json_object_set_new(auth, "min_acr", json_integer(min_acr));
    if (forward)
        json_object_set_new(auth, "forward_authorization", json_true());
    if (json_object_size(auth) > 0)
        json_object_set(doc, "auth", auth);
    json_decref(auth);
    return 0;
}

static json_t *row_doc(struct db_result *res)
{
    json_t *doc = json_object();
    const char *methods = NULL;
    int strip = 0;
    if (admin_put_text(doc, "name", res, 2) != 0 || admin_put_text(doc, "host", res, 3) != 0 ||
        admin_put_text(doc, "path_prefix", res, 4) != 0 || db_result_text(res, 5, &methods, NULL) == DB_GET_ERROR ||
        admin_put_text(doc, "service", res, 6) != 0 || db_result_int(res, 7, &strip) != DB_GET_OK ||
        admin_put_uint(doc, "max_body_bytes", res, 8) != 0 || put_auth(doc, res) != 0 ||
        admin_put_text(doc, "rate_policy", res, 12) != 0 || admin_put_read_only(doc, res, 14) != 0) {
        json_decref(doc);
        return NULL;
    }
    if (methods != NULL)
        json_object_set_new(doc, "methods", split(methods, ","));
    if (strip)
        json_object_set_new(doc, "strip_prefix", json_true());
    return doc;
}

static int load(struct db *db, const char *name, json_t **doc, uint64_t *id, uint64_t *department_id)
{
    struct db_result *res = db_query(db, 0, COLUMNS "WHERE r.name = ?", DB_ARGS(db_text(name)));
    return admin_rows_first(res, row_doc, doc, id, department_id);
}

static int list(struct db *db, const struct admin_list_query *q, json_t *items, uint64_t *last_id)
{
    struct db_result *res = db_query(
        db, 0, COLUMNS "WHERE r.id > ? AND (? = 0 OR s.department_id = ?) AND (? IS NULL OR s.name = ?) ORDER BY r.id LIMIT ?",
        DB_ARGS(db_uint(q->after_id), db_uint(q->department_id), db_uint(q->department_id), db_text(q->service),
                db_text(q->service), db_uint(q->limit)));
    return admin_rows_append(res, row_doc, items, last_id);
}

/* ---- checks ---- */

static int resolve_service(struct db *db, const json_t *doc, struct admin_refs *refs, struct problem_list *problems)
{
    const char *service = admin_doc_string(doc, "service");
    struct db_result *res = db_query(db, 0, "SELECT id, department_id FROM services WHERE name = ?", DB_ARGS(db_text(service)));
    int row = res != NULL ? db_result_next(res) : -1;
    if (row < 0 || (row == 1 && (db_result_uint64(res, 0, &refs->ids[0]) != DB_GET_OK ||
                                 db_result_uint64(res, 1, &refs->department_id) != DB_GET_OK)))
        return -1;
    if (row == 0)
        problem_list_add(problems, "/service", "unknown service '%s'", service);
    return 0;
}

static int resolve_rate_policy(struct db *db, const json_t *doc, struct admin_refs *refs, struct problem_list *problems)
{
    const char *policy = admin_doc_string(doc, "rate_policy");
    uint64_t owner = 0;
    refs->ids[1] = 0;
    if (policy == NULL)
        return 0;
    struct db_result *res =
        db_query(db, 0, "SELECT id, IFNULL(department_id, 0) FROM rate_policies WHERE name = ?", DB_ARGS(db_text(policy)));
    int row = res != NULL ? db_result_next(res) : -1;
    if (row < 0 ||
        (row == 1 && (db_result_uint64(res, 0, &refs->ids[1]) != DB_GET_OK || db_result_uint64(res, 1, &owner) != DB_GET_OK)))
        return -1;
    if (row == 0 || (owner != 0 && owner != refs->department_id))
        problem_list_add(problems, "/rate_policy",
                         "unknown rate policy '%s' (it must be the route's department's or platform-wide)", policy);
    return 0;
}

static int resolve_scopes(struct db *db, const json_t *doc, struct admin_refs *refs, struct problem_list *problems)
{
    const json_t *scopes = json_object_get(json_object_get(doc, "auth"), "scopes");
    size_t i;
    const json_t *scope;
    refs->scope_ids = calloc(json_array_size(scopes) + 1, sizeof(uint64_t));
    if (refs->scope_ids == NULL)
        return -1;
    json_array_foreach(scopes, i, scope)
    {
        uint64_t id = 0;
        int found = admin_find_id(db, "SELECT id FROM scopes WHERE name = ?", json_string_value(scope), &id);
        if (found < 0)
            return -1;
        if (found == 0) {
            char *pointer = json_pointer_append_index("/auth/scopes", i);
            problem_list_add(problems, pointer, "unknown scope '%s'", json_string_value(scope));
            free(pointer);
        }
        refs->scope_ids[refs->num_scope_ids++] = id;
    }
    return 0;
}

static int check_namespace(struct db *db, const json_t *doc, uint64_t department_id, struct problem_list *problems)
{
    const char *host = admin_doc_string(doc, "host"), *prefix = admin_doc_string(doc, "path_prefix");
    struct db_result *res =
        db_query(db, 0,
                 "SELECT COUNT(*) FROM route_namespaces WHERE department_id = ? AND (host_key = '' OR host_key = ?) AND "
                 "(prefix_key = '' OR prefix_key = LOWER(TRIM(TRAILING '/' FROM ?)) OR "
                 "LEFT(LOWER(TRIM(TRAILING '/' FROM ?)), CHAR_LENGTH(prefix_key) + 1) = CONCAT(prefix_key, '/'))",
                 DB_ARGS(db_uint(department_id), db_text(host != NULL ? host : ""), db_text(prefix), db_text(prefix)));
    uint64_t n = 0;
    if (res == NULL || db_result_next(res) != 1 || db_result_uint64(res, 0, &n) != DB_GET_OK)
        return -1;
    if (n == 0)
        problem_list_add(problems, "/path_prefix", "%s%s is outside your department's route namespaces", host != NULL ? host : "",
                         prefix);
    return 0;
}

static unsigned doc_methods(const json_t *doc)
{
    const json_t *methods = json_object_get(doc, "methods"), *m;
    size_t i;
    if (methods == NULL)
        return ALL_METHODS;
    unsigned mask = 0;
    json_array_foreach(methods, i, m)
    {
        mask |= method_bit(json_string_value(m), json_string_length(m));
    }
    return mask;
}

static int check_overlap(struct db *db, uint64_t id, const json_t *doc, struct problem_list *problems)
{
    const char *host = admin_doc_string(doc, "host"), *prefix = admin_doc_string(doc, "path_prefix");
    struct db_result *res = db_query(db, 0,
                                     "SELECT name, methods FROM routes WHERE host_key = ? AND prefix_key = LOWER(TRIM(TRAILING '/' "
                                     "FROM ?)) AND id <> ? ORDER BY name",
                                     DB_ARGS(db_text(host != NULL ? host : ""), db_text(prefix), db_uint(id)));
    if (res == NULL)
        return -1;
    unsigned mine = served(doc_methods(doc));
    int row;
    while ((row = db_result_next(res)) == 1) {
        const char *name = NULL, *methods = NULL;
        if (db_result_text(res, 0, &name, NULL) != DB_GET_OK || db_result_text(res, 1, &methods, NULL) == DB_GET_ERROR)
            return -1;
        if (mine & served(set_mask(methods)))
            problem_list_add(problems, "/path_prefix",
                             "route '%s' already serves a method of this route on the same host and path prefix", name);
    }
    return row;
}

static int resolve(struct db *db, const struct admin_call *call, uint64_t id, const json_t *doc, struct admin_refs *refs,
                   struct problem_list *problems)
{
    if (admin_loader_check_route(doc, call->node_max_body_bytes, problems) != 0 || resolve_service(db, doc, refs, problems) != 0 ||
        resolve_rate_policy(db, doc, refs, problems) != 0 || resolve_scopes(db, doc, refs, problems) != 0)
        return -1;
    if (call->who.role == ADMIN_ROLE_DEPARTMENT_ADMIN && refs->department_id == call->who.department_id &&
        check_namespace(db, doc, refs->department_id, problems) != 0)
        return -1;
    return check_overlap(db, id, doc, problems);
}

/* ---- writing ---- */

/* The methods member as SET text ("GET,POST"), or NULL for all. */
static char *methods_text(const json_t *doc)
{
    const json_t *methods = json_object_get(doc, "methods"), *m;
    if (methods == NULL)
        return NULL;
    struct strbuf sb = STRBUF_INIT;
    size_t i;
    json_array_foreach(methods, i, m)
    {
        strbuf_appendf(&sb, "%s%s", i ? "," : "", json_string_value(m));
    }
    return strbuf_detach(&sb, NULL);
}

static int store_scopes(struct db *db, uint64_t id, const struct admin_refs *refs)
{
    if (db_exec(db, 0, "DELETE FROM route_scopes WHERE route_id = ?", DB_ARGS(db_uint(id))) != 0)
        return -1;
    for (size_t i = 0; i < refs->num_scope_ids; i++) {
        if (db_exec(db, 0, "INSERT IGNORE INTO route_scopes (route_id, scope_id) VALUES (?, ?)",
                    DB_ARGS(db_uint(id), db_uint(refs->scope_ids[i]))) != 0)
            return -1;
    }
    return 0;
}

static int store(struct db *db, uint64_t id, const json_t *doc, const struct admin_refs *refs, uint64_t version, uint64_t *new_id)
{
    const json_t *auth = json_object_get(doc, "auth"), *max_body = json_object_get(doc, "max_body_bytes");
    const char *policy = json_string_value(json_object_get(auth, "policy"));
    char *methods = methods_text(doc);
    struct db_param params[] = {
        db_text(admin_doc_string(doc, "name")),
        db_text(admin_doc_string(doc, "host")),
        db_text(admin_doc_string(doc, "path_prefix")),
        db_text(methods),
        db_uint(refs->ids[0]),
        db_int(json_is_true(json_object_get(doc, "strip_prefix"))),
        max_body != NULL ? db_uint((uint64_t)json_integer_value(max_body)) : db_null(),
        db_text(policy != NULL ? policy : "public"),
        db_int(json_integer_value(json_object_get(auth, "min_acr"))),
        db_int(json_is_true(json_object_get(auth, "forward_authorization"))),
        refs->ids[1] != 0 ? db_uint(refs->ids[1]) : db_null(),
        db_uint(version),
        db_uint(id),
    };
    int rc;
    if (id == 0) {
        rc = db_exec(db, 0,
                     "INSERT INTO routes (name, host, path_prefix, methods, service_id, strip_prefix, max_body_bytes, auth_policy, "
                     "min_acr, forward_authorization, rate_policy_id, version) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                     params, 12);
        *new_id = db_insert_id(db);
        id = *new_id;
    } else {
        rc = db_exec(db, 0,
                     "UPDATE routes SET name = ?, host = ?, path_prefix = ?, methods = ?, service_id = ?, strip_prefix = ?, "
                     "max_body_bytes = ?, auth_policy = ?, min_acr = ?, forward_authorization = ?, rate_policy_id = ?, version = ? "
                     "WHERE id = ?",
                     params, 13);
    }
    free(methods);
    return rc == 0 ? store_scopes(db, id, refs) : -1;
}

static int remove_row(struct db *db, uint64_t id, const char *key)
{
    (void)key;
    return db_exec(db, 0, "DELETE FROM routes WHERE id = ?", DB_ARGS(db_uint(id)));
}

const struct admin_entity admin_routes = {
    .collection = "routes",
    .type = "route",
    .schema_file = "route.schema.json",
    .department_writes = 1,
    .load = load,
    .list = list,
    .resolve = resolve,
    .store = store,
    .remove = remove_row,
    .referrers = NULL,
};
