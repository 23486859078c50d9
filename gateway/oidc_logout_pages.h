/*
 * oidc_logout_pages.h — the HTML pages of RP-initiated logout
 * (oidc_logout.h): the confirmation form, "signed out" and the error page,
 * in Simplified Chinese or English.
 *
 * Every value from the request is HTML-escaped. Every page is sent with
 * Cache-Control: no-store, X-Frame-Options: DENY and a CSP that allows no
 * script, no style source, no framing and no <base> (a page that runs
 * nothing cannot be scripted into clicking its own button). The CSP sets no
 * form-action: the confirmation form posts to the gateway, which may then
 * redirect to the relying party, and browsers apply form-action to that
 * redirect too.
 *
 * Event-loop thread only.
 */
#ifndef YIWANG_GATEWAY_OIDC_LOGOUT_PAGES_H
#define YIWANG_GATEWAY_OIDC_LOGOUT_PAGES_H

#include "gateway/browser_pages.h"
#include "gateway/request.h"

enum logout_problem {
    LOGOUT_BAD_REQUEST,      /* 400: malformed parameters */
    LOGOUT_BAD_HINT,         /* 400: id_token_hint not an ID token of this issuer, or not for client_id */
    LOGOUT_UNKNOWN_CLIENT,   /* 400: post_logout_redirect_uri without a known client */
    LOGOUT_BAD_REDIRECT_URI, /* 400: post_logout_redirect_uri not registered for the client */
    LOGOUT_FORGED,           /* 403: the confirmation form's anti-forgery token is missing or wrong */
    LOGOUT_UNAVAILABLE,      /* 503 */
};

/* The hidden fields the confirmation form carries over; NULL members are left out. */
struct logout_carry {
    const char *client_id;
    const char *post_logout_redirect_uri;
    const char *state;
    const char *ui_locales;
};

void logout_page_confirm(struct request_ctx *rc, enum page_locale locale, const struct logout_carry *carry, const char *csrf_token);
void logout_page_signed_out(struct request_ctx *rc, enum page_locale locale);
void logout_page_problem(struct request_ctx *rc, enum page_locale locale, enum logout_problem problem);

#endif
