#include "gateway/ops.h"

#include <string.h>
#include <time.h>

#include "common/error_envelope.h"
#include "common/strbuf.h"
#include "gateway/admin_api.h"
#include "gateway/errors.h"
#include "gateway/server.h"

struct ops_handler {
    h2o_handler_t super;
    struct server *server;
};

static void send_body(h2o_req_t *req, int status, const char *reason, const char *content_type, struct strbuf *body)
{
    req->res.status = status;
    req->res.reason = reason;
    req->res.content_length = body->len;
    h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CONTENT_TYPE, NULL, content_type, strlen(content_type));
    h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CACHE_CONTROL, NULL, H2O_STRLIT("no-store"));
    h2o_send_inline(req, body->data != NULL ? body->data : "", body->len);
    strbuf_free(body);
}

static void send_json(h2o_req_t *req, int status, const char *reason, struct strbuf *body)
{
    send_body(req, status, reason, "application/json; charset=utf-8", body);
}

/* Targets a request could be sent to right now. */
static size_t count_available(const struct service *service, int64_t now_ms)
{
    size_t n = 0;
    for (size_t i = 0; i < service->num_targets; i++)
        n += upstream_target_is_available(&service->targets[i], now_ms);
    return n;
}

static void append_json_reason(struct strbuf *out, const char *text)
{
    strbuf_append_json_string(out, text, strlen(text));
}

/*
 * With the registry in the database (docs/registry.md §4 step 5): not ready until a registry has been loaded. During
 * a database outage or while the database's version is rejected here, the node serves the last registry and stays
 * ready but "degraded": pulling every node out of the balancer during an outage would take the whole gateway down.
 * Appends the registry members to `members`; returns the degraded reason as a malloc'ed JSON string, or NULL.
 */
static const char *registry_readiness(struct server *server, struct strbuf *reasons, struct strbuf *members)
{
    if (server->registry == NULL)
        return NULL;
    const struct registry_health *health = &server->registry_health;
    unsigned long long version = atomic_load(&health->version), rejected = atomic_load(&health->rejected);
    long long synced_at_ms = atomic_load(&health->synced_at_ms);
    int problem = atomic_load(&health->problem);
    strbuf_appendf(members, "\"registry_version\":%llu,\"registry_synced_at\":", version);
    if (synced_at_ms > 0) {
        time_t seconds = (time_t)(synced_at_ms / 1000);
        struct tm tm;
        char iso[32];
        gmtime_r(&seconds, &tm);
        strftime(iso, sizeof(iso), "%Y-%m-%dT%H:%M:%S", &tm);
        strbuf_appendf(members, "\"%s.%03lldZ\",", iso, synced_at_ms % 1000);
    } else {
        strbuf_append_str(members, "null,");
    }
    if (!atomic_load(&health->loaded)) {
        strbuf_append_str(reasons, reasons->len ? "," : "");
        append_json_reason(reasons, problem == REGISTRY_REJECTED
                                        ? "registry not loaded: the database's version is rejected by this node"
                                        : "registry not loaded: database unreachable and no usable cache file");
        return NULL;
    }
    if (problem == REGISTRY_OK)
        return NULL;
    char text[160];
    if (problem == REGISTRY_REJECTED)
        snprintf(text, sizeof(text), "registry version %llu rejected by this node; serving version %llu", rejected, version);
    else
        snprintf(text, sizeof(text), "registry database unreachable; serving version %llu", version);
    struct strbuf reason = STRBUF_INIT;
    append_json_reason(&reason, text);
    return strbuf_detach(&reason, NULL);
}

static void handle_readyz(struct server *server, struct loop_thread *thread, h2o_req_t *req)
{
    const struct snapshot *snapshot = thread->holder->snapshot;
    int64_t now = (int64_t)h2o_now(thread->ctx.loop);
    struct strbuf services = STRBUF_INIT, reasons = STRBUF_INIT;
    strbuf_append_char(&services, '{');
    for (size_t i = 0; i < snapshot->services->num_services; i++) {
        const struct service *service = &snapshot->services->services[i];
        size_t available = count_available(service, now);
        strbuf_appendf(&services, "%s", i ? "," : "");
        strbuf_append_json_string(&services, service->config->name, strlen(service->config->name));
        strbuf_appendf(&services, ":{\"healthy_targets\":%zu,\"targets\":%zu}", available, service->num_targets);
        if (available == 0) {
            char reason[256];
            int n = snprintf(reason, sizeof(reason), "service %s has no healthy target (%zu configured)", service->config->name,
                             service->num_targets);
            strbuf_append_str(&reasons, reasons.len ? "," : "");
            strbuf_append_json_string(&reasons, reason, (size_t)n < sizeof(reason) ? (size_t)n : sizeof(reason) - 1);
        }
    }
    strbuf_append_char(&services, '}');
    if (atomic_load(&server->stopping) || thread->stopping) {
        strbuf_append_str(&reasons, reasons.len ? "," : "");
        strbuf_append_str(&reasons, "\"shutting down\"");
    }
    struct strbuf body = STRBUF_INIT, registry = STRBUF_INIT;
    const char *degraded = registry_readiness(server, &reasons, &registry);
    int ready = reasons.len == 0;
    strbuf_appendf(&body, "{\"status\":\"%s\",\"generation\":%llu,",
                   !ready     ? "not_ready"
                   : degraded ? "degraded"
                              : "ready",
                   (unsigned long long)snapshot->generation);
    if (!ready)
        strbuf_appendf(&body, "\"reasons\":[%s],", reasons.data);
    else if (degraded != NULL)
        strbuf_appendf(&body, "\"reason\":%s,", degraded);
    strbuf_append(&body, registry.data != NULL ? registry.data : "", registry.len);
    strbuf_appendf(&body, "\"services\":%s}", services.data);
    strbuf_free(&services);
    strbuf_free(&reasons);
    strbuf_free(&registry);
    free((char *)degraded);
    send_json(req, ready ? 200 : 503, ready ? "OK" : "Service Unavailable", &body);
}

static void render_upstream_gauges(const struct snapshot *snapshot, int64_t now, struct strbuf *out)
{
    strbuf_append_str(out, "# HELP yiwang_upstream_in_flight Requests in flight to a service (capped by max_in_flight).\n"
                           "# TYPE yiwang_upstream_in_flight gauge\n");
    for (size_t i = 0; i < snapshot->services->num_services; i++) {
        const struct service *s = &snapshot->services->services[i];
        strbuf_append_str(out, "yiwang_upstream_in_flight{service=\"");
        metrics_append_label_value(out, s->config->name);
        strbuf_appendf(out, "\"} %u\n", atomic_load_explicit(&s->state->in_flight, memory_order_relaxed));
    }
    static const char *const target_metrics[] = {"yiwang_upstream_target_healthy",
                                                 "gauge",
                                                 "1 when the target may receive requests (not ejected, health check passing).",
                                                 "yiwang_upstream_target_in_flight",
                                                 "gauge",
                                                 "Requests in flight to the target.",
                                                 "yiwang_upstream_target_ejections_total",
                                                 "counter",
                                                 "Times passive health checking ejected the target."};
    for (int m = 0; m < 3; m++) {
        strbuf_appendf(out, "# HELP %s %s\n# TYPE %s %s\n", target_metrics[m * 3], target_metrics[m * 3 + 2], target_metrics[m * 3],
                       target_metrics[m * 3 + 1]);
        for (size_t i = 0; i < snapshot->services->num_services; i++) {
            const struct service *s = &snapshot->services->services[i];
            for (size_t j = 0; j < s->num_targets; j++) {
                const struct upstream_target *t = &s->targets[j];
                unsigned long long value = m == 0   ? (unsigned long long)upstream_target_is_available(t, now)
                                           : m == 1 ? atomic_load_explicit(&t->state->in_flight, memory_order_relaxed)
                                                    : atomic_load_explicit(&t->state->ejections_total, memory_order_relaxed);
                strbuf_appendf(out, "%s{service=\"", target_metrics[m * 3]);
                metrics_append_label_value(out, s->config->name);
                strbuf_append_str(out, "\",target=\"");
                metrics_append_label_value(out, t->authority);
                strbuf_appendf(out, "\"} %llu\n", value);
            }
        }
    }
}

static void render_registry_metrics(const struct registry_health *health, struct strbuf *out)
{
    strbuf_appendf(out,
                   "# HELP yiwang_registry_version Version of the service registry this node serves.\n"
                   "# TYPE yiwang_registry_version gauge\nyiwang_registry_version %llu\n"
                   "# HELP yiwang_registry_sync_failures_total Registry polls that failed: database unreachable or a "
                   "version this node rejected.\n"
                   "# TYPE yiwang_registry_sync_failures_total counter\nyiwang_registry_sync_failures_total %llu\n"
                   "# HELP yiwang_registry_synced_timestamp_seconds When this node last confirmed it serves the "
                   "database's registry version.\n"
                   "# TYPE yiwang_registry_synced_timestamp_seconds gauge\nyiwang_registry_synced_timestamp_seconds %.3f\n",
                   (unsigned long long)atomic_load(&health->version), (unsigned long long)atomic_load(&health->failures),
                   (double)atomic_load(&health->synced_at_ms) / 1000.0);
}

static void handle_metrics(struct server *server, struct loop_thread *thread, h2o_req_t *req)
{
    const struct snapshot *snapshot = thread->holder->snapshot;
    struct strbuf body = STRBUF_INIT;
    strbuf_appendf(&body,
                   "# HELP yiwang_build_info Build information.\n# TYPE yiwang_build_info gauge\n"
                   "yiwang_build_info{version=\"%s\"} 1\n",
                   YIWANG_VERSION);
    strbuf_appendf(&body,
                   "# HELP yiwang_config_generation Generation of the configuration being served.\n"
                   "# TYPE yiwang_config_generation gauge\nyiwang_config_generation %llu\n",
                   (unsigned long long)snapshot->generation);
    strbuf_appendf(&body,
                   "# HELP yiwang_config_reloads_total Configuration reloads by result.\n"
                   "# TYPE yiwang_config_reloads_total counter\n"
                   "yiwang_config_reloads_total{result=\"ok\"} %llu\nyiwang_config_reloads_total{result=\"rejected\"} %llu\n",
                   atomic_load(&server->reloads_ok), atomic_load(&server->reloads_failed));
    strbuf_appendf(&body,
                   "# HELP yiwang_access_log_dropped_total Access-log buffers dropped because the writer fell behind.\n"
                   "# TYPE yiwang_access_log_dropped_total counter\nyiwang_access_log_dropped_total %llu\n",
                   access_log_dropped(server->access_log));
    if (server->registry != NULL)
        render_registry_metrics(&server->registry_health, &body);
    metrics_render(server->metrics, &body);
    render_upstream_gauges(snapshot, (int64_t)h2o_now(thread->ctx.loop), &body);
    send_body(req, 200, "OK", "text/plain; version=0.0.4; charset=utf-8", &body);
}

static void send_ops_error(struct loop_thread *thread, h2o_req_t *req, enum gateway_error error)
{
    const struct gateway_error_info *info = gateway_error_info(error);
    char id[33];
    loop_thread_random_hex(thread, id, 32);
    id[32] = '\0';
    struct strbuf body = STRBUF_INIT;
    error_envelope_append(&body, info->code, info->message_en, id, 32);
    h2o_add_header_by_str(&req->pool, &req->res.headers, H2O_STRLIT("x-request-id"), 0, NULL, h2o_strdup(&req->pool, id, 32).base,
                          32);
    send_json(req, info->status, info->reason, &body);
}

static int on_req(h2o_handler_t *self, h2o_req_t *req)
{
    struct ops_handler *handler = (struct ops_handler *)self;
    struct loop_thread *thread = loop_thread_from_context(req->conn->ctx);
    if (admin_api_handle(req))
        return 0;
    size_t path_len = req->query_at != SIZE_MAX ? req->query_at : req->path.len;
    int is_get = h2o_memis(req->method.base, req->method.len, H2O_STRLIT("GET")) ||
                 h2o_memis(req->method.base, req->method.len, H2O_STRLIT("HEAD"));
    if (is_get && h2o_memis(req->path.base, path_len, H2O_STRLIT("/healthz"))) {
        struct strbuf body = STRBUF_INIT;
        strbuf_append_str(&body, "{\"status\":\"ok\"}");
        send_json(req, 200, "OK", &body);
    } else if (is_get && h2o_memis(req->path.base, path_len, H2O_STRLIT("/readyz"))) {
        handle_readyz(handler->server, thread, req);
    } else if (is_get && h2o_memis(req->path.base, path_len, H2O_STRLIT("/metrics"))) {
        handle_metrics(handler->server, thread, req);
    } else {
        send_ops_error(thread, req, GW_ERR_NOT_FOUND);
    }
    return 0;
}

void ops_register(h2o_pathconf_t *pathconf, struct server *server)
{
    struct ops_handler *handler = (struct ops_handler *)h2o_create_handler(pathconf, sizeof(*handler));
    handler->super.on_req = on_req;
    handler->server = server;
}
