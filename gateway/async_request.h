/*
 * async_request.h — answering a request with the result of blocking work
 * (database queries, password hashing) done on a worker thread.
 *
 * The event loop hands the job to the worker pool and returns at once; the
 * worker runs `work` with its own database connection; `respond` then runs
 * back on the request's event-loop thread (h2o's multithread queue) and
 * answers. If the client goes away first, the request's dispose hook detaches
 * the job: a job still queued is skipped, one already running finishes and its
 * result is dropped — `respond` is only ever called with a live request.
 *
 * The job keeps its own reference to the request's snapshot, so a worker may
 * read it (e.g. sign with its key) even if the request is gone.
 *
 * Event-loop thread only, except `work`, which runs on a worker and must touch
 * nothing but the job's own fields and the snapshot.
 */
#ifndef YIWANG_GATEWAY_ASYNC_REQUEST_H
#define YIWANG_GATEWAY_ASYNC_REQUEST_H

#include "common/worker_pool.h"

struct server;
#include "gateway/request.h"

struct async_request;

typedef void (*async_work_cb)(struct async_request *ar, struct worker_ctx *ctx);
typedef void (*async_respond_cb)(struct async_request *ar, struct request_ctx *rc);
typedef void (*async_destroy_cb)(struct async_request *ar);

struct async_request {
    struct worker_job job;
    struct request_ctx *rc;      /* NULL once the request is gone; loop thread only */
    struct snapshot *snapshot;   /* retained for the job's lifetime */
    const struct server *server; /* read-only process settings (e.g. derived keys), valid for the process's life */
    async_work_cb work;
    async_respond_cb respond;
    async_destroy_cb destroy; /* frees the embedding struct; called on the loop thread, exactly once */
};

/*
 * Submits `ar` (embedded at the start of a malloc'ed job struct) for `rc`.
 * When the workers cannot take it (no database configured, queue full, pool
 * stopping) the request is answered 503 gateway_overloaded and `destroy` is
 * called before this returns.
 */
void async_request_start(struct request_ctx *rc, struct async_request *ar, async_work_cb work, async_respond_cb respond,
                         async_destroy_cb destroy);

/* From the request's dispose hook: the request is going away. */
void async_request_detach(struct async_request *ar);

#endif
