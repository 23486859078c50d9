#include "auth/id_token.h"

#include <jansson.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

#include "common/base64url.h"
#include "common/strbuf.h"

int id_token_at_hash(const char *access_token, char out[23])
{
    unsigned char digest[32];
    unsigned int len = 0;
    if (EVP_Digest(access_token, strlen(access_token), digest, &len, EVP_sha256(), NULL) != 1 || len != 32)
        return -1;
    out[base64url_encode(digest, 16, out)] = '\0'; /* the left-most half, as both ES256 and RS256 hash with SHA-256 */
    return 0;
}

static void append_claim(struct strbuf *out, const char *name, const char *value)
{
    if (value == NULL)
        return;
    strbuf_appendf(out, ",\"%s\":", name);
    strbuf_append_json_string(out, value, strlen(value));
}

char *id_token_issue(const struct jwt_signer *signer, const struct id_token_grant *grant)
{
    struct strbuf payload = STRBUF_INIT;
    strbuf_append_str(&payload, "{\"iss\":");
    strbuf_append_json_string(&payload, grant->issuer, strlen(grant->issuer));
    append_claim(&payload, "sub", grant->subject);
    append_claim(&payload, "aud", grant->client_id);
    append_claim(&payload, "azp", grant->client_id);
    strbuf_appendf(&payload, ",\"exp\":%lld,\"iat\":%lld,\"auth_time\":%lld", (long long)(grant->now + grant->lifetime_s),
                   (long long)grant->now, (long long)grant->auth_time);
    append_claim(&payload, "nonce", grant->nonce);
    append_claim(&payload, "acr", grant->acr);
    if (grant->amr != NULL) {
        strbuf_append_str(&payload, ",\"amr\":[");
        strbuf_append_json_string(&payload, grant->amr, strlen(grant->amr));
        strbuf_append_char(&payload, ']');
    }
    append_claim(&payload, "sid", grant->sid);
    if (grant->access_token != NULL) {
        char at_hash[23];
        if (id_token_at_hash(grant->access_token, at_hash) != 0) {
            strbuf_free(&payload);
            return NULL;
        }
        append_claim(&payload, "at_hash", at_hash);
    }
    append_claim(&payload, "org", grant->org);
    strbuf_append_char(&payload, '}');
    char *token = jwt_sign(signer, "JWT", payload.data, payload.len);
    strbuf_free(&payload);
    return token;
}

/* A short string without control characters (it may end up in a URL or a log line), copied; -1 otherwise. */
static int copy_short(const json_t *value, char *out, size_t size)
{
    const char *s = json_string_value(value);
    size_t len = s != NULL ? json_string_length(value) : 0;
    if (len == 0 || len >= size)
        return -1;
    for (size_t i = 0; i < len; i++) {
        if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
            return -1;
    }
    memcpy(out, s, len + 1);
    return 0;
}

int id_token_read_hint(const struct jwt_keyset *keyset, const char *issuer, const char *token, size_t len,
                       struct id_token_hint *out)
{
    json_t *payload = NULL;
    const char *key_issuer = NULL;
    memset(out, 0, sizeof(*out));
    if (jwt_verify_signature(keyset, "JWT", token, len, &payload, &key_issuer) != JWT_OK)
        return -1;
    const json_t *aud = json_object_get(payload, "aud");
    if (json_is_array(aud) && json_array_size(aud) == 1)
        aud = json_array_get(aud, 0);
    const char *iss = json_string_value(json_object_get(payload, "iss"));
    const json_t *sid = json_object_get(payload, "sid");
    int ok = iss != NULL && strcmp(iss, issuer) == 0 && strcmp(key_issuer, issuer) == 0 &&
             copy_short(json_object_get(payload, "sub"), out->subject, sizeof(out->subject)) == 0 &&
             copy_short(aud, out->client_id, sizeof(out->client_id)) == 0 &&
             (sid == NULL || copy_short(sid, out->sid, sizeof(out->sid)) == 0);
    json_decref(payload);
    return ok ? 0 : -1;
}
