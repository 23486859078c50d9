/*
 * admin_services.c — /admin/v1/services (admin_entity.h).
 *
 * A service row keeps the document as the admin wrote it in `spec`, minus
 * name and department (docs/registry.md §2): targets, balancer, timeouts and
 * the rest, so the loader's defaults stay the loader's. The owner is the
 * named department. The loader's own rules (timeouts within total_ms, ...) run
 * on it before it is written (admin_loader_check.h).
 */
#include <stdlib.h>

#include "gateway/admin_entity.h"
#include "gateway/admin_loader_check.h"

#define COLUMNS                                                                                                                    \
    "SELECT s.id, s.department_id, s.name, d.name, s.spec, s.version, s.created_at, s.updated_at FROM services s "                 \
    "JOIN departments d ON d.id = s.department_id "

static json_t *row_doc(struct db_result *res)
{
    const char *spec = NULL;
    size_t len = 0;
    if (db_result_text(res, 4, &spec, &len) != DB_GET_OK)
        return NULL;
    json_t *doc = json_loadb(spec, len, 0, NULL);
    if (!json_is_object(doc) || admin_put_text(doc, "name", res, 2) != 0 || admin_put_text(doc, "department", res, 3) != 0 ||
        admin_put_read_only(doc, res, 5) != 0) {
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
    if (admin_loader_check_service(doc, problems) != 0)
        return -1;
    return admin_resolve_department(db, admin_doc_string(doc, "department"), "/department", &refs->department_id, problems);
}

static int store(struct db *db, uint64_t id, const json_t *doc, const struct admin_refs *refs, uint64_t version, uint64_t *new_id)
{
    json_t *spec = json_deep_copy(doc);
    json_object_del(spec, "name");
    json_object_del(spec, "department");
    char *text = json_dumps(spec, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(spec);
    if (text == NULL)
        return -1;
    const char *name = admin_doc_string(doc, "name");
    int rc;
    if (id == 0) {
        rc = db_exec(db, 0, "INSERT INTO services (name, department_id, spec, version) VALUES (?, ?, ?, ?)",
                     DB_ARGS(db_text(name), db_uint(refs->department_id), db_text(text), db_uint(version)));
        *new_id = db_insert_id(db);
    } else {
        rc = db_exec(db, 0, "UPDATE services SET name = ?, department_id = ?, spec = ?, version = ? WHERE id = ?",
                     DB_ARGS(db_text(name), db_uint(refs->department_id), db_text(text), db_uint(version), db_uint(id)));
    }
    free(text);
    return rc;
}

static int remove_row(struct db *db, uint64_t id, const char *key)
{
    (void)key;
    return db_exec(db, 0, "DELETE FROM services WHERE id = ?", DB_ARGS(db_uint(id)));
}

static int referrers(struct db *db, uint64_t id, struct strbuf *out)
{
    struct db_result *res =
        db_query(db, 0, "SELECT 'route', name FROM routes WHERE service_id = ? ORDER BY name LIMIT 20", DB_ARGS(db_uint(id)));
    return admin_rows_append_referrers(res, out);
}

const struct admin_entity admin_services = {
    .collection = "services",
    .type = "service",
    .schema_file = "service.schema.json",
    .department_writes = 1,
    .load = load,
    .list = list,
    .resolve = resolve,
    .store = store,
    .remove = remove_row,
    .referrers = referrers,
};
