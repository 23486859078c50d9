/*
 * test_jwt_verify.c — every token an attacker can make must be refused, for
 * the right reason; genuine ES256 and RS256 tokens must pass with their claims.
 * Tokens are minted here with OpenSSL, so the verifier is checked against an
 * independent signer rather than against itself.
 */
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <stdlib.h>
#include <string.h>

#include "auth/jwt_verify.h"
#include "auth/token_cache.h"
#include "common/base64url.h"
#include "common/strbuf.h"
#include "tests/unit/test.h"

#define NOW 1800000000
#define ISS "https://id.yiwang.test"
#define AUD "https://api.yiwang.test"

static EVP_PKEY *ec_key, *rsa_key;

static char *public_pem(EVP_PKEY *key, size_t *len)
{
    BIO *bio = BIO_new(BIO_s_mem());
    PEM_write_bio_PUBKEY(bio, key);
    char *data;
    long n = BIO_get_mem_data(bio, &data);
    char *copy = malloc((size_t)n + 1);
    memcpy(copy, data, (size_t)n);
    copy[n] = '\0';
    *len = (size_t)n;
    BIO_free(bio);
    return copy;
}

static void append_b64(struct strbuf *sb, const unsigned char *bytes, size_t len)
{
    char *out = malloc(BASE64URL_ENCODED_LEN(len) + 1);
    size_t n = base64url_encode(bytes, len, out);
    strbuf_append(sb, out, n);
    free(out);
}

enum signer { SIGN_ES256, SIGN_RS256, SIGN_HS256_WITH_PUBLIC_PEM, SIGN_NONE, SIGN_ES256_SHORT };

/* header.payload.signature, signed as asked; returns a malloc'ed string */
static char *mint(const char *header, const char *payload, enum signer signer)
{
    struct strbuf sb = STRBUF_INIT;
    append_b64(&sb, (const unsigned char *)header, strlen(header));
    strbuf_append_char(&sb, '.');
    append_b64(&sb, (const unsigned char *)payload, strlen(payload));
    size_t signed_len = sb.len;
    unsigned char sig[512];
    size_t sig_len = sizeof(sig);
    if (signer == SIGN_ES256 || signer == SIGN_ES256_SHORT || signer == SIGN_RS256) {
        EVP_MD_CTX *ctx = EVP_MD_CTX_new();
        EVP_DigestSignInit(ctx, NULL, EVP_sha256(), NULL, signer == SIGN_RS256 ? rsa_key : ec_key);
        EVP_DigestSign(ctx, sig, &sig_len, (const unsigned char *)sb.data, signed_len);
        EVP_MD_CTX_free(ctx);
        if (signer != SIGN_RS256) { /* DER -> JOSE r||s */
            const unsigned char *p = sig;
            ECDSA_SIG *es = d2i_ECDSA_SIG(NULL, &p, (long)sig_len);
            unsigned char raw[64] = {0};
            BN_bn2binpad(ECDSA_SIG_get0_r(es), raw, 32);
            BN_bn2binpad(ECDSA_SIG_get0_s(es), raw + 32, 32);
            ECDSA_SIG_free(es);
            memcpy(sig, raw, 64);
            sig_len = signer == SIGN_ES256_SHORT ? 63 : 64;
        }
    } else if (signer == SIGN_HS256_WITH_PUBLIC_PEM) {
        size_t pem_len;
        char *pem = public_pem(ec_key, &pem_len);
        unsigned int n = 0;
        HMAC(EVP_sha256(), pem, (int)pem_len, (const unsigned char *)sb.data, signed_len, sig, &n);
        sig_len = n;
        free(pem);
    } else {
        sig_len = 0;
    }
    strbuf_append_char(&sb, '.');
    append_b64(&sb, sig, sig_len);
    return strbuf_detach(&sb, NULL);
}

static struct jwt_keyset keyset;

static void build_keyset(void)
{
    size_t len;
    char *err = NULL, *pem = public_pem(ec_key, &len);
    CHECK_INT_EQ(jwt_keyset_add_pem(&keyset, "ec-1", JWT_ALG_ES256_PINNED, pem, len, ISS, "at+jwt", &err), 0);
    free(pem);
    pem = public_pem(rsa_key, &len);
    CHECK_INT_EQ(jwt_keyset_add_pem(&keyset, "rsa-1", JWT_ALG_RS256_PINNED, pem, len, ISS, "at+jwt", &err), 0);
    free(pem);
    /* an EC key may not be pinned to RS256, nor garbage be a key */
    pem = public_pem(ec_key, &len);
    CHECK_INT_EQ(jwt_keyset_add_pem(&keyset, "mixed", JWT_ALG_RS256_PINNED, pem, len, ISS, "at+jwt", &err), -1);
    CHECK(err != NULL);
    free(err);
    err = NULL;
    CHECK_INT_EQ(jwt_keyset_add_pem(&keyset, "junk", JWT_ALG_ES256_PINNED, "not a key", 9, ISS, "at+jwt", &err), -1);
    free(err);
    free(pem);
    jwt_keyset_add_audience(&keyset, AUD);
    keyset.clock_skew_s = 60;
}

#define EC_HEADER "{\"alg\":\"ES256\",\"typ\":\"at+jwt\",\"kid\":\"ec-1\"}"
#define RS_HEADER "{\"alg\":\"RS256\",\"typ\":\"at+jwt\",\"kid\":\"rsa-1\"}"
#define CLAIMS(extra)                                                                                                              \
    "{\"iss\":\"" ISS "\",\"aud\":\"" AUD "\",\"sub\":\"u-1001\",\"client_id\":\"hrss-app\",\"scope\":\"openid hrss:read\","       \
    "\"exp\":1800000600,\"iat\":1800000000" extra "}"

static enum jwt_status verify_minted(const char *header, const char *payload, enum signer signer, struct jwt_claims *claims)
{
    char *token = mint(header, payload, signer);
    enum jwt_status status = jwt_verify(&keyset, token, strlen(token), NOW, claims);
    free(token);
    return status;
}

#define EXPECT(header, payload, signer, expected)                                                                                  \
    do {                                                                                                                           \
        struct jwt_claims c_;                                                                                                      \
        enum jwt_status s_ = verify_minted(header, payload, signer, &c_);                                                          \
        if (s_ != (expected))                                                                                                      \
            fprintf(stderr, "line %d: got %s, expected %s\n", __LINE__, jwt_status_name(s_), jwt_status_name(expected));           \
        CHECK_INT_EQ(s_, expected);                                                                                                \
    } while (0)

static void test_genuine_tokens(void)
{
    struct jwt_claims claims;
    CHECK_INT_EQ(
        verify_minted(EC_HEADER, CLAIMS(",\"acr\":\"2\",\"sid\":\"s-9\",\"org\":\"91110000600037341X\""), SIGN_ES256, &claims),
        JWT_OK);
    CHECK_STR_EQ(claims.sub, "u-1001");
    CHECK_STR_EQ(claims.client_id, "hrss-app");
    CHECK_STR_EQ(claims.scope, "openid hrss:read");
    CHECK_STR_EQ(claims.sid, "s-9");
    CHECK_STR_EQ(claims.org, "91110000600037341X");
    CHECK_INT_EQ(claims.acr_level, 2);
    CHECK_INT_EQ(claims.exp, 1800000600);
    CHECK(!claims.is_client_token);
    CHECK_INT_EQ(verify_minted(RS_HEADER, CLAIMS(""), SIGN_RS256, &claims), JWT_OK);
    CHECK_INT_EQ(claims.acr_level, 0);
    /* a client_credentials token: sub is the client */
    CHECK_INT_EQ(verify_minted(EC_HEADER,
                               "{\"iss\":\"" ISS "\",\"aud\":[\"x\",\"" AUD "\"],\"sub\":\"tax-svc\",\"client_id\":\"tax-svc\","
                               "\"exp\":1800000600,\"acr\":\"urn:yiwang:acr:3\"}",
                               SIGN_ES256, &claims),
                 JWT_OK);
    CHECK(claims.is_client_token);
    CHECK_INT_EQ(claims.acr_level, 3);
    EXPECT("{\"alg\":\"ES256\",\"typ\":\"AT+JWT\",\"kid\":\"ec-1\"}", CLAIMS(""), SIGN_ES256, JWT_OK); /* media types ignore case */
}

static void test_algorithm_attacks(void)
{
    EXPECT("{\"alg\":\"none\",\"typ\":\"at+jwt\",\"kid\":\"ec-1\"}", CLAIMS(""), SIGN_NONE, JWT_ALG_MISMATCH);
    EXPECT("{\"alg\":\"HS256\",\"typ\":\"at+jwt\",\"kid\":\"ec-1\"}", CLAIMS(""), SIGN_HS256_WITH_PUBLIC_PEM, JWT_ALG_MISMATCH);
    EXPECT("{\"alg\":\"ES256\",\"typ\":\"at+jwt\",\"kid\":\"rsa-1\"}", CLAIMS(""), SIGN_ES256, JWT_ALG_MISMATCH);
    EXPECT("{\"alg\":\"RS256\",\"typ\":\"at+jwt\",\"kid\":\"ec-1\"}", CLAIMS(""), SIGN_RS256, JWT_ALG_MISMATCH);
    EXPECT("{\"alg\":\"ES256\",\"typ\":\"at+jwt\",\"kid\":\"nope\"}", CLAIMS(""), SIGN_ES256, JWT_UNKNOWN_KID);
    EXPECT("{\"alg\":\"ES256\",\"typ\":\"at+jwt\"}", CLAIMS(""), SIGN_ES256, JWT_UNKNOWN_KID);
    EXPECT("{\"alg\":\"ES256\",\"typ\":\"JWT\",\"kid\":\"ec-1\"}", CLAIMS(""), SIGN_ES256, JWT_BAD_TYP);
    EXPECT("{\"alg\":\"ES256\",\"kid\":\"ec-1\"}", CLAIMS(""), SIGN_ES256, JWT_BAD_TYP);
    EXPECT("{\"alg\":\"ES256\",\"typ\":\"at+jwt\",\"kid\":\"ec-1\",\"crit\":[\"exp\"]}", CLAIMS(""), SIGN_ES256, JWT_CRIT);
    EXPECT(EC_HEADER, CLAIMS(""), SIGN_ES256_SHORT, JWT_BAD_SIGNATURE);
}

static void test_tampering(void)
{
    char *token = mint(EC_HEADER, CLAIMS(""), SIGN_ES256), *other = mint(EC_HEADER, CLAIMS(",\"acr\":\"3\""), SIGN_ES256);
    struct jwt_claims claims;
    /* the payload of one genuine token with the signature of another */
    char *dot1 = strchr(token, '.'), *dot2 = strrchr(token, '.'), *odot1 = strchr(other, '.'), *odot2 = strrchr(other, '.');
    struct strbuf spliced = STRBUF_INIT;
    strbuf_append(&spliced, token, (size_t)(dot1 - token));
    strbuf_append(&spliced, odot1, (size_t)(odot2 - odot1));
    strbuf_append_str(&spliced, dot2);
    CHECK_INT_EQ(jwt_verify(&keyset, spliced.data, spliced.len, NOW, &claims), JWT_BAD_SIGNATURE);
    /* one flipped character in the signature */
    size_t len = strlen(token);
    token[len - 10] = token[len - 10] == 'A' ? 'B' : 'A';
    CHECK_INT_EQ(jwt_verify(&keyset, token, len, NOW, &claims), JWT_BAD_SIGNATURE);
    strbuf_free(&spliced);
    free(token);
    free(other);
}

static void test_claim_checks(void)
{
    EXPECT(EC_HEADER, "{\"iss\":\"https://evil\",\"aud\":\"" AUD "\",\"sub\":\"u\",\"exp\":1800000600}", SIGN_ES256,
           JWT_BAD_ISSUER);
    EXPECT(EC_HEADER, "{\"aud\":\"" AUD "\",\"sub\":\"u\",\"exp\":1800000600}", SIGN_ES256, JWT_BAD_ISSUER);
    EXPECT(EC_HEADER, "{\"iss\":\"" ISS "\",\"aud\":\"https://other\",\"sub\":\"u\",\"exp\":1800000600}", SIGN_ES256,
           JWT_BAD_AUDIENCE);
    EXPECT(EC_HEADER, "{\"iss\":\"" ISS "\",\"sub\":\"u\",\"exp\":1800000600}", SIGN_ES256, JWT_BAD_AUDIENCE);
    EXPECT(EC_HEADER, "{\"iss\":\"" ISS "\",\"aud\":\"" AUD "\",\"sub\":\"u\",\"exp\":1799999900}", SIGN_ES256, JWT_EXPIRED);
    EXPECT(EC_HEADER, "{\"iss\":\"" ISS "\",\"aud\":\"" AUD "\",\"sub\":\"u\",\"exp\":1799999970}", SIGN_ES256, JWT_OK); /* skew */
    EXPECT(EC_HEADER, "{\"iss\":\"" ISS "\",\"aud\":\"" AUD "\",\"sub\":\"u\"}", SIGN_ES256, JWT_EXPIRED);
    EXPECT(EC_HEADER, "{\"iss\":\"" ISS "\",\"aud\":\"" AUD "\",\"sub\":\"u\",\"exp\":\"soon\"}", SIGN_ES256, JWT_BAD_CLAIMS);
    EXPECT(EC_HEADER, CLAIMS(",\"nbf\":1800000300"), SIGN_ES256, JWT_NOT_YET_VALID);
    EXPECT(EC_HEADER, "{\"iss\":\"" ISS "\",\"aud\":\"" AUD "\",\"sub\":\"u\",\"exp\":1800000600,\"iat\":1800000500}", SIGN_ES256,
           JWT_NOT_YET_VALID);
    EXPECT(EC_HEADER, "{\"iss\":\"" ISS "\",\"aud\":\"" AUD "\",\"exp\":1800000600}", SIGN_ES256, JWT_BAD_CLAIMS);
    /* claims become headers: no line breaks, no huge values, no wrong types */
    EXPECT(EC_HEADER, "{\"iss\":\"" ISS "\",\"aud\":\"" AUD "\",\"sub\":\"u\\r\\nx-gateway-acr: 3\",\"exp\":1800000600}",
           SIGN_ES256, JWT_BAD_CLAIMS);
    EXPECT(EC_HEADER, "{\"iss\":\"" ISS "\",\"aud\":\"" AUD "\",\"sub\":42,\"exp\":1800000600}", SIGN_ES256, JWT_BAD_CLAIMS);
    EXPECT(EC_HEADER, CLAIMS(",\"org\":[\"a\"]"), SIGN_ES256, JWT_BAD_CLAIMS);
    char big[1500 + sizeof(CLAIMS(""))];
    snprintf(big, sizeof(big), "{\"iss\":\"" ISS "\",\"aud\":\"" AUD "\",\"sub\":\"u\",\"exp\":1800000600,\"scope\":\"%01100d\"}",
             0);
    EXPECT(EC_HEADER, big, SIGN_ES256, JWT_BAD_CLAIMS);
    EXPECT(EC_HEADER, CLAIMS(",\"acr\":\"5\""), SIGN_ES256, JWT_OK);
}

static void test_malformed(void)
{
    static const char *const bad[] = {
        "", "abc", "a.b", "a.b.c.d", "a..c", ".b.c", "e30=.e30.sig", "e30.e30.s+g", "eyJhbGciOiJFUzI1NiJ9.e30.\x01"};
    struct jwt_claims claims;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        enum jwt_status s = jwt_verify(&keyset, bad[i], strlen(bad[i]), NOW, &claims);
        CHECK(s == JWT_MALFORMED || s == JWT_UNKNOWN_KID || s == JWT_BAD_SIGNATURE);
        CHECK(s != JWT_OK);
    }
    char *huge = calloc(JWT_MAX_TOKEN_LEN + 2, 1);
    memset(huge, 'a', JWT_MAX_TOKEN_LEN + 1);
    CHECK_INT_EQ(jwt_verify(&keyset, huge, JWT_MAX_TOKEN_LEN + 1, NOW, &claims), JWT_MALFORMED);
    free(huge);
    /* duplicate keys in the header JSON are refused rather than "last one wins" */
    EXPECT("{\"alg\":\"ES256\",\"alg\":\"none\",\"typ\":\"at+jwt\",\"kid\":\"ec-1\"}", CLAIMS(""), SIGN_ES256, JWT_MALFORMED);
}

static void test_scopes(void)
{
    char *read[] = {"hrss:read"}, *both[] = {"hrss:read", "openid"}, *prefix[] = {"hrss"}, *other[] = {"tax:read"};
    CHECK(jwt_scope_contains_all("openid hrss:read", read, 1));
    CHECK(jwt_scope_contains_all("openid  hrss:read ", both, 2));
    CHECK(!jwt_scope_contains_all("openid hrss:read", prefix, 1));
    CHECK(!jwt_scope_contains_all("openid hrss:read", other, 1));
    CHECK(!jwt_scope_contains_all("", read, 1));
    CHECK(jwt_scope_contains_all("", read, 0));
}

static void test_token_cache(void)
{
    struct token_cache *cache = token_cache_new(4);
    struct jwt_claims claims = {.exp = NOW + 600};
    strcpy(claims.sub, "u-1");
    const char *a = "token-a", *b = "token-b";
    uint64_t ha = token_cache_hash(a, 7), hb = token_cache_hash(b, 7);
    CHECK(token_cache_get(cache, a, 7, ha, 1, NOW) == NULL);
    token_cache_put(cache, a, 7, ha, 1, NOW + 600, &claims);
    const struct jwt_claims *hit = token_cache_get(cache, a, 7, ha, 1, NOW);
    CHECK(hit != NULL && strcmp(hit->sub, "u-1") == 0);
    CHECK(token_cache_get(cache, a, 7, ha, 2, NOW) == NULL);       /* keys changed since */
    CHECK(token_cache_get(cache, a, 7, ha, 1, NOW + 600) == NULL); /* expired */
    CHECK(token_cache_get(cache, b, 7, ha, 1, NOW) == NULL);       /* same slot, other token */
    token_cache_put(cache, b, 7, hb, 1, NOW + 600, &claims);
    CHECK(token_cache_get(cache, b, 7, hb, 1, NOW) != NULL);
    token_cache_free(cache);
}

int main(void)
{
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_id(EVP_PKEY_EC, NULL);
    EVP_PKEY_keygen_init(ctx);
    EVP_PKEY_CTX_set_ec_paramgen_curve_nid(ctx, NID_X9_62_prime256v1);
    EVP_PKEY_keygen(ctx, &ec_key);
    EVP_PKEY_CTX_free(ctx);
    ctx = EVP_PKEY_CTX_new_id(EVP_PKEY_RSA, NULL);
    EVP_PKEY_keygen_init(ctx);
    EVP_PKEY_CTX_set_rsa_keygen_bits(ctx, 2048);
    EVP_PKEY_keygen(ctx, &rsa_key);
    EVP_PKEY_CTX_free(ctx);

    build_keyset();
    test_genuine_tokens();
    test_algorithm_attacks();
    test_tampering();
    test_claim_checks();
    test_malformed();
    test_scopes();
    test_token_cache();
    jwt_keyset_clear(&keyset);
    EVP_PKEY_free(ec_key);
    EVP_PKEY_free(rsa_key);
    return TEST_REPORT();
}
