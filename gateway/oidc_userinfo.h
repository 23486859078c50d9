/*
 * oidc_userinfo.h — GET/POST /userinfo (OpenID Connect Core §5.3).
 *
 * The caller presents an access token this gateway issued: Authorization:
 * Bearer, or for a POST access_token in a form body (RFC 6750 §2.2) — one of
 * them, never both; a token in the query string is refused (RFC 6750 §2.3),
 * as on the proxy path. It must be valid like on the proxy path (signature, iss,
 * aud, exp) and not revoked — checked in the database (its jti, its
 * session), since the account is read there anyway — and carry scope
 * `openid`. The answer holds the claims its scopes allow, read from the
 * account on a worker:
 *
 *   always   sub (the account id, as in the token)
 *   profile  name (when known)
 *   phone    phone_number (E.164, +86...), phone_number_verified: true
 *            (every account's number was proven with an SMS code)
 *   email    email (when known), email_verified: false (never proven)
 *
 * Never the resident ID number: no scope releases it here. A token of a
 * locked or closed account is invalid_token.
 *
 * Errors follow RFC 6750 §3: 401 + WWW-Authenticate: Bearer
 * error="invalid_token" (missing, invalid, expired, revoked), 403
 * insufficient_scope without openid, 400 invalid_request for a token in the
 * query or two tokens, with an RFC 6749-style JSON body. Answers are never cached.
 *
 * Event loop for the request; the token check and the account on a worker.
 */
#ifndef YIWANG_GATEWAY_OIDC_USERINFO_H
#define YIWANG_GATEWAY_OIDC_USERINFO_H

#include "gateway/request.h"

void oidc_userinfo_endpoint(struct request_ctx *rc);

#endif
