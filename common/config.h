/*
 * config.h — the bootstrap configuration file, parsed and validated.
 *
 * Owns: a `struct config` and every string/array inside it (freed by
 * config_free). Loading reads the file, validates it against
 * schemas/json/config.schema.json (embedded in the binary) and then checks
 * what a schema cannot express (names unique, routes pointing at existing
 * services, per-route limits within the global ones). Every problem found is
 * reported with its JSON pointer; nothing is half-loaded.
 *
 * Threads: loading blocks (file I/O), so it runs at start-up or on the control
 * thread, never on an event loop. A loaded config is immutable and may be read
 * by any thread.
 */
#ifndef YIWANG_COMMON_CONFIG_H
#define YIWANG_COMMON_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#include "common/problems.h"

/* HTTP methods a route may allow, as a bit mask. */
enum http_method_bit {
    HTTP_METHOD_GET = 1u << 0,
    HTTP_METHOD_HEAD = 1u << 1,
    HTTP_METHOD_POST = 1u << 2,
    HTTP_METHOD_PUT = 1u << 3,
    HTTP_METHOD_PATCH = 1u << 4,
    HTTP_METHOD_DELETE = 1u << 5,
    HTTP_METHOD_OPTIONS = 1u << 6,
    HTTP_METHOD_ALL = (1u << 7) - 1,
};

/* Returns the bit for a method name (case-sensitive, as HTTP requires), 0 if unknown. */
unsigned http_method_bit_from_name(const char *name, size_t len);

struct listener_config {
    int enabled;
    char *address; /* numeric IPv4 or IPv6 address */
    uint16_t port;
};

struct tls_listener_config {
    struct listener_config listener;
    char *certificate_file; /* PEM chain */
    char *key_file;         /* PEM private key */
};

enum balancer_kind {
    BALANCER_ROUND_ROBIN,    /* smooth weighted round robin */
    BALANCER_LEAST_IN_FLIGHT /* fewest requests in flight relative to weight */
};

struct target_config {
    char *host; /* numeric address or DNS name (resolved off the request path) */
    uint16_t port;
    unsigned weight; /* 1..1000 */
};

struct health_check_config {
    int enabled;
    char *path; /* GET target, e.g. "/healthz"; 2xx = healthy */
    unsigned interval_ms;
    unsigned timeout_ms;
    unsigned healthy_threshold;   /* consecutive successes to mark up */
    unsigned unhealthy_threshold; /* consecutive failures to mark down */
};

struct service_config {
    char *name;       /* unique, [a-z0-9_-]+ */
    char *department; /* owning department, free text for now */
    struct target_config *targets;
    size_t num_targets;
    enum balancer_kind balancer;
    unsigned connect_timeout_ms;
    unsigned response_header_timeout_ms; /* request sent -> response head */
    unsigned total_timeout_ms;           /* whole exchange, body included */
    unsigned retries;                    /* extra attempts after a connect failure, idempotent methods only */
    unsigned max_in_flight;              /* per service, across all threads; 503 beyond */
    unsigned passive_max_failures;       /* consecutive failures that eject a target */
    unsigned passive_cooldown_ms;        /* how long an ejected target rests */
    unsigned keepalive_timeout_ms;       /* idle upstream connections are closed after this */
    struct health_check_config health_check;
};

enum route_auth_policy {
    ROUTE_AUTH_PUBLIC, /* no credentials needed */
    ROUTE_AUTH_USER,   /* an access token issued to a person (not a client_credentials token) */
    ROUTE_AUTH_CLIENT, /* any valid access token of a client: user-delegated or client_credentials */
};

struct route_auth_config {
    enum route_auth_policy policy;
    char **scopes; /* every one must be in the token's scope */
    size_t num_scopes;
    unsigned min_acr;          /* 0 = none; else the token's acr must be at least this (1..3) */
    int forward_authorization; /* pass the client's Authorization header upstream */
};

struct route_config {
    char *name;        /* unique */
    char *host;        /* NULL = any host; lower-case, no port */
    char *path_prefix; /* normalised, starts with '/' */
    unsigned methods;  /* HTTP_METHOD_* mask; HTTP_METHOD_ALL when not configured */
    char *service;     /* name of a service_config */
    int strip_prefix;  /* remove path_prefix before proxying */
    size_t max_body_bytes;
    struct route_auth_config auth;
};

/* Where services and routes come from. */
enum registry_source {
    REGISTRY_SOURCE_FILE,     /* this file's services and routes (the default) */
    REGISTRY_SOURCE_DATABASE, /* the registry tables in MariaDB (gateway/registry_sync.h); the file has none */
};

struct registry_config {
    enum registry_source source;
    char *cache_file; /* NULL: none; the last registry loaded, read at start when the database is down */
};

struct database_config {
    char *dsn;          /* NULL: no database configured */
    unsigned pool_size; /* worker threads, one connection each */
    unsigned connect_timeout_ms;
};

/* A public key the gateway trusts for access tokens it did not issue itself (another issuer, a test harness). */
struct trusted_key_config {
    char *kid;
    char *alg; /* "ES256" or "RS256"; the key is pinned to it */
    char *public_key_file;
    char *issuer; /* tokens under this key must carry this iss; NULL = identity.issuer */
    char *typ;    /* required JOSE typ header; default "at+jwt" (RFC 9068) */
};

enum sms_provider_kind {
    SMS_PROVIDER_OUTBOX, /* a JSON line per message in a local file: development and tests */
    SMS_PROVIDER_HTTP,   /* a JSON POST to the provider's URL */
};

struct sms_config {
    int enabled; /* the `sms` section is present */
    enum sms_provider_kind provider;
    char *outbox_file; /* provider outbox */
    char *url;         /* provider http: http(s)://host[:port][/path] */
    char *ca_file;     /* PEM CAs that verify an https provider; NULL: the system's */
    unsigned timeout_ms;
    unsigned code_ttl_s;
    unsigned max_attempts;
    unsigned resend_interval_s;
    unsigned daily_limit_per_mobile;
    unsigned daily_limit_per_ip;
};

struct session_config {
    unsigned idle_timeout_s;
    unsigned absolute_timeout_s;
};

struct login_guard_config {
    unsigned mobile_max_failures;
    unsigned ip_max_failures;
    unsigned failure_window_s;
    unsigned lock_s;
    unsigned max_lock_s;
};

/* The browser flow and the OpenID Connect endpoints. */
struct oidc_config {
    unsigned authorization_code_ttl_s;
    unsigned id_token_ttl_s;
    char **scopes_supported; /* advertised by discovery; "openid" is always first */
    size_t num_scopes_supported;
};

struct identity_config {
    char *issuer;     /* iss of the tokens this gateway issues and accepts by default */
    char **audiences; /* accepted aud values on the proxy path */
    size_t num_audiences;
    char *master_key_file; /* secret that encrypts signing keys and ID numbers at rest; NULL = none configured */
    char *signing_alg;     /* "ES256" (default) or "RS256": which active key signs */
    unsigned access_token_ttl_s;
    unsigned clock_skew_s;
    struct trusted_key_config *trusted_keys;
    size_t num_trusted_keys;
    unsigned refresh_token_ttl_s;
    unsigned refresh_reuse_grace_s;
    struct session_config sessions;
    struct login_guard_config login_guard;
    struct sms_config sms;
    struct oidc_config oidc;
};

struct config {
    struct listener_config public_listener;
    struct tls_listener_config tls_listener;
    struct listener_config ops_listener;
    unsigned threads; /* event-loop threads; 0 in the file = one per CPU, resolved at load */
    struct {
        size_t max_header_bytes;    /* sum of header names + values; 431 beyond */
        size_t max_body_bytes;      /* gateway-wide ceiling; routes may only lower it */
        unsigned client_timeout_ms; /* a client that sends its request slower than this gets 408 */
        unsigned idle_timeout_ms;   /* idle keep-alive / HTTP/2 connections are closed after this */
        unsigned max_connections;   /* per process; accept pauses beyond */
    } limits;
    struct {
        char *path; /* "-" = stdout, NULL = disabled */
    } access_log;
    unsigned drain_timeout_ms; /* SIGTERM: how long in-flight requests may finish */
    struct database_config database;
    struct registry_config registry;
    struct identity_config identity;
    struct service_config *services;
    size_t num_services;
    struct route_config *routes;
    size_t num_routes;
};

/* Loads and validates a config file. Returns NULL and fills `problems` when the
 * file cannot be read, is not JSON, or breaks the schema or a semantic rule. */
struct config *config_load_file(const char *path, struct problem_list *problems);
/* Reads a config file's text (malloc'ed, NUL-terminated), for callers that parse it again later. */
char *config_read_text(const char *path, size_t *len, struct problem_list *problems);
/* The same from an in-memory JSON text (used by tests and the registry import). */
struct config *config_load_string(const char *json, size_t len, struct problem_list *problems);
/* The same for a document whose services and routes were merged in from the registry (gateway/registry_sync.h):
 * the rule that a file with registry.source "database" lists none is not applied. */
struct config *config_load_with_registry(const char *json, size_t len, struct problem_list *problems);
void config_free(struct config *config);

const struct service_config *config_find_service(const struct config *config, const char *name);

#endif
