/*
 * sessions.h — single sign-on sessions (table sso_sessions).
 *
 * A login creates a session. It has two identifiers:
 *   - the opaque session id: 256 random bits (43 base64url characters),
 *     returned once by sessions_create and never stored — only its HMAC
 *     under the token-hash key is. It is the bearer secret of the SSO
 *     session: the browser flow keeps it in a Secure; HttpOnly;
 *     SameSite=Lax cookie on the gateway's origin, a first-party app may
 *     keep it like a refresh token. Whoever presents it is signed in to any
 *     app without credentials, so it is never logged or put in a token.
 *   - `sid`: 128 random bits, public. It names the session in tokens (the
 *     sid claim), logs and the session list, and cannot be turned into the
 *     opaque id.
 *
 * Lifetime: a session stops signing the person in to further apps after
 * idle_timeout_s without use (sessions_resume slides it) or absolute_timeout_s
 * after the login, whichever is first. Those timeouts concern the SSO
 * session itself, i.e. new sign-ins without credentials; they do not cut the
 * refresh tokens apps already hold (a phone app would otherwise sign its user
 * out after half an hour in a pocket). Ending a session — logout, password
 * change, an operator, a disabled account — is different: it records when
 * and why, and revokes every refresh-token family issued under it, in every
 * app, in the same transaction.
 *
 * Threads: functions taking a `struct db` block (workers). Nothing logs.
 */
#ifndef YIWANG_AUTH_SESSIONS_H
#define YIWANG_AUTH_SESSIONS_H

#include <stddef.h>
#include <stdint.h>

#include "auth/accounts.h"
#include "auth/clients.h"
#include "auth/secrets.h"
#include "common/config.h"
#include "common/db.h"

enum session_amr {
    SESSION_AMR_SMS, /* "sms": an SMS one-time code */
    SESSION_AMR_PWD, /* "pwd": a password */
};

enum session_end_reason {
    SESSION_END_LOGOUT,
    SESSION_END_PASSWORD_CHANGED,
    SESSION_END_ACCOUNT_DISABLED,
    SESSION_END_ADMIN,
};

struct session {
    char sid[RANDOM_ID_BUFSIZE];
    char account_id[RANDOM_ID_BUFSIZE];
    unsigned acr; /* the assurance level at login */
    enum session_amr amr;
    char client_id[CLIENT_ID_MAX + 1]; /* the app the person signed in with */
    int64_t auth_time;                 /* Unix seconds */
    int64_t created_at;
    int64_t last_seen_at;
    int64_t idle_expires_at;
    int64_t absolute_expires_at;
    int64_t ended_at; /* 0 while not ended */
};

const char *session_amr_name(enum session_amr amr); /* "sms", "pwd" */

/* Creates a session for `account`: writes the opaque id (shown once) to `secret` and the row to `out`. 0 or -1. */
int sessions_create(struct db *db, const unsigned char token_hash_key[SECRETS_KEY_LEN], const struct session_config *policy,
                    const struct account *account, enum session_amr amr, const char *client_id, char secret[SECRETS_TOKEN_BUFSIZE],
                    struct session *out, char **err);

/*
 * The live session of an opaque id, touched (last_seen_at, idle expiry slid):
 * 1 live, 0 unknown, ended, idle or past its absolute timeout, -1 error.
 */
int sessions_resume(struct db *db, const unsigned char token_hash_key[SECRETS_KEY_LEN], const struct session_config *policy,
                    const char *secret, size_t len, struct session *out, char **err);

/*
 * The person of the live session `sid` signed in again (the browser flow's
 * prompt=login or max_age): the session keeps its sid, so the tokens every
 * app holds stay tied to the one session a logout ends, but it gets a new
 * opaque id (written to `secret`: the old one stops working, so an id seen
 * before the sign-in is worth nothing after it), a new auth_time, method and
 * assurance level, and both timeouts start again. 1 done (`out` filled), 0 the
 * session is not live any more, -1 error.
 */
int sessions_reauthenticate(struct db *db, const unsigned char token_hash_key[SECRETS_KEY_LEN], const struct session_config *policy,
                            const char *sid, const struct account *account, enum session_amr amr,
                            char secret[SECRETS_TOKEN_BUFSIZE], struct session *out, char **err);

/* A session by its public sid, in any state: 1, 0 none, -1 error. */
int sessions_find(struct db *db, const char *sid, struct session *out, char **err);

/* Ends a session and revokes its refresh tokens: 1 ended now, 0 unknown or ended already, -1 error. */
int sessions_end(struct db *db, const char *sid, enum session_end_reason reason, char **err);

/* Ends every session of an account not ended yet except `keep_sid` (NULL: all); the number ended, or -1. */
long sessions_end_all(struct db *db, const char *account_id, const char *keep_sid, enum session_end_reason reason, char **err);

/* An account's sessions that have not ended, newest first, at most `max`: their number, or -1. */
long sessions_list(struct db *db, const char *account_id, struct session *out, size_t max, char **err);

#endif
