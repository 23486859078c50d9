#include "gateway/oauth_response.h"

#include <openssl/crypto.h>
#include <string.h>

static int is_form_body(const h2o_req_t *req)
{
    h2o_iovec_t type = request_header(req, H2O_STRLIT("content-type"));
    return type.base != NULL && type.len >= 33 && h2o_lcstris(type.base, 33, H2O_STRLIT("application/x-www-form-urlencoded"));
}

int oauth_read_post_form(struct request_ctx *rc, struct form *form)
{
    h2o_req_t *req = rc->req;
    if (!h2o_memis(req->method.base, req->method.len, H2O_STRLIT("POST"))) {
        h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_ALLOW, NULL, H2O_STRLIT("POST"));
        request_send_error(rc, GW_ERR_METHOD_NOT_ALLOWED);
        return -1;
    }
    if (!is_form_body(req) ||
        form_parse(form, req->entity.base != NULL ? req->entity.base : "", req->entity.len, NULL) != FORM_OK) {
        oauth_send_error(rc, "invalid_request", "The body must be a valid application/x-www-form-urlencoded form.", 0);
        return -1;
    }
    return 0;
}

void oauth_send_json(struct request_ctx *rc, int status, const char *reason, struct strbuf *body)
{
    h2o_req_t *req = rc->req;
    req->res.status = status;
    req->res.reason = reason;
    req->res.content_length = body->len;
    h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CONTENT_TYPE, NULL, H2O_STRLIT("application/json; charset=utf-8"));
    h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CACHE_CONTROL, NULL, H2O_STRLIT("no-store"));
    h2o_add_header_by_str(&req->pool, &req->res.headers, H2O_STRLIT("pragma"), 0, NULL, H2O_STRLIT("no-cache"));
    /* h2o sends the pool copy; the tokens in `body` are wiped before it is freed */
    h2o_send_inline(req, body->data, body->len);
    OPENSSL_cleanse(body->data, body->len);
    strbuf_free(body);
}

void oauth_send_error(struct request_ctx *rc, const char *error, const char *description, int used_basic)
{
    struct strbuf body = STRBUF_INIT;
    strbuf_append_str(&body, "{\"error\":");
    strbuf_append_json_string(&body, error, strlen(error));
    strbuf_append_str(&body, ",\"error_description\":");
    strbuf_append_json_string(&body, description, strlen(description));
    strbuf_append_char(&body, '}');
    rc->error_code = error;
    int unauthorized = strcmp(error, "invalid_client") == 0;
    int unavailable = strcmp(error, "temporarily_unavailable") == 0;
    if (unauthorized && used_basic)
        h2o_add_header(&rc->req->pool, &rc->req->res.headers, H2O_TOKEN_WWW_AUTHENTICATE, NULL,
                       H2O_STRLIT("Basic realm=\"yiwang\", charset=\"UTF-8\""));
    oauth_send_json(rc,
                    unauthorized  ? 401
                    : unavailable ? 503
                                  : 400,
                    unauthorized  ? "Unauthorized"
                    : unavailable ? "Service Unavailable"
                                  : "Bad Request",
                    &body);
}
