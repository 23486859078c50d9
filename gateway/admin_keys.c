/*
 * admin_keys.c — the operator's endpoints (docs/registry.md §5, §6):
 *
 *   GET  /admin/v1/keys         the token-signing keys the table holds: kid,
 *                               alg, state, times; never key material
 *   POST /admin/v1/keys/rotate  {"alg": "ES256"|"RS256"} (optional; default
 *                               identity.signing_alg): a new active key,
 *                               the same lifecycle as `yiwang keys rotate`
 *   POST /admin/v1/reload       THIS node re-reads its config file, as SIGHUP
 *
 * Reading: platform admins, operators, auditors. Rotating and reloading:
 * platform admins and operators. A rotation is one registry write: the key
 * rows and the audit record commit together, so no rotation is ever without
 * its record; every node's key sync picks the new key up within seconds.
 *
 * A reload is per node: a load balancer sends the request to one node, and
 * only that node re-reads its file (files are deployed per node). The worker
 * sends SIGHUP to its own process; every thread blocks SIGHUP and the main
 * thread takes it in sigtimedwait(), so the reload runs there exactly as an
 * operator's `kill -HUP` would, and a broken file is logged and ignored. The
 * answer (202) says the reload was requested, not that it succeeded: /readyz
 * shows the generation and /metrics the failed reloads.
 *
 * Worker threads only.
 */
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "auth/signing_keys.h"
#include "common/log.h"
#include "common/registry_write.h"
#include "common/xalloc.h"
#include "gateway/admin_entity.h"

static void fail(struct admin_reply *reply, enum gateway_error error)
{
    reply->error = (int)error;
}

static int may_write(const struct admin_call *call)
{
    return call->who.role == ADMIN_ROLE_PLATFORM_ADMIN || call->who.role == ADMIN_ROLE_OPERATOR;
}

/* ---- GET /admin/v1/keys ---- */

static void list_keys(struct db *db, const struct admin_call *call, struct admin_reply *reply)
{
    if (!may_write(call) && call->who.role != ADMIN_ROLE_AUDITOR) {
        fail(reply, GW_ERR_ADMIN_FORBIDDEN);
        return;
    }
    /* a handful of rows per rotation: no paging; newest first, so the active keys lead */
    struct db_result *res = db_query(db, DB_IDEMPOTENT,
                                     "SELECT kid, alg, state, created_at, activated_at, retired_at FROM signing_keys "
                                     "ORDER BY created_at DESC, kid",
                                     DB_NO_ARGS);
    json_t *items = json_array();
    int row = res != NULL ? 0 : -1;
    while (res != NULL && (row = db_result_next(res)) == 1) {
        json_t *doc = json_object();
        json_array_append_new(items, doc);
        if (admin_put_text(doc, "kid", res, 0) != 0 || admin_put_text(doc, "alg", res, 1) != 0 ||
            admin_put_text(doc, "state", res, 2) != 0 || admin_put_time(doc, "created_at", res, 3) != 0 ||
            admin_put_time(doc, "activated_at", res, 4) != 0 || admin_put_time(doc, "retired_at", res, 5) != 0) {
            row = -1;
            break;
        }
    }
    if (row != 0) {
        log_error("admin API: list signing keys: %s", db_error(db));
        json_decref(items);
        fail(reply, GW_ERR_INTERNAL);
        return;
    }
    reply->error = -1;
    reply->status = 200;
    reply->body = json_pack("{s:o}", "items", items);
}

/* ---- POST /admin/v1/keys/rotate ---- */

/* The algorithm from the optional body, else the node's identity.signing_alg. 0, or -1 with problems (400). */
static int read_alg(const struct admin_call *call, enum jwt_alg *alg, struct admin_reply *reply)
{
    const char *name = call->signing_alg != NULL ? call->signing_alg : "ES256", *key;
    const json_t *value;
    if (call->body != NULL && !json_is_object(call->body)) {
        problem_list_add(&reply->problems, "", "must be a JSON object");
    } else if (call->body != NULL) {
        json_object_foreach((json_t *)call->body, key, value)
        {
            if (strcmp(key, "alg") != 0)
                problem_list_add(&reply->problems, "", "unknown member '%s'", key);
            else if (!json_is_string(value) ||
                     (strcmp(json_string_value(value), "ES256") != 0 && strcmp(json_string_value(value), "RS256") != 0))
                problem_list_add(&reply->problems, "/alg", "must be \"ES256\" or \"RS256\"");
            else
                name = json_string_value(value);
        }
    }
    if (reply->problems.count > 0) {
        fail(reply, GW_ERR_INVALID_BODY);
        return -1;
    }
    *alg = strcmp(name, "RS256") == 0 ? JWT_ALG_RS256_PINNED : JWT_ALG_ES256_PINNED;
    return 0;
}

static void rotate(struct db *db, const struct admin_call *call, struct admin_reply *reply)
{
    enum jwt_alg alg;
    if (!may_write(call)) {
        fail(reply, GW_ERR_ADMIN_FORBIDDEN);
        return;
    }
    if (read_alg(call, &alg, reply) != 0)
        return;
    if (call->master == NULL) {
        reply->detail = xstrdup("this node has no master key (identity.master_key_file): it cannot make signing keys");
        fail(reply, GW_ERR_GATEWAY_OVERLOADED);
        return;
    }
    const char *alg_text = alg == JWT_ALG_RS256_PINNED ? "RS256" : "ES256";
    uint64_t version = 0;
    char kid[44], *err = NULL;
    int created = 0;
    if (registry_write_begin(db, &version) != 0) {
        log_error("admin API: rotate key: %s", db_error(db));
        fail(reply, GW_ERR_INTERNAL);
        return;
    }
    if (signing_keys_rotate_in_transaction(db, call->master, alg, 0, &created, kid, &err) != 0) {
        log_error("admin API: rotate key: %s", err);
        free(err);
        db_rollback(db);
        fail(reply, GW_ERR_INTERNAL);
        return;
    }
    json_t *after = json_pack("{s:s, s:s}", "kid", kid, "alg", alg_text);
    struct registry_audit record = {.actor = call->who.name,
                                    .actor_role = admin_role_name(call->who.role),
                                    .action = "rotate_key",
                                    .entity_type = "signing_key",
                                    .entity_key = kid,
                                    .after = after,
                                    .request_id = call->request_id,
                                    .source_address = call->source_address};
    if (registry_audit_append(db, version, &record) != 0 || db_commit(db) != 0) {
        log_error("admin API: rotate key: %s", db_error(db));
        db_rollback(db);
        json_decref(after);
        fail(reply, GW_ERR_INTERNAL);
        return;
    }
    log_info("signing key %s (%s) made by %s through the admin API", kid, alg_text, call->who.name);
    reply->error = -1;
    reply->status = 201;
    reply->body = after; /* {kid, alg}: exactly what the audit record says, never key material */
}

void admin_keys_run(struct db *db, const struct admin_call *call, struct admin_reply *reply)
{
    if (call->sub != NULL || (call->name != NULL && strcmp(call->name, "rotate") != 0)) {
        fail(reply, GW_ERR_NOT_FOUND);
    } else if (call->name == NULL) {
        if (call->method == ADMIN_GET)
            list_keys(db, call, reply);
        else
            fail(reply, GW_ERR_METHOD_NOT_ALLOWED);
    } else if (call->method != ADMIN_POST) {
        fail(reply, GW_ERR_METHOD_NOT_ALLOWED);
    } else {
        rotate(db, call, reply);
    }
}

/* ---- POST /admin/v1/reload ---- */

void admin_reload_run(struct db *db, const struct admin_call *call, struct admin_reply *reply)
{
    if (call->name != NULL) {
        fail(reply, GW_ERR_NOT_FOUND);
        return;
    }
    if (call->method != ADMIN_POST) {
        fail(reply, GW_ERR_METHOD_NOT_ALLOWED);
        return;
    }
    if (!may_write(call)) {
        fail(reply, GW_ERR_ADMIN_FORBIDDEN);
        return;
    }
    char host[256];
    if (gethostname(host, sizeof(host)) != 0 || host[0] == '\0')
        snprintf(host, sizeof(host), "pid %ld", (long)getpid());
    host[sizeof(host) - 1] = '\0'; /* gethostname need not terminate a truncated name */
    uint64_t version = 0;
    json_t *after = json_pack("{s:s, s:I}", "node", host, "pid", (json_int_t)getpid());
    struct registry_audit record = {.actor = call->who.name,
                                    .actor_role = admin_role_name(call->who.role),
                                    .action = "reload",
                                    .entity_type = "node",
                                    .entity_key = host,
                                    .after = after,
                                    .request_id = call->request_id,
                                    .source_address = call->source_address};
    /* recorded first: a reload the audit log cannot show is not requested */
    if (registry_write_begin(db, &version) != 0 || registry_audit_append(db, version, &record) != 0 || db_commit(db) != 0) {
        log_error("admin API: reload: %s", db_error(db));
        db_rollback(db);
        json_decref(after);
        fail(reply, GW_ERR_INTERNAL);
        return;
    }
    json_decref(after);
    /* process-directed; every thread blocks SIGHUP, so it stays pending until the main thread's sigtimedwait() takes it */
    if (kill(getpid(), SIGHUP) != 0) {
        log_error("admin API: reload: cannot signal this process");
        fail(reply, GW_ERR_INTERNAL);
        return;
    }
    log_info("configuration reload requested by %s through the admin API", call->who.name);
    reply->error = -1;
    reply->status = 202;
    reply->body = json_pack("{s:s, s:s}", "reload", "requested", "node", host);
}
