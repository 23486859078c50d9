/*
 * config.c — reads, validates and builds `struct config` (see config.h).
 *
 * Three steps, each reporting every problem it finds:
 *  1. the file is read and parsed (duplicate keys are an error: the second
 *     value would silently win otherwise);
 *  2. the document is validated against schemas/json/config.schema.json;
 *  3. only if it matches the schema, the struct is built with every default
 *     applied and the rules a schema cannot express are checked on it. They
 *     run after the schema so that they can rely on its types and ranges,
 *     and never restate a problem the schema already reported.
 */
#include "common/config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "common/embedded_schemas.h"
#include "common/json_schema.h"
#include "common/strbuf.h"
#include "common/xalloc.h"

#define MAX_CONFIG_BYTES (64u << 20) /* far above any sane config; stops reading /dev/zero */
#define MAX_THREADS 64

/* Defaults. Each must equal the "default" of the same property in
 * config.schema.json, which documents them (test_config compares the two). */
#define DEFAULT_LISTEN_ADDRESS "127.0.0.1"
#define DEFAULT_PUBLIC_PORT 8080
#define DEFAULT_TLS_PORT 8443
#define DEFAULT_OPS_PORT 9080
#define DEFAULT_THREADS 0
#define DEFAULT_MAX_HEADER_BYTES 16384
#define DEFAULT_MAX_BODY_BYTES 8388608
#define DEFAULT_ROUTE_MAX_BODY_BYTES 1048576
#define DEFAULT_CLIENT_TIMEOUT_MS 10000
#define DEFAULT_IDLE_TIMEOUT_MS 30000
#define DEFAULT_MAX_CONNECTIONS 10000
#define DEFAULT_ACCESS_LOG "-"
#define DEFAULT_DRAIN_TIMEOUT_MS 10000
#define DEFAULT_DEPARTMENT ""
#define DEFAULT_WEIGHT 1
#define DEFAULT_CONNECT_TIMEOUT_MS 1000
#define DEFAULT_RESPONSE_HEADER_TIMEOUT_MS 10000
#define DEFAULT_TOTAL_TIMEOUT_MS 30000
#define DEFAULT_RETRIES 1
#define DEFAULT_MAX_IN_FLIGHT 512
#define DEFAULT_PASSIVE_MAX_FAILURES 3
#define DEFAULT_PASSIVE_COOLDOWN_MS 10000
#define DEFAULT_KEEPALIVE_TIMEOUT_MS 4000
#define DEFAULT_HEALTH_PATH "/healthz"
#define DEFAULT_HEALTH_INTERVAL_MS 2000
#define DEFAULT_HEALTH_TIMEOUT_MS 1000
#define DEFAULT_HEALTHY_THRESHOLD 2
#define DEFAULT_UNHEALTHY_THRESHOLD 2
#define DEFAULT_REGISTRY_SOURCE "file"
#define DEFAULT_DATABASE_POOL_SIZE 4
#define DEFAULT_DATABASE_CONNECT_TIMEOUT_MS 2000
#define DEFAULT_CLOCK_SKEW_S 60
#define DEFAULT_SIGNING_ALG "ES256"
#define DEFAULT_ACCESS_TOKEN_TTL_S 600
#define DEFAULT_TRUSTED_KEY_TYP "at+jwt"
#define DEFAULT_AUTH_POLICY "public"
#define DEFAULT_MIN_ACR 0
#define DEFAULT_REFRESH_TOKEN_TTL_S 2592000
#define DEFAULT_REFRESH_REUSE_GRACE_S 10
#define DEFAULT_SESSION_IDLE_TIMEOUT_S 1800
#define DEFAULT_SESSION_ABSOLUTE_TIMEOUT_S 43200
#define DEFAULT_GUARD_MOBILE_MAX_FAILURES 5
#define DEFAULT_GUARD_IP_MAX_FAILURES 50
#define DEFAULT_GUARD_FAILURE_WINDOW_S 900
#define DEFAULT_GUARD_LOCK_S 60
#define DEFAULT_GUARD_MAX_LOCK_S 1800
#define DEFAULT_AUTHORIZATION_CODE_TTL_S 60
#define DEFAULT_ID_TOKEN_TTL_S 600
#define DEFAULT_SMS_TIMEOUT_MS 3000
#define DEFAULT_SMS_CODE_TTL_S 300
#define DEFAULT_SMS_MAX_ATTEMPTS 5
#define DEFAULT_SMS_RESEND_INTERVAL_S 60
#define DEFAULT_SMS_DAILY_LIMIT_PER_MOBILE 10
#define DEFAULT_SMS_DAILY_LIMIT_PER_IP 200

static const struct {
    const char *name;
    unsigned bit;
} method_table[] = {
    {"GET", HTTP_METHOD_GET},     {"HEAD", HTTP_METHOD_HEAD},     {"POST", HTTP_METHOD_POST},       {"PUT", HTTP_METHOD_PUT},
    {"PATCH", HTTP_METHOD_PATCH}, {"DELETE", HTTP_METHOD_DELETE}, {"OPTIONS", HTTP_METHOD_OPTIONS},
};

unsigned http_method_bit_from_name(const char *name, size_t len)
{
    for (size_t i = 0; i < sizeof(method_table) / sizeof(method_table[0]); i++)
        if (strlen(method_table[i].name) == len && memcmp(method_table[i].name, name, len) == 0)
            return method_table[i].bit;
    return 0;
}

/* ------------------------------------------------------------------------ */
/* Reading and parsing                                                      */

static char *read_file(const char *path, size_t *len, struct problem_list *problems)
{
    char reason[128];
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        problem_list_add(problems, "", "cannot read %s: %s", path, strerror_r(errno, reason, sizeof(reason)));
        return NULL;
    }
    struct stat st;
    int err = fstat(fd, &st) != 0 ? errno : S_ISDIR(st.st_mode) ? EISDIR : 0;
    /* Read until EOF rather than trusting st_size, so pipes work too. */
    struct strbuf sb = STRBUF_INIT;
    while (err == 0) {
        strbuf_reserve(&sb, 64 * 1024);
        ssize_t n = read(fd, sb.data + sb.len, sb.capacity - sb.len - 1);
        if (n < 0 && errno != EINTR) {
            err = errno;
        } else if (n == 0) {
            break;
        } else if (n > 0) {
            sb.len += (size_t)n;
            sb.data[sb.len] = '\0';
            if (sb.len > MAX_CONFIG_BYTES)
                err = EFBIG;
        }
    }
    close(fd);
    if (err != 0) {
        if (err == EFBIG)
            problem_list_add(problems, "", "cannot read %s: larger than %u MiB", path, MAX_CONFIG_BYTES >> 20);
        else
            problem_list_add(problems, "", "cannot read %s: %s", path, strerror_r(err, reason, sizeof(reason)));
        strbuf_free(&sb);
        return NULL;
    }
    return strbuf_detach(&sb, len);
}

static json_t *parse(const char *text, size_t len, struct problem_list *problems)
{
    json_error_t error;
    /* Any top-level value parses, so that "not an object" is the schema's
     * clear message rather than a parser error. */
    json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &error);
    if (root == NULL)
        problem_list_add(problems, "", "invalid JSON at line %d, column %d: %s", error.line, error.column, error.text);
    return root;
}

/* ------------------------------------------------------------------------ */
/* The embedded schema, compiled once per process                          */

static struct json_schema *config_schema;
static char *config_schema_error;
static pthread_once_t config_schema_once = PTHREAD_ONCE_INIT;

static void compile_config_schema(void)
{
    const struct embedded_schema *text = embedded_schema_find("config.schema.json");
    if (text == NULL) {
        config_schema_error = xstrdup("config.schema.json is not embedded in this binary");
        return;
    }
    config_schema = json_schema_load(text->text, text->len, &config_schema_error);
}

static const struct json_schema *get_config_schema(struct problem_list *problems)
{
    if (pthread_once(&config_schema_once, compile_config_schema) != 0 || config_schema == NULL) {
        problem_list_add(problems, "", "internal error: the configuration schema cannot be used: %s",
                         config_schema_error != NULL ? config_schema_error : "pthread_once failed");
        return NULL;
    }
    return config_schema;
}

/* ------------------------------------------------------------------------ */
/* Building the struct from a document that matches the schema             */

/* Members are read with a default; the schema has already checked types and
 * ranges, so a member present here has the right type. */
static json_int_t get_int(const json_t *object, const char *key, json_int_t fallback)
{
    const json_t *value = json_object_get(object, key);
    if (json_is_integer(value))
        return json_integer_value(value);
    if (json_is_real(value)) /* "integer" in the schema admits 8080.0 */
        return (json_int_t)json_real_value(value);
    return fallback;
}

static unsigned get_uint(const json_t *object, const char *key, unsigned fallback)
{
    return (unsigned)get_int(object, key, fallback);
}

static int get_bool(const json_t *object, const char *key, int fallback)
{
    const json_t *value = json_object_get(object, key);
    return json_is_boolean(value) ? json_is_true(value) : fallback;
}

/* Returns a copy of the member, of `fallback` when absent, NULL when null. */
static char *get_string(const json_t *object, const char *key, const char *fallback)
{
    const json_t *value = json_object_get(object, key);
    if (json_is_string(value))
        return xstrdup(json_string_value(value));
    if (value == NULL && fallback != NULL)
        return xstrdup(fallback);
    return NULL;
}

static void build_listener(struct listener_config *out, const json_t *object, int enabled, unsigned port)
{
    out->enabled = get_bool(object, "enabled", enabled);
    out->address = get_string(object, "address", DEFAULT_LISTEN_ADDRESS);
    out->port = (uint16_t)get_uint(object, "port", port);
}

static unsigned resolve_threads(unsigned configured)
{
    if (configured != 0)
        return configured;
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    if (cpus < 1)
        return 1;
    return cpus > MAX_THREADS ? MAX_THREADS : (unsigned)cpus;
}

static void build_health_check(struct health_check_config *out, const json_t *object)
{
    out->enabled = object != NULL && get_bool(object, "enabled", 1);
    out->path = get_string(object, "path", DEFAULT_HEALTH_PATH);
    out->interval_ms = get_uint(object, "interval_ms", DEFAULT_HEALTH_INTERVAL_MS);
    out->timeout_ms = get_uint(object, "timeout_ms", DEFAULT_HEALTH_TIMEOUT_MS);
    out->healthy_threshold = get_uint(object, "healthy_threshold", DEFAULT_HEALTHY_THRESHOLD);
    out->unhealthy_threshold = get_uint(object, "unhealthy_threshold", DEFAULT_UNHEALTHY_THRESHOLD);
}

static void build_service(struct service_config *out, const json_t *object)
{
    out->name = get_string(object, "name", NULL);
    out->department = get_string(object, "department", DEFAULT_DEPARTMENT);
    const json_t *targets = json_object_get(object, "targets");
    out->num_targets = json_array_size(targets);
    out->targets = xcalloc(out->num_targets, sizeof(*out->targets));
    for (size_t i = 0; i < out->num_targets; i++) {
        const json_t *target = json_array_get(targets, i);
        out->targets[i].host = get_string(target, "host", NULL);
        out->targets[i].port = (uint16_t)get_uint(target, "port", 0);
        out->targets[i].weight = get_uint(target, "weight", DEFAULT_WEIGHT);
    }
    const json_t *balancer = json_object_get(object, "balancer");
    out->balancer = json_is_string(balancer) && strcmp(json_string_value(balancer), "least_in_flight") == 0
                        ? BALANCER_LEAST_IN_FLIGHT
                        : BALANCER_ROUND_ROBIN;
    const json_t *timeouts = json_object_get(object, "timeouts");
    out->connect_timeout_ms = get_uint(timeouts, "connect_ms", DEFAULT_CONNECT_TIMEOUT_MS);
    out->response_header_timeout_ms = get_uint(timeouts, "response_header_ms", DEFAULT_RESPONSE_HEADER_TIMEOUT_MS);
    out->total_timeout_ms = get_uint(timeouts, "total_ms", DEFAULT_TOTAL_TIMEOUT_MS);
    out->retries = get_uint(object, "retries", DEFAULT_RETRIES);
    out->max_in_flight = get_uint(object, "max_in_flight", DEFAULT_MAX_IN_FLIGHT);
    const json_t *passive = json_object_get(object, "passive_health");
    out->passive_max_failures = get_uint(passive, "max_failures", DEFAULT_PASSIVE_MAX_FAILURES);
    out->passive_cooldown_ms = get_uint(passive, "cooldown_ms", DEFAULT_PASSIVE_COOLDOWN_MS);
    out->keepalive_timeout_ms = get_uint(object, "keepalive_timeout_ms", DEFAULT_KEEPALIVE_TIMEOUT_MS);
    build_health_check(&out->health_check, json_object_get(object, "health_check"));
}

static unsigned build_methods(const json_t *methods)
{
    if (methods == NULL)
        return HTTP_METHOD_ALL;
    unsigned mask = 0;
    for (size_t i = 0; i < json_array_size(methods); i++) {
        const json_t *name = json_array_get(methods, i);
        mask |= http_method_bit_from_name(json_string_value(name), json_string_length(name));
    }
    /* RFC 9110 §9.3.2: HEAD is GET without the body; clients and caches use it wherever GET works */
    if (mask & HTTP_METHOD_GET)
        mask |= HTTP_METHOD_HEAD;
    return mask;
}

/* A JSON array of strings as a malloc'ed array of copies. */
static char **get_string_array(const json_t *array, size_t *count)
{
    *count = json_array_size(array);
    char **items = xcalloc(*count, sizeof(*items));
    for (size_t i = 0; i < *count; i++)
        items[i] = xstrdup(json_string_value(json_array_get(array, i)));
    return items;
}

static void free_string_array(char **items, size_t count)
{
    for (size_t i = 0; i < count; i++)
        free(items[i]);
    free(items);
}

static void build_route_auth(struct route_auth_config *out, const json_t *object)
{
    const char *policy = json_string_value(json_object_get(object, "policy"));
    if (policy == NULL)
        policy = DEFAULT_AUTH_POLICY;
    out->policy = strcmp(policy, "user") == 0     ? ROUTE_AUTH_USER
                  : strcmp(policy, "client") == 0 ? ROUTE_AUTH_CLIENT
                                                  : ROUTE_AUTH_PUBLIC;
    out->scopes = get_string_array(json_object_get(object, "scopes"), &out->num_scopes);
    out->min_acr = get_uint(object, "min_acr", DEFAULT_MIN_ACR);
    out->forward_authorization = get_bool(object, "forward_authorization", 0);
}

static void build_database(struct database_config *out, const json_t *object)
{
    out->dsn = get_string(object, "dsn", NULL);
    out->pool_size = get_uint(object, "pool_size", DEFAULT_DATABASE_POOL_SIZE);
    out->connect_timeout_ms = get_uint(object, "connect_timeout_ms", DEFAULT_DATABASE_CONNECT_TIMEOUT_MS);
}

static void build_registry(struct registry_config *out, const json_t *object)
{
    char *source = get_string(object, "source", DEFAULT_REGISTRY_SOURCE);
    out->source = strcmp(source, "database") == 0 ? REGISTRY_SOURCE_DATABASE : REGISTRY_SOURCE_FILE;
    free(source);
    out->cache_file = get_string(object, "cache_file", NULL);
}

static void build_sms(struct sms_config *out, const json_t *object)
{
    out->enabled = object != NULL;
    const char *provider = json_string_value(json_object_get(object, "provider"));
    out->provider = provider != NULL && strcmp(provider, "http") == 0 ? SMS_PROVIDER_HTTP : SMS_PROVIDER_OUTBOX;
    out->outbox_file = get_string(object, "outbox_file", NULL);
    out->url = get_string(object, "url", NULL);
    out->ca_file = get_string(object, "ca_file", NULL);
    out->timeout_ms = get_uint(object, "timeout_ms", DEFAULT_SMS_TIMEOUT_MS);
    out->code_ttl_s = get_uint(object, "code_ttl_s", DEFAULT_SMS_CODE_TTL_S);
    out->max_attempts = get_uint(object, "max_attempts", DEFAULT_SMS_MAX_ATTEMPTS);
    out->resend_interval_s = get_uint(object, "resend_interval_s", DEFAULT_SMS_RESEND_INTERVAL_S);
    out->daily_limit_per_mobile = get_uint(object, "daily_limit_per_mobile", DEFAULT_SMS_DAILY_LIMIT_PER_MOBILE);
    out->daily_limit_per_ip = get_uint(object, "daily_limit_per_ip", DEFAULT_SMS_DAILY_LIMIT_PER_IP);
}

static void build_oidc(struct oidc_config *out, const json_t *object)
{
    static const char *const default_scopes[] = {"openid", "profile", "phone", "email"};
    out->authorization_code_ttl_s = get_uint(object, "authorization_code_ttl_s", DEFAULT_AUTHORIZATION_CODE_TTL_S);
    out->id_token_ttl_s = get_uint(object, "id_token_ttl_s", DEFAULT_ID_TOKEN_TTL_S);
    const json_t *scopes = json_object_get(object, "scopes_supported");
    size_t given = scopes != NULL ? json_array_size(scopes) : sizeof(default_scopes) / sizeof(default_scopes[0]);
    /* openid first and once: discovery without it would not describe an OpenID Provider */
    out->scopes_supported = xcalloc(given + 1, sizeof(*out->scopes_supported));
    out->scopes_supported[out->num_scopes_supported++] = xstrdup("openid");
    for (size_t i = 0; i < given; i++) {
        const char *scope = scopes != NULL ? json_string_value(json_array_get(scopes, i)) : default_scopes[i];
        if (scope != NULL && strcmp(scope, "openid") != 0)
            out->scopes_supported[out->num_scopes_supported++] = xstrdup(scope);
    }
}

static void build_sign_in(struct identity_config *out, const json_t *object)
{
    out->refresh_token_ttl_s = get_uint(object, "refresh_token_ttl_s", DEFAULT_REFRESH_TOKEN_TTL_S);
    out->refresh_reuse_grace_s = get_uint(object, "refresh_reuse_grace_s", DEFAULT_REFRESH_REUSE_GRACE_S);
    const json_t *sessions = json_object_get(object, "sessions");
    out->sessions.idle_timeout_s = get_uint(sessions, "idle_timeout_s", DEFAULT_SESSION_IDLE_TIMEOUT_S);
    out->sessions.absolute_timeout_s = get_uint(sessions, "absolute_timeout_s", DEFAULT_SESSION_ABSOLUTE_TIMEOUT_S);
    const json_t *guard = json_object_get(object, "login_guard");
    out->login_guard.mobile_max_failures = get_uint(guard, "mobile_max_failures", DEFAULT_GUARD_MOBILE_MAX_FAILURES);
    out->login_guard.ip_max_failures = get_uint(guard, "ip_max_failures", DEFAULT_GUARD_IP_MAX_FAILURES);
    out->login_guard.failure_window_s = get_uint(guard, "failure_window_s", DEFAULT_GUARD_FAILURE_WINDOW_S);
    out->login_guard.lock_s = get_uint(guard, "lock_s", DEFAULT_GUARD_LOCK_S);
    out->login_guard.max_lock_s = get_uint(guard, "max_lock_s", DEFAULT_GUARD_MAX_LOCK_S);
    build_sms(&out->sms, json_object_get(object, "sms"));
    build_oidc(&out->oidc, json_object_get(object, "oidc"));
}

static void build_identity(struct identity_config *out, const json_t *object)
{
    out->issuer = get_string(object, "issuer", NULL);
    const json_t *audiences = json_object_get(object, "audiences");
    if (audiences != NULL) {
        out->audiences = get_string_array(audiences, &out->num_audiences);
    } else if (out->issuer != NULL) {
        out->audiences = xcalloc(1, sizeof(*out->audiences));
        out->audiences[0] = xstrdup(out->issuer);
        out->num_audiences = 1;
    }
    out->master_key_file = get_string(object, "master_key_file", NULL);
    out->clock_skew_s = get_uint(object, "clock_skew_s", DEFAULT_CLOCK_SKEW_S);
    out->signing_alg = get_string(object, "signing_alg", DEFAULT_SIGNING_ALG);
    out->access_token_ttl_s = get_uint(object, "access_token_ttl_s", DEFAULT_ACCESS_TOKEN_TTL_S);
    const json_t *keys = json_object_get(object, "trusted_keys");
    out->num_trusted_keys = json_array_size(keys);
    out->trusted_keys = xcalloc(out->num_trusted_keys, sizeof(*out->trusted_keys));
    for (size_t i = 0; i < out->num_trusted_keys; i++) {
        const json_t *key = json_array_get(keys, i);
        struct trusted_key_config *k = &out->trusted_keys[i];
        k->kid = get_string(key, "kid", NULL);
        k->alg = get_string(key, "alg", NULL);
        k->public_key_file = get_string(key, "public_key_file", NULL);
        k->issuer = get_string(key, "issuer", NULL);
        k->typ = get_string(key, "typ", DEFAULT_TRUSTED_KEY_TYP);
    }
    build_sign_in(out, object);
}

static void build_route(struct route_config *out, const json_t *object, size_t max_body_bytes)
{
    out->name = get_string(object, "name", NULL);
    out->host = get_string(object, "host", NULL);
    out->path_prefix = get_string(object, "path_prefix", NULL);
    out->methods = build_methods(json_object_get(object, "methods"));
    out->service = get_string(object, "service", NULL);
    out->strip_prefix = get_bool(object, "strip_prefix", 0);
    /* Routes default below the gateway-wide ceiling: h2o refuses bodies above the ceiling itself (a reset stream over
     * HTTP/2), while bodies between a route's limit and the ceiling get a proper 413 on every protocol. */
    size_t route_default = max_body_bytes < DEFAULT_ROUTE_MAX_BODY_BYTES ? max_body_bytes : DEFAULT_ROUTE_MAX_BODY_BYTES;
    out->max_body_bytes = (size_t)get_int(object, "max_body_bytes", (json_int_t)route_default);
    build_route_auth(&out->auth, json_object_get(object, "auth"));
}

static struct config *build(const json_t *root)
{
    struct config *config = xcalloc(1, sizeof(*config));
    const json_t *listeners = json_object_get(root, "listeners");
    build_listener(&config->public_listener, json_object_get(listeners, "public"), 1, DEFAULT_PUBLIC_PORT);
    const json_t *tls = json_object_get(listeners, "tls");
    build_listener(&config->tls_listener.listener, tls, tls != NULL, DEFAULT_TLS_PORT);
    config->tls_listener.certificate_file = get_string(tls, "certificate", NULL);
    config->tls_listener.key_file = get_string(tls, "key", NULL);
    build_listener(&config->ops_listener, json_object_get(listeners, "ops"), 1, DEFAULT_OPS_PORT);
    config->threads = resolve_threads(get_uint(root, "threads", DEFAULT_THREADS));

    const json_t *limits = json_object_get(root, "limits");
    config->limits.max_header_bytes = (size_t)get_int(limits, "max_header_bytes", DEFAULT_MAX_HEADER_BYTES);
    config->limits.max_body_bytes = (size_t)get_int(limits, "max_body_bytes", DEFAULT_MAX_BODY_BYTES);
    config->limits.client_timeout_ms = get_uint(limits, "client_timeout_ms", DEFAULT_CLIENT_TIMEOUT_MS);
    config->limits.idle_timeout_ms = get_uint(limits, "idle_timeout_ms", DEFAULT_IDLE_TIMEOUT_MS);
    config->limits.max_connections = get_uint(limits, "max_connections", DEFAULT_MAX_CONNECTIONS);
    config->access_log.path = get_string(json_object_get(root, "access_log"), "path", DEFAULT_ACCESS_LOG);
    config->drain_timeout_ms = get_uint(json_object_get(root, "shutdown"), "drain_timeout_ms", DEFAULT_DRAIN_TIMEOUT_MS);
    build_database(&config->database, json_object_get(root, "database"));
    build_registry(&config->registry, json_object_get(root, "registry"));
    build_identity(&config->identity, json_object_get(root, "identity"));

    const json_t *services = json_object_get(root, "services");
    config->num_services = json_array_size(services);
    config->services = xcalloc(config->num_services, sizeof(*config->services));
    for (size_t i = 0; i < config->num_services; i++)
        build_service(&config->services[i], json_array_get(services, i));
    const json_t *routes = json_object_get(root, "routes");
    config->num_routes = json_array_size(routes);
    config->routes = xcalloc(config->num_routes, sizeof(*config->routes));
    for (size_t i = 0; i < config->num_routes; i++)
        build_route(&config->routes[i], json_array_get(routes, i), config->limits.max_body_bytes);
    return config;
}

/* ------------------------------------------------------------------------ */
/* Rules the schema cannot express                                          */

/* Names are checked for uniqueness by sorting (name, index) pairs: 10,000
 * routes must not cost 50 million comparisons. */
struct name_ref {
    const char *name;
    size_t index;
};

static int compare_name_refs(const void *a, const void *b)
{
    const struct name_ref *x = a, *y = b;
    int c = strcmp(x->name, y->name);
    return c != 0 ? c : (x->index > y->index) - (x->index < y->index);
}

static int compare_names(const void *a, const void *b)
{
    return strcmp(((const struct name_ref *)a)->name, ((const struct name_ref *)b)->name);
}

/* Reports every later use of a name already used at a lower index. */
static void report_duplicate_names(const struct name_ref *refs, size_t n, const char *collection, const char *what,
                                   struct problem_list *problems)
{
    size_t first = 0;
    for (size_t i = 1; i < n; i++) {
        if (strcmp(refs[i].name, refs[first].name) != 0) {
            first = i;
            continue;
        }
        char *pointer = xasprintf("/%s/%zu/name", collection, refs[i].index);
        problem_list_add(problems, pointer, "duplicate %s name '%s' (first used at /%s/%zu)", what, refs[i].name, collection,
                         refs[first].index);
        free(pointer);
    }
}

static void check_names_and_references(const struct config *config, struct problem_list *problems)
{
    struct name_ref *services = xcalloc(config->num_services, sizeof(*services));
    for (size_t i = 0; i < config->num_services; i++)
        services[i] = (struct name_ref){config->services[i].name, i};
    qsort(services, config->num_services, sizeof(*services), compare_name_refs);
    report_duplicate_names(services, config->num_services, "services", "service", problems);

    struct name_ref *routes = xcalloc(config->num_routes, sizeof(*routes));
    for (size_t i = 0; i < config->num_routes; i++)
        routes[i] = (struct name_ref){config->routes[i].name, i};
    qsort(routes, config->num_routes, sizeof(*routes), compare_name_refs);
    report_duplicate_names(routes, config->num_routes, "routes", "route", problems);
    free(routes);

    for (size_t i = 0; i < config->num_routes; i++) {
        struct name_ref key = {config->routes[i].service, 0};
        if (bsearch(&key, services, config->num_services, sizeof(*services), compare_names) == NULL) {
            char *pointer = xasprintf("/routes/%zu/service", i);
            problem_list_add(problems, pointer, "unknown service '%s'", key.name);
            free(pointer);
        }
    }
    free(services);
}

/* Route hosts are compared with the request's Host as strings (lower-cased,
 * port, brackets and a trailing dot removed), so the configured host must be
 * in the one form that can match. Returns a malloc'ed message, or NULL if fine. */
static char *host_problem(const char *host)
{
    const char *colon = strchr(host, ':');
    if (host[0] == '[')
        return xstrdup("must be written without brackets (an IPv6 address as it is, e.g. 2001:db8::1)");
    if (colon != NULL && strchr(colon + 1, ':') != NULL) {
        unsigned char address[sizeof(struct in6_addr)];
        char canonical[INET6_ADDRSTRLEN];
        if (inet_pton(AF_INET6, host, address) != 1 || inet_ntop(AF_INET6, address, canonical, sizeof(canonical)) == NULL)
            return xstrdup("must be a DNS host name, an IPv4 address or an IPv6 address");
        return strcmp(canonical, host) == 0 ? NULL : xasprintf("must be written in canonical form: %s", canonical);
    }
    if (colon != NULL)
        return xstrdup("must not include a port (a route matches its host on any port)");
    for (const char *p = host; *p; p++)
        if (*p >= 'A' && *p <= 'Z')
            return xstrdup("must be lower-case");
    size_t len = strlen(host), label = 0;
    if (len > 1 && host[len - 1] == '.')
        return xstrdup("must not end with '.'");
    for (size_t i = 0; i <= len; i++) {
        char c = host[i];
        if (c == '.' || c == '\0') {
            if (label == 0 || label > 63 || host[i - 1] == '-')
                return xstrdup("must be a DNS host name, an IPv4 address or an IPv6 address");
            label = 0;
        } else if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || (c == '-' && label > 0)) {
            label++;
        } else {
            return xstrdup("must be a DNS host name, an IPv4 address or an IPv6 address");
        }
    }
    return NULL;
}

static void add_problem_at(struct problem_list *problems, const char *base, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void add_problem_at(struct problem_list *problems, const char *base, const char *key, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *message = xvasprintf(fmt, ap);
    va_end(ap);
    char *pointer = json_pointer_append(base, key);
    problem_list_add(problems, pointer, "%s", message);
    free(pointer);
    free(message);
}

/* `lesser_key` (of `object`, at pointer `base`) may not exceed `greater_key`.
 * The problem names whichever of the two the file actually sets. */
static void check_not_above(struct problem_list *problems, const char *base, const json_t *object, const char *lesser_key,
                            unsigned lesser, const char *greater_key, unsigned greater)
{
    if (lesser <= greater)
        return;
    if (json_object_get(object, lesser_key) != NULL)
        add_problem_at(problems, base, lesser_key, "must not exceed %s (%u)", greater_key, greater);
    else
        add_problem_at(problems, base, greater_key, "must not be less than %s (%u, the default)", lesser_key, lesser);
}

static void check_service(const struct service_config *service, size_t index, const json_t *object, struct problem_list *problems)
{
    char *base = xasprintf("/services/%zu/timeouts", index);
    const json_t *timeouts = json_object_get(object, "timeouts");
    check_not_above(problems, base, timeouts, "connect_ms", service->connect_timeout_ms, "total_ms", service->total_timeout_ms);
    check_not_above(problems, base, timeouts, "response_header_ms", service->response_header_timeout_ms, "total_ms",
                    service->total_timeout_ms);
    free(base);
    /* A check that may outlast its interval would overlap the next one. */
    base = xasprintf("/services/%zu/health_check", index);
    check_not_above(problems, base, json_object_get(object, "health_check"), "timeout_ms", service->health_check.timeout_ms,
                    "interval_ms", service->health_check.interval_ms);
    free(base);
}

static void check_route(const struct config *config, size_t index, const json_t *object, struct problem_list *problems)
{
    const struct route_config *route = &config->routes[index];
    char *base = xasprintf("/routes/%zu", index);
    char *problem = route->host != NULL ? host_problem(route->host) : NULL;
    if (problem != NULL)
        add_problem_at(problems, base, "host", "%s", problem);
    free(problem);
    if (json_object_get(object, "max_body_bytes") != NULL && route->max_body_bytes > config->limits.max_body_bytes)
        add_problem_at(problems, base, "max_body_bytes", "must not exceed limits.max_body_bytes (%zu)",
                       config->limits.max_body_bytes);
    free(base);
}

/* Two routes with the same host and prefix (as the route table compares them:
 * case-insensitively, trailing '/' ignored) may not both allow a method. */
struct route_key {
    char *key;
    size_t index;
};

static int compare_route_keys(const void *a, const void *b)
{
    const struct route_key *x = a, *y = b;
    int c = strcmp(x->key, y->key);
    return c != 0 ? c : (x->index > y->index) - (x->index < y->index);
}

static char *route_key(const struct route_config *route)
{
    size_t len = strlen(route->path_prefix);
    if (len > 1 && route->path_prefix[len - 1] == '/')
        len--;
    char *key = xasprintf("%s %.*s", route->host != NULL ? route->host : "", (int)len, route->path_prefix);
    for (char *p = key; *p; p++)
        if (*p >= 'A' && *p <= 'Z')
            *p = (char)(*p - 'A' + 'a');
    return key;
}

static void report_route_conflict(const struct config *config, size_t earlier, size_t later, struct problem_list *problems)
{
    unsigned common = config->routes[earlier].methods & config->routes[later].methods;
    struct strbuf methods = STRBUF_INIT;
    for (size_t m = 0; m < sizeof(method_table) / sizeof(method_table[0]); m++)
        if (common & method_table[m].bit)
            strbuf_appendf(&methods, "%s%s", methods.len ? ", " : "", method_table[m].name);
    char *pointer = xasprintf("/routes/%zu/path_prefix", later);
    problem_list_add(problems, pointer, "route '%s' (/routes/%zu) already serves %s on the same host and path prefix",
                     config->routes[earlier].name, earlier, methods.data);
    free(pointer);
    strbuf_free(&methods);
}

static void check_route_conflicts(const struct config *config, struct problem_list *problems)
{
    struct route_key *keys = xcalloc(config->num_routes, sizeof(*keys));
    for (size_t i = 0; i < config->num_routes; i++)
        keys[i] = (struct route_key){route_key(&config->routes[i]), i};
    qsort(keys, config->num_routes, sizeof(*keys), compare_route_keys);
    for (size_t start = 0, end; start < config->num_routes; start = end) {
        for (end = start + 1; end < config->num_routes && strcmp(keys[end].key, keys[start].key) == 0; end++)
            ;
        /* Routes sharing a key are few (one per method group), so pairs are cheap. */
        for (size_t j = start + 1; j < end; j++) {
            for (size_t i = start; i < j; i++) {
                if (config->routes[keys[i].index].methods & config->routes[keys[j].index].methods) {
                    report_route_conflict(config, keys[i].index, keys[j].index, problems);
                    break;
                }
            }
        }
    }
    for (size_t i = 0; i < config->num_routes; i++)
        free(keys[i].key);
    free(keys);
}

struct bound_listener {
    const char *name; /* as under "listeners" */
    const struct listener_config *config;
};

/* Whether two listen addresses on the same port would collide. A wildcard
 * collides with everything of its family, and "::" with IPv4 too (dual stack). */
static int addresses_overlap(const char *a, const char *b)
{
    unsigned char x[sizeof(struct in6_addr)] = {0}, y[sizeof(struct in6_addr)] = {0};
    static const unsigned char any[sizeof(struct in6_addr)] = {0};
    int fx = inet_pton(AF_INET, a, x) == 1 ? AF_INET : inet_pton(AF_INET6, a, x) == 1 ? AF_INET6 : 0;
    int fy = inet_pton(AF_INET, b, y) == 1 ? AF_INET : inet_pton(AF_INET6, b, y) == 1 ? AF_INET6 : 0;
    size_t lx = fx == AF_INET ? 4 : 16, ly = fy == AF_INET ? 4 : 16;
    int x_any = memcmp(x, any, lx) == 0, y_any = memcmp(y, any, ly) == 0;
    if (fx != fy)
        return (fx == AF_INET6 && x_any) || (fy == AF_INET6 && y_any);
    return x_any || y_any || memcmp(x, y, lx) == 0;
}

static void check_listeners(const struct config *config, const json_t *root, struct problem_list *problems)
{
    const struct bound_listener all[] = {
        {"public", &config->public_listener},
        {"tls", &config->tls_listener.listener},
        {"ops", &config->ops_listener},
    };
    const json_t *listeners = json_object_get(root, "listeners");
    for (size_t j = 1; j < sizeof(all) / sizeof(all[0]); j++) {
        for (size_t i = 0; i < j; i++) {
            const struct listener_config *a = all[i].config, *b = all[j].config;
            if (!a->enabled || !b->enabled || a->port != b->port || !addresses_overlap(a->address, b->address))
                continue;
            /* Point at a port the file sets, preferring the later listener. */
            int later_explicit = json_object_get(json_object_get(listeners, all[j].name), "port") != NULL;
            const struct bound_listener *at = later_explicit ? &all[j] : &all[i], *other = later_explicit ? &all[i] : &all[j];
            char *base = xasprintf("/listeners/%s", at->name);
            add_problem_at(problems, base, "port", "port %u is already used by the %s listener on %s", (unsigned)b->port,
                           other->name, other->config->address);
            free(base);
            break;
        }
    }
}

static void check_route_auth(const struct config *config, size_t index, struct problem_list *problems)
{
    const struct route_auth_config *auth = &config->routes[index].auth;
    char *base = xasprintf("/routes/%zu/auth", index);
    if (auth->policy != ROUTE_AUTH_PUBLIC && config->identity.issuer == NULL)
        add_problem_at(problems, base, "policy", "needs the identity section (which tokens to accept)");
    if (auth->policy != ROUTE_AUTH_USER && auth->min_acr != 0)
        add_problem_at(problems, base, "min_acr", "applies to people only: it needs policy \"user\"");
    if (auth->policy == ROUTE_AUTH_PUBLIC && auth->num_scopes != 0)
        add_problem_at(problems, base, "scopes", "a public route cannot require scopes");
    free(base);
}

static void check_trusted_keys(const struct identity_config *identity, struct problem_list *problems)
{
    for (size_t j = 1; j < identity->num_trusted_keys; j++) {
        for (size_t i = 0; i < j; i++) {
            if (strcmp(identity->trusted_keys[i].kid, identity->trusted_keys[j].kid) == 0) {
                char *pointer = xasprintf("/identity/trusted_keys/%zu/kid", j);
                problem_list_add(problems, pointer, "duplicate kid '%s' (first used at /identity/trusted_keys/%zu)",
                                 identity->trusted_keys[j].kid, i);
                free(pointer);
                break;
            }
        }
    }
}

/* Bounds that relate two values; reported at the one the file sets (or the later one when both or neither are set). */
static void check_sign_in(const struct identity_config *identity, const json_t *object, struct problem_list *problems)
{
    const json_t *sessions = json_object_get(object, "sessions"), *guard = json_object_get(object, "login_guard");
    if (identity->sessions.absolute_timeout_s < identity->sessions.idle_timeout_s) {
        int at_idle =
            json_object_get(sessions, "idle_timeout_s") != NULL && json_object_get(sessions, "absolute_timeout_s") == NULL;
        problem_list_add(problems, at_idle ? "/identity/sessions/idle_timeout_s" : "/identity/sessions/absolute_timeout_s",
                         at_idle ? "must not exceed absolute_timeout_s (%u)" : "must not be less than idle_timeout_s (%u)",
                         at_idle ? identity->sessions.absolute_timeout_s : identity->sessions.idle_timeout_s);
    }
    if (identity->login_guard.max_lock_s < identity->login_guard.lock_s) {
        int at_lock = json_object_get(guard, "lock_s") != NULL && json_object_get(guard, "max_lock_s") == NULL;
        problem_list_add(problems, at_lock ? "/identity/login_guard/lock_s" : "/identity/login_guard/max_lock_s",
                         at_lock ? "must not exceed max_lock_s (%u)" : "must not be less than lock_s (%u)",
                         at_lock ? identity->login_guard.max_lock_s : identity->login_guard.lock_s);
    }
}

/* With the registry in the database there must never be two sources of routes: a file that still lists some is
 * refused rather than silently ignored or merged. */
static void check_registry(const struct config *config, int merged, struct problem_list *problems)
{
    if (config->registry.source != REGISTRY_SOURCE_DATABASE)
        return;
    if (config->database.dsn == NULL)
        problem_list_add(problems, "/registry/source", "\"database\" needs the database section (database.dsn)");
    if (merged)
        return;
    if (config->num_services != 0)
        problem_list_add(problems, "/services", "must be empty with registry.source \"database\": services come from the registry");
    if (config->num_routes != 0)
        problem_list_add(problems, "/routes", "must be empty with registry.source \"database\": routes come from the registry");
}

static void check_semantics(const struct config *config, const json_t *root, int merged, struct problem_list *problems)
{
    check_registry(config, merged, problems);
    for (size_t i = 0; i < config->num_routes; i++)
        check_route_auth(config, i, problems);
    check_trusted_keys(&config->identity, problems);
    check_sign_in(&config->identity, json_object_get(root, "identity"), problems);
    check_listeners(config, root, problems);
    const json_t *services = json_object_get(root, "services");
    for (size_t i = 0; i < config->num_services; i++)
        check_service(&config->services[i], i, json_array_get(services, i), problems);
    const json_t *routes = json_object_get(root, "routes");
    for (size_t i = 0; i < config->num_routes; i++)
        check_route(config, i, json_array_get(routes, i), problems);
    check_names_and_references(config, problems);
    check_route_conflicts(config, problems);
}

/* ------------------------------------------------------------------------ */
/* Public API                                                               */

static struct config *load_string(const char *json, size_t len, int merged, struct problem_list *problems)
{
    struct problem_list local = PROBLEM_LIST_INIT;
    struct problem_list *out = problems != NULL ? problems : &local;
    size_t before = out->count;
    struct config *config = NULL;
    json_t *root = parse(json, len, out);
    const struct json_schema *schema = root != NULL ? get_config_schema(out) : NULL;
    if (schema != NULL && json_schema_validate(schema, root, out) == 0) {
        config = build(root);
        check_semantics(config, root, merged, out);
        if (out->count > before) {
            config_free(config);
            config = NULL;
        }
    }
    json_decref(root);
    problem_list_clear(&local);
    return config;
}

struct config *config_load_string(const char *json, size_t len, struct problem_list *problems)
{
    return load_string(json, len, 0, problems);
}

struct config *config_load_with_registry(const char *json, size_t len, struct problem_list *problems)
{
    return load_string(json, len, 1, problems);
}

char *config_read_text(const char *path, size_t *len, struct problem_list *problems)
{
    return read_file(path, len, problems);
}

struct config *config_load_file(const char *path, struct problem_list *problems)
{
    struct problem_list local = PROBLEM_LIST_INIT;
    struct problem_list *out = problems != NULL ? problems : &local;
    size_t before = out->count, len;
    char *text = read_file(path, &len, out);
    struct config *config = NULL;
    if (text != NULL && out->count == before)
        config = config_load_string(text, len, out);
    free(text);
    problem_list_clear(&local);
    return config;
}

static void free_listener(struct listener_config *listener)
{
    free(listener->address);
}

static void free_service(struct service_config *service)
{
    free(service->name);
    free(service->department);
    for (size_t i = 0; i < service->num_targets; i++)
        free(service->targets[i].host);
    free(service->targets);
    free(service->health_check.path);
}

static void free_route(struct route_config *route)
{
    free_string_array(route->auth.scopes, route->auth.num_scopes);
    free(route->name);
    free(route->host);
    free(route->path_prefix);
    free(route->service);
}

void config_free(struct config *config)
{
    if (config == NULL)
        return;
    free_listener(&config->public_listener);
    free_listener(&config->tls_listener.listener);
    free(config->tls_listener.certificate_file);
    free(config->tls_listener.key_file);
    free_listener(&config->ops_listener);
    free(config->access_log.path);
    free(config->database.dsn);
    free(config->registry.cache_file);
    free(config->identity.issuer);
    free_string_array(config->identity.audiences, config->identity.num_audiences);
    free(config->identity.master_key_file);
    free(config->identity.signing_alg);
    for (size_t i = 0; i < config->identity.num_trusted_keys; i++) {
        struct trusted_key_config *k = &config->identity.trusted_keys[i];
        free(k->kid);
        free(k->alg);
        free(k->public_key_file);
        free(k->issuer);
        free(k->typ);
    }
    free(config->identity.trusted_keys);
    free(config->identity.sms.outbox_file);
    free(config->identity.sms.url);
    free(config->identity.sms.ca_file);
    free_string_array(config->identity.oidc.scopes_supported, config->identity.oidc.num_scopes_supported);
    for (size_t i = 0; i < config->num_services; i++)
        free_service(&config->services[i]);
    free(config->services);
    for (size_t i = 0; i < config->num_routes; i++)
        free_route(&config->routes[i]);
    free(config->routes);
    free(config);
}

const struct service_config *config_find_service(const struct config *config, const char *name)
{
    for (size_t i = 0; i < config->num_services; i++)
        if (strcmp(config->services[i].name, name) == 0)
            return &config->services[i];
    return NULL;
}
