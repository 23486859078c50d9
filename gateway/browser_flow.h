/*
 * browser_flow.h — the browser sign-in flow (OAuth 2.1 authorization code
 * with PKCE, OpenID Connect Core §3.1; docs/identity.md "The browser flow"):
 *
 *   GET|POST /oauth/authorize  the authorization request. With a live SSO
 *                              session cookie (browser_cookies.h) a code is
 *                              issued at once (single sign-on), after the
 *                              consent page for a third-party client that
 *                              has not been allowed the scope yet; without
 *                              one (or with prompt=login, or an auth_time
 *                              older than max_age) the login page is shown.
 *   POST /oauth/login          the login page's forms: send an SMS code, sign
 *                              in with the code or with the password. The
 *                              same guard and checks as the JSON login API
 *                              (sign_in_steps.h); success sets the SSO cookie
 *                              and continues the authorization.
 *   POST /oauth/consent        the consent page's answer: approve (remembered,
 *                              consents.h) or deny (access_denied).
 *
 * The extension parameter `org` (a unified social credit code) asks to act
 * for a legal person (auth/legal_persons.h): once the person is known, they
 * must be its agent (else access_denied), the code carries it and so do the
 * tokens redeemed for it. A third-party client acting for one always gets
 * the consent page, which names the legal person.
 *
 * Unknown clients and redirect URIs that are not registered get an error
 * page, never a redirect (authz_request.h); every other error goes back to
 * the redirect URI with error, error_description, state and iss. The forms
 * carry the authorization request in hidden fields, which are checked again
 * in full on every POST, and an anti-forgery token bound to the browser's
 * CSRF cookie: a POST without a valid one is refused (403) before anything
 * else. Wrong credentials show the login page again with 401, a lock with 429
 * and Retry-After.
 *
 * Parsing and the CSRF check run on the event loop; everything touching the
 * database or hashing runs on a worker (async_request.h). Codes, session ids,
 * passwords and mobile numbers are never logged.
 *
 * Event-loop thread only.
 */
#ifndef YIWANG_GATEWAY_BROWSER_FLOW_H
#define YIWANG_GATEWAY_BROWSER_FLOW_H

#include "gateway/request.h"

void browser_authorize(struct request_ctx *rc);
void browser_login(struct request_ctx *rc);
void browser_consent(struct request_ctx *rc);

#endif
