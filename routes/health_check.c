#include "routes/health_check.h"

#include <h2o.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "common/timeout_cache.h"
#include "common/xalloc.h"

struct probe_spec {
    char *service;
    char *authority;
    struct sockaddr_storage addr;
    socklen_t addrlen;
    char *request; /* the whole GET, ready to write */
    unsigned interval_ms, timeout_ms, healthy_threshold, unhealthy_threshold;
    struct target_state *state; /* retained */
};

struct plan {
    h2o_multithread_message_t super;
    int stop;
    struct probe_spec *specs;
    size_t count;
};

struct probe {
    struct health_checker *checker;
    struct probe_spec spec;
    h2o_timeout_entry_t interval_timer;
    h2o_timeout_entry_t deadline_timer;
    h2o_socket_t *sock;
    unsigned successes, failures;
};

struct health_checker {
    pthread_t thread;
    h2o_loop_t *loop;
    h2o_multithread_queue_t *queue;
    h2o_multithread_receiver_t receiver;
    struct timeout_cache timeouts;
    struct probe *probes;
    size_t num_probes;
    int stopping;
    pthread_mutex_t mutex; /* guards `ready` and `stopped`, the start and stop hand-shakes */
    pthread_cond_t cond;
    int ready;
    int stopped;
};

static void free_spec(struct probe_spec *spec)
{
    free(spec->service);
    free(spec->authority);
    free(spec->request);
    if (spec->state != NULL)
        target_state_release(spec->state);
}

/* ---- one check ---- */

static void schedule_next(struct probe *probe);

static void end_check(struct probe *probe, int healthy)
{
    if (h2o_timeout_is_linked(&probe->deadline_timer))
        h2o_timeout_unlink(&probe->deadline_timer);
    if (probe->sock != NULL) {
        h2o_socket_close(probe->sock);
        probe->sock = NULL;
    }
    struct target_state *state = probe->spec.state;
    int down = atomic_load(&state->active_down);
    if (healthy) {
        probe->failures = 0;
        if (++probe->successes >= probe->spec.healthy_threshold && down) {
            atomic_store(&state->active_down, 0);
            log_info("health check: target %s of service %s is healthy again", probe->spec.authority, probe->spec.service);
        }
    } else {
        probe->successes = 0;
        if (++probe->failures >= probe->spec.unhealthy_threshold && !down) {
            atomic_store(&state->active_down, 1);
            log_warn("health check: target %s of service %s is down after %u failed checks", probe->spec.authority,
                     probe->spec.service, probe->failures);
        }
    }
    schedule_next(probe);
}

static void on_response(h2o_socket_t *sock, const char *err)
{
    struct probe *probe = sock->data;
    if (err != NULL) {
        end_check(probe, 0);
        return;
    }
    if (sock->input->size < 12)
        return; /* wait for the status line */
    const char *p = sock->input->bytes;
    int ok =
        memcmp(p, "HTTP/1.", 7) == 0 && p[8] == ' ' && p[9] == '2' && p[10] >= '0' && p[10] <= '9' && p[11] >= '0' && p[11] <= '9';
    end_check(probe, ok);
}

static void on_request_sent(h2o_socket_t *sock, const char *err)
{
    struct probe *probe = sock->data;
    if (err != NULL) {
        end_check(probe, 0);
        return;
    }
    h2o_socket_read_start(sock, on_response);
}

static void on_connected(h2o_socket_t *sock, const char *err)
{
    struct probe *probe = sock->data;
    if (err != NULL) {
        end_check(probe, 0);
        return;
    }
    h2o_iovec_t request = h2o_iovec_init(probe->spec.request, strlen(probe->spec.request));
    h2o_socket_write(sock, &request, 1, on_request_sent);
}

static void on_deadline(h2o_timeout_entry_t *entry)
{
    end_check(H2O_STRUCT_FROM_MEMBER(struct probe, deadline_timer, entry), 0);
}

static void on_interval(h2o_timeout_entry_t *entry)
{
    struct probe *probe = H2O_STRUCT_FROM_MEMBER(struct probe, interval_timer, entry);
    struct health_checker *checker = probe->checker;
    probe->sock = h2o_socket_connect(checker->loop, (struct sockaddr *)&probe->spec.addr, probe->spec.addrlen, on_connected);
    if (probe->sock == NULL) {
        end_check(probe, 0);
        return;
    }
    probe->sock->data = probe;
    h2o_timeout_link(checker->loop, timeout_cache_get(&checker->timeouts, checker->loop, probe->spec.timeout_ms),
                     &probe->deadline_timer);
}

static void schedule_next(struct probe *probe)
{
    struct health_checker *checker = probe->checker;
    if (checker->stopping)
        return;
    h2o_timeout_link(checker->loop, timeout_cache_get(&checker->timeouts, checker->loop, probe->spec.interval_ms),
                     &probe->interval_timer);
}

/* ---- plans ---- */

static void stop_probes(struct health_checker *checker)
{
    for (size_t i = 0; i < checker->num_probes; i++) {
        struct probe *probe = &checker->probes[i];
        if (h2o_timeout_is_linked(&probe->interval_timer))
            h2o_timeout_unlink(&probe->interval_timer);
        if (h2o_timeout_is_linked(&probe->deadline_timer))
            h2o_timeout_unlink(&probe->deadline_timer);
        if (probe->sock != NULL)
            h2o_socket_close(probe->sock);
        free_spec(&probe->spec);
    }
    free(checker->probes);
    checker->probes = NULL;
    checker->num_probes = 0;
}

static void apply_plan(struct health_checker *checker, struct plan *plan)
{
    stop_probes(checker);
    checker->probes = xcalloc(plan->count, sizeof(*checker->probes));
    checker->num_probes = plan->count;
    for (size_t i = 0; i < plan->count; i++) {
        struct probe *probe = &checker->probes[i];
        probe->checker = checker;
        probe->spec = plan->specs[i]; /* ownership moves to the probe */
        probe->interval_timer.cb = on_interval;
        probe->deadline_timer.cb = on_deadline;
        schedule_next(probe);
    }
    free(plan->specs);
}

static void on_plans(h2o_multithread_receiver_t *receiver, h2o_linklist_t *messages)
{
    struct health_checker *checker = H2O_STRUCT_FROM_MEMBER(struct health_checker, receiver, receiver);
    while (!h2o_linklist_is_empty(messages)) {
        struct plan *plan = H2O_STRUCT_FROM_MEMBER(struct plan, super.link, messages->next);
        h2o_linklist_unlink(&plan->super.link);
        if (plan->stop) {
            checker->stopping = 1;
            stop_probes(checker);
        } else if (!checker->stopping) {
            apply_plan(checker, plan);
        } else {
            for (size_t i = 0; i < plan->count; i++)
                free_spec(&plan->specs[i]);
            free(plan->specs);
        }
        free(plan);
    }
}

static void *checker_main(void *arg)
{
    struct health_checker *checker = arg;
    /* the loop and queue are made here, not by the caller: h2o allocates their buffers from per-thread caches */
    checker->loop = h2o_evloop_create();
    checker->queue = h2o_multithread_create_queue(checker->loop);
    h2o_multithread_register_receiver(checker->queue, &checker->receiver, on_plans);
    pthread_mutex_lock(&checker->mutex);
    checker->ready = 1;
    pthread_cond_signal(&checker->cond);
    pthread_mutex_unlock(&checker->mutex);
    while (!checker->stopping)
        h2o_evloop_run(checker->loop, 200);
    /* not joined: parking keeps this thread's h2o buffer caches reachable until exit, so leak checkers stay quiet */
    pthread_mutex_lock(&checker->mutex);
    checker->stopped = 1;
    pthread_cond_signal(&checker->cond);
    pthread_mutex_unlock(&checker->mutex);
    for (;;)
        pause();
    return NULL;
}

struct health_checker *health_checker_start(void)
{
    struct health_checker *checker = xcalloc(1, sizeof(*checker));
    pthread_mutex_init(&checker->mutex, NULL);
    pthread_cond_init(&checker->cond, NULL);
    if (pthread_create(&checker->thread, NULL, checker_main, checker) != 0) {
        log_error("cannot start the health checker thread");
        abort();
    }
    pthread_mutex_lock(&checker->mutex);
    while (!checker->ready)
        pthread_cond_wait(&checker->cond, &checker->mutex);
    pthread_mutex_unlock(&checker->mutex);
    return checker;
}

static void add_spec(struct plan *plan, const struct service *service, const struct upstream_target *target)
{
    const struct health_check_config *hc = &service->config->health_check;
    struct probe_spec *spec = &plan->specs[plan->count++];
    spec->service = xstrdup(service->config->name);
    spec->authority = xstrdup(target->authority);
    spec->addr = target->addr;
    spec->addrlen = target->addrlen;
    spec->request = xasprintf("GET %s HTTP/1.1\r\nhost: %s\r\nuser-agent: yiwang-health-check\r\nconnection: close\r\n\r\n",
                              hc->path, target->authority);
    spec->interval_ms = hc->interval_ms;
    spec->timeout_ms = hc->timeout_ms;
    spec->healthy_threshold = hc->healthy_threshold;
    spec->unhealthy_threshold = hc->unhealthy_threshold;
    spec->state = target->state;
    target_state_retain(spec->state);
}

void health_checker_update(struct health_checker *checker, const struct service_set *services)
{
    struct plan *plan = xcalloc(1, sizeof(*plan));
    plan->specs = xcalloc(services->num_targets, sizeof(*plan->specs));
    for (size_t i = 0; i < services->num_services; i++) {
        const struct service *service = &services->services[i];
        for (size_t j = 0; j < service->num_targets; j++) {
            if (service->config->health_check.enabled)
                add_spec(plan, service, &service->targets[j]);
            else
                atomic_store(&service->targets[j].state->active_down, 0); /* no check configured: nothing says down */
        }
    }
    h2o_multithread_send_message(&checker->receiver, &plan->super);
}

void health_checker_stop(struct health_checker *checker)
{
    if (checker == NULL)
        return;
    struct plan *stop = xcalloc(1, sizeof(*stop));
    stop->stop = 1;
    h2o_multithread_send_message(&checker->receiver, &stop->super);
    pthread_mutex_lock(&checker->mutex);
    while (!checker->stopped)
        pthread_cond_wait(&checker->cond, &checker->mutex);
    pthread_mutex_unlock(&checker->mutex);
}
