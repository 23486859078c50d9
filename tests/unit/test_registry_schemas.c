/*
 * test_registry_schemas.c — the JSON Schemas of the registry's admin entities
 * (schemas/json/{department,service,route,client,scope,rate_policy,admin_account}.schema.json):
 * each is embedded and loads (so an unknown keyword fails here), accepts good
 * bodies and refuses bad ones with the JSON pointer of the failing member, and
 * agrees with config.schema.json wherever it repeats a definition, so the
 * config file and the registry accept the same services and routes.
 */
#include <stdlib.h>
#include <string.h>

#include "common/embedded_schemas.h"
#include "common/json_schema.h"
#include "common/xalloc.h"
#include "tests/unit/test.h"

static const char *const registry_schemas[] = {
    "department.schema.json", "service.schema.json",     "route.schema.json",         "client.schema.json",
    "scope.schema.json",      "rate_policy.schema.json", "admin_account.schema.json",
};
#define NUM_REGISTRY_SCHEMAS (sizeof(registry_schemas) / sizeof(registry_schemas[0]))

/* The parsed text of an embedded schema; NULL (and a failed check) when it is missing or not JSON. */
static json_t *schema_document(const char *name)
{
    const struct embedded_schema *text = embedded_schema_find(name);
    CHECK(text != NULL);
    if (text == NULL) {
        fprintf(stderr, "  %s is not embedded\n", name);
        return NULL;
    }
    json_error_t error;
    json_t *document = json_loadb(text->text, text->len, JSON_REJECT_DUPLICATES, &error);
    CHECK(document != NULL);
    if (document == NULL)
        fprintf(stderr, "  %s: line %d: %s\n", name, error.line, error.text);
    return document;
}

static struct json_schema *load_schema(const char *name)
{
    const struct embedded_schema *text = embedded_schema_find(name);
    if (text == NULL)
        return NULL;
    char *err = NULL;
    struct json_schema *schema = json_schema_load(text->text, text->len, &err);
    if (schema == NULL)
        fprintf(stderr, "  %s does not load: %s\n", name, err != NULL ? err : "(no message)");
    free(err);
    return schema;
}

/* Single quotes in test JSON stand for double quotes, to keep the literals readable. */
static json_t *parse_quoted(const char *text)
{
    char *copy = xstrdup(text);
    for (char *p = copy; *p; p++)
        if (*p == '\'')
            *p = '"';
    json_error_t error;
    json_t *value = json_loads(copy, JSON_REJECT_DUPLICATES, &error);
    if (value == NULL)
        fprintf(stderr, "  bad test JSON (%s): %s\n", error.text, text);
    free(copy);
    return value;
}

static size_t validate_text(const char *schema_name, const char *instance_text, struct problem_list *problems)
{
    struct json_schema *schema = load_schema(schema_name);
    json_t *instance = parse_quoted(instance_text);
    size_t count = (size_t)-1;
    if (schema != NULL && instance != NULL)
        count = json_schema_validate(schema, instance, problems);
    json_decref(instance);
    json_schema_free(schema);
    return count;
}

static void check_valid(int line, const char *schema_name, const char *instance_text)
{
    struct problem_list problems = PROBLEM_LIST_INIT;
    size_t count = validate_text(schema_name, instance_text, &problems);
    CHECK_INT_EQ(count, 0);
    if (count != 0) {
        fprintf(stderr, "  line %d: %s refused %s\n", line, schema_name, instance_text);
        for (size_t i = 0; i < problems.count; i++)
            fprintf(stderr, "    %s: %s\n", problems.items[i].pointer, problems.items[i].message);
    }
    problem_list_clear(&problems);
}
#define VALID(schema_name, instance) check_valid(__LINE__, schema_name, instance)

/* Expects exactly one problem, at `pointer`, with `message`. */
static void check_one(int line, const char *schema_name, const char *instance_text, const char *pointer, const char *message)
{
    struct problem_list problems = PROBLEM_LIST_INIT;
    size_t count = validate_text(schema_name, instance_text, &problems);
    CHECK_INT_EQ(count, 1);
    if (problems.count >= 1) {
        CHECK_STR_EQ(problems.items[0].pointer, pointer);
        CHECK_STR_EQ(problems.items[0].message, message);
    }
    if (count != 1 || problems.count < 1 || strcmp(problems.items[0].pointer, pointer) != 0 ||
        strcmp(problems.items[0].message, message) != 0) {
        fprintf(stderr, "  line %d: %s on %s gave:\n", line, schema_name, instance_text);
        for (size_t i = 0; i < problems.count; i++)
            fprintf(stderr, "    %s: %s\n", problems.items[i].pointer, problems.items[i].message);
    }
    problem_list_clear(&problems);
}
#define EXPECT_ONE(schema_name, instance, pointer, message) check_one(__LINE__, schema_name, instance, pointer, message)

/* Every schema is embedded by the build and compiles: a misspelt keyword or a bad pattern fails here. */
static void test_all_load(void)
{
    for (size_t i = 0; i < NUM_REGISTRY_SCHEMAS; i++) {
        struct json_schema *schema = load_schema(registry_schemas[i]);
        CHECK(schema != NULL);
        json_schema_free(schema);
        json_t *document = schema_document(registry_schemas[i]);
        /* every entity is a closed object with the read-only members the API adds */
        CHECK(json_is_false(json_object_get(document, "additionalProperties")));
        const json_t *properties = json_object_get(document, "properties");
        CHECK(json_object_get(properties, "version") != NULL);
        CHECK(json_object_get(properties, "created_at") != NULL);
        CHECK(json_object_get(properties, "updated_at") != NULL);
        json_decref(document);
    }
}

/* A definition repeated from config.schema.json's $defs must be the same definition. */
static void test_shared_defs_match_config(void)
{
    json_t *config = schema_document("config.schema.json");
    const json_t *config_defs = json_object_get(config, "$defs");
    size_t shared = 0;
    for (size_t i = 0; i < NUM_REGISTRY_SCHEMAS; i++) {
        json_t *document = schema_document(registry_schemas[i]);
        const char *key;
        const json_t *def;
        json_object_foreach(json_object_get(document, "$defs"), key, def)
        {
            const json_t *original = json_object_get(config_defs, key);
            if (original == NULL)
                continue;
            shared++;
            CHECK(json_equal((json_t *)def, (json_t *)original));
            if (!json_equal((json_t *)def, (json_t *)original))
                fprintf(stderr, "  %s: $defs/%s differs from config.schema.json's\n", registry_schemas[i], key);
        }
        json_decref(document);
    }
    /* name in all seven, scope in three, plus port, timeout_ms, target, body_bytes and route_auth */
    CHECK_INT_EQ(shared, 15);
    json_decref(config);
}

/*
 * The registry's entity `registry_name` is config.schema.json's $defs/`config_def` except for the
 * members listed in `changed` (present in both, deliberately different) and `added` (registry only).
 */
static void check_same_as_config(const char *registry_name, const char *config_def, const char *const *changed,
                                 const char *const *added)
{
    json_t *config = schema_document("config.schema.json");
    json_t *document = schema_document(registry_name);
    const json_t *original = json_object_get(json_object_get(config, "$defs"), config_def);
    const json_t *original_properties = json_object_get(original, "properties");
    const json_t *properties = json_object_get(document, "properties");
    CHECK(original_properties != NULL && properties != NULL);
    const char *key;
    const json_t *value;
    json_object_foreach((json_t *)original_properties, key, value)
    {
        int is_changed = 0;
        for (const char *const *c = changed; *c != NULL; c++)
            is_changed |= strcmp(*c, key) == 0;
        const json_t *mine = json_object_get(properties, key);
        CHECK(mine != NULL);
        if (!is_changed && !json_equal((json_t *)mine, (json_t *)value)) {
            CHECK(0);
            fprintf(stderr, "  %s: /properties/%s differs from config.schema.json's $defs/%s\n", registry_name, key, config_def);
        }
    }
    json_object_foreach((json_t *)properties, key, value)
    {
        if (json_object_get(original_properties, key) != NULL)
            continue;
        int is_added = 0;
        for (const char *const *a = added; *a != NULL; a++)
            is_added |= strcmp(*a, key) == 0;
        CHECK(is_added);
        if (!is_added)
            fprintf(stderr, "  %s: member %s is not in config.schema.json's $defs/%s\n", registry_name, key, config_def);
    }
    /* whatever the file requires, the registry requires too */
    size_t i;
    json_array_foreach(json_object_get(original, "required"), i, value)
    {
        int found = 0;
        size_t j;
        const json_t *mine;
        json_array_foreach(json_object_get(document, "required"), j, mine) found |= json_equal((json_t *)mine, (json_t *)value);
        CHECK(found);
    }
    CHECK(json_equal(json_object_get(original, "additionalProperties"), json_object_get(document, "additionalProperties")));
    json_decref(document);
    json_decref(config);
}

static void test_service_and_route_match_config(void)
{
    static const char *const service_changed[] = {"department", NULL};
    static const char *const service_added[] = {"version", "created_at", "updated_at", NULL};
    check_same_as_config("service.schema.json", "service", service_changed, service_added);
    static const char *const route_changed[] = {NULL};
    static const char *const route_added[] = {"rate_policy", "version", "created_at", "updated_at", NULL};
    check_same_as_config("route.schema.json", "route", route_changed, route_added);
}

static char *source_path(const char *relative)
{
    const char *slash = strrchr(__FILE__, '/');
    size_t dir_len = slash != NULL ? (size_t)(slash - __FILE__) : 1;
    return xasprintf("%.*s/../../%s", (int)dir_len, slash != NULL ? __FILE__ : ".", relative);
}

/* The demo's registry file (docs/demo/registry.json, what scripts/run.sh imports) is what the schemas accept. */
static void test_demo_registry_validates(void)
{
    char *path = source_path("docs/demo/registry.json");
    json_error_t error;
    json_t *demo = json_load_file(path, JSON_REJECT_DUPLICATES, &error);
    CHECK(demo != NULL);
    if (demo == NULL)
        fprintf(stderr, "  %s: %s\n", path, error.text);
    free(path);
    static const struct {
        const char *section, *schema;
    } sections[] = {
        {"departments", "department.schema.json"}, {"services", "service.schema.json"}, {"routes", "route.schema.json"}};
    for (size_t s = 0; demo != NULL && s < sizeof(sections) / sizeof(sections[0]); s++) {
        struct json_schema *schema = load_schema(sections[s].schema);
        size_t i, count = 0;
        json_t *item;
        CHECK(schema != NULL);
        json_array_foreach(json_object_get(demo, sections[s].section), i, item)
        {
            CHECK(schema != NULL && json_schema_validate(schema, item, NULL) == 0);
            count++;
        }
        CHECK(count > 0);
        json_schema_free(schema);
    }
    json_decref(demo);
}

static void test_department(void)
{
    const char *schema = "department.schema.json";
    VALID(schema, "{'name':'gd-tax','display_name':'国家税务总局广东省税务局','region_code':'440000'}");
    VALID(schema, "{'name':'sz-tax','display_name':'国家税务总局深圳市税务局','region_code':'440300','parent':'gd-tax'}");
    VALID(schema, "{'name':'nsa','display_name':'国家税务总局','region_code':'100000'}");
    /* what a GET returns may be sent back as it is */
    VALID(schema, "{'name':'sz-tax','display_name':'x','region_code':'440305','version':17,"
                  "'created_at':'2026-11-25T19:09:56.123456Z','updated_at':'2026-11-25T19:09:56Z'}");
    const char *region = "must be a 6-digit administrative division code (GB/T 2260) such as 440300";
    EXPECT_ONE(schema, "{'name':'a','display_name':'x','region_code':'44030'}", "/region_code", region);
    EXPECT_ONE(schema, "{'name':'a','display_name':'x','region_code':'4403000'}", "/region_code", region);
    EXPECT_ONE(schema, "{'name':'a','display_name':'x','region_code':'040300'}", "/region_code", region);
    EXPECT_ONE(schema, "{'name':'a','display_name':'x','region_code':'44O300'}", "/region_code", region);
    EXPECT_ONE(schema, "{'name':'a','display_name':'x','region_code':440300}", "/region_code", "must be a string");
    EXPECT_ONE(schema, "{'name':'a','display_name':'x','region_code':'440300','bogus':1}", "/bogus", "unknown property 'bogus'");
    EXPECT_ONE(schema, "{'name':'a','region_code':'440300'}", "/display_name", "is required");
    EXPECT_ONE(schema, "{'name':'a','display_name':'','region_code':'440300'}", "/display_name", "must not be empty");
    EXPECT_ONE(schema, "{'name':'SZ-Tax','display_name':'x','region_code':'440300'}", "/name",
               "must be a name of lower-case letters, digits, '_' and '-' that starts with a letter or digit (at most 63 "
               "characters)");
    EXPECT_ONE(schema, "{'name':'a','display_name':'x','region_code':'440300','parent':null}", "/parent", "must be a string");
    EXPECT_ONE(schema, "{'name':'a','display_name':'x','region_code':'440300','version':-1}", "/version", "must be at least 0");
    EXPECT_ONE(schema, "{'name':'a','display_name':'x','region_code':'440300','created_at':'2026-11-25 19:09:56'}", "/created_at",
               "must be a UTC time such as 2026-11-25T19:09:56.123456Z");
}

#define TARGETS "'targets':[{'host':'10.0.0.1','port':8080}]"

static void test_service(void)
{
    const char *schema = "service.schema.json";
    VALID(schema, "{'name':'tax-invoice','department':'sz-tax'," TARGETS "}");
    VALID(schema, "{'name':'tax-invoice','department':'sz-tax','targets':[{'host':'invoice.tax.internal','port':443,'weight':3}],"
                  "'balancer':'least_in_flight','timeouts':{'connect_ms':500,'total_ms':5000},'max_in_flight':100,"
                  "'health_check':{'path':'/healthz'}}");
    EXPECT_ONE(schema, "{'name':'tax-invoice'," TARGETS "}", "/department", "is required");
    EXPECT_ONE(schema, "{'name':'tax-invoice','department':'税务局 (tax)'," TARGETS "}", "/department",
               "must be a name of lower-case letters, digits, '_' and '-' that starts with a letter or digit (at most 63 "
               "characters)");
    EXPECT_ONE(schema, "{'name':'t','department':'d','targets':[]}", "/targets", "must have at least 1 item");
    EXPECT_ONE(schema, "{'name':'t','department':'d','targets':[{'host':'10.0.0.1','port':0}]}", "/targets/0/port",
               "must be an integer between 1 and 65535");
    EXPECT_ONE(schema, "{'name':'t','department':'d'," TARGETS ",'max_in_flight':0}", "/max_in_flight",
               "must be an integer between 1 and 1000000");
    EXPECT_ONE(schema, "{'name':'t','department':'d'," TARGETS ",'timeouts':{'total':1}}", "/timeouts/total",
               "unknown property 'total'");
}

static void test_route(void)
{
    const char *schema = "route.schema.json";
    VALID(schema, "{'name':'tax-invoice','path_prefix':'/tax/invoices/','service':'tax-invoice'}");
    VALID(schema, "{'name':'tax-invoice','host':'api.sz.gov.cn','path_prefix':'/tax/invoices','methods':['GET','POST'],"
                  "'service':'tax-invoice','strip_prefix':true,'max_body_bytes':65536,'rate_policy':'per-person',"
                  "'auth':{'policy':'user','scopes':['tax:invoice:read'],'min_acr':2,'forward_authorization':false}}");
    EXPECT_ONE(schema, "{'name':'r','path_prefix':'/tax/'}", "/service", "is required");
    EXPECT_ONE(schema, "{'name':'r','service':'s'}", "/path_prefix", "is required");
    EXPECT_ONE(schema, "{'name':'r','path_prefix':'/tax/../x','service':'s'}", "/path_prefix",
               "must be a canonical path prefix: it starts with '/', has no empty segments ('//') and no segments of only dots "
               "('.', '..'), and uses only letters, digits and -._~!$&'()*+,=:@ (no '%', ';' or '\\')");
    EXPECT_ONE(schema, "{'name':'r','path_prefix':'/','service':'s','methods':['GET','TRACE']}", "/methods/1",
               "must be one of: GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS");
    EXPECT_ONE(schema, "{'name':'r','path_prefix':'/','service':'s','auth':{'min_acr':4}}", "/auth/min_acr",
               "must be an integer between 0 and 3");
    EXPECT_ONE(schema, "{'name':'r','path_prefix':'/','service':'s','auth':{'scopes':['tax invoice']}}", "/auth/scopes/0",
               "must be a scope token such as tax:invoice:read (letters, digits and ._:-)");
    EXPECT_ONE(schema, "{'name':'r','path_prefix':'/','service':'s','rate_policy':''}", "/rate_policy",
               "must be a name of lower-case letters, digits, '_' and '-' that starts with a letter or digit (at most 63 "
               "characters)");
    EXPECT_ONE(schema, "{'name':'r','path_prefix':'/','service':'s','scopes':['a']}", "/scopes", "unknown property 'scopes'");
}

static void test_client(void)
{
    const char *schema = "client.schema.json";
    VALID(schema,
          "{'client_id':'isz-web','name':'i深圳','kind':'web','department':'sz-gov','first_party':true,'confidential':false,"
          "'redirect_uris':['https://www.sz.gov.cn/callback'],'allowed_scopes':['openid','tax:invoice:read'],"
          "'grant_types':['authorization_code','refresh_token'],'cors_origins':['https://www.sz.gov.cn',"
          "'http://127.0.0.1:8080']}");
    VALID(schema, "{'client_id':'bank-1','name':'某银行','kind':'third_party','owner':'某银行股份有限公司',"
                  "'grant_types':['client_credentials']}");
    VALID(schema, "{'client_id':'isz-app','name':'i深圳','kind':'ios','department':'sz-gov','confidential':false,"
                  "'redirect_uris':['cn.gov.sz.app:/callback'],'previous_secret_expires_at':'2026-12-01T00:00:00Z'}");
    EXPECT_ONE(schema, "{'client_id':'x','name':'x','kind':'web'}", "/department", "is required");
    EXPECT_ONE(schema, "{'client_id':'x','name':'x','kind':'third_party','department':'sz-gov'}", "/department", "is not allowed");
    EXPECT_ONE(schema, "{'client_id':'x','name':'x','kind':'third_party','first_party':true}", "/first_party", "must be false");
    EXPECT_ONE(schema, "{'client_id':'x','name':'x','kind':'department_service','department':'d','confidential':false}",
               "/confidential", "must be true");
    EXPECT_ONE(schema, "{'client_id':'x','name':'x','kind':'web','department':'d','cors_origins':['https://a.gov.cn/']}",
               "/cors_origins/0",
               "must be an origin such as https://www.gdzwfw.gov.cn or http://127.0.0.1:8080 (scheme, lower-case host, "
               "optional port, nothing else)");
    EXPECT_ONE(schema, "{'client_id':'x','name':'x','kind':'web','department':'d','grant_types':['password']}", "/grant_types/0",
               "must be one of: authorization_code, refresh_token, client_credentials");
    EXPECT_ONE(schema, "{'client_id':'x','name':'x','kind':'web','department':'d','redirect_uris':['not a uri']}",
               "/redirect_uris/0", "must be an absolute URI");
    EXPECT_ONE(schema, "{'client_id':'x y','name':'x','kind':'web','department':'d'}", "/client_id",
               "must be a client id of letters, digits, '.', '_' and '-' that starts with a letter or digit (at most 64 "
               "characters)");
    /* the secret is returned once by the API, never accepted in a body */
    EXPECT_ONE(schema, "{'client_id':'x','name':'x','kind':'web','department':'d','secret':'s3cret'}", "/secret",
               "unknown property 'secret'");
    EXPECT_ONE(schema, "{'client_id':'x','name':'x','kind':'web','department':'d','secret_hash':'00'}", "/secret_hash",
               "unknown property 'secret_hash'");
}

static void test_scope_and_rate_policy(void)
{
    VALID("scope.schema.json", "{'name':'tax:invoice:read','department':'sz-tax','display_name':'查询您的发票'}");
    EXPECT_ONE("scope.schema.json", "{'name':'tax invoice','department':'sz-tax','display_name':'x'}", "/name",
               "must be a scope token such as tax:invoice:read (letters, digits and ._:-)");
    EXPECT_ONE("scope.schema.json", "{'name':'tax:invoice:read','display_name':'x'}", "/department", "is required");
    VALID("scope.schema.json", "{'name':'tax:invoice:read','department':'sz-tax','display_name':'x','third_party':true}");
    EXPECT_ONE("scope.schema.json", "{'name':'tax:invoice:read','department':'sz-tax','display_name':'x','third_party':'yes'}",
               "/third_party", "must be a boolean");

    VALID("rate_policy.schema.json", "{'name':'per-person','department':'sz-tax','requests':10,'per_s':1,'burst':20,"
                                     "'key_by':'subject'}");
    VALID("rate_policy.schema.json", "{'name':'platform-default','requests':100}");
    EXPECT_ONE("rate_policy.schema.json", "{'name':'p','requests':0}", "/requests", "must be an integer between 1 and 1000000000");
    EXPECT_ONE("rate_policy.schema.json", "{'name':'p'}", "/requests", "is required");
    EXPECT_ONE("rate_policy.schema.json", "{'name':'p','requests':1,'key_by':'ip'}", "/key_by",
               "must be one of: client_ip, client_id, subject, route");
}

static void test_admin_account(void)
{
    const char *schema = "admin_account.schema.json";
    VALID(schema, "{'name':'root','role':'platform_admin'}");
    VALID(schema, "{'name':'li-ming','display_name':'李明','role':'department_admin','department':'sz-tax'}");
    VALID(schema, "{'name':'audit','role':'auditor','status':'disabled'}");
    EXPECT_ONE(schema, "{'name':'li-ming','role':'department_admin'}", "/department", "is required");
    EXPECT_ONE(schema, "{'name':'ops','role':'operator','department':'sz-tax'}", "/department", "is not allowed");
    EXPECT_ONE(schema, "{'name':'x','role':'superuser'}", "/role",
               "must be one of: platform_admin, department_admin, auditor, operator");
    EXPECT_ONE(schema, "{'name':'x','role':'auditor','token':'ywadm_x'}", "/token", "unknown property 'token'");
}

int main(void)
{
    test_all_load();
    test_shared_defs_match_config();
    test_service_and_route_match_config();
    test_demo_registry_validates();
    test_department();
    test_service();
    test_route();
    test_client();
    test_scope_and_rate_policy();
    test_admin_account();
    return TEST_REPORT();
}
