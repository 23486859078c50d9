/*
 * admin_rows.c — helpers the admin entity modules share to turn rows into
 * JSON documents and names into ids (admin_entity.h).
 */
#include <string.h>

#include "gateway/admin_entity.h"

int admin_put_text(json_t *doc, const char *key, struct db_result *res, size_t col)
{
    const char *text = NULL;
    size_t len = 0;
    enum db_get got = db_result_text(res, col, &text, &len);
    if (got == DB_GET_ERROR)
        return -1;
    if (got == DB_GET_OK)
        json_object_set_new(doc, key, json_stringn(text, len));
    return 0;
}

int admin_put_uint(json_t *doc, const char *key, struct db_result *res, size_t col)
{
    uint64_t value = 0;
    enum db_get got = db_result_uint64(res, col, &value);
    if (got == DB_GET_ERROR)
        return -1;
    if (got == DB_GET_OK)
        json_object_set_new(doc, key, json_integer((json_int_t)value));
    return 0;
}

int admin_put_time(json_t *doc, const char *key, struct db_result *res, size_t col)
{
    char text[40];
    enum db_get got = db_result_text_copy(res, col, text, sizeof(text));
    if (got == DB_GET_ERROR)
        return -1;
    if (got == DB_GET_OK) {
        /* "2026-11-25 19:09:56.123456" (the session runs in UTC) -> "2026-11-25T19:09:56.123456Z" */
        size_t len = strlen(text);
        if (len < 19 || len + 2 > sizeof(text))
            return -1;
        text[10] = 'T';
        text[len] = 'Z';
        text[len + 1] = '\0';
        json_object_set_new(doc, key, json_string(text));
    }
    return 0;
}

int admin_put_read_only(json_t *doc, struct db_result *res, size_t col)
{
    if (admin_put_uint(doc, "version", res, col) != 0 || admin_put_time(doc, "created_at", res, col + 1) != 0 ||
        admin_put_time(doc, "updated_at", res, col + 2) != 0)
        return -1;
    return 0;
}

int admin_find_id(struct db *db, const char *sql, const char *name, uint64_t *id)
{
    struct db_result *res = db_query(db, 0, sql, DB_ARGS(db_text(name)));
    if (res == NULL)
        return -1;
    int row = db_result_next(res);
    if (row == 1 && db_result_uint64(res, 0, id) != DB_GET_OK)
        return -1;
    return row;
}

int admin_resolve_department(struct db *db, const char *name, const char *pointer, uint64_t *id, struct problem_list *problems)
{
    *id = 0;
    int found = admin_find_id(db, "SELECT id FROM departments WHERE name = ?", name, id);
    if (found < 0)
        return -1;
    if (found == 0)
        problem_list_add(problems, pointer, "unknown department '%s'", name);
    return 0;
}

const char *admin_doc_string(const json_t *doc, const char *key)
{
    return json_string_value(json_object_get(doc, key));
}

/* "2026-11-25T19:09:56[.123456]Z" -> "2026-11-25 19:09:56[.123456]" for a DATETIME(6) comparison; -1 if malformed. */
int admin_time_to_sql(const char *since, char out[32])
{
    size_t len = strlen(since);
    if (len < 20 || len > 27 || since[len - 1] != 'Z' || since[10] != 'T')
        return -1;
    static const char shape[] = "dddd-dd-ddTdd:dd:dd";
    for (size_t i = 0; i < 19; i++) {
        if (shape[i] == 'd' ? (since[i] < '0' || since[i] > '9') : since[i] != shape[i])
            return -1;
    }
    for (size_t i = 19; i + 1 < len; i++) {
        if (i == 19 ? since[i] != '.' : (since[i] < '0' || since[i] > '9'))
            return -1;
    }
    memcpy(out, since, len - 1);
    out[len - 1] = '\0';
    out[10] = ' ';
    return 0;
}
