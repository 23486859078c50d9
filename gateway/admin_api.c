#include "gateway/admin_api.h"

#include <stdlib.h>
#include <string.h>

#include "common/error_envelope.h"
#include "common/form.h"
#include "common/log.h"
#include "common/xalloc.h"
#include "gateway/admin_entity.h"
#include "gateway/async_request.h"
#include "gateway/request.h"
#include "gateway/server.h"

#define AUDIT_LOG_COLLECTION "audit-log"
#define KEYS_COLLECTION "keys"
#define RELOAD_COLLECTION "reload"

static const struct admin_entity *const entities[] = {&admin_departments, &admin_services,        &admin_routes,
                                                      &admin_scopes,      &admin_rate_policies,   &admin_accounts,
                                                      &admin_clients,     &admin_route_namespaces};

struct admin_job {
    struct async_request ar; /* first: the job is freed through it */
    struct admin_call call;
    struct admin_reply reply;
    char *token; /* from Authorization, wiped when done */
    int token_present;
    int pre_error; /* found while reading the request, answered after authentication; -1 none */
    struct problem_list pre_problems;
    struct form query;
    char *strings[8]; /* owned copies the call points into */
};

/* ---- reading the request (loop thread) ---- */

static char *own(struct admin_job *job, size_t slot, const char *base, size_t len)
{
    job->strings[slot] = xcalloc(1, len + 1);
    memcpy(job->strings[slot], base, len);
    return job->strings[slot];
}

static int parse_method(h2o_iovec_t m, enum admin_method *out)
{
    static const struct {
        const char *name;
        enum admin_method method;
    } methods[] = {{"GET", ADMIN_GET}, {"HEAD", ADMIN_GET},    {"POST", ADMIN_POST},
                   {"PUT", ADMIN_PUT}, {"PATCH", ADMIN_PATCH}, {"DELETE", ADMIN_DELETE}};
    for (size_t i = 0; i < sizeof(methods) / sizeof(methods[0]); i++) {
        if (h2o_memis(m.base, m.len, methods[i].name, strlen(methods[i].name))) {
            *out = methods[i].method;
            return 0;
        }
    }
    return -1;
}

/* Names in URLs are plain [A-Za-z0-9._:-] (scope names included), so nothing needs decoding. */
static int segment_ok(const char *s, size_t len)
{
    if (len == 0 || len > 128)
        return 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || strchr("._:-", c) != NULL))
            return 0;
    }
    return 1;
}

/* /admin/v1/<collection>[/<name>[/<sub>[/<sub_id>]]]; -1 when the path has another shape. */
static int parse_path(struct admin_job *job, const char *path, size_t len)
{
    static const char prefix[] = "/admin/v1/";
    const char **parts[] = {&job->call.collection, &job->call.name, &job->call.sub, &job->call.sub_id};
    if (len < sizeof(prefix) - 1 || memcmp(path, prefix, sizeof(prefix) - 1) != 0)
        return -1;
    const char *at = path + sizeof(prefix) - 1, *end = path + len;
    for (size_t i = 0; i < sizeof(parts) / sizeof(parts[0]); i++) {
        const char *slash = memchr(at, '/', (size_t)(end - at));
        size_t segment_len = slash != NULL ? (size_t)(slash - at) : (size_t)(end - at);
        if (!segment_ok(at, segment_len))
            return -1;
        *parts[i] = own(job, i, at, segment_len);
        if (slash == NULL)
            return 0;
        at = slash + 1;
    }
    return -1; /* more segments than any resource has */
}

/* limit, cursor and the filters; -1 for a malformed query (400 invalid_query). */
static int parse_query(struct admin_job *job, const char *query, size_t len)
{
    struct admin_call *call = &job->call;
    call->limit = ADMIN_API_DEFAULT_LIMIT;
    if (form_parse(&job->query, query, len, NULL) != FORM_OK)
        return -1;
    const char *limit = form_get(&job->query, "limit"), *cursor = form_get(&job->query, "cursor");
    if (limit != NULL) {
        char *end = NULL;
        long n = strtol(limit, &end, 10);
        if (end == limit || *end != '\0' || n < 1 || n > ADMIN_API_MAX_LIMIT)
            return -1;
        call->limit = (unsigned)n;
    }
    if (cursor != NULL && admin_cursor_parse(cursor, call) != 0)
        return -1;
    call->filter_department = form_get(&job->query, "department");
    call->filter_service = form_get(&job->query, "service");
    call->filter_entity_type = form_get(&job->query, "entity_type");
    call->filter_entity_key = form_get(&job->query, "entity_key");
    call->filter_actor = form_get(&job->query, "actor");
    call->filter_since = form_get(&job->query, "since");
    return 0;
}

static void read_token(struct admin_job *job, h2o_req_t *req)
{
    h2o_iovec_t auth = request_header(req, H2O_STRLIT("authorization"));
    if (auth.base == NULL)
        return;
    job->token_present = 1;
    if (auth.len > 7 && h2o_lcstris(auth.base, 7, H2O_STRLIT("bearer "))) {
        size_t skip = 7;
        while (skip < auth.len && auth.base[skip] == ' ')
            skip++;
        job->token = xcalloc(1, auth.len - skip + 1);
        memcpy(job->token, auth.base + skip, auth.len - skip);
    }
}

static int content_type_is(h2o_req_t *req, const char *type, size_t len)
{
    h2o_iovec_t ct = request_header(req, H2O_STRLIT("content-type"));
    return ct.base != NULL && ct.len >= len && h2o_lcstris(ct.base, len, type, len) && (ct.len == len || ct.base[len] == ';');
}

/* Content type and JSON syntax of a write's body; the problem is kept in pre_error. */
static void read_body(struct admin_job *job, h2o_req_t *req)
{
    enum admin_method m = job->call.method;
    if (m == ADMIN_GET || m == ADMIN_DELETE)
        return;
    /* a rotation's body is optional and a reload has none: an empty POST there needs no Content-Type */
    int bodiless = strcmp(job->call.collection, KEYS_COLLECTION) == 0 || strcmp(job->call.collection, RELOAD_COLLECTION) == 0;
    if (bodiless && req->entity.len == 0)
        return;
    int ok_type = m == ADMIN_PATCH ? content_type_is(req, H2O_STRLIT("application/merge-patch+json"))
                                   : content_type_is(req, H2O_STRLIT("application/json"));
    if (!ok_type) {
        job->pre_error = GW_ERR_UNSUPPORTED_MEDIA_TYPE;
        return;
    }
    if (req->entity.len > ADMIN_API_MAX_BODY) {
        job->pre_error = GW_ERR_BODY_TOO_LARGE;
        return;
    }
    json_error_t error;
    job->call.body = json_loadb(req->entity.base != NULL ? req->entity.base : "", req->entity.len, JSON_REJECT_DUPLICATES, &error);
    if (job->call.body == NULL) {
        job->pre_error = GW_ERR_INVALID_BODY;
        problem_list_add(&job->pre_problems, "", "not valid JSON: %s (at byte %d)", error.text, error.position);
    }
}

/* ---- the work (worker thread) ---- */

static const struct admin_entity *find_entity(const char *collection)
{
    for (size_t i = 0; i < sizeof(entities) / sizeof(entities[0]); i++) {
        if (strcmp(entities[i]->collection, collection) == 0)
            return entities[i];
    }
    return NULL;
}

static void set_error(struct admin_reply *reply, enum gateway_error error)
{
    reply->error = (int)error;
}

static int authenticate(struct admin_job *job, struct db *db)
{
    char *err = NULL;
    if (job->token == NULL) {
        set_error(&job->reply, GW_ERR_ADMIN_UNAUTHENTICATED);
        return -1;
    }
    int found =
        admin_token_lookup(db, job->ar.server->identity_keys.token_hash, job->token, strlen(job->token), &job->call.who, &err);
    if (found == 1)
        return 0;
    if (found < 0) {
        log_error("admin API: %s", err);
        free(err);
        set_error(&job->reply, GW_ERR_INTERNAL);
    } else {
        set_error(&job->reply, GW_ERR_ADMIN_UNAUTHENTICATED);
    }
    return -1;
}

static void run(struct admin_job *job, struct db *db);

/*
 * An unreachable database is the registry being unavailable, not a fault of the gateway: the nodes keep serving the
 * last snapshot, and the caller is told to retry (503 registry_unavailable with Retry-After), whichever step found it.
 */
static void work(struct async_request *ar, struct worker_ctx *ctx)
{
    struct admin_job *job = (struct admin_job *)ar;
    const char *db_err = NULL;
    struct db *db = worker_ctx_db(ctx, &db_err);
    if (db == NULL) {
        log_error("admin API: %s", db_err);
        set_error(&job->reply, GW_ERR_REGISTRY_UNAVAILABLE);
        return;
    }
    if (!ar->server->has_identity_keys) {
        log_error("admin API: no master key: admin tokens cannot be checked");
        set_error(&job->reply, GW_ERR_GATEWAY_OVERLOADED);
        return;
    }
    run(job, db);
    if (job->reply.error == (int)GW_ERR_INTERNAL && db_error_is_unavailable(db))
        set_error(&job->reply, GW_ERR_REGISTRY_UNAVAILABLE);
}

static void run(struct admin_job *job, struct db *db)
{
    if (authenticate(job, db) != 0)
        return;
    const struct async_request *ar = &job->ar;
    job->call.node_max_body_bytes = ar->snapshot->config->limits.max_body_bytes;
    job->call.token_key = ar->server->identity_keys.token_hash;
    job->call.master = ar->server->master;
    job->call.signing_alg = ar->snapshot->config->identity.signing_alg;
    const struct admin_entity *entity = find_entity(job->call.collection);
    int is_audit_log = strcmp(job->call.collection, AUDIT_LOG_COLLECTION) == 0;
    int is_keys = strcmp(job->call.collection, KEYS_COLLECTION) == 0,
        is_reload = strcmp(job->call.collection, RELOAD_COLLECTION) == 0;
    if (entity == NULL && !is_audit_log && !is_keys && !is_reload) {
        set_error(&job->reply, GW_ERR_NOT_FOUND);
    } else if (job->pre_error >= 0) {
        set_error(&job->reply, (enum gateway_error)job->pre_error);
        job->reply.problems = job->pre_problems;
        job->pre_problems = (struct problem_list)PROBLEM_LIST_INIT;
    } else if (is_audit_log) {
        admin_audit_log_run(db, &job->call, &job->reply);
    } else if (is_keys) {
        admin_keys_run(db, &job->call, &job->reply);
    } else if (is_reload) {
        admin_reload_run(db, &job->call, &job->reply);
    } else if (job->call.sub != NULL) {
        if (entity == &admin_accounts)
            admin_tokens_run(db, &job->call, &job->reply);
        else if (entity == &admin_clients && job->call.sub_id == NULL)
            admin_client_secret_run(db, &job->call, &job->reply);
        else if (entity == &admin_services && job->call.sub_id == NULL)
            admin_service_openapi_run(db, &job->call, &job->reply);
        else
            set_error(&job->reply, GW_ERR_NOT_FOUND);
    } else {
        admin_crud_run(db, entity, &job->call, &job->reply);
    }
}

/* ---- the answer (loop thread) ---- */

static void add_header(h2o_req_t *req, const h2o_token_t *token, const char *value)
{
    size_t len = strlen(value);
    h2o_add_header(&req->pool, &req->res.headers, token, NULL, h2o_strdup(&req->pool, value, len).base, len);
}

static void send_answer(struct request_ctx *rc, int status, const char *reason, struct strbuf *body)
{
    h2o_req_t *req = rc->req;
    req->res.status = status;
    req->res.reason = reason;
    add_header(req, H2O_TOKEN_CACHE_CONTROL, "no-store");
    if (body->len > 0) {
        add_header(req, H2O_TOKEN_CONTENT_TYPE, "application/json; charset=utf-8");
        req->res.content_length = body->len;
    }
    h2o_send_inline(req, body->data != NULL ? body->data : "", body->len);
    strbuf_free(body);
}

static const char *allowed_methods(const struct admin_call *call)
{
    if (strcmp(call->collection, RELOAD_COLLECTION) == 0)
        return "POST";
    if (strcmp(call->collection, KEYS_COLLECTION) == 0)
        return call->name != NULL ? "POST" : "GET, HEAD";
    return call->name != NULL ? "GET, HEAD, PUT, PATCH, DELETE" : "GET, HEAD, POST";
}

static void send_error(struct request_ctx *rc, const struct admin_job *job)
{
    const struct gateway_error_info *info = gateway_error_info((enum gateway_error)job->reply.error);
    h2o_req_t *req = rc->req;
    if (info->status == 401)
        add_header(req, H2O_TOKEN_WWW_AUTHENTICATE,
                   job->token_present ? "Bearer realm=\"yiwang-admin\", error=\"invalid_token\"" : "Bearer realm=\"yiwang-admin\"");
    if (info->status == 405)
        add_header(req, H2O_TOKEN_ALLOW, allowed_methods(&job->call));
    if (info->status == 503)
        add_header(req, H2O_TOKEN_RETRY_AFTER, "1");
    rc->error_code = info->code;
    /* the catalogue's sentences follow Accept-Language as everywhere else; details and problems are English */
    h2o_iovec_t accept = request_header(req, H2O_STRLIT("accept-language"));
    int zh = job->reply.detail == NULL && error_language_from_accept(accept.base, accept.len) == LANGUAGE_ZH;
    add_header(req, H2O_TOKEN_CONTENT_LANGUAGE, zh ? "zh-CN" : "en");
    add_header(req, H2O_TOKEN_VARY, "Accept-Language");
    const char *message = job->reply.detail != NULL ? job->reply.detail : zh ? info->message_zh : info->message_en;
    struct strbuf body = STRBUF_INIT;
    error_envelope_append_problems(&body, info->code, message, rc->request_id.base, rc->request_id.len, &job->reply.problems);
    send_answer(rc, info->status, info->reason, &body);
}

static const char *success_reason(int status)
{
    switch (status) {
    case 201:
        return "Created";
    case 202:
        return "Accepted";
    case 204:
        return "No Content";
    default:
        return "OK";
    }
}

static void respond(struct async_request *ar, struct request_ctx *rc)
{
    struct admin_job *job = (struct admin_job *)ar;
    struct admin_reply *reply = &job->reply;
    if (reply->error >= 0) {
        send_error(rc, job);
        return;
    }
    char etag[32];
    if (reply->has_etag) {
        snprintf(etag, sizeof(etag), "\"%llu\"", (unsigned long long)reply->etag);
        add_header(rc->req, H2O_TOKEN_ETAG, etag);
    }
    if (reply->location != NULL)
        add_header(rc->req, H2O_TOKEN_LOCATION, reply->location);
    struct strbuf body = STRBUF_INIT;
    if (reply->body != NULL) {
        char *text = json_dumps(reply->body, JSON_COMPACT);
        strbuf_append_str(&body, text != NULL ? text : "null");
        free(text);
    }
    send_answer(rc, reply->status, success_reason(reply->status), &body);
}

static void destroy(struct async_request *ar)
{
    struct admin_job *job = (struct admin_job *)ar;
    if (job->token != NULL) {
        secrets_wipe(job->token, strlen(job->token));
        free(job->token);
    }
    json_decref(job->call.body);
    json_decref(job->reply.body);
    free(job->reply.detail);
    free(job->reply.location);
    problem_list_clear(&job->reply.problems);
    problem_list_clear(&job->pre_problems);
    form_clear(&job->query);
    for (size_t i = 0; i < sizeof(job->strings) / sizeof(job->strings[0]); i++)
        free(job->strings[i]);
    free(job);
}

/* Answers a request that never reaches a worker (not an admin path shape, bad method, bad query). */
static void answer_now(struct request_ctx *rc, struct admin_job *job, enum gateway_error error)
{
    job->reply.error = (int)error;
    send_error(rc, job);
    destroy(&job->ar);
}

int admin_api_handle(h2o_req_t *req)
{
    if (req->path.len < sizeof(ADMIN_API_PREFIX) - 1 || memcmp(req->path.base, ADMIN_API_PREFIX, sizeof(ADMIN_API_PREFIX) - 1) != 0)
        return 0;
    struct request_ctx *rc = request_begin(req);
    struct admin_job *job = xcalloc(1, sizeof(*job));
    job->pre_error = -1;
    job->reply.error = -1;
    size_t path_len = req->query_at != SIZE_MAX ? req->query_at : req->path.len;
    if (parse_path(job, req->path.base, path_len) != 0) {
        answer_now(rc, job, GW_ERR_NOT_FOUND);
        return 1;
    }
    if (parse_method(req->method, &job->call.method) != 0) {
        answer_now(rc, job, GW_ERR_METHOD_NOT_ALLOWED);
        return 1;
    }
    read_token(job, req);
    if (req->query_at != SIZE_MAX && parse_query(job, req->path.base + req->query_at + 1, req->path.len - req->query_at - 1) != 0)
        job->pre_error = GW_ERR_INVALID_QUERY;
    if (req->query_at == SIZE_MAX)
        job->call.limit = ADMIN_API_DEFAULT_LIMIT;
    if (job->pre_error < 0)
        read_body(job, req);
    h2o_iovec_t if_match = request_header(req, H2O_STRLIT("if-match"));
    if (if_match.base != NULL)
        job->call.if_match = own(job, 4, if_match.base, if_match.len);
    /* copies: the worker may still run after the request (and its pool) is gone */
    job->call.request_id = own(job, 5, rc->request_id.base, rc->request_id.len);
    job->call.source_address = own(job, 6, rc->client_ip, strlen(rc->client_ip));
    async_request_start(rc, &job->ar, work, respond, destroy);
    return 1;
}
