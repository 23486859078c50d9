/*
 * test_jwt_sign.c — tokens the gateway signs verify (with its own verifier
 * and with a key rebuilt from the published JWK), key ids are RFC 7638
 * thumbprints (checked against the RFC's own example), and keys round-trip
 * through PEM.
 */
#include <jansson.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <stdlib.h>
#include <string.h>

#include "auth/jwt_sign.h"
#include "auth/jwt_verify.h"
#include "common/base64url.h"
#include "tests/unit/test.h"

#define NOW 1800000000
#define PAYLOAD "{\"iss\":\"https://id.test\",\"aud\":\"https://api.test\",\"sub\":\"u-1\",\"exp\":1800000600}"

static EVP_PKEY *pkey_from_params(const char *type, OSSL_PARAM_BLD *bld)
{
    OSSL_PARAM *params = OSSL_PARAM_BLD_to_param(bld);
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, type, NULL);
    EVP_PKEY *pkey = NULL;
    if (ctx != NULL && EVP_PKEY_fromdata_init(ctx) == 1)
        EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_PUBLIC_KEY, params);
    EVP_PKEY_CTX_free(ctx);
    OSSL_PARAM_free(params);
    return pkey;
}

static BIGNUM *bn_from_b64(const char *s)
{
    unsigned char buf[512];
    long n = base64url_decode(s, strlen(s), buf);
    return n > 0 ? BN_bin2bn(buf, (int)n, NULL) : NULL;
}

/* RFC 7638 §3.1: the thumbprint of the example RSA key. */
static void test_rfc7638_example(void)
{
    static const char n[] =
        "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3o"
        "knjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZH"
        "zu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kE"
        "gU8awapJzKnqDKgw";
    OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
    BIGNUM *bn_n = bn_from_b64(n), *bn_e = bn_from_b64("AQAB");
    OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, bn_n);
    OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, bn_e);
    EVP_PKEY *pkey = pkey_from_params("RSA", bld);
    char kid[44] = "";
    CHECK(pkey != NULL && jwt_thumbprint(pkey, JWT_ALG_RS256_PINNED, kid) == 0);
    CHECK_STR_EQ(kid, "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs");
    EVP_PKEY_free(pkey);
    BN_free(bn_n);
    BN_free(bn_e);
    OSSL_PARAM_BLD_free(bld);
}

/* Rebuilds a public key from the JWK the gateway publishes, as a relying party would. */
static EVP_PKEY *pkey_from_jwk(const char *jwk_text)
{
    json_t *jwk = json_loads(jwk_text, 0, NULL);
    EVP_PKEY *pkey = NULL;
    OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
    const char *kty = json_string_value(json_object_get(jwk, "kty"));
    if (kty != NULL && strcmp(kty, "EC") == 0) {
        const char *x = json_string_value(json_object_get(jwk, "x")), *y = json_string_value(json_object_get(jwk, "y"));
        unsigned char point[65] = {0x04};
        CHECK(base64url_decode(x, strlen(x), point + 1) == 32 && base64url_decode(y, strlen(y), point + 33) == 32);
        OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, "prime256v1", 0);
        OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, point, sizeof(point));
        pkey = pkey_from_params("EC", bld);
    } else if (kty != NULL) {
        BIGNUM *n = bn_from_b64(json_string_value(json_object_get(jwk, "n")));
        BIGNUM *e = bn_from_b64(json_string_value(json_object_get(jwk, "e")));
        OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, n);
        OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, e);
        pkey = pkey_from_params("RSA", bld);
        BN_free(n);
        BN_free(e);
    }
    OSSL_PARAM_BLD_free(bld);
    json_decref(jwk);
    return pkey;
}

static void test_sign_and_verify(enum jwt_alg alg)
{
    struct jwt_signer signer;
    char *err = NULL;
    CHECK_INT_EQ(jwt_signer_generate(&signer, alg, &err), 0);
    CHECK_INT_EQ(strlen(signer.kid), 43);
    char *token = jwt_sign(&signer, "at+jwt", PAYLOAD, strlen(PAYLOAD));
    CHECK(token != NULL);

    /* 1. the gateway's own verifier, keyed from the public PEM */
    struct jwt_keyset keyset = {0};
    size_t pem_len;
    char *pem = jwt_signer_public_pem(&signer, &pem_len);
    CHECK_INT_EQ(jwt_keyset_add_pem(&keyset, signer.kid, alg, pem, pem_len, "https://id.test", "at+jwt", &err), 0);
    jwt_keyset_add_audience(&keyset, "https://api.test");
    struct jwt_claims claims;
    CHECK_INT_EQ(jwt_verify(&keyset, token, strlen(token), NOW, &claims), JWT_OK);
    CHECK_STR_EQ(claims.sub, "u-1");
    jwt_keyset_clear(&keyset);
    free(pem);

    /* 2. a key rebuilt from the published JWK, as a relying party gets it from jwks.json */
    struct strbuf jwk = STRBUF_INIT;
    CHECK_INT_EQ(jwt_append_jwk(&jwk, signer.pkey, signer.kid, alg), 0);
    EVP_PKEY *from_jwk = pkey_from_jwk(jwk.data);
    CHECK(from_jwk != NULL);
    char kid[44];
    CHECK(from_jwk != NULL && jwt_thumbprint(from_jwk, alg, kid) == 0 && strcmp(kid, signer.kid) == 0);
    if (from_jwk != NULL) {
        CHECK_INT_EQ(jwt_keyset_add_pkey(&keyset, signer.kid, alg, from_jwk, "https://id.test", "at+jwt", &err), 0);
        jwt_keyset_add_audience(&keyset, "https://api.test");
        CHECK_INT_EQ(jwt_verify(&keyset, token, strlen(token), NOW, &claims), JWT_OK);
        jwt_keyset_clear(&keyset);
    }
    json_t *parsed = json_loads(jwk.data, 0, NULL);
    CHECK_STR_EQ(json_string_value(json_object_get(parsed, "use")), "sig");
    CHECK_STR_EQ(json_string_value(json_object_get(parsed, "alg")), alg == JWT_ALG_ES256_PINNED ? "ES256" : "RS256");
    CHECK(json_object_get(parsed, "d") == NULL); /* never the private part */
    json_decref(parsed);
    strbuf_free(&jwk);

    /* 3. the private key round-trips through PEM (how it is stored, encrypted) */
    size_t private_len;
    char *private_pem = jwt_signer_private_pem(&signer, &private_len);
    struct jwt_signer reloaded;
    CHECK_INT_EQ(jwt_signer_from_pem(&reloaded, alg, private_pem, private_len, &err), 0);
    CHECK_STR_EQ(reloaded.kid, signer.kid);
    /* and is refused for the other algorithm */
    struct jwt_signer wrong;
    enum jwt_alg other = alg == JWT_ALG_ES256_PINNED ? JWT_ALG_RS256_PINNED : JWT_ALG_ES256_PINNED;
    CHECK_INT_EQ(jwt_signer_from_pem(&wrong, other, private_pem, private_len, &err), -1);
    free(err);
    err = NULL;
    free(private_pem);
    jwt_signer_clear(&reloaded);
    free(token);
    jwt_signer_clear(&signer);
}

int main(void)
{
    test_rfc7638_example();
    test_sign_and_verify(JWT_ALG_ES256_PINNED);
    test_sign_and_verify(JWT_ALG_RS256_PINNED);
    return TEST_REPORT();
}
