#include "gateway/registry_sync.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/db_open.h"
#include "common/log.h"
#include "common/xalloc.h"
#include "gateway/registry_read.h"

#define CACHE_FORMAT "yiwang-registry-cache/1"

struct registry_sync {
    struct database_config database; /* borrowed strings: the boot config outlives this */
    const char *cache_file;          /* borrowed likewise; NULL: none */
    struct registry_health *health;
    struct db *db;
    uint64_t version;       /* of `sections` */
    json_t *sections;       /* being served */
    int database_ok;        /* -1 not polled yet, 0 failing, 1 fine: for logging each change once */
    uint64_t last_rejected; /* the version whose problems were logged last (+1, so 0 means none) */
};

static double monotonic_ms(void)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)now.tv_sec * 1e3 + (double)now.tv_nsec / 1e6;
}

static int64_t wall_clock_ms(void)
{
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    return (int64_t)now.tv_sec * 1000 + now.tv_nsec / 1000000;
}

static json_t *empty_sections(void)
{
    return json_pack("{s:[],s:[]}", "services", "routes");
}

struct registry_sync *registry_sync_new(const struct config *config, struct registry_health *health)
{
    if (config->registry.source != REGISTRY_SOURCE_DATABASE)
        return NULL;
    struct registry_sync *sync = xcalloc(1, sizeof(*sync));
    sync->database = config->database;
    sync->cache_file = config->registry.cache_file;
    sync->health = health;
    sync->sections = empty_sections();
    sync->database_ok = -1;
    return sync;
}

void registry_sync_free(struct registry_sync *sync)
{
    if (sync == NULL)
        return;
    db_close(sync->db);
    json_decref(sync->sections);
    free(sync);
}

const json_t *registry_sync_sections(const struct registry_sync *sync)
{
    return sync->sections;
}

uint64_t registry_sync_version(const struct registry_sync *sync)
{
    return sync->version;
}

static size_t section_size(const json_t *sections, const char *key)
{
    return json_array_size(json_object_get(sections, key));
}

/* ---- the database ---- */

static enum registry_poll_result unavailable(struct registry_sync *sync, char *err)
{
    atomic_fetch_add(&sync->health->failures, 1);
    atomic_store(&sync->health->problem, REGISTRY_DATABASE_DOWN);
    if (sync->database_ok != 0)
        log_error("registry: database unavailable, keeping registry version %llu: %s", (unsigned long long)sync->version, err);
    sync->database_ok = 0;
    free(err);
    if (sync->db != NULL && db_error_is_connection_lost(sync->db)) {
        db_close(sync->db);
        sync->db = NULL;
    }
    return REGISTRY_UNAVAILABLE;
}

static void reachable(struct registry_sync *sync)
{
    if (sync->database_ok == 0)
        log_info("registry: database reachable again");
    sync->database_ok = 1;
}

static int read_version(struct db *db, uint64_t *version, char **err)
{
    struct db_result *res = db_query(db, DB_IDEMPOTENT, "SELECT version FROM registry_version WHERE id = 1", DB_NO_ARGS);
    int row = res != NULL ? db_result_next(res) : -1;
    if (row == 1 && db_result_uint64(res, 0, version) == DB_GET_OK)
        return 0;
    *err = row == 0 ? xstrdup("the registry_version row is missing (run yiwang migrate)")
                    : xasprintf("cannot read the registry version: %s", db_error(db));
    return -1;
}

/* The whole registry, in one consistent read. */
static int load(struct registry_sync *sync, struct registry_update *update, char **err)
{
    *update = (struct registry_update){0};
    double start = monotonic_ms();
    if (registry_read_begin(sync->db, &update->version, err) != 0)
        return -1;
    json_t *services = registry_read_services(sync->db, err);
    json_t *routes = services != NULL ? registry_read_routes(sync->db, REGISTRY_ROUTES_CONFIG, err) : NULL;
    json_t *catalog = routes != NULL ? registry_read_catalog(sync->db, err) : NULL;
    if (catalog == NULL) {
        registry_read_abort(sync->db);
        json_decref(services);
        json_decref(routes);
        return -1;
    }
    if (registry_read_end(sync->db, err) != 0) {
        json_decref(services);
        json_decref(routes);
        json_decref(catalog);
        return -1;
    }
    update->sections = json_pack("{s:o,s:o,s:o}", "services", services, "routes", routes, "catalog", catalog);
    update->synced_at_ms = wall_clock_ms();
    update->read_ms = monotonic_ms() - start;
    return 0;
}

enum registry_poll_result registry_sync_poll(struct registry_sync *sync, struct registry_update *update)
{
    char *err = NULL;
    uint64_t version = 0;
    if (sync->db == NULL && (sync->db = db_open_configured(&sync->database, &err)) == NULL)
        return unavailable(sync, err);
    if (read_version(sync->db, &version, &err) != 0)
        return unavailable(sync, err);
    reachable(sync);
    if (atomic_load(&sync->health->loaded) && version == sync->version) {
        /* the version names the content, so equal versions mean this node serves what the database holds */
        atomic_store(&sync->health->problem, REGISTRY_OK);
        atomic_store(&sync->health->synced_at_ms, wall_clock_ms());
        return REGISTRY_UNCHANGED;
    }
    if (load(sync, update, &err) != 0)
        return unavailable(sync, err);
    return REGISTRY_CHANGED;
}

/* ---- outcomes ---- */

static void write_cache(const struct registry_sync *sync);

void registry_sync_accepted(struct registry_sync *sync, struct registry_update *update)
{
    json_decref(sync->sections);
    sync->sections = update->sections;
    update->sections = NULL;
    sync->version = update->version;
    sync->last_rejected = 0;
    struct registry_health *health = sync->health;
    atomic_store(&health->version, update->version);
    atomic_store(&health->synced_at_ms, update->synced_at_ms);
    atomic_store(&health->problem, update->from_cache ? REGISTRY_DATABASE_DOWN : REGISTRY_OK);
    atomic_store(&health->loaded, 1);
    double cache_start = monotonic_ms();
    if (!update->from_cache)
        write_cache(sync);
    log_info("registry: serving version %llu (%zu services, %zu routes)%s; read in %.0f ms, built in %.0f ms, cache "
             "written in %.0f ms",
             (unsigned long long)update->version, section_size(sync->sections, "services"), section_size(sync->sections, "routes"),
             update->from_cache ? ", from the cache file" : "", update->read_ms, update->build_ms, monotonic_ms() - cache_start);
}

/* "route 'tax-invoice'" for a pointer into the rendered sections such as /routes/3/max_body_bytes: the index alone
 * means nothing to whoever reads the log. Empty when the pointer names no item. */
static void describe_item(const json_t *sections, const char *pointer, char *out, size_t size)
{
    char section[16];
    size_t index = 0;
    out[0] = '\0';
    if (sscanf(pointer, "/%15[a-z]/%zu", section, &index) != 2)
        return;
    const char *name = json_string_value(json_object_get(json_array_get(json_object_get(sections, section), index), "name"));
    if (name != NULL)
        snprintf(out, size, " (%s '%s')", strcmp(section, "routes") == 0 ? "route" : "service", name);
}

void registry_sync_rejected(struct registry_sync *sync, struct registry_update *update, const struct problem_list *problems)
{
    atomic_fetch_add(&sync->health->failures, 1);
    atomic_store(&sync->health->rejected, update->version);
    atomic_store(&sync->health->problem, update->from_cache ? REGISTRY_DATABASE_DOWN : REGISTRY_REJECTED);
    if (sync->last_rejected != update->version + 1) {
        for (size_t i = 0; i < problems->count; i++) {
            char item[160];
            describe_item(update->sections, problems->items[i].pointer, item, sizeof(item));
            log_error("registry version %llu: %s%s: %s", (unsigned long long)update->version,
                      problems->items[i].pointer[0] ? problems->items[i].pointer : "(root)", item, problems->items[i].message);
        }
        log_error("registry: version %llu%s rejected; still serving version %llu", (unsigned long long)update->version,
                  update->from_cache ? " (the cache file)" : "", (unsigned long long)sync->version);
        sync->last_rejected = update->version + 1;
    }
    json_decref(update->sections);
    update->sections = NULL;
}

/* ---- the cache file ---- */

/* Writes `text` to `path` so that a reader sees the old file or the new one, never half of one. */
static int replace_file(const char *path, const char *text, size_t len)
{
    char *tmp = xasprintf("%s.tmp", path);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    int ok = fd >= 0;
    for (size_t done = 0; ok && done < len;) {
        ssize_t n = write(fd, text + done, len - done);
        if (n < 0 && errno == EINTR)
            continue;
        ok = n > 0;
        done += ok ? (size_t)n : 0;
    }
    /* fsync before rename: after a crash the name must never point at a file whose data did not reach the disk */
    ok = ok && fsync(fd) == 0;
    if (fd >= 0 && close(fd) != 0)
        ok = 0;
    ok = ok && rename(tmp, path) == 0;
    if (!ok)
        unlink(tmp);
    free(tmp);
    return ok ? 0 : -1;
}

static void write_cache(const struct registry_sync *sync)
{
    if (sync->cache_file == NULL)
        return;
    json_t *doc = json_pack("{s:s,s:I,s:I,s:O,s:O,s:O?}", "format", CACHE_FORMAT, "registry_version", (json_int_t)sync->version,
                            "synced_at_ms", (json_int_t)atomic_load(&sync->health->synced_at_ms), "services",
                            json_object_get(sync->sections, "services"), "routes", json_object_get(sync->sections, "routes"),
                            "catalog", json_object_get(sync->sections, "catalog"));
    char *text = doc != NULL ? json_dumps(doc, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
    if (text == NULL || replace_file(sync->cache_file, text, strlen(text)) != 0)
        log_warn("registry: cannot write the cache file %s: %s", sync->cache_file,
                 text == NULL ? "out of memory" : strerror(errno));
    free(text);
    json_decref(doc);
}

int registry_sync_read_cache(struct registry_sync *sync, struct registry_update *update)
{
    *update = (struct registry_update){.from_cache = 1};
    double start = monotonic_ms();
    if (sync->cache_file == NULL)
        return -1;
    if (access(sync->cache_file, F_OK) != 0) {
        log_warn("registry: no cache file %s to start from (%s)", sync->cache_file, strerror(errno));
        return -1;
    }
    json_error_t error;
    json_t *doc = json_load_file(sync->cache_file, JSON_REJECT_DUPLICATES, &error);
    json_int_t version = 0, synced_at = 0;
    json_t *services = NULL, *routes = NULL;
    const char *format = NULL;
    if (doc == NULL ||
        json_unpack(doc, "{s:s,s:I,s:I,s:o,s:o}", "format", &format, "registry_version", &version, "synced_at_ms", &synced_at,
                    "services", &services, "routes", &routes) != 0 ||
        strcmp(format, CACHE_FORMAT) != 0 || !json_is_array(services) || !json_is_array(routes) || version < 0) {
        log_error("registry: cannot use the cache file %s: %s", sync->cache_file,
                  doc == NULL ? error.text : "not a registry cache");
        json_decref(doc);
        return -1;
    }
    update->version = (uint64_t)version;
    update->synced_at_ms = synced_at;
    /* a cache written before the catalog existed has none: the node serves an empty catalog until the database answers */
    json_t *catalog = json_object_get(doc, "catalog");
    update->sections = json_pack("{s:O,s:O}", "services", services, "routes", routes);
    if (json_is_object(catalog))
        json_object_set(update->sections, "catalog", catalog);
    update->read_ms = monotonic_ms() - start;
    json_decref(doc);
    return 0;
}

/* ---- merging into the file ---- */

char *registry_merge_sections(const char *file_text, size_t len, const json_t *sections, size_t *out_len)
{
    json_t *root = json_loadb(file_text, len, JSON_REJECT_DUPLICATES, NULL);
    /* Routes of the file's own would be silently replaced: leave them to the loader, which refuses them. */
    if (!json_is_object(root) || json_array_size(json_object_get(root, "services")) != 0 ||
        json_array_size(json_object_get(root, "routes")) != 0) {
        json_decref(root);
        return NULL;
    }
    json_object_set(root, "services", json_object_get(sections, "services"));
    json_object_set(root, "routes", json_object_get(sections, "routes"));
    char *text = json_dumps(root, JSON_COMPACT);
    json_decref(root);
    if (text != NULL)
        *out_len = strlen(text);
    return text;
}
