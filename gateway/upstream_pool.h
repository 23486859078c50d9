/*
 * upstream_pool.h — idle keep-alive connections to upstream targets.
 *
 * One pool per (event-loop thread, target authority). Pools are owned by
 * their thread and only used on it, so taking or returning a connection takes
 * no lock (h2o's own socketpool is shared across threads and locks; techguide §3).
 * An idle connection is watched for reads: any byte or EOF from the upstream
 * while idle means it is closing (or misbehaving), so it is closed at once and
 * never handed to a request. Idle connections are closed after the service's
 * keepalive timeout, which should be below the upstream's own.
 */
#ifndef YIWANG_GATEWAY_UPSTREAM_POOL_H
#define YIWANG_GATEWAY_UPSTREAM_POOL_H

#include <h2o.h>

#define UPSTREAM_POOL_MAX_IDLE 256

struct upstream_pool {
    h2o_linklist_t idle; /* of struct idle_connection, most recently used first */
    size_t num_idle;
    h2o_loop_t *loop;
};

struct upstream_pool *upstream_pool_new(h2o_loop_t *loop);
/* Closes every idle connection and frees the pool. */
void upstream_pool_free(struct upstream_pool *pool);

/* Takes the most recently used idle connection, or returns NULL. */
h2o_socket_t *upstream_pool_take(struct upstream_pool *pool);

/* Parks a connection whose last exchange ended cleanly (no unread bytes).
 * `keepalive` is the thread's timeout after which it is closed. */
void upstream_pool_put(struct upstream_pool *pool, h2o_socket_t *sock, h2o_timeout_t *keepalive);

#endif
