/* The admin API's pure JSON helpers: RFC 7396 merge patch (with the RFC's own
 * appendix examples) and the audit log's top-level diff. */
#include <stdlib.h>

#include "common/json_diff.h"
#include "common/merge_patch.h"
#include "test.h"

static json_t *parse(const char *text)
{
    json_error_t error;
    json_t *value = json_loads(text, JSON_DECODE_ANY, &error);
    if (value == NULL)
        fprintf(stderr, "bad test JSON %s: %s\n", text, error.text);
    return value;
}

/* 1 when merge_patch_apply(target, patch) equals expected, and the target was left alone. */
static int merges_to(const char *target, const char *patch, const char *expected)
{
    json_t *t = parse(target), *p = parse(patch), *e = parse(expected), *t_copy = json_deep_copy(t);
    json_t *result = merge_patch_apply(t, p);
    int ok = json_equal(result, e) && json_equal(t, t_copy);
    if (!ok) {
        char *got = json_dumps(result, JSON_ENCODE_ANY | JSON_COMPACT);
        fprintf(stderr, "merge %s + %s: got %s, expected %s\n", target, patch, got, expected);
        free(got);
    }
    json_decref(t), json_decref(p), json_decref(e), json_decref(t_copy), json_decref(result);
    return ok;
}

static void test_merge_patch_rfc7396_examples(void)
{
    CHECK(merges_to("{\"a\":\"b\"}", "{\"a\":\"c\"}", "{\"a\":\"c\"}"));
    CHECK(merges_to("{\"a\":\"b\"}", "{\"b\":\"c\"}", "{\"a\":\"b\",\"b\":\"c\"}"));
    CHECK(merges_to("{\"a\":\"b\"}", "{\"a\":null}", "{}"));
    CHECK(merges_to("{\"a\":\"b\",\"b\":\"c\"}", "{\"a\":null}", "{\"b\":\"c\"}"));
    CHECK(merges_to("{\"a\":[\"b\"]}", "{\"a\":\"c\"}", "{\"a\":\"c\"}"));
    CHECK(merges_to("{\"a\":\"c\"}", "{\"a\":[\"b\"]}", "{\"a\":[\"b\"]}"));
    CHECK(merges_to("{\"a\":{\"b\":\"c\"}}", "{\"a\":{\"b\":\"d\",\"c\":null}}", "{\"a\":{\"b\":\"d\"}}"));
    CHECK(merges_to("{\"a\":[{\"b\":\"c\"}]}", "{\"a\":[1]}", "{\"a\":[1]}"));
    CHECK(merges_to("[\"a\",\"b\"]", "[\"c\",\"d\"]", "[\"c\",\"d\"]"));
    CHECK(merges_to("{\"a\":\"b\"}", "[\"c\"]", "[\"c\"]"));
    CHECK(merges_to("{\"a\":\"foo\"}", "null", "null"));
    CHECK(merges_to("{\"a\":\"foo\"}", "\"bar\"", "\"bar\""));
    CHECK(merges_to("{\"e\":null}", "{\"a\":1}", "{\"e\":null,\"a\":1}"));
    CHECK(merges_to("[1,2]", "{\"a\":\"b\",\"c\":null}", "{\"a\":\"b\"}"));
    CHECK(merges_to("{}", "{\"a\":{\"bb\":{\"ccc\":null}}}", "{\"a\":{\"bb\":{}}}"));
}

static void test_merge_patch_null_target(void)
{
    json_t *p = parse("{\"a\":{\"b\":null,\"c\":1}}"), *e = parse("{\"a\":{\"c\":1}}");
    json_t *result = merge_patch_apply(NULL, p);
    CHECK(json_equal(result, e));
    json_decref(p), json_decref(e), json_decref(result);
}

static const char *const IGNORE[] = {"version", "updated_at", NULL};

/* 1 when the diff of before/after ("null" for none) is expected_before/expected_after ("null": NULL). */
static int diffs_to(const char *before, const char *after, const char *expected_before, const char *expected_after)
{
    json_t *b = parse(before), *a = parse(after), *eb = parse(expected_before), *ea = parse(expected_after);
    json_t *db = NULL, *da = NULL;
    json_diff_top_level(json_is_null(b) ? NULL : b, json_is_null(a) ? NULL : a, IGNORE, &db, &da);
    int ok = (json_is_null(eb) ? db == NULL : json_equal(db, eb)) && (json_is_null(ea) ? da == NULL : json_equal(da, ea));
    if (!ok)
        fprintf(stderr, "diff %s -> %s is wrong\n", before, after);
    json_decref(b), json_decref(a), json_decref(eb), json_decref(ea), json_decref(db), json_decref(da);
    return ok;
}

static void test_diff(void)
{
    /* the plan's example: only the changed member, whole */
    CHECK(diffs_to("{\"name\":\"r\",\"auth\":{\"policy\":\"user\",\"min_acr\":1},\"version\":3}",
                   "{\"name\":\"r\",\"auth\":{\"policy\":\"user\",\"min_acr\":2},\"version\":4}",
                   "{\"auth\":{\"policy\":\"user\",\"min_acr\":1}}", "{\"auth\":{\"policy\":\"user\",\"min_acr\":2}}"));
    /* removed and added members; read-only ones never appear */
    CHECK(diffs_to("{\"a\":1,\"b\":2,\"version\":1}", "{\"a\":1,\"c\":3,\"updated_at\":\"x\"}", "{\"b\":2}", "{\"c\":3}"));
    /* nothing changed: both sides empty */
    CHECK(diffs_to("{\"a\":[1,2]}", "{\"a\":[1,2],\"version\":9}", "{}", "{}"));
    /* create and delete */
    CHECK(diffs_to("null", "{\"a\":1,\"version\":1}", "null", "{\"a\":1}"));
    CHECK(diffs_to("{\"a\":1,\"version\":1}", "null", "{\"a\":1}", "null"));
    /* equal numbers of different JSON types differ (json_equal) */
    CHECK(diffs_to("{\"a\":1}", "{\"a\":1.0}", "{\"a\":1}", "{\"a\":1.0}"));
}

int main(void)
{
    test_merge_patch_rfc7396_examples();
    test_merge_patch_null_target();
    test_diff();
    return TEST_REPORT();
}
