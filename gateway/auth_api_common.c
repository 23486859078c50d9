#include "gateway/auth_api_common.h"

#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "auth/access_token.h"
#include "auth/refresh_tokens.h"
#include "common/log.h"
#include "gateway/server.h"

/* ---- loop: reading ---- */

static int is_json_body(const h2o_req_t *req)
{
    h2o_iovec_t type = request_header(req, H2O_STRLIT("content-type"));
    static const char json[] = "application/json";
    size_t n = sizeof(json) - 1;
    return type.base != NULL && type.len >= n && h2o_lcstris(type.base, n, json, n) &&
           (type.len == n || type.base[n] == ';' || type.base[n] == ' ');
}

static int is_allowed(const char *key, const char *const *allowed)
{
    for (; *allowed != NULL; allowed++) {
        if (strcmp(key, *allowed) == 0)
            return 1;
    }
    return 0;
}

/* Every member is known and a string: a typo or a number where a string belongs is an error, not silently ignored. */
static int members_are_valid(const json_t *body, const char *const *allowed)
{
    const char *key;
    const json_t *value;
    json_object_foreach((json_t *)body, key, value)
    {
        if (!is_allowed(key, allowed) || !json_is_string(value))
            return 0;
    }
    return 1;
}

json_t *auth_api_read_body(struct request_ctx *rc, const char *const *allowed)
{
    h2o_req_t *req = rc->req;
    if (!h2o_memis(req->method.base, req->method.len, H2O_STRLIT("POST"))) {
        h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_ALLOW, NULL, H2O_STRLIT("POST"));
        request_send_error(rc, GW_ERR_METHOD_NOT_ALLOWED);
        return NULL;
    }
    if (req->entity.len > AUTH_API_MAX_BODY) {
        request_send_error(rc, GW_ERR_BODY_TOO_LARGE);
        return NULL;
    }
    json_t *body = NULL;
    if (is_json_body(req) && req->entity.base != NULL)
        body = json_loadb(req->entity.base, req->entity.len, JSON_REJECT_DUPLICATES, NULL);
    if (!json_is_object(body) || !members_are_valid(body, allowed)) {
        json_decref(body);
        request_send_error(rc, GW_ERR_BAD_REQUEST);
        return NULL;
    }
    return body;
}

const char *auth_api_field(const json_t *body, const char *name, size_t max_len, int *too_long)
{
    const json_t *value = json_object_get(body, name);
    if (!json_is_string(value))
        return NULL;
    if (json_string_length(value) > max_len)
        *too_long = 1;
    return json_string_value(value);
}

int auth_api_read_client(const json_t *body, struct api_client *out)
{
    int too_long = 0;
    memset(out, 0, sizeof(*out));
    const char *id = auth_api_field(body, "client_id", CLIENT_ID_MAX, &too_long);
    const char *secret = auth_api_field(body, "client_secret", AUTH_API_SECRET_MAX, &too_long);
    if (id == NULL || id[0] == '\0' || too_long)
        return -1;
    strcpy(out->client_id, id);
    if (secret != NULL) {
        out->has_secret = 1;
        out->secret_len = strlen(secret);
        memcpy(out->secret, secret, out->secret_len + 1);
    }
    return 0;
}

void auth_api_client_clear(struct api_client *client)
{
    OPENSSL_cleanse(client, sizeof(*client));
}

/* ---- loop: answering ---- */

void auth_api_send_error(struct request_ctx *rc, const struct api_outcome *outcome)
{
    h2o_req_t *req = rc->req;
    if (gateway_error_info(outcome->error)->status == 429) {
        char *value = h2o_mem_alloc_pool(&req->pool, 16);
        int n = snprintf(value, 16, "%u", outcome->retry_after_s > 0 ? outcome->retry_after_s : 1);
        h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_RETRY_AFTER, NULL, value, (size_t)n);
    }
    request_send_error(rc, outcome->error);
}

void auth_api_append_tokens(struct strbuf *out, const struct api_tokens *tokens)
{
    strbuf_append_str(out, "\"access_token\":");
    strbuf_append_json_string(out, tokens->access_token, strlen(tokens->access_token));
    strbuf_appendf(out, ",\"token_type\":\"Bearer\",\"expires_in\":%u", tokens->expires_in);
    if (tokens->refresh_token[0] != '\0') {
        strbuf_append_str(out, ",\"refresh_token\":");
        strbuf_append_json_string(out, tokens->refresh_token, strlen(tokens->refresh_token));
    }
    strbuf_append_str(out, ",\"scope\":");
    strbuf_append_json_string(out, tokens->scope, strlen(tokens->scope));
    if (tokens->session_id[0] != '\0') {
        strbuf_append_str(out, ",\"session_id\":");
        strbuf_append_json_string(out, tokens->session_id, strlen(tokens->session_id));
    }
}

void auth_api_tokens_clear(struct api_tokens *tokens)
{
    free(tokens->access_token);
    OPENSSL_cleanse(tokens, sizeof(*tokens));
}

/* ---- worker ---- */

int auth_api_fail(struct api_outcome *outcome, enum gateway_error error, unsigned retry_after_s)
{
    outcome->failed = 1;
    outcome->error = error;
    outcome->retry_after_s = retry_after_s;
    return -1;
}

int auth_api_unavailable(struct api_outcome *outcome, const char *what, char *err)
{
    log_error("sign-in: %s: %s", what, err != NULL ? err : "unknown error");
    free(err);
    return auth_api_fail(outcome, GW_ERR_SIGN_IN_UNAVAILABLE, 0);
}

struct db *auth_api_db(struct async_request *ar, struct worker_ctx *ctx, struct api_outcome *outcome)
{
    if (!ar->server->has_identity_keys) {
        /* without the master key nothing can be hashed or sealed: refuse rather than store secrets unprotected */
        auth_api_fail(outcome, GW_ERR_SIGN_IN_UNAVAILABLE, 0);
        return NULL;
    }
    const char *err = NULL;
    struct db *db = worker_ctx_db(ctx, &err);
    if (db == NULL) {
        log_error("sign-in: database unavailable: %s", err);
        auth_api_fail(outcome, GW_ERR_SIGN_IN_UNAVAILABLE, 0);
    }
    return db;
}

int auth_api_authenticate(struct db *db, const struct async_request *ar, const struct api_client *who, struct oauth_client *client,
                          struct api_outcome *outcome)
{
    char *err = NULL;
    int found = clients_load(db, who->client_id, client, &err);
    if (found < 0)
        return auth_api_unavailable(outcome, "cannot load the client", err);
    int ok = found == 1 && client->active && client->first_party &&
             (client->confidential ? who->has_secret && clients_secret_matches(client, ar->server->identity_keys.token_hash,
                                                                               who->secret, who->secret_len, (int64_t)time(NULL))
                                   : !who->has_secret);
    if (!ok) {
        oauth_client_clear(client);
        return auth_api_fail(outcome, GW_ERR_INVALID_CLIENT, 0);
    }
    return 0;
}

char *auth_api_access_token(const struct snapshot *snapshot, const struct user_token_subject *who, unsigned *expires_in, char *jti)
{
    const struct identity_config *identity = &snapshot->config->identity;
    if (snapshot->signer.pkey == NULL)
        return NULL;
    char acr_text[4], own_jti[ACCESS_TOKEN_JTI_LEN + 1];
    snprintf(acr_text, sizeof(acr_text), "%u", who->acr);
    struct access_token_grant grant = {
        .issuer = identity->issuer,
        .audience = identity->audiences[0],
        .subject = who->account_id,
        .client_id = who->client_id,
        .scope = who->scope,
        .sid = who->sid,
        .acr = acr_text,
        .auth_time = who->auth_time,
        .org = who->org,
        .now = (int64_t)time(NULL),
        .lifetime_s = identity->access_token_ttl_s,
    };
    *expires_in = identity->access_token_ttl_s;
    return access_token_issue(&snapshot->signer, &grant, jti != NULL ? jti : own_jti);
}

int auth_api_sign_in(struct db *db, const struct async_request *ar, const struct oauth_client *client,
                     const struct account *account, enum session_amr amr, const char *scope, const char *org,
                     struct api_tokens *tokens, struct api_outcome *outcome)
{
    const struct identity_config *identity = &ar->snapshot->config->identity;
    const struct identity_keys *keys = &ar->server->identity_keys;
    struct refresh_policy refresh = {.ttl_s = identity->refresh_token_ttl_s, .reuse_grace_s = identity->refresh_reuse_grace_s};
    struct session session;
    char family[RANDOM_ID_BUFSIZE], *err = NULL;
    snprintf(tokens->scope, sizeof(tokens->scope), "%s", scope);
    if (sessions_create(db, keys->token_hash, &identity->sessions, account, amr, client->client_id, tokens->session_id, &session,
                        &err) != 0)
        return auth_api_unavailable(outcome, "cannot create the session", err);
    if (clients_grant_allowed(client, "refresh_token") &&
        refresh_tokens_issue(db, keys->token_hash, &refresh,
                             &(struct refresh_family){session.sid, client->client_id, tokens->scope, org}, tokens->refresh_token,
                             family, &err) != 0)
        return auth_api_unavailable(outcome, "cannot issue the refresh token", err);
    const struct user_token_subject who = {
        account->id, client->client_id, tokens->scope, session.sid, account->assurance_level, session.auth_time, org};
    tokens->access_token = auth_api_access_token(ar->snapshot, &who, &tokens->expires_in, NULL);
    if (tokens->access_token == NULL)
        return auth_api_unavailable(outcome, "cannot sign the access token", NULL);
    return 0;
}
