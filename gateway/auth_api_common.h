/*
 * auth_api_common.h — what the sign-in endpoints (auth_api_*.c) and the
 * token endpoint's refresh grant share: reading the JSON body and the
 * client's credentials, authenticating a first-party client, signing a person
 * in (session, refresh token, access token) and answering.
 *
 * Functions say which thread they belong to: "loop" (the request's event
 * loop) or "worker" (inside an async_request's work callback, with the
 * worker's database connection).
 */
#ifndef YIWANG_GATEWAY_AUTH_API_COMMON_H
#define YIWANG_GATEWAY_AUTH_API_COMMON_H

#include <jansson.h>
#include <stdint.h>

#include "auth/accounts.h"
#include "auth/clients.h"
#include "auth/sessions.h"
#include "common/strbuf.h"
#include "gateway/async_request.h"
#include "gateway/request.h"

/* A sign-in request is a few short strings; anything larger is refused before it is parsed. */
#define AUTH_API_MAX_BODY 8192
#define AUTH_API_SECRET_MAX 256
#define AUTH_API_SCOPE_MAX 1024

/* The calling app, as the body names it. */
struct api_client {
    char client_id[CLIENT_ID_MAX + 1];
    char secret[AUTH_API_SECRET_MAX + 1];
    size_t secret_len;
    int has_secret;
};

/* A worker's verdict, answered on the loop: `failed` with an error (and, for 429, the wait). */
struct api_outcome {
    int failed;
    enum gateway_error error;
    unsigned retry_after_s;
};

/* What a successful sign-in returns. */
struct api_tokens {
    char *access_token; /* malloc'ed */
    unsigned expires_in;
    char scope[AUTH_API_SCOPE_MAX + 1];
    char refresh_token[SECRETS_TOKEN_BUFSIZE]; /* "" when the client may not refresh */
    char session_id[SECRETS_TOKEN_BUFSIZE];
};

/* ---- loop ---- */

/*
 * Checks the method (POST), the content type (application/json), the size
 * and that the body is one JSON object whose keys are all in `allowed`
 * (NULL-terminated) and whose values are strings. Returns the object (the
 * caller decrefs it), or NULL after answering 405, 413 or 400.
 */
json_t *auth_api_read_body(struct request_ctx *rc, const char *const *allowed);
/* A string member, or NULL when absent; *too_long is set when it is longer than max_len bytes. */
const char *auth_api_field(const json_t *body, const char *name, size_t max_len, int *too_long);
/* client_id (required) and client_secret (optional) from the body. 0, or -1 when missing or too long. */
int auth_api_read_client(const json_t *body, struct api_client *out);
/* Answers the outcome's error; adds Retry-After to a 429. */
void auth_api_send_error(struct request_ctx *rc, const struct api_outcome *outcome);
/* Appends the members of a token answer (no braces). */
void auth_api_append_tokens(struct strbuf *out, const struct api_tokens *tokens);
void auth_api_tokens_clear(struct api_tokens *tokens);
void auth_api_client_clear(struct api_client *client);

/* ---- worker ---- */

/* Records a failure; returns -1 so callers can `return auth_api_fail(...)`. */
int auth_api_fail(struct api_outcome *outcome, enum gateway_error error, unsigned retry_after_s);
/* Logs an internal failure (`err` is freed) and records 503 sign_in_unavailable; returns -1. */
int auth_api_unavailable(struct api_outcome *outcome, const char *what, char *err);
/* The worker's database connection when the identity keys are there too, else NULL with the outcome set. */
struct db *auth_api_db(struct async_request *ar, struct worker_ctx *ctx, struct api_outcome *outcome);
/*
 * Loads and checks the calling client: it must exist, be active and first
 * party; a confidential one must send its secret, a public one must not send
 * any. One answer (invalid_client) for every way of failing. 0 or -1.
 */
int auth_api_authenticate(struct db *db, const struct async_request *ar, const struct api_client *who, struct oauth_client *client,
                          struct api_outcome *outcome);
/*
 * Signs `account` in through `client`: a new SSO session, a refresh token
 * when the client may use the refresh_token grant, and an access token with
 * `scope`; `org` (a normalised unified social credit code the caller has
 * checked with legal_persons_may_act_for, or NULL) is carried by both.
 * 0 or -1 (outcome set).
 */
int auth_api_sign_in(struct db *db, const struct async_request *ar, const struct oauth_client *client,
                     const struct account *account, enum session_amr amr, const char *scope, const char *org,
                     struct api_tokens *tokens, struct api_outcome *outcome);

/* Who a user access token is for. */
struct user_token_subject {
    const char *account_id; /* sub */
    const char *client_id;
    const char *scope;
    const char *sid; /* the SSO session */
    unsigned acr;    /* the assurance level, carried as "1".."3" */
    int64_t auth_time;
    const char *org; /* the legal person acted for (its credit code), or NULL */
};

/*
 * A user access token (RFC 9068) from the snapshot's signer. Returns it
 * malloc'ed with its lifetime in *expires_in, or NULL. `jti` (22 characters +
 * NUL), when not NULL, receives the token's id so that it can be revoked later.
 */
char *auth_api_access_token(const struct snapshot *snapshot, const struct user_token_subject *who, unsigned *expires_in, char *jti);

#endif
