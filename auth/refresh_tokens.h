/*
 * refresh_tokens.h — opaque refresh tokens with rotation and reuse detection
 * (table refresh_tokens).
 *
 * A token is 256 random bits (43 base64url characters); only its HMAC under
 * the token-hash key is stored. It is bound to the client it was issued to,
 * to an SSO session (sid) and through it to an account. A login starts a
 * family; every use rotates: the presented token is marked used (used_at,
 * replaced_by = the successor's hash) and a successor with a fresh lifetime
 * is returned. Only the newest token of a family is ever valid.
 *
 * Reuse detection (RFC 9700 §4.14): a used token presented again means two
 * parties hold the family — the app and a thief — and which one is which
 * cannot be told, so the whole family is revoked, the newest token included.
 * The same happens when a client presents a token issued to another client.
 *
 * The grace window: a phone that loses the response to a rotation (a tunnel,
 * a lift) presents the same token again, and strict rotation would sign its
 * user out. So a repeat by the *same client* within refresh_reuse_grace_s
 * after the rotation gets the *same successor* back instead of a revocation.
 * Only hashes are stored, so to answer with that successor the rotation keeps
 * its plaintext sealed in the used row (AES-256-GCM under the refresh-seal
 * key, associated data "refresh_tokens.successor:<hex hash of the used
 * token>", so it opens for that row only), and wipes it as soon as the
 * window can no longer use it: when the successor is itself rotated, when the
 * family is revoked, or — past sealed_until — by refresh_tokens_sweep.
 * Returning the same successor rather than minting a sibling keeps the family
 * a single chain: if the "lost" response was in fact intercepted, thief and
 * app hold the same token, and whichever uses it second trips reuse
 * detection. A sibling would give the thief an independent, undetected
 * token. The cost: for at most the window, a database dump *plus* the master
 * key yields that one successor; without the key the sealed value is useless.
 * A repeat after the successor was used, after the window, or by another
 * client revokes the family.
 *
 * Lifetime: every successor gets refresh_token_ttl_s from its rotation, so an
 * app in use stays signed in; the family ends when its session is ended
 * (sessions.h revokes it in the same transaction), when the account is no
 * longer active (checked on every rotation), or on reuse.
 *
 * Concurrency: a rotation runs in one transaction that locks the token's row
 * together with its session and account rows (SELECT ... FOR UPDATE), so two
 * parallel uses of one token are serialised — the second sees the first's
 * rotation and is answered by the grace rule — and a session ended in
 * parallel either waits for the rotation (and then revokes its successor
 * too) or is seen as ended.
 *
 * Threads: functions taking a `struct db` block (workers). Nothing logs.
 */
#ifndef YIWANG_AUTH_REFRESH_TOKENS_H
#define YIWANG_AUTH_REFRESH_TOKENS_H

#include <stddef.h>
#include <stdint.h>

#include "auth/accounts.h"
#include "auth/identifiers.h"
#include "auth/clients.h"
#include "auth/identity_keys.h"
#include "common/db.h"

#define REFRESH_SCOPE_MAX 2048

enum refresh_revoke_reason {
    REFRESH_REVOKED_REUSE,
    REFRESH_REVOKED_CLIENT_MISMATCH,
    REFRESH_REVOKED_SESSION_ENDED,
    REFRESH_REVOKED_ACCOUNT_DISABLED,
    REFRESH_REVOKED_ADMIN,
    REFRESH_REVOKED_BY_CLIENT,     /* the client revoked it (RFC 7009) */
    REFRESH_REVOKED_AGENT_REMOVED, /* the person may no longer act for the family's legal person */
};

struct refresh_policy {
    unsigned ttl_s;         /* identity.refresh_token_ttl_s */
    unsigned reuse_grace_s; /* identity.refresh_reuse_grace_s; 0 = no grace */
};

/* What a token stands for, as the token endpoint needs it to issue an access token. */
struct refresh_grant {
    char family_id[RANDOM_ID_BUFSIZE];
    char client_id[CLIENT_ID_MAX + 1];
    char account_id[RANDOM_ID_BUFSIZE];
    char sid[RANDOM_ID_BUFSIZE];
    char scope[REFRESH_SCOPE_MAX + 1];
    int64_t auth_time;                        /* of the login, Unix seconds */
    unsigned acr;                             /* the account's assurance level now (a raise shows in the next access token) */
    char org[IDENTIFIERS_USCC_BUFSIZE];       /* the legal person the family acts for; "" for none */
    char access_scope[REFRESH_SCOPE_MAX + 1]; /* for the new access token: refresh_scope_narrow's result */
};

/* What the client asks for and may have, checked before anything changes. */
struct refresh_scope_request {
    const char *requested; /* the request's scope; NULL = all of the token's */
    const char *allowed;   /* the client's allowed scopes today */
};

/* What a new family is granted. */
struct refresh_family {
    const char *sid;
    const char *client_id;
    const char *scope;
    const char *org; /* the legal person acted for (its credit code), or NULL */
};

/*
 * Starts a family: writes the token (shown once) to `token` and the family id
 * to `family_id`. 0 or -1.
 */
int refresh_tokens_issue(struct db *db, const unsigned char token_hash_key[SECRETS_KEY_LEN], const struct refresh_policy *policy,
                         const struct refresh_family *family, char token[SECRETS_TOKEN_BUFSIZE], char family_id[RANDOM_ID_BUFSIZE],
                         char **err);

enum refresh_result {
    REFRESH_ROTATED,      /* `new_token` is the successor */
    REFRESH_REPEATED,     /* the same client's repeat within the grace window: `new_token` is the successor it was given */
    REFRESH_INVALID,      /* unknown, expired, revoked, or its session ended or its account is not active */
    REFRESH_REUSED,       /* already used (outside the grace): the family is now revoked */
    REFRESH_WRONG_CLIENT, /* issued to another client: the family is now revoked */
    REFRESH_BAD_SCOPE,    /* asked for more than the token grants: nothing changed, the token is still valid */
    REFRESH_ERROR,
};

/* "rotated", "repeated", "invalid", "reused", "wrong_client", "bad_scope", "error": for logs and metrics. */
const char *refresh_result_name(enum refresh_result result);

/*
 * Uses `token` on behalf of the authenticated `client_id`. The scope of the
 * new access token is settled first (refresh_scope_narrow), so a bad scope
 * request consumes nothing. On REFRESH_ROTATED and REFRESH_REPEATED
 * `new_token` and `grant` are filled; on REFRESH_REUSED and
 * REFRESH_WRONG_CLIENT `grant` names the revoked family.
 */
enum refresh_result refresh_tokens_rotate(struct db *db, const struct identity_keys *keys, const struct refresh_policy *policy,
                                          const char *token, size_t len, const char *client_id,
                                          const struct refresh_scope_request *scope, char new_token[SECRETS_TOKEN_BUFSIZE],
                                          struct refresh_grant *grant, char **err);

/* Revokes every token of a family / of a session not revoked yet. The number revoked, or -1. */
long refresh_tokens_revoke_family(struct db *db, const char *family_id, enum refresh_revoke_reason reason, char **err);
long refresh_tokens_revoke_session(struct db *db, const char *sid, enum refresh_revoke_reason reason, char **err);

/*
 * RFC 7009: the client `client_id` revokes `token` — and with it its whole
 * family, since every token of a family stands for the same grant. 1 revoked
 * (or revoked already), 0 unknown or issued to another client (nothing
 * changes: a client cannot revoke another's tokens), -1 error.
 */
int refresh_tokens_revoke_by_client(struct db *db, const unsigned char token_hash_key[SECRETS_KEY_LEN], const char *token,
                                    size_t len, const char *client_id, char **err);

/* What introspection (RFC 7662) may tell about a refresh token. */
struct refresh_token_info {
    char client_id[CLIENT_ID_MAX + 1];
    char account_id[RANDOM_ID_BUFSIZE];
    char sid[RANDOM_ID_BUFSIZE];
    char scope[REFRESH_SCOPE_MAX + 1];
    int64_t issued_at;
    int64_t expires_at;
    int active; /* the newest of its family, not revoked, unexpired, session not ended, account active */
};

/* 1 found (`out` filled), 0 unknown, -1 error. Changes nothing. */
int refresh_tokens_inspect(struct db *db, const unsigned char token_hash_key[SECRETS_KEY_LEN], const char *token, size_t len,
                           struct refresh_token_info *out, char **err);

/*
 * Wipes up to `limit` sealed successors whose grace window has passed (those
 * whose successor was never used; the others are wiped by the rotation
 * itself). The token endpoint runs it after about one rotation in 64, which
 * keeps the leftovers to seconds' worth without a timer of its own.
 * The number wiped, or -1.
 */
long refresh_tokens_sweep(struct db *db, unsigned limit, char **err);

/*
 * The scope of an access token on refresh (pure): `requested` (NULL: all of
 * `granted`) must be a subset of `granted`, the refresh token's scope; the
 * result is further cut to `allowed`, what the client may have today.
 * Writes single-space-separated scopes to `out`. 0, or -1 when a requested
 * scope was not granted or `out` is too small.
 */
int refresh_scope_narrow(const char *granted, const char *requested, const char *allowed, char *out, size_t size);

#endif
