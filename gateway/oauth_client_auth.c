#include "gateway/oauth_client_auth.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/log.h"
#include "common/xalloc.h"
#include "gateway/server.h"

static int decode_component(const char *in, size_t len, char *out, size_t size, size_t *out_len)
{
    if (len >= size)
        return -1;
    long n = form_decode(in, len, out);
    if (n < 0)
        return -1;
    *out_len = (size_t)n;
    return 0;
}

/* client_secret_basic: "Basic base64(urlencode(id) ':' urlencode(secret))" (RFC 6749 §2.3.1). */
static int parse_basic(h2o_iovec_t value, struct oauth_credentials *cred)
{
    if (value.len < 7 || !h2o_lcstris(value.base, 5, H2O_STRLIT("basic")) || value.base[5] != ' ')
        return -1;
    const char *b64 = value.base + 6;
    size_t b64_len = value.len - 6;
    while (b64_len != 0 && *b64 == ' ')
        b64++, b64_len--;
    if (b64_len == 0 || b64_len > 1024)
        return -1;
    unsigned char decoded[1024];
    int n = EVP_DecodeBlock(decoded, (const unsigned char *)b64, (int)b64_len);
    if (n < 0)
        return -1;
    while (n > 0 && b64_len > 0 && b64[--b64_len] == '=')
        n--; /* EVP_DecodeBlock counts padding as zero bytes */
    const char *colon = memchr(decoded, ':', (size_t)n);
    size_t id_len, secret_len;
    if (colon == NULL ||
        decode_component((const char *)decoded, (size_t)(colon - (const char *)decoded), cred->client_id, sizeof(cred->client_id),
                         &id_len) != 0 ||
        decode_component(colon + 1, (size_t)n - (size_t)(colon + 1 - (const char *)decoded), cred->secret, sizeof(cred->secret),
                         &secret_len) != 0)
        return -1;
    cred->secret_len = secret_len;
    OPENSSL_cleanse(decoded, sizeof(decoded));
    return id_len != 0 ? 0 : -1;
}

const char *oauth_credentials_read(const h2o_req_t *req, const struct form *form, struct oauth_credentials *out, const char **error)
{
    *error = "invalid_request";
    h2o_iovec_t authorization = request_header(req, H2O_STRLIT("authorization"));
    const char *body_id = form_get(form, "client_id"), *body_secret = form_get(form, "client_secret");
    if (authorization.base != NULL && body_secret != NULL)
        return "Use one client authentication method, not two.";
    if (authorization.base != NULL) {
        out->used_basic = out->has_secret = 1;
        if (parse_basic(authorization, out) != 0 || (body_id != NULL && strcmp(body_id, out->client_id) != 0)) {
            *error = "invalid_client";
            return "Client authentication failed.";
        }
    } else if (body_id != NULL && body_secret != NULL && strlen(body_id) < sizeof(out->client_id) &&
               strlen(body_secret) <= OAUTH_CLIENT_SECRET_MAX) {
        strcpy(out->client_id, body_id);
        out->has_secret = 1;
        out->secret_len = strlen(body_secret);
        memcpy(out->secret, body_secret, out->secret_len + 1);
    } else if (body_id != NULL && body_id[0] != '\0' && body_secret == NULL && strlen(body_id) < sizeof(out->client_id)) {
        strcpy(out->client_id, body_id); /* a public client: each endpoint decides (oauth_client_authenticate) */
    } else {
        *error = "invalid_client";
        return "Client authentication is required.";
    }
    return NULL;
}

void oauth_credentials_clear(struct oauth_credentials *cred)
{
    OPENSSL_cleanse(cred->secret, sizeof(cred->secret));
    cred->secret_len = 0;
}

const char *oauth_token_request_read(const h2o_req_t *req, const struct form *form, struct oauth_credentials *cred, char **token,
                                     const char **error)
{
    *token = NULL;
    *error = "invalid_request";
    const char *description = oauth_credentials_read(req, form, cred, error);
    if (description != NULL)
        return description;
    const char *value = form_get(form, "token");
    if (value == NULL || value[0] == '\0') {
        *error = "invalid_request";
        return "token is required.";
    }
    *token = xstrdup(value);
    return NULL;
}

void oauth_token_free(char *token)
{
    if (token == NULL)
        return;
    OPENSSL_cleanse(token, strlen(token));
    free(token);
}

enum oauth_client_auth_result oauth_client_authenticate(struct db *db, const struct server *server,
                                                        const struct oauth_credentials *cred, int public_allowed,
                                                        struct oauth_client *client, const char *what)
{
    char *err = NULL;
    int found = clients_load(db, cred->client_id, client, &err);
    if (found < 0) {
        log_error("%s: %s", what, err);
        free(err);
        return OAUTH_CLIENT_UNAVAILABLE;
    }
    int ok = found == 1 && client->active && server->has_token_hash_key &&
             (client->confidential ? cred->has_secret && clients_secret_matches(client, server->token_hash_key, cred->secret,
                                                                                cred->secret_len, (int64_t)time(NULL))
                                   : !cred->has_secret && public_allowed);
    if (!ok) {
        oauth_client_clear(client);
        return OAUTH_CLIENT_INVALID;
    }
    return OAUTH_CLIENT_OK;
}
