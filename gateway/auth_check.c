#include "gateway/auth_check.h"

#include <string.h>

#include "auth/token_cache.h"

#define REALM "realm=\"yiwang\""

int auth_check_query_carries_token(const h2o_req_t *req)
{
    if (req->query_at == SIZE_MAX)
        return 0;
    const char *q = req->path.base + req->query_at + 1, *end = req->path.base + req->path.len;
    static const char name[] = "access_token=";
    for (const char *p = q; p < end; p++) {
        if ((p == q || p[-1] == '&') && (size_t)(end - p) >= sizeof(name) - 1 && memcmp(p, name, sizeof(name) - 1) == 0)
            return 1;
    }
    return 0;
}

static void add_challenge(struct request_ctx *rc, const char *value, size_t len)
{
    h2o_req_t *req = rc->req;
    h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_WWW_AUTHENTICATE, NULL, h2o_strdup(&req->pool, value, len).base, len);
}

static int refuse(struct request_ctx *rc, enum gateway_error error, const char *challenge)
{
    if (challenge != NULL)
        add_challenge(rc, challenge, strlen(challenge));
    request_send_error(rc, error);
    return -1;
}

static int is_token_char(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.';
}

h2o_iovec_t auth_check_bearer_token(const h2o_req_t *req)
{
    ssize_t first = h2o_find_header(&req->headers, H2O_TOKEN_AUTHORIZATION, -1);
    if (first < 0)
        return h2o_iovec_init(NULL, 0);
    if (h2o_find_header(&req->headers, H2O_TOKEN_AUTHORIZATION, first) >= 0)
        return h2o_iovec_init("", 0); /* two credentials: which one is meant is ambiguous, so neither is used */
    h2o_iovec_t value = req->headers.entries[first].value;
    if (value.len < 7 || !h2o_lcstris(value.base, 6, H2O_STRLIT("bearer")) || value.base[6] != ' ')
        return h2o_iovec_init("", 0);
    size_t start = 7, end = value.len;
    while (start < end && value.base[start] == ' ')
        start++;
    while (end > start && value.base[end - 1] == ' ')
        end--;
    for (size_t i = start; i < end; i++) {
        if (!is_token_char(value.base[i]))
            return h2o_iovec_init("", 0);
    }
    return h2o_iovec_init(value.base + start, end - start);
}

static const struct jwt_claims *verified_claims(struct request_ctx *rc, h2o_iovec_t token, enum jwt_status *status)
{
    const struct snapshot *snapshot = rc->holder->snapshot;
    int64_t now = (int64_t)(rc->start_unix_ms / 1000);
    uint64_t hash = token_cache_hash(token.base, token.len);
    const struct jwt_claims *cached = token_cache_get(rc->thread->tokens, token.base, token.len, hash, snapshot->generation, now);
    if (cached != NULL) {
        *status = JWT_OK;
        return cached;
    }
    struct jwt_claims claims;
    *status = jwt_verify(&snapshot->keyset, token.base, token.len, now, &claims);
    if (*status != JWT_OK)
        return NULL;
    return token_cache_put(rc->thread->tokens, token.base, token.len, hash, snapshot->generation,
                           claims.exp + (int64_t)snapshot->keyset.clock_skew_s, &claims);
}

static int refuse_invalid(struct request_ctx *rc, enum jwt_status status)
{
    rc->auth_failure = jwt_status_name(status);
    if ((unsigned)status < METRICS_TOKEN_REASONS)
        metrics_counter_add(&rc->thread->counters->token_refusals[status], 1);
    return refuse(rc, GW_ERR_TOKEN_INVALID,
                  status == JWT_EXPIRED
                      ? "Bearer " REALM ", error=\"invalid_token\", error_description=\"The access token expired\""
                      : "Bearer " REALM ", error=\"invalid_token\", error_description=\"The access token is invalid\"");
}

static int refuse_step_up(struct request_ctx *rc, unsigned min_acr)
{
    char challenge[192];
    int n = snprintf(challenge, sizeof(challenge),
                     "Bearer " REALM ", error=\"insufficient_user_authentication\", "
                     "error_description=\"A higher assurance level is required\", acr_values=\"%s\"",
                     min_acr <= 1   ? "1 2 3"
                     : min_acr == 2 ? "2 3"
                                    : "3");
    add_challenge(rc, challenge, (size_t)n);
    request_send_error(rc, GW_ERR_STEP_UP_REQUIRED);
    return -1;
}

static int refuse_scope(struct request_ctx *rc, const struct route_auth_config *auth)
{
    h2o_req_t *req = rc->req;
    size_t len = 64;
    for (size_t i = 0; i < auth->num_scopes; i++)
        len += strlen(auth->scopes[i]) + 1;
    char *challenge = h2o_mem_alloc_pool(&req->pool, len);
    size_t n = (size_t)snprintf(challenge, len, "Bearer " REALM ", error=\"insufficient_scope\", scope=\"");
    for (size_t i = 0; i < auth->num_scopes; i++)
        n += (size_t)snprintf(challenge + n, len - n, "%s%s", i ? " " : "", auth->scopes[i]);
    n += (size_t)snprintf(challenge + n, len - n, "\"");
    h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_WWW_AUTHENTICATE, NULL, challenge, n);
    request_send_error(rc, GW_ERR_INSUFFICIENT_SCOPE);
    return -1;
}

static size_t append_identity_line(char *dst, const char *name, const char *value)
{
    size_t name_len = strlen(name), value_len = strlen(value);
    memcpy(dst, name, name_len);
    memcpy(dst + name_len, ": ", 2);
    memcpy(dst + name_len + 2, value, value_len);
    memcpy(dst + name_len + 2 + value_len, "\r\n", 2);
    return name_len + value_len + 4;
}

/* The identity the department service receives, in place of anything the client sent under X-Gateway-*. */
static void prepare_identity_headers(struct request_ctx *rc, const struct jwt_claims *claims)
{
    /* sized exactly: an oversized pool allocation would cost a fresh pool chunk on every request */
    size_t size = 5 * (sizeof("x-gateway-subject: \r\n") - 1) + strlen(claims->sub) + strlen(claims->client_id) +
                  strlen(claims->scope) + strlen(claims->acr) + strlen(claims->org);
    char *buf = h2o_mem_alloc_pool(&rc->req->pool, size), *p = buf;
    p += append_identity_line(p, "x-gateway-subject", claims->sub);
    if (claims->client_id[0] != '\0')
        p += append_identity_line(p, "x-gateway-client", claims->client_id);
    p += append_identity_line(p, "x-gateway-scopes", claims->scope);
    if (claims->acr[0] != '\0')
        p += append_identity_line(p, "x-gateway-acr", claims->acr);
    if (claims->org[0] != '\0')
        p += append_identity_line(p, "x-gateway-org", claims->org);
    rc->identity_headers = h2o_iovec_init(buf, (size_t)(p - buf));
}

int auth_check_request(struct request_ctx *rc)
{
    if (auth_check_query_carries_token(rc->req))
        return refuse(rc, GW_ERR_TOKEN_IN_QUERY, NULL);
    const struct route_auth_config *auth = &rc->route->config->auth;
    if (auth->policy == ROUTE_AUTH_PUBLIC)
        return 0;
    h2o_iovec_t token = auth_check_bearer_token(rc->req);
    if (token.base == NULL)
        return refuse(rc, GW_ERR_TOKEN_MISSING, "Bearer " REALM);
    enum jwt_status status = JWT_MALFORMED;
    const struct jwt_claims *claims = token.len != 0 ? verified_claims(rc, token, &status) : NULL;
    if (claims == NULL)
        return refuse_invalid(rc, status);
    /* verified and cached tokens alike: a logout must stop a token on every node, before it expires */
    if ((claims->sid[0] != '\0' && revocation_set_contains(rc->thread->revocations, REVOKED_SESSION, claims->sid)) ||
        (claims->jti[0] != '\0' && revocation_set_contains(rc->thread->revocations, REVOKED_TOKEN, claims->jti)))
        return refuse_invalid(rc, JWT_REVOKED);
    if (auth->policy == ROUTE_AUTH_USER && claims->is_client_token)
        return refuse(rc, GW_ERR_USER_TOKEN_REQUIRED, NULL);
    if (claims->acr_level < auth->min_acr)
        return refuse_step_up(rc, auth->min_acr);
    if (!jwt_scope_contains_all(claims->scope, auth->scopes, auth->num_scopes))
        return refuse_scope(rc, auth);
    prepare_identity_headers(rc, claims);
    return 0;
}
