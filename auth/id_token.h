/*
 * id_token.h — OpenID Connect ID tokens (OIDC Core §2, §3.1.3.6).
 *
 * Claims: iss, sub, aud (the client), azp, exp, iat, auth_time, nonce (when
 * the authorization request had one), acr, amr, sid, at_hash when issued
 * together with an access token, and org (the unified social credit code of
 * the legal person acted for, as in the access token) when the grant acts for
 * one. Like access tokens they carry no personal data: a relying party that
 * needs the name asks /userinfo with the scope that allows it. Header typ
 * "JWT"; ES256 or RS256 as the signer's key. Pure apart from signing; any
 * thread.
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
    const char *org;          /* NULL: no org claim */
    int64_t auth_time;
    int64_t now;
    unsigned lifetime_s;
};

/* Returns a malloc'ed signed ID token, or NULL. */
char *id_token_issue(const struct jwt_signer *signer, const struct id_token_grant *grant);

/* What RP-initiated logout learns from an id_token_hint. */
struct id_token_hint {
    char subject[128];
    char client_id[128]; /* the aud (one audience: the RP) */
    char sid[128];       /* "" when the token had none */
};

/*
 * Reads an ID token this issuer signed, given back as an id_token_hint: the
 * signature under `keyset` (kid, pinned alg, typ "JWT"), iss == `issuer`
 * (and the key trusted for that issuer), one aud, a sub. Its exp is not
 * checked: OIDC RP-Initiated Logout §2 lets an RP log out with the ID token
 * of a session after the token itself expired. 0, or -1 when it is not one.
 */
int id_token_read_hint(const struct jwt_keyset *keyset, const char *issuer, const char *token, size_t len,
                       struct id_token_hint *out);

/* at_hash: base64url of the left half of SHA-256(access_token) (43 → 22 characters + NUL). */
int id_token_at_hash(const char *access_token, char out[23]);

#endif
