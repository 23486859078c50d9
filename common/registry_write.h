/*
 * registry_write.h — the one shape of every registry write (docs/registry.md
 * §3): open a transaction, take the next registry version first, write the
 * rows with that version, append the audit record, commit.
 *
 * The version UPDATE comes first on purpose: its row lock serialises every
 * registry writer (admin API, `yiwang admin`, later import), and InnoDB builds
 * the transaction's read view at the first plain SELECT, after the lock is
 * held, so the caller's checks see every earlier write. A caller that fails a
 * check rolls back, version bump included, so a visible version always has
 * content.
 *
 * Audit records hold the top-level diff of the entity (common/json_diff.h)
 * without its read-only members. Callers must pass documents that never hold
 * a secret, a token or a hash of one: the audit log is readable by auditors.
 *
 * Threads: blocking; a worker thread or a CLI command, with its own db.
 */
#ifndef YIWANG_COMMON_REGISTRY_WRITE_H
#define YIWANG_COMMON_REGISTRY_WRITE_H

#include <jansson.h>
#include <stdint.h>

#include "common/db.h"

/* Starts the transaction and takes the next version into *version. 0, or -1 (rolled back) with db_error() set. */
int registry_write_begin(struct db *db, uint64_t *version);

struct registry_audit {
    const char *actor;      /* the admin account's name, or "cli:<os user>" */
    const char *actor_role; /* platform_admin, department_admin, auditor, operator or cli */
    const char *action;     /* create, replace, patch, delete, create_token, ... */
    const char *entity_type;
    const char *entity_key;
    uint64_t department_id; /* the entity's owning department; 0 = none */
    const json_t *before;   /* the entity before the write; NULL for create */
    const json_t *after;    /* after; NULL for delete */
    const char *request_id;
    const char *source_address;
};

/* Appends one audit row for `version` inside the open transaction. 0 or -1 (db_error()). */
int registry_audit_append(struct db *db, uint64_t version, const struct registry_audit *audit);

/* The read-only members of registry entities (id: route namespaces), which requests may not set and audit diffs leave out. */
extern const char *const registry_read_only_members[];

#endif
