/*
 * worker_pool.h — threads for blocking work (MariaDB queries, password
 * hashing), fed from event loops and answering back to them (techguide §2).
 *
 * Flow: an event-loop thread fills a job (its own struct embedding a
 * `struct worker_job`, malloc'ed, never in a request's pool) and submits it.
 * A worker runs `run` on it, then posts it back through h2o's multithread
 * queue; the submitting loop calls `done` on its own thread. `done` is called
 * exactly once for every job that was accepted, also when `run` was skipped,
 * and it is where the job's memory is freed. A job whose request went away is
 * marked with worker_job_cancel(); a worker that has not started it yet skips
 * `run`.
 *
 * Owns: the threads, the bounded queue and one worker context per thread with
 * its own database connection (opened on first use, opened again on the next
 * use after a failure). Jobs belong to the submitter until they are accepted,
 * to the pool until `done` is called, and to `done` afterwards.
 *
 * Threads: worker_pool_start/stop on one controlling thread (main). Submit
 * only from the thread that owns the job's `struct worker_receiver` (an event
 * loop), while the pool runs. `run` runs on a worker thread: it may block but
 * must not touch the request, its pool or any h2o object. `done` runs on the
 * receiver's thread. worker_job_cancel from the receiver's thread.
 */
#ifndef YIWANG_COMMON_WORKER_POOL_H
#define YIWANG_COMMON_WORKER_POOL_H

#include <stdatomic.h>
#include <stddef.h>

#include <h2o.h>

#include "common/db.h"

struct worker_pool;
struct worker_ctx;
struct worker_job;

/* Where finished jobs go: one per event loop that submits jobs, registered on that loop's queue. */
struct worker_receiver {
    h2o_multithread_receiver_t super;
    h2o_multithread_queue_t *queue;
    size_t in_flight; /* accepted, `done` not yet called; only touched on the owning thread */
};

enum worker_job_status {
    WORKER_JOB_DONE,      /* `run` ran */
    WORKER_JOB_CANCELLED, /* cancelled before a worker got to it; `run` did not run */
    WORKER_JOB_ABANDONED, /* the pool stopped without draining; `run` did not run */
};

typedef void (*worker_run_cb)(struct worker_job *job, struct worker_ctx *ctx);
typedef void (*worker_done_cb)(struct worker_job *job, enum worker_job_status status);

struct worker_job {
    h2o_multithread_message_t message; /* must be unlinked (zeroed) when submitted */
    struct worker_receiver *home;
    worker_run_cb run;
    worker_done_cb done;
    atomic_int cancelled;
    enum worker_job_status status;
    struct worker_job *next; /* queue link */
};

/* Prepares a job for submission (zeroes the pool's fields). */
void worker_job_init(struct worker_job *job, struct worker_receiver *home, worker_run_cb run, worker_done_cb done);
/* The job's result is no longer wanted: a worker that has not started it skips `run`. `done` is still
 * called (with WORKER_JOB_CANCELLED, or WORKER_JOB_DONE if it had already run). */
void worker_job_cancel(struct worker_job *job);
int worker_job_is_cancelled(struct worker_job *job);

/* On the loop thread, after its queue exists. */
void worker_receiver_init(struct worker_receiver *receiver, h2o_multithread_queue_t *queue);
/* On the loop thread, once in_flight is 0 (run the loop until it is; see worker_pool_stop). */
void worker_receiver_dispose(struct worker_receiver *receiver);

struct worker_pool_config {
    unsigned threads;        /* at least 1 */
    size_t queue_capacity;   /* jobs waiting for a worker; more are refused */
    const char *name;        /* thread name prefix (15 bytes with the number), e.g. "yw-worker" */
    const struct db_dsn *db; /* NULL: no database; copied */
    unsigned db_connect_timeout_ms;
};

/* Starts the threads. Returns NULL (with a message in *err) if a thread could not be created. */
struct worker_pool *worker_pool_start(const struct worker_pool_config *config, char **err);
/* Queues a job. Returns 0, or -1 when the queue is full or the pool is stopping: the job was not
 * accepted, `done` will not be called, and the caller still owns it (answer 503). */
int worker_pool_submit(struct worker_pool *pool, struct worker_job *job);
/* Stops accepting jobs, lets the workers finish the one they are running, and either runs
 * (drain = 1) or abandons (drain = 0) the queued ones, then joins the threads and frees the pool.
 * Every accepted job still comes back to its receiver: keep running the loops until their
 * receivers' in_flight is 0 before disposing of them. */
void worker_pool_stop(struct worker_pool *pool, int drain);
/* Jobs waiting for a worker (a snapshot; for metrics and tests). */
size_t worker_pool_queued(struct worker_pool *pool);

/* ---- for `run`, on the worker thread ---- */

/* The worker's database connection, connected on first use. NULL (message in *err, which the caller
 * must not free; valid until the next call) when no database is configured or it cannot be reached;
 * a later call tries again, but not within a second of the last failure, so that jobs fail fast
 * instead of each waiting out the connect timeout while the database is down. */
struct db *worker_ctx_db(struct worker_ctx *ctx, const char **err);
/* 0 .. threads-1 */
unsigned worker_ctx_index(const struct worker_ctx *ctx);

#endif
