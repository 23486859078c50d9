/*
 * server.h — the running gateway process: listeners, event-loop threads,
 * reload and shutdown.
 *
 * The main thread owns the server: it loads the config, binds every
 * listening socket (so a bad address fails at start, not in a thread), starts
 * the event-loop threads and the health checker, then waits for signals:
 *   SIGHUP          reload the config; a broken one is logged and ignored
 *   SIGTERM/SIGINT  stop accepting, drain in-flight requests (up to
 *                   drain_timeout_ms), exit 0
 * and, between signals, polls the database: signing keys and revocations
 * every second, the service registry (registry.source "database") every
 * 500 ms. Every snapshot (start, SIGHUP, new keys, a new registry version)
 * is built the same way: the file's text, with the registry's services and
 * routes merged in when they come from the database.
 * A new snapshot is handed to each event-loop thread as a message; each
 * thread swaps it in between requests, so nothing on the hot path locks.
 */
#ifndef YIWANG_GATEWAY_SERVER_H
#define YIWANG_GATEWAY_SERVER_H

#include <h2o.h>
#include <pthread.h>
#include <stdatomic.h>

#include "common/config.h"
#include "auth/identity_keys.h"
#include "auth/revocation_set.h"
#include "gateway/access_log.h"
#include "gateway/loop_thread.h"
#include "gateway/metrics.h"
#include "gateway/registry_sync.h"
#include "gateway/snapshot.h"

struct health_checker;
struct key_sync;
struct revocation_sync;

struct server {
    const char *config_path;
    struct config *boot_config; /* settings that need a restart (listeners, threads, TLS) come from here */
    h2o_globalconf_t globalconf;
    h2o_hostconf_t *public_hosts[2];
    h2o_hostconf_t *ops_hosts[2];
    SSL_CTX *ssl_ctx;
    unsigned num_threads;
    struct loop_thread *threads;
    int (*listen_fds)[3]; /* per thread: public, tls, ops; -1 when disabled */
    struct metrics_registry *metrics;
    struct access_log *access_log;
    struct health_checker *health;
    struct snapshot *current;               /* latest published; main thread only */
    char *config_text;                      /* the file text `current` was built from, to rebuild it when the keys change */
    struct key_sync *keys;                  /* signing keys from the database; main thread only */
    struct revocation_sync *revocations;    /* ended sessions from the database; NULL without one; main thread only */
    struct registry_sync *registry;         /* services and routes from the database; NULL with registry.source "file" */
    struct registry_health registry_health; /* what the registry sync reports to /readyz and /metrics */
    struct worker_pool *workers;            /* blocking work (database, password hashing); NULL without a database */
    unsigned char token_hash_key[32];       /* derived from the master key at start; read-only afterwards */
    int has_token_hash_key;
    struct identity_keys identity_keys; /* the sign-in API's keys, derived at start; read-only afterwards */
    int has_identity_keys;
    /* key_sync's master key, for workers that make signing keys (POST /admin/v1/keys/rotate); set at start before any
     * thread runs and immutable afterwards, so workers read it without a lock; NULL without identity.master_key_file */
    const struct secrets_master *master;
    uint64_t generation;
    atomic_ullong reloads_ok;
    atomic_ullong reloads_failed;
    atomic_int stopping;
    pthread_mutex_t drain_mutex; /* with drain_cond: thread start-up and drain hand-shakes */
    pthread_cond_t drain_cond;
    unsigned ready_threads;   /* event-loop threads that have set up their loop and message receiver */
    unsigned drained_threads; /* event-loop threads done draining (they park, not exit) */
};

/* Main thread: gives every event-loop thread `set` (the caller's reference is taken over). */
void server_publish_revocations(struct server *server, struct revocation_set *set);

/* Runs the gateway until SIGTERM/SIGINT. Returns the process exit status. */
int server_run(const char *config_path);

#endif
