/*
 * merge_patch.h — JSON Merge Patch (RFC 7396), as the admin API's PATCH uses it.
 *
 * A patch object merges member by member into the target: `null` removes a
 * member, an object merges recursively, anything else replaces. A patch that
 * is not an object replaces the whole target. The result is a new document;
 * neither input is changed (the admin API validates the merged document
 * before anything is written, so the original must survive a refused patch).
 *
 * Pure functions; any thread.
 */
#ifndef YIWANG_COMMON_MERGE_PATCH_H
#define YIWANG_COMMON_MERGE_PATCH_H

#include <jansson.h>

/* Returns a new reference to target merged with patch (RFC 7396 §2). target may be NULL (treated as absent). */
json_t *merge_patch_apply(const json_t *target, const json_t *patch);

#endif
