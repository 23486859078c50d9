#include "routes/service.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/xalloc.h"

static struct target_state *target_state_new(void)
{
    struct target_state *state = xcalloc(1, sizeof(*state));
    atomic_init(&state->refcount, 1);
    return state;
}

static struct service_state *service_state_new(void)
{
    struct service_state *state = xcalloc(1, sizeof(*state));
    atomic_init(&state->refcount, 1);
    return state;
}

void target_state_retain(struct target_state *state)
{
    atomic_fetch_add(&state->refcount, 1);
}

void target_state_release(struct target_state *state)
{
    if (state != NULL && atomic_fetch_sub(&state->refcount, 1) == 1)
        free(state);
}

static void service_state_release(struct service_state *state)
{
    if (state != NULL && atomic_fetch_sub(&state->refcount, 1) == 1)
        free(state);
}

static char *format_authority(const char *host, uint16_t port)
{
    if (strchr(host, ':') != NULL)
        return xasprintf("[%s]:%u", host, (unsigned)port);
    return xasprintf("%s:%u", host, (unsigned)port);
}

/* Resolves host:port to the first TCP address. Blocking: never on an event loop. */
static int resolve_target(struct upstream_target *target, struct problem_list *problems, const char *pointer)
{
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICSERV};
    struct addrinfo *result = NULL;
    char port[8];
    snprintf(port, sizeof(port), "%u", (unsigned)target->config->port);
    int rc = getaddrinfo(target->config->host, port, &hints, &result);
    if (rc != 0 || result == NULL) {
        problem_list_add(problems, pointer, "cannot resolve host '%s': %s", target->config->host,
                         rc != 0 ? gai_strerror(rc) : "no address");
        return -1;
    }
    memcpy(&target->addr, result->ai_addr, result->ai_addrlen);
    target->addrlen = result->ai_addrlen;
    freeaddrinfo(result);
    return 0;
}

static const struct upstream_target *find_previous_target(const struct service *previous, const char *authority)
{
    if (previous == NULL)
        return NULL;
    for (size_t i = 0; i < previous->num_targets; i++) {
        if (strcmp(previous->targets[i].authority, authority) == 0)
            return &previous->targets[i];
    }
    return NULL;
}

static int build_service(struct service *service, const struct service_config *config, const struct service *previous,
                         size_t *next_target_index, size_t service_index, struct problem_list *problems)
{
    service->config = config;
    service->index = service_index;
    service->num_targets = config->num_targets;
    service->targets = xcalloc(config->num_targets, sizeof(*service->targets));
    if (previous != NULL) {
        service->state = previous->state;
        atomic_fetch_add(&service->state->refcount, 1);
    } else {
        service->state = service_state_new();
    }
    int ok = 1;
    for (size_t i = 0; i < config->num_targets; i++) {
        struct upstream_target *target = &service->targets[i];
        target->config = &config->targets[i];
        target->authority = format_authority(target->config->host, target->config->port);
        target->global_index = (*next_target_index)++;
        char pointer[96];
        snprintf(pointer, sizeof(pointer), "/services/%zu/targets/%zu/host", service_index, i);
        if (resolve_target(target, problems, pointer) != 0)
            ok = 0;
        const struct upstream_target *old = find_previous_target(previous, target->authority);
        if (old != NULL) {
            target->state = old->state;
            atomic_fetch_add(&target->state->refcount, 1);
        } else {
            target->state = target_state_new();
        }
    }
    return ok ? 0 : -1;
}

struct service_set *service_set_build(const struct config *config, const struct service_set *previous,
                                      struct problem_list *problems)
{
    struct service_set *set = xcalloc(1, sizeof(*set));
    set->num_services = config->num_services;
    set->services = xcalloc(config->num_services, sizeof(*set->services));
    int ok = 1;
    for (size_t i = 0; i < config->num_services; i++) {
        const struct service_config *service_config = &config->services[i];
        const struct service *old = previous != NULL ? service_set_find(previous, service_config->name) : NULL;
        if (build_service(&set->services[i], service_config, old, &set->num_targets, i, problems) != 0)
            ok = 0;
    }
    if (!ok) {
        service_set_free(set);
        return NULL;
    }
    return set;
}

void service_set_free(struct service_set *set)
{
    if (set == NULL)
        return;
    for (size_t i = 0; i < set->num_services; i++) {
        struct service *service = &set->services[i];
        for (size_t j = 0; j < service->num_targets; j++) {
            free(service->targets[j].authority);
            target_state_release(service->targets[j].state);
        }
        free(service->targets);
        service_state_release(service->state);
    }
    free(set->services);
    free(set);
}

struct service *service_set_find(const struct service_set *set, const char *name)
{
    for (size_t i = 0; i < set->num_services; i++) {
        if (strcmp(set->services[i].config->name, name) == 0)
            return &set->services[i];
    }
    return NULL;
}

int upstream_target_is_available(const struct upstream_target *target, int64_t now_ms)
{
    const struct target_state *state = target->state;
    return !atomic_load_explicit(&state->active_down, memory_order_relaxed) &&
           atomic_load_explicit(&state->ejected_until_ms, memory_order_relaxed) <= now_ms;
}

void upstream_target_record_success(struct upstream_target *target)
{
    /* Only write when needed: a store on every success would bounce the cache line between threads. */
    if (atomic_load_explicit(&target->state->consecutive_failures, memory_order_relaxed) != 0)
        atomic_store_explicit(&target->state->consecutive_failures, 0, memory_order_relaxed);
}

int upstream_target_record_failure(const struct service *service, struct upstream_target *target, int64_t now_ms)
{
    unsigned max_failures = service->config->passive_max_failures;
    unsigned failures = atomic_fetch_add(&target->state->consecutive_failures, 1) + 1;
    if (max_failures == 0 || failures != max_failures)
        return 0;
    /* Exactly one thread sees the count reach the threshold, so exactly one ejects and logs. The counter restarts
     * so that after the cool-down the target gets a fresh budget of attempts (a half-open probe). */
    atomic_store(&target->state->ejected_until_ms, now_ms + (long long)service->config->passive_cooldown_ms);
    atomic_store(&target->state->consecutive_failures, 0);
    atomic_fetch_add(&target->state->ejections_total, 1);
    return 1;
}
