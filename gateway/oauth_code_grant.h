/*
 * oauth_code_grant.h — what the token endpoint (oauth_token.c) issues for an
 * authorization code (RFC 6749 §4.1.3, OAuth 2.1 §4.1.3, OIDC Core §3.1.3)
 * and the ID tokens of the code and refresh_token grants.
 *
 * The code is redeemed with authz_codes_redeem, which checks it (client,
 * redirect URI, PKCE verifier, expiry, session and account) and runs the
 * issuing inside its transaction: an access token carrying the session's sid,
 * acr and auth_time, a refresh-token family when the client may refresh, and
 * an ID token when the granted scope has openid. A code issued to act for a
 * legal person gives all three its credit code (org), after asking again
 * whether the person is still its agent: if not, invalid_grant and nothing is
 * issued (the code stays unused until it expires). What was issued is recorded
 * on the code, so a replay revokes it (the family at once, the access token
 * through the revoked-token list every node reads).
 *
 * Worker threads only.
 */
#ifndef YIWANG_GATEWAY_OAUTH_CODE_GRANT_H
#define YIWANG_GATEWAY_OAUTH_CODE_GRANT_H

#include <stdint.h>

#include "auth/authz_codes.h"
#include "auth/clients.h"
#include "gateway/async_request.h"

struct user_token_subject; /* gateway/auth_api_common.h */

/* The token request's parameters of this grant. */
struct code_grant_request {
    const char *code;
    const char *redirect_uri;  /* NULL when absent (refused) */
    const char *code_verifier; /* NULL when absent */
};

struct code_grant_tokens {
    char *access_token; /* malloc'ed */
    unsigned expires_in;
    char scope[AUTHZ_SCOPE_MAX + 1];
    char refresh_token[SECRETS_TOKEN_BUFSIZE]; /* "" when the client may not refresh */
    char *id_token;                            /* malloc'ed; NULL without openid */
};

/*
 * Redeems the code for the authenticated `client`. NULL on success (`out`
 * filled, the caller frees it with code_grant_tokens_clear), else the RFC
 * 6749 error code (invalid_grant, unauthorized_client,
 * temporarily_unavailable) with *description.
 */
const char *oauth_code_grant_redeem(struct db *db, const struct async_request *ar, const struct oauth_client *client,
                                    const struct code_grant_request *request, struct code_grant_tokens *out,
                                    const char **description);
void code_grant_tokens_clear(struct code_grant_tokens *tokens);

/*
 * An ID token for `who` (OIDC Core §2: aud = who->client_id; sub, sid, acr, auth_time and org as in the access token
 * `access_token`, whose at_hash it carries). `nonce` and `amr` may be NULL. Malloc'ed, or NULL when it cannot be signed.
 */
char *oauth_id_token(const struct snapshot *snapshot, const struct user_token_subject *who, const char *nonce, const char *amr,
                     const char *access_token);

#endif
