#include "auth/jwt_sign.h"

#include <openssl/bio.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/ecdsa.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <stdlib.h>
#include <string.h>

#include "common/base64url.h"
#include "common/xalloc.h"

static int fail(char **err, const char *message)
{
    if (err != NULL)
        *err = xstrdup(message);
    return -1;
}

/* ---- public key material as JWK members ---- */

struct jwk_members {
    char a[BASE64URL_ENCODED_LEN(512) + 1]; /* EC: x, RSA: n */
    char b[BASE64URL_ENCODED_LEN(512) + 1]; /* EC: y, RSA: e */
};

static void b64_bytes(const unsigned char *bytes, size_t len, char *out)
{
    out[base64url_encode(bytes, len, out)] = '\0';
}

static int b64_bignum(EVP_PKEY *pkey, const char *param, char *out)
{
    BIGNUM *bn = NULL;
    unsigned char bytes[512];
    if (EVP_PKEY_get_bn_param(pkey, param, &bn) != 1 || BN_num_bytes(bn) > (int)sizeof(bytes)) {
        BN_free(bn);
        return -1;
    }
    int n = BN_bn2bin(bn, bytes);
    BN_free(bn);
    b64_bytes(bytes, (size_t)n, out);
    return 0;
}

static int jwk_members(EVP_PKEY *pkey, enum jwt_alg alg, struct jwk_members *m)
{
    if (alg == JWT_ALG_RS256_PINNED)
        return b64_bignum(pkey, OSSL_PKEY_PARAM_RSA_N, m->a) == 0 && b64_bignum(pkey, OSSL_PKEY_PARAM_RSA_E, m->b) == 0 ? 0 : -1;
    unsigned char point[65];
    size_t len = 0;
    if (EVP_PKEY_get_octet_string_param(pkey, OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY, point, sizeof(point), &len) != 1 || len != 65 ||
        point[0] != 0x04) /* uncompressed P-256 point: 04 || x || y */
        return -1;
    b64_bytes(point + 1, 32, m->a);
    b64_bytes(point + 33, 32, m->b);
    return 0;
}

int jwt_thumbprint(EVP_PKEY *pkey, enum jwt_alg alg, char out[44])
{
    struct jwk_members m;
    if (jwk_members(pkey, alg, &m) != 0)
        return -1;
    /* RFC 7638: the required members only, in lexicographic order, no whitespace */
    char *json = alg == JWT_ALG_RS256_PINNED ? xasprintf("{\"e\":\"%s\",\"kty\":\"RSA\",\"n\":\"%s\"}", m.b, m.a)
                                             : xasprintf("{\"crv\":\"P-256\",\"kty\":\"EC\",\"x\":\"%s\",\"y\":\"%s\"}", m.a, m.b);
    unsigned char digest[32];
    unsigned int digest_len = 0;
    int ok = EVP_Digest(json, strlen(json), digest, &digest_len, EVP_sha256(), NULL) == 1;
    free(json);
    if (!ok)
        return -1;
    b64_bytes(digest, digest_len, out);
    return 0;
}

int jwt_append_jwk(struct strbuf *out, EVP_PKEY *pkey, const char *kid, enum jwt_alg alg)
{
    struct jwk_members m;
    if (jwk_members(pkey, alg, &m) != 0)
        return -1;
    strbuf_append_str(out, "{\"kid\":");
    strbuf_append_json_string(out, kid, strlen(kid));
    if (alg == JWT_ALG_RS256_PINNED)
        strbuf_appendf(out, ",\"kty\":\"RSA\",\"alg\":\"RS256\",\"use\":\"sig\",\"n\":\"%s\",\"e\":\"%s\"}", m.a, m.b);
    else
        strbuf_appendf(out, ",\"kty\":\"EC\",\"alg\":\"ES256\",\"use\":\"sig\",\"crv\":\"P-256\",\"x\":\"%s\",\"y\":\"%s\"}", m.a,
                       m.b);
    return 0;
}

/* ---- signers ---- */

static int key_matches(EVP_PKEY *pkey, enum jwt_alg alg)
{
    if (alg == JWT_ALG_RS256_PINNED)
        return EVP_PKEY_is_a(pkey, "RSA") && EVP_PKEY_get_bits(pkey) >= 2048;
    char group[64];
    size_t len = 0;
    return EVP_PKEY_is_a(pkey, "EC") && EVP_PKEY_get_group_name(pkey, group, sizeof(group), &len) == 1 &&
           strcmp(group, "prime256v1") == 0;
}

static int adopt_key(struct jwt_signer *signer, enum jwt_alg alg, EVP_PKEY *pkey, char **err)
{
    if (!key_matches(pkey, alg)) {
        EVP_PKEY_free(pkey);
        return fail(err, alg == JWT_ALG_RS256_PINNED ? "not an RSA key of at least 2048 bits" : "not a P-256 EC key");
    }
    signer->alg = alg;
    signer->pkey = pkey;
    if (jwt_thumbprint(pkey, alg, signer->kid) != 0) {
        jwt_signer_clear(signer);
        return fail(err, "cannot compute the key's thumbprint");
    }
    return 0;
}

int jwt_signer_generate(struct jwt_signer *signer, enum jwt_alg alg, char **err)
{
    memset(signer, 0, sizeof(*signer));
    EVP_PKEY *pkey = alg == JWT_ALG_RS256_PINNED ? EVP_RSA_gen(2048) : EVP_EC_gen("P-256");
    if (pkey == NULL)
        return fail(err, "key generation failed");
    return adopt_key(signer, alg, pkey, err);
}

int jwt_signer_from_pem(struct jwt_signer *signer, enum jwt_alg alg, const char *pem, size_t len, char **err)
{
    memset(signer, 0, sizeof(*signer));
    BIO *bio = BIO_new_mem_buf(pem, (int)len);
    EVP_PKEY *pkey = bio != NULL ? PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL) : NULL;
    BIO_free(bio);
    if (pkey == NULL)
        return fail(err, "not a PEM private key");
    return adopt_key(signer, alg, pkey, err);
}

void jwt_signer_clear(struct jwt_signer *signer)
{
    EVP_PKEY_free(signer->pkey);
    memset(signer, 0, sizeof(*signer));
}

static char *pem_of(const struct jwt_signer *signer, int private_key, size_t *len)
{
    BIO *bio = BIO_new(BIO_s_secmem());
    if (bio == NULL)
        return NULL;
    int ok = private_key ? PEM_write_bio_PrivateKey(bio, signer->pkey, NULL, NULL, 0, NULL, NULL)
                         : PEM_write_bio_PUBKEY(bio, signer->pkey);
    char *data = NULL, *copy = NULL;
    long n = ok ? BIO_get_mem_data(bio, &data) : 0;
    if (n > 0) {
        copy = xstrndup(data, (size_t)n);
        if (len != NULL)
            *len = (size_t)n;
    }
    BIO_free(bio); /* a secure-memory BIO: the private key's bytes are wiped on free */
    return copy;
}

char *jwt_signer_private_pem(const struct jwt_signer *signer, size_t *len)
{
    return pem_of(signer, 1, len);
}

char *jwt_signer_public_pem(const struct jwt_signer *signer, size_t *len)
{
    return pem_of(signer, 0, len);
}

/* DER ECDSA signature to JOSE r||s; returns 64 or -1. */
static int der_to_jose(const unsigned char *der, size_t der_len, unsigned char out[64])
{
    const unsigned char *p = der;
    ECDSA_SIG *sig = d2i_ECDSA_SIG(NULL, &p, (long)der_len);
    if (sig == NULL)
        return -1;
    int ok = BN_bn2binpad(ECDSA_SIG_get0_r(sig), out, 32) == 32 && BN_bn2binpad(ECDSA_SIG_get0_s(sig), out + 32, 32) == 32;
    ECDSA_SIG_free(sig);
    return ok ? 64 : -1;
}

static void append_b64(struct strbuf *sb, const unsigned char *bytes, size_t len)
{
    strbuf_reserve(sb, BASE64URL_ENCODED_LEN(len));
    sb->len += base64url_encode(bytes, len, sb->data + sb->len);
    sb->data[sb->len] = '\0';
}

char *jwt_sign(const struct jwt_signer *signer, const char *typ, const char *payload, size_t payload_len)
{
    char header[160];
    int header_len = snprintf(header, sizeof(header), "{\"alg\":\"%s\",\"typ\":\"%s\",\"kid\":\"%s\"}",
                              signer->alg == JWT_ALG_RS256_PINNED ? "RS256" : "ES256", typ, signer->kid);
    if (header_len <= 0 || (size_t)header_len >= sizeof(header))
        return NULL;
    struct strbuf token = STRBUF_INIT;
    append_b64(&token, (const unsigned char *)header, (size_t)header_len);
    strbuf_append_char(&token, '.');
    append_b64(&token, (const unsigned char *)payload, payload_len);

    unsigned char sig[512], jose[64];
    size_t sig_len = sizeof(sig);
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    int ok = ctx != NULL && EVP_DigestSignInit(ctx, NULL, EVP_sha256(), NULL, signer->pkey) == 1 &&
             EVP_DigestSign(ctx, sig, &sig_len, (const unsigned char *)token.data, token.len) == 1;
    EVP_MD_CTX_free(ctx);
    const unsigned char *out = sig;
    if (ok && signer->alg == JWT_ALG_ES256_PINNED) {
        ok = der_to_jose(sig, sig_len, jose) == 64;
        out = jose;
        sig_len = 64;
    }
    if (!ok) {
        strbuf_free(&token);
        return NULL;
    }
    strbuf_append_char(&token, '.');
    append_b64(&token, out, sig_len);
    return strbuf_detach(&token, NULL);
}
