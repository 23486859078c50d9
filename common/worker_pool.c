/*
 * worker_pool.c — blocking work off the event loops (contract in worker_pool.h).
 *
 * One mutex guards the queue; workers sleep on a condition variable. Results
 * travel back through h2o's multithread queue (a pipe the owning loop
 * watches), so a loop never waits for a worker and a worker never touches a
 * loop's state.
 */
#include "common/worker_pool.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/log.h"
#include "common/xalloc.h"

/* After a failed connect, jobs fail at once for this long instead of each waiting for the connect timeout. */
#define DB_RETRY_AFTER_MS 1000

struct worker_ctx {
    struct worker_pool *pool;
    unsigned index;
    pthread_t thread;
    struct db *db;
    char *db_error;
    int db_failed;
    struct timespec db_failed_at;
};

struct worker_pool {
    pthread_mutex_t mutex;
    pthread_cond_t cond;
    struct worker_job *head, *tail;
    size_t queued;
    size_t capacity;
    int stopping; /* no more submissions; workers exit once the queue is empty */
    int abandon;  /* queued jobs go back without running */
    int has_db;
    struct db_dsn dsn;
    unsigned db_connect_timeout_ms;
    unsigned num_workers; /* threads started */
    struct worker_ctx *workers;
};

/* ================================================================ jobs and receivers */

void worker_job_init(struct worker_job *job, struct worker_receiver *home, worker_run_cb run, worker_done_cb done)
{
    memset(&job->message, 0, sizeof(job->message));
    job->home = home;
    job->run = run;
    job->done = done;
    atomic_init(&job->cancelled, 0);
    job->status = WORKER_JOB_DONE;
    job->next = NULL;
}

void worker_job_cancel(struct worker_job *job)
{
    atomic_store(&job->cancelled, 1);
}

int worker_job_is_cancelled(struct worker_job *job)
{
    return atomic_load(&job->cancelled);
}

static void on_jobs_done(h2o_multithread_receiver_t *super, h2o_linklist_t *messages)
{
    struct worker_receiver *receiver = H2O_STRUCT_FROM_MEMBER(struct worker_receiver, super, super);
    while (!h2o_linklist_is_empty(messages)) {
        struct worker_job *job = H2O_STRUCT_FROM_MEMBER(struct worker_job, message.link, messages->next);
        h2o_linklist_unlink(&job->message.link); /* h2o asserts the list is empty afterwards */
        receiver->in_flight--;
        job->done(job, job->status); /* may free the job */
    }
}

void worker_receiver_init(struct worker_receiver *receiver, h2o_multithread_queue_t *queue)
{
    memset(receiver, 0, sizeof(*receiver));
    receiver->queue = queue;
    h2o_multithread_register_receiver(queue, &receiver->super, on_jobs_done);
}

void worker_receiver_dispose(struct worker_receiver *receiver)
{
    if (receiver->in_flight != 0)
        log_error("worker receiver disposed with %zu jobs still out", receiver->in_flight);
    h2o_multithread_unregister_receiver(receiver->queue, &receiver->super);
}

/* ================================================================ worker threads */

static long long ms_since(const struct timespec *then)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (long long)(now.tv_sec - then->tv_sec) * 1000 + (now.tv_nsec - then->tv_nsec) / 1000000;
}

struct db *worker_ctx_db(struct worker_ctx *ctx, const char **err)
{
    if (ctx->db != NULL)
        return ctx->db;
    struct worker_pool *pool = ctx->pool;
    if (!pool->has_db) {
        *err = "no database is configured";
        return NULL;
    }
    if (ctx->db_failed && ms_since(&ctx->db_failed_at) < DB_RETRY_AFTER_MS) {
        *err = ctx->db_error;
        return NULL;
    }
    char *message = NULL;
    ctx->db = db_connect(&pool->dsn, pool->db_connect_timeout_ms, &message);
    if (ctx->db == NULL) {
        if (!ctx->db_failed || strcmp(message, ctx->db_error) != 0)
            log_warn("worker %u: %s", ctx->index, message); /* once per distinct failure, not once per job */
        free(ctx->db_error);
        ctx->db_error = message;
        ctx->db_failed = 1;
        clock_gettime(CLOCK_MONOTONIC, &ctx->db_failed_at);
        *err = ctx->db_error;
        return NULL;
    }
    if (ctx->db_failed)
        log_info("worker %u: connected to the database again", ctx->index);
    ctx->db_failed = 0;
    return ctx->db;
}

unsigned worker_ctx_index(const struct worker_ctx *ctx)
{
    return ctx->index;
}

/* Blocks until there is a job or the pool stops (NULL). *abandon tells whether to skip running it. */
static struct worker_job *next_job(struct worker_pool *pool, int *abandon)
{
    pthread_mutex_lock(&pool->mutex);
    while (pool->head == NULL && !pool->stopping)
        pthread_cond_wait(&pool->cond, &pool->mutex);
    struct worker_job *job = pool->head;
    if (job != NULL) {
        pool->head = job->next;
        if (pool->head == NULL)
            pool->tail = NULL;
        pool->queued--;
        job->next = NULL;
    }
    *abandon = pool->abandon;
    pthread_mutex_unlock(&pool->mutex);
    return job;
}

static void run_job(struct worker_ctx *ctx, struct worker_job *job, int abandon)
{
    if (atomic_load(&job->cancelled)) {
        job->status = WORKER_JOB_CANCELLED;
    } else if (abandon) {
        job->status = WORKER_JOB_ABANDONED;
    } else {
        job->run(job, ctx);
        job->status = WORKER_JOB_DONE;
        /* the next job must not find itself inside someone else's transaction */
        if (ctx->db != NULL && db_in_transaction(ctx->db)) {
            log_error("worker %u: a job returned with its transaction open; rolled back", ctx->index);
            db_rollback(ctx->db);
        }
    }
    /* from here on the job belongs to its loop thread */
    h2o_multithread_send_message(&job->home->super, &job->message);
}

static void *worker_main(void *arg)
{
    struct worker_ctx *ctx = arg;
    db_thread_init();
    int abandon;
    struct worker_job *job;
    while ((job = next_job(ctx->pool, &abandon)) != NULL)
        run_job(ctx, job, abandon);
    db_close(ctx->db);
    ctx->db = NULL;
    db_thread_end();
    return NULL;
}

/* ================================================================ the pool */

static void free_pool(struct worker_pool *pool)
{
    for (unsigned i = 0; i < pool->num_workers; i++)
        free(pool->workers[i].db_error);
    free(pool->workers);
    if (pool->has_db)
        db_dsn_clear(&pool->dsn);
    pthread_cond_destroy(&pool->cond);
    pthread_mutex_destroy(&pool->mutex);
    free(pool);
}

static void stop_threads(struct worker_pool *pool, int drain)
{
    pthread_mutex_lock(&pool->mutex);
    pool->stopping = 1;
    pool->abandon = !drain;
    pthread_cond_broadcast(&pool->cond);
    pthread_mutex_unlock(&pool->mutex);
    for (unsigned i = 0; i < pool->num_workers; i++)
        pthread_join(pool->workers[i].thread, NULL);
}

struct worker_pool *worker_pool_start(const struct worker_pool_config *config, char **err)
{
    struct worker_pool *pool = xcalloc(1, sizeof(*pool));
    pthread_mutex_init(&pool->mutex, NULL);
    pthread_cond_init(&pool->cond, NULL);
    pool->capacity = config->queue_capacity;
    if (config->db != NULL) {
        db_dsn_copy(&pool->dsn, config->db);
        pool->has_db = 1;
    }
    pool->db_connect_timeout_ms = config->db_connect_timeout_ms;
    unsigned threads = config->threads > 0 ? config->threads : 1;
    pool->workers = xcalloc(threads, sizeof(*pool->workers));
    for (unsigned i = 0; i < threads; i++) {
        struct worker_ctx *ctx = &pool->workers[i];
        ctx->pool = pool;
        ctx->index = i;
        int rc = pthread_create(&ctx->thread, NULL, worker_main, ctx);
        if (rc != 0) {
            *err = xasprintf("cannot start worker thread %u: %s", i, strerror(rc));
            stop_threads(pool, 0);
            free_pool(pool);
            return NULL;
        }
        char name[32];
        snprintf(name, sizeof(name), "%.10s-%u", config->name != NULL ? config->name : "worker", i);
        name[15] = '\0'; /* the kernel's limit */
        pthread_setname_np(ctx->thread, name);
        pool->num_workers++;
    }
    return pool;
}

int worker_pool_submit(struct worker_pool *pool, struct worker_job *job)
{
    pthread_mutex_lock(&pool->mutex);
    if (pool->stopping || pool->queued >= pool->capacity) {
        pthread_mutex_unlock(&pool->mutex);
        return -1;
    }
    job->next = NULL;
    if (pool->tail != NULL)
        pool->tail->next = job;
    else
        pool->head = job;
    pool->tail = job;
    pool->queued++;
    pthread_cond_signal(&pool->cond);
    pthread_mutex_unlock(&pool->mutex);
    /* no lock needed: submitting and receiving both happen on the receiver's thread */
    job->home->in_flight++;
    return 0;
}

void worker_pool_stop(struct worker_pool *pool, int drain)
{
    if (pool == NULL)
        return;
    stop_threads(pool, drain);
    free_pool(pool);
}

size_t worker_pool_queued(struct worker_pool *pool)
{
    pthread_mutex_lock(&pool->mutex);
    size_t n = pool->queued;
    pthread_mutex_unlock(&pool->mutex);
    return n;
}
