/*
 * admin_rows.c — helpers the admin entity modules share to turn rows into
 * JSON documents and names into ids (admin_entity.h).
 */
#include <string.h>

#include "common/base64url.h"

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

void admin_cursor_from_id(uint64_t id, char out[ADMIN_CURSOR_BUFSIZE])
{
    unsigned char bytes[9] = {'i'};
    for (int i = 8; i >= 1; i--, id >>= 8)
        bytes[i] = (unsigned char)(id & 0xff);
    out[base64url_encode(bytes, sizeof(bytes), out)] = '\0';
}

void admin_cursor_from_key(const char *key, char out[ADMIN_CURSOR_BUFSIZE])
{
    unsigned char bytes[ADMIN_KEY_MAX + 1] = {'k'};
    size_t len = strnlen(key, ADMIN_KEY_MAX);
    memcpy(bytes + 1, key, len);
    out[base64url_encode(bytes, len + 1, out)] = '\0';
}

int admin_cursor_parse(const char *text, struct admin_call *call)
{
    unsigned char bytes[BASE64URL_DECODED_MAX(ADMIN_CURSOR_BUFSIZE)];
    size_t len = strlen(text);
    long n = len < ADMIN_CURSOR_BUFSIZE ? base64url_decode(text, len, bytes) : -1;
    if (n == 9 && bytes[0] == 'i') {
        call->after_id = 0;
        for (int i = 1; i <= 8; i++)
            call->after_id = call->after_id << 8 | bytes[i];
        return 0;
    }
    if (n < 2 || n > ADMIN_KEY_MAX + 1 || bytes[0] != 'k' || memchr(bytes + 1, '\0', (size_t)n - 1) != NULL)
        return -1;
    memcpy(call->after_key, bytes + 1, (size_t)n - 1);
    call->after_key[n - 1] = '\0';
    call->cursor_is_key = 1;
    return 0;
}

int admin_rows_first(struct db_result *res, admin_row_doc_fn row_doc, json_t **doc, uint64_t *id, uint64_t *department_id)
{
    int row = res != NULL ? db_result_next(res) : -1;
    if (row != 1)
        return row;
    if (db_result_uint64(res, 0, id) != DB_GET_OK ||
        (department_id != NULL && db_result_uint64(res, 1, department_id) != DB_GET_OK) || (*doc = row_doc(res)) == NULL)
        return -1;
    return 1;
}

int admin_rows_append(struct db_result *res, admin_row_doc_fn row_doc, json_t *items, uint64_t *last_id)
{
    if (res == NULL)
        return -1;
    int row;
    while ((row = db_result_next(res)) == 1) {
        json_t *doc = row_doc(res);
        if (doc == NULL || db_result_uint64(res, 0, last_id) != DB_GET_OK) {
            json_decref(doc);
            return -1;
        }
        json_array_append_new(items, doc);
    }
    return row;
}

int admin_rows_append_referrers(struct db_result *res, struct strbuf *out)
{
    if (res == NULL)
        return -1;
    int row;
    while ((row = db_result_next(res)) == 1) {
        const char *kind = NULL, *name = NULL;
        if (db_result_text(res, 0, &kind, NULL) != DB_GET_OK || db_result_text(res, 1, &name, NULL) != DB_GET_OK)
            return -1;
        strbuf_appendf(out, "%s%s '%s'", out->len ? ", " : "", kind, name);
    }
    return row;
}
