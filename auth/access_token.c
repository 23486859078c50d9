#include "auth/access_token.h"

#include <openssl/rand.h>
#include <stdlib.h>
#include <string.h>

#include "common/base64url.h"
#include "common/strbuf.h"

static void append_string_claim(struct strbuf *out, const char *name, const char *value)
{
    if (value == NULL)
        return;
    strbuf_appendf(out, ",\"%s\":", name);
    strbuf_append_json_string(out, value, strlen(value));
}

char *access_token_issue(const struct jwt_signer *signer, const struct access_token_grant *grant,
                         char jti[ACCESS_TOKEN_JTI_LEN + 1])
{
    unsigned char random[16];
    if (RAND_bytes(random, sizeof(random)) != 1)
        return NULL;
    jti[base64url_encode(random, sizeof(random), jti)] = '\0';

    struct strbuf payload = STRBUF_INIT;
    strbuf_append_str(&payload, "{\"iss\":");
    strbuf_append_json_string(&payload, grant->issuer, strlen(grant->issuer));
    append_string_claim(&payload, "sub", grant->subject);
    append_string_claim(&payload, "aud", grant->audience);
    strbuf_appendf(&payload, ",\"exp\":%lld,\"iat\":%lld", (long long)(grant->now + grant->lifetime_s), (long long)grant->now);
    append_string_claim(&payload, "jti", jti);
    append_string_claim(&payload, "client_id", grant->client_id);
    append_string_claim(&payload, "scope", grant->scope);
    append_string_claim(&payload, "sid", grant->sid);
    append_string_claim(&payload, "acr", grant->acr);
    if (grant->auth_time != 0)
        strbuf_appendf(&payload, ",\"auth_time\":%lld", (long long)grant->auth_time);
    append_string_claim(&payload, "org", grant->org);
    strbuf_append_char(&payload, '}');
    char *token = jwt_sign(signer, "at+jwt", payload.data, payload.len);
    strbuf_free(&payload);
    return token;
}
