/*
 * test_config.c — the config loader: the demo file, defaults (and that they
 * equal the schema's), each semantic rule, parse and read errors, and the
 * time to load 10,000 routes.
 *
 * Inline documents are written with single quotes for readability; q()
 * turns them into JSON.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "common/config.h"
#include "common/embedded_schemas.h"
#include "common/strbuf.h"
#include "common/xalloc.h"
#include "routes/route_table.h"
#include "tests/unit/test.h"

/* Returns a malloc'ed copy of `text` with every ' replaced by ". */
static char *q(const char *text)
{
    char *json = xstrdup(text);
    for (char *p = json; *p; p++)
        if (*p == '\'')
            *p = '"';
    return json;
}

static struct config *load(const char *single_quoted, struct problem_list *problems)
{
    char *json = q(single_quoted);
    struct config *config = config_load_string(json, strlen(json), problems);
    free(json);
    return config;
}

static void print_problems(const struct problem_list *problems)
{
    for (size_t i = 0; i < problems->count; i++)
        fprintf(stderr, "    problem: '%s': %s\n", problems->items[i].pointer, problems->items[i].message);
}

/* Expects the document to be refused with exactly one problem: this one. */
static void expect_one(int line, const char *single_quoted, const char *pointer, const char *message)
{
    struct problem_list problems = PROBLEM_LIST_INIT;
    struct config *config = load(single_quoted, &problems);
    int ok = config == NULL && problems.count == 1 && strcmp(problems.items[0].pointer, pointer) == 0 &&
             strcmp(problems.items[0].message, message) == 0;
    CHECK(ok);
    if (!ok) {
        fprintf(stderr, "  line %d: expected '%s': %s, got %zu problem(s)%s\n", line, pointer, message, problems.count,
                config != NULL ? " and a config" : "");
        print_problems(&problems);
    }
    config_free(config);
    problem_list_clear(&problems);
}
#define EXPECT_ONE(doc, pointer, message) expect_one(__LINE__, doc, pointer, message)

/* Expects the document to load without problems. */
static struct config *expect_ok(int line, const char *single_quoted)
{
    struct problem_list problems = PROBLEM_LIST_INIT;
    struct config *config = load(single_quoted, &problems);
    CHECK(config != NULL && problems.count == 0);
    if (config == NULL || problems.count != 0) {
        fprintf(stderr, "  line %d: expected a valid config\n", line);
        print_problems(&problems);
    }
    problem_list_clear(&problems);
    return config;
}
#define EXPECT_OK(doc) expect_ok(__LINE__, doc)

/* Path of a file relative to the source tree, found from this file's path. */
static char *source_path(const char *relative)
{
    const char *slash = strrchr(__FILE__, '/');
    size_t dir_len = slash != NULL ? (size_t)(slash - __FILE__) : 1;
    return xasprintf("%.*s/../../%s", (int)dir_len, slash != NULL ? __FILE__ : ".", relative);
}

static void test_demo_config(void)
{
    char *path = source_path("docs/demo/yiwang.demo.json");
    struct problem_list problems = PROBLEM_LIST_INIT;
    struct config *config = config_load_file(path, &problems);
    CHECK(config != NULL);
    print_problems(&problems);
    CHECK_INT_EQ(problems.count, 0);
    if (config != NULL) {
        CHECK(config->public_listener.enabled);
        CHECK_STR_EQ(config->public_listener.address, "127.0.0.1");
        CHECK_INT_EQ(config->public_listener.port, 8080);
        CHECK(config->tls_listener.listener.enabled);
        CHECK_INT_EQ(config->tls_listener.listener.port, 8443);
        CHECK_STR_EQ(config->tls_listener.certificate_file, "var/tls/dev.crt");
        CHECK_STR_EQ(config->tls_listener.key_file, "var/tls/dev.key");
        CHECK_INT_EQ(config->ops_listener.port, 9080);
        CHECK(config->threads >= 1 && config->threads <= 64);
        CHECK_STR_EQ(config->access_log.path, "-");
        /* the demo's departments, services and routes are in docs/demo/registry.json, imported by scripts/run.sh */
        CHECK_INT_EQ(config->num_services, 0);
        CHECK_INT_EQ(config->num_routes, 0);
        CHECK(config->identity.sms.enabled);
    }
    config_free(config);
    problem_list_clear(&problems);
    free(path);
}

/* Resolves an RFC 6901 pointer without escapes in the schema document. */
static const json_t *lookup(const json_t *at, const char *pointer)
{
    char *copy = xstrdup(pointer), *save = NULL;
    for (char *token = strtok_r(copy, "/", &save); token != NULL && at != NULL; token = strtok_r(NULL, "/", &save))
        at = json_object_get(at, token);
    free(copy);
    return at;
}

static void check_default(int line, const json_t *schema, const char *pointer, long long actual)
{
    const json_t *value = lookup(schema, pointer);
    CHECK(json_is_integer(value) && json_integer_value(value) == actual);
    if (!json_is_integer(value) || json_integer_value(value) != actual)
        fprintf(stderr, "  line %d: schema default at %s differs from the loader's %lld\n", line, pointer, actual);
}
#define CHECK_DEFAULT(pointer, actual) check_default(__LINE__, schema, pointer, (long long)(actual))

static void check_default_string(int line, const json_t *schema, const char *pointer, const char *actual)
{
    const json_t *value = lookup(schema, pointer);
    int same = json_is_string(value) && actual != NULL && strcmp(json_string_value(value), actual) == 0;
    CHECK(same);
    if (!same)
        fprintf(stderr, "  line %d: schema default at %s differs from the loader's '%s'\n", line, pointer,
                actual != NULL ? actual : "(null)");
}
#define CHECK_DEFAULT_STRING(pointer, actual) check_default_string(__LINE__, schema, pointer, actual)

/* Everything omitted: the loader's defaults must be the ones the schema documents. */
static void test_defaults_match_schema(void)
{
    const struct embedded_schema *text = embedded_schema_find("config.schema.json");
    CHECK(text != NULL);
    json_t *schema = text != NULL ? json_loadb(text->text, text->len, 0, NULL) : NULL;
    struct config *config =
        EXPECT_OK("{'listeners':{'tls':{'enabled':false}},'services':[{'name':'s','targets':[{'host':'h','port':1}],"
                  "'health_check':{}}],'routes':[{'name':'r','path_prefix':'/','service':'s'}]}");
    if (config == NULL || schema == NULL) {
        config_free(config);
        json_decref(schema);
        return;
    }
    const char *listeners = "/properties/listeners/properties";
    char pointer[256];
#define AT(fmt, ...) (snprintf(pointer, sizeof(pointer), fmt, __VA_ARGS__), pointer)
    CHECK(config->public_listener.enabled);
    CHECK_DEFAULT_STRING(AT("%s/public/properties/address/default", listeners), config->public_listener.address);
    CHECK_DEFAULT(AT("%s/public/properties/port/default", listeners), config->public_listener.port);
    CHECK_DEFAULT(AT("%s/tls/properties/port/default", listeners), config->tls_listener.listener.port);
    CHECK_DEFAULT_STRING(AT("%s/tls/properties/address/default", listeners), config->tls_listener.listener.address);
    CHECK_DEFAULT(AT("%s/ops/properties/port/default", listeners), config->ops_listener.port);
    CHECK_DEFAULT_STRING(AT("%s/ops/properties/address/default", listeners), config->ops_listener.address);
    CHECK_DEFAULT("/properties/limits/properties/max_header_bytes/default", config->limits.max_header_bytes);
    CHECK_DEFAULT("/properties/limits/properties/max_body_bytes/default", config->limits.max_body_bytes);
    CHECK_DEFAULT("/properties/limits/properties/client_timeout_ms/default", config->limits.client_timeout_ms);
    CHECK_DEFAULT("/properties/limits/properties/idle_timeout_ms/default", config->limits.idle_timeout_ms);
    CHECK_DEFAULT("/properties/limits/properties/max_connections/default", config->limits.max_connections);
    CHECK_DEFAULT_STRING("/properties/access_log/properties/path/default", config->access_log.path);
    CHECK_DEFAULT("/properties/shutdown/properties/drain_timeout_ms/default", config->drain_timeout_ms);
    CHECK_DEFAULT("/properties/threads/default", 0);
    CHECK(config->registry.source == REGISTRY_SOURCE_FILE && config->registry.cache_file == NULL);
    CHECK_DEFAULT_STRING("/properties/registry/properties/source/default", "file");

    const struct service_config *s = &config->services[0];
    const char *service = "/$defs/service/properties";
    CHECK_DEFAULT_STRING(AT("%s/department/default", service), s->department);
    CHECK_DEFAULT("/$defs/target/properties/weight/default", s->targets[0].weight);
    CHECK(s->balancer == BALANCER_ROUND_ROBIN);
    CHECK_DEFAULT_STRING(AT("%s/balancer/default", service), "round_robin");
    CHECK_DEFAULT(AT("%s/timeouts/properties/connect_ms/default", service), s->connect_timeout_ms);
    CHECK_DEFAULT(AT("%s/timeouts/properties/response_header_ms/default", service), s->response_header_timeout_ms);
    CHECK_DEFAULT(AT("%s/timeouts/properties/total_ms/default", service), s->total_timeout_ms);
    CHECK_DEFAULT(AT("%s/retries/default", service), s->retries);
    CHECK_DEFAULT(AT("%s/max_in_flight/default", service), s->max_in_flight);
    CHECK_DEFAULT(AT("%s/passive_health/properties/max_failures/default", service), s->passive_max_failures);
    CHECK_DEFAULT(AT("%s/passive_health/properties/cooldown_ms/default", service), s->passive_cooldown_ms);
    CHECK_DEFAULT(AT("%s/keepalive_timeout_ms/default", service), s->keepalive_timeout_ms);
    CHECK(s->health_check.enabled); /* present, even empty, means enabled */
    CHECK_DEFAULT_STRING(AT("%s/health_check/properties/path/default", service), s->health_check.path);
    CHECK_DEFAULT(AT("%s/health_check/properties/interval_ms/default", service), s->health_check.interval_ms);
    CHECK_DEFAULT(AT("%s/health_check/properties/timeout_ms/default", service), s->health_check.timeout_ms);
    CHECK_DEFAULT(AT("%s/health_check/properties/healthy_threshold/default", service), s->health_check.healthy_threshold);
    CHECK_DEFAULT(AT("%s/health_check/properties/unhealthy_threshold/default", service), s->health_check.unhealthy_threshold);

    const struct route_config *r = &config->routes[0];
    CHECK(r->host == NULL);
    CHECK_INT_EQ(r->methods, HTTP_METHOD_ALL);
    CHECK(!r->strip_prefix);
    CHECK(!json_is_true(lookup(schema, "/$defs/route/properties/strip_prefix/default")));
    CHECK_INT_EQ(r->max_body_bytes, 1048576); /* 1 MiB default, below the 8 MiB ceiling */
#undef AT
    config_free(config);
    json_decref(schema);
}

static void test_minimal_and_optional(void)
{
    /* Everything is optional: an empty gateway serves only 404s. */
    struct config *config = EXPECT_OK("{}");
    if (config != NULL) {
        CHECK_INT_EQ(config->num_services, 0);
        CHECK_INT_EQ(config->num_routes, 0);
        CHECK(config->public_listener.enabled);
        CHECK(!config->tls_listener.listener.enabled); /* absent tls = no TLS listener */
        CHECK(config->tls_listener.certificate_file == NULL);
        CHECK(config->ops_listener.enabled);
        long cpus = sysconf(_SC_NPROCESSORS_ONLN);
        CHECK_INT_EQ(config->threads, cpus < 1 ? 1 : cpus > 64 ? 64 : cpus);
    }
    config_free(config);

    config = EXPECT_OK("{'threads':3,'access_log':{'path':null},'listeners':{'tls':{'enabled':false},"
                       "'public':{'address':'::','port':8080.0},'ops':{'enabled':false,'port':8080}}}");
    if (config != NULL) {
        CHECK_INT_EQ(config->threads, 3);
        CHECK(config->access_log.path == NULL);
        CHECK(!config->tls_listener.listener.enabled);
        CHECK_STR_EQ(config->public_listener.address, "::");
        CHECK_INT_EQ(config->public_listener.port, 8080); /* 8080.0 is an integer too */
        CHECK(!config->ops_listener.enabled);
    }
    config_free(config);

    config = EXPECT_OK("{'services':[{'name':'a','targets':[{'host':'::1','port':1,'weight':1000},{'host':'b.example','port':"
                       "65535}],'balancer':'least_in_flight','health_check':{'enabled':false}}],"
                       "'routes':[{'name':'r','host':'api.example.gov.cn','path_prefix':'/a/b','service':'a',"
                       "'methods':['GET','HEAD','OPTIONS'],'strip_prefix':true,'max_body_bytes':0}]}");
    if (config != NULL) {
        CHECK(config->services[0].balancer == BALANCER_LEAST_IN_FLIGHT);
        CHECK_INT_EQ(config->services[0].targets[0].weight, 1000);
        CHECK_STR_EQ(config->services[0].targets[1].host, "b.example");
        CHECK(!config->services[0].health_check.enabled);
        CHECK_STR_EQ(config->routes[0].host, "api.example.gov.cn");
        CHECK_INT_EQ(config->routes[0].methods, HTTP_METHOD_GET | HTTP_METHOD_HEAD | HTTP_METHOD_OPTIONS);
        CHECK_INT_EQ(config->routes[0].max_body_bytes, 0);
    }
    config_free(config);

    /* Without a list, loading still works and still refuses. */
    CHECK(config_load_string("{\"threads\":-1}", 14, NULL) == NULL);
    config = config_load_string("{}", 2, NULL);
    CHECK(config != NULL);
    config_free(config);
    config_free(NULL);
}

static void test_schema_problems(void)
{
    EXPECT_ONE("{'listners':{}}", "/listners", "unknown property 'listners'");
    EXPECT_ONE("[]", "", "must be an object");
    EXPECT_ONE("{'threads':'4'}", "/threads", "must be an integer between 0 and 64");
    EXPECT_ONE("{'threads':65}", "/threads", "must be an integer between 0 and 64");
    EXPECT_ONE("{'listeners':{'public':{'port':0}}}", "/listeners/public/port", "must be an integer between 1 and 65535");
    EXPECT_ONE("{'listeners':{'public':{'port':70000}}}", "/listeners/public/port", "must be an integer between 1 and 65535");
    EXPECT_ONE("{'listeners':{'public':{'address':'localhost'}}}", "/listeners/public/address",
               "must be an IPv4 address or an IPv6 address");
    EXPECT_ONE("{'listeners':{'tls':{'certificate':'c.pem'}}}", "/listeners/tls/key", "is required");
    EXPECT_ONE("{'listeners':{'public':{'enabled':'yes'}}}", "/listeners/public/enabled", "must be a boolean");
    EXPECT_ONE("{'limits':{'max_body_bytes':-1}}", "/limits/max_body_bytes", "must be an integer between 0 and 1073741824");
    EXPECT_ONE("{'access_log':{'path':''}}", "/access_log/path", "must not be empty");
    EXPECT_ONE("{'access_log':{'path':1}}", "/access_log/path", "must be a string or null");
    EXPECT_ONE("{'services':{}}", "/services", "must be an array");
    EXPECT_ONE("{'services':[{'name':'s','targets':[]}]}", "/services/0/targets", "must have at least 1 item");
    EXPECT_ONE("{'services':[{'name':'s','targets':[{'host':'h','port':1,'weight':0}]}]}", "/services/0/targets/0/weight",
               "must be an integer between 1 and 1000");
    EXPECT_ONE("{'services':[{'name':'s','targets':[{'host':'h','port':1}],'retries':6}]}", "/services/0/retries",
               "must be an integer between 0 and 5");
    EXPECT_ONE("{'services':[{'name':'s','targets':[{'host':'h','port':1}],'timeouts':{'total_ms':600001}}]}",
               "/services/0/timeouts/total_ms", "must be an integer between 1 and 600000");
    EXPECT_ONE("{'services':[{'name':'s','targets':[{'host':'h','port':1}],'balancer':'random'}]}", "/services/0/balancer",
               "must be one of: round_robin, least_in_flight");
    EXPECT_ONE("{'services':[{'name':'s','targets':[{'host':'h','port':1}],'health_check':{'path':'healthz'}}]}",
               "/services/0/health_check/path", "must be a path that starts with '/' and has no spaces or control characters");
    EXPECT_ONE("{'services':[{'name':'Tax','targets':[{'host':'h','port':1}]}]}", "/services/0/name",
               "must be a name of lower-case letters, digits, '_' and '-' that starts with a letter or digit (at most 63 "
               "characters)");
    EXPECT_ONE("{'routes':[{'name':'r','path_prefix':'/a','service':'s','methods':['GET','get']}]}", "/routes/0/methods/1",
               "must be one of: GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS");
    EXPECT_ONE("{'routes':[{'name':'r','path_prefix':'/a','service':'s','methods':[]}]}", "/routes/0/methods",
               "must have at least 1 item");
    EXPECT_ONE("{'routes':[{'name':'r','path_prefix':'/a','service':'s','strip_prefix':1}]}", "/routes/0/strip_prefix",
               "must be a boolean");
}

static void test_path_prefix_pattern(void)
{
    static const char *const good[] = {
        "/",     "/hrss", "/hrss/", "/a/b/c/", "/v1.2/x", "/a.b", "/.well-known/", "/~u/x", "/a:b@c/!$&'()*+,=/",
        "/...x", "/x..",  "/A-Z_0"};
    static const char *const bad[] = {"",   "hrss/",   "//",    "/a//b",  "/./",     "/a/./b",  "/a/..", "/../x",
                                      "/.", "/a/.",    "/%2e/", "/a%20b", "/a\\\\b", "/a b",    "/a?b",  "/a#b",
                                      "/é", "/a\\\"b", "/...",  "/a/../", "/a;b",    "/a/..;/b"};
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        char *doc = xasprintf("{\"routes\":[{\"name\":\"r\",\"path_prefix\":\"%s\",\"service\":\"s\"}],"
                              "\"services\":[{\"name\":\"s\",\"targets\":[{\"host\":\"h\",\"port\":1}]}]}",
                              good[i]);
        struct problem_list problems = PROBLEM_LIST_INIT;
        struct config *config = config_load_string(doc, strlen(doc), &problems);
        CHECK(config != NULL);
        if (config == NULL)
            fprintf(stderr, "  path_prefix '%s' should be accepted\n", good[i]), print_problems(&problems);
        /* What config check accepts, the route table must accept at start-up. */
        struct route_table *table = route_table_new();
        char *err = NULL;
        CHECK(route_table_add(table, NULL, good[i], HTTP_METHOD_ALL, table, &err) == 0);
        if (err != NULL)
            fprintf(stderr, "  route table refuses '%s': %s\n", good[i], err);
        free(err);
        route_table_free(table);
        config_free(config);
        problem_list_clear(&problems);
        free(doc);
    }
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char *doc = xasprintf("{\"routes\":[{\"name\":\"r\",\"path_prefix\":\"%s\",\"service\":\"s\"}],"
                              "\"services\":[{\"name\":\"s\",\"targets\":[{\"host\":\"h\",\"port\":1}]}]}",
                              bad[i]);
        struct problem_list problems = PROBLEM_LIST_INIT;
        struct config *config = config_load_string(doc, strlen(doc), &problems);
        int ok = config == NULL && problems.count == 1 && strcmp(problems.items[0].pointer, "/routes/0/path_prefix") == 0;
        CHECK(ok);
        if (!ok)
            fprintf(stderr, "  path_prefix '%s' should be refused at /routes/0/path_prefix\n", bad[i]), print_problems(&problems);
        config_free(config);
        problem_list_clear(&problems);
        free(doc);
    }
}

/* A service and routes around it, for the semantic rules. */
#define SVC(name) "{'name':'" name "','targets':[{'host':'127.0.0.1','port':9101}]}"

static void test_semantic_rules(void)
{
    EXPECT_ONE("{'services':[" SVC("a") "," SVC("b") "," SVC("c") "," SVC("a") "]}", "/services/3/name",
               "duplicate service name 'a' (first used at /services/0)");
    EXPECT_ONE("{'services':[" SVC("a") "],'routes':[{'name':'r','path_prefix':'/x','service':'a'},"
                                        "{'name':'r','path_prefix':'/y','service':'a'}]}",
               "/routes/1/name", "duplicate route name 'r' (first used at /routes/0)");
    EXPECT_ONE(
        "{'services':[" SVC("a") "],'routes':[{'name':'r0','path_prefix':'/x','service':'a'},"
                                 "{'name':'r1','path_prefix':'/y','service':'a'},{'name':'r2','path_prefix':'/z','service':'x'}]}",
        "/routes/2/service", "unknown service 'x'");
    EXPECT_ONE("{'limits':{'max_body_bytes':1000},'services':[" SVC(
                   "a") "],"
                        "'routes':[{'name':'r','path_prefix':'/x','service':'a','max_body_bytes':1001}]}",
               "/routes/0/max_body_bytes", "must not exceed limits.max_body_bytes (1000)");
    EXPECT_ONE("{'services':[" SVC("a") "],'routes':[{'name':'r','host':'API.example.gov.cn','path_prefix':'/x','service':'a'}]}",
               "/routes/0/host", "must be lower-case");
    EXPECT_ONE("{'services':[" SVC("a") "],'routes':[{'name':'r','host':'api.example.gov.cn:8443','path_prefix':'/x',"
                                        "'service':'a'}]}",
               "/routes/0/host", "must not include a port (a route matches its host on any port)");
    static const struct {
        const char *host, *message;
    } hosts[] = {
        {"a_b.example", "must be a DNS host name, an IPv4 address or an IPv6 address"},
        {"a..b", "must be a DNS host name, an IPv4 address or an IPv6 address"},
        {"-a.example", "must be a DNS host name, an IPv4 address or an IPv6 address"},
        {"a-.example", "must be a DNS host name, an IPv4 address or an IPv6 address"},
        {"api.example.gov.cn.", "must not end with '.'"},
        {"[2001:db8::1]", "must be written without brackets (an IPv6 address as it is, e.g. 2001:db8::1)"},
        {"2001:DB8::1", "must be written in canonical form: 2001:db8::1"},
        {"2001:db8:0:0::1", "must be written in canonical form: 2001:db8::1"},
        {"2001:db8::g", "must be a DNS host name, an IPv4 address or an IPv6 address"},
        {"10.0.0.1:80", "must not include a port (a route matches its host on any port)"},
    };
    for (size_t i = 0; i < sizeof(hosts) / sizeof(hosts[0]); i++) {
        char *doc = xasprintf("{'services':[" SVC("a") "],'routes':[{'name':'r','host':'%s','path_prefix':'/x','service':'a'}]}",
                              hosts[i].host);
        EXPECT_ONE(doc, "/routes/0/host", hosts[i].message);
        free(doc);
    }
    config_free(EXPECT_OK("{'services':[" SVC(
        "a") "],'routes':[{'name':'r','host':'2001:db8::1','path_prefix':'/x','service':"
             "'a'},{'name':'s','host':'10.0.0.1','path_prefix':'/x','service':'a'},{'name':'t','host':'localhost',"
             "'path_prefix':'/x','service':'a'}]}"));
    EXPECT_ONE("{'services':[{'name':'a','targets':[{'host':'h','port':1}],'timeouts':{'response_header_ms':40000}}]}",
               "/services/0/timeouts/response_header_ms", "must not exceed total_ms (30000)");
    EXPECT_ONE("{'services':[{'name':'a','targets':[{'host':'h','port':1}],'timeouts':{'total_ms':5000}}]}",
               "/services/0/timeouts/total_ms", "must not be less than response_header_ms (10000, the default)");
    EXPECT_ONE("{'services':[{'name':'a','targets':[{'host':'h','port':1}],'timeouts':{'connect_ms':2000,'total_ms':1500,"
               "'response_header_ms':1000}}]}",
               "/services/0/timeouts/connect_ms", "must not exceed total_ms (1500)");
    EXPECT_ONE("{'services':[{'name':'a','targets':[{'host':'h','port':1}],'health_check':{'interval_ms':500}}]}",
               "/services/0/health_check/interval_ms", "must not be less than timeout_ms (1000, the default)");
    EXPECT_ONE("{'listeners':{'tls':{'port':8080,'certificate':'c','key':'k'}}}", "/listeners/tls/port",
               "port 8080 is already used by the public listener on 127.0.0.1");
    EXPECT_ONE("{'listeners':{'public':{'address':'0.0.0.0','port':9080}}}", "/listeners/public/port",
               "port 9080 is already used by the ops listener on 127.0.0.1");
    EXPECT_ONE("{'listeners':{'ops':{'address':'::','port':8080}}}", "/listeners/ops/port",
               "port 8080 is already used by the public listener on 127.0.0.1");
    /* The same port on different addresses, or on a disabled listener, is fine. */
    config_free(EXPECT_OK("{'listeners':{'ops':{'address':'127.0.0.2','port':8080}}}"));
    config_free(EXPECT_OK("{'listeners':{'ops':{'address':'::1','port':8080}}}"));
    config_free(EXPECT_OK("{'listeners':{'ops':{'enabled':false,'port':8080}}}"));
    /* Two routes on one host and prefix may split the methods, not share one. */
    config_free(EXPECT_OK("{'services':[" SVC("a") "],'routes':[{'name':'r0','path_prefix':'/x','service':'a','methods':['GET']},"
                                                   "{'name':'r1','path_prefix':'/x/','service':'a','methods':['POST']},"
                                                   "{'name':'r2','host':'b.example','path_prefix':'/x','service':'a'}]}"));
    EXPECT_ONE(
        "{'services':[" SVC("a") "],'routes':[{'name':'r0','path_prefix':'/X','service':'a','methods':['GET','PUT']},"
                                 "{'name':'r1','path_prefix':'/y','service':'a'},{'name':'r2','path_prefix':'/x/','service':'a',"
                                 "'methods':['POST','PUT','GET']}]}",
        "/routes/2/path_prefix", "route 'r0' (/routes/0) already serves GET, HEAD, PUT on the same host and path prefix");
}

/* The identity, database and route auth sections: defaults (equal to the schema's) and their rules. */
static void test_identity_and_auth(void)
{
    struct config *config = EXPECT_OK(
        "{'database':{'dsn':'mysql://root@/yiwang?socket=/tmp/m.sock'},"
        "'identity':{'issuer':'https://id.example.gov.cn','trusted_keys':[{'kid':'k1','alg':'ES256','public_key_file':'k.pem'}]},"
        "'services':[" SVC("a") "],'routes':[{'name':'r','path_prefix':'/x','service':'a'},"
                                "{'name':'u','path_prefix':'/"
                                "u','service':'a','auth':{'policy':'user','scopes':['tax:invoice:read'],'min_acr':2}}]}");
    if (config != NULL) {
        json_t *schema = json_loads(embedded_schema_find("config.schema.json")->text, 0, NULL);
        CHECK_DEFAULT("/properties/database/properties/pool_size/default", config->database.pool_size);
        CHECK_DEFAULT("/properties/database/properties/connect_timeout_ms/default", config->database.connect_timeout_ms);
        CHECK_DEFAULT("/properties/identity/properties/clock_skew_s/default", config->identity.clock_skew_s);
        CHECK_DEFAULT_STRING("/properties/identity/properties/signing_alg/default", config->identity.signing_alg);
        CHECK_DEFAULT("/properties/identity/properties/access_token_ttl_s/default", config->identity.access_token_ttl_s);
        CHECK_DEFAULT_STRING("/$defs/trusted_key/properties/typ/default", config->identity.trusted_keys[0].typ);
        CHECK_DEFAULT("/$defs/route_auth/properties/min_acr/default", config->routes[0].auth.min_acr);
        CHECK_INT_EQ(config->routes[0].auth.policy, ROUTE_AUTH_PUBLIC);
        CHECK(!config->routes[0].auth.forward_authorization);
        CHECK_STR_EQ(config->database.dsn, "mysql://root@/yiwang?socket=/tmp/m.sock");
        /* audiences default to the issuer */
        CHECK_INT_EQ(config->identity.num_audiences, 1);
        CHECK_STR_EQ(config->identity.audiences[0], "https://id.example.gov.cn");
        CHECK(config->identity.trusted_keys[0].issuer == NULL);
        CHECK_INT_EQ(config->routes[1].auth.policy, ROUTE_AUTH_USER);
        CHECK_INT_EQ(config->routes[1].auth.num_scopes, 1);
        CHECK_STR_EQ(config->routes[1].auth.scopes[0], "tax:invoice:read");
        CHECK_INT_EQ(config->routes[1].auth.min_acr, 2);
        json_decref(schema);
    }
    config_free(config);
    EXPECT_ONE("{'services':[" SVC("a") "],'routes':[{'name':'r','path_prefix':'/x','service':'a','auth':{'policy':'user'}}]}",
               "/routes/0/auth/policy", "needs the identity section (which tokens to accept)");
    EXPECT_ONE("{'identity':{'issuer':'https://i.example'},'services':[" SVC(
                   "a") "],"
                        "'routes':[{'name':'r','path_prefix':'/x','service':'a','auth':{'policy':'client','min_acr':2}}]}",
               "/routes/0/auth/min_acr", "applies to people only: it needs policy \"user\"");
    EXPECT_ONE("{'services':[" SVC("a") "],'routes':[{'name':'r','path_prefix':'/x','service':'a','auth':{'scopes':['a']}}]}",
               "/routes/0/auth/scopes", "a public route cannot require scopes");
    EXPECT_ONE("{'identity':{'issuer':'https://i.example','trusted_keys':[{'kid':'k','alg':'ES256','public_key_file':'a'},"
               "{'kid':'k','alg':'RS256','public_key_file':'b'}]}}",
               "/identity/trusted_keys/1/kid", "duplicate kid 'k' (first used at /identity/trusted_keys/0)");
    EXPECT_ONE("{'identity':{'issuer':'https://i.example','trusted_keys':[{'kid':'k','alg':'HS256','public_key_file':'a'}]}}",
               "/identity/trusted_keys/0/alg", "must be one of: ES256, RS256");
    EXPECT_ONE("{'database':{'dsn':'postgres://x@y/z'}}", "/database/dsn",
               "must be a DSN of the form mysql://USER[:PASSWORD]@HOST[:PORT]/DATABASE or "
               "mysql://USER[:PASSWORD]@/DATABASE?socket=/path/to/mysqld.sock");
}

/* Sessions, refresh tokens, the login guard and SMS: defaults equal to the schema's, and the rules between values. */
/* registry.source "database": one source of routes only, and a database to read them from. */
static void test_registry_section(void)
{
#define REG_DB "'database':{'dsn':'mysql://root@/yiwang?socket=/tmp/m.sock'}"
#define REG_SVC "'services':[{'name':'s','targets':[{'host':'h','port':1}]}]"
#define REG_RT "'routes':[{'name':'r','path_prefix':'/','service':'s'}]"
    struct config *config = EXPECT_OK("{" REG_DB ",'registry':{'source':'database','cache_file':'var/registry.json'}}");
    if (config != NULL) {
        CHECK(config->registry.source == REGISTRY_SOURCE_DATABASE);
        CHECK_STR_EQ(config->registry.cache_file, "var/registry.json");
    }
    config_free(config);
    config = EXPECT_OK("{" REG_DB ",'registry':{'source':'file'}," REG_SVC "," REG_RT "}");
    CHECK(config != NULL && config->registry.source == REGISTRY_SOURCE_FILE && config->num_routes == 1);
    config_free(config);
    EXPECT_ONE("{'registry':{'source':'database'}}", "/registry/source", "\"database\" needs the database section (database.dsn)");
    EXPECT_ONE("{" REG_DB ",'registry':{'source':'database'}," REG_SVC "}", "/services",
               "must be empty with registry.source \"database\": services come from the registry");
    struct problem_list problems = PROBLEM_LIST_INIT;
    char *both = q("{" REG_DB ",'registry':{'source':'database'}," REG_SVC "," REG_RT "}");
    CHECK(config_load_string(both, strlen(both), &problems) == NULL && problems.count == 2);
    if (problems.count == 2) {
        CHECK_STR_EQ(problems.items[0].pointer, "/services");
        CHECK_STR_EQ(problems.items[1].pointer, "/routes");
        CHECK_STR_EQ(problems.items[1].message, "must be empty with registry.source \"database\": routes come from the registry");
    }
    problem_list_clear(&problems);
    free(both);
    CHECK(load("{'registry':{'source':'etcd'}}", &problems) == NULL && problems.count == 1);
    CHECK(problems.count == 1 && strcmp(problems.items[0].pointer, "/registry/source") == 0);
    problem_list_clear(&problems);
    CHECK(load("{'registry':{'cache_file':''}}", &problems) == NULL && problems.count == 1);
    problem_list_clear(&problems);

    /* What the registry renders is merged into the file's text and loaded without the empty-file rule. */
    char *merged = q("{" REG_DB ",'registry':{'source':'database'}," REG_SVC "," REG_RT "}");
    config = config_load_with_registry(merged, strlen(merged), &problems);
    CHECK(config != NULL && problems.count == 0);
    if (config != NULL)
        CHECK_INT_EQ(config->num_routes, 1);
    config_free(config);
    problem_list_clear(&problems);
    free(merged);
    /* ... but every other rule still applies to it. */
    merged = q("{'registry':{'source':'database'}," REG_SVC "," REG_RT "}");
    CHECK(config_load_with_registry(merged, strlen(merged), &problems) == NULL && problems.count == 1);
    problem_list_clear(&problems);
    free(merged);
#undef REG_DB
#undef REG_SVC
#undef REG_RT
}

static void test_sign_in_settings(void)
{
    struct config *config =
        EXPECT_OK("{'identity':{'issuer':'https://i.example','sms':{'provider':'outbox','outbox_file':'o.jsonl'}}}");
    if (config != NULL) {
        json_t *schema = json_loads(embedded_schema_find("config.schema.json")->text, 0, NULL);
        const struct identity_config *id = &config->identity;
        CHECK_DEFAULT("/properties/identity/properties/refresh_token_ttl_s/default", id->refresh_token_ttl_s);
        CHECK_DEFAULT("/properties/identity/properties/refresh_reuse_grace_s/default", id->refresh_reuse_grace_s);
        CHECK_DEFAULT("/$defs/sessions/properties/idle_timeout_s/default", id->sessions.idle_timeout_s);
        CHECK_DEFAULT("/$defs/sessions/properties/absolute_timeout_s/default", id->sessions.absolute_timeout_s);
        CHECK_DEFAULT("/$defs/login_guard/properties/mobile_max_failures/default", id->login_guard.mobile_max_failures);
        CHECK_DEFAULT("/$defs/login_guard/properties/ip_max_failures/default", id->login_guard.ip_max_failures);
        CHECK_DEFAULT("/$defs/login_guard/properties/failure_window_s/default", id->login_guard.failure_window_s);
        CHECK_DEFAULT("/$defs/login_guard/properties/lock_s/default", id->login_guard.lock_s);
        CHECK_DEFAULT("/$defs/login_guard/properties/max_lock_s/default", id->login_guard.max_lock_s);
        CHECK_DEFAULT("/$defs/sms/properties/timeout_ms/default", id->sms.timeout_ms);
        CHECK_DEFAULT("/$defs/sms/properties/code_ttl_s/default", id->sms.code_ttl_s);
        CHECK_DEFAULT("/$defs/sms/properties/max_attempts/default", id->sms.max_attempts);
        CHECK_DEFAULT("/$defs/sms/properties/resend_interval_s/default", id->sms.resend_interval_s);
        CHECK_DEFAULT("/$defs/sms/properties/daily_limit_per_mobile/default", id->sms.daily_limit_per_mobile);
        CHECK_DEFAULT("/$defs/sms/properties/daily_limit_per_ip/default", id->sms.daily_limit_per_ip);
        CHECK(id->sms.enabled);
        CHECK_INT_EQ(id->sms.provider, SMS_PROVIDER_OUTBOX);
        CHECK_STR_EQ(id->sms.outbox_file, "o.jsonl");
        CHECK(id->sms.url == NULL);
        json_decref(schema);
    }
    config_free(config);
    config = EXPECT_OK("{'identity':{'issuer':'https://i.example'}}");
    CHECK(config != NULL && !config->identity.sms.enabled);
    config_free(config);
    config =
        EXPECT_OK("{'identity':{'issuer':'https://i.example','sms':{'provider':'http','url':'http://sms.internal:8080/send'}}}");
    CHECK(config != NULL && config->identity.sms.provider == SMS_PROVIDER_HTTP);
    config_free(config);
    EXPECT_ONE("{'identity':{'issuer':'https://i.example','sms':{'provider':'outbox'}}}", "/identity/sms/outbox_file",
               "is required");
    EXPECT_ONE("{'identity':{'issuer':'https://i.example','sms':{'provider':'http'}}}", "/identity/sms/url", "is required");
    EXPECT_ONE("{'identity':{'issuer':'https://i.example','sms':{'provider':'http','url':'ftp://sms.example/send'}}}",
               "/identity/sms/url", "must be an http:// or https:// URL");
    config = EXPECT_OK("{'identity':{'issuer':'https://i.example','sms':{'provider':'http','url':'https://sms.example/send',"
                       "'ca_file':'/etc/yiwang/sms-ca.pem'}}}");
    CHECK(config != NULL && config->identity.sms.ca_file != NULL);
    if (config != NULL)
        CHECK_STR_EQ(config->identity.sms.ca_file, "/etc/yiwang/sms-ca.pem");
    config_free(config);
    EXPECT_ONE("{'identity':{'issuer':'https://i.example','sessions':{'idle_timeout_s':50000}}}",
               "/identity/sessions/idle_timeout_s", "must not exceed absolute_timeout_s (43200)");
    EXPECT_ONE("{'identity':{'issuer':'https://i.example','sessions':{'absolute_timeout_s':600}}}",
               "/identity/sessions/absolute_timeout_s", "must not be less than idle_timeout_s (1800)");
    EXPECT_ONE("{'identity':{'issuer':'https://i.example','login_guard':{'lock_s':3600}}}", "/identity/login_guard/lock_s",
               "must not exceed max_lock_s (1800)");
    EXPECT_ONE("{'identity':{'issuer':'https://i.example','refresh_reuse_grace_s':61}}", "/identity/refresh_reuse_grace_s",
               "must be an integer between 0 and 60");
}

/* Allowing GET allows HEAD, as HTTP requires of GET resources. */
static void test_get_implies_head(void)
{
    struct config *config = load("{'services':[" SVC("a") "],'routes':[{'name':'r','path_prefix':'/x','service':'a',"
                                                          "'methods':['GET','POST']}]}",
                                 NULL);
    CHECK(config != NULL);
    if (config != NULL)
        CHECK_INT_EQ(config->routes[0].methods, HTTP_METHOD_GET | HTTP_METHOD_HEAD | HTTP_METHOD_POST);
    config_free(config);
}

/* A route without max_body_bytes gets 1 MiB, or the ceiling when that is lower. */
static void test_route_body_default_follows_ceiling(void)
{
    struct config *config =
        load("{'limits':{'max_body_bytes':1000},'services':[" SVC("a") "],"
                                                                       "'routes':[{'name':'r','path_prefix':'/x','service':'a'}]}",
             NULL);
    CHECK(config != NULL);
    if (config != NULL)
        CHECK_INT_EQ(config->routes[0].max_body_bytes, 1000);
    config_free(config);
}

static void test_many_problems_at_once(void)
{
    struct problem_list problems = PROBLEM_LIST_INIT;
    struct config *config = load("{'threads':100,'listeners':{'public':{'port':'x'}},'bogus':1,"
                                 "'routes':[{'name':'r','path_prefix':'/a//b','service':'s','methods':['GET','GET']}]}",
                                 &problems);
    CHECK(config == NULL);
    CHECK_INT_EQ(problems.count, 5);
    static const char *const pointers[] = {"/threads", "/listeners/public/port", "/bogus", "/routes/0/path_prefix",
                                           "/routes/0/methods/1"};
    for (size_t i = 0; i < 5; i++) {
        int found = 0;
        for (size_t j = 0; j < problems.count; j++)
            found |= strcmp(problems.items[j].pointer, pointers[i]) == 0;
        CHECK(found);
        if (!found)
            fprintf(stderr, "  no problem at %s\n", pointers[i]);
    }
    config_free(config);
    problem_list_clear(&problems);

    /* Semantic rules also report all their problems together. */
    config = load("{'services':[" SVC("a") "," SVC("a") "],'routes':[{'name':'r','path_prefix':'/x','service':'b'},"
                                                        "{'name':'r','path_prefix':'/y','service':'c','host':'X'}]}",
                  &problems);
    CHECK(config == NULL);
    CHECK_INT_EQ(problems.count, 5);
    config_free(config);
    problem_list_clear(&problems);
}

static void test_parse_and_read_errors(void)
{
    EXPECT_ONE("{'threads':1,'threads':2}", "", "invalid JSON at line 1, column 22: duplicate object key near '\"threads\"'");
    struct problem_list problems = PROBLEM_LIST_INIT;
    CHECK(load("{\n  'threads': 1,\n  oops\n}", &problems) == NULL);
    CHECK(problems.count == 1 && strncmp(problems.items[0].message, "invalid JSON at line 3, column ", 31) == 0);
    problem_list_clear(&problems);
    CHECK(config_load_string("", 0, &problems) == NULL);
    CHECK(problems.count == 1 && strncmp(problems.items[0].message, "invalid JSON at line", 20) == 0);
    problem_list_clear(&problems);

    CHECK(config_load_file("/nonexistent/yiwang.json", &problems) == NULL);
    CHECK(problems.count == 1);
    if (problems.count == 1) {
        CHECK_STR_EQ(problems.items[0].pointer, "");
        CHECK_STR_EQ(problems.items[0].message, "cannot read /nonexistent/yiwang.json: No such file or directory");
    }
    problem_list_clear(&problems);
    CHECK(config_load_file("/", &problems) == NULL);
    CHECK(problems.count == 1 && strcmp(problems.items[0].message, "cannot read /: Is a directory") == 0);
    problem_list_clear(&problems);

    /* Problems are appended: what the caller already had is kept. */
    problem_list_add(&problems, "/x", "earlier");
    CHECK(load("{'threads':-1}", &problems) == NULL);
    CHECK_INT_EQ(problems.count, 2);
    problem_list_clear(&problems);
}

static void test_method_names(void)
{
    CHECK_INT_EQ(http_method_bit_from_name("GET", 3), HTTP_METHOD_GET);
    CHECK_INT_EQ(http_method_bit_from_name("HEAD", 4), HTTP_METHOD_HEAD);
    CHECK_INT_EQ(http_method_bit_from_name("POST", 4), HTTP_METHOD_POST);
    CHECK_INT_EQ(http_method_bit_from_name("PUT", 3), HTTP_METHOD_PUT);
    CHECK_INT_EQ(http_method_bit_from_name("PATCH", 5), HTTP_METHOD_PATCH);
    CHECK_INT_EQ(http_method_bit_from_name("DELETE", 6), HTTP_METHOD_DELETE);
    CHECK_INT_EQ(http_method_bit_from_name("OPTIONS", 7), HTTP_METHOD_OPTIONS);
    CHECK_INT_EQ(http_method_bit_from_name("get", 3), 0);
    CHECK_INT_EQ(http_method_bit_from_name("GETX", 3), HTTP_METHOD_GET); /* only `len` bytes count */
    CHECK_INT_EQ(http_method_bit_from_name("GE", 2), 0);
    CHECK_INT_EQ(http_method_bit_from_name("TRACE", 5), 0);
    CHECK_INT_EQ(http_method_bit_from_name("", 0), 0);
}

/* 1,000 services and 10,000 routes, each with a host, methods and limits. */
static char *large_config(void)
{
    struct strbuf sb = STRBUF_INIT;
    strbuf_append_str(&sb, "{\"services\":[");
    for (int i = 0; i < 1000; i++)
        strbuf_appendf(&sb,
                       "%s{\"name\":\"svc-%d\",\"department\":\"部门 %d\",\"targets\":[{\"host\":\"10.0.%d.%d\",\"port\":%d},"
                       "{\"host\":\"svc-%d.internal.example\",\"port\":8080,\"weight\":3}],\"balancer\":\"least_in_flight\","
                       "\"timeouts\":{\"connect_ms\":500,\"response_header_ms\":5000,\"total_ms\":20000},"
                       "\"health_check\":{\"path\":\"/healthz\"}}",
                       i ? "," : "", i, i, i / 250, i % 250, 9000 + i, i);
    strbuf_append_str(&sb, "],\"routes\":[");
    for (int i = 0; i < 10000; i++)
        strbuf_appendf(&sb,
                       "%s{\"name\":\"route-%d\",\"host\":\"api%d.example.gov.cn\",\"path_prefix\":\"/dept-%d/v1/item-%d/\","
                       "\"methods\":[\"GET\",\"POST\"],\"service\":\"svc-%d\",\"strip_prefix\":true,\"max_body_bytes\":1048576}",
                       i ? "," : "", i, i % 10, i % 1000, i, i % 1000);
    strbuf_append_str(&sb, "]}");
    return strbuf_detach(&sb, NULL);
}

static void test_large_config_is_fast(void)
{
    char *json = large_config();
    struct problem_list problems = PROBLEM_LIST_INIT;
    struct timespec start, end;
    clock_gettime(CLOCK_MONOTONIC, &start);
    struct config *config = config_load_string(json, strlen(json), &problems);
    clock_gettime(CLOCK_MONOTONIC, &end);
    double seconds = (double)(end.tv_sec - start.tv_sec) + (double)(end.tv_nsec - start.tv_nsec) / 1e9;
    fprintf(stderr, "loaded 1000 services and 10000 routes (%zu KiB) in %.3f s\n", strlen(json) / 1024, seconds);
    CHECK(config != NULL);
    print_problems(&problems);
    if (config != NULL) {
        CHECK_INT_EQ(config->num_services, 1000);
        CHECK_INT_EQ(config->num_routes, 10000);
        CHECK_STR_EQ(config->routes[9999].service, "svc-999");
        CHECK(config_find_service(config, "svc-999") == &config->services[999]);
    }
    CHECK(seconds < 2.0);
    config_free(config);
    problem_list_clear(&problems);

    /* The same size with one mistake at the end: every rule still runs, and fast. */
    char *bad = strstr(json, "\"service\":\"svc-999\",\"strip_prefix\":true,\"max_body_bytes\":1048576}]}");
    CHECK(bad != NULL);
    if (bad != NULL) {
        memcpy(bad, "\"service\":\"svc-99x\"", 19);
        config = config_load_string(json, strlen(json), &problems);
        CHECK(config == NULL && problems.count == 1);
        if (problems.count == 1)
            CHECK_STR_EQ(problems.items[0].pointer, "/routes/9999/service");
        config_free(config);
        problem_list_clear(&problems);
    }
    free(json);
}

int main(void)
{
    test_demo_config();
    test_defaults_match_schema();
    test_minimal_and_optional();
    test_schema_problems();
    test_path_prefix_pattern();
    test_semantic_rules();
    test_route_body_default_follows_ceiling();
    test_get_implies_head();
    test_identity_and_auth();
    test_sign_in_settings();
    test_registry_section();
    test_many_problems_at_once();
    test_parse_and_read_errors();
    test_method_names();
    test_large_config_is_fast();
    return TEST_REPORT();
}
