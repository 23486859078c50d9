#include "gateway/server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <netdb.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"
#include "common/xalloc.h"
#include "gateway/client_connection.h"
#include "gateway/key_sync.h"
#include "gateway/revocation_sync.h"
#include "common/db.h"
#include "gateway/ops.h"
#include "gateway/pipeline.h"
#include "gateway/registry_sync.h"
#include "gateway/request.h"
#include "gateway/upstream_pool.h"
#include "routes/health_check.h"

#define ACCESS_LOG_FLUSH_MS 200
#define LOOP_WAIT_MS 100
#define ACCEPT_PAUSE_MS 100
#define KEY_POLL_INTERVAL_MS 1000
#define WORKER_QUEUE_PER_THREAD 256 /* beyond this, blocking work is refused with 503 rather than queued */
#define TOKEN_CACHE_SLOTS 16384     /* per thread; bounds memory, not correctness */

enum listener_kind { LISTENER_PUBLIC, LISTENER_TLS, LISTENER_OPS };

enum control_kind { CONTROL_SNAPSHOT, CONTROL_REVOCATIONS, CONTROL_SHUTDOWN };

struct control_message {
    h2o_multithread_message_t super;
    enum control_kind kind;
    struct snapshot *snapshot;          /* CONTROL_SNAPSHOT: a reference owned by the message */
    struct revocation_set *revocations; /* CONTROL_REVOCATIONS: likewise */
};

/* ---- per-thread helpers declared in loop_thread.h ---- */

uint64_t loop_thread_random(struct loop_thread *thread)
{
    /* xorshift128+: fast, good enough for ids that only need to be unique, not secret */
    uint64_t s1 = thread->random_state[0];
    const uint64_t s0 = thread->random_state[1];
    thread->random_state[0] = s0;
    s1 ^= s1 << 23;
    thread->random_state[1] = s1 ^ s0 ^ (s1 >> 17) ^ (s0 >> 26);
    return thread->random_state[1] + s0;
}

void loop_thread_random_hex(struct loop_thread *thread, char *dst, size_t digits)
{
    static const char hex[] = "0123456789abcdef";
    uint64_t bits = 0;
    for (size_t i = 0; i < digits; i++) {
        if (i % 16 == 0)
            bits = loop_thread_random(thread);
        dst[i] = hex[bits & 15];
        bits >>= 4;
    }
}

/* ---- listening sockets ---- */

static int open_listener(const struct listener_config *listener, char **err)
{
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICHOST | AI_PASSIVE};
    struct addrinfo *ai = NULL;
    char port[8];
    snprintf(port, sizeof(port), "%u", (unsigned)listener->port);
    int rc = getaddrinfo(listener->address, port, &hints, &ai);
    if (rc != 0) {
        *err = xasprintf("invalid listen address %s: %s", listener->address, gai_strerror(rc));
        return -1;
    }
    int fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    int on = 1;
    if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)) != 0 ||
        setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &on, sizeof(on)) != 0 ||
        (ai->ai_family == AF_INET6 && setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof(on)) != 0) ||
        bind(fd, ai->ai_addr, ai->ai_addrlen) != 0 || listen(fd, SOMAXCONN) != 0) {
        *err = xasprintf("cannot listen on %s:%u: %s", listener->address, (unsigned)listener->port, strerror(errno));
        if (fd >= 0)
            close(fd);
        freeaddrinfo(ai);
        return -1;
    }
    freeaddrinfo(ai);
    return fd;
}

static int open_all_listeners(struct server *server)
{
    const struct config *config = server->boot_config;
    const struct listener_config *listeners[3] = {&config->public_listener, &config->tls_listener.listener, &config->ops_listener};
    server->listen_fds = xcalloc(server->num_threads, sizeof(*server->listen_fds));
    for (unsigned t = 0; t < server->num_threads; t++) {
        for (int k = 0; k < 3; k++) {
            server->listen_fds[t][k] = -1;
            if (!listeners[k]->enabled)
                continue;
            char *err = NULL;
            if ((server->listen_fds[t][k] = open_listener(listeners[k], &err)) < 0) {
                log_error("%s", err);
                free(err);
                return -1;
            }
        }
    }
    return 0;
}

/* ---- TLS ---- */

static SSL_CTX *create_ssl_ctx(const struct tls_listener_config *tls)
{
    static const h2o_iovec_t alpn[] = {{H2O_STRLIT("h2")}, {H2O_STRLIT("http/1.1")}, {NULL, 0}};
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
    if (ctx == NULL)
        return NULL;
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE | SSL_OP_NO_COMPRESSION);
    if (SSL_CTX_use_certificate_chain_file(ctx, tls->certificate_file) != 1) {
        log_error("cannot load TLS certificate %s: %s", tls->certificate_file, ERR_reason_error_string(ERR_get_error()));
        SSL_CTX_free(ctx);
        return NULL;
    }
    if (SSL_CTX_use_PrivateKey_file(ctx, tls->key_file, SSL_FILETYPE_PEM) != 1 || SSL_CTX_check_private_key(ctx) != 1) {
        log_error("cannot load TLS key %s: %s", tls->key_file, ERR_reason_error_string(ERR_get_error()));
        SSL_CTX_free(ctx);
        return NULL;
    }
    h2o_ssl_register_alpn_protocols(ctx, alpn);
    return ctx;
}

/* ---- h2o configuration ---- */

static void setup_globalconf(struct server *server)
{
    const struct config *config = server->boot_config;
    h2o_globalconf_t *g = &server->globalconf;
    h2o_config_init(g);
    g->server_name = h2o_iovec_init(H2O_STRLIT("yiwang"));
    /* h2o refuses bodies above this itself (HTTP/2: by resetting the stream). Twice the largest body a route may
     * allow means every body up to that size that is over its route's limit gets a real 413 with the envelope. */
    g->max_request_entity_size = config->limits.max_body_bytes * 2 + 1;
    /* h2o's HTTP/1 request timeout closes silently; it is kept for idle keep-alive connections, while slow
     * requests get a 408 from client_connection.c at limits.client_timeout_ms */
    g->http1.req_timeout = config->limits.idle_timeout_ms > config->limits.client_timeout_ms ? config->limits.idle_timeout_ms
                                                                                             : config->limits.client_timeout_ms * 2;
    g->http2.idle_timeout = config->limits.idle_timeout_ms;
    g->http2.graceful_shutdown_timeout = config->drain_timeout_ms;
    g->handshake_timeout = config->limits.client_timeout_ms;

    /* Two hosts, one per kind of listener: each accept context sees only its own, so the ops endpoints can never be
     * reached through the public port whatever Host header a client sends. */
    h2o_hostconf_t *public_host = h2o_config_register_host(g, h2o_iovec_init(H2O_STRLIT("public")), 65535);
    h2o_pathconf_t *public_path = h2o_config_register_path(public_host, "/", 0);
    public_path->error_log.emit_request_errors = 0;
    pipeline_register(public_path);
    h2o_hostconf_t *ops_host = h2o_config_register_host(g, h2o_iovec_init(H2O_STRLIT("ops")), 65535);
    h2o_pathconf_t *ops_path = h2o_config_register_path(ops_host, "/", 0);
    ops_path->error_log.emit_request_errors = 0;
    ops_register(ops_path, server);
    server->public_hosts[0] = public_host;
    server->ops_hosts[0] = ops_host;
}

/* ---- event-loop threads ---- */

static void on_accept(h2o_socket_t *listener, const char *err);

static void on_accept_resume(h2o_timeout_entry_t *entry)
{
    struct loop_thread *thread = H2O_STRUCT_FROM_MEMBER(struct loop_thread, accept_resume_timer, entry);
    for (size_t i = 0; i < thread->num_listeners; i++)
        h2o_socket_read_start(thread->listeners[i], on_accept);
}

/* Out of descriptors: a readable listener would wake the loop forever, so stop accepting for a moment
 * (existing connections keep being served and free descriptors as they close). */
static void pause_accepting(struct loop_thread *thread)
{
    if (h2o_timeout_is_linked(&thread->accept_resume_timer))
        return;
    log_warn("thread %u: out of file descriptors (%s); pausing accept for %d ms", thread->id, strerror(errno), ACCEPT_PAUSE_MS);
    for (size_t i = 0; i < thread->num_listeners; i++)
        h2o_socket_read_stop(thread->listeners[i]);
    thread->accept_resume_timer.cb = on_accept_resume;
    h2o_timeout_link(thread->ctx.loop, loop_thread_timeout(thread, ACCEPT_PAUSE_MS), &thread->accept_resume_timer);
}

static void on_accept(h2o_socket_t *listener, const char *err)
{
    if (err != NULL)
        return;
    h2o_accept_ctx_t *accept_ctx = listener->data;
    struct loop_thread *thread = loop_thread_from_context(accept_ctx->ctx);
    unsigned limit = thread->server->boot_config->limits.max_connections / thread->server->num_threads + 1;
    for (int i = 0; i < 64; i++) {
        h2o_socket_t *sock = h2o_evloop_socket_accept(listener);
        if (sock == NULL) {
            if (errno == EMFILE || errno == ENFILE)
                pause_accepting(thread);
            return;
        }
        if (thread->open_connections >= limit) {
            h2o_socket_close(sock); /* over the connection limit: shed load at the door */
            continue;
        }
        h2o_accept(accept_ctx, sock);
        client_connection_attach(thread, sock, accept_ctx != &thread->accept_ops);
    }
}

static void adopt_snapshot(struct loop_thread *thread, struct snapshot *snapshot)
{
    struct snapshot_holder *old = thread->holder;
    thread->holder = snapshot_holder_new(snapshot);
    if (old != NULL)
        snapshot_holder_retire(old);
}

static void begin_shutdown(struct loop_thread *thread)
{
    if (h2o_timeout_is_linked(&thread->accept_resume_timer))
        h2o_timeout_unlink(&thread->accept_resume_timer);
    for (size_t i = 0; i < thread->num_listeners; i++) {
        h2o_socket_read_stop(thread->listeners[i]);
        h2o_socket_close(thread->listeners[i]);
    }
    thread->num_listeners = 0;
    /* HTTP/2: GOAWAY; HTTP/1.1: the next response says Connection: close */
    h2o_context_request_shutdown(&thread->ctx);
    thread->stopping = 1;
}

static void on_control_messages(h2o_multithread_receiver_t *receiver, h2o_linklist_t *messages)
{
    struct loop_thread *thread = H2O_STRUCT_FROM_MEMBER(struct loop_thread, control_receiver, receiver);
    while (!h2o_linklist_is_empty(messages)) {
        struct control_message *msg = H2O_STRUCT_FROM_MEMBER(struct control_message, super.link, messages->next);
        h2o_linklist_unlink(&msg->super.link);
        if (msg->kind == CONTROL_SNAPSHOT) {
            adopt_snapshot(thread, msg->snapshot);
        } else if (msg->kind == CONTROL_REVOCATIONS) {
            /* requests use the set synchronously, never across callbacks, so the old one can go at once */
            revocation_set_release(thread->revocations);
            thread->revocations = msg->revocations;
        } else {
            begin_shutdown(thread);
        }
        free(msg);
    }
}

static void send_control(struct loop_thread *thread, enum control_kind kind, struct snapshot *snapshot,
                         struct revocation_set *revocations)
{
    struct control_message *msg = xcalloc(1, sizeof(*msg));
    msg->kind = kind;
    msg->snapshot = snapshot;
    msg->revocations = revocations;
    h2o_multithread_send_message(&thread->control_receiver, &msg->super);
}

/* Hands every event-loop thread its own reference to `set`; takes over the caller's reference. */
void server_publish_revocations(struct server *server, struct revocation_set *set)
{
    for (unsigned t = 0; t < server->num_threads; t++) {
        revocation_set_retain(set);
        send_control(&server->threads[t], CONTROL_REVOCATIONS, NULL, set);
    }
    revocation_set_release(set);
}

static void start_listening(struct loop_thread *thread)
{
    h2o_accept_ctx_t *contexts[3] = {&thread->accept_public, &thread->accept_tls, &thread->accept_ops};
    for (int k = 0; k < 3; k++) {
        int fd = thread->server->listen_fds[thread->id][k];
        if (fd < 0)
            continue;
        h2o_socket_t *sock = h2o_evloop_socket_create(thread->ctx.loop, fd, H2O_SOCKET_FLAG_DONT_READ);
        sock->data = contexts[k];
        h2o_socket_read_start(sock, on_accept);
        thread->listeners[thread->num_listeners++] = sock;
    }
}

static void seed_random(struct loop_thread *thread)
{
    if (getrandom(thread->random_state, sizeof(thread->random_state), 0) != sizeof(thread->random_state)) {
        thread->random_state[0] = (uint64_t)time(NULL) ^ ((uint64_t)thread->id << 32);
        thread->random_state[1] = (uint64_t)(uintptr_t)thread | 1;
    }
}

static void on_access_log_timer(h2o_timeout_entry_t *entry)
{
    struct loop_thread *thread = H2O_STRUCT_FROM_MEMBER(struct loop_thread, access_log_timer, entry);
    access_log_flush(&thread->access_log);
    h2o_timeout_link(thread->ctx.loop, loop_thread_timeout(thread, ACCESS_LOG_FLUSH_MS), entry);
}

/*
 * Learns the address of h2o's HTTP/1 request reader (not exported) for the slow-request guard: a connection fresh out
 * of h2o_accept() without TLS is being read by it. A socketpair stands in for a client; closing our end makes h2o see
 * EOF and dispose of its side on the next loop turn.
 */
static void learn_http1_reader(struct loop_thread *thread)
{
    int fds[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fds) != 0) {
        log_warn("thread %u: socketpair failed (%s): slow HTTP/1.1 requests will be closed without a 408", thread->id,
                 strerror(errno));
        return;
    }
    h2o_socket_t *sock = h2o_evloop_socket_create(thread->ctx.loop, fds[0], 0);
    h2o_accept(&thread->accept_public, sock);
    thread->http1_reader = sock->_cb.read;
    close(fds[1]);
}

/* Parks a thread that has finished: it is never joined, so that its thread-local h2o caches stay reachable (and
 * are not reported as leaks) until the process exits. */
static void park_forever(void)
{
    for (;;)
        pause();
}

static void report_drained(struct server *server)
{
    pthread_mutex_lock(&server->drain_mutex);
    server->drained_threads++;
    pthread_cond_signal(&server->drain_cond);
    pthread_mutex_unlock(&server->drain_mutex);
}

/*
 * Runs on the thread itself: h2o keeps per-thread allocators (__thread buffer prototypes), and the context's message
 * queue allocates from the creating thread's one. Created on the main thread, every queue would share the main
 * thread's allocator, which is not thread-safe.
 */
static void init_loop_thread(struct loop_thread *thread)
{
    struct server *server = thread->server;
    h2o_context_init(&thread->ctx, h2o_evloop_create(), &server->globalconf);
    h2o_multithread_register_receiver(thread->ctx.queue, &thread->control_receiver, on_control_messages);
    thread->accept_public = (h2o_accept_ctx_t){.ctx = &thread->ctx, .hosts = server->public_hosts};
    thread->accept_tls = (h2o_accept_ctx_t){.ctx = &thread->ctx, .hosts = server->public_hosts, .ssl_ctx = server->ssl_ctx};
    thread->accept_ops = (h2o_accept_ctx_t){.ctx = &thread->ctx, .hosts = server->ops_hosts};
    thread->counters = metrics_thread_counters(server->metrics, thread->id);
    thread->tokens = token_cache_new(TOKEN_CACHE_SLOTS);
    worker_receiver_init(&thread->workers, thread->ctx.queue);
    access_log_buffer_init(&thread->access_log, server->access_log);
    seed_random(thread);
    snapshot_retain(server->current);
    thread->holder = snapshot_holder_new(server->current);
}

static void report_ready(struct server *server)
{
    pthread_mutex_lock(&server->drain_mutex);
    server->ready_threads++;
    pthread_cond_signal(&server->drain_cond);
    pthread_mutex_unlock(&server->drain_mutex);
}

static void *loop_thread_main(void *arg)
{
    struct loop_thread *thread = arg;
    struct server *server = thread->server;
    init_loop_thread(thread);
    report_ready(server);
    learn_http1_reader(thread);
    start_listening(thread);
    thread->access_log_timer.cb = on_access_log_timer;
    h2o_timeout_link(thread->ctx.loop, loop_thread_timeout(thread, ACCESS_LOG_FLUSH_MS), &thread->access_log_timer);

    uint64_t drain_deadline = 0;
    for (;;) {
        h2o_evloop_run(thread->ctx.loop, LOOP_WAIT_MS);
        if (thread->stopping) {
            uint64_t now = h2o_now(thread->ctx.loop);
            if (drain_deadline == 0)
                drain_deadline = now + server->boot_config->drain_timeout_ms;
            if (thread->active_requests == 0 || now >= drain_deadline)
                break;
        }
    }
    if (thread->active_requests != 0)
        log_warn("thread %u: drain timeout with %u requests still in flight", thread->id, thread->active_requests);
    h2o_timeout_unlink(&thread->access_log_timer);
    access_log_flush(&thread->access_log);
    report_drained(server);
    park_forever();
    return NULL;
}

/* ---- reload and signals ---- */

static void log_problems(const char *what, const struct problem_list *problems)
{
    for (size_t i = 0; i < problems->count; i++)
        log_error("%s: %s: %s", what, problems->items[i].pointer[0] ? problems->items[i].pointer : "(root)",
                  problems->items[i].message);
}

static void warn_restart_only_changes(const struct config *boot, const struct config *next)
{
    if (boot->threads != next->threads || boot->public_listener.port != next->public_listener.port ||
        boot->ops_listener.port != next->ops_listener.port ||
        boot->tls_listener.listener.port != next->tls_listener.listener.port ||
        boot->tls_listener.listener.enabled != next->tls_listener.listener.enabled ||
        boot->limits.max_body_bytes != next->limits.max_body_bytes)
        log_warn("listeners, threads, TLS and limits.max_body_bytes changes take effect only after a restart");
}

static void publish_snapshot(struct server *server, struct snapshot *snapshot)
{
    for (unsigned t = 0; t < server->num_threads; t++) {
        snapshot_retain(snapshot);
        send_control(&server->threads[t], CONTROL_SNAPSHOT, snapshot, NULL);
    }
    health_checker_update(server->health, snapshot->services);
    snapshot_release(server->current);
    server->current = snapshot;
}

/* Parses `text` (the config file's) and builds a snapshot with the current signing keys; with the registry in the
 * database, `sections` (its rendered services and routes) replace the file's. NULL with `problems` filled when it is
 * unusable. */
static struct snapshot *build_with(struct server *server, const char *text, size_t len, const json_t *sections,
                                   uint64_t registry_version, struct problem_list *problems)
{
    size_t merged_len = 0;
    char *merged = server->registry != NULL ? registry_merge_sections(text, len, sections, &merged_len) : NULL;
    struct config *config =
        merged != NULL ? config_load_with_registry(merged, merged_len, problems) : config_load_string(text, len, problems);
    free(merged);
    if (config == NULL)
        return NULL;
    if (server->current != NULL)
        warn_restart_only_changes(server->boot_config, config);
    struct snapshot *snapshot =
        snapshot_build(config, server->current, key_sync_keys(server->keys), server->metrics, server->generation + 1, problems);
    if (snapshot != NULL)
        snapshot_add_catalog(snapshot, server->registry != NULL ? sections : NULL, registry_version);
    return snapshot;
}

/* The same with the registry being served: what SIGHUP and key changes rebuild. */
static struct snapshot *build_from_text(struct server *server, const char *text, size_t len, struct problem_list *problems)
{
    return build_with(server, text, len, server->registry != NULL ? registry_sync_sections(server->registry) : NULL,
                      server->registry != NULL ? registry_sync_version(server->registry) : 0, problems);
}

/* Builds a registry update through the same path as a reload; on success it is served from now on. */
static struct snapshot *build_registry_update(struct server *server, struct registry_update *update)
{
    struct problem_list problems = PROBLEM_LIST_INIT;
    uint64_t start_us = monotonic_us();
    struct snapshot *snapshot =
        build_with(server, server->config_text, strlen(server->config_text), update->sections, update->version, &problems);
    update->build_ms = (double)(monotonic_us() - start_us) / 1e3;
    if (snapshot != NULL)
        registry_sync_accepted(server->registry, update);
    else
        registry_sync_rejected(server->registry, update, &problems);
    problem_list_clear(&problems);
    return snapshot;
}

/* The registry's version changed in the database: same file, new services and routes. */
static void sync_registry(struct server *server)
{
    struct registry_update update;
    if (registry_sync_poll(server->registry, &update) != REGISTRY_CHANGED)
        return;
    struct snapshot *snapshot = build_registry_update(server, &update);
    if (snapshot == NULL)
        return;
    server->generation++;
    publish_snapshot(server, snapshot);
}

/* The signing keys changed in the database: same configuration, new keys. */
static void rebuild_for_keys(struct server *server)
{
    struct problem_list problems = PROBLEM_LIST_INIT;
    struct snapshot *snapshot = build_from_text(server, server->config_text, strlen(server->config_text), &problems);
    if (snapshot == NULL) {
        log_problems("signing keys", &problems);
    } else {
        server->generation++;
        publish_snapshot(server, snapshot);
    }
    problem_list_clear(&problems);
}

static void reload(struct server *server)
{
    struct problem_list problems = PROBLEM_LIST_INIT;
    size_t len = 0;
    char *text = config_read_text(server->config_path, &len, &problems);
    struct snapshot *snapshot = text != NULL ? build_from_text(server, text, len, &problems) : NULL;
    if (snapshot == NULL) {
        free(text);
        log_problems(server->config_path, &problems);
        log_error("reload rejected: %s has %zu problem(s); still serving generation %llu", server->config_path, problems.count,
                  (unsigned long long)server->generation);
        atomic_fetch_add(&server->reloads_failed, 1);
        problem_list_clear(&problems);
        return;
    }
    problem_list_clear(&problems);
    free(server->config_text);
    server->config_text = text;
    server->generation++;
    publish_snapshot(server, snapshot);
    atomic_fetch_add(&server->reloads_ok, 1);
    log_info("configuration reloaded: generation %llu, %zu services, %zu routes", (unsigned long long)server->generation,
             snapshot->services->num_services, snapshot->num_routes);
}

static int64_t monotonic_ms(void)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (int64_t)now.tv_sec * 1000 + now.tv_nsec / 1000000;
}

static void poll_keys_and_revocations(struct server *server)
{
    if (key_sync_poll(server->keys) == KEY_SYNC_CHANGED)
        rebuild_for_keys(server);
    struct revocation_set *revocations = server->revocations != NULL ? revocation_sync_poll(server->revocations) : NULL;
    if (revocations != NULL)
        server_publish_revocations(server, revocations);
}

/* Runs every poll that is due; returns how long to wait for the next one. */
static int64_t run_due_polls(struct server *server, int64_t *keys_due, int64_t *registry_due)
{
    int64_t now = monotonic_ms();
    if (now >= *keys_due) {
        poll_keys_and_revocations(server);
        *keys_due = now + KEY_POLL_INTERVAL_MS;
    }
    /* The registry is polled twice as often: a change must reach every node within a second, end to end. */
    if (server->registry != NULL && now >= *registry_due) {
        sync_registry(server);
        *registry_due = now + REGISTRY_POLL_INTERVAL_MS;
    }
    int64_t next = server->registry != NULL && *registry_due < *keys_due ? *registry_due : *keys_due;
    int64_t wait = next - monotonic_ms();
    return wait > 0 ? wait : 1;
}

static void wait_for_signals(struct server *server, const sigset_t *signals)
{
    /* The main thread is also the control loop: between signals it polls the database for keys, revocations and the
     * registry. */
    int64_t keys_due = monotonic_ms() + KEY_POLL_INTERVAL_MS, registry_due = monotonic_ms() + REGISTRY_POLL_INTERVAL_MS;
    for (;;) {
        int64_t wait_ms = run_due_polls(server, &keys_due, &registry_due);
        const struct timespec timeout = {wait_ms / 1000, (wait_ms % 1000) * 1000000L};
        int sig = sigtimedwait(signals, NULL, &timeout);
        if (sig == SIGHUP) {
            reload(server);
        } else if (sig == SIGTERM || sig == SIGINT) {
            log_info("%s received: draining (up to %u ms)", sig == SIGTERM ? "SIGTERM" : "SIGINT",
                     server->boot_config->drain_timeout_ms);
            return;
        }
    }
}

/* ---- start and stop ---- */

/* Each client connection and each upstream connection is a descriptor; the usual soft limit of 1024 would cap the
 * gateway far below limits.max_connections, so take what the hard limit allows. */
static void raise_file_limit(unsigned max_connections)
{
    struct rlimit limit;
    if (getrlimit(RLIMIT_NOFILE, &limit) != 0 || limit.rlim_cur == limit.rlim_max)
        return;
    limit.rlim_cur = limit.rlim_max;
    if (setrlimit(RLIMIT_NOFILE, &limit) != 0 || limit.rlim_cur < (rlim_t)max_connections * 2 + 64)
        log_warn("open file limit is %llu: fewer than limits.max_connections (%u) clients plus their upstream connections",
                 (unsigned long long)limit.rlim_cur, max_connections);
}

/* Worker threads for blocking work, each with its own database connection (opened on first use). */
static int start_workers(struct server *server)
{
    const struct database_config *database = &server->boot_config->database;
    if (database->dsn == NULL)
        return 0;
    struct db_dsn dsn;
    char *err = NULL;
    if (db_dsn_parse(database->dsn, &dsn, &err) != 0) {
        log_error("database.dsn: %s", err);
        free(err);
        return -1;
    }
    struct worker_pool_config config = {
        .threads = database->pool_size,
        .queue_capacity = WORKER_QUEUE_PER_THREAD * database->pool_size,
        .name = "yw-worker",
        .db = &dsn,
        .db_connect_timeout_ms = database->connect_timeout_ms,
    };
    server->workers = worker_pool_start(&config, &err);
    db_dsn_clear(&dsn);
    if (server->workers == NULL) {
        log_error("cannot start the worker threads: %s", err);
        free(err);
        return -1;
    }
    return 0;
}

/* The registry at start: the database's, else the cache file's (the database is down), else none yet. */
static struct snapshot *build_initial_registry(struct server *server)
{
    struct registry_update update;
    struct snapshot *snapshot = NULL;
    if (registry_sync_poll(server->registry, &update) == REGISTRY_CHANGED)
        snapshot = build_registry_update(server, &update);
    if (snapshot == NULL && registry_sync_read_cache(server->registry, &update) == 0)
        snapshot = build_registry_update(server, &update);
    return snapshot;
}

/* The first snapshot. With the registry in the database and neither it nor a cache usable, the file alone (no
 * routes): the node starts, answers 404, and /readyz says 503 until the registry arrives. */
static struct snapshot *build_initial(struct server *server, size_t len, struct problem_list *problems)
{
    struct snapshot *snapshot = server->registry != NULL ? build_initial_registry(server) : NULL;
    if (snapshot == NULL)
        snapshot = build_from_text(server, server->config_text, len, problems);
    return snapshot;
}

static int start(struct server *server)
{
    struct problem_list problems = PROBLEM_LIST_INIT;
    size_t len = 0;
    server->config_text = config_read_text(server->config_path, &len, &problems);
    struct config *config = server->config_text != NULL ? config_load_string(server->config_text, len, &problems) : NULL;
    if (config == NULL) {
        log_problems(server->config_path, &problems);
        problem_list_clear(&problems);
        return 2;
    }
    server->boot_config = config;
    server->num_threads = config->threads;
    raise_file_limit(config->limits.max_connections);
    server->metrics = metrics_registry_new(server->num_threads);
    char *err = NULL;
    if ((server->keys = key_sync_new(config, &err)) == NULL) {
        log_error("%s", err);
        free(err);
        return 2;
    }
    key_sync_poll(server->keys); /* a database that is down now is retried every second */
    const struct secrets_master *master = key_sync_master(server->keys);
    server->master = master; /* key_sync owns it and lives as long as the server */
    server->has_token_hash_key = master != NULL && secrets_derive(master, SECRETS_LABEL_TOKEN_HASH, server->token_hash_key) == 0;
    server->has_identity_keys = master != NULL && identity_keys_derive(master, &server->identity_keys) == 0;
    /* the snapshot owns its config; the boot config is a separate copy that lives as long as the server */
    server->registry = registry_sync_new(config, &server->registry_health);
    if ((server->current = build_initial(server, len, &problems)) == NULL) {
        log_problems(server->config_path, &problems);
        problem_list_clear(&problems);
        return 2;
    }
    server->generation = 1;
    if (config->access_log.path != NULL) {
        if ((server->access_log = access_log_open(config->access_log.path, &err)) == NULL) {
            log_error("%s", err);
            free(err);
            return 1;
        }
    }
    if (config->tls_listener.listener.enabled && (server->ssl_ctx = create_ssl_ctx(&config->tls_listener)) == NULL)
        return 1;
    setup_globalconf(server);
    if (open_all_listeners(server) != 0)
        return 1;
    if (start_workers(server) != 0)
        return 1;
    server->revocations = revocation_sync_new(config);
    server->health = health_checker_start();
    health_checker_update(server->health, server->current->services);
    server->threads = xcalloc(server->num_threads, sizeof(*server->threads));
    for (unsigned t = 0; t < server->num_threads; t++) {
        server->threads[t].server = server;
        server->threads[t].id = t;
        if (pthread_create(&server->threads[t].pthread, NULL, loop_thread_main, &server->threads[t]) != 0) {
            log_error("cannot start event-loop thread %u", t);
            return 1;
        }
    }
    /* messages (reload, shutdown) may only be sent once every thread has registered its receiver */
    pthread_mutex_lock(&server->drain_mutex);
    while (server->ready_threads < server->num_threads)
        pthread_cond_wait(&server->drain_cond, &server->drain_mutex);
    pthread_mutex_unlock(&server->drain_mutex);
    return 0;
}

static void log_listening(const struct config *config, unsigned threads)
{
    log_info("yiwang %s: %u event-loop threads; public %s%s:%u, tls %s%s:%u, ops %s:%u", YIWANG_VERSION, threads,
             config->public_listener.enabled ? "" : "(disabled) ", config->public_listener.address,
             (unsigned)config->public_listener.port, config->tls_listener.listener.enabled ? "" : "(disabled) ",
             config->tls_listener.listener.address, (unsigned)config->tls_listener.listener.port, config->ops_listener.address,
             (unsigned)config->ops_listener.port);
}

static void stop(struct server *server)
{
    atomic_store(&server->stopping, 1);
    for (unsigned t = 0; t < server->num_threads; t++)
        send_control(&server->threads[t], CONTROL_SHUTDOWN, NULL, NULL);
    pthread_mutex_lock(&server->drain_mutex);
    while (server->drained_threads < server->num_threads)
        pthread_cond_wait(&server->drain_cond, &server->drain_mutex);
    pthread_mutex_unlock(&server->drain_mutex);
    health_checker_stop(server->health);
    if (server->workers != NULL)
        worker_pool_stop(server->workers, 0); /* event loops have drained: nothing waits for these jobs any more */
    access_log_close(server->access_log);
    log_info("stopped");
}

int server_run(const char *config_path)
{
    sigset_t signals;
    sigemptyset(&signals);
    sigaddset(&signals, SIGHUP);
    sigaddset(&signals, SIGTERM);
    sigaddset(&signals, SIGINT);
    /* blocked before any thread starts, so every thread inherits the mask and only sigwait() sees them */
    pthread_sigmask(SIG_BLOCK, &signals, NULL);
    signal(SIGPIPE, SIG_IGN);
    json_object_seed(0);

    static struct server server; /* lives until exit: event-loop threads and h2o refer to it */
    server.config_path = config_path;
    pthread_mutex_init(&server.drain_mutex, NULL);
    pthread_cond_init(&server.drain_cond, NULL);
    int rc = start(&server);
    if (rc != 0)
        return rc;
    log_listening(server.boot_config, server.num_threads);
    wait_for_signals(&server, &signals);
    stop(&server);
    return 0;
}
