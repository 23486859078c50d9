/*
 * test_registry_sync.c — the parts of registry_sync that need no database:
 * merging the rendered sections into the file's text, the cache file round
 * trip, what an unreachable database and a rejected version do to the
 * health that /readyz shows. The database side is
 * tests/integration/test_registry_sync.py.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "common/config.h"
#include "common/db.h"
#include "common/xalloc.h"
#include "gateway/registry_sync.h"
#include "tests/unit/test.h"

#define FILE_TEXT                                                                                                                  \
    "{\"threads\":1,\"database\":{\"dsn\":\"mysql://root@/yiwang?socket=/nonexistent/yiwang-test.sock\"},"                         \
    "\"registry\":{\"source\":\"database\",\"cache_file\":\"%s\"}}"

static json_t *sections(const char *route_name)
{
    return json_pack("{s:[{s:s,s:s,s:[{s:s,s:i}]}],s:[{s:s,s:s,s:s}]}", "services", "name", "a", "department", "sz-tax", "targets",
                     "host", "127.0.0.1", "port", 9, "routes", "name", route_name, "path_prefix", "/a/", "service", "a");
}

static void test_merge(void)
{
    json_t *registry = sections("r");
    const char *file = "{\"threads\":2,\"services\":[],\"limits\":{\"max_body_bytes\":10}}";
    size_t len = 0;
    char *merged = registry_merge_sections(file, strlen(file), registry, &len);
    CHECK(merged != NULL && len == strlen(merged));
    json_t *root = merged != NULL ? json_loads(merged, 0, NULL) : NULL;
    CHECK(json_equal(json_object_get(root, "services"), json_object_get(registry, "services")));
    CHECK(json_equal(json_object_get(root, "routes"), json_object_get(registry, "routes")));
    CHECK_INT_EQ(json_integer_value(json_object_get(root, "threads")), 2);
    CHECK_INT_EQ(json_integer_value(json_object_get(json_object_get(root, "limits"), "max_body_bytes")), 10);
    json_decref(root);
    free(merged);
    /* Not an object, or not JSON: NULL, so the caller loads the text itself and reports its problems as usual. */
    CHECK(registry_merge_sections("[1]", 3, registry, &len) == NULL);
    CHECK(registry_merge_sections("{\"a\":", 5, registry, &len) == NULL);
    CHECK(registry_merge_sections("{\"a\":1,\"a\":2}", 13, registry, &len) == NULL);
    /* A file that lists routes of its own is not merged (they would vanish): the loader must refuse it. */
    const char *own = "{\"routes\":[{\"name\":\"x\",\"path_prefix\":\"/\",\"service\":\"a\"}]}";
    CHECK(registry_merge_sections(own, strlen(own), registry, &len) == NULL);
    json_decref(registry);
}

static struct config *database_config(const char *cache_file)
{
    char *text = xasprintf(FILE_TEXT, cache_file);
    struct problem_list problems = PROBLEM_LIST_INIT;
    struct config *config = config_load_string(text, strlen(text), &problems);
    CHECK(config != NULL && problems.count == 0);
    problem_list_clear(&problems);
    free(text);
    return config;
}

static void test_cache_round_trip_and_health(void)
{
    char dir[] = "/tmp/yiwang-registry-sync-XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    char *cache = xasprintf("%s/registry.json", dir);
    struct config *config = database_config(cache);
    if (config == NULL) {
        free(cache);
        return;
    }
    struct registry_health health = {0};
    struct registry_sync *sync = registry_sync_new(config, &health);
    CHECK(sync != NULL);
    CHECK_INT_EQ(json_array_size(json_object_get(registry_sync_sections(sync), "routes")), 0);
    struct registry_update update;
    CHECK(registry_sync_read_cache(sync, &update) == -1); /* none yet */

    /* The database cannot be reached: nothing loaded, one failure. */
    CHECK(registry_sync_poll(sync, &update) == REGISTRY_UNAVAILABLE);
    CHECK_INT_EQ(atomic_load(&health.loaded), 0);
    CHECK_INT_EQ(atomic_load(&health.problem), REGISTRY_DATABASE_DOWN);
    CHECK_INT_EQ(atomic_load(&health.failures), 1);

    /* An accepted update is served and cached; a fresh sync reads the same back. */
    update = (struct registry_update){.version = 7, .synced_at_ms = 1764097200123, .sections = sections("r")};
    registry_sync_accepted(sync, &update);
    CHECK(update.sections == NULL);
    CHECK_INT_EQ(atomic_load(&health.loaded), 1);
    CHECK_INT_EQ(atomic_load(&health.version), 7);
    CHECK_INT_EQ(atomic_load(&health.problem), REGISTRY_OK);
    json_t *expected = sections("r");
    CHECK(json_equal(registry_sync_sections(sync), expected));
    struct registry_health health2 = {0};
    struct registry_sync *restarted = registry_sync_new(config, &health2);
    CHECK(registry_sync_read_cache(restarted, &update) == 0);
    CHECK(update.from_cache && update.version == 7 && update.synced_at_ms == 1764097200123);
    CHECK(json_equal(update.sections, expected));
    registry_sync_accepted(restarted, &update);
    CHECK_INT_EQ(atomic_load(&health2.problem), REGISTRY_DATABASE_DOWN); /* served from the cache: degraded */
    CHECK_INT_EQ(atomic_load(&health2.synced_at_ms), 1764097200123);
    registry_sync_free(restarted);

    /* A rejected version: the last one stays, and says why. */
    struct problem_list problems = PROBLEM_LIST_INIT;
    problem_list_add(&problems, "/routes/0/max_body_bytes", "must not exceed limits.max_body_bytes (10)");
    update = (struct registry_update){.version = 8, .sections = sections("s")};
    registry_sync_rejected(sync, &update, &problems);
    CHECK(update.sections == NULL);
    CHECK(json_equal(registry_sync_sections(sync), expected));
    CHECK_INT_EQ(atomic_load(&health.version), 7);
    CHECK_INT_EQ(atomic_load(&health.rejected), 8);
    CHECK_INT_EQ(atomic_load(&health.problem), REGISTRY_REJECTED);
    CHECK_INT_EQ(atomic_load(&health.failures), 2);
    problem_list_clear(&problems);

    /* A cache file that is not one is refused, not half-used. */
    FILE *f = fopen(cache, "w");
    CHECK(f != NULL);
    if (f != NULL) {
        fputs("{\"format\":\"something-else\",\"registry_version\":1,\"synced_at_ms\":0,\"services\":[],\"routes\":[]}", f);
        fclose(f);
    }
    CHECK(registry_sync_read_cache(sync, &update) == -1 && update.sections == NULL);

    json_decref(expected);
    registry_sync_free(sync);
    config_free(config);
    unlink(cache);
    rmdir(dir);
    free(cache);
}

static void test_file_source_has_no_sync(void)
{
    struct problem_list problems = PROBLEM_LIST_INIT;
    struct config *config = config_load_string("{}", 2, &problems);
    struct registry_health health = {0};
    CHECK(config != NULL && registry_sync_new(config, &health) == NULL);
    config_free(config);
    problem_list_clear(&problems);
}

int main(void)
{
    db_library_init();
    test_merge();
    test_cache_round_trip_and_health();
    test_file_source_has_no_sync();
    db_library_end();
    return TEST_REPORT();
}
