/*
 * test_id_token.c — ID tokens carry the OIDC Core claims a relying party
 * checks (iss, aud, azp, exp, iat, auth_time, nonce, at_hash), at_hash matches
 * an independently computed value, and the signature verifies.
 */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "auth/id_token.h"
#include "common/base64url.h"
#include "tests/unit/test.h"

static json_t *payload_of(const char *token)
{
    const char *dot1 = strchr(token, '.'), *dot2 = strrchr(token, '.');
    size_t len = (size_t)(dot2 - dot1 - 1);
    unsigned char *raw = malloc(BASE64URL_DECODED_MAX(len));
    long n = base64url_decode(dot1 + 1, len, raw);
    json_t *json = n > 0 ? json_loadb((const char *)raw, (size_t)n, 0, NULL) : NULL;
    free(raw);
    return json;
}

int main(void)
{
    /* expected value computed independently: base64url(sha256(token)[:16]) with Python's hashlib */
    char at_hash[23];
    CHECK_INT_EQ(id_token_at_hash("jHkWEdUXMU1BwAsC4vtUsZwnNRHwkSH", at_hash), 0);
    CHECK_STR_EQ(at_hash, "xq-f99Qf74BjQYHGxmXPTQ");

    struct jwt_signer signer;
    char *err = NULL;
    CHECK_INT_EQ(jwt_signer_generate(&signer, JWT_ALG_ES256_PINNED, &err), 0);
    struct id_token_grant grant = {
        .issuer = "https://id.yiwang.test",
        .subject = "acct-42",
        .client_id = "hrss-web",
        .nonce = "n-0S6_WzA2Mj",
        .acr = "2",
        .amr = "sms",
        .sid = "s-1",
        .access_token = "jHkWEdUXMU1BwAsC4vtUsZwnNRHwkSH",
        .org = "91350100M000100Y43",
        .auth_time = 1800000000,
        .now = 1800000100,
        .lifetime_s = 600,
    };
    char *token = id_token_issue(&signer, &grant);
    CHECK(token != NULL);
    json_t *p = token != NULL ? payload_of(token) : NULL;
    CHECK(p != NULL);
    if (p != NULL) {
        CHECK_STR_EQ(json_string_value(json_object_get(p, "iss")), "https://id.yiwang.test");
        CHECK_STR_EQ(json_string_value(json_object_get(p, "aud")), "hrss-web");
        CHECK_STR_EQ(json_string_value(json_object_get(p, "azp")), "hrss-web");
        CHECK_STR_EQ(json_string_value(json_object_get(p, "nonce")), "n-0S6_WzA2Mj");
        CHECK_STR_EQ(json_string_value(json_object_get(p, "at_hash")), at_hash);
        CHECK_STR_EQ(json_string_value(json_array_get(json_object_get(p, "amr"), 0)), "sms");
        CHECK_INT_EQ(json_integer_value(json_object_get(p, "exp")), 1800000700);
        CHECK_INT_EQ(json_integer_value(json_object_get(p, "auth_time")), 1800000000);
        CHECK_STR_EQ(json_string_value(json_object_get(p, "org")), "91350100M000100Y43");
        json_decref(p);
    }
    /* it verifies with the signer's own public key */
    struct jwt_keyset keyset = {0};
    size_t pem_len;
    char *pem = jwt_signer_public_pem(&signer, &pem_len);
    jwt_keyset_add_pem(&keyset, signer.kid, JWT_ALG_ES256_PINNED, pem, pem_len, "https://id.yiwang.test", "JWT", &err);
    jwt_keyset_add_audience(&keyset, "hrss-web");
    struct jwt_claims claims;
    CHECK_INT_EQ(jwt_verify(&keyset, token, strlen(token), 1800000100, &claims), JWT_OK);
    /* without a nonce, an access token or a legal person, those claims are absent */
    grant.nonce = NULL;
    grant.access_token = NULL;
    grant.org = NULL;
    char *bare = id_token_issue(&signer, &grant);
    json_t *q = bare != NULL ? payload_of(bare) : NULL;
    CHECK(q != NULL && json_object_get(q, "nonce") == NULL && json_object_get(q, "at_hash") == NULL &&
          json_object_get(q, "org") == NULL);
    json_decref(q);
    free(bare);
    free(pem);
    free(token);
    jwt_keyset_clear(&keyset);
    jwt_signer_clear(&signer);
    return TEST_REPORT();
}
