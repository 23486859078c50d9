/*
 * oauth_token.h — POST /oauth/token (RFC 6749 §3.2), the token endpoint.
 *
 * Grants: client_credentials (a confidential client on its own behalf, e.g. a
 * department service or an integrator's back end) and refresh_token (RFC
 * 6749 §6: rotation on every use, reuse detection and the grace window of
 * auth/refresh_tokens.h; the scope may only narrow). authorization_code
 * joins with the browser sign-in flow.
 *
 * Client authentication (oauth_client_auth.h): client_secret_basic or
 * client_secret_post; a public client (a mobile app, which cannot keep a
 * secret) sends its client_id alone, which only the refresh_token grant
 * accepts: the token itself is the credential, bound to that client. Answers
 * and errors (RFC 6749 §5.2) go through oauth_response.h.
 *
 * The form is parsed on the event loop; the client lookup (database) and the
 * signing run on a worker (async_request.h).
 */
#ifndef YIWANG_GATEWAY_OAUTH_TOKEN_H
#define YIWANG_GATEWAY_OAUTH_TOKEN_H

#include "gateway/request.h"

void oauth_token_endpoint(struct request_ctx *rc);

#endif
