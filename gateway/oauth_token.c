#include "gateway/oauth_token.h"

#include <openssl/crypto.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "auth/access_token.h"
#include "auth/clients.h"
#include "auth/legal_persons.h"
#include "auth/refresh_tokens.h"
#include "common/form.h"
#include "common/log.h"
#include "common/strbuf.h"
#include "common/xalloc.h"
#include "gateway/async_request.h"
#include "gateway/auth_api_common.h"
#include "auth/scope_set.h"
#include "gateway/oauth_client_auth.h"
#include "gateway/oauth_code_grant.h"
#include "gateway/oauth_response.h"
#include "gateway/server.h"

struct token_job {
    struct async_request ar;        /* first: the job is freed through it */
    struct oauth_credentials cred;  /* a public client (no secret): refresh_token grant only */
    char *requested_scope;          /* NULL: all the client may have */
    char *refresh_token;            /* the refresh_token grant's token; NULL for client_credentials */
    struct code_grant_request code; /* the authorization_code grant's parameters (malloc'ed); code NULL otherwise */
    /* results */
    const char *error; /* RFC 6749 error code, NULL on success */
    const char *error_description;
    char *access_token;
    char scope[REFRESH_SCOPE_MAX + 1];
    unsigned expires_in;
    char new_refresh_token[SECRETS_TOKEN_BUFSIZE]; /* "" unless the grant rotated one */
    char *id_token;                                /* NULL unless the scope has openid */
};

/* ---- answers ---- */

static void send_token(struct request_ctx *rc, const struct token_job *job)
{
    struct strbuf body = STRBUF_INIT;
    strbuf_append_str(&body, "{\"access_token\":");
    strbuf_append_json_string(&body, job->access_token, strlen(job->access_token));
    strbuf_appendf(&body, ",\"token_type\":\"Bearer\",\"expires_in\":%u,\"scope\":", job->expires_in);
    strbuf_append_json_string(&body, job->scope, strlen(job->scope));
    if (job->new_refresh_token[0] != '\0') {
        strbuf_append_str(&body, ",\"refresh_token\":");
        strbuf_append_json_string(&body, job->new_refresh_token, strlen(job->new_refresh_token));
    }
    if (job->id_token != NULL) {
        strbuf_append_str(&body, ",\"id_token\":");
        strbuf_append_json_string(&body, job->id_token, strlen(job->id_token));
    }
    strbuf_append_char(&body, '}');
    oauth_send_json(rc, 200, "OK", &body);
}

/* ---- the worker's part ---- */

static int fail(struct token_job *job, const char *error, const char *description)
{
    job->error = error;
    job->error_description = description;
    return -1;
}

static int authenticate(struct token_job *job, struct db *db, const struct server *server, struct oauth_client *client)
{
    /* the refresh token is bound to its client, so a public client's token is its credential; a code is bound to its
     * client and, for a public client, to the PKCE verifier only that client knows */
    int public_allowed = job->refresh_token != NULL || job->code.code != NULL;
    switch (oauth_client_authenticate(db, server, &job->cred, public_allowed, client, "token endpoint")) {
    case OAUTH_CLIENT_OK:
        return 0;
    case OAUTH_CLIENT_INVALID:
        return fail(job, "invalid_client", "Client authentication failed.");
    default:
        return fail(job, "temporarily_unavailable", "The service is temporarily unavailable.");
    }
}

static void issue(struct token_job *job, const struct snapshot *snapshot, const struct oauth_client *client)
{
    const struct identity_config *identity = &snapshot->config->identity;
    if (snapshot->signer.pkey == NULL) {
        fail(job, "temporarily_unavailable", "No signing key is available.");
        return;
    }
    char jti[ACCESS_TOKEN_JTI_LEN + 1];
    struct access_token_grant grant = {
        .issuer = identity->issuer,
        .audience = identity->audiences[0],
        .subject = client->client_id,
        .client_id = client->client_id,
        .scope = job->scope,
        .now = (int64_t)time(NULL),
        .lifetime_s = identity->access_token_ttl_s,
    };
    job->expires_in = identity->access_token_ttl_s;
    if ((job->access_token = access_token_issue(&snapshot->signer, &grant, jti)) == NULL)
        fail(job, "temporarily_unavailable", "The token could not be signed.");
}

static void work_client_credentials(struct async_request *ar, struct worker_ctx *ctx)
{
    struct token_job *job = (struct token_job *)ar;
    const char *db_err = NULL;
    struct db *db = worker_ctx_db(ctx, &db_err);
    if (db == NULL) {
        log_error("token endpoint: database unavailable: %s", db_err);
        fail(job, "temporarily_unavailable", "The service is temporarily unavailable.");
        return;
    }
    struct oauth_client client;
    if (authenticate(job, db, ar->server, &client) != 0)
        return;
    if (!clients_grant_allowed(&client, "client_credentials"))
        fail(job, "unauthorized_client", "This client may not use the client_credentials grant.");
    else if (clients_resolve_scope(&client, job->requested_scope, job->scope, sizeof(job->scope)) != 0)
        fail(job, "invalid_scope", "A requested scope is not allowed for this client.");
    else
        issue(job, ar->snapshot, &client);
    oauth_client_clear(&client);
}

/* ---- refresh_token (RFC 6749 §6) ---- */

static const char *const INVALID_REFRESH = "The refresh token is invalid, expired or revoked.";

/* Maps a rotation that issued nothing to its RFC 6749 error; reuse is logged (an attack or a badly broken app). */
static void refuse_refresh(struct token_job *job, enum refresh_result result, const struct refresh_grant *grant, char *err)
{
    if (result == REFRESH_REUSED || result == REFRESH_WRONG_CLIENT)
        log_warn("refresh token %s: family %s of client %s revoked (presented by client %s)", refresh_result_name(result),
                 grant->family_id, grant->client_id, job->cred.client_id);
    if (result == REFRESH_ERROR) {
        log_error("token endpoint: %s", err != NULL ? err : "refresh failed");
        fail(job, "temporarily_unavailable", "The service is temporarily unavailable.");
    } else if (result == REFRESH_BAD_SCOPE) {
        fail(job, "invalid_scope", "The requested scope exceeds what the refresh token grants.");
    } else {
        fail(job, "invalid_grant", INVALID_REFRESH);
    }
    free(err);
}

/*
 * A family acting for a legal person refreshes only while the person is still its agent: removing an agent stops them
 * at their next token, and the family is revoked so that a later refresh does not ask again.
 */
static int still_acts_for_org(struct token_job *job, struct db *db, const struct refresh_grant *grant)
{
    char code[IDENTIFIERS_USCC_BUFSIZE], *err = NULL;
    int allowed = legal_persons_may_act_for(db, grant->account_id, grant->org, code, &err);
    if (allowed == 0 && refresh_tokens_revoke_family(db, grant->family_id, REFRESH_REVOKED_AGENT_REMOVED, &err) >= 0) {
        fail(job, "invalid_grant", INVALID_REFRESH);
        return 0;
    }
    if (allowed <= 0) {
        log_error("token endpoint: %s", err != NULL ? err : "cannot check the legal person");
        free(err);
        fail(job, "temporarily_unavailable", "The service is temporarily unavailable.");
        return 0;
    }
    return 1;
}

static void rotate(struct token_job *job, struct db *db, const struct async_request *ar, const struct oauth_client *client)
{
    const struct identity_config *identity = &ar->snapshot->config->identity;
    const struct refresh_policy policy = {.ttl_s = identity->refresh_token_ttl_s, .reuse_grace_s = identity->refresh_reuse_grace_s};
    const struct refresh_scope_request scope = {.requested = job->requested_scope, .allowed = client->allowed_scopes};
    struct refresh_grant grant;
    char *err = NULL;
    enum refresh_result result =
        refresh_tokens_rotate(db, &ar->server->identity_keys, &policy, job->refresh_token, strlen(job->refresh_token),
                              client->client_id, &scope, job->new_refresh_token, &grant, &err);
    if (result != REFRESH_ROTATED && result != REFRESH_REPEATED) {
        refuse_refresh(job, result, &grant, err);
        return;
    }
    if (grant.org[0] != '\0' && !still_acts_for_org(job, db, &grant))
        return;
    snprintf(job->scope, sizeof(job->scope), "%s", grant.access_scope);
    const struct user_token_subject who = {grant.account_id,
                                           client->client_id,
                                           job->scope,
                                           grant.sid,
                                           grant.acr,
                                           grant.auth_time,
                                           grant.org[0] != '\0' ? grant.org : NULL};
    job->access_token = auth_api_access_token(ar->snapshot, &who, &job->expires_in, NULL);
    if (job->access_token == NULL)
        fail(job, "temporarily_unavailable", "The token could not be signed.");
    /* OIDC Core §12.2: a refresh of an OpenID grant returns a new ID token, without nonce */
    if (job->access_token != NULL && scope_set_has_word(job->scope, "openid") &&
        (job->id_token = oauth_id_token(ar->snapshot, &who, NULL, NULL, job->access_token)) == NULL)
        fail(job, "temporarily_unavailable", "The token could not be signed.");
    /* a cheap, timer-free sweep: the new token is random, so this runs after about one rotation in 64 */
    if (result == REFRESH_ROTATED && job->new_refresh_token[0] == 'A' && refresh_tokens_sweep(db, 100, &err) < 0) {
        log_warn("token endpoint: %s", err);
        free(err);
    }
}

static void work_refresh_token(struct async_request *ar, struct worker_ctx *ctx)
{
    struct token_job *job = (struct token_job *)ar;
    const char *db_err = NULL;
    struct db *db = worker_ctx_db(ctx, &db_err);
    if (db == NULL || !ar->server->has_identity_keys) {
        log_error("token endpoint: %s", db == NULL ? db_err : "no master key: refresh tokens cannot be checked");
        fail(job, "temporarily_unavailable", "The service is temporarily unavailable.");
        return;
    }
    struct oauth_client client;
    if (authenticate(job, db, ar->server, &client) != 0)
        return;
    if (!clients_grant_allowed(&client, "refresh_token"))
        fail(job, "unauthorized_client", "This client may not use the refresh_token grant.");
    else
        rotate(job, db, ar, &client);
    oauth_client_clear(&client);
}

/* ---- authorization_code (RFC 6749 §4.1.3) ---- */

static void work_authorization_code(struct async_request *ar, struct worker_ctx *ctx)
{
    struct token_job *job = (struct token_job *)ar;
    const char *db_err = NULL;
    struct db *db = worker_ctx_db(ctx, &db_err);
    if (db == NULL || !ar->server->has_identity_keys) {
        log_error("token endpoint: %s", db == NULL ? db_err : "no master key: codes cannot be checked");
        fail(job, "temporarily_unavailable", "The service is temporarily unavailable.");
        return;
    }
    struct oauth_client client;
    if (authenticate(job, db, ar->server, &client) != 0)
        return;
    struct code_grant_tokens tokens;
    const char *description = NULL;
    memset(&tokens, 0, sizeof(tokens));
    const char *error = oauth_code_grant_redeem(db, ar, &client, &job->code, &tokens, &description);
    if (error != NULL) {
        fail(job, error, description);
    } else {
        job->access_token = tokens.access_token;
        job->id_token = tokens.id_token;
        job->expires_in = tokens.expires_in;
        snprintf(job->scope, sizeof(job->scope), "%s", tokens.scope);
        memcpy(job->new_refresh_token, tokens.refresh_token, sizeof(job->new_refresh_token));
        tokens.access_token = tokens.id_token = NULL;
        code_grant_tokens_clear(&tokens);
    }
    oauth_client_clear(&client);
}

static void respond(struct async_request *ar, struct request_ctx *rc)
{
    struct token_job *job = (struct token_job *)ar;
    if (job->error != NULL)
        oauth_send_error(rc, job->error, job->error_description, job->cred.used_basic);
    else
        send_token(rc, job);
}

static void destroy(struct async_request *ar)
{
    struct token_job *job = (struct token_job *)ar;
    oauth_credentials_clear(&job->cred);
    free(job->requested_scope);
    free(job->access_token);
    if (job->refresh_token != NULL) {
        OPENSSL_cleanse(job->refresh_token, strlen(job->refresh_token));
        free(job->refresh_token);
    }
    OPENSSL_cleanse(job->new_refresh_token, sizeof(job->new_refresh_token));
    free(job->id_token);
    if (job->code.code != NULL)
        OPENSSL_cleanse((char *)job->code.code, strlen(job->code.code));
    free((char *)job->code.code);
    free((char *)job->code.redirect_uri);
    free((char *)job->code.code_verifier);
    free(job);
}

/* ---- the event loop's part: parse and check what needs no database ---- */

/* Fills the job from the request; returns NULL on success or the error_description of an invalid_request/invalid_client. */
static const char *read_request(struct request_ctx *rc, const struct form *form, struct token_job *job, const char **error)
{
    const char *description = oauth_credentials_read(rc->req, form, &job->cred, error);
    if (description != NULL)
        return description;
    const char *scope = form_get(form, "scope");
    if (scope != NULL)
        job->requested_scope = xstrdup(scope);
    return NULL;
}

/* The refresh_token grant's own parameter (RFC 6749 §6). */
static const char *read_refresh_token(const struct form *form, struct token_job *job)
{
    const char *token = form_get(form, "refresh_token");
    if (token == NULL || token[0] == '\0')
        return "refresh_token is required.";
    job->refresh_token = xstrdup(token);
    return NULL;
}

/* The authorization_code grant's own parameters (RFC 6749 §4.1.3, RFC 7636 §4.5). */
static const char *read_code(const struct form *form, struct token_job *job)
{
    const char *code = form_get(form, "code"), *redirect_uri = form_get(form, "redirect_uri"),
               *verifier = form_get(form, "code_verifier");
    if (code == NULL || code[0] == '\0')
        return "code is required.";
    job->code.code = xstrdup(code);
    job->code.redirect_uri = redirect_uri != NULL ? xstrdup(redirect_uri) : NULL;
    job->code.code_verifier = verifier != NULL ? xstrdup(verifier) : NULL;
    return NULL;
}

void oauth_token_endpoint(struct request_ctx *rc)
{
    struct form form;
    if (oauth_read_post_form(rc, &form) != 0)
        return;
    const char *grant_type = form_get(&form, "grant_type");
    struct token_job *job = xcalloc(1, sizeof(*job));
    const char *error = "invalid_request", *description = NULL;
    int refresh = grant_type != NULL && strcmp(grant_type, "refresh_token") == 0;
    int code = grant_type != NULL && strcmp(grant_type, "authorization_code") == 0;
    if (grant_type == NULL)
        description = "grant_type is required.";
    else if (!refresh && !code && strcmp(grant_type, "client_credentials") != 0)
        error = "unsupported_grant_type", description = "This grant type is not supported.";
    else if ((description = read_request(rc, &form, job, &error)) == NULL && (refresh || code))
        description = refresh ? read_refresh_token(&form, job) : read_code(&form, job);
    form_clear(&form);
    if (description != NULL) {
        oauth_send_error(rc, error, description, job->cred.used_basic);
        destroy(&job->ar);
        return;
    }
    async_request_start(rc, &job->ar,
                        refresh ? work_refresh_token
                        : code  ? work_authorization_code
                                : work_client_credentials,
                        respond, destroy);
}
