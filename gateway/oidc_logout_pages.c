#include "gateway/oidc_logout_pages.h"

#include <string.h>

#include "common/strbuf.h"

#define PAGE_CSP "default-src 'none'; frame-ancestors 'none'; base-uri 'none'"

struct problem_text {
    int status;
    const char *reason;
    const char *code; /* for the access log */
    const char *zh;
    const char *en;
};

static const struct problem_text PROBLEMS[] = {
    [LOGOUT_BAD_REQUEST] = {400, "Bad Request", "invalid_request", "退出登录请求无效。", "The sign-out request is invalid."},
    [LOGOUT_BAD_HINT] = {400, "Bad Request", "invalid_request", "退出登录请求中的身份令牌无效。",
                         "The ID token in the sign-out request is invalid."},
    [LOGOUT_UNKNOWN_CLIENT] = {400, "Bad Request", "invalid_request", "无法确定发起退出登录的应用。",
                               "The application asking for the sign-out is unknown."},
    [LOGOUT_BAD_REDIRECT_URI] = {400, "Bad Request", "invalid_request", "退出登录后的跳转地址未登记。",
                                 "The address to return to after signing out is not registered."},
    [LOGOUT_FORGED] = {403, "Forbidden", "csrf_failed", "无法确认此请求来自本页面，请重新操作。",
                       "This request could not be verified. Please try again."},
    [LOGOUT_UNAVAILABLE] = {503, "Service Unavailable", "temporarily_unavailable", "服务暂时不可用，请稍后再试。",
                            "The service is temporarily unavailable. Please try again later."},
};

static void begin(struct strbuf *out, enum page_locale locale, const char *title)
{
    strbuf_append_str(out, locale == PAGE_EN ? "<!DOCTYPE html>\n<html lang=\"en\">" : "<!DOCTYPE html>\n<html lang=\"zh-CN\">");
    strbuf_append_str(out, "<head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width\"><title>");
    html_append_escaped(out, title);
    strbuf_append_str(out, "</title></head><body><main><h1>");
    html_append_escaped(out, title);
    strbuf_append_str(out, "</h1>");
}

static void send_page(struct request_ctx *rc, int status, const char *reason, struct strbuf *body)
{
    h2o_req_t *req = rc->req;
    strbuf_append_str(body, "</main></body></html>\n");
    req->res.status = status;
    req->res.reason = reason;
    req->res.content_length = body->len;
    h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CONTENT_TYPE, NULL, H2O_STRLIT("text/html; charset=utf-8"));
    h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CACHE_CONTROL, NULL, H2O_STRLIT("no-store"));
    h2o_add_header_by_str(&req->pool, &req->res.headers, H2O_STRLIT("x-frame-options"), 0, NULL, H2O_STRLIT("DENY"));
    h2o_add_header_by_str(&req->pool, &req->res.headers, H2O_STRLIT("x-content-type-options"), 0, NULL, H2O_STRLIT("nosniff"));
    h2o_add_header_by_str(&req->pool, &req->res.headers, H2O_STRLIT("content-security-policy"), 0, NULL, H2O_STRLIT(PAGE_CSP));
    h2o_add_header_by_str(&req->pool, &req->res.headers, H2O_STRLIT("referrer-policy"), 0, NULL, H2O_STRLIT("no-referrer"));
    h2o_send_inline(req, body->data, body->len);
    strbuf_free(body);
}

static void hidden(struct strbuf *out, const char *name, const char *value)
{
    if (value == NULL)
        return;
    strbuf_append_str(out, "<input type=\"hidden\" name=\"");
    html_append_escaped(out, name);
    strbuf_append_str(out, "\" value=\"");
    html_append_escaped(out, value);
    strbuf_append_str(out, "\">");
}

void logout_page_confirm(struct request_ctx *rc, enum page_locale locale, const struct logout_carry *carry, const char *csrf_token)
{
    int en = locale == PAGE_EN;
    struct strbuf body = STRBUF_INIT;
    begin(&body, locale, en ? "Sign out?" : "退出登录？");
    strbuf_append_str(&body, en ? "<p>You will be signed out of every government service you signed in to on this device.</p>"
                                : "<p>您将退出在此设备上登录的所有政务服务。</p>");
    strbuf_append_str(&body, "<form method=\"post\" action=\"/oauth/logout\">");
    hidden(&body, "csrf_token", csrf_token);
    hidden(&body, "client_id", carry->client_id);
    hidden(&body, "post_logout_redirect_uri", carry->post_logout_redirect_uri);
    hidden(&body, "state", carry->state);
    hidden(&body, "ui_locales", carry->ui_locales);
    strbuf_append_str(&body, en ? "<button type=\"submit\">Sign out</button>" : "<button type=\"submit\">退出登录</button>");
    strbuf_append_str(&body, "</form>");
    send_page(rc, 200, "OK", &body);
}

void logout_page_signed_out(struct request_ctx *rc, enum page_locale locale)
{
    int en = locale == PAGE_EN;
    struct strbuf body = STRBUF_INIT;
    begin(&body, locale, en ? "Signed out" : "已退出登录");
    strbuf_append_str(&body,
                      en ? "<p>You have been signed out. You may close this page.</p>" : "<p>您已安全退出，可以关闭此页面。</p>");
    send_page(rc, 200, "OK", &body);
}

void logout_page_problem(struct request_ctx *rc, enum page_locale locale, enum logout_problem problem)
{
    const struct problem_text *text = &PROBLEMS[problem];
    int en = locale == PAGE_EN;
    struct strbuf body = STRBUF_INIT;
    begin(&body, locale, en ? "Cannot sign out" : "无法退出登录");
    strbuf_append_str(&body, "<p>");
    html_append_escaped(&body, en ? text->en : text->zh);
    strbuf_append_str(&body, "</p>");
    rc->error_code = text->code;
    send_page(rc, text->status, text->reason, &body);
}
