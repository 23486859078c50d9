/*
 * admin_audit_log.c — GET /admin/v1/audit-log (docs/registry.md §6).
 *
 * Read only: the API has no statement that changes audit_log. Platform
 * admins and auditors read every row, department admins the rows whose
 * department_id is theirs, operators none. Filters: entity_type, entity_key,
 * actor, since (a UTC time, inclusive) and department; pages by id like every
 * list.
 */
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/xalloc.h"
#include "gateway/admin_entity.h"

static int put_json(json_t *doc, const char *key, struct db_result *res, size_t col)
{
    const char *text = NULL;
    size_t len = 0;
    enum db_get got = db_result_text(res, col, &text, &len);
    if (got == DB_GET_ERROR)
        return -1;
    json_t *value = got == DB_GET_OK ? json_loadb(text, len, JSON_DECODE_ANY, NULL) : json_null();
    if (value == NULL)
        return -1;
    json_object_set_new(doc, key, value);
    return 0;
}

static json_t *row_doc(struct db_result *res)
{
    json_t *doc = json_object();
    static const char *const text_members[] = {NULL,     NULL,          NULL,         "actor",     "actor_role",
                                               "action", "entity_type", "entity_key", "department"};
    if (admin_put_uint(doc, "id", res, 0) != 0 || admin_put_uint(doc, "registry_version", res, 1) != 0 ||
        admin_put_time(doc, "occurred_at", res, 2) != 0)
        goto fail;
    for (size_t col = 3; col < sizeof(text_members) / sizeof(text_members[0]); col++) {
        if (admin_put_text(doc, text_members[col], res, col) != 0)
            goto fail;
    }
    if (put_json(doc, "before", res, 9) != 0 || put_json(doc, "after", res, 10) != 0 ||
        admin_put_text(doc, "request_id", res, 11) != 0 || admin_put_text(doc, "source_address", res, 12) != 0)
        goto fail;
    return doc;
fail:
    json_decref(doc);
    return NULL;
}

static int query(struct db *db, const struct admin_call *call, uint64_t department_id, const char *since, json_t *items,
                 uint64_t *last_id)
{
    struct db_result *res = db_query(
        db, 0,
        "SELECT a.id, a.registry_version, a.occurred_at, a.actor, a.actor_role, a.action, a.entity_type, a.entity_key, d.name, "
        "a.diff_before, a.diff_after, a.request_id, a.source_address FROM audit_log a LEFT JOIN departments d ON "
        "d.id = a.department_id WHERE a.id > ? AND (? = 0 OR a.department_id = ?) AND (? IS NULL OR a.entity_type = ?) AND "
        "(? IS NULL OR a.entity_key = ?) AND (? IS NULL OR a.actor = ?) AND (? IS NULL OR a.occurred_at >= ?) ORDER BY a.id "
        "LIMIT ?",
        DB_ARGS(db_uint(call->after_id), db_uint(department_id), db_uint(department_id), db_text(call->filter_entity_type),
                db_text(call->filter_entity_type), db_text(call->filter_entity_key), db_text(call->filter_entity_key),
                db_text(call->filter_actor), db_text(call->filter_actor), db_text(since), db_text(since), db_uint(call->limit)));
    return admin_rows_append(res, row_doc, items, last_id);
}

/* The department the rows are limited to (0 = all), or -1: nothing may be shown, 1 on a db error. */
static int department_scope(struct db *db, const struct admin_call *call, uint64_t *department_id)
{
    *department_id = call->who.role == ADMIN_ROLE_DEPARTMENT_ADMIN ? call->who.department_id : 0;
    if (call->filter_department == NULL)
        return 0;
    uint64_t wanted = 0;
    int found = admin_find_id(db, "SELECT id FROM departments WHERE name = ?", call->filter_department, &wanted);
    if (found < 0)
        return 1;
    if (found == 0 || (*department_id != 0 && wanted != *department_id))
        return -1;
    *department_id = wanted;
    return 0;
}

void admin_audit_log_run(struct db *db, const struct admin_call *call, struct admin_reply *reply)
{
    char since[32];
    uint64_t department_id = 0, last_id = 0;
    if (call->name != NULL) {
        reply->error = GW_ERR_NOT_FOUND;
        return;
    }
    if (call->method != ADMIN_GET) {
        reply->error = GW_ERR_METHOD_NOT_ALLOWED;
        return;
    }
    if (call->who.role == ADMIN_ROLE_OPERATOR) {
        reply->error = GW_ERR_ADMIN_FORBIDDEN;
        return;
    }
    if (call->cursor_is_key || (call->filter_since != NULL && admin_time_to_sql(call->filter_since, since) != 0)) {
        reply->error = GW_ERR_INVALID_QUERY;
        reply->detail = xstrdup(call->cursor_is_key ? "cursor is not one of this list's."
                                                    : "since must be a UTC time such as 2026-11-25T19:09:56Z.");
        return;
    }
    json_t *items = json_array();
    int scope = department_scope(db, call, &department_id);
    if (scope > 0 ||
        (scope == 0 && query(db, call, department_id, call->filter_since != NULL ? since : NULL, items, &last_id) != 0)) {
        log_error("admin API: audit log: %s", db_error(db));
        json_decref(items);
        reply->error = GW_ERR_INTERNAL;
        return;
    }
    char cursor[ADMIN_CURSOR_BUFSIZE];
    admin_cursor_from_id(last_id, cursor);
    reply->error = -1;
    reply->status = 200;
    reply->body = json_pack("{s:o, s:o}", "items", items, "next_cursor",
                            json_array_size(items) == call->limit ? json_string(cursor) : json_null());
}
