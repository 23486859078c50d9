/*
 * jwt_sign.h — signing tokens and publishing the keys that verify them.
 *
 * A signer holds one private key, parsed once (signing with libjwt would
 * re-parse the PEM on every token, ~400 µs; techguide §4), and produces
 * compact JWS strings: ES256 (JOSE r||s signatures) or RS256. Key ids are the
 * RFC 7638 JWK thumbprint of the public key, so a kid names exactly one key
 * everywhere. JWKs are rendered for /.well-known/jwks.json.
 *
 * Threads: a signer is immutable after creation and may sign from several
 * threads at once (each call uses its own OpenSSL digest context).
 */
#ifndef YIWANG_AUTH_JWT_SIGN_H
#define YIWANG_AUTH_JWT_SIGN_H

#include <stddef.h>

#include <openssl/evp.h>

#include "auth/jwt_verify.h"
#include "common/strbuf.h"

struct jwt_signer {
    char kid[44]; /* base64url SHA-256 thumbprint (43 characters) */
    enum jwt_alg alg;
    EVP_PKEY *pkey;
};

/* Generates a new key pair: P-256 for ES256, RSA-2048 for RS256. */
int jwt_signer_generate(struct jwt_signer *signer, enum jwt_alg alg, char **err);
/* Loads a private key (PEM, PKCS#8 or traditional) and checks it fits `alg`. */
int jwt_signer_from_pem(struct jwt_signer *signer, enum jwt_alg alg, const char *pem, size_t len, char **err);
void jwt_signer_clear(struct jwt_signer *signer);

/* PEM encodings, malloc'ed and NUL-terminated: the private one only ever goes into encrypted storage. */
char *jwt_signer_private_pem(const struct jwt_signer *signer, size_t *len);
char *jwt_signer_public_pem(const struct jwt_signer *signer, size_t *len);

/* Signs `payload` (a JSON object text) with header {"alg","typ","kid"}; returns a malloc'ed compact JWS or NULL. */
char *jwt_sign(const struct jwt_signer *signer, const char *typ, const char *payload, size_t payload_len);

/* Appends the public key as a JWK object with kid, alg and "use":"sig". Returns -1 for an unsupported key. */
int jwt_append_jwk(struct strbuf *out, EVP_PKEY *pkey, const char *kid, enum jwt_alg alg);

/* The RFC 7638 thumbprint of a public key (43 base64url characters + NUL). */
int jwt_thumbprint(EVP_PKEY *pkey, enum jwt_alg alg, char out[44]);

#endif
