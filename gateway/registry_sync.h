/*
 * registry_sync.h — keeps a node's services and routes in step with the
 * registry in MariaDB (registry.source "database"; docs/registry.md §4).
 *
 * Every 500 ms the main thread reads registry_version (a primary-key read).
 * When it differs from the version being served, the whole registry is read
 * in one consistent transaction and rendered as the config file's `services`
 * and `routes` (registry_read.h). The caller merges them into the boot file's
 * text (registry_merge_sections) and builds a snapshot through the path
 * SIGHUP takes, then reports the outcome: accepted (it becomes the registry
 * served and is written to registry.cache_file, atomically) or rejected (the
 * last one stays). While the database is unreachable the last registry stays
 * too. Each change of state is logged once, not once per poll.
 *
 * At start, when the database cannot be read, the cache file stands in, so a
 * node that restarts during an outage serves the last routes it knew.
 *
 * Threads: main thread only (blocking database and file I/O). The
 * `registry_health` it writes is atomics, read by the ops handler on the
 * event-loop threads for /readyz and /metrics.
 */
#ifndef YIWANG_GATEWAY_REGISTRY_SYNC_H
#define YIWANG_GATEWAY_REGISTRY_SYNC_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "common/config.h"
#include "common/problems.h"

#define REGISTRY_POLL_INTERVAL_MS 500

enum registry_problem {
    REGISTRY_OK,
    REGISTRY_DATABASE_DOWN, /* the database cannot be read: serving the last registry (maybe from the cache file) */
    REGISTRY_REJECTED,      /* the database's version does not build here: serving the last one */
};

/* What /readyz and /metrics show. Written by the main thread only; read anywhere with relaxed loads. */
struct registry_health {
    atomic_int loaded;         /* a registry has been served since start (from the database or the cache file) */
    atomic_int problem;        /* enum registry_problem */
    atomic_ullong version;     /* the registry version being served; 0 before the first */
    atomic_llong synced_at_ms; /* when the node last confirmed it serves the database's version (ms since the epoch) */
    atomic_ullong failures;    /* polls that failed: database unreachable or build rejected */
    atomic_ullong rejected;    /* the version last rejected, while problem is REGISTRY_REJECTED */
};

/* A registry read from the database or the cache file, not yet served. */
struct registry_update {
    uint64_t version;
    int64_t synced_at_ms;
    int from_cache;
    json_t *sections; /* {"services": [...], "routes": [...], "catalog": {...} (registry_read_catalog)}, owned */
    double read_ms;   /* reading and rendering it (the database's consistent read, or the cache file) */
    double build_ms;  /* set by the caller before registry_sync_accepted: config load and snapshot build */
};

struct registry_sync;

/* NULL when config->registry.source is "file". `health` must outlive the sync. */
struct registry_sync *registry_sync_new(const struct config *config, struct registry_health *health);
void registry_sync_free(struct registry_sync *sync);

/* The sections being served: {"services": [], "routes": []} before the first update. */
const json_t *registry_sync_sections(const struct registry_sync *sync);
/* The version of those sections; 0 before the first update. */
uint64_t registry_sync_version(const struct registry_sync *sync);

enum registry_poll_result {
    REGISTRY_UNCHANGED,
    REGISTRY_CHANGED,     /* *update holds the new registry: build it, then call accepted or rejected */
    REGISTRY_UNAVAILABLE, /* the database cannot be read now (logged once) */
};

enum registry_poll_result registry_sync_poll(struct registry_sync *sync, struct registry_update *update);
/* The cache file as an update, for a start while the database is down. 0, or -1 (no cache file, or unusable: logged). */
int registry_sync_read_cache(struct registry_sync *sync, struct registry_update *update);
/* The update was built: it is now served, and written to the cache file. Takes the update's sections. Logs the
 * version with the time its read, build and cache write took (issue 4 budgets a second from commit to served). */
void registry_sync_accepted(struct registry_sync *sync, struct registry_update *update);
/* The update did not build: the last registry stays. Logs the problems once per version; frees the update. */
void registry_sync_rejected(struct registry_sync *sync, struct registry_update *update, const struct problem_list *problems);

/* The config file's text with its (empty) `services` and `routes` replaced by those of `sections`: a malloc'ed JSON
 * text, or NULL when the file's text is not a JSON object or lists services or routes of its own (then load the text
 * itself: the loader reports its problems, e.g. after a SIGHUP). */
char *registry_merge_sections(const char *file_text, size_t len, const json_t *sections, size_t *out_len);

#endif
