#include "gateway/oauth_revoke.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "auth/access_revocations.h"
#include "auth/access_token_read.h"
#include "auth/refresh_tokens.h"
#include "common/log.h"
#include "common/xalloc.h"
#include "gateway/async_request.h"
#include "gateway/oauth_client_auth.h"
#include "gateway/oauth_response.h"
#include "gateway/server.h"

struct revoke_job {
    struct async_request ar; /* first: the job is freed through it */
    struct oauth_credentials cred;
    char *token;
    int refresh_first; /* the hint said refresh_token */
    const char *error; /* RFC 6749 error code, NULL on success */
};

static const char *const UNAVAILABLE = "temporarily_unavailable";

/* 1 it was our access token (revoked now if it is the caller's), 0 not one, -1 error. */
static int revoke_access_token(struct revoke_job *job, struct db *db, const struct snapshot *snapshot)
{
    const struct identity_config *identity = &snapshot->config->identity;
    int64_t now = (int64_t)time(NULL);
    struct own_access_token at;
    if (!own_access_token_read(&snapshot->keyset, identity->issuer, job->token, strlen(job->token), now, &at))
        return 0;
    int rc = 1;
    /* another client's token, or one past its expiry (and skew): nothing to do, and the same answer */
    if (strcmp(at.client_id, job->cred.client_id) == 0 && at.jti[0] != '\0' && at.exp + (int64_t)identity->clock_skew_s > now) {
        char *err = NULL;
        if (access_revocations_add(db, at.jti, at.client_id, at.exp, ACCESS_REVOKED_BY_CLIENT, &err) != 0) {
            log_error("revocation endpoint: %s", err);
            free(err);
            rc = -1;
        } else {
            log_info("client %s revoked an access token (jti %s)", at.client_id, at.jti);
        }
    }
    own_access_token_clear(&at);
    return rc;
}

/* 1 revoked (or revoked already), 0 not the caller's refresh token, -1 error. */
static int revoke_refresh_token(struct revoke_job *job, struct db *db, const struct server *server)
{
    char *err = NULL;
    int rc = refresh_tokens_revoke_by_client(db, server->identity_keys.token_hash, job->token, strlen(job->token),
                                             job->cred.client_id, &err);
    if (rc < 0) {
        log_error("revocation endpoint: %s", err);
        free(err);
    } else if (rc == 1) {
        log_info("client %s revoked a refresh-token family", job->cred.client_id);
    }
    return rc;
}

static void work(struct async_request *ar, struct worker_ctx *ctx)
{
    struct revoke_job *job = (struct revoke_job *)ar;
    const char *db_err = NULL;
    struct db *db = worker_ctx_db(ctx, &db_err);
    if (db == NULL || !ar->server->has_identity_keys) {
        log_error("revocation endpoint: %s", db == NULL ? db_err : "no master key");
        job->error = UNAVAILABLE;
        return;
    }
    struct oauth_client client;
    enum oauth_client_auth_result auth = oauth_client_authenticate(db, ar->server, &job->cred, 1, &client, "revocation endpoint");
    if (auth != OAUTH_CLIENT_OK) {
        job->error = auth == OAUTH_CLIENT_INVALID ? "invalid_client" : UNAVAILABLE;
        return;
    }
    oauth_client_clear(&client);
    /* both kinds are always tried: the hint only says which first */
    int rc = job->refresh_first ? revoke_refresh_token(job, db, ar->server) : revoke_access_token(job, db, ar->snapshot);
    if (rc == 0)
        rc = job->refresh_first ? revoke_access_token(job, db, ar->snapshot) : revoke_refresh_token(job, db, ar->server);
    if (rc < 0)
        job->error = UNAVAILABLE;
}

static void respond(struct async_request *ar, struct request_ctx *rc)
{
    struct revoke_job *job = (struct revoke_job *)ar;
    if (job->error != NULL) {
        oauth_send_error(rc, job->error,
                         job->error == UNAVAILABLE ? "The service is temporarily unavailable." : "Client authentication failed.",
                         job->cred.used_basic);
        return;
    }
    struct strbuf body = STRBUF_INIT;
    strbuf_append_str(&body, "{}");
    oauth_send_json(rc, 200, "OK", &body);
}

static void destroy(struct async_request *ar)
{
    struct revoke_job *job = (struct revoke_job *)ar;
    oauth_credentials_clear(&job->cred);
    oauth_token_free(job->token);
    free(job);
}

void oauth_revoke_endpoint(struct request_ctx *rc)
{
    struct form form;
    if (oauth_read_post_form(rc, &form) != 0)
        return;
    struct revoke_job *job = xcalloc(1, sizeof(*job));
    const char *error = NULL, *hint = form_get(&form, "token_type_hint");
    const char *description = oauth_token_request_read(rc->req, &form, &job->cred, &job->token, &error);
    job->refresh_first = hint != NULL && strcmp(hint, "refresh_token") == 0;
    form_clear(&form);
    if (description != NULL) {
        oauth_send_error(rc, error, description, job->cred.used_basic);
        destroy(&job->ar);
        return;
    }
    async_request_start(rc, &job->ar, work, respond, destroy);
}
