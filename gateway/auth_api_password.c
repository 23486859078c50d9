/*
 * auth_api_password.c — POST /v1/auth/password: set or change the password.
 *
 * Two ways to prove who is asking:
 *   - a fresh SMS code (purpose "password", from POST /v1/auth/sms):
 *     {"client_id", "mobile", "code", "new_password"} — the reset path for a
 *     forgotten password; it also registers a number that has no account yet,
 *     so the answer does not reveal registration. Every session of the
 *     account ends (whoever else was signed in is out).
 *   - the access token of a sign-in through a first-party app
 *     (Authorization: Bearer) with {"new_password"} and, when a password is
 *     set already, {"current_password"}. Without the current password the
 *     sign-in must be recent (FRESH_LOGIN_S), so a stolen or long-refreshed
 *     token alone cannot take the account over. The token must come from this
 *     gateway's own keys, from a first-party client, and its session must
 *     still be live. The other sessions of the account end; this one stays.
 * The new password must pass the policy (auth/password.h), with a stable
 * error code per rule. Wrong codes and wrong current passwords are charged
 * to the login guard like logins.
 */
#include "gateway/auth_api.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "auth/identifiers.h"
#include "auth/jwt_verify.h"
#include "auth/login_guard.h"
#include "auth/password.h"
#include "auth/sms.h"
#include "common/base64url.h"
#include "common/log.h"
#include "common/xalloc.h"
#include "gateway/auth_api_common.h"
#include "gateway/oauth_response.h"
#include "gateway/server.h"

/* How recent a sign-in must be to set a password without giving the current one. */
#define FRESH_LOGIN_S 300

struct password_job {
    struct async_request ar; /* first: the job is freed through it */
    char *access_token;      /* the token mode; NULL in the SMS mode */
    struct api_client client;
    char mobile[IDENTIFIERS_MOBILE_BUFSIZE];
    char code[SMS_CODE_BUFSIZE];
    char *new_password;
    char *current_password; /* token mode, optional */
    char client_ip[INET6_ADDRSTRLEN];
    struct api_outcome outcome;
    long sessions_ended;
};

static enum gateway_error policy_error(enum password_policy result)
{
    switch (result) {
    case PASSWORD_POLICY_OK:
        return GW_ERR__COUNT;
    case PASSWORD_POLICY_TOO_LONG:
        return GW_ERR_PASSWORD_TOO_LONG;
    case PASSWORD_POLICY_BAD_CHARACTERS:
        return GW_ERR_PASSWORD_BAD_CHARACTERS;
    case PASSWORD_POLICY_TOO_SHORT:
        return GW_ERR_PASSWORD_TOO_SHORT;
    case PASSWORD_POLICY_ALL_DIGITS:
        return GW_ERR_PASSWORD_ALL_DIGITS;
    case PASSWORD_POLICY_CONTAINS_MOBILE:
        return GW_ERR_PASSWORD_CONTAINS_MOBILE;
    }
    return GW_ERR_BAD_REQUEST;
}

static int charge(struct password_job *job, struct db *db, enum login_guard_kind kind, const char *subject)
{
    unsigned retry = 0;
    char *err = NULL;
    enum login_guard_status status =
        login_guard_charge(db, &job->ar.snapshot->config->identity.login_guard, kind, subject, &retry, &err);
    if (status == LOGIN_GUARD_LOCKED)
        return auth_api_fail(&job->outcome, GW_ERR_TOO_MANY_ATTEMPTS, retry);
    return status == LOGIN_GUARD_ALLOWED ? 0 : auth_api_unavailable(&job->outcome, "the login guard failed", err);
}

/* Hashes and stores the new password, ends the other sessions (all when keep_sid is NULL) and lifts the number's lock. */
static void store(struct password_job *job, struct db *db, const struct account *account, const char *keep_sid)
{
    char phc[PASSWORD_PHC_BUFSIZE], *err = NULL;
    enum gateway_error rule = policy_error(password_policy_check(job->new_password, strlen(job->new_password), account->mobile));
    if (rule != GW_ERR__COUNT) {
        auth_api_fail(&job->outcome, rule, 0);
        return;
    }
    if (password_hash(job->new_password, strlen(job->new_password), phc, sizeof(phc)) != 0) {
        auth_api_unavailable(&job->outcome, "cannot hash the password", NULL);
        return;
    }
    if (accounts_set_password(db, account->id, phc, &err) != ACCOUNTS_OK ||
        (job->sessions_ended = sessions_end_all(db, account->id, keep_sid, SESSION_END_PASSWORD_CHANGED, &err)) < 0 ||
        login_guard_succeeded(db, LOGIN_GUARD_MOBILE, account->mobile, &err) != 0)
        auth_api_unavailable(&job->outcome, "cannot store the password", err);
}

/* ---- by SMS code ---- */

static void work_by_code(struct password_job *job, struct db *db)
{
    struct oauth_client client;
    struct account account;
    char *err = NULL;
    int created = 0;
    if (auth_api_authenticate(db, &job->ar, &job->client, &client, &job->outcome) != 0)
        return;
    oauth_client_clear(&client);
    if (charge(job, db, LOGIN_GUARD_IP, job->client_ip) != 0)
        return;
    const struct sms_config *sms = &job->ar.snapshot->config->identity.sms;
    enum sms_verify_status status =
        sms_verify(db, job->ar.server->identity_keys.sms_code_hash, sms, job->mobile, SMS_PURPOSE_PASSWORD, job->code, &err);
    if (status == SMS_VERIFY_ERROR) {
        auth_api_unavailable(&job->outcome, "cannot check the SMS code", err);
        return;
    }
    if (status != SMS_CODE_OK) {
        auth_api_fail(&job->outcome, GW_ERR_INVALID_CREDENTIALS, 0);
        return;
    }
    if (accounts_find_or_create_by_mobile(db, job->mobile, &account, &created, &err) != 1) {
        auth_api_unavailable(&job->outcome, "cannot load the account", err);
        return;
    }
    if (login_guard_succeeded(db, LOGIN_GUARD_IP, job->client_ip, &err) != 0)
        auth_api_unavailable(&job->outcome, "cannot record the successful check", err);
    else if (account.status != ACCOUNT_ACTIVE)
        auth_api_fail(&job->outcome, GW_ERR_ACCOUNT_DISABLED, 0);
    else
        store(job, db, &account, NULL);
    secrets_wipe(&account, sizeof(account));
}

/* ---- by access token ---- */

/* Was `token` signed with one of this gateway's own keys (not a trusted key of another issuer)? */
static int issued_here(const struct config *config, const char *token)
{
    const char *dot = strchr(token, '.');
    size_t len = dot != NULL ? (size_t)(dot - token) : 0;
    if (len == 0 || len > 1024)
        return 0;
    unsigned char header[BASE64URL_DECODED_MAX(1024)];
    long n = base64url_decode(token, len, header);
    json_t *json = n > 0 ? json_loadb((const char *)header, (size_t)n, JSON_REJECT_DUPLICATES, NULL) : NULL;
    const char *kid = json_string_value(json_object_get(json, "kid"));
    int own = kid != NULL;
    for (size_t i = 0; own && i < config->identity.num_trusted_keys; i++)
        own = strcmp(config->identity.trusted_keys[i].kid, kid) != 0;
    json_decref(json);
    return own;
}

/* The verified person behind the token: 0 with the account and session, or -1 (outcome set). */
static int check_token(struct password_job *job, struct db *db, struct account *account, struct session *session)
{
    const struct snapshot *snapshot = job->ar.snapshot;
    struct jwt_claims claims;
    struct oauth_client client;
    char *err = NULL;
    if (jwt_verify(&snapshot->keyset, job->access_token, strlen(job->access_token), (int64_t)time(NULL), &claims) != JWT_OK ||
        !issued_here(snapshot->config, job->access_token))
        return auth_api_fail(&job->outcome, GW_ERR_TOKEN_INVALID, 0);
    if (claims.is_client_token)
        return auth_api_fail(&job->outcome, GW_ERR_USER_TOKEN_REQUIRED, 0);
    if (claims.sid[0] == '\0')
        return auth_api_fail(&job->outcome, GW_ERR_TOKEN_INVALID, 0);
    int client_ok = clients_load(db, claims.client_id, &client, &err);
    if (client_ok < 0)
        return auth_api_unavailable(&job->outcome, "cannot load the client", err);
    client_ok = client_ok == 1 && client.active && client.first_party;
    oauth_client_clear(&client);
    if (!client_ok)
        return auth_api_fail(&job->outcome, GW_ERR_INVALID_CLIENT, 0);
    int found = sessions_find(db, claims.sid, session, &err);
    if (found < 0)
        return auth_api_unavailable(&job->outcome, "cannot load the session", err);
    if (found == 0 || session->ended_at != 0 || strcmp(session->account_id, claims.sub) != 0)
        return auth_api_fail(&job->outcome, GW_ERR_TOKEN_INVALID, 0);
    found = accounts_find_by_id(db, claims.sub, account, &err);
    if (found < 0)
        return auth_api_unavailable(&job->outcome, "cannot load the account", err);
    if (found == 0)
        return auth_api_fail(&job->outcome, GW_ERR_TOKEN_INVALID, 0);
    return account->status == ACCOUNT_ACTIVE ? 0 : auth_api_fail(&job->outcome, GW_ERR_ACCOUNT_DISABLED, 0);
}

/* The current password when one is given (guarded like a login), else a recent sign-in. */
static int check_reauthentication(struct password_job *job, struct db *db, const struct account *account,
                                  const struct session *session)
{
    if (job->current_password == NULL) {
        int fresh = (int64_t)time(NULL) - session->auth_time <= FRESH_LOGIN_S;
        return fresh ? 0 : auth_api_fail(&job->outcome, GW_ERR_REAUTHENTICATION_REQUIRED, 0);
    }
    if (charge(job, db, LOGIN_GUARD_IP, job->client_ip) != 0 || charge(job, db, LOGIN_GUARD_MOBILE, account->mobile) != 0)
        return -1;
    size_t len = strlen(job->current_password);
    enum password_result result = account->password_hash[0] != '\0'
                                      ? password_verify(account->password_hash, job->current_password, len)
                                      : password_verify_dummy(job->current_password, len);
    return result == PASSWORD_MATCH ? 0 : auth_api_fail(&job->outcome, GW_ERR_INVALID_CREDENTIALS, 0);
}

static void work_by_token(struct password_job *job, struct db *db)
{
    struct account account;
    struct session session;
    char *err = NULL;
    if (check_token(job, db, &account, &session) == 0 && check_reauthentication(job, db, &account, &session) == 0) {
        if (job->current_password != NULL && login_guard_succeeded(db, LOGIN_GUARD_IP, job->client_ip, &err) != 0)
            auth_api_unavailable(&job->outcome, "cannot record the successful check", err);
        else
            store(job, db, &account, session.sid);
    }
    secrets_wipe(&account, sizeof(account));
}

static void work(struct async_request *ar, struct worker_ctx *ctx)
{
    struct password_job *job = (struct password_job *)ar;
    struct db *db = auth_api_db(ar, ctx, &job->outcome);
    if (db == NULL)
        return;
    if (job->access_token != NULL)
        work_by_token(job, db);
    else
        work_by_code(job, db);
}

static void respond(struct async_request *ar, struct request_ctx *rc)
{
    struct password_job *job = (struct password_job *)ar;
    if (job->outcome.failed) {
        if (job->outcome.error == GW_ERR_TOKEN_INVALID)
            h2o_add_header(&rc->req->pool, &rc->req->res.headers, H2O_TOKEN_WWW_AUTHENTICATE, NULL,
                           H2O_STRLIT("Bearer realm=\"yiwang\", error=\"invalid_token\""));
        auth_api_send_error(rc, &job->outcome);
        return;
    }
    struct strbuf body = STRBUF_INIT;
    strbuf_appendf(&body, "{\"password_set\":true,\"sessions_ended\":%ld}", job->sessions_ended);
    oauth_send_json(rc, 200, "OK", &body);
}

static void free_secret(char *s)
{
    if (s != NULL) {
        secrets_wipe(s, strlen(s));
        free(s);
    }
}

static void destroy(struct async_request *ar)
{
    struct password_job *job = (struct password_job *)ar;
    free(job->access_token);
    auth_api_client_clear(&job->client);
    free_secret(job->new_password);
    free_secret(job->current_password);
    secrets_wipe(job->code, sizeof(job->code));
    free(job);
}

/* "Bearer <token>" of the request's single Authorization header: 1 with the token copied, 0 when absent, -1 when unusable. */
static int read_bearer(const h2o_req_t *req, struct password_job *job)
{
    ssize_t first = h2o_find_header(&req->headers, H2O_TOKEN_AUTHORIZATION, -1);
    if (first < 0)
        return 0;
    h2o_iovec_t value = req->headers.entries[first].value;
    if (h2o_find_header(&req->headers, H2O_TOKEN_AUTHORIZATION, first) >= 0 || value.len < 8 || value.len > JWT_MAX_TOKEN_LEN ||
        !h2o_lcstris(value.base, 7, H2O_STRLIT("bearer ")))
        return -1;
    job->access_token = xstrndup(value.base + 7, value.len - 7);
    return 1;
}

static enum gateway_error read_request(const h2o_req_t *req, const json_t *body, struct password_job *job)
{
    int too_long = 0, bearer = read_bearer(req, job);
    const char *new_password = auth_api_field(body, "new_password", 4 * PASSWORD_MAX_BYTES, &too_long);
    const char *current = auth_api_field(body, "current_password", PASSWORD_MAX_BYTES, &too_long);
    const char *mobile = auth_api_field(body, "mobile", 64, &too_long);
    const char *code = auth_api_field(body, "code", 64, &too_long);
    if (bearer < 0)
        return GW_ERR_TOKEN_INVALID;
    if (new_password == NULL || too_long || (bearer == 1 && (json_object_get(body, "client_id") != NULL || code != NULL)) ||
        (bearer == 0 && (auth_api_read_client(body, &job->client) != 0 || code == NULL || current != NULL)))
        return GW_ERR_BAD_REQUEST;
    if (bearer == 0 && (mobile == NULL || identifiers_mobile_normalise(mobile, strlen(mobile), job->mobile) != IDENTIFIER_OK))
        return GW_ERR_INVALID_MOBILE;
    if (bearer == 0 && !sms_code_is_wellformed(code, strlen(code)))
        return GW_ERR_INVALID_CREDENTIALS;
    /* the rules that need no account are checked here, before a code is spent; the mobile-number rule again on the worker */
    enum gateway_error rule =
        policy_error(password_policy_check(new_password, strlen(new_password), bearer == 0 ? job->mobile : NULL));
    if (rule != GW_ERR__COUNT)
        return rule;
    if (code != NULL)
        memcpy(job->code, code, SMS_CODE_BUFSIZE);
    job->new_password = xstrdup(new_password);
    job->current_password = current != NULL ? xstrdup(current) : NULL;
    return GW_ERR__COUNT;
}

void auth_api_password(struct request_ctx *rc)
{
    static const char *const fields[] = {"client_id", "client_secret", "mobile", "code", "new_password", "current_password", NULL};
    json_t *body = auth_api_read_body(rc, fields);
    if (body == NULL)
        return;
    struct password_job *job = xcalloc(1, sizeof(*job));
    enum gateway_error error = read_request(rc->req, body, job);
    json_decref(body);
    if (error != GW_ERR__COUNT) {
        if (error == GW_ERR_TOKEN_INVALID)
            h2o_add_header(&rc->req->pool, &rc->req->res.headers, H2O_TOKEN_WWW_AUTHENTICATE, NULL,
                           H2O_STRLIT("Bearer realm=\"yiwang\", error=\"invalid_token\""));
        request_send_error(rc, error);
        destroy(&job->ar);
        return;
    }
    memcpy(job->client_ip, rc->client_ip, sizeof(job->client_ip));
    async_request_start(rc, &job->ar, work, respond, destroy);
}
