#include "auth/clients.h"

#include <jansson.h>
#include <openssl/crypto.h>
#include <stdlib.h>
#include <string.h>

#include "auth/scope_set.h"
#include "common/xalloc.h"

static const char *const kind_names[] = {
    [CLIENT_IOS] = "ios", [CLIENT_ANDROID] = "android",         [CLIENT_MINI_PROGRAM] = "mini_program",
    [CLIENT_WEB] = "web", [CLIENT_THIRD_PARTY] = "third_party", [CLIENT_DEPARTMENT_SERVICE] = "department_service",
};

const char *client_kind_name(enum client_kind kind)
{
    return (unsigned)kind < sizeof(kind_names) / sizeof(kind_names[0]) ? kind_names[kind] : "unknown";
}

int client_kind_from_name(const char *name, enum client_kind *out)
{
    for (size_t i = 0; i < sizeof(kind_names) / sizeof(kind_names[0]); i++) {
        if (strcmp(kind_names[i], name) == 0) {
            *out = (enum client_kind)i;
            return 0;
        }
    }
    return -1;
}

int clients_hash_secret(const unsigned char hash_key[SECRETS_KEY_LEN], const char *secret, size_t len, char out[65])
{
    unsigned char hash[SECRETS_HASH_LEN];
    if (secrets_token_hash(hash_key, secret, len, hash) != 0)
        return -1;
    secrets_hex_encode(hash, sizeof(hash), out);
    return 0;
}

static enum db_get copy_optional_text(struct db_result *res, size_t col, char *buf, size_t size)
{
    buf[0] = '\0';
    enum db_get got = db_result_text_copy(res, col, buf, size);
    return got == DB_GET_NULL ? DB_GET_OK : got;
}

int clients_load(struct db *db, const char *client_id, struct oauth_client *out, char **err)
{
    memset(out, 0, sizeof(*out));
    struct db_result *res =
        db_query(db, DB_IDEMPOTENT,
                 "SELECT client_id, name, kind, owner, first_party, confidential, secret_hash, previous_secret_hash, "
                 "previous_secret_expires_at, redirect_uris, allowed_scopes, grant_types, status = 'active', "
                 "post_logout_redirect_uris "
                 "FROM oauth_clients WHERE client_id = ?",
                 DB_ARGS(db_text(client_id)));
    if (res == NULL) {
        *err = xasprintf("cannot read client: %s", db_error(db));
        return -1;
    }
    int row = db_result_next(res);
    if (row <= 0) {
        if (row < 0)
            *err = xasprintf("cannot read client: %s", db_error(db));
        return row;
    }
    char kind[32];
    int ok = db_result_text_copy(res, 0, out->client_id, sizeof(out->client_id)) == DB_GET_OK &&
             db_result_text_copy(res, 1, out->name, sizeof(out->name)) == DB_GET_OK &&
             db_result_text_copy(res, 2, kind, sizeof(kind)) == DB_GET_OK && client_kind_from_name(kind, &out->kind) == 0 &&
             db_result_text_copy(res, 3, out->owner, sizeof(out->owner)) == DB_GET_OK &&
             db_result_int(res, 4, &out->first_party) == DB_GET_OK && db_result_int(res, 5, &out->confidential) == DB_GET_OK &&
             copy_optional_text(res, 6, out->secret_hash, sizeof(out->secret_hash)) == DB_GET_OK &&
             copy_optional_text(res, 7, out->previous_secret_hash, sizeof(out->previous_secret_hash)) == DB_GET_OK &&
             db_result_unix_time(res, 8, &out->previous_secret_expires_at) != DB_GET_ERROR &&
             db_result_text_dup(res, 9, &out->redirect_uris_json) == DB_GET_OK &&
             db_result_text_copy(res, 10, out->allowed_scopes, sizeof(out->allowed_scopes)) == DB_GET_OK &&
             db_result_text_copy(res, 11, out->grant_types, sizeof(out->grant_types)) == DB_GET_OK &&
             db_result_int(res, 12, &out->active) == DB_GET_OK &&
             db_result_text_dup(res, 13, &out->post_logout_redirect_uris_json) == DB_GET_OK;
    if (!ok) {
        *err = xasprintf("client %s cannot be read: %s", client_id, db_error(db));
        oauth_client_clear(out);
        return -1;
    }
    return 1;
}

void oauth_client_clear(struct oauth_client *client)
{
    free(client->redirect_uris_json);
    free(client->post_logout_redirect_uris_json);
    memset(client, 0, sizeof(*client));
}

int clients_secret_matches(const struct oauth_client *client, const unsigned char hash_key[SECRETS_KEY_LEN], const char *secret,
                           size_t len, int64_t now)
{
    char hash[65];
    if (!client->confidential || client->secret_hash[0] == '\0' || clients_hash_secret(hash_key, secret, len, hash) != 0)
        return 0;
    int current = CRYPTO_memcmp(hash, client->secret_hash, 64) == 0;
    int previous = client->previous_secret_hash[0] != '\0' && now < client->previous_secret_expires_at &&
                   CRYPTO_memcmp(hash, client->previous_secret_hash, 64) == 0;
    return current | previous;
}

int clients_grant_allowed(const struct oauth_client *client, const char *grant_type)
{
    return scope_set_has_word(client->grant_types, grant_type);
}

int clients_resolve_scope(const struct oauth_client *client, const char *requested, char *out, size_t size)
{
    const char *source = requested != NULL ? requested : client->allowed_scopes;
    out[0] = '\0';
    if (!scope_set_covers(client->allowed_scopes, source))
        return -1;
    return scope_set_add(out, size, source); /* normalised: a scope asked for twice is granted once */
}

/* Is `uri` byte for byte one of the strings of the JSON array `list`? */
static int uri_listed(const char *list, const char *uri)
{
    json_t *uris = list != NULL ? json_loads(list, 0, NULL) : NULL;
    size_t i;
    json_t *item;
    int allowed = 0;
    json_array_foreach(uris, i, item)
    {
        if (json_is_string(item) && strcmp(json_string_value(item), uri) == 0)
            allowed = 1;
    }
    json_decref(uris);
    return allowed;
}

int clients_redirect_uri_allowed(const struct oauth_client *client, const char *uri)
{
    return uri_listed(client->redirect_uris_json, uri);
}

int clients_post_logout_redirect_uri_allowed(const struct oauth_client *client, const char *uri)
{
    return uri_listed(client->post_logout_redirect_uris_json, uri);
}

static int is_loopback_http(const char *uri)
{
    static const char *const prefixes[] = {"http://127.0.0.1:", "http://127.0.0.1/", "http://[::1]:", "http://[::1]/"};
    for (size_t i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++) {
        if (strncmp(uri, prefixes[i], strlen(prefixes[i])) == 0)
            return 1;
    }
    return 0;
}

/* "cn.gov.hrss.app:/callback": a scheme with a dot, as RFC 8252 §7.1 asks of private-use schemes. */
static int is_private_use_scheme(const char *uri)
{
    const char *colon = strchr(uri, ':');
    if (colon == NULL || colon == uri || memchr(uri, '.', (size_t)(colon - uri)) == NULL || colon[1] != '/')
        return 0;
    for (const char *p = uri; p < colon; p++) {
        if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '.' || *p == '-' || *p == '+'))
            return 0;
    }
    return 1;
}

const char *clients_redirect_uri_problem(const char *uri)
{
    size_t len = strlen(uri);
    if (len == 0 || len > 2000)
        return "must be 1 to 2000 characters";
    for (size_t i = 0; i < len; i++) {
        if ((unsigned char)uri[i] <= 0x20 || (unsigned char)uri[i] >= 0x7f)
            return "must not contain spaces, control or non-ASCII characters";
    }
    if (strchr(uri, '#') != NULL)
        return "must not contain a fragment";
    if (strncmp(uri, "https://", 8) == 0 || is_loopback_http(uri)) {
        const char *authority = uri + (uri[4] == 's' ? 8 : 7), *end = authority + strcspn(authority, "/?");
        if (end == authority || memchr(authority, '@', (size_t)(end - authority)) != NULL)
            return "must name a host, without user information";
        return NULL;
    }
    if (is_private_use_scheme(uri))
        return NULL;
    return "must be an https URL, a loopback http URL or a reverse-domain private-use scheme";
}

int clients_create(struct db *db, const struct client_spec *spec, const unsigned char hash_key[SECRETS_KEY_LEN],
                   char secret[SECRETS_TOKEN_BUFSIZE], char **err)
{
    char hash[65] = "";
    secret[0] = '\0';
    if (spec->confidential &&
        (secrets_token_generate(secret) != 0 || clients_hash_secret(hash_key, secret, SECRETS_TOKEN_LEN, hash) != 0)) {
        *err = xstrdup("cannot generate a client secret");
        return -1;
    }
    if (db_exec(db, 0,
                "INSERT INTO oauth_clients (client_id, name, kind, owner, first_party, confidential, secret_hash, redirect_uris, "
                "allowed_scopes, grant_types, post_logout_redirect_uris) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                DB_ARGS(db_text(spec->client_id), db_text(spec->name), db_text(client_kind_name(spec->kind)),
                        db_text(spec->owner != NULL ? spec->owner : ""), db_int(spec->first_party != 0),
                        db_int(spec->confidential != 0), spec->confidential ? db_text(hash) : db_null(),
                        db_text(spec->redirect_uris_json), db_text(spec->allowed_scopes), db_text(spec->grant_types),
                        db_text(spec->post_logout_redirect_uris_json != NULL ? spec->post_logout_redirect_uris_json : "[]"))) !=
        0) {
        *err = db_error_is_duplicate_key(db) ? xasprintf("client %s exists already", spec->client_id)
                                             : xasprintf("cannot create the client: %s", db_error(db));
        secrets_wipe(secret, SECRETS_TOKEN_BUFSIZE);
        return -1;
    }
    return 0;
}
