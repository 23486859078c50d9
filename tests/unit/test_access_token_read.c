/*
 * test_access_token_read.c — only tokens signed by a key trusted for the
 * gateway's own issuer, with typ at+jwt and that issuer as iss, are "ours";
 * validity (expiry) is reported separately, so an expired token of ours can
 * still be revoked but never described as active.
 */
#include <stdlib.h>
#include <string.h>

#include "auth/access_token.h"
#include "auth/access_token_read.h"
#include "auth/id_token.h"
#include "tests/unit/test.h"

#define ISS "https://id.yiwang.test"
#define AUD "https://api.yiwang.test"
#define NOW 1800000000

static void add_key(struct jwt_keyset *keyset, const struct jwt_signer *signer, const char *issuer, const char *typ)
{
    size_t pem_len;
    char *err = NULL, *pem = jwt_signer_public_pem(signer, &pem_len);
    CHECK_INT_EQ(jwt_keyset_add_pem(keyset, signer->kid, JWT_ALG_ES256_PINNED, pem, pem_len, issuer, typ, &err), 0);
    free(err);
    free(pem);
}

static char *issue(const struct jwt_signer *signer, const char *issuer, char jti[ACCESS_TOKEN_JTI_LEN + 1])
{
    struct access_token_grant grant = {
        .issuer = issuer,
        .audience = AUD,
        .subject = "acct-1",
        .client_id = "app",
        .scope = "openid",
        .sid = "s-1",
        .acr = "1",
        .auth_time = NOW,
        .now = NOW,
        .lifetime_s = 600,
    };
    return access_token_issue(signer, &grant, jti);
}

int main(void)
{
    struct jwt_signer own, partner;
    char *err = NULL;
    CHECK_INT_EQ(jwt_signer_generate(&own, JWT_ALG_ES256_PINNED, &err), 0);
    CHECK_INT_EQ(jwt_signer_generate(&partner, JWT_ALG_ES256_PINNED, &err), 0);
    struct jwt_keyset keyset = {0};
    add_key(&keyset, &own, ISS, "at+jwt");
    add_key(&keyset, &partner, "https://partner.test", "at+jwt");
    jwt_keyset_add_audience(&keyset, AUD);

    char jti[ACCESS_TOKEN_JTI_LEN + 1];
    char *token = issue(&own, ISS, jti);
    struct own_access_token at;
    CHECK_INT_EQ(own_access_token_read(&keyset, ISS, token, strlen(token), NOW + 1, &at), 1);
    CHECK_INT_EQ(at.valid, JWT_OK);
    CHECK_STR_EQ(at.client_id, "app");
    CHECK_STR_EQ(at.jti, jti);
    CHECK_INT_EQ(at.exp, NOW + 600);
    CHECK_STR_EQ(at.claims.sid, "s-1");
    own_access_token_clear(&at);

    /* expired: still ours (revocable), not valid */
    CHECK_INT_EQ(own_access_token_read(&keyset, ISS, token, strlen(token), NOW + 7200, &at), 1);
    CHECK_INT_EQ(at.valid, JWT_EXPIRED);
    own_access_token_clear(&at);

    /* tampered signature */
    char *bad = strdup(token);
    bad[strlen(bad) - 2] = bad[strlen(bad) - 2] == 'A' ? 'B' : 'A';
    CHECK_INT_EQ(own_access_token_read(&keyset, ISS, bad, strlen(bad), NOW + 1, &at), 0);
    free(bad);

    /* a partner's token is valid on the proxy path but not ours */
    char *theirs = issue(&partner, "https://partner.test", jti);
    struct jwt_claims claims;
    CHECK_INT_EQ(jwt_verify(&keyset, theirs, strlen(theirs), NOW + 1, &claims), JWT_OK);
    CHECK_INT_EQ(own_access_token_read(&keyset, ISS, theirs, strlen(theirs), NOW + 1, &at), 0);

    /* our key, but another iss in the payload */
    char *odd = issue(&own, "https://elsewhere.test", jti);
    CHECK_INT_EQ(own_access_token_read(&keyset, ISS, odd, strlen(odd), NOW + 1, &at), 0);

    /* an ID token (typ JWT) under our key is no access token */
    struct id_token_grant id = {
        .issuer = ISS, .subject = "acct-1", .client_id = "app", .acr = "1", .sid = "s-1", .now = NOW, .lifetime_s = 600};
    char *id_token = id_token_issue(&own, &id);
    CHECK_INT_EQ(own_access_token_read(&keyset, ISS, id_token, strlen(id_token), NOW + 1, &at), 0);

    CHECK_INT_EQ(own_access_token_read(&keyset, ISS, "a.b.c", 5, NOW, &at), 0);
    CHECK_INT_EQ(own_access_token_read(&keyset, NULL, token, strlen(token), NOW, &at), 0);

    free(id_token);
    free(odd);
    free(theirs);
    free(token);
    jwt_keyset_clear(&keyset);
    jwt_signer_clear(&own);
    jwt_signer_clear(&partner);
    return TEST_REPORT();
}
