/*
 * admin_rate_policies.c — /admin/v1/rate-policies (admin_entity.h).
 *
 * A token bucket routes refer to. Without a department it is platform-wide:
 * only platform admins write those, and department admins read them, since
 * their routes may use them (docs/registry.md §6). The row stores the
 * schema's defaults (per_s 1, burst = requests, key_by client_ip), so a read
 * shows the policy as it applies.
 */
#include <string.h>

#include "gateway/admin_entity.h"

#define COLUMNS                                                                                                                    \
    "SELECT p.id, IFNULL(p.department_id, 0), p.name, d.name, p.description, p.requests, p.per_s, p.burst, p.key_by, "             \
    "p.version, p.created_at, p.updated_at FROM rate_policies p LEFT JOIN departments d ON d.id = p.department_id "

static json_t *row_doc(struct db_result *res)
{
    json_t *doc = json_object();
    if (admin_put_text(doc, "name", res, 2) != 0 || admin_put_text(doc, "department", res, 3) != 0 ||
        admin_put_text(doc, "description", res, 4) != 0 || admin_put_uint(doc, "requests", res, 5) != 0 ||
        admin_put_uint(doc, "per_s", res, 6) != 0 || admin_put_uint(doc, "burst", res, 7) != 0 ||
        admin_put_text(doc, "key_by", res, 8) != 0 || admin_put_read_only(doc, res, 9) != 0) {
        json_decref(doc);
        return NULL;
    }
    return doc;
}

static int load(struct db *db, const char *name, json_t **doc, uint64_t *id, uint64_t *department_id)
{
    struct db_result *res = db_query(db, 0, COLUMNS "WHERE p.name = ?", DB_ARGS(db_text(name)));
    return admin_rows_first(res, row_doc, doc, id, department_id);
}

static int list(struct db *db, const struct admin_list_query *q, json_t *items, uint64_t *last_id)
{
    struct db_result *res = db_query(
        db, 0, COLUMNS "WHERE p.id > ? AND (? = 0 OR p.department_id = ? OR (? AND p.department_id IS NULL)) ORDER BY p.id LIMIT ?",
        DB_ARGS(db_uint(q->after_id), db_uint(q->department_id), db_uint(q->department_id), db_int(q->with_platform_wide),
                db_uint(q->limit)));
    return admin_rows_append(res, row_doc, items, last_id);
}

static int resolve(struct db *db, const struct admin_call *call, uint64_t id, const json_t *doc, struct admin_refs *refs,
                   struct problem_list *problems)
{
    (void)call, (void)id;
    const char *department = admin_doc_string(doc, "department");
    refs->department_id = 0;
    if (department == NULL)
        return 0;
    return admin_resolve_department(db, department, "/department", &refs->department_id, problems);
}

static uint64_t member_or(const json_t *doc, const char *key, uint64_t fallback)
{
    const json_t *value = json_object_get(doc, key);
    return value != NULL ? (uint64_t)json_integer_value(value) : fallback;
}

static int store(struct db *db, uint64_t id, const json_t *doc, const struct admin_refs *refs, uint64_t version, uint64_t *new_id)
{
    uint64_t requests = member_or(doc, "requests", 1);
    const char *description = admin_doc_string(doc, "description"), *key_by = admin_doc_string(doc, "key_by");
    struct db_param params[] = {
        db_text(admin_doc_string(doc, "name")),
        refs->department_id != 0 ? db_uint(refs->department_id) : db_null(),
        db_text(description != NULL ? description : ""),
        db_uint(requests),
        db_uint(member_or(doc, "per_s", 1)),
        db_uint(member_or(doc, "burst", requests)),
        db_text(key_by != NULL ? key_by : "client_ip"),
        db_uint(version),
        db_uint(id),
    };
    if (id != 0)
        return db_exec(db, 0,
                       "UPDATE rate_policies SET name = ?, department_id = ?, description = ?, requests = ?, per_s = ?, burst = ?, "
                       "key_by = ?, version = ? WHERE id = ?",
                       params, 9);
    int rc = db_exec(db, 0,
                     "INSERT INTO rate_policies (name, department_id, description, requests, per_s, burst, key_by, version) "
                     "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                     params, 8);
    *new_id = db_insert_id(db);
    return rc;
}

static int remove_row(struct db *db, uint64_t id, const char *key)
{
    (void)key;
    return db_exec(db, 0, "DELETE FROM rate_policies WHERE id = ?", DB_ARGS(db_uint(id)));
}

static int referrers(struct db *db, uint64_t id, struct strbuf *out)
{
    struct db_result *res =
        db_query(db, 0, "SELECT 'route', name FROM routes WHERE rate_policy_id = ? ORDER BY name LIMIT 20", DB_ARGS(db_uint(id)));
    return admin_rows_append_referrers(res, out);
}

const struct admin_entity admin_rate_policies = {
    .collection = "rate-policies",
    .type = "rate_policy",
    .schema_file = "rate_policy.schema.json",
    .department_writes = 1,
    .platform_wide = 1,
    .load = load,
    .list = list,
    .resolve = resolve,
    .store = store,
    .remove = remove_row,
    .referrers = referrers,
};
