/*
 * access_token_read.h — recognising an access token this gateway issued,
 * for the endpoints that act on a token given to them as data: revocation
 * (RFC 7009), introspection (RFC 7662) and userinfo.
 *
 * A token is "ours" when its signature checks under a key of the keyset
 * that is trusted for `issuer` (the gateway's own iss), with typ at+jwt, and
 * its payload's iss is that issuer: a token of another trusted issuer (a
 * partner's key accepted on the proxy path) is not the gateway's to revoke
 * or describe. Whether it is still valid (exp, nbf, aud, claim shapes) is
 * reported separately, since revoking an expired token is harmless but
 * describing it as active is not.
 *
 * own_access_token_read is pure (any thread: the keyset is shared
 * read-only); own_access_token_revoked blocks on the database (workers).
 */
#ifndef YIWANG_AUTH_ACCESS_TOKEN_READ_H
#define YIWANG_AUTH_ACCESS_TOKEN_READ_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "auth/jwt_verify.h"
#include "common/db.h"

struct own_access_token {
    json_t *payload;          /* the parsed payload; owned (own_access_token_clear) */
    enum jwt_status valid;    /* jwt_verify's verdict at `now`: JWT_OK when it may be used */
    struct jwt_claims claims; /* filled when valid == JWT_OK */
    const char *client_id;    /* in the payload; "" when absent */
    const char *jti;          /* likewise */
    int64_t exp;              /* 0 when absent */
};

/* 1 ours (`out` filled), 0 not ours or not a token at all. */
int own_access_token_read(const struct jwt_keyset *keyset, const char *issuer, const char *token, size_t len, int64_t now,
                          struct own_access_token *out);
void own_access_token_clear(struct own_access_token *token);

/*
 * Is a valid token revoked, by its jti (access_revocations.h) or by the end
 * of its session (sessions.h; a sid naming no session counts as ended)?
 * Exact, unlike a node's revocation set, which may be a second old.
 * 1, 0, or -1 on error (*err malloc'ed).
 */
int own_access_token_revoked(struct db *db, const struct jwt_claims *claims, char **err);

#endif
