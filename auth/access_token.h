/*
 * access_token.h — issuing RFC 9068 access tokens (JWT, typ at+jwt).
 *
 * Claims: iss, sub, aud, exp, iat, jti, client_id, scope, and for tokens
 * issued to a person sid, acr, auth_time (and org when acting for a legal
 * person). Never personal data such as names, mobile or ID numbers: tokens
 * are readable by anyone who holds them.
 *
 * Pure apart from signing; any thread (the signer is shared read-only).
 */
#ifndef YIWANG_AUTH_ACCESS_TOKEN_H
#define YIWANG_AUTH_ACCESS_TOKEN_H

#include <stdint.h>

#include "auth/jwt_sign.h"

#define ACCESS_TOKEN_JTI_LEN 22 /* 128 random bits, base64url */

struct access_token_grant {
    const char *issuer;
    const char *audience;
    const char *subject;
    const char *client_id;
    const char *scope; /* space-separated; may be "" */
    const char *sid;   /* SSO session; NULL for client_credentials */
    const char *acr;   /* NULL for client_credentials */
    int64_t auth_time; /* 0 = absent */
    const char *org;   /* NULL unless acting for a legal person */
    int64_t now;
    unsigned lifetime_s;
};

/* Returns a malloc'ed signed token and writes its jti, or NULL. */
char *access_token_issue(const struct jwt_signer *signer, const struct access_token_grant *grant,
                         char jti[ACCESS_TOKEN_JTI_LEN + 1]);

#endif
