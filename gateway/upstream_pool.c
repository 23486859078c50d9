#include "gateway/upstream_pool.h"

#include <stdlib.h>

#include "common/xalloc.h"

struct idle_connection {
    h2o_linklist_t link;
    h2o_socket_t *sock;
    struct upstream_pool *pool;
    h2o_timeout_entry_t expiry;
};

struct upstream_pool *upstream_pool_new(h2o_loop_t *loop)
{
    struct upstream_pool *pool = xcalloc(1, sizeof(*pool));
    h2o_linklist_init_anchor(&pool->idle);
    pool->loop = loop;
    return pool;
}

static void close_idle(struct idle_connection *conn)
{
    h2o_linklist_unlink(&conn->link);
    conn->pool->num_idle--;
    if (h2o_timeout_is_linked(&conn->expiry))
        h2o_timeout_unlink(&conn->expiry);
    h2o_socket_close(conn->sock);
    free(conn);
}

static void on_idle_readable(h2o_socket_t *sock, const char *err)
{
    (void)err; /* data or EOF: either way the connection cannot carry a new request */
    close_idle(sock->data);
}

static void on_idle_expired(h2o_timeout_entry_t *entry)
{
    close_idle(H2O_STRUCT_FROM_MEMBER(struct idle_connection, expiry, entry));
}

void upstream_pool_free(struct upstream_pool *pool)
{
    while (!h2o_linklist_is_empty(&pool->idle))
        close_idle(H2O_STRUCT_FROM_MEMBER(struct idle_connection, link, pool->idle.next));
    free(pool);
}

h2o_socket_t *upstream_pool_take(struct upstream_pool *pool)
{
    if (h2o_linklist_is_empty(&pool->idle))
        return NULL;
    struct idle_connection *conn = H2O_STRUCT_FROM_MEMBER(struct idle_connection, link, pool->idle.next);
    h2o_socket_t *sock = conn->sock;
    h2o_linklist_unlink(&conn->link);
    pool->num_idle--;
    h2o_timeout_unlink(&conn->expiry);
    h2o_socket_read_stop(sock);
    sock->data = NULL;
    free(conn);
    return sock;
}

void upstream_pool_put(struct upstream_pool *pool, h2o_socket_t *sock, h2o_timeout_t *keepalive)
{
    if (pool->num_idle >= UPSTREAM_POOL_MAX_IDLE) {
        h2o_socket_close(sock);
        return;
    }
    struct idle_connection *conn = xcalloc(1, sizeof(*conn));
    conn->sock = sock;
    conn->pool = pool;
    conn->expiry.cb = on_idle_expired;
    sock->data = conn;
    h2o_linklist_insert(pool->idle.next, &conn->link);
    pool->num_idle++;
    h2o_timeout_link(pool->loop, keepalive, &conn->expiry);
    h2o_socket_read_start(sock, on_idle_readable);
}
