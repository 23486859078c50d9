#include "common/registry_write.h"

#include <stdlib.h>

#include "common/json_diff.h"

const char *const registry_read_only_members[] = {"id", "version", "created_at", "updated_at", NULL};

int registry_write_begin(struct db *db, uint64_t *version)
{
    if (db_begin(db) != 0)
        return -1;
    /* first statement: the row lock orders all registry writers (docs/registry.md §3) */
    if (db_exec(db, 0, "UPDATE registry_version SET version = LAST_INSERT_ID(version + 1) WHERE id = 1", DB_NO_ARGS) != 0)
        goto fail;
    struct db_result *res = db_query(db, 0, "SELECT LAST_INSERT_ID()", DB_NO_ARGS);
    if (res == NULL || db_result_next(res) != 1 || db_result_uint64(res, 0, version) != DB_GET_OK)
        goto fail;
    return 0;
fail:
    db_rollback(db);
    return -1;
}

/* A diff side as compact JSON text, or NULL (SQL NULL) for none. */
static char *dump_side(const json_t *side)
{
    return side != NULL ? json_dumps(side, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
}

int registry_audit_append(struct db *db, uint64_t version, const struct registry_audit *a)
{
    json_t *before = NULL, *after = NULL;
    json_diff_top_level(a->before, a->after, registry_read_only_members, &before, &after);
    char *before_text = dump_side(before), *after_text = dump_side(after);
    int rc =
        db_exec(db, 0,
                "INSERT INTO audit_log (registry_version, actor, actor_role, action, entity_type, entity_key, department_id, "
                "diff_before, diff_after, request_id, source_address) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                DB_ARGS(db_uint(version), db_text(a->actor), db_text(a->actor_role), db_text(a->action), db_text(a->entity_type),
                        db_text(a->entity_key), a->department_id != 0 ? db_uint(a->department_id) : db_null(), db_text(before_text),
                        db_text(after_text), db_text(a->request_id ? a->request_id : ""),
                        db_text(a->source_address ? a->source_address : "")));
    free(before_text);
    free(after_text);
    json_decref(before);
    json_decref(after);
    return rc;
}
