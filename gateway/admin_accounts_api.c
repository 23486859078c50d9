/*
 * admin_accounts_api.c — /admin/v1/admin-accounts (admin_entity.h).
 *
 * Platform admins manage accounts; auditors read them all; department admins
 * and operators read only their own account (docs/registry.md §6). Tokens
 * are not part of the document: they live under the account
 * (admin_tokens_api.c). Deleting an account deletes its tokens (the foreign
 * key cascades); the audit log keeps its name.
 */
#include "gateway/admin_entity.h"

#define COLUMNS                                                                                                                    \
    "SELECT a.id, IFNULL(a.department_id, 0), a.name, a.display_name, a.role, d.name, a.status, a.version, a.created_at, "         \
    "a.updated_at FROM admin_accounts a LEFT JOIN departments d ON d.id = a.department_id "

static json_t *row_doc(struct db_result *res)
{
    json_t *doc = json_object();
    if (admin_put_text(doc, "name", res, 2) != 0 || admin_put_text(doc, "display_name", res, 3) != 0 ||
        admin_put_text(doc, "role", res, 4) != 0 || admin_put_text(doc, "department", res, 5) != 0 ||
        admin_put_text(doc, "status", res, 6) != 0 || admin_put_read_only(doc, res, 7) != 0) {
        json_decref(doc);
        return NULL;
    }
    return doc;
}

static int load(struct db *db, const char *name, json_t **doc, uint64_t *id, uint64_t *department_id)
{
    struct db_result *res = db_query(db, 0, COLUMNS "WHERE a.name = ?", DB_ARGS(db_text(name)));
    return admin_rows_first(res, row_doc, doc, id, department_id);
}

static int list(struct db *db, const struct admin_list_query *q, json_t *items, uint64_t *last_id)
{
    struct db_result *res =
        db_query(db, 0, COLUMNS "WHERE a.id > ? AND (? = 0 OR a.department_id = ?) AND (? = 0 OR a.id = ?) ORDER BY a.id LIMIT ?",
                 DB_ARGS(db_uint(q->after_id), db_uint(q->department_id), db_uint(q->department_id), db_uint(q->only_id),
                         db_uint(q->only_id), db_uint(q->limit)));
    return admin_rows_append(res, row_doc, items, last_id);
}

static int resolve(struct db *db, const struct admin_call *call, uint64_t id, const json_t *doc, struct admin_refs *refs,
                   struct problem_list *problems)
{
    (void)call, (void)id;
    const char *department = admin_doc_string(doc, "department");
    refs->department_id = 0;
    if (department == NULL) /* the schema requires it for department admins and refuses it for the others */
        return 0;
    return admin_resolve_department(db, department, "/department", &refs->department_id, problems);
}

static int store(struct db *db, uint64_t id, const json_t *doc, const struct admin_refs *refs, uint64_t version, uint64_t *new_id)
{
    const char *display = admin_doc_string(doc, "display_name"), *status = admin_doc_string(doc, "status");
    struct db_param params[] = {
        db_text(admin_doc_string(doc, "name")),
        db_text(display != NULL ? display : ""),
        db_text(admin_doc_string(doc, "role")),
        refs->department_id != 0 ? db_uint(refs->department_id) : db_null(),
        db_text(status != NULL ? status : "active"),
        db_uint(version),
        db_uint(id),
    };
    if (id != 0)
        return db_exec(db, 0,
                       "UPDATE admin_accounts SET name = ?, display_name = ?, role = ?, department_id = ?, status = ?, version = ? "
                       "WHERE id = ?",
                       params, 7);
    int rc = db_exec(
        db, 0, "INSERT INTO admin_accounts (name, display_name, role, department_id, status, version) VALUES (?, ?, ?, ?, ?, ?)",
        params, 6);
    *new_id = db_insert_id(db);
    return rc;
}

static int remove_row(struct db *db, uint64_t id, const char *key)
{
    (void)key;
    return db_exec(db, 0, "DELETE FROM admin_accounts WHERE id = ?", DB_ARGS(db_uint(id)));
}

const struct admin_entity admin_accounts = {
    .collection = "admin-accounts",
    .type = "admin_account",
    .schema_file = "admin_account.schema.json",
    .department_writes = 0,
    .self_readable = 1,
    .load = load,
    .list = list,
    .resolve = resolve,
    .store = store,
    .remove = remove_row,
    .referrers = NULL,
};
