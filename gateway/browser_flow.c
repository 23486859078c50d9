#include "gateway/browser_flow.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "auth/authz_codes.h"
#include "auth/consents.h"
#include "auth/identifiers.h"
#include "auth/legal_persons.h"
#include "auth/password.h"
#include "auth/sms.h"
#include "common/log.h"
#include "common/xalloc.h"
#include "gateway/async_request.h"
#include "gateway/authz_request.h"
#include "gateway/browser_cookies.h"
#include "gateway/browser_pages.h"
#include "gateway/loop_thread.h"
#include "gateway/server.h"
#include "gateway/sign_in_steps.h"

/* A form is the authorization request, a token, a mobile number and a password: a few kilobytes at most. */
#define MAX_FORM_BODY 16384

enum job_kind {
    JOB_AUTHORIZE,
    JOB_SEND_CODE,
    JOB_LOGIN,
    JOB_CONSENT,
};

enum job_answer {
    ANSWER_ERROR_PAGE,
    ANSWER_REDIRECT,
    ANSWER_LOGIN_PAGE,
    ANSWER_CONSENT_PAGE,
};

struct browser_job {
    struct async_request ar; /* first: the job is freed through it */
    enum job_kind kind;
    int is_post;
    struct authz_request authz;
    char sso[SECRETS_TOKEN_BUFSIZE]; /* the SSO cookie; "" when none */
    char mobile[IDENTIFIERS_MOBILE_BUFSIZE];
    int bad_mobile;
    char code[SMS_CODE_BUFSIZE]; /* "" unless an SMS login */
    char *password;              /* NULL unless a password login */
    size_t password_len;
    int approve;
    char client_ip[INET6_ADDRSTRLEN];
    /* the answer, decided on the worker */
    enum job_answer answer;
    int status;
    const char *page_error;
    enum login_notice notice;
    const char *failure; /* the failed sign-in step's error code, for the access log; NULL */
    unsigned retry_after_s;
    char *location;
    size_t location_len;
    char new_sso[SECRETS_TOKEN_BUFSIZE]; /* a session was created or re-authenticated: set the cookie */
    unsigned sso_max_age;
    int clear_sso; /* the cookie named a session that is over */
    char client_name[sizeof(((struct oauth_client *)0)->name)];
    char scope[AUTHZ_SCOPE_MAX + 1];
    char org[IDENTIFIERS_USCC_BUFSIZE]; /* for the consent page: the legal person the app would act for; "" for none */
};

/* ---- the worker's answers ---- */

static void answer_page_error(struct browser_job *job, int status, const char *error)
{
    job->answer = ANSWER_ERROR_PAGE;
    job->status = status;
    job->page_error = error;
}

static void answer_unavailable(struct browser_job *job, const char *what, char *err)
{
    log_error("browser sign-in: %s: %s", what, err != NULL ? err : "unknown error");
    free(err);
    answer_page_error(job, 503, "temporarily_unavailable");
}

static void answer_login_page(struct browser_job *job, int status, enum login_notice notice)
{
    job->answer = ANSWER_LOGIN_PAGE;
    job->status = status;
    job->notice = notice;
}

/* After a GET the browser follows a 302; after a form POST a 303 makes it GET the redirect URI. */
static void answer_redirect(struct browser_job *job, struct strbuf *location)
{
    job->answer = ANSWER_REDIRECT;
    job->status = job->is_post ? 303 : 302;
    job->location = strbuf_detach(location, &job->location_len);
}

static void answer_redirect_error(struct browser_job *job, const char *error, const char *description)
{
    struct strbuf location = STRBUF_INIT;
    authz_redirect_location(&location, &job->authz, NULL, error, description, job->ar.snapshot->config->identity.issuer);
    answer_redirect(job, &location);
}

/* Shows the failed sign-in step's error on the login page. */
static void answer_login_failure(struct browser_job *job, const struct api_outcome *outcome)
{
    job->retry_after_s = outcome->retry_after_s;
    job->failure = gateway_error_info(outcome->error)->code;
    switch (outcome->error) {
    case GW_ERR_INVALID_CREDENTIALS:
        answer_login_page(job, 401, LOGIN_NOTICE_INVALID_CREDENTIALS);
        break;
    case GW_ERR_INVALID_MOBILE:
        answer_login_page(job, 400, LOGIN_NOTICE_INVALID_MOBILE);
        break;
    case GW_ERR_TOO_MANY_ATTEMPTS:
        answer_login_page(job, 429, LOGIN_NOTICE_TOO_MANY_ATTEMPTS);
        break;
    case GW_ERR_SMS_TOO_SOON:
        answer_login_page(job, 429, LOGIN_NOTICE_SMS_TOO_SOON);
        break;
    case GW_ERR_SMS_DAILY_LIMIT:
        answer_login_page(job, 429, LOGIN_NOTICE_SMS_LIMIT);
        break;
    case GW_ERR_ACCOUNT_DISABLED:
        answer_login_page(job, 403, LOGIN_NOTICE_ACCOUNT_DISABLED);
        break;
    default:
        answer_login_page(job, 503, LOGIN_NOTICE_UNAVAILABLE);
    }
}

/* Input refused before any sign-in step ran. */
static void answer_login_refused(struct browser_job *job, enum gateway_error error)
{
    const struct api_outcome outcome = {.failed = 1, .error = error};
    answer_login_failure(job, &outcome);
}

/* ---- the worker's steps ---- */

/* The session of the SSO cookie: 1 live (`out` filled), 0 none, -1 after answering an error. */
static int resume_session(struct browser_job *job, struct db *db, struct session *out)
{
    if (job->sso[0] == '\0')
        return 0;
    char *err = NULL;
    const struct identity_config *identity = &job->ar.snapshot->config->identity;
    int live =
        sessions_resume(db, job->ar.server->identity_keys.token_hash, &identity->sessions, job->sso, strlen(job->sso), out, &err);
    if (live < 0) {
        answer_unavailable(job, "cannot resume the session", err);
        return -1;
    }
    job->clear_sso = live == 0;
    return live;
}

static void issue_code(struct browser_job *job, struct db *db, const struct oauth_client *client, const struct authz_decision *d,
                       const struct session *session)
{
    const struct identity_config *identity = &job->ar.snapshot->config->identity;
    const struct authz_code_spec spec = {
        .client_id = client->client_id,
        .redirect_uri = authz_get(&job->authz, AUTHZ_REDIRECT_URI),
        .code_challenge = authz_get(&job->authz, AUTHZ_CODE_CHALLENGE),
        .nonce = d->openid ? authz_get(&job->authz, AUTHZ_NONCE) : NULL,
        .sid = session->sid,
        .scope = d->scope,
        .org = d->org[0] != '\0' ? d->org : NULL,
        .ttl_s = identity->oidc.authorization_code_ttl_s,
    };
    char code[SECRETS_TOKEN_BUFSIZE], *err = NULL;
    if (authz_codes_issue(db, job->ar.server->identity_keys.token_hash, &spec, code, &err) != 0) {
        answer_unavailable(job, "cannot issue the code", err);
        return;
    }
    struct strbuf location = STRBUF_INIT;
    authz_redirect_location(&location, &job->authz, code, NULL, NULL, identity->issuer);
    secrets_wipe(code, sizeof(code));
    answer_redirect(job, &location);
}

/*
 * Acting for a legal person needs the signed-in person to be its agent now. Asked only once the person is known (from
 * their credentials or their session), so the answer tells a stranger nothing; asked again before every code, as the
 * request in the forms' hidden fields may have changed. 1 go on, 0 after answering.
 */
static int may_act_for_org(struct browser_job *job, struct db *db, const struct authz_decision *d, const struct session *session)
{
    if (d->org[0] == '\0')
        return 1;
    char code[IDENTIFIERS_USCC_BUFSIZE], *err = NULL;
    int allowed = legal_persons_may_act_for(db, session->account_id, d->org, code, &err);
    if (allowed < 0) {
        answer_unavailable(job, "cannot check the legal person", err);
        return 0;
    }
    if (allowed == 0)
        answer_redirect_error(job, "access_denied", "The person may not act for this legal person.");
    return allowed;
}

/* The person is signed in: ask for consent if a third party needs it, else issue the code. */
static void continue_signed_in(struct browser_job *job, struct db *db, const struct oauth_client *client,
                               const struct authz_decision *d, const struct session *session)
{
    if (!may_act_for_org(job, db, d, session))
        return;
    if (!client->first_party) {
        char *err = NULL;
        /*
         * A remembered consent covers the client and the scope, not a legal person: a third party acting for one asks
         * every time, so an app the person once allowed cannot act for their enterprise behind their back.
         */
        int asks = (d->prompt & AUTHZ_PROMPT_CONSENT) || d->org[0] != '\0';
        int covered = asks ? 0 : consents_cover(db, session->account_id, client->client_id, d->scope, &err);
        if (covered < 0) {
            answer_unavailable(job, "cannot read the consents", err);
            return;
        }
        if (!covered) {
            if (d->prompt & AUTHZ_PROMPT_NONE) {
                answer_redirect_error(job, "consent_required", "The person has not allowed this client the requested scope.");
                return;
            }
            job->answer = ANSWER_CONSENT_PAGE;
            job->status = 200;
            snprintf(job->scope, sizeof(job->scope), "%s", d->scope);
            snprintf(job->org, sizeof(job->org), "%s", d->org);
            return;
        }
    }
    issue_code(job, db, client, d, session);
}

static void authorize(struct browser_job *job, struct db *db, const struct oauth_client *client, const struct authz_decision *d)
{
    struct session session;
    int live = resume_session(job, db, &session);
    if (live < 0)
        return;
    /* max_age=0 asks for a sign-in now, like prompt=login; otherwise an older sign-in than max_age seconds */
    int too_old = live && d->max_age >= 0 && (d->max_age == 0 || (int64_t)time(NULL) - session.auth_time > d->max_age);
    if (!live || too_old || (d->prompt & AUTHZ_PROMPT_LOGIN)) {
        if (d->prompt & AUTHZ_PROMPT_NONE)
            answer_redirect_error(job, "login_required", "The person is not signed in.");
        else
            answer_login_page(job, 200, LOGIN_NOTICE_NONE);
        return;
    }
    continue_signed_in(job, db, client, d, &session);
}

static void send_code(struct browser_job *job, struct db *db)
{
    struct api_outcome outcome = {0};
    unsigned resend_after_s = 0;
    if (sign_in_send_code(db, &job->ar, job->mobile, SMS_PURPOSE_LOGIN, job->client_ip, &resend_after_s, &outcome) != 0)
        answer_login_failure(job, &outcome);
    else
        answer_login_page(job, 200, LOGIN_NOTICE_CODE_SENT);
}

/*
 * The same person signing in again in this browser keeps the session (and its sid, which every app's tokens carry) with
 * a new opaque id and auth_time; anybody else gets a new session.
 */
static int establish_session(struct browser_job *job, struct db *db, const struct oauth_client *client,
                             const struct account *account, struct session *out)
{
    const struct identity_config *identity = &job->ar.snapshot->config->identity;
    const unsigned char *key = job->ar.server->identity_keys.token_hash;
    enum session_amr amr = job->password != NULL ? SESSION_AMR_PWD : SESSION_AMR_SMS;
    struct session current;
    char *err = NULL;
    int live = resume_session(job, db, &current);
    if (live < 0)
        return -1;
    job->sso_max_age = identity->sessions.absolute_timeout_s;
    if (live && strcmp(current.account_id, account->id) == 0) {
        int done = sessions_reauthenticate(db, key, &identity->sessions, current.sid, account, amr, job->new_sso, out, &err);
        if (done == 1)
            return 0;
        if (done < 0) {
            answer_unavailable(job, "cannot re-authenticate the session", err);
            return -1;
        }
    }
    if (sessions_create(db, key, &identity->sessions, account, amr, client->client_id, job->new_sso, out, &err) != 0) {
        job->new_sso[0] = '\0';
        answer_unavailable(job, "cannot create the session", err);
        return -1;
    }
    return 0;
}

static void login(struct browser_job *job, struct db *db, const struct oauth_client *client, const struct authz_decision *d)
{
    const struct sign_in_credentials cred = {.mobile = job->mobile,
                                             .code = job->password == NULL ? job->code : NULL,
                                             .password = job->password,
                                             .password_len = job->password_len,
                                             .client_ip = job->client_ip};
    struct api_outcome outcome = {0};
    struct account account;
    struct session session;
    if (sign_in_check_credentials(db, &job->ar, &cred, &account, &outcome) != 0)
        answer_login_failure(job, &outcome);
    else if (establish_session(job, db, client, &account, &session) == 0)
        continue_signed_in(job, db, client, d, &session);
    secrets_wipe(&account, sizeof(account));
}

static void consent(struct browser_job *job, struct db *db, const struct oauth_client *client, const struct authz_decision *d)
{
    struct session session;
    char *err = NULL;
    int live = resume_session(job, db, &session);
    if (live <= 0) {
        if (live == 0)
            answer_login_page(job, 200, LOGIN_NOTICE_NONE); /* the session ended while the page was open */
        return;
    }
    if (!job->approve) {
        answer_redirect_error(job, "access_denied", "The person denied the request.");
        return;
    }
    if (!may_act_for_org(job, db, d, &session))
        return;
    if (consents_grant(db, session.account_id, client->client_id, d->scope, &err) != 0) {
        answer_unavailable(job, "cannot store the consent", err);
        return;
    }
    issue_code(job, db, client, d, &session);
}

static void run(struct browser_job *job, struct db *db, const struct oauth_client *client, const struct authz_decision *d)
{
    switch (job->kind) {
    case JOB_AUTHORIZE:
        authorize(job, db, client, d);
        break;
    case JOB_SEND_CODE:
        if (job->bad_mobile)
            answer_login_refused(job, GW_ERR_INVALID_MOBILE);
        else
            send_code(job, db);
        break;
    case JOB_LOGIN:
        if (job->bad_mobile)
            answer_login_refused(job, GW_ERR_INVALID_MOBILE);
        else if (job->password == NULL && job->code[0] == '\0')
            answer_login_refused(job, GW_ERR_INVALID_CREDENTIALS); /* cannot be right: spends no attempt */
        else
            login(job, db, client, d);
        break;
    case JOB_CONSENT:
        consent(job, db, client, d);
        break;
    }
}

static void work(struct async_request *ar, struct worker_ctx *ctx)
{
    struct browser_job *job = (struct browser_job *)ar;
    struct api_outcome outcome = {0};
    struct oauth_client client;
    char *err = NULL;
    memset(&client, 0, sizeof(client));
    struct db *db = auth_api_db(ar, ctx, &outcome);
    if (db == NULL) {
        answer_page_error(job, 503, "temporarily_unavailable");
        return;
    }
    const char *client_id = authz_get(&job->authz, AUTHZ_CLIENT_ID);
    int found = client_id != NULL && strlen(client_id) <= CLIENT_ID_MAX ? clients_load(db, client_id, &client, &err) : 0;
    if (found < 0) {
        answer_unavailable(job, "cannot load the client", err);
        return;
    }
    const char *problem = authz_request_target_problem(&job->authz, found == 1 ? &client : NULL);
    struct authz_decision decision;
    const char *description = NULL, *error = NULL;
    if (problem != NULL) {
        answer_page_error(job, 400, problem);
    } else if ((error = authz_request_check(&job->authz, &client, &decision, &description)) != NULL) {
        answer_redirect_error(job, error, description);
    } else {
        snprintf(job->client_name, sizeof(job->client_name), "%s", client.name);
        run(job, db, &client, &decision);
    }
    oauth_client_clear(&client);
}

/* ---- back on the loop ---- */

static void send_form_page(struct request_ctx *rc, struct browser_job *job, enum page_locale locale)
{
    h2o_req_t *req = rc->req;
    char binding[SECRETS_TOKEN_BUFSIZE], token[BROWSER_CSRF_TOKEN_BUFSIZE];
    if (browser_csrf_binding(req, binding) != 0 ||
        browser_csrf_token(rc->thread->server->identity_keys.csrf, binding, token) != 0) {
        browser_page_error(rc, 503, locale, "temporarily_unavailable");
        return;
    }
    if (job->answer == ANSWER_CONSENT_PAGE) {
        const struct consent_page page = {
            .authz = &job->authz,
            .client_name = job->client_name,
            .scope = job->scope,
            .org = job->org[0] != '\0' ? job->org : NULL,
            .csrf_token = token,
        };
        browser_page_consent(rc, locale, &page);
        return;
    }
    if (job->status == 429) {
        char *value = h2o_mem_alloc_pool(&req->pool, 16);
        int n = snprintf(value, 16, "%u", job->retry_after_s > 0 ? job->retry_after_s : 1);
        h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_RETRY_AFTER, NULL, value, (size_t)n);
    }
    if (job->failure != NULL)
        rc->error_code = job->failure;
    const struct login_page page = {.authz = &job->authz,
                                    .client_name = job->client_name,
                                    .csrf_token = token,
                                    .mobile = job->mobile[0] != '\0' ? job->mobile : NULL,
                                    .notice = job->notice,
                                    .retry_after_s = job->status == 429 ? job->retry_after_s : 0};
    browser_page_login(rc, job->status, locale, &page);
}

static void respond(struct async_request *ar, struct request_ctx *rc)
{
    struct browser_job *job = (struct browser_job *)ar;
    h2o_req_t *req = rc->req;
    enum page_locale locale = browser_page_locale(req, authz_get(&job->authz, AUTHZ_UI_LOCALES));
    if (job->new_sso[0] != '\0')
        browser_cookie_set(req, BROWSER_SSO_COOKIE, job->new_sso, SECRETS_TOKEN_LEN, job->sso_max_age);
    else if (job->clear_sso)
        browser_cookie_clear(req, BROWSER_SSO_COOKIE);
    switch (job->answer) {
    case ANSWER_ERROR_PAGE:
        browser_page_error(rc, job->status, locale, job->page_error);
        break;
    case ANSWER_REDIRECT:
        browser_redirect(rc, job->status, job->location, job->location_len);
        break;
    case ANSWER_LOGIN_PAGE:
    case ANSWER_CONSENT_PAGE:
        send_form_page(rc, job, locale);
        break;
    }
}

static void destroy(struct async_request *ar)
{
    struct browser_job *job = (struct browser_job *)ar;
    authz_request_free(&job->authz);
    if (job->password != NULL) {
        secrets_wipe(job->password, job->password_len);
        free(job->password);
    }
    if (job->location != NULL) {
        secrets_wipe(job->location, job->location_len); /* holds a code */
        free(job->location);
    }
    secrets_wipe(job, sizeof(*job));
    free(job);
}

/* ---- the loop's part: parse, check the anti-forgery token, hand over ---- */

static int is_method(const h2o_req_t *req, const char *method, size_t len)
{
    return h2o_memis(req->method.base, req->method.len, method, len);
}

static int is_form_body(const h2o_req_t *req)
{
    h2o_iovec_t type = request_header(req, H2O_STRLIT("content-type"));
    return type.base != NULL && type.len >= 33 && h2o_lcstris(type.base, 33, H2O_STRLIT("application/x-www-form-urlencoded"));
}

/* Parses the POST body as a form; answers 405/400/413 and returns -1 when it is not one. */
static int read_post_form(struct request_ctx *rc, struct form *form)
{
    h2o_req_t *req = rc->req;
    enum page_locale locale = browser_page_locale(req, NULL);
    if (!is_method(req, H2O_STRLIT("POST"))) {
        h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_ALLOW, NULL, H2O_STRLIT("POST"));
        request_send_error(rc, GW_ERR_METHOD_NOT_ALLOWED);
        return -1;
    }
    if (req->entity.len > MAX_FORM_BODY) {
        request_send_error(rc, GW_ERR_BODY_TOO_LARGE);
        return -1;
    }
    if (!is_form_body(req) ||
        form_parse(form, req->entity.base != NULL ? req->entity.base : "", req->entity.len, NULL) != FORM_OK) {
        browser_page_error(rc, 400, locale, "invalid_request");
        return -1;
    }
    return 0;
}

static struct browser_job *new_job(struct request_ctx *rc, enum job_kind kind, const struct form *form)
{
    struct browser_job *job = xcalloc(1, sizeof(*job));
    job->kind = kind;
    job->is_post = is_method(rc->req, H2O_STRLIT("POST"));
    if (authz_request_read(&job->authz, form) != 0) {
        browser_page_error(rc, 400, browser_page_locale(rc->req, NULL), "invalid_request");
        destroy(&job->ar);
        return NULL;
    }
    h2o_iovec_t sso = browser_cookie_find(rc->req, BROWSER_SSO_COOKIE);
    if (sso.base != NULL && secrets_token_is_wellformed(sso.base, sso.len)) {
        memcpy(job->sso, sso.base, SECRETS_TOKEN_LEN);
        job->sso[SECRETS_TOKEN_LEN] = '\0';
    }
    memcpy(job->client_ip, rc->client_ip, sizeof(job->client_ip));
    return job;
}

/* A form POST must carry the token of this browser's CSRF cookie: a page on another site can do neither. */
static int csrf_ok(struct request_ctx *rc, const struct form *form)
{
    const struct server *server = rc->thread->server;
    const char *token = form_get(form, "csrf_token");
    if (!server->has_identity_keys) {
        browser_page_error(rc, 503, browser_page_locale(rc->req, NULL), "temporarily_unavailable");
        return 0;
    }
    if (token == NULL || !browser_csrf_check(rc->req, server->identity_keys.csrf, token)) {
        browser_page_error(rc, 403, browser_page_locale(rc->req, NULL), "csrf_check_failed");
        return 0;
    }
    return 1;
}

void browser_authorize(struct request_ctx *rc)
{
    h2o_req_t *req = rc->req;
    struct form form;
    /* no HEAD: with a session, answering issues a code, which a request that cannot see the body has no use for */
    if (is_method(req, H2O_STRLIT("GET"))) {
        const char *query = req->query_at != SIZE_MAX ? req->path.base + req->query_at + 1 : "";
        size_t len = req->query_at != SIZE_MAX ? req->path.len - req->query_at - 1 : 0;
        if (form_parse(&form, query, len, NULL) != FORM_OK) {
            browser_page_error(rc, 400, browser_page_locale(req, NULL), "invalid_request");
            return;
        }
    } else if (!is_method(req, H2O_STRLIT("POST"))) {
        h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_ALLOW, NULL, H2O_STRLIT("GET, POST"));
        request_send_error(rc, GW_ERR_METHOD_NOT_ALLOWED);
        return;
    } else if (read_post_form(rc, &form) != 0) {
        return;
    }
    struct browser_job *job = new_job(rc, JOB_AUTHORIZE, &form);
    form_clear(&form);
    if (job != NULL)
        async_request_start(rc, &job->ar, work, respond, destroy);
}

/* The person's input of a login form; the checks that need no database. */
static void read_login_input(struct browser_job *job, const struct form *form)
{
    const char *mobile = form_get(form, "mobile"), *code = form_get(form, "code"), *password = form_get(form, "password");
    if (mobile == NULL || identifiers_mobile_normalise(mobile, strlen(mobile), job->mobile) != IDENTIFIER_OK) {
        job->bad_mobile = 1;
        job->mobile[0] = '\0';
    }
    if (job->kind != JOB_LOGIN)
        return;
    if (password != NULL && password[0] != '\0' && strlen(password) <= PASSWORD_MAX_BYTES) {
        job->password_len = strlen(password);
        job->password = xstrdup(password);
    } else if (code != NULL && sms_code_is_wellformed(code, strlen(code))) {
        memcpy(job->code, code, SMS_CODE_BUFSIZE);
    }
}

void browser_login(struct request_ctx *rc)
{
    struct form form;
    if (read_post_form(rc, &form) != 0)
        return;
    const char *action = form_get(&form, "action");
    enum job_kind kind = JOB_LOGIN;
    int is_password = 0;
    if (!csrf_ok(rc, &form)) {
        form_clear(&form);
        return;
    }
    if (action != NULL && strcmp(action, "send_code") == 0) {
        kind = JOB_SEND_CODE;
    } else if (action != NULL && (strcmp(action, "sms") == 0 || (is_password = strcmp(action, "password") == 0))) {
        kind = JOB_LOGIN;
    } else {
        form_clear(&form);
        browser_page_error(rc, 400, browser_page_locale(rc->req, NULL), "invalid_request");
        return;
    }
    struct browser_job *job = new_job(rc, kind, &form);
    if (job != NULL) {
        read_login_input(job, &form);
        if (job->password != NULL && !is_password) { /* the button says which credential counts */
            secrets_wipe(job->password, job->password_len);
            free(job->password);
            job->password = NULL;
        }
        if (is_password)
            job->code[0] = '\0';
    }
    form_clear(&form);
    if (job != NULL)
        async_request_start(rc, &job->ar, work, respond, destroy);
}

void browser_consent(struct request_ctx *rc)
{
    struct form form;
    if (read_post_form(rc, &form) != 0)
        return;
    const char *decision = form_get(&form, "decision");
    if (!csrf_ok(rc, &form)) {
        form_clear(&form);
        return;
    }
    if (decision == NULL || (strcmp(decision, "approve") != 0 && strcmp(decision, "deny") != 0)) {
        form_clear(&form);
        browser_page_error(rc, 400, browser_page_locale(rc->req, NULL), "invalid_request");
        return;
    }
    struct browser_job *job = new_job(rc, JOB_CONSENT, &form);
    if (job != NULL)
        job->approve = strcmp(decision, "approve") == 0;
    form_clear(&form);
    if (job != NULL)
        async_request_start(rc, &job->ar, work, respond, destroy);
}
