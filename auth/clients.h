/*
 * clients.h — OAuth clients (schemas/sql/002_oauth_clients.sql): the apps,
 * mini-programs, integrators and department services that obtain tokens.
 *
 * Confidential clients prove themselves with a 256-bit random secret. Since it
 * is random (not a human password), a keyed hash is enough to store it and
 * cheap enough to check on every token request: HMAC-SHA256 under the
 * "token hash" key derived from the master key, compared in constant time.
 * During a rotation the previous secret also works until it expires.
 *
 * Threads: functions taking a `struct db` block (worker threads, CLI); the
 * others are pure. A loaded client is owned by the caller.
 */
#ifndef YIWANG_AUTH_CLIENTS_H
#define YIWANG_AUTH_CLIENTS_H

#include <stddef.h>
#include <stdint.h>

#include "auth/secrets.h"
#include "common/db.h"

#define CLIENT_ID_MAX 64

enum client_kind {
    CLIENT_IOS,
    CLIENT_ANDROID,
    CLIENT_MINI_PROGRAM,
    CLIENT_WEB,
    CLIENT_THIRD_PARTY,
    CLIENT_DEPARTMENT_SERVICE,
};

struct oauth_client {
    char client_id[CLIENT_ID_MAX + 1];
    char name[129];
    enum client_kind kind;
    char owner[65];
    int first_party;
    int confidential;
    int active;
    char secret_hash[65];          /* hex; "" for public clients */
    char previous_secret_hash[65]; /* hex; "" when none */
    int64_t previous_secret_expires_at;
    char *redirect_uris_json;             /* a JSON array of exact URIs */
    char *post_logout_redirect_uris_json; /* likewise, for RP-initiated logout */
    char allowed_scopes[2049];
    char grant_types[257];
};

/* What `yiwang clients add` creates. */
struct client_spec {
    const char *client_id;
    const char *name;
    enum client_kind kind;
    const char *owner;
    int first_party;
    int confidential;
    const char *redirect_uris_json;             /* "[]" when none */
    const char *post_logout_redirect_uris_json; /* "[]" (or NULL) when none */
    const char *allowed_scopes;                 /* space-separated */
    const char *grant_types;                    /* space-separated */
};

const char *client_kind_name(enum client_kind kind);
int client_kind_from_name(const char *name, enum client_kind *out);

/* 1 found, 0 no such client, -1 error (*err malloc'ed). */
int clients_load(struct db *db, const char *client_id, struct oauth_client *out, char **err);
void oauth_client_clear(struct oauth_client *client);

/* Does `secret` match the current secret, or the previous one before it expires? Constant time. */
int clients_secret_matches(const struct oauth_client *client, const unsigned char hash_key[SECRETS_KEY_LEN], const char *secret,
                           size_t len, int64_t now);
/* Is `grant_type` one the client may use? */
int clients_grant_allowed(const struct oauth_client *client, const char *grant_type);
/*
 * The scope to grant: `requested` (space-separated, may be NULL = everything the client is allowed) must be a
 * subset of the client's allowed scopes. Writes the granted scope (normalised: single spaces) into `out`.
 * Returns 0, or -1 when a requested scope is not allowed or `out` is too small.
 */
int clients_resolve_scope(const struct oauth_client *client, const char *requested, char *out, size_t size);

/* Is `uri` exactly (byte for byte, RFC 9700 §4.1.3) one of the client's registered redirect URIs? */
int clients_redirect_uri_allowed(const struct oauth_client *client, const char *uri);
/* The same for the URIs it registered for after logout (OIDC RP-Initiated Logout §3): never an open redirect. */
int clients_post_logout_redirect_uri_allowed(const struct oauth_client *client, const char *uri);
/*
 * May `uri` be registered as a redirect URI? https URLs, loopback http URLs for native apps (RFC 8252 §7.3) and
 * private-use schemes in reverse-domain form (RFC 8252 §7.1, e.g. "cn.gov.hrss.app:/callback"); never a fragment,
 * never userinfo, never http to anything but loopback. Returns NULL when fine, or why not.
 */
const char *clients_redirect_uri_problem(const char *uri);

/* Creates a client; for a confidential one writes its new secret (shown once, never stored) into `secret`. */
int clients_create(struct db *db, const struct client_spec *spec, const unsigned char hash_key[SECRETS_KEY_LEN],
                   char secret[SECRETS_TOKEN_BUFSIZE], char **err);

/* The hex keyed hash stored for a secret. */
int clients_hash_secret(const unsigned char hash_key[SECRETS_KEY_LEN], const char *secret, size_t len, char out[65]);

#endif
