#include "gateway/oauth_introspect.h"

#include <jansson.h>
#include <openssl/crypto.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "auth/access_token_read.h"
#include "auth/refresh_tokens.h"
#include "common/log.h"
#include "common/xalloc.h"
#include "gateway/async_request.h"
#include "gateway/oauth_client_auth.h"
#include "gateway/oauth_response.h"
#include "gateway/server.h"

struct introspect_job {
    struct async_request ar; /* first: the job is freed through it */
    struct oauth_credentials cred;
    char *token;
    const char *error; /* RFC 6749 error code, NULL on success */
    char *answer;      /* the JSON answer, malloc'ed */
};

static const char *const UNAVAILABLE = "temporarily_unavailable";

/* The claims of an active access token an introspection answer repeats. */
static void copy_claims(json_t *answer, const json_t *payload)
{
    static const char *const names[] = {"scope", "client_id", "sub", "exp", "iat", "nbf",
                                        "iss",   "aud",       "jti", "sid", "acr", "auth_time"};
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        json_t *value = json_object_get(payload, names[i]);
        if (value != NULL)
            json_object_set(answer, names[i], value);
    }
}

/* own_access_token_revoked, with its error logged. */
static int access_token_revoked(struct db *db, const struct jwt_claims *claims)
{
    char *err = NULL;
    int revoked = own_access_token_revoked(db, claims, &err);
    if (revoked < 0) {
        log_error("introspection endpoint: %s", err);
        free(err);
    }
    return revoked;
}

/* 1 our access token (`answer` filled when active), 0 not one, -1 error. */
static int inspect_access_token(struct introspect_job *job, struct db *db, const struct snapshot *snapshot, json_t *answer)
{
    struct own_access_token at;
    if (!own_access_token_read(&snapshot->keyset, snapshot->config->identity.issuer, job->token, strlen(job->token),
                               (int64_t)time(NULL), &at))
        return 0;
    int revoked = at.valid == JWT_OK ? access_token_revoked(db, &at.claims) : 1;
    if (revoked == 0) {
        json_object_set_new(answer, "active", json_true());
        copy_claims(answer, at.payload);
        json_object_set_new(answer, "token_type", json_string("Bearer"));
    }
    own_access_token_clear(&at);
    return revoked < 0 ? -1 : 1;
}

/* 1 a refresh token (`answer` filled when active and the caller's), 0 not one, -1 error. */
static int inspect_refresh_token(struct introspect_job *job, struct db *db, const struct async_request *ar, json_t *answer)
{
    struct refresh_token_info info;
    char *err = NULL;
    int found = refresh_tokens_inspect(db, ar->server->identity_keys.token_hash, job->token, strlen(job->token), &info, &err);
    if (found < 0) {
        log_error("introspection endpoint: %s", err);
        free(err);
        return -1;
    }
    if (found == 0 || !info.active || strcmp(info.client_id, job->cred.client_id) != 0)
        return found;
    json_object_set_new(answer, "active", json_true());
    json_object_set_new(answer, "scope", json_string(info.scope));
    json_object_set_new(answer, "client_id", json_string(info.client_id));
    json_object_set_new(answer, "sub", json_string(info.account_id));
    json_object_set_new(answer, "exp", json_integer(info.expires_at));
    json_object_set_new(answer, "iat", json_integer(info.issued_at));
    json_object_set_new(answer, "iss", json_string(ar->snapshot->config->identity.issuer));
    json_object_set_new(answer, "sid", json_string(info.sid));
    json_object_set_new(answer, "token_type", json_string("refresh_token"));
    OPENSSL_cleanse(&info, sizeof(info));
    return 1;
}

static void inspect(struct introspect_job *job, struct db *db, const struct async_request *ar)
{
    json_t *answer = json_object();
    int rc = inspect_access_token(job, db, ar->snapshot, answer);
    if (rc == 0)
        rc = inspect_refresh_token(job, db, ar, answer);
    if (rc < 0) {
        job->error = UNAVAILABLE;
    } else {
        if (json_object_get(answer, "active") == NULL)
            json_object_set_new(answer, "active", json_false());
        job->answer = json_dumps(answer, JSON_COMPACT);
        if (job->answer == NULL)
            job->error = UNAVAILABLE;
    }
    json_decref(answer);
}

static void work(struct async_request *ar, struct worker_ctx *ctx)
{
    struct introspect_job *job = (struct introspect_job *)ar;
    const char *db_err = NULL;
    struct db *db = worker_ctx_db(ctx, &db_err);
    if (db == NULL || !ar->server->has_identity_keys) {
        log_error("introspection endpoint: %s", db == NULL ? db_err : "no master key");
        job->error = UNAVAILABLE;
        return;
    }
    struct oauth_client client;
    /* public clients may not: introspection is for resource servers, and would let an app probe tokens */
    enum oauth_client_auth_result auth =
        oauth_client_authenticate(db, ar->server, &job->cred, 0, &client, "introspection endpoint");
    if (auth != OAUTH_CLIENT_OK) {
        job->error = auth == OAUTH_CLIENT_INVALID ? "invalid_client" : UNAVAILABLE;
        return;
    }
    oauth_client_clear(&client);
    inspect(job, db, ar);
}

static void respond(struct async_request *ar, struct request_ctx *rc)
{
    struct introspect_job *job = (struct introspect_job *)ar;
    if (job->error != NULL) {
        oauth_send_error(rc, job->error,
                         job->error == UNAVAILABLE ? "The service is temporarily unavailable." : "Client authentication failed.",
                         job->cred.used_basic);
        return;
    }
    struct strbuf body = STRBUF_INIT;
    strbuf_append_str(&body, job->answer);
    oauth_send_json(rc, 200, "OK", &body);
}

static void destroy(struct async_request *ar)
{
    struct introspect_job *job = (struct introspect_job *)ar;
    oauth_credentials_clear(&job->cred);
    oauth_token_free(job->token);
    free(job->answer);
    free(job);
}

void oauth_introspect_endpoint(struct request_ctx *rc)
{
    struct form form;
    if (oauth_read_post_form(rc, &form) != 0)
        return;
    struct introspect_job *job = xcalloc(1, sizeof(*job));
    const char *error = NULL;
    const char *description = oauth_token_request_read(rc->req, &form, &job->cred, &job->token, &error);
    form_clear(&form);
    if (description != NULL) {
        oauth_send_error(rc, error, description, job->cred.used_basic);
        destroy(&job->ar);
        return;
    }
    async_request_start(rc, &job->ar, work, respond, destroy);
}
