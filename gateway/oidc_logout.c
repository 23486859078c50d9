#include "gateway/oidc_logout.h"

#include <openssl/crypto.h>
#include <stdlib.h>
#include <string.h>

#include "auth/clients.h"
#include "auth/id_token.h"
#include "auth/sessions.h"
#include "common/form.h"
#include "common/log.h"
#include "common/strbuf.h"
#include "common/xalloc.h"
#include "gateway/async_request.h"
#include "gateway/browser_cookies.h"
#include "gateway/oidc_logout_pages.h"
#include "gateway/server.h"

#define MAX_PARAMS_LEN 16384

enum logout_mode {
    MODE_ASK,       /* GET without a hint: confirm first */
    MODE_CONFIRMED, /* the confirmation form's POST, anti-forgery token checked */
    MODE_HINTED,    /* a valid id_token_hint */
};

enum logout_outcome {
    OUTCOME_DONE,    /* ended (or nothing to end): redirect or "signed out" */
    OUTCOME_CONFIRM, /* show the confirmation page */
    OUTCOME_PROBLEM,
};

struct logout_job {
    struct async_request ar; /* first: the job is freed through it */
    enum logout_mode mode;
    struct id_token_hint hint; /* when MODE_HINTED */
    char *client_id;           /* from the request or the hint; NULL: unknown */
    char *redirect_uri;
    char *state;
    char *ui_locales;
    char cookie[SECRETS_TOKEN_BUFSIZE]; /* the SSO cookie; "" when none */
    enum logout_outcome outcome;
    enum logout_problem problem;
};

/* ---- the worker's part ---- */

static enum logout_outcome problem(struct logout_job *job, enum logout_problem which)
{
    job->problem = which;
    return OUTCOME_PROBLEM;
}

static enum logout_outcome unavailable(struct logout_job *job, char *err)
{
    log_error("logout endpoint: %s", err != NULL ? err : "failed");
    free(err);
    return problem(job, LOGOUT_UNAVAILABLE);
}

/* Checked before anything is ended or shown: where the browser may be sent afterwards. */
static enum logout_outcome check_client(struct logout_job *job, struct db *db)
{
    if (job->client_id == NULL)
        return job->redirect_uri == NULL ? OUTCOME_DONE : problem(job, LOGOUT_UNKNOWN_CLIENT);
    struct oauth_client client;
    char *err = NULL;
    int found = clients_load(db, job->client_id, &client, &err);
    if (found < 0)
        return unavailable(job, err);
    enum logout_outcome outcome = OUTCOME_DONE;
    if (found == 0 || !client.active)
        outcome = problem(job, LOGOUT_UNKNOWN_CLIENT);
    else if (job->redirect_uri != NULL && !clients_post_logout_redirect_uri_allowed(&client, job->redirect_uri))
        outcome = problem(job, LOGOUT_BAD_REDIRECT_URI);
    if (found == 1)
        oauth_client_clear(&client);
    return outcome;
}

/* The live session the SSO cookie names: 1 (`out` filled), 0 none, -1 error (logged). */
static int cookie_session(struct logout_job *job, struct db *db, const struct async_request *ar, struct session *out)
{
    if (job->cookie[0] == '\0')
        return 0;
    char *err = NULL;
    int live = sessions_resume(db, ar->server->identity_keys.token_hash, &ar->snapshot->config->identity.sessions, job->cookie,
                               strlen(job->cookie), out, &err);
    if (live < 0) {
        log_error("logout endpoint: %s", err);
        free(err);
    }
    return live;
}

static int hint_names(const struct id_token_hint *hint, const struct session *session)
{
    return hint->sid[0] != '\0' ? strcmp(hint->sid, session->sid) == 0 : strcmp(hint->subject, session->account_id) == 0;
}

static enum logout_outcome end_session(struct logout_job *job, struct db *db, const char *sid)
{
    char *err = NULL;
    int ended = sessions_end(db, sid, SESSION_END_LOGOUT, &err);
    if (ended < 0)
        return unavailable(job, err);
    if (ended == 1)
        log_info("session %s ended by logout%s%s", sid, job->client_id != NULL ? " from client " : "",
                 job->client_id != NULL ? job->client_id : "");
    return OUTCOME_DONE;
}

static enum logout_outcome decide(struct logout_job *job, struct db *db, const struct async_request *ar)
{
    struct session session;
    int live = cookie_session(job, db, ar, &session);
    if (live < 0)
        return problem(job, LOGOUT_UNAVAILABLE);
    switch (job->mode) {
    case MODE_ASK:
        return live ? OUTCOME_CONFIRM : OUTCOME_DONE; /* nothing to end: no reason to ask */
    case MODE_CONFIRMED:
        return live ? end_session(job, db, session.sid) : OUTCOME_DONE;
    default:
        if (live)
            return hint_names(&job->hint, &session) ? end_session(job, db, session.sid) : OUTCOME_CONFIRM;
        return job->hint.sid[0] != '\0' ? end_session(job, db, job->hint.sid) : OUTCOME_DONE;
    }
}

static void work(struct async_request *ar, struct worker_ctx *ctx)
{
    struct logout_job *job = (struct logout_job *)ar;
    const char *db_err = NULL;
    struct db *db = worker_ctx_db(ctx, &db_err);
    if (db == NULL || !ar->server->has_identity_keys) {
        job->outcome = unavailable(job, xstrdup(db == NULL ? db_err : "no master key"));
        return;
    }
    job->outcome = check_client(job, db);
    if (job->outcome == OUTCOME_DONE)
        job->outcome = decide(job, db, ar);
}

/* ---- answers ---- */

/* Percent-encodes all but RFC 3986's unreserved characters: state is the RP's opaque value, any bytes. */
static void append_query_value(struct strbuf *out, const char *value)
{
    static const char hex[] = "0123456789ABCDEF";
    for (const unsigned char *p = (const unsigned char *)value; *p != '\0'; p++) {
        if ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || strchr("-._~", *p) != NULL) {
            strbuf_append_char(out, (char)*p);
        } else {
            char escaped[3] = {'%', hex[*p >> 4], hex[*p & 15]};
            strbuf_append(out, escaped, 3);
        }
    }
}

static void redirect(struct request_ctx *rc, const struct logout_job *job)
{
    h2o_req_t *req = rc->req;
    struct strbuf location = STRBUF_INIT;
    strbuf_append_str(&location, job->redirect_uri);
    if (job->state != NULL) {
        strbuf_append_str(&location, strchr(job->redirect_uri, '?') != NULL ? "&state=" : "?state=");
        append_query_value(&location, job->state);
    }
    req->res.status = 302;
    req->res.reason = "Found";
    h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_LOCATION, NULL,
                   h2o_strdup(&req->pool, location.data, location.len).base, location.len);
    h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CACHE_CONTROL, NULL, H2O_STRLIT("no-store"));
    h2o_send_inline(req, H2O_STRLIT(""));
    strbuf_free(&location);
}

static void confirm(struct request_ctx *rc, const struct logout_job *job, enum page_locale locale)
{
    char binding[SECRETS_TOKEN_BUFSIZE], token[BROWSER_CSRF_TOKEN_BUFSIZE];
    if (browser_csrf_binding(rc->req, binding) != 0 ||
        browser_csrf_token(rc->thread->server->identity_keys.csrf, binding, token) != 0) {
        logout_page_problem(rc, locale, LOGOUT_UNAVAILABLE);
        return;
    }
    const struct logout_carry carry = {job->client_id, job->redirect_uri, job->state, job->ui_locales};
    logout_page_confirm(rc, locale, &carry, token);
}

static void respond(struct async_request *ar, struct request_ctx *rc)
{
    struct logout_job *job = (struct logout_job *)ar;
    enum page_locale locale = browser_page_locale(rc->req, job->ui_locales);
    switch (job->outcome) {
    case OUTCOME_DONE:
        browser_cookie_clear(rc->req, BROWSER_SSO_COOKIE);
        if (job->redirect_uri != NULL)
            redirect(rc, job);
        else
            logout_page_signed_out(rc, locale);
        break;
    case OUTCOME_CONFIRM:
        confirm(rc, job, locale);
        break;
    default:
        logout_page_problem(rc, locale, job->problem);
        break;
    }
}

static void destroy(struct async_request *ar)
{
    struct logout_job *job = (struct logout_job *)ar;
    OPENSSL_cleanse(job->cookie, sizeof(job->cookie));
    free(job->client_id);
    free(job->redirect_uri);
    free(job->state);
    free(job->ui_locales);
    free(job);
}

/* ---- the event loop's part ---- */

/* The query (GET) or the form body (POST). 0, or -1 when malformed. */
static int read_params(const h2o_req_t *req, int post, struct form *form)
{
    const char *text = "";
    size_t len = 0;
    if (post) {
        h2o_iovec_t type = request_header(req, H2O_STRLIT("content-type"));
        if (type.base == NULL || type.len < 33 || !h2o_lcstris(type.base, 33, H2O_STRLIT("application/x-www-form-urlencoded")))
            return -1;
        text = req->entity.base != NULL ? req->entity.base : "";
        len = req->entity.len;
    } else if (req->query_at != SIZE_MAX) {
        text = req->path.base + req->query_at + 1;
        len = req->path.len - req->query_at - 1;
    }
    return len <= MAX_PARAMS_LEN && form_parse(form, text, len, NULL) == FORM_OK ? 0 : -1;
}

static char *dup_param(const struct form *form, const char *name)
{
    const char *value = form_get(form, name);
    return value != NULL && value[0] != '\0' ? xstrdup(value) : NULL;
}

/* Fills the job; 0, or -1 with *which set. */
static int read_request(struct request_ctx *rc, const struct form *form, int post, struct logout_job *job,
                        enum logout_problem *which)
{
    const struct snapshot *snapshot = rc->holder->snapshot;
    const char *hint = form_get(form, "id_token_hint");
    job->client_id = dup_param(form, "client_id");
    job->redirect_uri = dup_param(form, "post_logout_redirect_uri");
    job->state = dup_param(form, "state");
    job->ui_locales = dup_param(form, "ui_locales");
    if (hint != NULL && hint[0] != '\0') {
        /* the RP proves the session with its ID token; client_id, if given too, must be that token's audience */
        if (id_token_read_hint(&snapshot->keyset, snapshot->config->identity.issuer, hint, strlen(hint), &job->hint) != 0 ||
            (job->client_id != NULL && strcmp(job->client_id, job->hint.client_id) != 0)) {
            *which = LOGOUT_BAD_HINT;
            return -1;
        }
        if (job->client_id == NULL)
            job->client_id = xstrdup(job->hint.client_id);
        job->mode = MODE_HINTED;
    } else if (post) {
        if (!browser_csrf_check(rc->req, rc->thread->server->identity_keys.csrf, form_get(form, "csrf_token"))) {
            *which = LOGOUT_FORGED;
            return -1;
        }
        job->mode = MODE_CONFIRMED;
    } else {
        job->mode = MODE_ASK;
    }
    h2o_iovec_t cookie = browser_cookie_find(rc->req, BROWSER_SSO_COOKIE);
    if (cookie.base != NULL && cookie.len < sizeof(job->cookie)) /* a longer one is no session id */
        memcpy(job->cookie, cookie.base, cookie.len);
    return 0;
}

void oidc_logout_endpoint(struct request_ctx *rc)
{
    h2o_req_t *req = rc->req;
    int post = h2o_memis(req->method.base, req->method.len, H2O_STRLIT("POST"));
    if (!post && !h2o_memis(req->method.base, req->method.len, H2O_STRLIT("GET"))) {
        h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_ALLOW, NULL, H2O_STRLIT("GET, POST"));
        request_send_error(rc, GW_ERR_METHOD_NOT_ALLOWED);
        return;
    }
    struct form form;
    if (read_params(req, post, &form) != 0) {
        logout_page_problem(rc, PAGE_ZH, LOGOUT_BAD_REQUEST);
        return;
    }
    struct logout_job *job = xcalloc(1, sizeof(*job));
    enum logout_problem which = LOGOUT_BAD_REQUEST;
    int ok = rc->thread->server->has_identity_keys && read_request(rc, &form, post, job, &which) == 0;
    form_clear(&form);
    if (!ok) {
        logout_page_problem(rc, browser_page_locale(rc->req, job->ui_locales),
                            rc->thread->server->has_identity_keys ? which : LOGOUT_UNAVAILABLE);
        destroy(&job->ar);
        return;
    }
    async_request_start(rc, &job->ar, work, respond, destroy);
}
