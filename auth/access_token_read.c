#include "auth/access_token_read.h"

#include <string.h>

#include "auth/access_revocations.h"
#include "auth/sessions.h"

static const char *string_claim(const json_t *payload, const char *name)
{
    const char *value = json_string_value(json_object_get(payload, name));
    return value != NULL ? value : "";
}

int own_access_token_read(const struct jwt_keyset *keyset, const char *issuer, const char *token, size_t len, int64_t now,
                          struct own_access_token *out)
{
    memset(out, 0, sizeof(*out));
    const char *key_issuer = NULL;
    if (issuer == NULL || len == 0 || len > JWT_MAX_TOKEN_LEN ||
        jwt_verify_signature(keyset, "at+jwt", token, len, &out->payload, &key_issuer) != JWT_OK)
        return 0;
    /* both: the key must be trusted for our issuer, and the token must say it is ours */
    if (key_issuer == NULL || strcmp(key_issuer, issuer) != 0 || strcmp(string_claim(out->payload, "iss"), issuer) != 0) {
        own_access_token_clear(out);
        return 0;
    }
    out->client_id = string_claim(out->payload, "client_id");
    out->jti = string_claim(out->payload, "jti");
    json_t *exp = json_object_get(out->payload, "exp");
    out->exp = json_is_integer(exp) ? (int64_t)json_integer_value(exp) : 0;
    out->valid = jwt_verify(keyset, token, len, now, &out->claims);
    return 1;
}

void own_access_token_clear(struct own_access_token *token)
{
    json_decref(token->payload);
    token->payload = NULL;
}

int own_access_token_revoked(struct db *db, const struct jwt_claims *claims, char **err)
{
    int revoked = claims->jti[0] != '\0' ? access_revocations_contains(db, claims->jti, err) : 0;
    if (revoked == 0 && claims->sid[0] != '\0') {
        struct session session;
        int found = sessions_find(db, claims->sid, &session, err);
        revoked = found < 0 ? -1 : found == 0 || session.ended_at != 0;
    }
    return revoked;
}
