/*
 * authz_codes.h — authorization codes of the browser sign-in flow (RFC 6749
 * §4.1, OAuth 2.1, OIDC Core §3.1; table authorization_codes).
 *
 * A code is 256 random bits (43 base64url characters); only its HMAC under
 * the token-hash key is stored. It is bound to everything the authorization
 * request settled — the client, the exact redirect URI, the PKCE S256
 * challenge, the OIDC nonce, the SSO session (and through it the person, the
 * time and the method of the sign-in), the granted scope and the legal
 * person acted for, if any — and it lives at most
 * identity.oidc.authorization_code_ttl_s (60 s).
 *
 * Redeeming runs in one transaction that locks the code's row together with
 * its session and account rows, so two parallel redemptions are serialised.
 * It refuses, without consuming the code, a code that is unknown, expired,
 * issued to another client, presented with another redirect URI, with a
 * wrong, missing or (when the request had no challenge, RFC 9700 §2.1.1)
 * unexpected PKCE verifier, or whose session ended or account is no longer
 * active — one answer for all, RFC 6749's invalid_grant. Otherwise it marks
 * the code used, lets the caller issue the tokens inside the same
 * transaction, and records what was issued on the row.
 *
 * A code presented after it was used is being replayed (intercepted, or a
 * broken client): RFC 6749 §4.1.2 asks to revoke what the first use issued,
 * so the refresh-token family is revoked and the access token's jti added to
 * the revoked access tokens (auth/access_revocations.h), which every gateway
 * node refuses within a second or two.
 *
 * Threads: functions taking a `struct db` block (workers). Nothing logs.
 */
#ifndef YIWANG_AUTH_AUTHZ_CODES_H
#define YIWANG_AUTH_AUTHZ_CODES_H

#include <stddef.h>
#include <stdint.h>

#include "auth/accounts.h"
#include "auth/clients.h"
#include "auth/identifiers.h"
#include "auth/sessions.h"
#include "common/db.h"

#define AUTHZ_NONCE_MAX 512
#define AUTHZ_SCOPE_MAX 2048
#define AUTHZ_REDIRECT_URI_MAX 2000

/* What a code is issued for. */
struct authz_code_spec {
    const char *client_id;
    const char *redirect_uri;
    const char *code_challenge; /* S256; NULL: none (only a confidential client may omit it) */
    const char *nonce;          /* NULL: none */
    const char *sid;
    const char *scope;
    const char *org; /* the legal person acted for (its normalised credit code, the agent checked), or NULL */
    unsigned ttl_s;
};

/* Stores a new code and writes it (shown once) to `code`. 0 or -1. */
int authz_codes_issue(struct db *db, const unsigned char token_hash_key[SECRETS_KEY_LEN], const struct authz_code_spec *spec,
                      char code[SECRETS_TOKEN_BUFSIZE], char **err);

/* What the token request presents. */
struct authz_code_redemption {
    const char *code;
    size_t code_len;
    const char *client_id;     /* the authenticated client */
    const char *redirect_uri;  /* NULL: the request had none (refused: the authorization request always has one) */
    const char *code_verifier; /* NULL: none */
};

/* What a redeemed code stands for. */
struct authz_code_grant {
    char account_id[RANDOM_ID_BUFSIZE];
    char sid[RANDOM_ID_BUFSIZE];
    char client_id[CLIENT_ID_MAX + 1];
    char scope[AUTHZ_SCOPE_MAX + 1];
    char nonce[AUTHZ_NONCE_MAX + 1]; /* "" when the request had none */
    int64_t auth_time;               /* of the sign-in, Unix seconds */
    enum session_amr amr;
    unsigned acr;                       /* the account's assurance level now */
    char org[IDENTIFIERS_USCC_BUFSIZE]; /* the legal person acted for; "" for none */
};

/* What the caller issued for the code, recorded so that a replay can revoke it. */
struct authz_code_tokens {
    char family_id[RANDOM_ID_BUFSIZE]; /* "" when no refresh token was issued */
    char access_jti[RANDOM_ID_BUFSIZE];
    int64_t access_expires_at;
};

/* Issues the tokens of a redeemed code inside the redemption's transaction. 0, or -1 (the redemption is rolled back). */
typedef int (*authz_code_issue_cb)(struct db *db, const struct authz_code_grant *grant, void *arg, struct authz_code_tokens *out,
                                   char **err);

enum authz_code_result {
    AUTHZ_CODE_REDEEMED, /* the callback issued the tokens; `grant` is filled */
    AUTHZ_CODE_INVALID,  /* refused; the code (if it exists) is untouched */
    AUTHZ_CODE_REPLAYED, /* used before: what its first use issued is revoked now */
    AUTHZ_CODE_ERROR,    /* database failure, or the callback failed */
};

enum authz_code_result authz_codes_redeem(struct db *db, const unsigned char token_hash_key[SECRETS_KEY_LEN],
                                          const struct authz_code_redemption *request, authz_code_issue_cb issue, void *arg,
                                          struct authz_code_grant *grant, char **err);

/* Deletes up to `limit` codes that expired more than a day ago (a replay after that is only invalid). The number, or -1. */
long authz_codes_sweep(struct db *db, unsigned limit, char **err);

#endif
