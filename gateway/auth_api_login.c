/*
 * auth_api_login.c — POST /v1/auth/login: {"client_id", "mobile", "code"}
 * or {"client_id", "mobile", "password"} (plus "client_secret" for a
 * confidential app, an optional "scope" and an optional "org") -> 200 with an
 * access token, a refresh token, the granted scope and the SSO session id.
 * "org" is the unified social credit code of a legal person the person signs
 * in to act for (auth/legal_persons.h): their tokens then carry it.
 *
 * A first SMS login registers the number (assurance level 1). Every way of
 * getting the credentials wrong — unknown number, no password set, wrong
 * password, wrong, used or expired code — is the same 401 with the same
 * body, and a password login for a number without an account or without a
 * password costs a dummy Argon2id verification, so neither the answer nor
 * its timing tells whether an account exists. Before anything is checked the
 * attempt is charged to the login guard, per client address and (for
 * passwords) per mobile number, whether or not the account exists; a locked
 * key gets 429 with Retry-After. An SMS login lifts the number's lock.
 */
#include "gateway/auth_api.h"

#include <stdlib.h>
#include <string.h>

#include "auth/identifiers.h"
#include "auth/legal_persons.h"
#include "auth/password.h"
#include "auth/sms.h"
#include "common/xalloc.h"
#include "gateway/auth_api_common.h"
#include "gateway/oauth_response.h"
#include "gateway/sign_in_steps.h"

struct login_job {
    struct async_request ar; /* first: the job is freed through it */
    struct api_client client;
    char mobile[IDENTIFIERS_MOBILE_BUFSIZE];
    char code[SMS_CODE_BUFSIZE];
    char *password; /* NULL: an SMS login */
    size_t password_len;
    char *scope;                        /* requested; NULL = everything the client may have */
    char org[IDENTIFIERS_USCC_BUFSIZE]; /* the legal person to act for, normalised; "" for none */
    char client_ip[INET6_ADDRSTRLEN];
    struct api_outcome outcome;
    struct api_tokens tokens;
};

static int authenticate_person(struct login_job *job, struct db *db, struct account *account)
{
    const struct sign_in_credentials cred = {.mobile = job->mobile,
                                             .code = job->password == NULL ? job->code : NULL,
                                             .password = job->password,
                                             .password_len = job->password_len,
                                             .client_ip = job->client_ip};
    return sign_in_check_credentials(db, &job->ar, &cred, account, &job->outcome);
}

/* Asked only after the credentials are proven: a stranger learns nothing about who acts for whom. 0 or -1. */
static int may_act_for_org(struct login_job *job, struct db *db, const struct account *account)
{
    if (job->org[0] == '\0')
        return 0;
    char code[IDENTIFIERS_USCC_BUFSIZE], *err = NULL;
    int allowed = legal_persons_may_act_for(db, account->id, job->org, code, &err);
    if (allowed < 0)
        return auth_api_unavailable(&job->outcome, "cannot check the legal person", err);
    return allowed ? 0 : auth_api_fail(&job->outcome, GW_ERR_ORG_NOT_PERMITTED, 0);
}

static void work(struct async_request *ar, struct worker_ctx *ctx)
{
    struct login_job *job = (struct login_job *)ar;
    struct oauth_client client;
    struct account account;
    char scope[AUTH_API_SCOPE_MAX + 1];
    struct db *db = auth_api_db(ar, ctx, &job->outcome);
    if (db == NULL || auth_api_authenticate(db, ar, &job->client, &client, &job->outcome) != 0)
        return;
    if (clients_resolve_scope(&client, job->scope, scope, sizeof(scope)) != 0)
        auth_api_fail(&job->outcome, GW_ERR_INVALID_SCOPE, 0);
    else if (authenticate_person(job, db, &account) == 0 && may_act_for_org(job, db, &account) == 0)
        auth_api_sign_in(db, ar, &client, &account, job->password != NULL ? SESSION_AMR_PWD : SESSION_AMR_SMS, scope,
                         job->org[0] != '\0' ? job->org : NULL, &job->tokens, &job->outcome);
    oauth_client_clear(&client);
    secrets_wipe(&account, sizeof(account));
}

static void respond(struct async_request *ar, struct request_ctx *rc)
{
    struct login_job *job = (struct login_job *)ar;
    if (job->outcome.failed) {
        auth_api_send_error(rc, &job->outcome);
        return;
    }
    struct strbuf body = STRBUF_INIT;
    strbuf_append_char(&body, '{');
    auth_api_append_tokens(&body, &job->tokens);
    strbuf_append_char(&body, '}');
    oauth_send_json(rc, 200, "OK", &body);
}

static void destroy(struct async_request *ar)
{
    struct login_job *job = (struct login_job *)ar;
    auth_api_client_clear(&job->client);
    if (job->password != NULL) {
        secrets_wipe(job->password, job->password_len);
        free(job->password);
    }
    free(job->scope);
    auth_api_tokens_clear(&job->tokens);
    secrets_wipe(job->code, sizeof(job->code));
    free(job);
}

/* Fills the job from the body: GW_ERR__COUNT when it is acceptable, else the error to answer. */
static enum gateway_error read_request(const json_t *body, struct login_job *job)
{
    int too_long = 0;
    const char *mobile = auth_api_field(body, "mobile", 64, &too_long);
    const char *code = auth_api_field(body, "code", 64, &too_long);
    const char *password = auth_api_field(body, "password", PASSWORD_MAX_BYTES, &too_long);
    const char *scope = auth_api_field(body, "scope", AUTH_API_SCOPE_MAX, &too_long);
    const char *org = auth_api_field(body, "org", 64, &too_long);
    if (auth_api_read_client(body, &job->client) != 0 || too_long || (code == NULL) == (password == NULL))
        return GW_ERR_BAD_REQUEST;
    if (mobile == NULL || identifiers_mobile_normalise(mobile, strlen(mobile), job->mobile) != IDENTIFIER_OK)
        return GW_ERR_INVALID_MOBILE;
    if (code != NULL && !sms_code_is_wellformed(code, strlen(code)))
        return GW_ERR_INVALID_CREDENTIALS; /* cannot be right: no need to spend an attempt on it */
    if (password != NULL && password[0] == '\0')
        return GW_ERR_INVALID_CREDENTIALS;
    if (org != NULL && identifiers_uscc_normalise(org, strlen(org), job->org) != IDENTIFIER_OK)
        return GW_ERR_INVALID_ORG;
    if (code != NULL)
        memcpy(job->code, code, SMS_CODE_BUFSIZE);
    if (password != NULL) {
        job->password_len = strlen(password);
        job->password = xstrdup(password);
    }
    job->scope = scope != NULL ? xstrdup(scope) : NULL;
    return GW_ERR__COUNT;
}

void auth_api_login(struct request_ctx *rc)
{
    static const char *const fields[] = {"client_id", "client_secret", "mobile", "code", "password", "scope", "org", NULL};
    json_t *body = auth_api_read_body(rc, fields);
    if (body == NULL)
        return;
    struct login_job *job = xcalloc(1, sizeof(*job));
    enum gateway_error error = read_request(body, job);
    json_decref(body);
    if (error != GW_ERR__COUNT) {
        request_send_error(rc, error);
        destroy(&job->ar);
        return;
    }
    memcpy(job->client_ip, rc->client_ip, sizeof(job->client_ip));
    async_request_start(rc, &job->ar, work, respond, destroy);
}
