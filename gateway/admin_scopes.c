/*
 * admin_scopes.c — /admin/v1/scopes (admin_entity.h).
 *
 * A scope belongs to the department whose data it opens. The OpenID Connect
 * scopes are built in (docs/registry.md §2) and cannot be registered.
 */
#include <string.h>

#include "gateway/admin_entity.h"

#define COLUMNS                                                                                                                    \
    "SELECT s.id, s.department_id, s.name, d.name, s.display_name, s.description, s.third_party, s.version, s.created_at, "        \
    "s.updated_at "                                                                                                                \
    "FROM scopes s JOIN departments d ON d.id = s.department_id "

static int put_bool(json_t *doc, const char *key, struct db_result *res, size_t col)
{
    int value = 0;
    if (db_result_int(res, col, &value) != DB_GET_OK)
        return -1;
    json_object_set_new(doc, key, json_boolean(value));
    return 0;
}

static json_t *row_doc(struct db_result *res)
{
    json_t *doc = json_object();
    if (admin_put_text(doc, "name", res, 2) != 0 || admin_put_text(doc, "department", res, 3) != 0 ||
        admin_put_text(doc, "display_name", res, 4) != 0 || admin_put_text(doc, "description", res, 5) != 0 ||
        put_bool(doc, "third_party", res, 6) != 0 || admin_put_read_only(doc, res, 7) != 0) {
        json_decref(doc);
        return NULL;
    }
    return doc;
}

static int load(struct db *db, const char *name, json_t **doc, uint64_t *id, uint64_t *department_id)
{
    struct db_result *res = db_query(db, 0, COLUMNS "WHERE s.name = ?", DB_ARGS(db_text(name)));
    return admin_rows_first(res, row_doc, doc, id, department_id);
}

static int list(struct db *db, const struct admin_list_query *q, json_t *items, uint64_t *last_id)
{
    struct db_result *res =
        db_query(db, 0, COLUMNS "WHERE s.id > ? AND (? = 0 OR s.department_id = ?) ORDER BY s.id LIMIT ?",
                 DB_ARGS(db_uint(q->after_id), db_uint(q->department_id), db_uint(q->department_id), db_uint(q->limit)));
    return admin_rows_append(res, row_doc, items, last_id);
}

static int resolve(struct db *db, const struct admin_call *call, uint64_t id, const json_t *doc, struct admin_refs *refs,
                   struct problem_list *problems)
{
    (void)call, (void)id;
    static const char *const built_in[] = {"openid", "profile", "phone", "email", "offline_access"};
    const char *name = admin_doc_string(doc, "name");
    for (size_t i = 0; i < sizeof(built_in) / sizeof(built_in[0]); i++) {
        if (strcmp(name, built_in[i]) == 0)
            problem_list_add(problems, "/name", "'%s' is a built-in OpenID Connect scope", name);
    }
    return admin_resolve_department(db, admin_doc_string(doc, "department"), "/department", &refs->department_id, problems);
}

static int store(struct db *db, uint64_t id, const json_t *doc, const struct admin_refs *refs, uint64_t version, uint64_t *new_id)
{
    const char *name = admin_doc_string(doc, "name"), *display = admin_doc_string(doc, "display_name"),
               *description = admin_doc_string(doc, "description");
    if (description == NULL)
        description = "";
    /* Absent means the schema's default, false: a scope is internal until its department opens it. */
    int third_party = json_is_true(json_object_get(doc, "third_party"));
    if (id == 0) {
        int rc = db_exec(db, 0,
                         "INSERT INTO scopes (name, department_id, display_name, description, third_party, version) "
                         "VALUES (?, ?, ?, ?, ?, ?)",
                         DB_ARGS(db_text(name), db_uint(refs->department_id), db_text(display), db_text(description),
                                 db_int(third_party), db_uint(version)));
        *new_id = db_insert_id(db);
        return rc;
    }
    return db_exec(db, 0,
                   "UPDATE scopes SET name = ?, department_id = ?, display_name = ?, description = ?, third_party = ?, version = ? "
                   "WHERE id = ?",
                   DB_ARGS(db_text(name), db_uint(refs->department_id), db_text(display), db_text(description), db_int(third_party),
                           db_uint(version), db_uint(id)));
}

static int remove_row(struct db *db, uint64_t id, const char *key)
{
    (void)key;
    return db_exec(db, 0, "DELETE FROM scopes WHERE id = ?", DB_ARGS(db_uint(id)));
}

static int referrers(struct db *db, uint64_t id, struct strbuf *out)
{
    struct db_result *res =
        db_query(db, 0,
                 "SELECT 'route', r.name FROM route_scopes rs JOIN routes r ON r.id = rs.route_id WHERE rs.scope_id = ? "
                 "ORDER BY r.name LIMIT 20",
                 DB_ARGS(db_uint(id)));
    return admin_rows_append_referrers(res, out);
}

const struct admin_entity admin_scopes = {
    .collection = "scopes",
    .type = "scope",
    .schema_file = "scope.schema.json",
    .department_writes = 1,
    .load = load,
    .list = list,
    .resolve = resolve,
    .store = store,
    .remove = remove_row,
    .referrers = referrers,
};
