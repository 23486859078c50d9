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

#include "auth/identifiers.h"
#include "auth/sms.h"
#include "common/xalloc.h"
#include "gateway/auth_api_common.h"
#include "gateway/oauth_response.h"
#include "gateway/sign_in_steps.h"

struct sms_job {
    struct async_request ar; /* first: the job is freed through it */
    struct api_client client;
    char mobile[IDENTIFIERS_MOBILE_BUFSIZE];
    enum sms_purpose purpose;
    char client_ip[INET6_ADDRSTRLEN];
    struct api_outcome outcome;
    unsigned resend_after_s;
};

static void work(struct async_request *ar, struct worker_ctx *ctx)
{
    struct sms_job *job = (struct sms_job *)ar;
    struct oauth_client client;
    struct db *db = auth_api_db(ar, ctx, &job->outcome);
    if (db == NULL || auth_api_authenticate(db, ar, &job->client, &client, &job->outcome) != 0)
        return;
    oauth_client_clear(&client);
    sign_in_send_code(db, ar, job->mobile, job->purpose, job->client_ip, &job->resend_after_s, &job->outcome);
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
    oauth_send_json(rc, 202, "Accepted", &body);
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
