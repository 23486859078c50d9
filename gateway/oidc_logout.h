/*
 * oidc_logout.h — GET/POST /oauth/logout, RP-initiated logout (OpenID
 * Connect RP-Initiated Logout 1.0): the end_session_endpoint.
 *
 * Parameters (query for GET, form for POST): id_token_hint, client_id,
 * post_logout_redirect_uri, state, ui_locales.
 *
 * Which session ends:
 *   - With a valid id_token_hint (an ID token this issuer signed, expired or
 *     not: id_token_read_hint) the relying party proves which session its
 *     user has. If the browser's SSO cookie names a live session, that
 *     session ends when it is the hint's (same sid, or — for a hint without
 *     sid — same account); when the cookie names *another* session, the hint
 *     is stale and the person is asked to confirm instead, so an old ID token
 *     never signs out the person who is signed in now without a click. With
 *     no live cookie session (a native app, an expired cookie) the hint's
 *     sid ends: only an RP that holds an ID token of that session can do it.
 *   - Without a hint, a GET never logs out (logout CSRF: any page could
 *     embed it): it answers a confirmation page whose form carries an
 *     anti-forgery token bound to the browser (browser_cookies.h); only its
 *     POST with a matching token ends the cookie's session. A POST without
 *     a valid token is refused (403) and changes nothing.
 *
 * Ending a session (sessions_end, reason logout) revokes every refresh-token
 * family under it in the same transaction, and revocation_sync.h publishes
 * its sid so every app's access tokens are refused on every node's proxy
 * path within about a second. The SSO cookie is cleared.
 *
 * Then: a 302 to post_logout_redirect_uri (with state) when it exactly
 * matches one the client registered — the client known from client_id or the
 * hint's aud, which must agree — otherwise a "signed out" page. An
 * unregistered URI is an error page, never a redirect (no open redirector),
 * checked before anything is ended or confirmed.
 *
 * Event loop for the request and the hint's signature; the client, the
 * session lookup and the ending on a worker.
 */
#ifndef YIWANG_GATEWAY_OIDC_LOGOUT_H
#define YIWANG_GATEWAY_OIDC_LOGOUT_H

#include "gateway/request.h"

void oidc_logout_endpoint(struct request_ctx *rc);

#endif
