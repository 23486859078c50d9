/*
 * admin_clients.c — /admin/v1/clients (admin_entity.h): the OAuth clients of
 * 002, extended by 006 with an owning department, CORS origins and a version.
 *
 * Clients keep client_id as their key (there is no surrogate id), so the list
 * pages by client_id and `id` here only says "exists" (1). What the schema
 * cannot check (docs/registry.md §5, §6):
 *  - redirect URIs pass clients_redirect_uri_problem, as for `yiwang clients add`;
 *  - client_credentials needs a confidential client;
 *  - allowed_scopes are registered scopes or the OpenID Connect ones, and a
 *    department admin may only give their own department's scopes;
 *  - a client of kind third_party only registered scopes with third_party set
 *    (008), besides the OpenID Connect ones;
 *  - a third party has no department, so only platform admins manage one;
 *  - client_id and confidential never change: a new secret policy is a new
 *    client, and apps hold the id.
 * A confidential client gets a secret on creation, in the 201 answer only
 * (refs->reply_extra); the row keeps HMAC-SHA256 under the token-hash key,
 * and neither appears in a GET, a list or the audit log. Rotation is
 * admin_client_secret.c.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "auth/clients.h"
#include "common/xalloc.h"
#include "gateway/admin_entity.h"

#define COLUMNS                                                                                                                    \
    "SELECT IFNULL(c.owner_department_id, 0), c.client_id, c.name, c.kind, d.name, c.owner, c.first_party, c.confidential, "       \
    "c.redirect_uris, c.post_logout_redirect_uris, c.allowed_scopes, c.grant_types, c.cors_origins, c.status, "                    \
    "c.previous_secret_expires_at, c.version, c.created_at, c.updated_at FROM oauth_clients c "                                    \
    "LEFT JOIN departments d ON d.id = c.owner_department_id "

static const char *const oidc_scopes[] = {"openid", "profile", "phone", "email", "offline_access"};

static json_t *words(const char *text)
{
    json_t *array = json_array();
    for (const char *p = text; *p != '\0';) {
        size_t n = strcspn(p, " ");
        if (n != 0)
            json_array_append_new(array, json_stringn(p, n));
        p += n + (p[n] == ' ');
    }
    return array;
}

static int put_json(json_t *doc, const char *key, struct db_result *res, size_t col)
{
    const char *text = NULL;
    size_t len = 0;
    if (db_result_text(res, col, &text, &len) != DB_GET_OK)
        return -1;
    json_t *value = json_loadb(text, len, 0, NULL);
    if (value == NULL)
        return -1;
    json_object_set_new(doc, key, value);
    return 0;
}

static int put_bool(json_t *doc, const char *key, struct db_result *res, size_t col)
{
    int value = 0;
    if (db_result_int(res, col, &value) != DB_GET_OK)
        return -1;
    json_object_set_new(doc, key, json_boolean(value));
    return 0;
}

static int put_words(json_t *doc, const char *key, struct db_result *res, size_t col)
{
    const char *text = NULL;
    if (db_result_text(res, col, &text, NULL) != DB_GET_OK)
        return -1;
    json_object_set_new(doc, key, words(text));
    return 0;
}

static json_t *row_doc(struct db_result *res)
{
    json_t *doc = json_object();
    if (admin_put_text(doc, "client_id", res, 1) != 0 || admin_put_text(doc, "name", res, 2) != 0 ||
        admin_put_text(doc, "kind", res, 3) != 0 || admin_put_text(doc, "department", res, 4) != 0 ||
        admin_put_text(doc, "owner", res, 5) != 0 || put_bool(doc, "first_party", res, 6) != 0 ||
        put_bool(doc, "confidential", res, 7) != 0 || put_json(doc, "redirect_uris", res, 8) != 0 ||
        put_json(doc, "post_logout_redirect_uris", res, 9) != 0 || put_words(doc, "allowed_scopes", res, 10) != 0 ||
        put_words(doc, "grant_types", res, 11) != 0 || put_json(doc, "cors_origins", res, 12) != 0 ||
        admin_put_text(doc, "status", res, 13) != 0 || admin_put_time(doc, "previous_secret_expires_at", res, 14) != 0 ||
        admin_put_read_only(doc, res, 15) != 0) {
        json_decref(doc);
        return NULL;
    }
    return doc;
}

static int load(struct db *db, const char *name, json_t **doc, uint64_t *id, uint64_t *department_id)
{
    struct db_result *res = db_query(db, 0, COLUMNS "WHERE c.client_id = ?", DB_ARGS(db_text(name)));
    int row = res != NULL ? db_result_next(res) : -1;
    if (row != 1)
        return row;
    if (db_result_uint64(res, 0, department_id) != DB_GET_OK || (*doc = row_doc(res)) == NULL)
        return -1;
    *id = 1;
    return 1;
}

static int list(struct db *db, const struct admin_list_query *q, json_t *items, uint64_t *last_id)
{
    (void)last_id;
    struct db_result *res =
        db_query(db, 0, COLUMNS "WHERE c.client_id > ? AND (? = 0 OR c.owner_department_id = ?) ORDER BY c.client_id LIMIT ?",
                 DB_ARGS(db_text(q->after_key), db_uint(q->department_id), db_uint(q->department_id), db_uint(q->limit)));
    if (res == NULL)
        return -1;
    int row;
    while ((row = db_result_next(res)) == 1) {
        json_t *doc = row_doc(res);
        if (doc == NULL || db_result_text_copy(res, 1, q->last_key, ADMIN_KEY_MAX + 1) != DB_GET_OK) {
            json_decref(doc);
            return -1;
        }
        json_array_append_new(items, doc);
    }
    return row;
}

/* ---- checks ---- */

static void check_uris(const json_t *doc, const char *member, struct problem_list *problems)
{
    const json_t *uri;
    size_t i;
    json_array_foreach(json_object_get(doc, member), i, uri)
    {
        const char *problem = clients_redirect_uri_problem(json_string_value(uri));
        if (problem != NULL) {
            char *pointer = xasprintf("/%s/%zu", member, i);
            problem_list_add(problems, pointer, "%s", problem);
            free(pointer);
        }
    }
}

static int is_oidc_scope(const char *scope)
{
    for (size_t i = 0; i < sizeof(oidc_scopes) / sizeof(oidc_scopes[0]); i++) {
        if (strcmp(scope, oidc_scopes[i]) == 0)
            return 1;
    }
    return 0;
}

/*
 * Registered or OIDC scopes; a department admin's client only its department's,
 * and a third party's only scopes their department has opened (third_party):
 * the rest are for the government's own clients.
 */
static int check_scopes(struct db *db, const struct admin_call *call, const json_t *doc, struct problem_list *problems)
{
    const char *kind = admin_doc_string(doc, "kind");
    int third_party_client = kind != NULL && strcmp(kind, "third_party") == 0;
    const json_t *scope;
    size_t i;
    json_array_foreach(json_object_get(doc, "allowed_scopes"), i, scope)
    {
        const char *name = json_string_value(scope);
        if (is_oidc_scope(name))
            continue;
        struct db_result *res =
            db_query(db, 0, "SELECT department_id, third_party FROM scopes WHERE name = ?", DB_ARGS(db_text(name)));
        uint64_t owner = 0;
        int open = 0;
        int row = res != NULL ? db_result_next(res) : -1;
        if (row < 0 || (row == 1 && (db_result_uint64(res, 0, &owner) != DB_GET_OK || db_result_int(res, 1, &open) != DB_GET_OK)))
            return -1;
        int mine = call->who.role != ADMIN_ROLE_DEPARTMENT_ADMIN || owner == call->who.department_id;
        const char *why = row == 0 ? "unknown scope '%s'"
                          : !mine  ? "scope '%s' is not your department's"
                          : third_party_client && !open
                              ? "scope '%s' is internal: its department has not opened it to third parties"
                              : NULL;
        if (why != NULL) {
            char *pointer = xasprintf("/allowed_scopes/%zu", i);
            problem_list_add(problems, pointer, why, name);
            free(pointer);
        }
    }
    return 0;
}

static int has_word(const json_t *array, const char *word)
{
    const json_t *item;
    size_t i;
    json_array_foreach(array, i, item)
    {
        if (strcmp(json_string_value(item), word) == 0)
            return 1;
    }
    return 0;
}

/* The schema's default for confidential is true. */
static int confidential(const json_t *doc)
{
    const json_t *value = json_object_get(doc, "confidential");
    return value == NULL || json_is_true(value);
}

/* An update may not change client_id or confidential. */
static int check_unchanged(struct db *db, const struct admin_call *call, const json_t *doc, struct problem_list *problems)
{
    if (strcasecmp(admin_doc_string(doc, "client_id"), call->name) != 0)
        problem_list_add(problems, "/client_id", "cannot be changed: register a new client");
    struct db_result *res =
        db_query(db, 0, "SELECT confidential FROM oauth_clients WHERE client_id = ?", DB_ARGS(db_text(call->name)));
    int was = 0;
    if (res == NULL || db_result_next(res) != 1 || db_result_int(res, 0, &was) != DB_GET_OK)
        return -1;
    if (was != confidential(doc))
        problem_list_add(problems, "/confidential", "cannot be changed: register a new client");
    return 0;
}

static int resolve(struct db *db, const struct admin_call *call, uint64_t id, const json_t *doc, struct admin_refs *refs,
                   struct problem_list *problems)
{
    const char *department = admin_doc_string(doc, "department");
    refs->department_id = 0;
    refs->hash_key = call->token_key;
    if (id == 0)
        refs->reply_extra = json_object(); /* where store() puts a new secret */
    check_uris(doc, "redirect_uris", problems);
    check_uris(doc, "post_logout_redirect_uris", problems);
    const json_t *grants = json_object_get(doc, "grant_types");
    if ((grants == NULL || has_word(grants, "client_credentials")) && !confidential(doc))
        problem_list_add(problems, "/confidential", "must be true for the client_credentials grant");
    if ((id != 0 && check_unchanged(db, call, doc, problems) != 0) || check_scopes(db, call, doc, problems) != 0)
        return -1;
    if (department == NULL) /* a third party: the schema allows no department only for one */
        return 0;
    return admin_resolve_department(db, department, "/department", &refs->department_id, problems);
}

/* ---- writing ---- */

static char *joined(const json_t *doc, const char *member, const char *fallback)
{
    const json_t *array = json_object_get(doc, member), *item;
    if (array == NULL)
        return xstrdup(fallback);
    struct strbuf sb = STRBUF_INIT;
    size_t i;
    json_array_foreach(array, i, item)
    {
        strbuf_appendf(&sb, "%s%s", i ? " " : "", json_string_value(item));
    }
    return sb.data != NULL ? strbuf_detach(&sb, NULL) : xstrdup("");
}

static char *json_member(const json_t *doc, const char *member)
{
    const json_t *value = json_object_get(doc, member);
    return value != NULL ? json_dumps(value, JSON_COMPACT) : xstrdup("[]");
}

/* A new secret for a confidential client: its hash into `hash`, the secret itself into refs->reply_extra. */
static int new_secret(const struct admin_refs *refs, char hash[65])
{
    char secret[SECRETS_TOKEN_BUFSIZE];
    if (refs->hash_key == NULL || secrets_token_generate(secret) != 0 ||
        clients_hash_secret(refs->hash_key, secret, SECRETS_TOKEN_LEN, hash) != 0)
        return -1;
    json_object_set_new(refs->reply_extra, "client_secret", json_string(secret));
    secrets_wipe(secret, sizeof(secret));
    return 0;
}

static int store(struct db *db, uint64_t id, const json_t *doc, const struct admin_refs *refs, uint64_t version, uint64_t *new_id)
{
    (void)new_id;
    const char *owner = admin_doc_string(doc, "owner"), *status = admin_doc_string(doc, "status");
    char hash[65] = "", *scopes = joined(doc, "allowed_scopes", ""), *grants = joined(doc, "grant_types", "client_credentials");
    char *uris = json_member(doc, "redirect_uris"), *logout_uris = json_member(doc, "post_logout_redirect_uris"),
         *origins = json_member(doc, "cors_origins");
    int is_confidential = confidential(doc), rc = -1;
    struct db_param params[] = {
        db_text(admin_doc_string(doc, "name")),
        db_text(admin_doc_string(doc, "kind")),
        db_text(owner != NULL ? owner : ""),
        refs->department_id != 0 ? db_uint(refs->department_id) : db_null(),
        db_int(json_is_true(json_object_get(doc, "first_party"))),
        db_text(uris),
        db_text(logout_uris),
        db_text(scopes),
        db_text(grants),
        db_text(origins),
        db_text(status != NULL ? status : "active"),
        db_uint(version),
        db_text(admin_doc_string(doc, "client_id")),
        db_int(is_confidential),
        db_text(hash),
    };
    if (id != 0) {
        rc = db_exec(db, 0,
                     "UPDATE oauth_clients SET name = ?, kind = ?, owner = ?, owner_department_id = ?, first_party = ?, "
                     "redirect_uris = ?, post_logout_redirect_uris = ?, allowed_scopes = ?, grant_types = ?, cors_origins = ?, "
                     "status = ?, version = ? WHERE client_id = ?",
                     params, 13);
    } else if (!is_confidential || new_secret(refs, hash) == 0) {
        params[14] = is_confidential ? db_text(hash) : db_null();
        rc = db_exec(db, 0,
                     "INSERT INTO oauth_clients (name, kind, owner, owner_department_id, first_party, redirect_uris, "
                     "post_logout_redirect_uris, allowed_scopes, grant_types, cors_origins, status, version, client_id, "
                     "confidential, secret_hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                     params, 15);
    }
    free(scopes), free(grants), free(uris), free(logout_uris), free(origins);
    return rc;
}

static int remove_row(struct db *db, uint64_t id, const char *key)
{
    (void)id;
    return db_exec(db, 0, "DELETE FROM oauth_clients WHERE client_id = ?", DB_ARGS(db_text(key)));
}

const struct admin_entity admin_clients = {
    .collection = "clients",
    .type = "client",
    .schema_file = "client.schema.json",
    .key_member = "client_id",
    .keyed_by_text = 1,
    .department_writes = 1,
    .load = load,
    .list = list,
    .resolve = resolve,
    .store = store,
    .remove = remove_row,
    .referrers = NULL,
};
