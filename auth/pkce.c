#include "auth/pkce.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <string.h>

#include "common/base64url.h"

static int is_unreserved(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' ||
           c == '~';
}

int pkce_verifier_is_valid(const char *verifier, size_t len)
{
    if (verifier == NULL || len < 43 || len > 128)
        return 0;
    for (size_t i = 0; i < len; i++) {
        if (!is_unreserved(verifier[i]))
            return 0;
    }
    return 1;
}

int pkce_challenge_is_valid(const char *challenge, size_t len)
{
    unsigned char digest[BASE64URL_DECODED_MAX(PKCE_CHALLENGE_LEN)];
    return challenge != NULL && len == PKCE_CHALLENGE_LEN && base64url_decode(challenge, len, digest) == 32;
}

int pkce_verify_s256(const char *verifier, size_t verifier_len, const char *challenge, size_t challenge_len)
{
    if (!pkce_verifier_is_valid(verifier, verifier_len) || !pkce_challenge_is_valid(challenge, challenge_len))
        return 0;
    unsigned char digest[32];
    unsigned int digest_len = 0;
    if (EVP_Digest(verifier, verifier_len, digest, &digest_len, EVP_sha256(), NULL) != 1 || digest_len != 32)
        return 0;
    char computed[PKCE_CHALLENGE_LEN + 1];
    base64url_encode(digest, sizeof(digest), computed);
    return CRYPTO_memcmp(computed, challenge, PKCE_CHALLENGE_LEN) == 0;
}
