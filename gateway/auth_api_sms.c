/*
 * auth_api_sms.c — POST /v1/auth/sms {"client_id", "mobile", "purpose"}:
 * sends a one-time code. The answer is the same 202 whether or not an
 * account exists for the number (a first login registers it), so the
 * endpoint reveals nothing about who is registered; only the throttles
 * (429 with Retry-After) and a provider failure (503) differ, and they
 * depend on the number and the address, never on an account.
 */
#include "gateway/auth_api.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "auth/identifiers.h"
#include "auth/sms.h"
#include "auth/sms_provider.h"
#include "common/log.h"
#include "common/xalloc.h"
#include "gateway/auth_api_common.h"
#include "gateway/server.h"

struct sms_job {
    struct async_request ar; /* first: the job is freed through it */
    struct api_client client;
    char mobile[IDENTIFIERS_MOBILE_BUFSIZE];
    enum sms_purpose purpose;
    char client_ip[INET6_ADDRSTRLEN];
    struct api_outcome outcome;
    unsigned resend_after_s;
};

static int issue_and_send(struct sms_job *job, struct db *db, const struct sms_config *sms)
{
    char code[SMS_CODE_BUFSIZE], *err = NULL;
    unsigned retry = 0;
    int64_t now_ms = (int64_t)time(NULL) * 1000;
    enum sms_issue_status status = sms_issue(db, job->ar.server->identity_keys.sms_code_hash, sms, job->mobile, job->purpose,
                                             job->client_ip, now_ms / 1000, code, &retry, &err);
    switch (status) {
    case SMS_ISSUED:
        break;
    case SMS_TOO_SOON:
        return auth_api_fail(&job->outcome, GW_ERR_SMS_TOO_SOON, retry);
    case SMS_MOBILE_DAILY_LIMIT:
    case SMS_IP_DAILY_LIMIT:
        return auth_api_fail(&job->outcome, GW_ERR_SMS_DAILY_LIMIT, retry);
    default:
        return auth_api_unavailable(&job->outcome, "cannot issue an SMS code", err);
    }
    struct sms_message message = {.mobile = job->mobile,
                                  .code = code,
                                  .purpose = sms_purpose_name(job->purpose),
                                  .ttl_s = sms->code_ttl_s,
                                  .time_ms = now_ms};
    int sent = sms_provider_send(sms, &message, &err);
    secrets_wipe(code, sizeof(code));
    if (sent != 0) {
        log_error("sign-in: %s", err);
        free(err);
        return auth_api_fail(&job->outcome, GW_ERR_SMS_UNAVAILABLE, 0);
    }
    job->resend_after_s = sms->resend_interval_s;
    return 0;
}

static void work(struct async_request *ar, struct worker_ctx *ctx)
{
    struct sms_job *job = (struct sms_job *)ar;
    const struct sms_config *sms = &ar->snapshot->config->identity.sms;
    struct oauth_client client;
    struct db *db = auth_api_db(ar, ctx, &job->outcome);
    if (db == NULL || auth_api_authenticate(db, ar, &job->client, &client, &job->outcome) != 0)
        return;
    oauth_client_clear(&client);
    if (!sms->enabled) {
        auth_api_fail(&job->outcome, GW_ERR_SMS_UNAVAILABLE, 0);
        return;
    }
    issue_and_send(job, db, sms);
}

static void respond(struct async_request *ar, struct request_ctx *rc)
{
    struct sms_job *job = (struct sms_job *)ar;
    if (job->outcome.failed) {
        auth_api_send_error(rc, &job->outcome);
        return;
    }
    struct strbuf body = STRBUF_INIT;
    strbuf_appendf(&body, "{\"sent\":true,\"resend_after_s\":%u}", job->resend_after_s);
    auth_api_send_json(rc, 202, "Accepted", &body);
}

static void destroy(struct async_request *ar)
{
    struct sms_job *job = (struct sms_job *)ar;
    auth_api_client_clear(&job->client);
    free(job);
}

void auth_api_sms(struct request_ctx *rc)
{
    static const char *const fields[] = {"client_id", "client_secret", "mobile", "purpose", NULL};
    json_t *body = auth_api_read_body(rc, fields);
    if (body == NULL)
        return;
    struct sms_job *job = xcalloc(1, sizeof(*job));
    int too_long = 0;
    const char *mobile = auth_api_field(body, "mobile", 64, &too_long);
    const char *purpose = auth_api_field(body, "purpose", 32, &too_long);
    enum gateway_error error = GW_ERR__COUNT;
    if (auth_api_read_client(body, &job->client) != 0 || too_long ||
        (purpose != NULL && sms_purpose_from_name(purpose, &job->purpose) != 0))
        error = GW_ERR_BAD_REQUEST;
    else if (mobile == NULL || identifiers_mobile_normalise(mobile, strlen(mobile), job->mobile) != IDENTIFIER_OK)
        error = GW_ERR_INVALID_MOBILE;
    json_decref(body);
    if (error != GW_ERR__COUNT) {
        request_send_error(rc, error);
        destroy(&job->ar);
        return;
    }
    memcpy(job->client_ip, rc->client_ip, sizeof(job->client_ip));
    async_request_start(rc, &job->ar, work, respond, destroy);
}
