/*
 * oauth_introspect.h — POST /oauth/introspect, token introspection (RFC 7662).
 *
 * For resource servers (department services, integrators' back ends) that
 * cannot or will not verify JWTs themselves, or that need to know whether a
 * token was revoked: only authenticated confidential clients may ask; a
 * public client (an app) is answered 401 invalid_client.
 *
 *   access token   a JWT this gateway issued (auth/access_token_read.h),
 *                  valid now (signature, iss, aud, exp, nbf), its jti not
 *                  revoked and its session not ended — both checked in the
 *                  database, not in the node's revocation set, so the answer
 *                  is exact rather than up to a second old. Any confidential
 *                  client may introspect it: resource servers are who need to.
 *   refresh token  active only while usable (refresh_tokens_inspect), and
 *                  described only to the client it was issued to: anyone
 *                  else learns {"active":false}, as for an unknown token.
 *
 * Anything else — unknown, malformed, expired, revoked, another issuer's —
 * is {"active":false}, never an error (RFC 7662 §2.2). Answers are never
 * cached (no-store). `token_type_hint` is accepted and ignored: both kinds
 * are recognised by their shape.
 *
 * The form is read on the event loop; checks run on a worker.
 */
#ifndef YIWANG_GATEWAY_OAUTH_INTROSPECT_H
#define YIWANG_GATEWAY_OAUTH_INTROSPECT_H

#include "gateway/request.h"

void oauth_introspect_endpoint(struct request_ctx *rc);

#endif
