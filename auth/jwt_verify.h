/*
 * jwt_verify.h — checking an access token (a JWS-signed JWT) without libjwt.
 *
 * libjwt 1.10.2 takes the algorithm from the token, accepts `alg: none` with
 * an empty key and HMAC "signed" with a public key, checks no claim, and
 * re-parses the PEM key on every call (~400 µs; techguide §4). Here keys are
 * parsed once into a keyset, each key is pinned to one algorithm, and every
 * check an RFC 9068 access token needs is made:
 *
 *   header: alg == the key's pinned alg (so none/HS256 can never match),
 *           kid names a known key, typ as the key requires, no `crit`;
 *   signature: ES256 (JOSE r||s, exactly 64 bytes) or RS256 over
 *           "header.payload", with a pre-parsed EVP_PKEY;
 *   claims: iss == the key's issuer, aud contains an accepted audience,
 *           exp present and not past, nbf and iat not in the future (each
 *           with the configured skew), sub present; string claims must be
 *           short and free of control characters, since they become headers.
 *
 * Threads: a keyset is immutable once built and shared by every thread
 * (OpenSSL allows concurrent use of an EVP_PKEY that is not modified);
 * jwt_verify allocates its own digest context per call.
 */
#ifndef YIWANG_AUTH_JWT_VERIFY_H
#define YIWANG_AUTH_JWT_VERIFY_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

struct json_t;

#define JWT_MAX_TOKEN_LEN 8192

enum jwt_alg {
    JWT_ALG_ES256_PINNED,
    JWT_ALG_RS256_PINNED,
};

struct jwt_key {
    char *kid;
    enum jwt_alg alg;
    EVP_PKEY *pkey;
    char *issuer; /* iss a token under this key must carry */
    char *typ;    /* JOSE typ a token under this key must carry */
};

struct jwt_keyset {
    struct jwt_key *keys;
    size_t num_keys;
    char **audiences; /* a token's aud must contain one of these */
    size_t num_audiences;
    unsigned clock_skew_s;
};

/* Why a token was refused. Stable: they are counted in metrics and logged. */
enum jwt_status {
    JWT_OK = 0,
    JWT_MALFORMED,    /* not three base64url parts, bad JSON, too long */
    JWT_UNKNOWN_KID,  /* no kid, or no key with that kid */
    JWT_ALG_MISMATCH, /* alg is not the key's pinned algorithm (none, HS256, ...) */
    JWT_BAD_TYP,      /* typ is not what the key requires */
    JWT_CRIT,         /* a crit header: extensions this verifier does not implement */
    JWT_BAD_SIGNATURE,
    JWT_BAD_ISSUER,
    JWT_BAD_AUDIENCE,
    JWT_EXPIRED,       /* exp missing or past */
    JWT_NOT_YET_VALID, /* nbf or iat in the future */
    JWT_BAD_CLAIMS,    /* sub missing, or a claim too long, of the wrong type or with control characters */
    JWT_REVOKED,       /* valid, but its session ended or it was revoked (not set by jwt_verify: by the caller) */
};

const char *jwt_status_name(enum jwt_status status);

/* The claims the gateway uses; fixed-size so a verified result can be cached by value. */
struct jwt_claims {
    char sub[128];
    char client_id[128];
    char scope[1024]; /* space-separated */
    char sid[128];
    char org[128]; /* legal person the subject acts for, if any */
    char jti[128];
    char acr[32];
    unsigned acr_level; /* acr as an assurance level 0..3 ("1".."3" or "urn:yiwang:acr:N"); 0 when absent */
    int64_t exp;
    int64_t iat;
    int is_client_token; /* sub == client_id: a client_credentials token, no person behind it */
};

/*
 * Adds a key from a PEM public key (SubjectPublicKeyInfo). The key type must
 * fit the algorithm (P-256 EC for ES256, RSA >= 2048 bits for RS256).
 * Returns 0, or -1 with a malloc'ed message in *err.
 */
int jwt_keyset_add_pem(struct jwt_keyset *keyset, const char *kid, enum jwt_alg alg, const char *pem, size_t pem_len,
                       const char *issuer, const char *typ, char **err);
/* Takes ownership of `pkey` (already type-checked by the caller or not: it is checked here too). */
int jwt_keyset_add_pkey(struct jwt_keyset *keyset, const char *kid, enum jwt_alg alg, EVP_PKEY *pkey, const char *issuer,
                        const char *typ, char **err);
void jwt_keyset_add_audience(struct jwt_keyset *keyset, const char *audience);
void jwt_keyset_clear(struct jwt_keyset *keyset);

/* Verifies `token` at time `now` (Unix seconds); fills `claims` when JWT_OK. */
enum jwt_status jwt_verify(const struct jwt_keyset *keyset, const char *token, size_t len, int64_t now, struct jwt_claims *claims);

/*
 * Only the signature of a token under the keyset — kid known, alg the key's
 * pinned one, typ equal to `typ` (not the key's), no crit — for tokens that
 * are not access tokens and whose claims the caller checks itself (an ID
 * token given back as a logout hint is valid after its exp). On JWT_OK
 * *payload is the parsed payload object (the caller decrefs it) and *issuer
 * the iss the key is trusted for.
 */
enum jwt_status jwt_verify_signature(const struct jwt_keyset *keyset, const char *typ, const char *token, size_t len,
                                     struct json_t **payload, const char **issuer);

/* Does the space-separated `scope` contain every one of `required`? */
int jwt_scope_contains_all(const char *scope, char *const *required, size_t num_required);

#endif
