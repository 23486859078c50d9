/*
 * admin_tokens_api.c — an admin account's API tokens:
 *   GET    /admin/v1/admin-accounts/<name>/tokens        list (never the token or its hash)
 *   POST   /admin/v1/admin-accounts/<name>/tokens        create: {"label"?, "expires_at"?}; the token is in the answer, once
 *   DELETE /admin/v1/admin-accounts/<name>/tokens/<id>   revoke
 *
 * Platform admins manage anyone's tokens; department admins and operators
 * only their own (another account is 404 to them, as the account is);
 * auditors none (docs/registry.md §6). Tokens have no ETag: creating one
 * never conflicts, and revoking is final. Each change is a registry write
 * with one audit record (create_token, revoke_token) that names the token's
 * id, never the token.
 *
 * Worker threads only.
 */
#include <stdlib.h>
#include <string.h>

#include "common/registry_write.h"
#include "common/xalloc.h"
#include "gateway/admin_entity.h"

#define LABEL_MAX 128

static void fail(struct admin_reply *reply, enum gateway_error error)
{
    reply->error = (int)error;
}

/* The account named in the URL, if the caller may manage its tokens: 1, 0 (404), -1 db error. */
static int find_account(struct db *db, const struct admin_call *call, uint64_t *id, uint64_t *department_id)
{
    struct db_result *res =
        db_query(db, 0, "SELECT id, IFNULL(department_id, 0) FROM admin_accounts WHERE name = ?", DB_ARGS(db_text(call->name)));
    int row = res != NULL ? db_result_next(res) : -1;
    if (row != 1)
        return row;
    if (db_result_uint64(res, 0, id) != DB_GET_OK || db_result_uint64(res, 1, department_id) != DB_GET_OK)
        return -1;
    return call->who.role == ADMIN_ROLE_PLATFORM_ADMIN || *id == call->who.account_id;
}

static int list(struct db *db, uint64_t account_id, struct admin_reply *reply)
{
    struct db_result *res = db_query(db, 0,
                                     "SELECT id, label, created_at, expires_at, last_used_at, revoked_at FROM admin_tokens "
                                     "WHERE account_id = ? ORDER BY created_at, id",
                                     DB_ARGS(db_uint(account_id)));
    if (res == NULL)
        return -1;
    json_t *items = json_array();
    int row;
    while ((row = db_result_next(res)) == 1) {
        json_t *item = json_object();
        json_array_append_new(items, item);
        if (admin_put_text(item, "id", res, 0) != 0 || admin_put_text(item, "label", res, 1) != 0 ||
            admin_put_time(item, "created_at", res, 2) != 0 || admin_put_time(item, "expires_at", res, 3) != 0 ||
            admin_put_time(item, "last_used_at", res, 4) != 0 || admin_put_time(item, "revoked_at", res, 5) != 0)
            row = -1;
        if (row < 0)
            break;
    }
    if (row < 0) {
        json_decref(items);
        return -1;
    }
    reply->error = -1;
    reply->status = 200;
    reply->body = json_pack("{s:o, s:n}", "items", items, "next_cursor");
    return 0;
}

/* label and expires_at of a create body; problems go to the reply. */
static int read_create_body(const json_t *body, const char **label, char expires[32], struct admin_reply *reply)
{
    const char *key;
    const json_t *value;
    expires[0] = '\0';
    *label = "";
    json_object_foreach((json_t *)body, key, value)
    {
        if (strcmp(key, "label") == 0) {
            if (json_is_string(value) && json_string_length(value) <= LABEL_MAX)
                *label = json_string_value(value);
            else
                problem_list_add(&reply->problems, "/label", "must be a string of at most %d characters", LABEL_MAX);
        } else if (strcmp(key, "expires_at") == 0) {
            if (!json_is_string(value) || admin_time_to_sql(json_string_value(value), expires) != 0)
                problem_list_add(&reply->problems, "/expires_at", "must be a UTC time such as 2026-11-25T19:09:56Z");
        } else {
            problem_list_add(&reply->problems, "", "unknown member '%s'", key);
        }
    }
    if (reply->problems.count == 0)
        return 0;
    fail(reply, GW_ERR_INVALID_BODY);
    return -1;
}

static int audit(struct db *db, const struct admin_call *call, uint64_t version, uint64_t department_id, const char *action,
                 json_t *after)
{
    struct registry_audit record = {.actor = call->who.name,
                                    .actor_role = admin_role_name(call->who.role),
                                    .action = action,
                                    .entity_type = "admin_account",
                                    .entity_key = call->name,
                                    .department_id = department_id,
                                    .after = after,
                                    .request_id = call->request_id,
                                    .source_address = call->source_address};
    int rc = registry_audit_append(db, version, &record);
    json_decref(after);
    return rc;
}

static int create(struct db *db, const struct admin_call *call, uint64_t account_id, uint64_t department_id, uint64_t version,
                  struct admin_reply *reply)
{
    const char *label;
    char expires[32], token[ADMIN_TOKEN_BUFSIZE], token_id[ADMIN_TOKEN_ID_LEN + 1], *err = NULL;
    if (!json_is_object(call->body)) {
        problem_list_add(&reply->problems, "", "must be a JSON object");
        fail(reply, GW_ERR_INVALID_BODY);
        return 1;
    }
    if (read_create_body(call->body, &label, expires, reply) != 0)
        return 1;
    if (admin_token_issue(db, call->token_key, account_id, label, token, token_id, &err) != 0) {
        free(err);
        return -1;
    }
    json_t *expires_at = json_object_get(call->body, "expires_at");
    if ((expires[0] != '\0' && db_exec(db, 0, "UPDATE admin_tokens SET expires_at = ? WHERE id = ?",
                                       DB_ARGS(db_text(expires), db_text(token_id))) != 0) ||
        audit(db, call, version, department_id, "create_token",
              json_pack("{s:s, s:s, s:O?}", "token_id", token_id, "label", label, "expires_at", expires_at)) != 0) {
        secrets_wipe(token, sizeof(token));
        return -1;
    }
    reply->error = -1;
    reply->status = 201;
    reply->body = json_pack("{s:s, s:s, s:s, s:O?}", "id", token_id, "token", token, "label", label, "expires_at", expires_at);
    reply->location = xasprintf("/admin/v1/admin-accounts/%s/tokens/%s", call->name, token_id);
    secrets_wipe(token, sizeof(token));
    return 0;
}

static int revoke(struct db *db, const struct admin_call *call, uint64_t account_id, uint64_t department_id, uint64_t version,
                  struct admin_reply *reply)
{
    if (db_exec(db, 0,
                "UPDATE admin_tokens SET revoked_at = UTC_TIMESTAMP(6) WHERE id = ? AND account_id = ? AND revoked_at IS NULL",
                DB_ARGS(db_text(call->sub_id), db_uint(account_id))) != 0)
        return -1;
    if (db_affected_rows(db) == 0) {
        fail(reply, GW_ERR_ENTITY_NOT_FOUND);
        return 1;
    }
    if (audit(db, call, version, department_id, "revoke_token", json_pack("{s:s}", "token_id", call->sub_id)) != 0)
        return -1;
    reply->error = -1;
    reply->status = 204;
    return 0;
}

/* A create or a revoke as one registry write. */
static void change(struct db *db, const struct admin_call *call, uint64_t account_id, uint64_t department_id,
                   struct admin_reply *reply)
{
    uint64_t version = 0;
    if (registry_write_begin(db, &version) != 0) {
        fail(reply, GW_ERR_INTERNAL);
        return;
    }
    int rc = call->method == ADMIN_POST ? create(db, call, account_id, department_id, version, reply)
                                        : revoke(db, call, account_id, department_id, version, reply);
    if (rc == 0 && db_commit(db) == 0)
        return;
    db_rollback(db);
    if (rc <= 0) {
        json_decref(reply->body);
        reply->body = NULL;
        free(reply->location);
        reply->location = NULL;
        fail(reply, GW_ERR_INTERNAL);
    }
}

void admin_tokens_run(struct db *db, const struct admin_call *call, struct admin_reply *reply)
{
    uint64_t account_id = 0, department_id = 0;
    int item = call->sub_id != NULL;
    if (strcmp(call->sub, "tokens") != 0) {
        fail(reply, GW_ERR_NOT_FOUND);
        return;
    }
    if (item ? call->method != ADMIN_DELETE : call->method != ADMIN_GET && call->method != ADMIN_POST) {
        fail(reply, GW_ERR_METHOD_NOT_ALLOWED);
        return;
    }
    if (call->who.role == ADMIN_ROLE_AUDITOR) {
        fail(reply, GW_ERR_ADMIN_FORBIDDEN);
        return;
    }
    int found = find_account(db, call, &account_id, &department_id);
    if (found <= 0) {
        fail(reply, found == 0 ? GW_ERR_ENTITY_NOT_FOUND : GW_ERR_INTERNAL);
        return;
    }
    if (call->method == ADMIN_GET) {
        if (list(db, account_id, reply) != 0)
            fail(reply, GW_ERR_INTERNAL);
        return;
    }
    change(db, call, account_id, department_id, reply);
}
