/*
 * loop_thread.h — one event-loop thread and everything it owns.
 *
 * Each event-loop thread has its own h2o context and loop, its own
 * SO_REUSEPORT listening sockets, its own idle upstream connections, timers,
 * random state and metric slots. Nothing in here is shared: code running on
 * the thread may use it without locks; other threads must not touch it
 * (they talk to the thread through `control_receiver`).
 */
#ifndef YIWANG_GATEWAY_LOOP_THREAD_H
#define YIWANG_GATEWAY_LOOP_THREAD_H

#include <h2o.h>
#include <pthread.h>
#include <stdint.h>

#include "auth/revocation_set.h"
#include "auth/token_cache.h"
#include "common/strmap.h"
#include "common/worker_pool.h"
#include "common/timeout_cache.h"
#include "gateway/access_log.h"
#include "gateway/metrics.h"
#include "gateway/snapshot.h"

struct server;

struct loop_thread {
    struct server *server;
    unsigned id;
    pthread_t pthread;
    h2o_context_t ctx;
    h2o_accept_ctx_t accept_public, accept_tls, accept_ops;
    h2o_socket_t *listeners[3];
    size_t num_listeners;
    h2o_timeout_entry_t accept_resume_timer; /* set while accepting is paused for lack of descriptors */
    h2o_multithread_receiver_t control_receiver;
    struct snapshot_holder *holder;     /* the snapshot new requests start with */
    struct revocation_set *revocations; /* ended sessions and revoked tokens; NULL until the first set arrives */
    struct strmap upstream_pools;       /* authority -> struct upstream_pool */
    struct timeout_cache timeouts;
    struct access_log_buffer access_log;
    h2o_timeout_entry_t access_log_timer; /* periodic flush, so a quiet gateway's last lines still get written */
    struct thread_counters *counters;
    struct token_cache *tokens;     /* access tokens this thread has verified */
    struct worker_receiver workers; /* where worker threads hand back this thread's jobs */
    uint64_t random_state[2];
    unsigned active_requests;
    unsigned open_connections;
    h2o_socket_cb http1_reader; /* h2o's HTTP/1 request reader, learnt when the thread starts */
    int stopping;
};

static inline struct loop_thread *loop_thread_from_context(h2o_context_t *ctx)
{
    return H2O_STRUCT_FROM_MEMBER(struct loop_thread, ctx, ctx);
}

/* Returns the thread's h2o timeout of `ms` milliseconds, creating it on first use. */
static inline h2o_timeout_t *loop_thread_timeout(struct loop_thread *thread, uint64_t ms)
{
    return timeout_cache_get(&thread->timeouts, thread->ctx.loop, ms);
}

/* Fast non-cryptographic randomness (xorshift128+) for request and trace ids. */
uint64_t loop_thread_random(struct loop_thread *thread);
/* Writes `digits` random lower-case hex digits (no NUL). */
void loop_thread_random_hex(struct loop_thread *thread, char *dst, size_t digits);

#endif
