/*
 * admin_route_namespaces.c — /admin/v1/route-namespaces (admin_entity.h).
 *
 * The host and path prefixes a platform admin gives a department; a
 * department admin's routes must lie inside one of their department's
 * (admin_routes.c checks). Namespaces have no name: the id the database
 * assigns is the key in URLs and audit records. Platform admins write them,
 * department admins read their own department's, auditors read all. The
 * database keeps (host, prefix) unique as the route table compares them
 * (host_key, prefix_key), which answers 409.
 */
#include <stdlib.h>

#include "gateway/admin_entity.h"

#define COLUMNS                                                                                                                    \
    "SELECT n.id, n.department_id, d.name, n.host, n.path_prefix, n.version, n.created_at FROM route_namespaces n "                \
    "JOIN departments d ON d.id = n.department_id "

static json_t *row_doc(struct db_result *res)
{
    json_t *doc = json_object();
    if (admin_put_uint(doc, "id", res, 0) != 0 || admin_put_text(doc, "department", res, 2) != 0 ||
        admin_put_text(doc, "host", res, 3) != 0 || admin_put_text(doc, "path_prefix", res, 4) != 0 ||
        admin_put_uint(doc, "version", res, 5) != 0 || admin_put_time(doc, "created_at", res, 6) != 0) {
        json_decref(doc);
        return NULL;
    }
    return doc;
}

/* The id a URL names; 0 for anything that is not one. */
static uint64_t parse_id(const char *key)
{
    char *end = NULL;
    unsigned long long id = key[0] >= '1' && key[0] <= '9' ? strtoull(key, &end, 10) : 0;
    return end != NULL && *end == '\0' ? id : 0;
}

static int load(struct db *db, const char *name, json_t **doc, uint64_t *id, uint64_t *department_id)
{
    uint64_t wanted = parse_id(name);
    if (wanted == 0)
        return 0;
    struct db_result *res = db_query(db, 0, COLUMNS "WHERE n.id = ?", DB_ARGS(db_uint(wanted)));
    return admin_rows_first(res, row_doc, doc, id, department_id);
}

static int list(struct db *db, const struct admin_list_query *q, json_t *items, uint64_t *last_id)
{
    struct db_result *res =
        db_query(db, 0, COLUMNS "WHERE n.id > ? AND (? = 0 OR n.department_id = ?) ORDER BY n.id LIMIT ?",
                 DB_ARGS(db_uint(q->after_id), db_uint(q->department_id), db_uint(q->department_id), db_uint(q->limit)));
    return admin_rows_append(res, row_doc, items, last_id);
}

static int resolve(struct db *db, const struct admin_call *call, uint64_t id, const json_t *doc, struct admin_refs *refs,
                   struct problem_list *problems)
{
    (void)call, (void)id;
    return admin_resolve_department(db, admin_doc_string(doc, "department"), "/department", &refs->department_id, problems);
}

static int store(struct db *db, uint64_t id, const json_t *doc, const struct admin_refs *refs, uint64_t version, uint64_t *new_id)
{
    const char *host = admin_doc_string(doc, "host"), *prefix = admin_doc_string(doc, "path_prefix");
    if (id != 0)
        return db_exec(db, 0, "UPDATE route_namespaces SET department_id = ?, host = ?, path_prefix = ?, version = ? WHERE id = ?",
                       DB_ARGS(db_uint(refs->department_id), db_text(host), db_text(prefix), db_uint(version), db_uint(id)));
    int rc = db_exec(db, 0, "INSERT INTO route_namespaces (department_id, host, path_prefix, version) VALUES (?, ?, ?, ?)",
                     DB_ARGS(db_uint(refs->department_id), db_text(host), db_text(prefix), db_uint(version)));
    *new_id = db_insert_id(db);
    return rc;
}

static int remove_row(struct db *db, uint64_t id, const char *key)
{
    (void)key;
    return db_exec(db, 0, "DELETE FROM route_namespaces WHERE id = ?", DB_ARGS(db_uint(id)));
}

const struct admin_entity admin_route_namespaces = {
    .collection = "route-namespaces",
    .type = "route_namespace",
    .schema_file = "route_namespace.schema.json",
    .generated_key = 1,
    .department_writes = 0,
    .load = load,
    .list = list,
    .resolve = resolve,
    .store = store,
    .remove = remove_row,
    .referrers = NULL,
};
