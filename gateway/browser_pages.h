/*
 * browser_pages.h — the HTML the browser sign-in flow shows: the login page,
 * the consent page, error pages, and the redirects back to the app.
 *
 * Minimal and self-contained: inline CSS, no script, no external resource,
 * readable on a phone. Chinese by default; English when ui_locales or,
 * failing that, Accept-Language prefers it. Everything echoed (the client's
 * name, state, the mobile number the person typed, the authorization
 * parameters carried in hidden fields) is HTML-escaped.
 *
 * Every page and redirect is sent with Cache-Control: no-store,
 * Referrer-Policy: no-referrer (a code in a redirect must not leak to a third
 * party through Referer), X-Frame-Options: DENY and a Content-Security-Policy
 * that allows nothing but the inline style and no framing. It has no
 * form-action directive on purpose: Chrome applies form-action to the
 * redirects that follow a form POST, so the 303 to the app's redirect URI
 * after a login would be blocked.
 *
 * Event-loop thread only.
 */
#ifndef YIWANG_GATEWAY_BROWSER_PAGES_H
#define YIWANG_GATEWAY_BROWSER_PAGES_H

#include "gateway/authz_request.h"
#include "gateway/request.h"

enum page_locale {
    PAGE_ZH,
    PAGE_EN,
};

/* What the login page says above the form. */
enum login_notice {
    LOGIN_NOTICE_NONE,
    LOGIN_NOTICE_CODE_SENT,
    LOGIN_NOTICE_INVALID_CREDENTIALS,
    LOGIN_NOTICE_INVALID_MOBILE,
    LOGIN_NOTICE_TOO_MANY_ATTEMPTS,
    LOGIN_NOTICE_SMS_TOO_SOON,
    LOGIN_NOTICE_SMS_LIMIT,
    LOGIN_NOTICE_ACCOUNT_DISABLED,
    LOGIN_NOTICE_UNAVAILABLE,
};

struct login_page {
    const struct authz_request *authz; /* carried in hidden fields */
    const char *client_name;
    const char *csrf_token;
    const char *mobile; /* to fill in again; NULL: empty */
    enum login_notice notice;
    unsigned retry_after_s; /* > 0: say when to try again */
};

struct consent_page {
    const struct authz_request *authz;
    const char *client_name;
    const char *scope; /* what is asked for */
    const char *org;   /* the credit code of the legal person the app would act for; NULL: none */
    const char *csrf_token;
};

/* The page's language: ui_locales (may be NULL) first, then Accept-Language; Chinese when neither prefers English. */
enum page_locale browser_page_locale(const h2o_req_t *req, const char *ui_locales);

/* Sends the login page with `status` (200, or 401/403/429/503 with a notice). */
void browser_page_login(struct request_ctx *rc, int status, enum page_locale locale, const struct login_page *page);
void browser_page_consent(struct request_ctx *rc, enum page_locale locale, const struct consent_page *page);
/* An error page that goes nowhere; `error` (an OAuth or gateway code) is shown and recorded for the access log. */
void browser_page_error(struct request_ctx *rc, int status, enum page_locale locale, const char *error);
/* A redirect (302 after a GET, 303 after a POST) to `location` (built by authz_redirect_location). */
void browser_redirect(struct request_ctx *rc, int status, const char *location, size_t len);

/* Appends `text` HTML-escaped (& < > " '), for element content and quoted attribute values. */
void html_append_escaped(struct strbuf *out, const char *text);

#endif
