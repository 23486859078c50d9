#include "auth/jwt_verify.h"

#include <jansson.h>
#include <openssl/bio.h>
#include <openssl/ec.h>
#include <openssl/ecdsa.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <stdlib.h>
#include <string.h>

#include "common/base64url.h"
#include "common/xalloc.h"

#define MAX_HEADER_JSON 1024
#define ES256_SIGNATURE_LEN 64

const char *jwt_status_name(enum jwt_status status)
{
    static const char *const names[] = {
        [JWT_OK] = "ok",
        [JWT_MALFORMED] = "malformed",
        [JWT_UNKNOWN_KID] = "unknown_kid",
        [JWT_ALG_MISMATCH] = "alg_mismatch",
        [JWT_BAD_TYP] = "bad_typ",
        [JWT_CRIT] = "crit",
        [JWT_BAD_SIGNATURE] = "bad_signature",
        [JWT_BAD_ISSUER] = "bad_issuer",
        [JWT_BAD_AUDIENCE] = "bad_audience",
        [JWT_EXPIRED] = "expired",
        [JWT_NOT_YET_VALID] = "not_yet_valid",
        [JWT_BAD_CLAIMS] = "bad_claims",
        [JWT_REVOKED] = "revoked",
    };
    return (unsigned)status < sizeof(names) / sizeof(names[0]) ? names[status] : "unknown";
}

/* ---- keyset ---- */

static int key_fits_alg(EVP_PKEY *pkey, enum jwt_alg alg)
{
    if (alg == JWT_ALG_ES256_PINNED) {
        char group[64];
        size_t len = 0;
        return EVP_PKEY_is_a(pkey, "EC") && EVP_PKEY_get_group_name(pkey, group, sizeof(group), &len) == 1 &&
               (strcmp(group, "prime256v1") == 0 || strcmp(group, "P-256") == 0);
    }
    return EVP_PKEY_is_a(pkey, "RSA") && EVP_PKEY_get_bits(pkey) >= 2048;
}

int jwt_keyset_add_pkey(struct jwt_keyset *keyset, const char *kid, enum jwt_alg alg, EVP_PKEY *pkey, const char *issuer,
                        const char *typ, char **err)
{
    if (!key_fits_alg(pkey, alg)) {
        *err = xasprintf("key %s is not %s", kid, alg == JWT_ALG_ES256_PINNED ? "a P-256 EC key" : "an RSA key of >= 2048 bits");
        EVP_PKEY_free(pkey);
        return -1;
    }
    keyset->keys = xrealloc(keyset->keys, (keyset->num_keys + 1) * sizeof(*keyset->keys));
    keyset->keys[keyset->num_keys++] = (struct jwt_key){xstrdup(kid), alg, pkey, xstrdup(issuer), xstrdup(typ)};
    return 0;
}

int jwt_keyset_add_pem(struct jwt_keyset *keyset, const char *kid, enum jwt_alg alg, const char *pem, size_t pem_len,
                       const char *issuer, const char *typ, char **err)
{
    BIO *bio = BIO_new_mem_buf(pem, (int)pem_len);
    EVP_PKEY *pkey = bio != NULL ? PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL) : NULL;
    BIO_free(bio);
    if (pkey == NULL) {
        *err = xasprintf("key %s is not a PEM public key", kid);
        return -1;
    }
    return jwt_keyset_add_pkey(keyset, kid, alg, pkey, issuer, typ, err);
}

void jwt_keyset_add_audience(struct jwt_keyset *keyset, const char *audience)
{
    keyset->audiences = xrealloc(keyset->audiences, (keyset->num_audiences + 1) * sizeof(*keyset->audiences));
    keyset->audiences[keyset->num_audiences++] = xstrdup(audience);
}

void jwt_keyset_clear(struct jwt_keyset *keyset)
{
    for (size_t i = 0; i < keyset->num_keys; i++) {
        free(keyset->keys[i].kid);
        EVP_PKEY_free(keyset->keys[i].pkey);
        free(keyset->keys[i].issuer);
        free(keyset->keys[i].typ);
    }
    free(keyset->keys);
    for (size_t i = 0; i < keyset->num_audiences; i++)
        free(keyset->audiences[i]);
    free(keyset->audiences);
    *keyset = (struct jwt_keyset){0};
}

static const struct jwt_key *find_key(const struct jwt_keyset *keyset, const char *kid)
{
    for (size_t i = 0; i < keyset->num_keys; i++) {
        if (strcmp(keyset->keys[i].kid, kid) == 0)
            return &keyset->keys[i];
    }
    return NULL;
}

/* ---- verification ---- */

struct token_parts {
    const char *header, *payload, *signature;
    size_t header_len, payload_len, signature_len;
};

static int split_token(const char *token, size_t len, struct token_parts *parts)
{
    const char *dot1 = memchr(token, '.', len);
    if (dot1 == NULL)
        return -1;
    const char *dot2 = memchr(dot1 + 1, '.', len - (size_t)(dot1 + 1 - token));
    if (dot2 == NULL || memchr(dot2 + 1, '.', len - (size_t)(dot2 + 1 - token)) != NULL)
        return -1;
    *parts = (struct token_parts){
        token, dot1 + 1, dot2 + 1, (size_t)(dot1 - token), (size_t)(dot2 - dot1 - 1), len - (size_t)(dot2 + 1 - token)};
    return parts->header_len != 0 && parts->payload_len != 0 ? 0 : -1;
}

static json_t *decode_json_part(const char *part, size_t len)
{
    unsigned char *raw = xmalloc(BASE64URL_DECODED_MAX(len));
    long n = base64url_decode(part, len, raw);
    json_t *json = n > 0 ? json_loadb((const char *)raw, (size_t)n, JSON_REJECT_DUPLICATES, NULL) : NULL;
    free(raw);
    if (json != NULL && !json_is_object(json)) {
        json_decref(json);
        return NULL;
    }
    return json;
}

/* `typ`: the typ required; NULL = the key's own. */
static enum jwt_status check_header(const struct jwt_keyset *keyset, const char *b64, size_t len, const char *want_typ,
                                    const struct jwt_key **key)
{
    if (len > BASE64URL_ENCODED_LEN(MAX_HEADER_JSON))
        return JWT_MALFORMED;
    json_t *header = decode_json_part(b64, len);
    if (header == NULL)
        return JWT_MALFORMED;
    enum jwt_status status = JWT_OK;
    const char *kid = json_string_value(json_object_get(header, "kid"));
    const char *alg = json_string_value(json_object_get(header, "alg"));
    const char *typ = json_string_value(json_object_get(header, "typ"));
    if (kid == NULL || (*key = find_key(keyset, kid)) == NULL)
        status = JWT_UNKNOWN_KID;
    else if (alg == NULL || strcmp(alg, (*key)->alg == JWT_ALG_ES256_PINNED ? "ES256" : "RS256") != 0)
        status = JWT_ALG_MISMATCH;
    else if (typ == NULL || strcasecmp(typ, want_typ != NULL ? want_typ : (*key)->typ) != 0) /* case-insensitive: RFC 7515 §4.1.9 */
        status = JWT_BAD_TYP;
    else if (json_object_get(header, "crit") != NULL)
        status = JWT_CRIT;
    json_decref(header);
    return status;
}

/* JOSE ES256 signatures are r||s (32 bytes each); OpenSSL wants DER. */
static unsigned char *es256_signature_to_der(const unsigned char *raw, size_t *der_len)
{
    ECDSA_SIG *sig = ECDSA_SIG_new();
    BIGNUM *r = BN_bin2bn(raw, 32, NULL), *s = BN_bin2bn(raw + 32, 32, NULL);
    unsigned char *der = NULL;
    if (sig == NULL || r == NULL || s == NULL || ECDSA_SIG_set0(sig, r, s) != 1) {
        BN_free(r);
        BN_free(s);
        ECDSA_SIG_free(sig);
        return NULL;
    }
    int n = i2d_ECDSA_SIG(sig, &der);
    ECDSA_SIG_free(sig);
    if (n <= 0)
        return NULL;
    *der_len = (size_t)n;
    return der;
}

static int verify_signature(const struct jwt_key *key, const struct token_parts *parts)
{
    unsigned char raw[BASE64URL_DECODED_MAX(1024)];
    if (parts->signature_len > 1024)
        return 0;
    long raw_len = base64url_decode(parts->signature, parts->signature_len, raw);
    if (raw_len <= 0)
        return 0;
    const unsigned char *sig = raw;
    size_t sig_len = (size_t)raw_len;
    unsigned char *der = NULL;
    if (key->alg == JWT_ALG_ES256_PINNED) {
        if (sig_len != ES256_SIGNATURE_LEN || (der = es256_signature_to_der(raw, &sig_len)) == NULL)
            return 0;
        sig = der;
    }
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    const unsigned char *signed_part = (const unsigned char *)parts->header;
    size_t signed_len = parts->header_len + 1 + parts->payload_len;
    int ok = ctx != NULL && EVP_DigestVerifyInit(ctx, NULL, EVP_sha256(), NULL, key->pkey) == 1 &&
             EVP_DigestVerify(ctx, sig, sig_len, signed_part, signed_len) == 1;
    EVP_MD_CTX_free(ctx);
    OPENSSL_free(der);
    return ok;
}

/* Copies a string claim if present; -1 when it has the wrong type, is too long or holds control characters. */
static int copy_string_claim(const json_t *payload, const char *name, char *out, size_t size, int required)
{
    const json_t *value = json_object_get(payload, name);
    out[0] = '\0';
    if (value == NULL)
        return required ? -1 : 0;
    if (!json_is_string(value))
        return -1;
    size_t len = json_string_length(value);
    const char *s = json_string_value(value);
    if (len == 0 || len >= size)
        return required || len >= size ? -1 : 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x20 || c == 0x7f)
            return -1; /* the value is forwarded as an X-Gateway-* header */
    }
    memcpy(out, s, len + 1);
    return 0;
}

static int get_time_claim(const json_t *payload, const char *name, int64_t *out)
{
    const json_t *value = json_object_get(payload, name);
    if (value == NULL)
        return 0;
    if (json_is_integer(value))
        *out = (int64_t)json_integer_value(value);
    else if (json_is_real(value))
        *out = (int64_t)json_real_value(value);
    else
        return -1;
    return 1;
}

static int audience_accepted(const struct jwt_keyset *keyset, const json_t *aud)
{
    for (size_t i = 0; i < keyset->num_audiences; i++) {
        const char *want = keyset->audiences[i];
        if (json_is_string(aud) && strcmp(json_string_value(aud), want) == 0)
            return 1;
        size_t j;
        const json_t *item;
        if (json_is_array(aud)) {
            json_array_foreach(aud, j, item)
            {
                if (json_is_string(item) && strcmp(json_string_value(item), want) == 0)
                    return 1;
            }
        }
    }
    return 0;
}

static unsigned acr_level(const char *acr)
{
    const char *digits = acr;
    static const char prefix[] = "urn:yiwang:acr:";
    if (strncmp(acr, prefix, sizeof(prefix) - 1) == 0)
        digits = acr + sizeof(prefix) - 1;
    return (digits[0] >= '1' && digits[0] <= '3' && digits[1] == '\0') ? (unsigned)(digits[0] - '0') : 0;
}

static enum jwt_status check_times(const struct jwt_keyset *keyset, const json_t *payload, int64_t now, struct jwt_claims *claims)
{
    int64_t skew = keyset->clock_skew_s, nbf = 0;
    int has_exp = get_time_claim(payload, "exp", &claims->exp), has_nbf = get_time_claim(payload, "nbf", &nbf);
    int has_iat = get_time_claim(payload, "iat", &claims->iat);
    if (has_exp < 0 || has_nbf < 0 || has_iat < 0)
        return JWT_BAD_CLAIMS;
    if (!has_exp || claims->exp + skew <= now)
        return JWT_EXPIRED;
    if ((has_nbf && nbf > now + skew) || (has_iat && claims->iat > now + skew))
        return JWT_NOT_YET_VALID;
    return JWT_OK;
}

static enum jwt_status check_claims(const struct jwt_keyset *keyset, const struct jwt_key *key, const json_t *payload, int64_t now,
                                    struct jwt_claims *claims)
{
    const char *iss = json_string_value(json_object_get(payload, "iss"));
    if (iss == NULL || strcmp(iss, key->issuer) != 0)
        return JWT_BAD_ISSUER;
    if (!audience_accepted(keyset, json_object_get(payload, "aud")))
        return JWT_BAD_AUDIENCE;
    enum jwt_status status = check_times(keyset, payload, now, claims);
    if (status != JWT_OK)
        return status;
    if (copy_string_claim(payload, "sub", claims->sub, sizeof(claims->sub), 1) != 0 ||
        copy_string_claim(payload, "client_id", claims->client_id, sizeof(claims->client_id), 0) != 0 ||
        copy_string_claim(payload, "scope", claims->scope, sizeof(claims->scope), 0) != 0 ||
        copy_string_claim(payload, "sid", claims->sid, sizeof(claims->sid), 0) != 0 ||
        copy_string_claim(payload, "org", claims->org, sizeof(claims->org), 0) != 0 ||
        copy_string_claim(payload, "jti", claims->jti, sizeof(claims->jti), 0) != 0 ||
        copy_string_claim(payload, "acr", claims->acr, sizeof(claims->acr), 0) != 0)
        return JWT_BAD_CLAIMS;
    claims->acr_level = acr_level(claims->acr);
    claims->is_client_token = claims->client_id[0] != '\0' && strcmp(claims->sub, claims->client_id) == 0;
    return JWT_OK;
}

/* Header and signature; on JWT_OK the parsed payload in *payload. */
static enum jwt_status verify_signed(const struct jwt_keyset *keyset, const char *typ, const char *token, size_t len,
                                     const struct jwt_key **key, json_t **payload)
{
    struct token_parts parts;
    if (len > JWT_MAX_TOKEN_LEN || split_token(token, len, &parts) != 0)
        return JWT_MALFORMED;
    enum jwt_status status = check_header(keyset, parts.header, parts.header_len, typ, key);
    if (status != JWT_OK)
        return status;
    /* the signature is checked before the payload is even parsed: nothing unauthenticated is interpreted further */
    if (!verify_signature(*key, &parts))
        return JWT_BAD_SIGNATURE;
    *payload = decode_json_part(parts.payload, parts.payload_len);
    return *payload != NULL ? JWT_OK : JWT_MALFORMED;
}

enum jwt_status jwt_verify_signature(const struct jwt_keyset *keyset, const char *typ, const char *token, size_t len,
                                     json_t **payload, const char **issuer)
{
    const struct jwt_key *key = NULL;
    *payload = NULL;
    enum jwt_status status = verify_signed(keyset, typ, token, len, &key, payload);
    if (status == JWT_OK)
        *issuer = key->issuer;
    return status;
}

enum jwt_status jwt_verify(const struct jwt_keyset *keyset, const char *token, size_t len, int64_t now, struct jwt_claims *claims)
{
    const struct jwt_key *key = NULL;
    json_t *payload = NULL;
    enum jwt_status status = verify_signed(keyset, NULL, token, len, &key, &payload);
    if (status != JWT_OK)
        return status;
    memset(claims, 0, sizeof(*claims));
    status = check_claims(keyset, key, payload, now, claims);
    json_decref(payload);
    return status;
}

int jwt_scope_contains_all(const char *scope, char *const *required, size_t num_required)
{
    for (size_t i = 0; i < num_required; i++) {
        size_t want = strlen(required[i]);
        int found = 0;
        for (const char *p = scope; *p != '\0' && !found;) {
            while (*p == ' ')
                p++;
            const char *end = p;
            while (*end != '\0' && *end != ' ')
                end++;
            found = (size_t)(end - p) == want && memcmp(p, required[i], want) == 0;
            p = end;
        }
        if (!found)
            return 0;
    }
    return 1;
}
