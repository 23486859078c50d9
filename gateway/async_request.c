#include "gateway/async_request.h"

#include "gateway/server.h"

static void run_on_worker(struct worker_job *job, struct worker_ctx *ctx)
{
    struct async_request *ar = (struct async_request *)job;
    ar->work(ar, ctx);
}

static void done_on_loop(struct worker_job *job, enum worker_job_status status)
{
    struct async_request *ar = (struct async_request *)job;
    struct request_ctx *rc = ar->rc;
    if (rc != NULL) {
        rc->async = NULL;
        if (status == WORKER_JOB_DONE)
            ar->respond(ar, rc);
        else
            request_send_error(rc, GW_ERR_GATEWAY_OVERLOADED);
    }
    snapshot_release(ar->snapshot);
    ar->destroy(ar);
}

void async_request_start(struct request_ctx *rc, struct async_request *ar, async_work_cb work, async_respond_cb respond,
                         async_destroy_cb destroy)
{
    struct server *server = rc->thread->server;
    ar->rc = rc;
    ar->server = server;
    ar->snapshot = rc->holder->snapshot;
    snapshot_retain(ar->snapshot);
    ar->work = work;
    ar->respond = respond;
    ar->destroy = destroy;
    worker_job_init(&ar->job, &rc->thread->workers, run_on_worker, done_on_loop);
    if (server->workers == NULL || worker_pool_submit(server->workers, &ar->job) != 0) {
        /* better an immediate 503 the client can retry than an unbounded queue */
        request_send_error(rc, GW_ERR_GATEWAY_OVERLOADED);
        snapshot_release(ar->snapshot);
        destroy(ar);
        return;
    }
    rc->async = ar;
}

void async_request_detach(struct async_request *ar)
{
    ar->rc = NULL;
    worker_job_cancel(&ar->job);
}
