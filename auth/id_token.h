/*
 * id_token.h — OpenID Connect ID tokens (OIDC Core §2, §3.1.3.6).
 *
 * Claims: iss, sub, aud (the client), azp, exp, iat, auth_time, nonce (when
 * the authorization request had one), acr, amr, sid, and at_hash when issued
 * together with an access token. Like access tokens they carry no personal
 * data: a relying party that needs the name asks /userinfo with the scope
 * that allows it. Header typ "JWT"; ES256 or RS256 as the signer's key.
 * Pure apart from signing; any thread.
 */
#ifndef YIWANG_AUTH_ID_TOKEN_H
#define YIWANG_AUTH_ID_TOKEN_H

#include <stdint.h>

#include "auth/jwt_sign.h"

struct id_token_grant {
    const char *issuer;
    const char *subject;
    const char *client_id;
    const char *nonce; /* NULL: no nonce claim */
    const char *acr;
    const char *amr; /* one method: "sms", "pwd"; NULL: no amr claim */
    const char *sid;
    const char *access_token; /* NULL: no at_hash */
    int64_t auth_time;
    int64_t now;
    unsigned lifetime_s;
};

/* Returns a malloc'ed signed ID token, or NULL. */
char *id_token_issue(const struct jwt_signer *signer, const struct id_token_grant *grant);

/* at_hash: base64url of the left half of SHA-256(access_token) (43 → 22 characters + NUL). */
int id_token_at_hash(const char *access_token, char out[23]);

#endif
