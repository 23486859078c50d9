/*
 * service.h — department services and their upstream targets at run time.
 *
 * A `service_set` is built from the config (start-up or reload, never on an
 * event loop: it resolves host names) and is then immutable, except for the
 * shared state objects below, which change only through atomics.
 *
 * Shared state (`target_state`, `service_state`) is refcounted and carried
 * from one service_set to the next when the service name and the target's
 * host:port stay the same, so a reload forgets neither that a target is
 * ejected nor how many requests a service already has in flight (the cap must
 * hold across the swap).
 *
 * Threads: event-loop threads read targets and update state with atomics; the
 * health checker thread updates `active_down`; nothing takes a lock.
 */
#ifndef YIWANG_ROUTES_SERVICE_H
#define YIWANG_ROUTES_SERVICE_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "common/config.h"
#include "common/problems.h"

struct target_state {
    atomic_uint refcount;
    atomic_uint in_flight;
    atomic_uint consecutive_failures;
    atomic_llong ejected_until_ms; /* passive health: ejected while now < this */
    atomic_int active_down;        /* active health check: 1 = failing */
    atomic_ullong ejections_total;
};

struct service_state {
    atomic_uint refcount;
    atomic_uint in_flight;
};

struct upstream_target {
    const struct target_config *config;
    char *authority; /* "host:port" ("[v6]:port"): Host header, metrics label, pool key */
    struct sockaddr_storage addr;
    socklen_t addrlen;
    struct target_state *state;
    size_t global_index; /* position among all targets of the set: index for per-thread tables */
};

struct service {
    const struct service_config *config;
    struct upstream_target *targets;
    size_t num_targets;
    struct service_state *state;
    size_t index;
};

struct service_set {
    struct service *services;
    size_t num_services;
    size_t num_targets; /* across all services */
};

/*
 * Builds the services of `config` (which must outlive the set). Host names are
 * resolved here (blocking). State is reused from `previous` (may be NULL) where
 * the service name and target authority match. Returns NULL and appends to
 * `problems` when a host cannot be resolved.
 */
struct service_set *service_set_build(const struct config *config, const struct service_set *previous,
                                      struct problem_list *problems);
void service_set_free(struct service_set *set);
struct service *service_set_find(const struct service_set *set, const char *name);

void target_state_retain(struct target_state *state);
void target_state_release(struct target_state *state);

/* Passive and active health combined: may this target receive a request now? */
int upstream_target_is_available(const struct upstream_target *target, int64_t now_ms);

/* A request to the target completed at the transport level (a response arrived). */
void upstream_target_record_success(struct upstream_target *target);

/*
 * The target failed (connect error, timeout, malformed response, 502/503/504).
 * After `passive_max_failures` consecutive failures the target is ejected for
 * `passive_cooldown_ms`. Returns 1 when this call ejected it (for logging).
 */
int upstream_target_record_failure(const struct service *service, struct upstream_target *target, int64_t now_ms);

#endif
