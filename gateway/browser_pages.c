#include "gateway/browser_pages.h"

#include <stdio.h>
#include <string.h>

#define CSP "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'"

#define STYLE                                                                                                                      \
    "body{font-family:system-ui,sans-serif;margin:0;background:#f4f6f8;color:#1d2733}"                                             \
    "main{max-width:26rem;margin:0 auto;padding:1.5rem 1rem}h1{font-size:1.4rem}"                                                  \
    "form{background:#fff;border-radius:.5rem;padding:1rem;margin:1rem 0}"                                                         \
    "label{display:block;margin:.6rem 0 .2rem}input{width:100%;box-sizing:border-box;padding:.6rem;font-size:1rem}"                \
    "button{margin-top:.8rem;padding:.6rem 1rem;font-size:1rem;width:100%}"                                                        \
    ".notice{padding:.6rem;border-radius:.3rem;background:#fff3cd}.secondary{background:#eef}"

/* Every text of the pages in both languages: [PAGE_ZH], [PAGE_EN]. */
enum text {
    T_LANG,
    T_LOGIN_TITLE,
    T_LOGIN_FOR,
    T_MOBILE,
    T_CODE,
    T_SEND_CODE,
    T_SMS_LOGIN,
    T_PASSWORD,
    T_PASSWORD_LOGIN,
    T_CONSENT_TITLE,
    T_CONSENT_ASKS,
    T_CONSENT_ORG,
    T_CONSENT_ORG_END,
    T_APPROVE,
    T_DENY,
    T_ERROR_TITLE,
    T_ERROR_TEXT,
    T__COUNT
};

static const char *const texts[T__COUNT][2] = {
    [T_LANG] = {"zh-CN", "en"},
    [T_LOGIN_TITLE] = {"一网通办 登录", "Sign in to Yiwang"},
    [T_LOGIN_FOR] = {"登录以继续使用：", "Sign in to continue to: "},
    [T_MOBILE] = {"手机号", "Mobile number"},
    [T_CODE] = {"短信验证码", "SMS code"},
    [T_SEND_CODE] = {"获取验证码", "Send me a code"},
    [T_SMS_LOGIN] = {"验证码登录", "Sign in with the code"},
    [T_PASSWORD] = {"密码", "Password"},
    [T_PASSWORD_LOGIN] = {"密码登录", "Sign in with the password"},
    [T_CONSENT_TITLE] = {"授权确认", "Allow access?"},
    [T_CONSENT_ASKS] = {"请求访问您的以下信息：", "asks for access to:"},
    [T_CONSENT_ORG] = {"该应用将代表统一社会信用代码为 ", "It will act for the enterprise with the unified social credit code "},
    [T_CONSENT_ORG_END] = {" 的企业（法人）办理业务。", "."},
    [T_APPROVE] = {"同意", "Allow"},
    [T_DENY] = {"拒绝", "Deny"},
    [T_ERROR_TITLE] = {"无法完成登录", "Sign-in cannot continue"},
    [T_ERROR_TEXT] = {"请求无效，请返回应用重试。错误代码：",
                      "The request is not valid. Go back to the app and try again. Error: "},
};

static const char *const notices[][2] = {
    [LOGIN_NOTICE_NONE] = {"", ""},
    [LOGIN_NOTICE_CODE_SENT] = {"验证码已发送。", "A code has been sent."},
    [LOGIN_NOTICE_INVALID_CREDENTIALS] = {"手机号、验证码或密码不正确。", "The number, code or password is not correct."},
    [LOGIN_NOTICE_INVALID_MOBILE] = {"请输入有效的手机号。", "Enter a valid mobile number."},
    [LOGIN_NOTICE_TOO_MANY_ATTEMPTS] = {"尝试次数过多，请稍后再试。", "Too many attempts. Try again later."},
    [LOGIN_NOTICE_SMS_TOO_SOON] = {"验证码发送过于频繁，请稍后再试。", "A code was sent just now. Wait a moment."},
    [LOGIN_NOTICE_SMS_LIMIT] = {"今日验证码次数已用完。", "No more codes can be sent today."},
    [LOGIN_NOTICE_ACCOUNT_DISABLED] = {"该账号已停用。", "This account is disabled."},
    [LOGIN_NOTICE_UNAVAILABLE] = {"服务暂时不可用，请稍后再试。", "The service is temporarily unavailable."},
};

static const char *t(enum page_locale locale, enum text which)
{
    return texts[which][locale];
}

void html_append_escaped(struct strbuf *out, const char *text)
{
    for (const char *p = text; *p != '\0'; p++) {
        switch (*p) {
        case '&':
            strbuf_append_str(out, "&amp;");
            break;
        case '<':
            strbuf_append_str(out, "&lt;");
            break;
        case '>':
            strbuf_append_str(out, "&gt;");
            break;
        case '"':
            strbuf_append_str(out, "&quot;");
            break;
        case '\'':
            strbuf_append_str(out, "&#39;");
            break;
        default:
            strbuf_append_char(out, *p);
        }
    }
}

/* ---- locale ---- */

/* Is the first language tag of a comma/space-separated list English? ("en", "en-US"; quality values are not weighed) */
static int first_tag_is_english(const char *list, size_t len)
{
    size_t i = 0;
    while (i < len && (list[i] == ' ' || list[i] == ','))
        i++;
    return len - i >= 2 && (list[i] == 'e' || list[i] == 'E') && (list[i + 1] == 'n' || list[i + 1] == 'N') &&
           (len - i == 2 || strchr("-_;, ", list[i + 2]) != NULL);
}

enum page_locale browser_page_locale(const h2o_req_t *req, const char *ui_locales)
{
    if (ui_locales != NULL)
        return first_tag_is_english(ui_locales, strlen(ui_locales)) ? PAGE_EN : PAGE_ZH;
    h2o_iovec_t accept = request_header(req, H2O_STRLIT("accept-language"));
    return accept.base != NULL && first_tag_is_english(accept.base, accept.len) ? PAGE_EN : PAGE_ZH;
}

/* ---- sending ---- */

static void add_security_headers(h2o_req_t *req)
{
    h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CACHE_CONTROL, NULL, H2O_STRLIT("no-store"));
    h2o_add_header_by_str(&req->pool, &req->res.headers, H2O_STRLIT("pragma"), 0, NULL, H2O_STRLIT("no-cache"));
    h2o_add_header_by_str(&req->pool, &req->res.headers, H2O_STRLIT("referrer-policy"), 0, NULL, H2O_STRLIT("no-referrer"));
    h2o_add_header_by_str(&req->pool, &req->res.headers, H2O_STRLIT("x-frame-options"), 0, NULL, H2O_STRLIT("DENY"));
    h2o_add_header_by_str(&req->pool, &req->res.headers, H2O_STRLIT("x-content-type-options"), 0, NULL, H2O_STRLIT("nosniff"));
    h2o_add_header_by_str(&req->pool, &req->res.headers, H2O_STRLIT("content-security-policy"), 0, NULL, H2O_STRLIT(CSP));
}

static const char *reason_of(int status)
{
    switch (status) {
    case 200:
        return "OK";
    case 400:
        return "Bad Request";
    case 401:
        return "Unauthorized";
    case 403:
        return "Forbidden";
    case 429:
        return "Too Many Requests";
    default:
        return "Service Unavailable";
    }
}

static void send_html(struct request_ctx *rc, int status, struct strbuf *body)
{
    h2o_req_t *req = rc->req;
    req->res.status = status;
    req->res.reason = reason_of(status);
    req->res.content_length = body->len;
    h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CONTENT_TYPE, NULL, H2O_STRLIT("text/html; charset=utf-8"));
    add_security_headers(req);
    h2o_send_inline(req, body->data, body->len);
    strbuf_free(body);
}

void browser_redirect(struct request_ctx *rc, int status, const char *location, size_t len)
{
    h2o_req_t *req = rc->req;
    req->res.status = status;
    req->res.reason = status == 303 ? "See Other" : "Found";
    req->res.content_length = 0;
    h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_LOCATION, NULL, h2o_strdup(&req->pool, location, len).base, len);
    add_security_headers(req);
    h2o_send_inline(req, "", 0);
}

/* ---- pages ---- */

static void open_page(struct strbuf *out, enum page_locale locale, enum text title)
{
    strbuf_appendf(out,
                   "<!doctype html><html lang=\"%s\"><head><meta charset=\"utf-8\">"
                   "<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\"><title>%s</title>",
                   t(locale, T_LANG), t(locale, title));
    strbuf_append_str(out, "<style>" STYLE "</style></head><body><main><h1>");
    strbuf_appendf(out, "%s</h1>", t(locale, title));
}

static void close_page(struct strbuf *out)
{
    strbuf_append_str(out, "</main></body></html>\n");
}

static void append_hidden(struct strbuf *out, const char *name, const char *value)
{
    strbuf_append_str(out, "<input type=\"hidden\" name=\"");
    html_append_escaped(out, name);
    strbuf_append_str(out, "\" value=\"");
    html_append_escaped(out, value);
    strbuf_append_str(out, "\">");
}

/* The authorization request and the anti-forgery token, carried by every form (and checked again on submit). */
static void append_carried(struct strbuf *out, const struct authz_request *authz, const char *csrf_token)
{
    for (int i = 0; i < AUTHZ__COUNT; i++) {
        if (authz_get(authz, (enum authz_param)i) != NULL)
            append_hidden(out, authz_param_name((enum authz_param)i), authz_get(authz, (enum authz_param)i));
    }
    append_hidden(out, "csrf_token", csrf_token);
}

static void append_mobile_field(struct strbuf *out, enum page_locale locale, const char *id, const char *mobile)
{
    strbuf_appendf(out, "<label for=\"%s\">%s</label><input id=\"%s\" name=\"mobile\" type=\"tel\" autocomplete=\"tel\" value=\"",
                   id, t(locale, T_MOBILE), id);
    html_append_escaped(out, mobile != NULL ? mobile : "");
    strbuf_append_str(out, "\">");
}

void browser_page_login(struct request_ctx *rc, int status, enum page_locale locale, const struct login_page *page)
{
    struct strbuf out = STRBUF_INIT;
    open_page(&out, locale, T_LOGIN_TITLE);
    strbuf_appendf(&out, "<p>%s<strong>", t(locale, T_LOGIN_FOR));
    html_append_escaped(&out, page->client_name);
    strbuf_append_str(&out, "</strong></p>");
    if (page->notice != LOGIN_NOTICE_NONE) {
        strbuf_appendf(&out, "<p class=\"notice\" role=\"alert\">%s", notices[page->notice][locale]);
        if (page->retry_after_s > 0)
            strbuf_appendf(&out, locale == PAGE_ZH ? "（%u 秒后可重试）" : " (again in %u s)", page->retry_after_s);
        strbuf_append_str(&out, "</p>");
    }
    /* SMS: the code button comes first so that Enter in the code field signs in rather than sending another code */
    strbuf_append_str(&out, "<form method=\"post\" action=\"/oauth/login\">");
    append_carried(&out, page->authz, page->csrf_token);
    append_mobile_field(&out, locale, "m1", page->mobile);
    strbuf_appendf(&out,
                   "<label for=\"c\">%s</label><input id=\"c\" name=\"code\" inputmode=\"numeric\" autocomplete=\"one-time-code\" "
                   "maxlength=\"6\"><button name=\"action\" value=\"sms\">%s</button>"
                   "<button class=\"secondary\" name=\"action\" value=\"send_code\">%s</button></form>",
                   t(locale, T_CODE), t(locale, T_SMS_LOGIN), t(locale, T_SEND_CODE));
    strbuf_append_str(&out, "<form method=\"post\" action=\"/oauth/login\">");
    append_carried(&out, page->authz, page->csrf_token);
    append_mobile_field(&out, locale, "m2", page->mobile);
    strbuf_appendf(&out,
                   "<label for=\"p\">%s</label><input id=\"p\" name=\"password\" type=\"password\" "
                   "autocomplete=\"current-password\"><button name=\"action\" value=\"password\">%s</button></form>",
                   t(locale, T_PASSWORD), t(locale, T_PASSWORD_LOGIN));
    close_page(&out);
    send_html(rc, status, &out);
}

void browser_page_consent(struct request_ctx *rc, enum page_locale locale, const struct consent_page *page)
{
    struct strbuf out = STRBUF_INIT;
    open_page(&out, locale, T_CONSENT_TITLE);
    strbuf_append_str(&out, "<p><strong>");
    html_append_escaped(&out, page->client_name);
    strbuf_appendf(&out, "</strong> %s</p><ul>", t(locale, T_CONSENT_ASKS));
    for (const char *p = page->scope; *p != '\0';) {
        size_t len = strcspn(p, " ");
        char word[AUTHZ_SCOPE_MAX + 1];
        snprintf(word, sizeof(word), "%.*s", (int)len, p);
        strbuf_append_str(&out, "<li>");
        html_append_escaped(&out, word);
        strbuf_append_str(&out, "</li>");
        p += len;
        while (*p == ' ')
            p++;
    }
    strbuf_append_str(&out, "</ul>");
    if (page->org != NULL) { /* approving lets the app act for the enterprise too: say so */
        strbuf_appendf(&out, "<p class=\"notice\">%s<strong>", t(locale, T_CONSENT_ORG));
        html_append_escaped(&out, page->org);
        strbuf_appendf(&out, "</strong>%s</p>", t(locale, T_CONSENT_ORG_END));
    }
    strbuf_append_str(&out, "<form method=\"post\" action=\"/oauth/consent\">");
    append_carried(&out, page->authz, page->csrf_token);
    strbuf_appendf(&out,
                   "<button name=\"decision\" value=\"approve\">%s</button>"
                   "<button class=\"secondary\" name=\"decision\" value=\"deny\">%s</button></form>",
                   t(locale, T_APPROVE), t(locale, T_DENY));
    close_page(&out);
    send_html(rc, 200, &out);
}

void browser_page_error(struct request_ctx *rc, int status, enum page_locale locale, const char *error)
{
    struct strbuf out = STRBUF_INIT;
    rc->error_code = error;
    open_page(&out, locale, T_ERROR_TITLE);
    strbuf_appendf(&out, "<p>%s<code>", t(locale, T_ERROR_TEXT));
    html_append_escaped(&out, error);
    strbuf_append_str(&out, "</code></p>");
    close_page(&out);
    send_html(rc, status, &out);
}
