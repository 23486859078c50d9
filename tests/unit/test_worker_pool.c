/*
 * test_worker_pool.c — common/worker_pool.c with a real h2o event loop on the
 * test's main thread standing in for a gateway loop: jobs run on workers and
 * come back on the loop thread, a full queue refuses, cancelled jobs are
 * skipped, and stopping drains or abandons what is queued. No database.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <h2o.h>

#include "common/worker_pool.h"
#include "common/xalloc.h"
#include "tests/unit/test.h"

/* Static, so they stay reachable at exit: h2o 2.2.5 cannot free a queue (techguide §8). */
static h2o_loop_t *loop;
static h2o_multithread_queue_t *queue;
static struct worker_receiver receiver;
static pthread_t loop_thread;

/* A gate that blocking jobs wait on, so a test decides when a worker is free again. */
static pthread_mutex_t gate_mutex = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t gate_cond = PTHREAD_COND_INITIALIZER;
static int gate_open;
static atomic_int blockers_started;

struct test_job {
    struct worker_job super;
    int blocks; /* waits for the gate */
    atomic_int ran;
    int ran_on_loop_thread;
    unsigned worker;
    const char *db_error;
    char db_error_copy[512];
    int got_db;
    int done_calls;
    int done_on_loop_thread;
    enum worker_job_status status;
    int free_in_done;
};

static int done_total;

static void set_gate(int open)
{
    pthread_mutex_lock(&gate_mutex);
    gate_open = open;
    pthread_cond_broadcast(&gate_cond);
    pthread_mutex_unlock(&gate_mutex);
}

static void run_cb(struct worker_job *super, struct worker_ctx *ctx)
{
    struct test_job *job = (struct test_job *)super;
    job->ran_on_loop_thread = pthread_equal(pthread_self(), loop_thread);
    job->worker = worker_ctx_index(ctx);
    job->db_error = NULL;
    job->got_db = worker_ctx_db(ctx, &job->db_error) != NULL;
    if (job->db_error != NULL)
        snprintf(job->db_error_copy, sizeof(job->db_error_copy), "%s", job->db_error);
    if (job->blocks) {
        atomic_fetch_add(&blockers_started, 1);
        pthread_mutex_lock(&gate_mutex);
        while (!gate_open)
            pthread_cond_wait(&gate_cond, &gate_mutex);
        pthread_mutex_unlock(&gate_mutex);
    }
    atomic_store(&job->ran, 1);
}

static void done_cb(struct worker_job *super, enum worker_job_status status)
{
    struct test_job *job = (struct test_job *)super;
    job->done_calls++;
    job->done_on_loop_thread = pthread_equal(pthread_self(), loop_thread);
    job->status = status;
    done_total++;
    if (job->free_in_done)
        free(job);
}

static void init_job(struct test_job *job, int blocks)
{
    memset(job, 0, sizeof(*job));
    worker_job_init(&job->super, &receiver, run_cb, done_cb);
    job->blocks = blocks;
}

/* Runs the loop until every accepted job is back (or 10 s pass). */
static void run_loop_until_idle(void)
{
    struct timespec start, now;
    clock_gettime(CLOCK_MONOTONIC, &start);
    while (receiver.in_flight > 0) {
        h2o_evloop_run(loop, 10);
        clock_gettime(CLOCK_MONOTONIC, &now);
        if (now.tv_sec - start.tv_sec > 10) {
            fprintf(stderr, "timed out with %zu jobs out\n", receiver.in_flight);
            CHECK(!"jobs came back");
            return;
        }
    }
}

static void wait_for_blockers(int n)
{
    for (int i = 0; i < 5000 && atomic_load(&blockers_started) < n; i++)
        usleep(1000);
    CHECK_INT_EQ(atomic_load(&blockers_started), n);
}

static struct worker_pool *start_pool_with_db(unsigned threads, size_t capacity, const struct db_dsn *dsn)
{
    struct worker_pool_config config = {
        .threads = threads, .queue_capacity = capacity, .name = "test-worker", .db = dsn, .db_connect_timeout_ms = 1000};
    char *err = NULL;
    struct worker_pool *pool = worker_pool_start(&config, &err);
    CHECK(pool != NULL);
    if (pool == NULL) {
        fprintf(stderr, "%s\n", err);
        exit(1);
    }
    atomic_store(&blockers_started, 0);
    set_gate(0);
    return pool;
}

static struct worker_pool *start_pool(unsigned threads, size_t capacity)
{
    return start_pool_with_db(threads, capacity, NULL);
}

static void test_jobs_run_and_come_back(void)
{
    enum { N = 200 };
    struct worker_pool *pool = start_pool(4, N);
    done_total = 0;
    int refused = 0;
    for (int i = 0; i < N; i++) {
        struct test_job *job = xmalloc(sizeof(*job));
        init_job(job, 0);
        job->free_in_done = 1;
        if (worker_pool_submit(pool, &job->super) != 0) {
            refused++;
            free(job);
        }
    }
    CHECK_INT_EQ(refused, 0);
    run_loop_until_idle();
    CHECK_INT_EQ(done_total, N);
    CHECK_INT_EQ(receiver.in_flight, 0);

    /* where things ran, on one job kept around */
    struct test_job job;
    init_job(&job, 0);
    CHECK_INT_EQ(worker_pool_submit(pool, &job.super), 0);
    CHECK_INT_EQ(receiver.in_flight, 1);
    run_loop_until_idle();
    CHECK_INT_EQ(atomic_load(&job.ran), 1);
    CHECK_INT_EQ(job.ran_on_loop_thread, 0);
    CHECK(job.worker < 4);
    CHECK_INT_EQ(job.got_db, 0);
    CHECK_STR_EQ(job.db_error_copy, "no database is configured");
    CHECK_INT_EQ(job.done_calls, 1);
    CHECK_INT_EQ(job.done_on_loop_thread, 1);
    CHECK_INT_EQ(job.status, WORKER_JOB_DONE);
    worker_pool_stop(pool, 1);
}

static void test_full_queue_refuses(void)
{
    struct worker_pool *pool = start_pool(1, 2);
    struct test_job blocker, queued[2], extra;
    init_job(&blocker, 1);
    CHECK_INT_EQ(worker_pool_submit(pool, &blocker.super), 0);
    wait_for_blockers(1); /* the only worker is busy, the queue is empty */
    for (int i = 0; i < 2; i++) {
        init_job(&queued[i], 0);
        CHECK_INT_EQ(worker_pool_submit(pool, &queued[i].super), 0);
    }
    CHECK_INT_EQ(worker_pool_queued(pool), 2);
    init_job(&extra, 0);
    CHECK_INT_EQ(worker_pool_submit(pool, &extra.super), -1); /* the caller answers 503 */
    CHECK_INT_EQ(receiver.in_flight, 3);
    set_gate(1);
    run_loop_until_idle();
    CHECK_INT_EQ(blocker.status, WORKER_JOB_DONE);
    CHECK_INT_EQ(queued[0].done_calls + queued[1].done_calls, 2);
    CHECK_INT_EQ(atomic_load(&queued[1].ran), 1);
    CHECK_INT_EQ(extra.done_calls, 0); /* refused jobs never come back */
    CHECK_INT_EQ(atomic_load(&extra.ran), 0);
    /* room again */
    CHECK_INT_EQ(worker_pool_submit(pool, &extra.super), 0);
    run_loop_until_idle();
    CHECK_INT_EQ(extra.done_calls, 1);
    worker_pool_stop(pool, 1);
}

static void test_cancelled_jobs_are_skipped(void)
{
    struct worker_pool *pool = start_pool(1, 8);
    struct test_job blocker, cancelled, kept;
    init_job(&blocker, 1);
    init_job(&cancelled, 0);
    init_job(&kept, 0);
    CHECK_INT_EQ(worker_pool_submit(pool, &blocker.super), 0);
    wait_for_blockers(1);
    CHECK_INT_EQ(worker_pool_submit(pool, &cancelled.super), 0);
    CHECK_INT_EQ(worker_pool_submit(pool, &kept.super), 0);
    worker_job_cancel(&cancelled.super); /* e.g. the client reset the stream */
    CHECK(worker_job_is_cancelled(&cancelled.super));
    set_gate(1);
    run_loop_until_idle();
    CHECK_INT_EQ(atomic_load(&cancelled.ran), 0);
    CHECK_INT_EQ(cancelled.done_calls, 1); /* still comes back, to be freed */
    CHECK_INT_EQ(cancelled.status, WORKER_JOB_CANCELLED);
    CHECK_INT_EQ(cancelled.done_on_loop_thread, 1);
    CHECK_INT_EQ(atomic_load(&kept.ran), 1);
    CHECK_INT_EQ(kept.status, WORKER_JOB_DONE);
    worker_pool_stop(pool, 1);
}

static void *open_gate_later(void *arg)
{
    (void)arg;
    usleep(200 * 1000); /* worker_pool_stop has set its flags long before */
    set_gate(1);
    return NULL;
}

/* drain: queued jobs still run; not drain: they come back abandoned. Either way stop joins the workers. */
static void test_stop(int drain)
{
    struct worker_pool *pool = start_pool(2, 8);
    struct test_job blockers[2], queued[3];
    for (int i = 0; i < 2; i++) {
        init_job(&blockers[i], 1);
        CHECK_INT_EQ(worker_pool_submit(pool, &blockers[i].super), 0);
    }
    wait_for_blockers(2);
    for (int i = 0; i < 3; i++) {
        init_job(&queued[i], 0);
        CHECK_INT_EQ(worker_pool_submit(pool, &queued[i].super), 0);
    }
    pthread_t opener;
    pthread_create(&opener, NULL, open_gate_later, NULL);
    worker_pool_stop(pool, drain); /* returns once both workers have exited */
    pthread_join(opener, NULL);
    CHECK_INT_EQ(receiver.in_flight, 5);
    run_loop_until_idle();
    for (int i = 0; i < 2; i++)
        CHECK_INT_EQ(blockers[i].status, WORKER_JOB_DONE);
    for (int i = 0; i < 3; i++) {
        CHECK_INT_EQ(queued[i].done_calls, 1);
        CHECK_INT_EQ(queued[i].status, drain ? WORKER_JOB_DONE : WORKER_JOB_ABANDONED);
        CHECK_INT_EQ(atomic_load(&queued[i].ran), drain);
    }
}

/* A database that cannot be reached: the job gets the reason, and the next job does not wait for another
 * connect attempt within a second (the message stays the same). */
static void test_unreachable_database(void)
{
    struct db_dsn dsn;
    char *err = NULL;
    CHECK_INT_EQ(db_dsn_parse("mysql://app:Secret-1@/yiwang?socket=/nonexistent/yiwang-test.sock", &dsn, &err), 0);
    struct worker_pool *pool = start_pool_with_db(1, 4, &dsn);
    db_dsn_clear(&dsn); /* the pool keeps its own copy */
    struct test_job first, second;
    init_job(&first, 0);
    init_job(&second, 0);
    CHECK_INT_EQ(worker_pool_submit(pool, &first.super), 0);
    CHECK_INT_EQ(worker_pool_submit(pool, &second.super), 0);
    run_loop_until_idle();
    CHECK_INT_EQ(first.got_db, 0);
    CHECK(strstr(first.db_error_copy, "cannot connect to mysql://app:***@/yiwang") != NULL);
    CHECK(strstr(first.db_error_copy, "Secret-1") == NULL);
    CHECK_STR_EQ(second.db_error_copy, first.db_error_copy);
    worker_pool_stop(pool, 1);
}

int main(void)
{
    db_library_init();
    loop_thread = pthread_self();
    loop = h2o_evloop_create();
    queue = h2o_multithread_create_queue(loop);
    worker_receiver_init(&receiver, queue);

    test_jobs_run_and_come_back();
    test_full_queue_refuses();
    test_cancelled_jobs_are_skipped();
    test_stop(1);
    test_stop(0);
    test_unreachable_database();

    worker_receiver_dispose(&receiver);
    db_library_end();
    return TEST_REPORT();
}
