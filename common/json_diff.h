/*
 * json_diff.h — the audit log's diff: which top-level members of an entity a
 * write changed (docs/registry.md §6).
 *
 * Only changed members appear, compared with json_equal; a member only in
 * `before` was removed, one only in `after` was added. Members named in
 * `ignore` (the read-only version, created_at, updated_at) never appear, so
 * the diff records what the admin changed, not the bookkeeping.
 *
 * Pure functions; any thread.
 */
#ifndef YIWANG_COMMON_JSON_DIFF_H
#define YIWANG_COMMON_JSON_DIFF_H

#include <jansson.h>

/*
 * Fills *out_before and *out_after (new references) with the changed members
 * of `before` and `after`. A NULL side (create, delete) yields NULL on that
 * side and every member, except the ignored ones, on the other. `ignore` is a
 * NULL-terminated list of member names, or NULL.
 */
void json_diff_top_level(const json_t *before, const json_t *after, const char *const *ignore, json_t **out_before,
                         json_t **out_after);

#endif
