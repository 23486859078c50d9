#include "gateway/oidc_userinfo.h"

#include <jansson.h>
#include <openssl/crypto.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "auth/access_token_read.h"
#include "auth/accounts.h"
#include "auth/scope_set.h"
#include "common/form.h"
#include "common/log.h"
#include "common/xalloc.h"
#include "gateway/async_request.h"
#include "gateway/auth_check.h"
#include "gateway/oauth_response.h"
#include "gateway/server.h"

enum userinfo_outcome {
    USERINFO_OK,
    USERINFO_INVALID_TOKEN,
    USERINFO_INSUFFICIENT_SCOPE,
    USERINFO_UNAVAILABLE,
};

struct userinfo_job {
    struct async_request ar; /* first: the job is freed through it */
    char *token;
    enum userinfo_outcome outcome;
    char *answer; /* the JSON answer, malloc'ed */
};

/* ---- answers ---- */

static void send_error(struct request_ctx *rc, int status, const char *reason, const char *error, const char *description)
{
    h2o_req_t *req = rc->req;
    char challenge[256];
    int n = snprintf(challenge, sizeof(challenge), "Bearer realm=\"yiwang\"%s%s%s", error != NULL ? ", error=\"" : "",
                     error != NULL ? error : "", error != NULL ? "\"" : "");
    if (strcmp(error != NULL ? error : "", "insufficient_scope") == 0)
        n += snprintf(challenge + n, sizeof(challenge) - (size_t)n, ", scope=\"openid\"");
    h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_WWW_AUTHENTICATE, NULL,
                   h2o_strdup(&req->pool, challenge, (size_t)n).base, (size_t)n);
    struct strbuf body = STRBUF_INIT;
    const char *code = error != NULL ? error : "invalid_token";
    strbuf_append_str(&body, "{\"error\":");
    strbuf_append_json_string(&body, code, strlen(code));
    strbuf_append_str(&body, ",\"error_description\":");
    strbuf_append_json_string(&body, description, strlen(description));
    strbuf_append_char(&body, '}');
    rc->error_code = code;
    oauth_send_json(rc, status, reason, &body);
}

static void send_invalid_token(struct request_ctx *rc)
{
    send_error(rc, 401, "Unauthorized", "invalid_token", "The access token is invalid, expired or revoked.");
}

/* ---- the worker's part ---- */

static void add_claims(json_t *answer, const char *scope, const struct account *account)
{
    json_object_set_new(answer, "sub", json_string(account->id));
    if (scope_set_has_word(scope, "profile") && account->name[0] != '\0')
        json_object_set_new(answer, "name", json_string(account->name));
    if (scope_set_has_word(scope, "phone")) {
        char e164[IDENTIFIERS_MOBILE_BUFSIZE + 4];
        snprintf(e164, sizeof(e164), "+86%s", account->mobile);
        json_object_set_new(answer, "phone_number", json_string(e164));
        json_object_set_new(answer, "phone_number_verified", json_true()); /* every login proved it with an SMS code */
    }
    if (scope_set_has_word(scope, "email") && account->email[0] != '\0') {
        json_object_set_new(answer, "email", json_string(account->email));
        json_object_set_new(answer, "email_verified", json_false()); /* nothing ever proves an email address */
    }
}

static enum userinfo_outcome unavailable(char *err)
{
    log_error("userinfo endpoint: %s", err != NULL ? err : "failed");
    free(err);
    return USERINFO_UNAVAILABLE;
}

static enum userinfo_outcome answer(struct userinfo_job *job, struct db *db, const struct jwt_claims *claims)
{
    char *err = NULL;
    int revoked = own_access_token_revoked(db, claims, &err);
    if (revoked != 0)
        return revoked < 0 ? unavailable(err) : USERINFO_INVALID_TOKEN;
    if (!scope_set_has_word(claims->scope, "openid"))
        return USERINFO_INSUFFICIENT_SCOPE;
    struct account account;
    int found = claims->is_client_token ? 0 : accounts_find_by_id(db, claims->sub, &account, &err);
    if (found < 0)
        return unavailable(err);
    if (found == 0 || account.status != ACCOUNT_ACTIVE)
        return USERINFO_INVALID_TOKEN;
    json_t *body = json_object();
    add_claims(body, claims->scope, &account);
    job->answer = json_dumps(body, JSON_COMPACT);
    json_decref(body);
    OPENSSL_cleanse(&account, sizeof(account));
    return job->answer != NULL ? USERINFO_OK : unavailable(NULL);
}

static void work(struct async_request *ar, struct worker_ctx *ctx)
{
    struct userinfo_job *job = (struct userinfo_job *)ar;
    const struct snapshot *snapshot = ar->snapshot;
    struct own_access_token at;
    if (!own_access_token_read(&snapshot->keyset, snapshot->config->identity.issuer, job->token, strlen(job->token),
                               (int64_t)time(NULL), &at)) {
        job->outcome = USERINFO_INVALID_TOKEN;
        return;
    }
    const char *db_err = NULL;
    struct db *db = at.valid == JWT_OK ? worker_ctx_db(ctx, &db_err) : NULL;
    if (at.valid != JWT_OK)
        job->outcome = USERINFO_INVALID_TOKEN;
    else if (db == NULL)
        job->outcome = unavailable(xstrdup(db_err != NULL ? db_err : "no database"));
    else
        job->outcome = answer(job, db, &at.claims);
    own_access_token_clear(&at);
}

static void respond(struct async_request *ar, struct request_ctx *rc)
{
    struct userinfo_job *job = (struct userinfo_job *)ar;
    switch (job->outcome) {
    case USERINFO_OK: {
        struct strbuf body = STRBUF_INIT;
        strbuf_append_str(&body, job->answer);
        oauth_send_json(rc, 200, "OK", &body);
        break;
    }
    case USERINFO_INVALID_TOKEN:
        send_invalid_token(rc);
        break;
    case USERINFO_INSUFFICIENT_SCOPE:
        send_error(rc, 403, "Forbidden", "insufficient_scope", "The access token does not carry the openid scope.");
        break;
    default:
        h2o_add_header(&rc->req->pool, &rc->req->res.headers, H2O_TOKEN_CACHE_CONTROL, NULL, H2O_STRLIT("no-store"));
        request_send_error(rc, GW_ERR_SIGN_IN_UNAVAILABLE);
        break;
    }
}

static void destroy(struct async_request *ar)
{
    struct userinfo_job *job = (struct userinfo_job *)ar;
    if (job->token != NULL) {
        OPENSSL_cleanse(job->token, strlen(job->token));
        free(job->token);
    }
    if (job->answer != NULL) {
        OPENSSL_cleanse(job->answer, strlen(job->answer));
        free(job->answer);
    }
    free(job);
}

/* ---- the event loop's part ---- */

/*
 * RFC 6750 §2.2: a POST may carry the token as access_token in a form body
 * instead. Returns it (malloc'ed), NULL when there is none; *bad is set when
 * the body is a form that cannot be read.
 */
static char *form_token(const h2o_req_t *req, int *bad)
{
    h2o_iovec_t type = request_header(req, H2O_STRLIT("content-type"));
    if (!h2o_memis(req->method.base, req->method.len, H2O_STRLIT("POST")) || type.base == NULL || type.len < 33 ||
        !h2o_lcstris(type.base, 33, H2O_STRLIT("application/x-www-form-urlencoded")))
        return NULL;
    struct form form;
    if (form_parse(&form, req->entity.base != NULL ? req->entity.base : "", req->entity.len, NULL) != FORM_OK) {
        *bad = 1;
        return NULL;
    }
    const char *value = form_get(&form, "access_token");
    char *token = value != NULL ? xstrdup(value) : NULL;
    form_clear(&form);
    return token;
}

/* The one token of the request, malloc'ed; NULL after answering. */
static char *read_token(struct request_ctx *rc)
{
    h2o_req_t *req = rc->req;
    int bad = 0;
    char *in_body = form_token(req, &bad);
    h2o_iovec_t in_header = auth_check_bearer_token(req);
    if (auth_check_query_carries_token(req) || bad || (in_body != NULL && in_header.base != NULL)) {
        /* in the URL it leaks into logs; two of them: which one is meant is ambiguous (RFC 6750 §2) */
        free(in_body);
        send_error(rc, 400, "Bad Request", "invalid_request", "Send one access token, in the Authorization header.");
        return NULL;
    }
    if (in_body == NULL && in_header.base == NULL) {
        send_error(rc, 401, "Unauthorized", NULL, "An access token is required.");
        return NULL;
    }
    char *token = in_body != NULL ? in_body : xstrndup(in_header.base, in_header.len);
    size_t len = strlen(token);
    if (len == 0 || len > JWT_MAX_TOKEN_LEN) {
        OPENSSL_cleanse(token, len);
        free(token);
        send_invalid_token(rc);
        return NULL;
    }
    return token;
}

void oidc_userinfo_endpoint(struct request_ctx *rc)
{
    h2o_req_t *req = rc->req;
    if (!h2o_memis(req->method.base, req->method.len, H2O_STRLIT("GET")) &&
        !h2o_memis(req->method.base, req->method.len, H2O_STRLIT("POST"))) {
        h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_ALLOW, NULL, H2O_STRLIT("GET, POST"));
        request_send_error(rc, GW_ERR_METHOD_NOT_ALLOWED);
        return;
    }
    char *token = read_token(rc);
    if (token == NULL)
        return;
    struct userinfo_job *job = xcalloc(1, sizeof(*job));
    job->token = token;
    async_request_start(rc, &job->ar, work, respond, destroy);
}
