/*
 * admin_departments.c — /admin/v1/departments (admin_entity.h).
 *
 * The hierarchy rules the database cannot check (docs/registry.md §2): a
 * parent's region contains the child's (the same code, or a code that starts
 * with the parent's code once its trailing "00"/"0000" is removed; 100000,
 * national, contains every region), and parents form no cycle. A change of
 * region must keep every child contained, too.
 */
#include <string.h>

#include "gateway/admin_entity.h"

#define COLUMNS                                                                                                                    \
    "SELECT d.id, d.name, d.display_name, d.region_code, p.name, d.version, d.created_at, d.updated_at FROM departments d "        \
    "LEFT JOIN departments p ON p.id = d.parent_id "

static json_t *row_doc(struct db_result *res)
{
    json_t *doc = json_object();
    if (admin_put_text(doc, "name", res, 1) != 0 || admin_put_text(doc, "display_name", res, 2) != 0 ||
        admin_put_text(doc, "region_code", res, 3) != 0 || admin_put_text(doc, "parent", res, 4) != 0 ||
        admin_put_read_only(doc, res, 5) != 0) {
        json_decref(doc);
        return NULL;
    }
    return doc;
}

static int load(struct db *db, const char *name, json_t **doc, uint64_t *id, uint64_t *department_id)
{
    struct db_result *res = db_query(db, 0, COLUMNS "WHERE d.name = ?", DB_ARGS(db_text(name)));
    int row = admin_rows_first(res, row_doc, doc, id, NULL);
    if (row == 1)
        *department_id = *id; /* a department is its own: a department admin reads theirs */
    return row;
}

static int list(struct db *db, const struct admin_list_query *q, json_t *items, uint64_t *last_id)
{
    struct db_result *res =
        db_query(db, 0, COLUMNS "WHERE d.id > ? AND (? = 0 OR d.id = ?) ORDER BY d.id LIMIT ?",
                 DB_ARGS(db_uint(q->after_id), db_uint(q->department_id), db_uint(q->department_id), db_uint(q->limit)));
    return admin_rows_append(res, row_doc, items, last_id);
}

/* Whether region `child` lies within region `parent` (GB/T 2260 prefixes). */
static int region_contains(const char *parent, const char *child)
{
    if (strcmp(parent, "100000") == 0 || strcmp(parent, child) == 0)
        return 1;
    size_t prefix = strcmp(parent + 2, "0000") == 0 ? 2 : strcmp(parent + 4, "00") == 0 ? 4 : 6;
    return prefix < 6 && strncmp(parent, child, prefix) == 0;
}

/* The parent's id and region; adds a problem when it is unknown, not containing, or would close a cycle. */
static int check_parent(struct db *db, uint64_t self, const char *parent, const char *region, uint64_t *parent_id,
                        struct problem_list *problems)
{
    struct db_result *res = db_query(db, 0, "SELECT id, region_code FROM departments WHERE name = ?", DB_ARGS(db_text(parent)));
    int row = res != NULL ? db_result_next(res) : -1;
    char parent_region[8];
    if (row < 0 || (row == 1 && (db_result_uint64(res, 0, parent_id) != DB_GET_OK ||
                                 db_result_text_copy(res, 1, parent_region, sizeof(parent_region)) != DB_GET_OK)))
        return -1;
    if (row == 0) {
        problem_list_add(problems, "/parent", "unknown department '%s'", parent);
        return 0;
    }
    if (!region_contains(parent_region, region))
        problem_list_add(problems, "/region_code", "region %s is not within the parent's region %s", region, parent_region);
    /* walk up from the parent: meeting ourselves means the new parent is our descendant */
    for (uint64_t at = *parent_id, hops = 0; at != 0 && hops < 64; hops++) {
        if (at == self) {
            problem_list_add(problems, "/parent", "department '%s' is below this one: parents may not form a cycle", parent);
            break;
        }
        res = db_query(db, 0, "SELECT IFNULL(parent_id, 0) FROM departments WHERE id = ?", DB_ARGS(db_uint(at)));
        if (res == NULL || db_result_next(res) != 1 || db_result_uint64(res, 0, &at) != DB_GET_OK)
            return -1;
    }
    return 0;
}

/* Every child of `self` must stay within the (possibly new) region. */
static int check_children(struct db *db, uint64_t self, const char *region, struct problem_list *problems)
{
    struct db_result *res =
        db_query(db, 0, "SELECT name, region_code FROM departments WHERE parent_id = ? ORDER BY name", DB_ARGS(db_uint(self)));
    if (res == NULL)
        return -1;
    int row;
    while ((row = db_result_next(res)) == 1) {
        const char *name = NULL, *child_region = NULL;
        if (db_result_text(res, 0, &name, NULL) != DB_GET_OK || db_result_text(res, 1, &child_region, NULL) != DB_GET_OK)
            return -1;
        if (!region_contains(region, child_region))
            problem_list_add(problems, "/region_code", "region %s does not contain the region %s of department '%s'", region,
                             child_region, name);
    }
    return row;
}

static int resolve(struct db *db, const struct admin_call *call, uint64_t id, const json_t *doc, struct admin_refs *refs,
                   struct problem_list *problems)
{
    (void)call;
    const char *parent = admin_doc_string(doc, "parent"), *region = admin_doc_string(doc, "region_code");
    refs->department_id = id;
    refs->ids[0] = 0;
    if (parent != NULL && check_parent(db, id, parent, region, &refs->ids[0], problems) != 0)
        return -1;
    if (id != 0 && check_children(db, id, region, problems) != 0)
        return -1;
    return 0;
}

static int store(struct db *db, uint64_t id, const json_t *doc, const struct admin_refs *refs, uint64_t version, uint64_t *new_id)
{
    struct db_param parent = refs->ids[0] != 0 ? db_uint(refs->ids[0]) : db_null();
    const char *name = admin_doc_string(doc, "name"), *display = admin_doc_string(doc, "display_name"),
               *region = admin_doc_string(doc, "region_code");
    int rc;
    if (id == 0) {
        rc = db_exec(db, 0, "INSERT INTO departments (name, display_name, region_code, parent_id, version) VALUES (?, ?, ?, ?, ?)",
                     DB_ARGS(db_text(name), db_text(display), db_text(region), parent, db_uint(version)));
        *new_id = db_insert_id(db);
    } else {
        rc = db_exec(db, 0,
                     "UPDATE departments SET name = ?, display_name = ?, region_code = ?, parent_id = ?, version = ? WHERE id = ?",
                     DB_ARGS(db_text(name), db_text(display), db_text(region), parent, db_uint(version), db_uint(id)));
    }
    return rc;
}

static int remove_row(struct db *db, uint64_t id, const char *key)
{
    (void)key;
    return db_exec(db, 0, "DELETE FROM departments WHERE id = ?", DB_ARGS(db_uint(id)));
}

static int referrers(struct db *db, uint64_t id, struct strbuf *out)
{
    struct db_result *res = db_query(
        db, 0,
        "(SELECT 'department', name FROM departments WHERE parent_id = ? ORDER BY name LIMIT 10) "
        "UNION ALL (SELECT 'service', name FROM services WHERE department_id = ? ORDER BY name LIMIT 10) "
        "UNION ALL (SELECT 'scope', name FROM scopes WHERE department_id = ? ORDER BY name LIMIT 10) "
        "UNION ALL (SELECT 'rate policy', name FROM rate_policies WHERE department_id = ? ORDER BY name LIMIT 10) "
        "UNION ALL (SELECT 'route namespace', CONCAT(IFNULL(host, '*'), path_prefix) FROM route_namespaces WHERE department_id = ? "
        "LIMIT 10) UNION ALL (SELECT 'admin account', name FROM admin_accounts WHERE department_id = ? ORDER BY name LIMIT 10) "
        "UNION ALL (SELECT 'client', client_id FROM oauth_clients WHERE owner_department_id = ? ORDER BY client_id LIMIT 10)",
        DB_ARGS(db_uint(id), db_uint(id), db_uint(id), db_uint(id), db_uint(id), db_uint(id), db_uint(id)));
    return admin_rows_append_referrers(res, out);
}

const struct admin_entity admin_departments = {
    .collection = "departments",
    .type = "department",
    .schema_file = "department.schema.json",
    .department_writes = 0,
    .load = load,
    .list = list,
    .resolve = resolve,
    .store = store,
    .remove = remove_row,
    .referrers = referrers,
};
