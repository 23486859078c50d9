/*
 * admin_crud.c — the admin API's conventions for every registry collection
 * (docs/registry.md §5, §6): RBAC, list/get/create/replace/patch/delete,
 * If-Match, schema validation and the one-transaction write with its audit
 * record. Entity modules supply rows and rules (admin_entity.h).
 *
 * Worker threads only. The compiled schemas are shared read-only after a
 * pthread_once initialisation.
 */
#include <inttypes.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "common/embedded_schemas.h"
#include "common/json_schema.h"
#include "common/log.h"
#include "common/merge_patch.h"
#include "common/registry_write.h"
#include "common/xalloc.h"
#include "gateway/admin_api.h"
#include "gateway/admin_entity.h"

/* ---- schemas, compiled once ---- */

static const char *const schema_files[] = {"department.schema.json", "service.schema.json",        "route.schema.json",
                                           "scope.schema.json",      "rate_policy.schema.json",    "admin_account.schema.json",
                                           "client.schema.json",     "route_namespace.schema.json"};
static struct json_schema *schemas[sizeof(schema_files) / sizeof(schema_files[0])];
static pthread_once_t schemas_once = PTHREAD_ONCE_INIT;

static void load_schemas(void)
{
    for (size_t i = 0; i < sizeof(schema_files) / sizeof(schema_files[0]); i++) {
        const struct embedded_schema *text = embedded_schema_find(schema_files[i]);
        char *err = NULL;
        schemas[i] = text != NULL ? json_schema_load(text->text, text->len, &err) : NULL;
        if (schemas[i] == NULL)
            log_error("admin API: schema %s: %s", schema_files[i], err != NULL ? err : "not embedded");
        free(err);
    }
}

const struct json_schema *admin_schema_for(const char *file)
{
    pthread_once(&schemas_once, load_schemas);
    for (size_t i = 0; i < sizeof(schema_files) / sizeof(schema_files[0]); i++) {
        if (strcmp(schema_files[i], file) == 0)
            return schemas[i];
    }
    return NULL;
}

/* ---- replies ---- */

static void fail(struct admin_reply *reply, enum gateway_error error, char *detail)
{
    reply->error = (int)error;
    free(reply->detail);
    reply->detail = detail;
}

static void internal(struct admin_reply *reply, struct db *db, const char *what)
{
    log_error("admin API: %s: %s", what, db_error(db));
    fail(reply, GW_ERR_INTERNAL, NULL);
}

/* A success; `etag` is sent when has_etag (a single entity's version). */
static void succeed(struct admin_reply *reply, int status, json_t *body, uint64_t etag, int has_etag)
{
    reply->has_etag = has_etag;
    reply->error = -1;
    reply->status = status;
    reply->body = body;
    reply->etag = etag;
}

/* ---- RBAC (docs/registry.md §6) ---- */

static int is_department_admin(const struct admin_call *call)
{
    return call->who.role == ADMIN_ROLE_DEPARTMENT_ADMIN;
}

/* Whether the caller's role may use this method on the collection at all; ownership is checked later. */
static int role_allows(const struct admin_entity *entity, const struct admin_call *call)
{
    switch (call->who.role) {
    case ADMIN_ROLE_PLATFORM_ADMIN:
        return 1;
    case ADMIN_ROLE_AUDITOR:
        return call->method == ADMIN_GET;
    case ADMIN_ROLE_DEPARTMENT_ADMIN:
        return call->method == ADMIN_GET || entity->department_writes;
    case ADMIN_ROLE_OPERATOR:
    default:
        return entity->self_readable && call->method == ADMIN_GET;
    }
}

/* A department admin sees only their own department's entities; others answer 404, not revealing existence. */
static int visible(const struct admin_call *call, uint64_t department_id)
{
    return !is_department_admin(call) || department_id == call->who.department_id;
}

/* Platform-wide entities (rate policies) are readable by department admins, who reference them, but not theirs. */
static int readable(const struct admin_entity *entity, const struct admin_call *call, uint64_t id, uint64_t department_id)
{
    /* admin accounts: department admins and operators see only their own */
    if (entity->self_readable && (is_department_admin(call) || call->who.role == ADMIN_ROLE_OPERATOR))
        return id == call->who.account_id;
    return visible(call, department_id) || (entity->platform_wide && department_id == 0);
}

/* ---- reading ---- */

/* The member that names an entity in URLs and audit records. */
static const char *key_of(const struct admin_entity *entity, const json_t *doc)
{
    return admin_doc_string(doc, entity->key_member != NULL ? entity->key_member : "name");
}

static void list(struct db *db, const struct admin_entity *entity, const struct admin_call *call, struct admin_reply *reply)
{
    uint64_t department_id = is_department_admin(call) ? call->who.department_id : 0, last_id = 0;
    char last_key[ADMIN_KEY_MAX + 1] = "";
    /* a department admin also lists what they may reference: platform-wide rate policies */
    int with_platform_wide = is_department_admin(call) && entity->platform_wide;
    json_t *items = json_array();
    if (call->filter_department != NULL) {
        uint64_t wanted = 0;
        int found = admin_find_id(db, "SELECT id FROM departments WHERE name = ?", call->filter_department, &wanted);
        if (found < 0) {
            json_decref(items);
            internal(reply, db, "list");
            return;
        }
        /* an unknown department, or another one for a department admin: nothing to list */
        if (found == 0 || (department_id != 0 && wanted != department_id))
            goto done;
        department_id = wanted;
    }
    /* a cursor is only valid for the kind of collection that made it */
    if (call->cursor_is_key != entity->keyed_by_text && (call->after_id != 0 || call->after_key[0] != '\0')) {
        json_decref(items);
        fail(reply, GW_ERR_INVALID_QUERY, NULL);
        return;
    }
    struct admin_list_query q = {.after_id = call->after_id,
                                 .after_key = call->after_key,
                                 .last_key = last_key,
                                 .department_id = department_id,
                                 .with_platform_wide = with_platform_wide,
                                 .service = call->filter_service,
                                 .limit = call->limit};
    if (entity->self_readable && (is_department_admin(call) || call->who.role == ADMIN_ROLE_OPERATOR)) {
        q.department_id = 0;
        q.only_id = call->who.account_id;
    }
    if (entity->list(db, &q, items, &last_id) != 0) {
        json_decref(items);
        internal(reply, db, "list");
        return;
    }
done:;
    char cursor[ADMIN_CURSOR_BUFSIZE];
    if (entity->keyed_by_text)
        admin_cursor_from_key(last_key, cursor);
    else
        admin_cursor_from_id(last_id, cursor);
    json_t *answer = json_pack("{s:o, s:o}", "items", items, "next_cursor",
                               json_array_size(items) == call->limit ? json_string(cursor) : json_null());
    succeed(reply, 200, answer, 0, 0);
}

static void get(struct db *db, const struct admin_entity *entity, const struct admin_call *call, struct admin_reply *reply)
{
    json_t *doc = NULL;
    uint64_t id = 0, department_id = 0;
    int found = entity->load(db, call->name, &doc, &id, &department_id);
    if (found < 0) {
        internal(reply, db, "get");
        return;
    }
    if (found == 0 || !readable(entity, call, id, department_id)) {
        json_decref(doc);
        fail(reply, GW_ERR_ENTITY_NOT_FOUND, NULL);
        return;
    }
    succeed(reply, 200, doc, (uint64_t)json_integer_value(json_object_get(doc, "version")), 1);
}

/* ---- writing ---- */

/* The ETag in If-Match: 1 and *version, 0 when absent or not one strong ETag ("*", W/, lists are refused). */
static int parse_if_match(const char *value, uint64_t *version)
{
    if (value == NULL || value[0] != '"')
        return 0;
    char *end = NULL;
    unsigned long long v = strtoull(value + 1, &end, 10);
    if (end == value + 1 || strcmp(end, "\"") != 0)
        return 0;
    *version = v;
    return 1;
}

/* The request body as a candidate document: read-only members dropped (they are ignored in requests). */
static json_t *candidate(const json_t *body)
{
    json_t *doc = json_deep_copy(body);
    for (const char *const *m = registry_read_only_members; *m != NULL; m++)
        json_object_del(doc, *m);
    return doc;
}

static int validate(const struct admin_entity *entity, const json_t *doc, struct admin_reply *reply)
{
    const struct json_schema *schema = admin_schema_for(entity->schema_file);
    if (schema == NULL) {
        fail(reply, GW_ERR_INTERNAL, NULL);
        return -1;
    }
    if (json_schema_validate(schema, doc, &reply->problems) == 0)
        return 0;
    fail(reply, GW_ERR_INVALID_BODY, NULL);
    return -1;
}

struct write_ctx {
    struct db *db;
    const struct admin_entity *entity;
    const struct admin_call *call;
    struct admin_reply *reply;
    uint64_t version;
    struct admin_refs refs;
    char generated_key[24]; /* the id of a generated_key entity just written, as its key */
};

/* Resolves references and ownership of `doc` for row `id`; -1 when the reply is already an error. */
static int check(struct write_ctx *w, uint64_t id, const json_t *doc)
{
    if (w->entity->resolve(w->db, w->call, id, doc, &w->refs, &w->reply->problems) != 0) {
        internal(w->reply, w->db, "resolve");
        return -1;
    }
    /* Ownership first: a department admin learns nothing about where they may not write. Only their own department
     * will do (a platform-wide entity is not theirs either), unless the owner could not be resolved, which the
     * problems then say. */
    int unresolved = w->refs.department_id == 0 && w->reply->problems.count > 0;
    if (!visible(w->call, w->refs.department_id) && !unresolved) {
        problem_list_clear(&w->reply->problems);
        fail(w->reply, GW_ERR_ADMIN_FORBIDDEN,
             xstrdup("A department admin may only create or move entities in their own department."));
        return -1;
    }
    if (w->reply->problems.count > 0) {
        fail(w->reply, GW_ERR_INVALID_BODY, NULL);
        return -1;
    }
    return 0;
}

/* Stores the row, reads it back and appends the audit record. The reply gets the new document. */
static int store_and_audit(struct write_ctx *w, uint64_t id, const json_t *doc, const json_t *before, const char *action)
{
    uint64_t new_id = 0, ignored_id = 0, department_id = 0;
    if (w->entity->store(w->db, id, doc, &w->refs, w->version, &new_id) != 0) {
        if (db_error_is_duplicate_key(w->db))
            fail(w->reply, GW_ERR_ENTITY_EXISTS, NULL);
        else
            internal(w->reply, w->db, "store");
        return -1;
    }
    json_t *after = NULL;
    const char *name = key_of(w->entity, doc);
    if (w->entity->generated_key) { /* route namespaces: the id the database gave is the key */
        snprintf(w->generated_key, sizeof(w->generated_key), "%llu", (unsigned long long)(id != 0 ? id : new_id));
        name = w->generated_key;
    }
    if (w->entity->load(w->db, name, &after, &ignored_id, &department_id) != 1) {
        internal(w->reply, w->db, "read back");
        return -1;
    }
    struct registry_audit audit = {.actor = w->call->who.name,
                                   .actor_role = admin_role_name(w->call->who.role),
                                   .action = action,
                                   .entity_type = w->entity->type,
                                   .entity_key = name,
                                   .department_id = department_id,
                                   .before = before,
                                   .after = after,
                                   .request_id = w->call->request_id,
                                   .source_address = w->call->source_address};
    if (registry_audit_append(w->db, w->version, &audit) != 0) {
        json_decref(after);
        internal(w->reply, w->db, "audit");
        return -1;
    }
    /* e.g. a new client's secret: in this answer only, never in the audit record above */
    if (w->refs.reply_extra != NULL)
        json_object_update(after, w->refs.reply_extra);
    succeed(w->reply, before == NULL ? 201 : 200, after, w->version, 1);
    return 0;
}

/* 409 before any other rule: names are global, so that much is known to every department (docs/registry.md §6). */
static int check_name_free(struct write_ctx *w, const char *name)
{
    json_t *existing = NULL;
    uint64_t id = 0, department_id = 0;
    int found = w->entity->load(w->db, name, &existing, &id, &department_id);
    json_decref(existing);
    if (found < 0) {
        internal(w->reply, w->db, "load");
        return -1;
    }
    if (found == 0)
        return 0;
    fail(w->reply, GW_ERR_ENTITY_EXISTS, NULL);
    return -1;
}

static int create(struct write_ctx *w)
{
    json_t *doc = candidate(w->call->body);
    int rc = validate(w->entity, doc, w->reply);
    if (rc == 0)
        rc = w->entity->generated_key ? 0 : check_name_free(w, key_of(w->entity, doc));
    if (rc == 0)
        rc = check(w, 0, doc);
    if (rc == 0)
        rc = store_and_audit(w, 0, doc, NULL, "create");
    if (rc == 0)
        w->reply->location = xasprintf("/admin/v1/%s/%s", w->entity->collection,
                                       w->entity->generated_key ? w->generated_key : key_of(w->entity, doc));
    json_decref(doc);
    return rc;
}

/* 409 in_use naming the referrers, or 0 when nothing refers to row `id`. */
static int check_unreferenced(struct write_ctx *w, uint64_t id)
{
    struct strbuf names = STRBUF_INIT;
    if (w->entity->referrers != NULL && w->entity->referrers(w->db, id, &names) != 0) {
        strbuf_free(&names);
        internal(w->reply, w->db, "referrers");
        return -1;
    }
    if (names.len == 0)
        return 0;
    fail(w->reply, GW_ERR_IN_USE, xasprintf("%s '%s' is still used by %s.", w->entity->type, w->call->name, names.data));
    strbuf_free(&names);
    return -1;
}

static int delete_row(struct write_ctx *w, uint64_t id, uint64_t department_id, const json_t *before)
{
    if (check_unreferenced(w, id) != 0)
        return -1;
    if (w->entity->remove(w->db, id, w->call->name) != 0) {
        if (db_errno(w->db) == 1451)
            fail(w->reply, GW_ERR_IN_USE, NULL);
        else
            internal(w->reply, w->db, "delete");
        return -1;
    }
    struct registry_audit audit = {.actor = w->call->who.name,
                                   .actor_role = admin_role_name(w->call->who.role),
                                   .action = "delete",
                                   .entity_type = w->entity->type,
                                   .entity_key = w->call->name,
                                   .department_id = department_id,
                                   .before = before,
                                   .request_id = w->call->request_id,
                                   .source_address = w->call->source_address};
    if (registry_audit_append(w->db, w->version, &audit) != 0) {
        internal(w->reply, w->db, "audit");
        return -1;
    }
    succeed(w->reply, 204, NULL, 0, 0);
    return 0;
}

static int update(struct write_ctx *w, uint64_t id, const json_t *before, uint64_t expected)
{
    int patch = w->call->method == ADMIN_PATCH;
    json_t *merged = patch ? merge_patch_apply(before, w->call->body) : json_incref(w->call->body);
    /* a body may repeat version (a GET body PUT back), and then it must be the If-Match one; a patch that leaves it
     * out keeps the current one, which If-Match has just matched */
    json_t *version = json_object_get(merged, "version");
    if (version != NULL && (!json_is_integer(version) || (uint64_t)json_integer_value(version) != expected)) {
        json_decref(merged);
        fail(w->reply, GW_ERR_PRECONDITION_FAILED, xstrdup("The body's version differs from If-Match."));
        return -1;
    }
    json_t *doc = candidate(merged);
    json_decref(merged);
    int rc = validate(w->entity, doc, w->reply);
    if (rc == 0)
        rc = check(w, id, doc);
    if (rc == 0)
        rc = store_and_audit(w, id, doc, before, patch ? "patch" : "replace");
    json_decref(doc);
    return rc;
}

/* PUT, PATCH, DELETE of an existing entity, conditional on If-Match. */
static int change(struct write_ctx *w)
{
    uint64_t expected = 0, id = 0, department_id = 0;
    if (!parse_if_match(w->call->if_match, &expected)) {
        fail(w->reply, GW_ERR_PRECONDITION_REQUIRED, NULL);
        return -1;
    }
    json_t *before = NULL;
    int found = w->entity->load(w->db, w->call->name, &before, &id, &department_id);
    if (found < 0) {
        internal(w->reply, w->db, "load");
        return -1;
    }
    int rc = -1;
    if (found == 0 || !readable(w->entity, w->call, id, department_id))
        fail(w->reply, GW_ERR_ENTITY_NOT_FOUND, NULL);
    else if (!visible(w->call, department_id))
        fail(w->reply, GW_ERR_ADMIN_FORBIDDEN, NULL);
    else if ((uint64_t)json_integer_value(json_object_get(before, "version")) != expected)
        fail(w->reply, GW_ERR_PRECONDITION_FAILED, NULL);
    else if (w->call->method == ADMIN_DELETE)
        rc = delete_row(w, id, department_id, before);
    else
        rc = update(w, id, before, expected);
    json_decref(before);
    return rc;
}

static void write_entity(struct db *db, const struct admin_entity *entity, const struct admin_call *call, struct admin_reply *reply)
{
    if (call->method != ADMIN_DELETE && !json_is_object(call->body)) {
        problem_list_add(&reply->problems, "", "must be a JSON object");
        fail(reply, GW_ERR_INVALID_BODY, NULL);
        return;
    }
    struct write_ctx w = {.db = db, .entity = entity, .call = call, .reply = reply};
    if (registry_write_begin(db, &w.version) != 0) {
        internal(reply, db, "begin");
        return;
    }
    int rc = call->method == ADMIN_POST ? create(&w) : change(&w);
    free(w.refs.scope_ids);
    json_decref(w.refs.reply_extra);
    if (rc != 0) {
        db_rollback(db);
        return;
    }
    if (db_commit(db) != 0) {
        json_decref(reply->body);
        reply->body = NULL;
        free(reply->location);
        reply->location = NULL;
        internal(reply, db, "commit");
    }
}

void admin_crud_run(struct db *db, const struct admin_entity *entity, const struct admin_call *call, struct admin_reply *reply)
{
    int collection = call->name == NULL;
    if (call->method == ADMIN_POST ? !collection : call->method != ADMIN_GET && collection) {
        fail(reply, GW_ERR_METHOD_NOT_ALLOWED, NULL);
        return;
    }
    if (!role_allows(entity, call)) {
        fail(reply, GW_ERR_ADMIN_FORBIDDEN, NULL);
        return;
    }
    if (call->method == ADMIN_GET) {
        if (collection)
            list(db, entity, call, reply);
        else
            get(db, entity, call, reply);
        return;
    }
    write_entity(db, entity, call, reply);
}
