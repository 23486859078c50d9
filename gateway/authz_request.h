/*
 * authz_request.h — the parameters of an authorization request (RFC 6749
 * §4.1.1, OAuth 2.1, OIDC Core §3.1.2.1) and their checks.
 *
 * The same parameters arrive in the query of GET /oauth/authorize, in the
 * body of POST /oauth/authorize, and again as hidden fields of the login and
 * consent forms. The forms' copies are attacker-controlled like the rest, so
 * every step runs the full check again rather than trusting them.
 *
 * The checks come in two stages, because they fail differently:
 *   1. the client and the redirect URI: until both are verified there is no
 *      URI that may receive an error (RFC 6749 §4.1.2.1, RFC 9700 §4.11:
 *      redirecting to an unverified URI makes an open redirector), so the
 *      browser gets an error page;
 *   2. everything else: errors go to the verified redirect URI.
 *
 * Owns the copies of the parameters. Pure; any thread.
 */
#ifndef YIWANG_GATEWAY_AUTHZ_REQUEST_H
#define YIWANG_GATEWAY_AUTHZ_REQUEST_H

#include "auth/authz_codes.h"
#include "auth/clients.h"
#include "auth/identifiers.h"
#include "common/form.h"
#include "common/strbuf.h"

enum authz_param {
    AUTHZ_CLIENT_ID,
    AUTHZ_REDIRECT_URI,
    AUTHZ_RESPONSE_TYPE,
    AUTHZ_SCOPE,
    AUTHZ_STATE,
    AUTHZ_NONCE,
    AUTHZ_CODE_CHALLENGE,
    AUTHZ_CODE_CHALLENGE_METHOD,
    AUTHZ_PROMPT,
    AUTHZ_MAX_AGE,
    AUTHZ_UI_LOCALES,
    AUTHZ_ORG, /* extension: act for a legal person, by its unified social credit code (auth/legal_persons.h) */
    AUTHZ__COUNT
};

#define AUTHZ_PROMPT_NONE 1u
#define AUTHZ_PROMPT_LOGIN 2u
#define AUTHZ_PROMPT_CONSENT 4u

struct authz_request {
    char *values[AUTHZ__COUNT]; /* malloc'ed; NULL when absent */
};

/* What stage 2 settled. */
struct authz_decision {
    char scope[AUTHZ_SCOPE_MAX + 1]; /* granted if approved: the request's, within the client's */
    unsigned prompt;                 /* AUTHZ_PROMPT_* */
    long max_age;                    /* -1: none */
    int openid;
    char org[IDENTIFIERS_USCC_BUFSIZE]; /* the legal person to act for, normalised; "" for none (not yet checked as an agent) */
};

const char *authz_param_name(enum authz_param param);
static inline const char *authz_get(const struct authz_request *r, enum authz_param param)
{
    return r->values[param];
}

/* Copies the known parameters out of `form` (others are ignored, OIDC Core §3.1.2.1). 0, or -1 when one is too long. */
int authz_request_read(struct authz_request *out, const struct form *form);
void authz_request_free(struct authz_request *r);

/*
 * Stage 1. `client` is NULL when unknown. NULL when the redirect URI can
 * receive answers, else the error code of the page: "invalid_client" or
 * "invalid_redirect_uri".
 */
const char *authz_request_target_problem(const struct authz_request *r, const struct oauth_client *client);

/* Stage 2. NULL when acceptable (`out` filled), else the RFC 6749 error code with a description for the redirect. */
const char *authz_request_check(const struct authz_request *r, const struct oauth_client *client, struct authz_decision *out,
                                const char **description);

/*
 * The redirect URI with the answer's parameters appended (RFC 6749 §4.1.2,
 * RFC 9207 iss): `code` or `error` (+ error_description), then state when the
 * request had one, then iss.
 */
void authz_redirect_location(struct strbuf *out, const struct authz_request *r, const char *code, const char *error,
                             const char *description, const char *issuer);

#endif
