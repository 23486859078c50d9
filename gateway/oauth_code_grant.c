#include "gateway/oauth_code_grant.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "auth/id_token.h"
#include "auth/legal_persons.h"
#include "auth/refresh_tokens.h"
#include "auth/scope_set.h"
#include "common/log.h"
#include "common/xalloc.h"
#include "gateway/auth_api_common.h"
#include "gateway/server.h"

struct issue_ctx {
    const struct async_request *ar;
    const struct oauth_client *client;
    struct code_grant_tokens *out;
    int not_an_agent; /* the callback refused: the person may no longer act for the code's legal person */
};

char *oauth_id_token(const struct snapshot *snapshot, const struct user_token_subject *who, const char *nonce, const char *amr,
                     const char *access_token)
{
    const struct identity_config *identity = &snapshot->config->identity;
    if (snapshot->signer.pkey == NULL)
        return NULL;
    char acr_text[4];
    snprintf(acr_text, sizeof(acr_text), "%u", who->acr);
    const struct id_token_grant grant = {
        .issuer = identity->issuer,
        .subject = who->account_id,
        .client_id = who->client_id,
        .nonce = nonce,
        .acr = acr_text,
        .amr = amr,
        .sid = who->sid,
        .access_token = access_token,
        .org = who->org,
        .auth_time = who->auth_time,
        .now = (int64_t)time(NULL),
        .lifetime_s = identity->oidc.id_token_ttl_s,
    };
    return id_token_issue(&snapshot->signer, &grant);
}

/*
 * The agent was checked when the code was issued; it is asked again because an agent removed since must not get
 * tokens, just as at every refresh. 1 yes, 0 no (ctx->not_an_agent set), -1 error (*err set).
 */
static int still_acts_for_org(struct db *db, const struct authz_code_grant *grant, struct issue_ctx *ctx, char **err)
{
    char code[IDENTIFIERS_USCC_BUFSIZE];
    int allowed = legal_persons_may_act_for(db, grant->account_id, grant->org, code, err);
    ctx->not_an_agent = allowed == 0;
    return allowed;
}

/* authz_code_issue_cb: runs inside the redemption's transaction; a failure rolls the redemption back. */
static int issue_tokens(struct db *db, const struct authz_code_grant *grant, void *arg, struct authz_code_tokens *record,
                        char **err)
{
    struct issue_ctx *ctx = arg;
    const struct async_request *ar = ctx->ar;
    const struct identity_config *identity = &ar->snapshot->config->identity;
    const char *client_id = ctx->client->client_id;
    const char *org = grant->org[0] != '\0' ? grant->org : NULL;
    struct code_grant_tokens *out = ctx->out;
    if (org != NULL && still_acts_for_org(db, grant, ctx, err) != 1)
        return -1;
    snprintf(out->scope, sizeof(out->scope), "%s", grant->scope);
    if (clients_grant_allowed(ctx->client, "refresh_token")) {
        const struct refresh_policy policy = {.ttl_s = identity->refresh_token_ttl_s,
                                              .reuse_grace_s = identity->refresh_reuse_grace_s};
        const struct refresh_family family = {grant->sid, client_id, grant->scope, org};
        if (refresh_tokens_issue(db, ar->server->identity_keys.token_hash, &policy, &family, out->refresh_token, record->family_id,
                                 err) != 0)
            return -1;
    }
    const struct user_token_subject who = {grant->account_id, client_id,        grant->scope, grant->sid,
                                           grant->acr,        grant->auth_time, org};
    out->access_token = auth_api_access_token(ar->snapshot, &who, &out->expires_in, record->access_jti);
    if (out->access_token == NULL) {
        *err = xstrdup("cannot sign the access token");
        return -1;
    }
    record->access_expires_at = (int64_t)time(NULL) + out->expires_in;
    if (scope_set_has_word(grant->scope, "openid")) {
        out->id_token = oauth_id_token(ar->snapshot, &who, grant->nonce[0] != '\0' ? grant->nonce : NULL,
                                       session_amr_name(grant->amr), out->access_token);
        if (out->id_token == NULL) {
            *err = xstrdup("cannot sign the ID token");
            return -1;
        }
    }
    return 0;
}

const char *oauth_code_grant_redeem(struct db *db, const struct async_request *ar, const struct oauth_client *client,
                                    const struct code_grant_request *request, struct code_grant_tokens *out,
                                    const char **description)
{
    if (!clients_grant_allowed(client, "authorization_code")) {
        *description = "This client may not use the authorization_code grant.";
        return "unauthorized_client";
    }
    const struct authz_code_redemption redemption = {
        .code = request->code,
        .code_len = strlen(request->code),
        .client_id = client->client_id,
        .redirect_uri = request->redirect_uri,
        .code_verifier = request->code_verifier,
    };
    struct issue_ctx ctx = {.ar = ar, .client = client, .out = out};
    struct authz_code_grant grant;
    char *err = NULL;
    enum authz_code_result result =
        authz_codes_redeem(db, ar->server->identity_keys.token_hash, &redemption, issue_tokens, &ctx, &grant, &err);
    secrets_wipe(&grant, sizeof(grant));
    if (result == AUTHZ_CODE_ERROR && ctx.not_an_agent) { /* rolled back: the code is not spent, but gives nothing either */
        free(err);
        code_grant_tokens_clear(out);
        *description = "The person may no longer act for this legal person.";
        return "invalid_grant";
    }
    switch (result) {
    case AUTHZ_CODE_REDEEMED:
        return NULL;
    case AUTHZ_CODE_REPLAYED:
        log_warn("authorization code replayed by client %s: the tokens of its first use are revoked", client->client_id);
        /* fall through */
    case AUTHZ_CODE_INVALID:
        code_grant_tokens_clear(out);
        *description = "The authorization code is invalid, expired or used.";
        return "invalid_grant";
    default:
        log_error("token endpoint: %s", err != NULL ? err : "redeeming the code failed");
        free(err);
        code_grant_tokens_clear(out);
        *description = "The service is temporarily unavailable.";
        return "temporarily_unavailable";
    }
}

void code_grant_tokens_clear(struct code_grant_tokens *tokens)
{
    if (tokens->access_token != NULL)
        secrets_wipe(tokens->access_token, strlen(tokens->access_token));
    free(tokens->access_token);
    free(tokens->id_token);
    secrets_wipe(tokens, sizeof(*tokens));
}
