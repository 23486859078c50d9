#include "gateway/identity_endpoints.h"

#include <string.h>

#include "gateway/auth_api.h"
#include "gateway/browser_flow.h"
#include "gateway/catalog_endpoints.h"
#include "gateway/oauth_introspect.h"
#include "gateway/oauth_revoke.h"
#include "gateway/oauth_token.h"
#include "gateway/oidc_discovery.h"
#include "gateway/oidc_logout.h"
#include "gateway/oidc_userinfo.h"

/* Relying parties cache the JWKS; keys overlap for a whole rotation period, so a minute of staleness is harmless. */
#define JWKS_MAX_AGE "public, max-age=60"

static int is_get_or_head(const h2o_req_t *req)
{
    return h2o_memis(req->method.base, req->method.len, H2O_STRLIT("GET")) ||
           h2o_memis(req->method.base, req->method.len, H2O_STRLIT("HEAD"));
}

static void serve_jwks(struct request_ctx *rc)
{
    h2o_req_t *req = rc->req;
    const struct snapshot *snapshot = rc->holder->snapshot;
    if (!is_get_or_head(req)) {
        h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_ALLOW, NULL, H2O_STRLIT("GET, HEAD"));
        request_send_error(rc, GW_ERR_METHOD_NOT_ALLOWED);
        return;
    }
    req->res.status = 200;
    req->res.reason = "OK";
    req->res.content_length = snapshot->jwks_len;
    h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CONTENT_TYPE, NULL, H2O_STRLIT("application/jwk-set+json"));
    h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CACHE_CONTROL, NULL, H2O_STRLIT(JWKS_MAX_AGE));
    /* the snapshot outlives the request (pinned), so its bytes can be sent without copying */
    static h2o_generator_t generator = {NULL, NULL};
    h2o_start_response(req, &generator);
    h2o_iovec_t body = h2o_iovec_init(snapshot->jwks, snapshot->jwks_len);
    h2o_send(req, &body, 1, H2O_SEND_STATE_FINAL);
}

/* Token lifecycle and OpenID Connect endpoints beside the token endpoint. */
static int dispatch_token_lifecycle(struct request_ctx *rc, const char *path, size_t path_len)
{
    static const struct {
        const char *path;
        size_t len;
        void (*serve)(struct request_ctx *rc);
    } endpoints[] = {
        {H2O_STRLIT("/.well-known/openid-configuration"), oidc_discovery_serve},
        {H2O_STRLIT("/oauth/revoke"), oauth_revoke_endpoint},
        {H2O_STRLIT("/oauth/introspect"), oauth_introspect_endpoint},
        {H2O_STRLIT("/oauth/logout"), oidc_logout_endpoint},
        {H2O_STRLIT("/userinfo"), oidc_userinfo_endpoint},
    };
    for (size_t i = 0; i < sizeof(endpoints) / sizeof(endpoints[0]); i++) {
        if (h2o_memis(path, path_len, endpoints[i].path, endpoints[i].len)) {
            endpoints[i].serve(rc);
            return 1;
        }
    }
    return 0;
}

/* The JSON sign-in API for first-party apps (auth_api.h) and the browser flow's pages (browser_flow.h). */
static int dispatch_sign_in_api(struct request_ctx *rc, const char *path, size_t path_len)
{
    static const struct {
        const char *path;
        size_t len;
        void (*serve)(struct request_ctx *rc);
    } endpoints[] = {
        {H2O_STRLIT("/v1/auth/sms"), auth_api_sms},           {H2O_STRLIT("/v1/auth/login"), auth_api_login},
        {H2O_STRLIT("/v1/auth/password"), auth_api_password}, {H2O_STRLIT("/oauth/authorize"), browser_authorize},
        {H2O_STRLIT("/oauth/login"), browser_login},          {H2O_STRLIT("/oauth/consent"), browser_consent},
    };
    for (size_t i = 0; i < sizeof(endpoints) / sizeof(endpoints[0]); i++) {
        if (h2o_memis(path, path_len, endpoints[i].path, endpoints[i].len)) {
            endpoints[i].serve(rc);
            return 1;
        }
    }
    return 0;
}

int identity_endpoint_dispatch(struct request_ctx *rc, const char *path, size_t path_len)
{
    const struct snapshot *snapshot = rc->holder->snapshot;
    /* the catalog and the OpenAPI document describe the routes too, so they exist without an identity section */
    if (catalog_endpoint_dispatch(rc, path, path_len))
        return 1;
    if (snapshot->config->identity.issuer == NULL)
        return 0;
    if (h2o_memis(path, path_len, H2O_STRLIT("/.well-known/jwks.json"))) {
        serve_jwks(rc);
        return 1;
    }
    if (h2o_memis(path, path_len, H2O_STRLIT("/oauth/token"))) {
        oauth_token_endpoint(rc);
        return 1;
    }
    return dispatch_token_lifecycle(rc, path, path_len) || dispatch_sign_in_api(rc, path, path_len);
}
