/*
 * browser_cookies.h — the cookies of the browser sign-in flow and the
 * anti-forgery tokens of its forms.
 *
 * Two cookies, both on the gateway's own origin with the __Host- prefix (RFC
 * 6265bis §4.1.3.2: Secure, Path=/, no Domain — a sibling subdomain cannot
 * plant or overwrite them) and HttpOnly:
 *
 *   __Host-yiwang-sso   the SSO session's opaque id (auth/sessions.h), 43
 *                       base64url characters. SameSite=Lax: sent on the
 *                       top-level navigation an app starts to /oauth/authorize,
 *                       not on cross-site subrequests or form posts.
 *   __Host-yiwang-csrf  a random value set by the first page with a form. A
 *                       form carries HMAC(csrf key, this value), which another
 *                       site can neither read nor compute, so a forged POST
 *                       (login CSRF, a consent or logout clicked for the
 *                       person) fails the check. Nothing is stored.
 *
 * Browsers treat http://127.0.0.1 and http://localhost as secure origins, so
 * Secure cookies work on a loopback development gateway too.
 *
 * Event-loop thread; pure apart from adding response headers.
 */
#ifndef YIWANG_GATEWAY_BROWSER_COOKIES_H
#define YIWANG_GATEWAY_BROWSER_COOKIES_H

#include <h2o.h>

#include "auth/secrets.h"

#define BROWSER_SSO_COOKIE "__Host-yiwang-sso"
#define BROWSER_CSRF_COOKIE "__Host-yiwang-csrf"
/* A form's anti-forgery token: base64url of an HMAC-SHA256, 43 characters + NUL. */
#define BROWSER_CSRF_TOKEN_BUFSIZE SECRETS_TOKEN_BUFSIZE

/*
 * The value of the first cookie called `name` in the request (HTTP/2 may send
 * several cookie fields; all are searched), or {NULL, 0}. Values are not
 * unquoted: the gateway's own cookies never need quotes.
 */
h2o_iovec_t browser_cookie_find(const h2o_req_t *req, const char *name);

/* Adds a Set-Cookie for a __Host- cookie: Path=/; Secure; HttpOnly; SameSite=Lax; Max-Age=max_age_s (0: a browser-session cookie).
 */
void browser_cookie_set(h2o_req_t *req, const char *name, const char *value, size_t value_len, unsigned max_age_s);
/* Adds a Set-Cookie that deletes the cookie. */
void browser_cookie_clear(h2o_req_t *req, const char *name);

/*
 * The CSRF binding of this browser: the __Host-yiwang-csrf value when the
 * request has a well-formed one, else a new random one that is set on the
 * response. Writes it to `out`; 0, or -1 when the random generator failed.
 */
int browser_csrf_binding(h2o_req_t *req, char out[SECRETS_TOKEN_BUFSIZE]);
/* The token a form must carry for `binding`. 0 or -1. */
int browser_csrf_token(const unsigned char key[SECRETS_KEY_LEN], const char *binding, char out[BROWSER_CSRF_TOKEN_BUFSIZE]);
/*
 * Does the submitted `token` belong to the request's __Host-yiwang-csrf
 * cookie? 1 or 0 (no cookie, a malformed one, a wrong token). Constant time
 * in the token.
 */
int browser_csrf_check(const h2o_req_t *req, const unsigned char key[SECRETS_KEY_LEN], const char *token);

#endif
