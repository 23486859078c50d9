#include "gateway/oidc_discovery.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gateway/snapshot.h"

/* Relying parties fetch it at start-up and now and then; five minutes of staleness after a reload is harmless. */
#define DISCOVERY_MAX_AGE "public, max-age=300"

static json_t *string_array(const char *const *values, size_t count)
{
    json_t *array = json_array();
    for (size_t i = 0; i < count; i++)
        json_array_append_new(array, json_string(values[i]));
    return array;
}

#define STRINGS(...)                                                                                                               \
    string_array((const char *const[]){__VA_ARGS__}, sizeof((const char *const[]){__VA_ARGS__}) / sizeof(const char *))

static void set_endpoint(json_t *doc, const char *name, const char *issuer, const char *path)
{
    size_t len = strlen(issuer);
    while (len > 0 && issuer[len - 1] == '/')
        len--; /* an issuer written with a trailing slash must not give "//oauth/..." */
    char url[1024];
    snprintf(url, sizeof(url), "%.*s%s", (int)len, issuer, path);
    json_object_set_new(doc, name, json_string(url));
}

static void add_endpoints(json_t *doc, const char *issuer)
{
    json_object_set_new(doc, "issuer", json_string(issuer));
    set_endpoint(doc, "authorization_endpoint", issuer, "/oauth/authorize");
    set_endpoint(doc, "token_endpoint", issuer, "/oauth/token");
    set_endpoint(doc, "userinfo_endpoint", issuer, "/userinfo");
    set_endpoint(doc, "jwks_uri", issuer, "/.well-known/jwks.json");
    set_endpoint(doc, "revocation_endpoint", issuer, "/oauth/revoke");
    set_endpoint(doc, "introspection_endpoint", issuer, "/oauth/introspect");
    set_endpoint(doc, "end_session_endpoint", issuer, "/oauth/logout");
}

static void add_capabilities(json_t *doc, const struct identity_config *identity)
{
    const char *alg = identity->signing_alg != NULL ? identity->signing_alg : "ES256";
    json_object_set_new(doc, "response_types_supported", STRINGS("code"));
    json_object_set_new(doc, "response_modes_supported", STRINGS("query"));
    json_object_set_new(doc, "grant_types_supported", STRINGS("authorization_code", "refresh_token", "client_credentials"));
    json_object_set_new(doc, "subject_types_supported", STRINGS("public"));
    json_object_set_new(doc, "id_token_signing_alg_values_supported", STRINGS(alg));
    json_object_set_new(doc, "token_endpoint_auth_methods_supported", STRINGS("client_secret_basic", "client_secret_post", "none"));
    json_object_set_new(doc, "revocation_endpoint_auth_methods_supported",
                        STRINGS("client_secret_basic", "client_secret_post", "none"));
    /* introspection is for confidential clients only (oauth_introspect.h) */
    json_object_set_new(doc, "introspection_endpoint_auth_methods_supported", STRINGS("client_secret_basic", "client_secret_post"));
    json_object_set_new(doc, "code_challenge_methods_supported", STRINGS("S256"));
    json_object_set_new(doc, "scopes_supported",
                        string_array((const char *const *)identity->oidc.scopes_supported, identity->oidc.num_scopes_supported));
    json_object_set_new(doc, "claims_supported",
                        STRINGS("sub", "iss", "aud", "exp", "iat", "auth_time", "nonce", "acr", "amr", "sid", "azp", "at_hash",
                                "org", "name", "phone_number", "phone_number_verified", "email", "email_verified"));
    json_object_set_new(doc, "acr_values_supported", STRINGS("1", "2", "3"));
    json_object_set_new(doc, "prompt_values_supported", STRINGS("none", "login", "consent"));
    json_object_set_new(doc, "ui_locales_supported", STRINGS("zh-CN", "en"));
    json_object_set_new(doc, "claims_parameter_supported", json_false());
    json_object_set_new(doc, "request_parameter_supported", json_false());
    json_object_set_new(doc, "request_uri_parameter_supported", json_false());
    json_object_set_new(doc, "authorization_response_iss_parameter_supported", json_true());
}

char *oidc_discovery_build(const struct identity_config *identity, size_t *len)
{
    json_t *doc = json_object();
    add_endpoints(doc, identity->issuer);
    add_capabilities(doc, identity);
    char *text = json_dumps(doc, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(doc);
    if (text == NULL)
        abort(); /* only out of memory: not recoverable (xalloc.h) */
    *len = strlen(text);
    return text;
}

void oidc_discovery_serve(struct request_ctx *rc)
{
    h2o_req_t *req = rc->req;
    const struct snapshot *snapshot = rc->holder->snapshot;
    if (!h2o_memis(req->method.base, req->method.len, H2O_STRLIT("GET")) &&
        !h2o_memis(req->method.base, req->method.len, H2O_STRLIT("HEAD"))) {
        h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_ALLOW, NULL, H2O_STRLIT("GET, HEAD"));
        request_send_error(rc, GW_ERR_METHOD_NOT_ALLOWED);
        return;
    }
    req->res.status = 200;
    req->res.reason = "OK";
    req->res.content_length = snapshot->discovery_len;
    h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CONTENT_TYPE, NULL, H2O_STRLIT("application/json"));
    h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CACHE_CONTROL, NULL, H2O_STRLIT(DISCOVERY_MAX_AGE));
    /* the snapshot outlives the request (pinned), so its bytes can be sent without copying */
    static h2o_generator_t generator = {NULL, NULL};
    h2o_start_response(req, &generator);
    h2o_iovec_t body = h2o_iovec_init(snapshot->discovery, snapshot->discovery_len);
    h2o_send(req, &body, 1, H2O_SEND_STATE_FINAL);
}
