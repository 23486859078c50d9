/*
 * oauth_revoke.h — POST /oauth/revoke, token revocation (RFC 7009).
 *
 * A client revokes a token it was issued: `token`, and optionally
 * `token_type_hint` (access_token or refresh_token). The hint only orders
 * the lookups; a wrong or unknown hint never prevents a revocation.
 *
 *   refresh token  its whole family is revoked (refresh_tokens.h): every
 *                  token of a family stands for the same grant.
 *   access token   a JWT this gateway issued (auth/access_token_read.h) to
 *                  the calling client: its jti is recorded in
 *                  revoked_access_tokens until it expires, and
 *                  revocation_sync.h brings it to the proxy path of every
 *                  node within about a second.
 *
 * Client authentication (oauth_client_auth.h) is required; a public client
 * names itself with client_id alone, since an app must be able to revoke its
 * own tokens at sign-out. A token that is unknown, invalid, expired or
 * another client's gets the same 200 as a revoked one (RFC 7009 §2.2) and
 * changes nothing: a client can never revoke another client's token, nor
 * learn whether one exists.
 *
 * The form is read on the event loop; lookups run on a worker.
 */
#ifndef YIWANG_GATEWAY_OAUTH_REVOKE_H
#define YIWANG_GATEWAY_OAUTH_REVOKE_H

#include "gateway/request.h"

void oauth_revoke_endpoint(struct request_ctx *rc);

#endif
