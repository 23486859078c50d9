/*
 * admin_service_openapi.c — GET|PUT|DELETE /admin/v1/services/<name>/openapi:
 * the service's OpenAPI document, which the nodes merge into GET
 * /openapi.json (docs/registry.md §8).
 *
 * The document has its own ETag (its row's version), not the service's: a
 * department re-publishing its documentation must not conflict with an edit
 * of the service's targets, nor the other way round. PUT creates without
 * If-Match when there is no document yet; replacing or deleting one needs
 * If-Match: "v" (428 without, 412 on a mismatch), as every other write.
 *
 * RBAC as the service: platform admins everything, department admins their
 * own department's services (another's is 404), auditors read, operators
 * nothing. The size cap is the admin API's body limit (ADMIN_API_MAX_BODY,
 * 1 MiB, 413 before a worker runs) and is checked again on the stored text.
 * One registry write per PUT or DELETE with one audit record, which names
 * the document's SHA-256 and size, never the document: it can be large, and
 * the audit log is for who changed what.
 *
 * Worker threads only.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "common/log.h"
#include "common/registry_write.h"
#include "gateway/admin_api.h"
#include "gateway/admin_entity.h"

struct document_row {
    uint64_t service_id, department_id, version;
    int has_document;
    char *text; /* malloc'ed, when has_document */
    char sha256[65];
    uint64_t size;
};

static void fail(struct admin_reply *reply, enum gateway_error error)
{
    reply->error = (int)error;
}

/* "/paths/~1tax~1invoice": a JSON pointer token escaped as RFC 6901 says. */
static void add_path_problem(struct problem_list *problems, const char *path, const char *message)
{
    char pointer[320];
    size_t at = 0;
    at += (size_t)snprintf(pointer, sizeof(pointer), "/paths/");
    for (const char *p = path; *p && at + 3 < sizeof(pointer); p++) {
        if (*p == '~' || *p == '/') {
            pointer[at++] = '~';
            pointer[at++] = *p == '~' ? '0' : '1';
        } else {
            pointer[at++] = *p;
        }
    }
    pointer[at] = '\0';
    problem_list_add(problems, pointer, "%s", message);
}

/* What the merge relies on: an OpenAPI 3.0/3.1 object with `paths`; everything else is the service's business. */
static void validate(const json_t *doc, struct problem_list *problems)
{
    if (!json_is_object(doc)) {
        problem_list_add(problems, "", "must be a JSON object (an OpenAPI document)");
        return;
    }
    const char *version = json_string_value(json_object_get(doc, "openapi"));
    unsigned major = 0, minor = 0, patch = 0;
    char rest = 0;
    if (version == NULL || sscanf(version, "%u.%u.%u%c", &major, &minor, &patch, &rest) != 3 || major != 3 || minor > 1)
        problem_list_add(problems, "/openapi", "must be an OpenAPI version \"3.0.x\" or \"3.1.x\"");
    const json_t *paths = json_object_get(doc, "paths");
    if (!json_is_object(paths)) {
        problem_list_add(problems, "/paths", "must be an object");
    } else {
        const char *path;
        const json_t *item;
        json_object_foreach((json_t *)paths, path, item)
        {
            if (path[0] != '/')
                add_path_problem(problems, path, "must start with '/'");
            else if (!json_is_object(item))
                add_path_problem(problems, path, "must be a Path Item object");
        }
    }
    const json_t *components = json_object_get(doc, "components");
    if (components != NULL && !json_is_object(components)) {
        problem_list_add(problems, "/components", "must be an object");
    } else if (components != NULL) {
        const char *kind;
        const json_t *members;
        json_object_foreach((json_t *)components, kind, members)
        {
            if (!json_is_object(members))
                problem_list_add(problems, "/components", "member '%s' must be an object", kind);
        }
    }
}

static void sha256_hex(const char *text, size_t len, char out[65])
{
    unsigned char digest[32];
    unsigned int digest_len = 0;
    if (EVP_Digest(text, len, digest, &digest_len, EVP_sha256(), NULL) != 1 || digest_len != sizeof(digest)) {
        out[0] = '\0';
        return;
    }
    for (size_t i = 0; i < sizeof(digest); i++)
        snprintf(out + 2 * i, 3, "%02x", digest[i]);
}

/*
 * The service and its document, locked for a write. 1 found (the caller may see it), 0 not found for this caller
 * (404), -1 db error.
 */
static int load(struct db *db, const struct admin_call *call, int for_update, struct document_row *row)
{
    struct db_result *res =
        db_query(db, 0,
                 for_update ? "SELECT s.id, s.department_id, o.version, o.document, o.sha256, o.size_bytes FROM services s "
                              "LEFT JOIN service_openapi o ON o.service_id = s.id WHERE s.name = ? FOR UPDATE"
                            : "SELECT s.id, s.department_id, o.version, o.document, o.sha256, o.size_bytes FROM services s "
                              "LEFT JOIN service_openapi o ON o.service_id = s.id WHERE s.name = ?",
                 DB_ARGS(db_text(call->name)));
    int found = res != NULL ? db_result_next(res) : -1;
    if (found != 1)
        return found;
    if (db_result_uint64(res, 0, &row->service_id) != DB_GET_OK || db_result_uint64(res, 1, &row->department_id) != DB_GET_OK)
        return -1;
    enum db_get got = db_result_uint64(res, 2, &row->version);
    if (got == DB_GET_ERROR)
        return -1;
    row->has_document = got == DB_GET_OK;
    if (row->has_document) {
        const char *text = NULL, *sha = NULL;
        size_t len = 0;
        if (db_result_text(res, 3, &text, &len) != DB_GET_OK || db_result_text(res, 4, &sha, NULL) != DB_GET_OK ||
            db_result_uint64(res, 5, &row->size) != DB_GET_OK)
            return -1;
        row->text = malloc(len + 1);
        if (row->text == NULL)
            return -1;
        memcpy(row->text, text, len);
        row->text[len] = '\0';
        snprintf(row->sha256, sizeof(row->sha256), "%s", sha);
    }
    if (call->who.role == ADMIN_ROLE_DEPARTMENT_ADMIN && row->department_id != call->who.department_id)
        return 0;
    return 1;
}

/* The audit record's view of a document: what identifies it, never its text. */
static json_t *audit_view(const char *sha256, uint64_t size)
{
    return json_pack("{s:s,s:I}", "sha256", sha256, "size_bytes", (json_int_t)size);
}

static int audit(struct db *db, const struct admin_call *call, uint64_t version, const char *action, const struct document_row *row,
                 json_t *after)
{
    json_t *before = row->has_document ? audit_view(row->sha256, row->size) : NULL;
    struct registry_audit record = {.actor = call->who.name,
                                    .actor_role = admin_role_name(call->who.role),
                                    .action = action,
                                    .entity_type = "service_openapi",
                                    .entity_key = call->name,
                                    .department_id = row->department_id,
                                    .before = before,
                                    .after = after,
                                    .request_id = call->request_id,
                                    .source_address = call->source_address};
    int rc = registry_audit_append(db, version, &record);
    json_decref(before);
    return rc;
}

/* If-Match against the document: 0 fine, -1 answered (428/412). Creating needs none. */
static int check_if_match(const struct admin_call *call, const struct document_row *row, struct admin_reply *reply)
{
    if (!row->has_document && call->method == ADMIN_PUT)
        return 0;
    const char *value = call->if_match;
    char *end = NULL;
    unsigned long long expected = value != NULL && value[0] == '"' ? strtoull(value + 1, &end, 10) : 0;
    if (end == NULL || end == value + 1 || strcmp(end, "\"") != 0) {
        fail(reply, GW_ERR_PRECONDITION_REQUIRED);
        return -1;
    }
    if (!row->has_document || expected != row->version) {
        fail(reply, GW_ERR_PRECONDITION_FAILED);
        return -1;
    }
    return 0;
}

static void answer_get(const struct document_row *row, struct admin_reply *reply)
{
    json_error_t error;
    json_t *doc = json_loads(row->text, 0, &error);
    if (doc == NULL) {
        log_error("admin API: stored OpenAPI document does not parse: %s", error.text);
        fail(reply, GW_ERR_INTERNAL);
        return;
    }
    reply->error = -1;
    reply->status = 200;
    reply->body = doc;
    reply->etag = row->version;
    reply->has_etag = 1;
}

/* PUT: 0 done (reply filled), 1 answered with an error, -1 db error. */
static int put(struct db *db, const struct admin_call *call, uint64_t version, const struct document_row *row,
               struct admin_reply *reply)
{
    char *text = json_dumps(call->body, JSON_COMPACT | JSON_PRESERVE_ORDER);
    if (text == NULL)
        return -1;
    size_t len = strlen(text);
    if (len > ADMIN_API_MAX_BODY) {
        free(text);
        fail(reply, GW_ERR_BODY_TOO_LARGE);
        return 1;
    }
    char sha[65];
    sha256_hex(text, len, sha);
    int rc = sha[0] != '\0'
                 ? db_exec(db, 0,
                           "INSERT INTO service_openapi (service_id, document, sha256, size_bytes, version) "
                           "VALUES (?, ?, ?, ?, ?) ON DUPLICATE KEY UPDATE document = VALUES(document), "
                           "sha256 = VALUES(sha256), size_bytes = VALUES(size_bytes), version = VALUES(version)",
                           DB_ARGS(db_uint(row->service_id), db_textn(text, len), db_text(sha), db_uint(len), db_uint(version)))
                 : -1;
    free(text);
    json_t *after = audit_view(sha, len);
    if (rc != 0 || audit(db, call, version, row->has_document ? "replace" : "create", row, after) != 0) {
        json_decref(after);
        return -1;
    }
    json_decref(after);
    reply->error = -1;
    reply->status = row->has_document ? 200 : 201;
    reply->body = json_pack("{s:s,s:s,s:I,s:I}", "service", call->name, "sha256", sha, "size_bytes", (json_int_t)len, "version",
                            (json_int_t)version);
    reply->etag = version;
    reply->has_etag = 1;
    return 0;
}

static int delete_document(struct db *db, const struct admin_call *call, uint64_t version, const struct document_row *row,
                           struct admin_reply *reply)
{
    if (db_exec(db, 0, "DELETE FROM service_openapi WHERE service_id = ?", DB_ARGS(db_uint(row->service_id))) != 0 ||
        audit(db, call, version, "delete", row, NULL) != 0)
        return -1;
    reply->error = -1;
    reply->status = 204;
    return 0;
}

static void write_document(struct db *db, const struct admin_call *call, struct admin_reply *reply)
{
    if (call->method == ADMIN_PUT) {
        validate(call->body, &reply->problems);
        if (reply->problems.count != 0) {
            fail(reply, GW_ERR_INVALID_BODY);
            return;
        }
    }
    uint64_t version = 0;
    if (registry_write_begin(db, &version) != 0) {
        log_error("admin API: service OpenAPI: %s", db_error(db));
        fail(reply, GW_ERR_INTERNAL);
        return;
    }
    struct document_row row = {0};
    int found = load(db, call, 1, &row), rc = 1;
    if (found == 0)
        fail(reply, GW_ERR_ENTITY_NOT_FOUND);
    else if (found > 0 && call->method == ADMIN_DELETE && !row.has_document)
        fail(reply, GW_ERR_ENTITY_NOT_FOUND);
    else if (found > 0 && check_if_match(call, &row, reply) == 0)
        rc = call->method == ADMIN_PUT ? put(db, call, version, &row, reply) : delete_document(db, call, version, &row, reply);
    if (found < 0)
        rc = -1;
    free(row.text);
    if (rc == 0 && db_commit(db) == 0)
        return;
    db_rollback(db);
    if (rc != 1) {
        log_error("admin API: service OpenAPI: %s", db_error(db));
        json_decref(reply->body);
        reply->body = NULL;
        reply->status = 0;
        fail(reply, GW_ERR_INTERNAL);
    }
}

void admin_service_openapi_run(struct db *db, const struct admin_call *call, struct admin_reply *reply)
{
    if (strcmp(call->sub, "openapi") != 0 || call->sub_id != NULL) {
        fail(reply, GW_ERR_NOT_FOUND);
        return;
    }
    if (call->method != ADMIN_GET && call->method != ADMIN_PUT && call->method != ADMIN_DELETE) {
        fail(reply, GW_ERR_METHOD_NOT_ALLOWED);
        return;
    }
    if (call->who.role == ADMIN_ROLE_OPERATOR || (call->who.role == ADMIN_ROLE_AUDITOR && call->method != ADMIN_GET)) {
        fail(reply, GW_ERR_ADMIN_FORBIDDEN);
        return;
    }
    if (call->method != ADMIN_GET) {
        write_document(db, call, reply);
        return;
    }
    struct document_row row = {0};
    int found = load(db, call, 0, &row);
    if (found < 0) {
        log_error("admin API: service OpenAPI: %s", db_error(db));
        fail(reply, GW_ERR_INTERNAL);
    } else if (found == 0 || !row.has_document) {
        fail(reply, GW_ERR_ENTITY_NOT_FOUND);
    } else {
        answer_get(&row, reply);
    }
    free(row.text);
}
