/*
 * pkce.h — Proof Key for Code Exchange (RFC 7636), S256 only.
 *
 * Public clients (mobile apps, mini-programs, SPAs) cannot keep a secret, so
 * an intercepted authorization code must be useless to whoever intercepts it:
 * the client sends SHA-256(verifier) with the authorization request and the
 * verifier itself when redeeming the code. "plain" is refused (OAuth 2.1).
 * Pure; any thread.
 */
#ifndef YIWANG_AUTH_PKCE_H
#define YIWANG_AUTH_PKCE_H

#include <stddef.h>

#define PKCE_CHALLENGE_LEN 43 /* base64url of a SHA-256 digest */

/* Is `challenge` a well-formed S256 challenge (43 base64url characters)? */
int pkce_challenge_is_valid(const char *challenge, size_t len);
/* Is `verifier` well formed (43..128 of [A-Za-z0-9-._~], RFC 7636 §4.1)? */
int pkce_verifier_is_valid(const char *verifier, size_t len);
/* Does BASE64URL(SHA256(verifier)) equal `challenge`? Constant time; 0 for malformed input. */
int pkce_verify_s256(const char *verifier, size_t verifier_len, const char *challenge, size_t challenge_len);

#endif
