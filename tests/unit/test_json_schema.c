/*
 * test_json_schema.c — the JSON Schema validator: every keyword accepting and
 * refusing, pointers and messages of the problems, and schemas it must refuse.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/json_schema.h"
#include "common/strbuf.h"
#include "common/xalloc.h"
#include "tests/unit/test.h"

static struct json_schema *load(const char *text)
{
    char *err = NULL;
    struct json_schema *schema = json_schema_load(text, strlen(text), &err);
    if (schema == NULL)
        fprintf(stderr, "schema failed to load: %s\n  %s\n", err, text);
    free(err);
    return schema;
}

/* Validates `instance` (JSON text) against `schema` (JSON text); fills `problems`. */
static size_t run(const char *schema_text, const char *instance_text, struct problem_list *problems)
{
    problem_list_clear(problems);
    struct json_schema *schema = load(schema_text);
    json_error_t error;
    json_t *instance = json_loads(instance_text, JSON_DECODE_ANY, &error);
    if (schema == NULL || instance == NULL) {
        fprintf(stderr, "bad test input: %s\n", instance == NULL ? error.text : schema_text);
        json_decref(instance);
        json_schema_free(schema);
        return (size_t)-1;
    }
    size_t count = json_schema_validate(schema, instance, problems);
    CHECK_INT_EQ(count, problems->count);
    /* Counting without a list must agree with the list. */
    CHECK_INT_EQ(json_schema_validate(schema, instance, NULL), count);
    json_decref(instance);
    json_schema_free(schema);
    return count;
}

static int valid(const char *schema_text, const char *instance_text)
{
    struct problem_list problems = PROBLEM_LIST_INIT;
    size_t count = run(schema_text, instance_text, &problems);
    for (size_t i = 0; i < problems.count; i++)
        fprintf(stderr, "  unexpected problem: '%s': %s\n", problems.items[i].pointer, problems.items[i].message);
    problem_list_clear(&problems);
    return count == 0;
}

/* Expects exactly one problem, with this pointer and message. */
#define CHECK_ONE(schema_text, instance_text, pointer_, message_)                                                                  \
    do {                                                                                                                           \
        struct problem_list p_ = PROBLEM_LIST_INIT;                                                                                \
        CHECK_INT_EQ(run(schema_text, instance_text, &p_), 1);                                                                     \
        if (p_.count >= 1) {                                                                                                       \
            CHECK_STR_EQ(p_.items[0].pointer, pointer_);                                                                           \
            CHECK_STR_EQ(p_.items[0].message, message_);                                                                           \
        }                                                                                                                          \
        problem_list_clear(&p_);                                                                                                   \
    } while (0)

static int schema_refused(const char *text, const char *expected_err)
{
    char *err = NULL;
    struct json_schema *schema = json_schema_load(text, strlen(text), &err);
    int ok = schema == NULL && err != NULL && strstr(err, expected_err) != NULL;
    if (!ok)
        fprintf(stderr, "  schema %s: expected error containing '%s', got '%s'\n", text, expected_err, err ? err : "(none)");
    json_schema_free(schema);
    free(err);
    return ok;
}

static void test_type(void)
{
    CHECK(valid("{\"type\":\"string\"}", "\"x\""));
    CHECK_ONE("{\"type\":\"string\"}", "1", "", "must be a string");
    CHECK(valid("{\"type\":\"integer\"}", "3"));
    CHECK(valid("{\"type\":\"integer\"}", "3.0"));
    CHECK_ONE("{\"type\":\"integer\"}", "3.5", "", "must be an integer");
    CHECK_ONE("{\"type\":\"integer\"}", "\"3\"", "", "must be an integer");
    CHECK(valid("{\"type\":\"number\"}", "3.5"));
    CHECK(valid("{\"type\":\"number\"}", "3"));
    CHECK_ONE("{\"type\":\"number\"}", "true", "", "must be a number");
    CHECK(valid("{\"type\":\"boolean\"}", "false"));
    CHECK_ONE("{\"type\":\"boolean\"}", "0", "", "must be a boolean");
    CHECK(valid("{\"type\":\"null\"}", "null"));
    CHECK_ONE("{\"type\":\"object\"}", "[]", "", "must be an object");
    CHECK_ONE("{\"type\":\"array\"}", "{}", "", "must be an array");
    CHECK(valid("{\"type\":[\"string\",\"null\"]}", "null"));
    CHECK(valid("{\"type\":[\"string\",\"null\"]}", "\"a\""));
    CHECK_ONE("{\"type\":[\"string\",\"null\"]}", "1", "", "must be a string or null");
    CHECK_ONE("{\"type\":[\"object\",\"string\",\"null\"]}", "1", "", "must be an object, a string or null");
    CHECK_ONE("{\"type\":\"integer\",\"minimum\":1,\"maximum\":65535}", "\"80\"", "", "must be an integer between 1 and 65535");
    /* A type mismatch is reported once, not once per keyword that cannot apply. */
    CHECK_ONE("{\"type\":\"string\",\"minLength\":3,\"pattern\":\"^a\"}", "7", "", "must be a string");
}

static void test_enum_const(void)
{
    const char *schema = "{\"type\":\"string\",\"enum\":[\"a\",\"b\"]}";
    CHECK(valid(schema, "\"b\""));
    CHECK_ONE(schema, "\"c\"", "", "must be one of: a, b");
    /* The wrong type gets the more useful enum message. */
    CHECK_ONE(schema, "5", "", "must be one of: a, b");
    CHECK(valid("{\"enum\":[1,null,{\"x\":1}]}", "{\"x\":1}"));
    CHECK(valid("{\"enum\":[1,null]}", "1.0"));
    CHECK_ONE("{\"enum\":[1,null]}", "2", "", "must be one of: 1, null");
    CHECK(valid("{\"const\":false}", "false"));
    CHECK_ONE("{\"const\":false}", "true", "", "must be false");
    CHECK_ONE("{\"const\":\"GET\"}", "\"get\"", "", "must be GET");
    /* Numbers compare by value, also inside arrays and objects. */
    CHECK(valid("{\"const\":{\"a\":[1,2]}}", "{\"a\":[1.0,2]}"));
    CHECK_ONE("{\"uniqueItems\":true}", "[1,1.0]", "/1", "is a duplicate of item 0");
}

static void test_numbers(void)
{
    const char *range = "{\"type\":\"integer\",\"minimum\":1,\"maximum\":65535}";
    CHECK(valid(range, "1"));
    CHECK(valid(range, "65535"));
    CHECK_ONE(range, "0", "", "must be an integer between 1 and 65535");
    CHECK_ONE(range, "65536", "", "must be an integer between 1 and 65535");
    CHECK_ONE("{\"minimum\":0}", "-1", "", "must be at least 0");
    CHECK_ONE("{\"maximum\":2.5}", "3", "", "must be at most 2.5");
    CHECK(valid("{\"maximum\":2.5}", "2.5"));
    CHECK(valid("{\"exclusiveMinimum\":0}", "0.001"));
    CHECK_ONE("{\"exclusiveMinimum\":0}", "0", "", "must be greater than 0");
    CHECK(valid("{\"exclusiveMaximum\":10}", "9"));
    CHECK_ONE("{\"exclusiveMaximum\":10}", "10", "", "must be less than 10");
    CHECK(valid("{\"multipleOf\":5}", "15"));
    CHECK_ONE("{\"multipleOf\":5}", "16", "", "must be a multiple of 5");
    CHECK(valid("{\"multipleOf\":0.1}", "0.3"));
    CHECK_ONE("{\"multipleOf\":0.5}", "0.7", "", "must be a multiple of 0.5");
    /* Large integers compare exactly, not through double. */
    CHECK_ONE("{\"maximum\":9007199254740992}", "9007199254740993", "", "must be at most 9007199254740992");
    /* Number keywords ignore other types. */
    CHECK(valid("{\"minimum\":5}", "\"abc\""));
}

static void test_strings(void)
{
    CHECK(valid("{\"minLength\":2,\"maxLength\":3}", "\"abc\""));
    CHECK_ONE("{\"minLength\":2}", "\"a\"", "", "must be at least 2 characters long");
    CHECK_ONE("{\"minLength\":1}", "\"\"", "", "must not be empty");
    CHECK_ONE("{\"maxLength\":3}", "\"abcd\"", "", "must be at most 3 characters long");
    /* Length counts code points: 4 Chinese characters are 12 bytes. */
    CHECK(valid("{\"maxLength\":4}", "\"人社税务\""));
    CHECK_ONE("{\"maxLength\":3}", "\"人社税务\"", "", "must be at most 3 characters long");
    CHECK(valid("{\"minLength\":2}", "\"\\ud83d\\ude00x\"")); /* one astral code point + 'x' */
    CHECK_ONE("{\"minLength\":3}", "\"\\ud83d\\ude00x\"", "", "must be at least 3 characters long");

    const char *name = "{\"pattern\":\"^[a-z0-9][a-z0-9_-]{0,62}$\"}";
    CHECK(valid(name, "\"hrss\""));
    CHECK(valid(name, "\"a_b-c\""));
    CHECK_ONE(name, "\"Hrss\"", "", "must match the pattern ^[a-z0-9][a-z0-9_-]{0,62}$");
    CHECK_ONE(name, "\"-x\"", "", "must match the pattern ^[a-z0-9][a-z0-9_-]{0,62}$");
    /* A title names what the pattern accepts instead of quoting it. */
    CHECK_ONE("{\"title\":\"a lower-case name\",\"pattern\":\"^[a-z]+$\"}", "\"A\"", "", "must be a lower-case name");
    /* Patterns are unanchored unless they say otherwise. */
    CHECK(valid("{\"pattern\":\"b+\"}", "\"abbc\""));
}

static void test_formats(void)
{
    CHECK(valid("{\"format\":\"ipv4\"}", "\"127.0.0.1\""));
    CHECK_ONE("{\"format\":\"ipv4\"}", "\"127.0.0\"", "", "must be an IPv4 address");
    CHECK_ONE("{\"format\":\"ipv4\"}", "\"256.0.0.1\"", "", "must be an IPv4 address");
    CHECK(valid("{\"format\":\"ipv6\"}", "\"::1\""));
    CHECK(valid("{\"format\":\"ipv6\"}", "\"2001:db8::8a2e:370:7334\""));
    CHECK_ONE("{\"format\":\"ipv6\"}", "\"127.0.0.1\"", "", "must be an IPv6 address");
    CHECK(valid("{\"format\":\"hostname\"}", "\"api.example.gov.cn\""));
    CHECK(valid("{\"format\":\"hostname\"}", "\"localhost\""));
    CHECK_ONE("{\"format\":\"hostname\"}", "\"-bad.example\"", "", "must be a host name");
    CHECK_ONE("{\"format\":\"hostname\"}", "\"a..b\"", "", "must be a host name");
    CHECK_ONE("{\"format\":\"hostname\"}", "\"host:80\"", "", "must be a host name");
    CHECK(valid("{\"format\":\"uri\"}", "\"https://example.gov.cn/a?b=c%20d\""));
    CHECK_ONE("{\"format\":\"uri\"}", "\"/relative\"", "", "must be an absolute URI");
    CHECK_ONE("{\"format\":\"uri\"}", "\"http://a b\"", "", "must be an absolute URI");
    CHECK_ONE("{\"format\":\"uri\"}", "\"http://a%2\"", "", "must be an absolute URI");
    /* Formats apply to strings only. */
    CHECK(valid("{\"format\":\"ipv4\"}", "12"));
}

static void test_arrays(void)
{
    CHECK(valid("{\"minItems\":1,\"maxItems\":2}", "[1]"));
    CHECK_ONE("{\"minItems\":1}", "[]", "", "must have at least 1 item");
    CHECK_ONE("{\"maxItems\":2}", "[1,2,3]", "", "must have at most 2 items");
    CHECK(valid("{\"uniqueItems\":true}", "[1,\"1\",[1],{\"a\":1}]"));
    CHECK_ONE("{\"uniqueItems\":true}", "[\"GET\",\"POST\",\"GET\"]", "/2", "is a duplicate of item 0");
    CHECK(valid("{\"uniqueItems\":false}", "[1,1]"));
    CHECK(valid("{\"items\":{\"type\":\"integer\"}}", "[1,2,3]"));
    CHECK_ONE("{\"items\":{\"type\":\"integer\"}}", "[1,\"x\",3]", "/1", "must be an integer");
}

static void test_objects(void)
{
    const char *schema = "{\"type\":\"object\",\"properties\":{\"a\":{\"type\":\"integer\"},\"b\":{\"type\":\"string\"}},"
                         "\"required\":[\"a\"],\"additionalProperties\":false}";
    CHECK(valid(schema, "{\"a\":1,\"b\":\"x\"}"));
    CHECK_ONE(schema, "{\"b\":\"x\"}", "/a", "is required");
    CHECK_ONE(schema, "{\"a\":1,\"foo\":2}", "/foo", "unknown property 'foo'");
    CHECK_ONE(schema, "{\"a\":1,\"x/y~z\":2}", "/x~1y~0z", "unknown property 'x/y~z'");
    CHECK_ONE(schema, "{\"a\":\"1\"}", "/a", "must be an integer");

    const char *typed = "{\"properties\":{\"a\":true},\"additionalProperties\":{\"type\":\"string\"}}";
    CHECK(valid(typed, "{\"a\":1,\"z\":\"s\"}"));
    CHECK_ONE(typed, "{\"a\":1,\"z\":2}", "/z", "must be a string");

    const char *patterned =
        "{\"patternProperties\":{\"^x-\":{\"type\":\"string\"},\"^n\":{\"type\":\"integer\"}},\"additionalProperties\":false}";
    CHECK(valid(patterned, "{\"x-a\":\"s\",\"n1\":1}"));
    CHECK_ONE(patterned, "{\"x-a\":1}", "/x-a", "must be a string");
    CHECK_ONE(patterned, "{\"y\":1}", "/y", "unknown property 'y'");

    CHECK(valid("{\"minProperties\":1,\"maxProperties\":2}", "{\"a\":1}"));
    CHECK_ONE("{\"minProperties\":1}", "{}", "", "must have at least 1 property");
    CHECK_ONE("{\"maxProperties\":1}", "{\"a\":1,\"b\":2}", "", "must have at most 1 property");
    CHECK_ONE("{\"properties\":{\"a\":false}}", "{\"a\":1}", "/a", "is not allowed");
    CHECK(valid("{\"properties\":{\"a\":false}}", "{\"b\":1}"));
}

static void test_nested_pointers_and_many_problems(void)
{
    const char *schema =
        "{\"type\":\"object\",\"properties\":{\"routes\":{\"type\":\"array\",\"items\":{\"type\":\"object\","
        "\"properties\":{\"name\":{\"type\":\"string\"},\"methods\":{\"type\":\"array\",\"items\":{\"enum\":[\"GET\",\"POST\"]}}},"
        "\"required\":[\"name\"],\"additionalProperties\":false}}}}";
    struct problem_list problems = PROBLEM_LIST_INIT;
    size_t count = run(schema,
                       "{\"routes\":[{\"name\":\"a\"},{\"name\":\"b\",\"methods\":[\"GET\"]},"
                       "{\"name\":3,\"methods\":[\"GET\",\"FETCH\"],\"extra\":1},{}]}",
                       &problems);
    CHECK_INT_EQ(count, 4);
    if (problems.count == 4) {
        CHECK_STR_EQ(problems.items[0].pointer, "/routes/2/name");
        CHECK_STR_EQ(problems.items[0].message, "must be a string");
        CHECK_STR_EQ(problems.items[1].pointer, "/routes/2/methods/1");
        CHECK_STR_EQ(problems.items[1].message, "must be one of: GET, POST");
        CHECK_STR_EQ(problems.items[2].pointer, "/routes/2/extra");
        CHECK_STR_EQ(problems.items[2].message, "unknown property 'extra'");
        CHECK_STR_EQ(problems.items[3].pointer, "/routes/3/name");
        CHECK_STR_EQ(problems.items[3].message, "is required");
    }
    problem_list_clear(&problems);
}

static void test_ref_and_defs(void)
{
    const char *schema = "{\"$defs\":{\"port\":{\"type\":\"integer\",\"minimum\":1,\"maximum\":65535},"
                         "\"listener\":{\"type\":\"object\",\"properties\":{\"port\":{\"$ref\":\"#/$defs/port\"}}}},"
                         "\"properties\":{\"a\":{\"$ref\":\"#/$defs/listener\"},\"b\":{\"$ref\":\"#/$defs/listener\"}}}";
    CHECK(valid(schema, "{\"a\":{\"port\":80},\"b\":{\"port\":443}}"));
    CHECK_ONE(schema, "{\"a\":{\"port\":80},\"b\":{\"port\":0}}", "/b/port", "must be an integer between 1 and 65535");
    /* "$ref" with sibling keywords: both apply. */
    const char *sibling = "{\"$defs\":{\"s\":{\"type\":\"string\"}},\"$ref\":\"#/$defs/s\",\"maxLength\":2}";
    CHECK(valid(sibling, "\"ab\""));
    CHECK_ONE(sibling, "\"abc\"", "", "must be at most 2 characters long");
    CHECK_ONE(sibling, "1", "", "must be a string");
    /* Recursive schema: a tree of arrays of integers. */
    const char *tree = "{\"$defs\":{\"t\":{\"type\":[\"integer\",\"array\"],\"items\":{\"$ref\":\"#/$defs/t\"}}},"
                       "\"$ref\":\"#/$defs/t\"}";
    CHECK(valid(tree, "[1,[2,[3,[]]]]"));
    CHECK_ONE(tree, "[1,[2,[\"x\"]]]", "/1/1/0", "must be an array or an integer");
    /* Escaped pointer tokens in a reference. */
    CHECK(valid("{\"$defs\":{\"a/b\":{\"type\":\"null\"}},\"$ref\":\"#/$defs/a~1b\"}", "null"));
    /* A reference cycle that consumes nothing ends with a problem, not a crash. */
    struct problem_list problems = PROBLEM_LIST_INIT;
    CHECK(run("{\"$ref\":\"#\"}", "1", &problems) == 1);
    CHECK(problems.count == 1 && strcmp(problems.items[0].message, "is nested too deeply to validate") == 0);
    problem_list_clear(&problems);
}

static void test_combinators(void)
{
    const char *all = "{\"allOf\":[{\"minimum\":1},{\"multipleOf\":2}]}";
    CHECK(valid(all, "4"));
    struct problem_list problems = PROBLEM_LIST_INIT;
    CHECK_INT_EQ(run(all, "-1", &problems), 2);
    problem_list_clear(&problems);

    const char *address = "{\"anyOf\":[{\"format\":\"ipv4\"},{\"format\":\"ipv6\"}]}";
    CHECK(valid(address, "\"::1\""));
    CHECK(valid(address, "\"10.0.0.1\""));
    CHECK_ONE(address, "\"localhost\"", "", "must be an IPv4 address or an IPv6 address");
    const char *three = "{\"anyOf\":[{\"format\":\"ipv4\"},{\"format\":\"ipv6\"},{\"format\":\"hostname\"}]}";
    CHECK_ONE(three, "\"a b\"", "", "must be an IPv4 address, an IPv6 address or a host name");

    /* The branch whose shape matched is the one reported. */
    const char *shapes = "{\"anyOf\":[{\"type\":\"string\"},{\"type\":\"object\",\"properties\":{\"path\":{\"type\":"
                         "\"string\"}},\"required\":[\"path\"]}]}";
    CHECK_ONE(shapes, "{\"path\":1}", "/path", "must be a string");

    const char *one = "{\"oneOf\":[{\"type\":\"integer\"},{\"minimum\":2}]}";
    CHECK(valid(one, "1"));
    CHECK(valid(one, "2.5"));
    CHECK_ONE(one, "3", "", "must match exactly one of the allowed forms, but matches 2");
    CHECK_ONE(one, "1.5", "", "must be an integer or at least 2");

    CHECK(valid("{\"not\":{\"type\":\"string\"}}", "1"));
    CHECK_ONE("{\"not\":{\"type\":\"string\"}}", "\"s\"", "", "must not match the excluded form");

    const char *conditional = "{\"type\":\"object\",\"if\":{\"properties\":{\"enabled\":{\"const\":true}}},"
                              "\"then\":{\"required\":[\"certificate\"]},\"else\":{\"maxProperties\":1}}";
    CHECK(valid(conditional, "{\"enabled\":true,\"certificate\":\"c\"}"));
    CHECK_ONE(conditional, "{\"enabled\":true}", "/certificate", "is required");
    CHECK_ONE(conditional, "{}", "/certificate", "is required");
    CHECK(valid(conditional, "{\"enabled\":false}"));
    CHECK_ONE(conditional, "{\"enabled\":false,\"x\":1}", "", "must have at most 1 property");
}

static void test_boolean_schemas_and_annotations(void)
{
    CHECK(valid("true", "{\"anything\":[1]}"));
    CHECK_ONE("false", "1", "", "is not allowed");
    CHECK(valid("{}", "null"));
    CHECK(valid("{\"$schema\":\"https://json-schema.org/draft/2020-12/schema\",\"$id\":\"x\",\"title\":\"t\","
                "\"description\":\"d\",\"default\":1,\"examples\":[1],\"$comment\":\"c\"}",
                "2"));
}

static void test_bad_schemas(void)
{
    CHECK(schema_refused("{\"type\":\"string\",\"minLenght\":1}", "(root): unknown keyword 'minLenght'"));
    CHECK(schema_refused("{\"properties\":{\"port\":{\"minimun\":1}}}", "/properties/port: unknown keyword 'minimun'"));
    CHECK(schema_refused("{\"type\":\"str\"}", "'type' names an unknown type"));
    CHECK(schema_refused("{\"pattern\":\"(\"}", "not a valid POSIX extended regular expression"));
    CHECK(schema_refused("{\"patternProperties\":{\"[\":true}}", "not a valid POSIX extended regular expression"));
    CHECK(schema_refused("{\"$ref\":\"#/$defs/missing\"}", "'$ref' target '#/$defs/missing' does not exist"));
    CHECK(schema_refused("{\"$ref\":\"other.json#/x\"}", "must be a local reference"));
    CHECK(schema_refused("{\"$defs\":{\"x\":{\"typo\":1}}}", "/$defs/x: unknown keyword 'typo'"));
    CHECK(schema_refused("{\"minItems\":-1}", "'minItems' must be a non-negative integer"));
    CHECK(schema_refused("{\"multipleOf\":0}", "'multipleOf' must be a number greater than 0"));
    CHECK(schema_refused("{\"anyOf\":[]}", "'anyOf' must be a non-empty array of schemas"));
    CHECK(schema_refused("{\"items\":[{}]}", "'items' must be a single schema"));
    CHECK(schema_refused("{\"format\":\"email\"}", "'format' must be one of"));
    CHECK(schema_refused("{\"properties\":{\"a\":1}}", "/properties/a: a schema must be an object or a boolean"));
    CHECK(schema_refused("{\"allOf\":[{},{\"x\":1}]}", "/allOf/1: unknown keyword 'x'"));
    CHECK(schema_refused("{\"type\":", "schema is not valid JSON"));
    CHECK(schema_refused("{\"type\":\"string\",\"type\":\"integer\"}", "duplicate"));
    CHECK(schema_refused("3", "a schema must be an object or a boolean"));
    CHECK(schema_refused("{\"title\":1}", "'title' must be a string"));
    /* NULL err is allowed. */
    CHECK(json_schema_load("{\"bad\":1}", 9, NULL) == NULL);
}

/* 10,000 objects through properties, patterns, enums and $ref: must be fast. */
static void test_performance(void)
{
    const char *schema_text =
        "{\"$defs\":{\"name\":{\"type\":\"string\",\"pattern\":\"^[a-z0-9][a-z0-9_-]{0,62}$\"}},\"type\":\"array\","
        "\"items\":{\"type\":\"object\",\"additionalProperties\":false,\"required\":[\"name\",\"path_prefix\"],"
        "\"properties\":{\"name\":{\"$ref\":\"#/$defs/name\"},\"path_prefix\":{\"type\":\"string\",\"pattern\":\"^/\"},"
        "\"methods\":{\"type\":\"array\",\"uniqueItems\":true,\"items\":{\"enum\":[\"GET\",\"HEAD\",\"POST\"]}},"
        "\"port\":{\"type\":\"integer\",\"minimum\":1,\"maximum\":65535},"
        "\"host\":{\"anyOf\":[{\"format\":\"ipv4\"},{\"format\":\"hostname\"}]}}}}";
    struct json_schema *schema = load(schema_text);
    json_t *routes = json_array();
    for (int i = 0; i < 10000; i++) {
        char name[32], prefix[32];
        snprintf(name, sizeof(name), "route-%d", i);
        snprintf(prefix, sizeof(prefix), "/r%d/", i);
        json_array_append_new(routes, json_pack("{s:s, s:s, s:[s,s], s:i, s:s}", "name", name, "path_prefix", prefix, "methods",
                                                "GET", "POST", "port", 1 + i % 65535, "host", "api.example.gov.cn"));
    }
    struct timespec start, end;
    clock_gettime(CLOCK_MONOTONIC, &start);
    size_t count = schema != NULL ? json_schema_validate(schema, routes, NULL) : 1;
    clock_gettime(CLOCK_MONOTONIC, &end);
    double seconds = (double)(end.tv_sec - start.tv_sec) + (double)(end.tv_nsec - start.tv_nsec) / 1e9;
    fprintf(stderr, "validated 10000 routes in %.3f s\n", seconds);
    CHECK_INT_EQ(count, 0);
    CHECK(seconds < 1.0);
    json_decref(routes);
    json_schema_free(schema);
}

int main(void)
{
    test_type();
    test_enum_const();
    test_numbers();
    test_strings();
    test_formats();
    test_arrays();
    test_objects();
    test_nested_pointers_and_many_problems();
    test_ref_and_defs();
    test_combinators();
    test_boolean_schemas_and_annotations();
    test_bad_schemas();
    test_performance();
    return TEST_REPORT();
}
