/*
 * test_pkce.c — RFC 7636's own example (Appendix B), and the malformed
 * verifiers and challenges that must never verify.
 */
#include <string.h>

#include "auth/pkce.h"
#include "tests/unit/test.h"

#define RFC_VERIFIER "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
#define RFC_CHALLENGE "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"

static int verify(const char *verifier, const char *challenge)
{
    return pkce_verify_s256(verifier, strlen(verifier), challenge, strlen(challenge));
}

int main(void)
{
    CHECK(verify(RFC_VERIFIER, RFC_CHALLENGE));
    CHECK(!verify(RFC_VERIFIER "a", RFC_CHALLENGE));
    CHECK(!verify(RFC_VERIFIER, "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cN")); /* last char differs */
    CHECK(!verify(RFC_CHALLENGE, RFC_CHALLENGE));                                /* "plain": challenge == verifier */
    CHECK(!verify("short", RFC_CHALLENGE));
    char long_verifier[130];
    memset(long_verifier, 'a', 129);
    long_verifier[129] = '\0';
    CHECK(!pkce_verifier_is_valid(long_verifier, 129));
    CHECK(pkce_verifier_is_valid(long_verifier, 128));
    CHECK(!pkce_verifier_is_valid("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjX+", 43)); /* '+' is not unreserved */
    CHECK(!pkce_challenge_is_valid("E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-c", 42));
    CHECK(!pkce_challenge_is_valid("E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-c=", 43));
    CHECK(pkce_challenge_is_valid(RFC_CHALLENGE, 43));
    return TEST_REPORT();
}
