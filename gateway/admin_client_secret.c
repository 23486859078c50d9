/*
 * admin_client_secret.c — POST /admin/v1/clients/<client_id>/secret
 * {"overlap_s": 0..604800}: a new secret for a confidential client
 * (docs/registry.md §5).
 *
 * The previous secret keeps working for overlap_s seconds (002's
 * previous_secret_hash / previous_secret_expires_at), so a department can
 * deploy the new one without an outage; 0 ends it at once. The new secret is
 * in this answer only. One registry write: the client's version changes, and
 * the audit record says {"secret": "rotated", "previous_secret_expires_at":
 * ...}, never a secret or a hash. Platform admins rotate any client,
 * department admins their own department's (another's is 404), auditors and
 * operators none. No If-Match: a rotation does not depend on what the client
 * looked like.
 *
 * Worker threads only.
 */
#include <stdlib.h>
#include <string.h>

#include "auth/clients.h"
#include "common/log.h"
#include "common/registry_write.h"
#include "gateway/admin_entity.h"

#define MAX_OVERLAP_S 604800

static void fail(struct admin_reply *reply, enum gateway_error error)
{
    reply->error = (int)error;
}

/* overlap_s from the body (default 0); problems go to the reply. */
static int read_overlap(const json_t *body, long long *overlap, struct admin_reply *reply)
{
    const char *key;
    const json_t *value;
    *overlap = 0;
    if (!json_is_object(body)) {
        problem_list_add(&reply->problems, "", "must be a JSON object");
    } else {
        json_object_foreach((json_t *)body, key, value)
        {
            if (strcmp(key, "overlap_s") != 0)
                problem_list_add(&reply->problems, "", "unknown member '%s'", key);
            else if (!json_is_integer(value) || json_integer_value(value) < 0 || json_integer_value(value) > MAX_OVERLAP_S)
                problem_list_add(&reply->problems, "/overlap_s", "must be an integer between 0 and %d", MAX_OVERLAP_S);
            else
                *overlap = json_integer_value(value);
        }
    }
    if (reply->problems.count == 0)
        return 0;
    fail(reply, GW_ERR_INVALID_BODY);
    return -1;
}

/* The client's department and whether it is confidential: 1, 0 (404 for this caller), -1 db error. */
static int find_client(struct db *db, const struct admin_call *call, uint64_t *department_id, int *is_confidential)
{
    struct db_result *res =
        db_query(db, 0, "SELECT IFNULL(owner_department_id, 0), confidential FROM oauth_clients WHERE client_id = ? FOR UPDATE",
                 DB_ARGS(db_text(call->name)));
    int row = res != NULL ? db_result_next(res) : -1;
    if (row != 1)
        return row;
    if (db_result_uint64(res, 0, department_id) != DB_GET_OK || db_result_int(res, 1, is_confidential) != DB_GET_OK)
        return -1;
    return call->who.role == ADMIN_ROLE_PLATFORM_ADMIN || *department_id == call->who.department_id;
}

/* Stores the new secret's hash and appends the audit record; the answer gets the secret. 0, 1 (answered), -1 db error. */
static int rotate(struct db *db, const struct admin_call *call, uint64_t version, long long overlap, uint64_t department_id,
                  struct admin_reply *reply)
{
    char secret[SECRETS_TOKEN_BUFSIZE], hash[65];
    if (secrets_token_generate(secret) != 0 || clients_hash_secret(call->token_key, secret, SECRETS_TOKEN_LEN, hash) != 0)
        return -1;
    int rc =
        db_exec(db, 0,
                "UPDATE oauth_clients SET previous_secret_hash = IF(? > 0, secret_hash, NULL), previous_secret_expires_at = "
                "IF(? > 0, UTC_TIMESTAMP(6) + INTERVAL ? SECOND, NULL), secret_hash = ?, version = ? WHERE client_id = ?",
                DB_ARGS(db_int(overlap), db_int(overlap), db_int(overlap), db_text(hash), db_uint(version), db_text(call->name)));
    json_t *answer = json_object(), *after = NULL;
    struct db_result *res = rc == 0 ? db_query(db, 0, "SELECT previous_secret_expires_at FROM oauth_clients WHERE client_id = ?",
                                               DB_ARGS(db_text(call->name)))
                                    : NULL;
    if (res == NULL || db_result_next(res) != 1 || admin_put_time(answer, "previous_secret_expires_at", res, 0) != 0)
        goto fail;
    json_t *expires = json_object_get(answer, "previous_secret_expires_at");
    after = json_pack("{s:s, s:O?}", "secret", "rotated", "previous_secret_expires_at", expires);
    struct registry_audit record = {.actor = call->who.name,
                                    .actor_role = admin_role_name(call->who.role),
                                    .action = "rotate_secret",
                                    .entity_type = "client",
                                    .entity_key = call->name,
                                    .department_id = department_id,
                                    .after = after,
                                    .request_id = call->request_id,
                                    .source_address = call->source_address};
    if (registry_audit_append(db, version, &record) != 0)
        goto fail;
    json_decref(after);
    json_object_set_new(answer, "client_secret", json_string(secret));
    if (expires == NULL)
        json_object_set_new(answer, "previous_secret_expires_at", json_null());
    secrets_wipe(secret, sizeof(secret));
    reply->error = -1;
    reply->status = 200;
    reply->body = answer;
    reply->etag = version;
    reply->has_etag = 1;
    return 0;
fail:
    secrets_wipe(secret, sizeof(secret));
    json_decref(after);
    json_decref(answer);
    return -1;
}

void admin_client_secret_run(struct db *db, const struct admin_call *call, struct admin_reply *reply)
{
    long long overlap = 0;
    uint64_t version = 0, department_id = 0;
    int is_confidential = 0;
    if (strcmp(call->sub, "secret") != 0) {
        fail(reply, GW_ERR_NOT_FOUND);
        return;
    }
    if (call->method != ADMIN_POST) {
        fail(reply, GW_ERR_METHOD_NOT_ALLOWED);
        return;
    }
    if (call->who.role != ADMIN_ROLE_PLATFORM_ADMIN && call->who.role != ADMIN_ROLE_DEPARTMENT_ADMIN) {
        fail(reply, GW_ERR_ADMIN_FORBIDDEN);
        return;
    }
    if (read_overlap(call->body, &overlap, reply) != 0)
        return;
    if (registry_write_begin(db, &version) != 0) {
        log_error("admin API: rotate secret: %s", db_error(db));
        fail(reply, GW_ERR_INTERNAL);
        return;
    }
    int found = find_client(db, call, &department_id, &is_confidential), rc = -1;
    if (found == 0) {
        fail(reply, GW_ERR_ENTITY_NOT_FOUND);
    } else if (found > 0 && !is_confidential) {
        problem_list_add(&reply->problems, "", "a public client has no secret");
        fail(reply, GW_ERR_INVALID_BODY);
    } else if (found > 0) {
        rc = rotate(db, call, version, overlap, department_id, reply);
        if (rc == 0 && db_commit(db) != 0)
            rc = -1;
    }
    if (rc == 0)
        return;
    db_rollback(db);
    if (found < 0 || (found > 0 && is_confidential)) {
        log_error("admin API: rotate secret: %s", db_error(db));
        json_decref(reply->body);
        reply->body = NULL;
        fail(reply, GW_ERR_INTERNAL);
    }
}
