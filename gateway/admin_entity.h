/*
 * admin_entity.h — what the admin API needs to know about one registry
 * collection, and the request and answer every handler shares.
 *
 * The generic handler (admin_crud.c) owns the HTTP conventions of
 * docs/registry.md §5 — authentication already done, RBAC (§6), If-Match,
 * schema validation, the registry transaction and the audit record. An entity
 * module (admin_departments.c, admin_services.c, ...) only maps between its
 * rows and its JSON document and checks the rules a schema cannot express
 * (references, hierarchy, ownership, overlaps).
 *
 * Threads: every function here runs on a worker thread with the worker's db.
 */
#ifndef YIWANG_GATEWAY_ADMIN_ENTITY_H
#define YIWANG_GATEWAY_ADMIN_ENTITY_H

#include <jansson.h>
#include <stdint.h>

#include "auth/admin_accounts.h"
#include "common/db.h"
#include "common/problems.h"
#include "common/strbuf.h"
#include "gateway/errors.h"

#define ADMIN_KEY_MAX 128 /* longest name or client id in a URL */

enum admin_method {
    ADMIN_GET,
    ADMIN_POST,
    ADMIN_PUT,
    ADMIN_PATCH,
    ADMIN_DELETE,
};

/* The request as the worker sees it; every string is owned by the job. */
struct admin_call {
    struct admin_identity who;
    enum admin_method method;
    const char *collection;
    const char *name;     /* NULL: the collection itself */
    const char *sub;      /* a sub-collection of the entity ("tokens"), or NULL */
    const char *sub_id;   /* an item of the sub-collection, or NULL */
    json_t *body;         /* parsed JSON body, or NULL */
    const char *if_match; /* the raw header, or NULL */
    /* list parameters */
    unsigned limit;
    uint64_t after_id;                 /* from the cursor; 0 = from the start */
    char after_key[ADMIN_KEY_MAX + 1]; /* the cursor of keyed_by_text collections; "" = from the start */
    int cursor_is_key;                 /* the cursor held a key, not an id */
    const char *filter_department, *filter_service, *filter_entity_type, *filter_entity_key, *filter_actor, *filter_since;
    const char *request_id;
    const char *source_address;
    size_t node_max_body_bytes;          /* this node's limits.max_body_bytes, which a route's max_body_bytes may not exceed */
    const unsigned char *token_key;      /* the token-hash key (auth/secrets.h), for creating admin tokens */
    const struct secrets_master *master; /* the node's master key, for making signing keys; NULL without one */
    const char *signing_alg;             /* the snapshot's identity.signing_alg, or NULL (ES256) */
};

/* The answer the loop thread sends. */
struct admin_reply {
    int error;    /* enum gateway_error, or -1 for success */
    char *detail; /* malloc'ed message replacing the catalogue's, or NULL */
    struct problem_list problems;
    int status;   /* success status (200, 201, 204) */
    json_t *body; /* success body, or NULL */
    uint64_t etag;
    int has_etag;   /* versions start at 0 for clients made before the registry, so 0 is a valid ETag */
    char *location; /* malloc'ed, or NULL */
};

/* What an entity's references resolved to, filled by `resolve`. */
struct admin_refs {
    uint64_t department_id; /* the owner the entity would have; 0 = none (platform-wide) */
    uint64_t ids[3];        /* entity-specific: e.g. a route's service and rate policy */
    uint64_t *scope_ids;    /* a route's scopes (malloc'ed) */
    size_t num_scope_ids;
    const unsigned char *hash_key; /* the token-hash key, for entities that make secrets (clients) */
    json_t *reply_extra;           /* members only the write's answer carries, never the audit log (a new client secret) */
};

/* One page of a list: ids above after_id, at most limit of them. */
struct admin_list_query {
    uint64_t after_id;
    uint64_t department_id; /* 0: every department */
    int with_platform_wide; /* also entities of no department (rate policies a department admin may reference) */
    const char *service;    /* routes: only those to this service; NULL: all */
    uint64_t only_id;       /* admin accounts: only this row (a department admin or operator reads themselves); 0: any */
    const char *after_key;  /* keyed_by_text entities: keys above this one ("" = from the start) */
    char *last_key;         /* keyed_by_text entities write the last key listed here (ADMIN_KEY_MAX + 1 bytes) */
    unsigned limit;
};

struct admin_entity {
    const char *collection;  /* URL segment, e.g. "departments" */
    const char *type;        /* audit entity_type, e.g. "department" */
    const char *schema_file; /* e.g. "department.schema.json" */
    const char *key_member;  /* the member naming an entity in URLs: NULL for "name" (clients: "client_id") */
    int keyed_by_text;       /* 1: no surrogate id (clients); lists page by key, the cursor carries the last key */
    int generated_key;       /* 1: no name; the id the database assigns is the key (route namespaces) */
    int department_writes;   /* 1: department admins write their own (services, scopes, routes); 0: read only */
    int platform_wide;       /* 1: entities may have no department (rate policies); department admins read those */
    int self_readable;       /* 1: admin accounts; department admins and operators read only their own */
    /* The entity named `name`: 1 found (*doc with read-only members, *id, *department_id), 0 none, -1 db error. */
    int (*load)(struct db *db, const char *name, json_t **doc, uint64_t *id, uint64_t *department_id);
    /* Appends the documents `q` selects to `items` in id order; *last_id is the last one's id. 0 or -1 (db error). */
    int (*list)(struct db *db, const struct admin_list_query *q, json_t *items, uint64_t *last_id);
    /*
     * Checks what the schema cannot for a valid `doc` (a write of entity `id`, 0 for create) and fills `refs`:
     * problems go to `problems` (400), 0 otherwise; -1 db error.
     */
    int (*resolve)(struct db *db, const struct admin_call *call, uint64_t id, const json_t *doc, struct admin_refs *refs,
                   struct problem_list *problems);
    /* Writes `doc` as row `id` (0: insert, *new_id set) with `version`. 0, or -1 (db_error). */
    int (*store)(struct db *db, uint64_t id, const json_t *doc, const struct admin_refs *refs, uint64_t version, uint64_t *new_id);
    /* Deletes row `id` (named `key`). 0, or -1 (db_error; a foreign key refusal becomes 409 in_use). */
    int (*remove)(struct db *db, uint64_t id, const char *key);
    /* Appends "route 'x', ..." naming what still refers to row `id`; nothing appended = unreferenced. -1 db error. */
    int (*referrers)(struct db *db, uint64_t id, struct strbuf *out);
};

extern const struct admin_entity admin_departments;
extern const struct admin_entity admin_services;
extern const struct admin_entity admin_routes;
extern const struct admin_entity admin_scopes;
extern const struct admin_entity admin_rate_policies;
extern const struct admin_entity admin_accounts;
extern const struct admin_entity admin_clients;
extern const struct admin_entity admin_route_namespaces;

/* POST /admin/v1/clients/<client_id>/secret (admin_client_secret.c). */
void admin_client_secret_run(struct db *db, const struct admin_call *call, struct admin_reply *reply);

/* GET|PUT|DELETE /admin/v1/services/<name>/openapi (admin_service_openapi.c). */
void admin_service_openapi_run(struct db *db, const struct admin_call *call, struct admin_reply *reply);

/* /admin/v1/admin-accounts/<name>/tokens[/<id>] (admin_tokens_api.c). */
void admin_tokens_run(struct db *db, const struct admin_call *call, struct admin_reply *reply);

/* GET /admin/v1/keys, POST /admin/v1/keys/rotate (admin_keys.c). */
void admin_keys_run(struct db *db, const struct admin_call *call, struct admin_reply *reply);

/* POST /admin/v1/reload: this node re-reads its config file (admin_keys.c). */
void admin_reload_run(struct db *db, const struct admin_call *call, struct admin_reply *reply);

/* Runs `call` on `entity` (admin_crud.c). */
void admin_crud_run(struct db *db, const struct admin_entity *entity, const struct admin_call *call, struct admin_reply *reply);

/* GET /admin/v1/audit-log (admin_audit_log.c). */
void admin_audit_log_run(struct db *db, const struct admin_call *call, struct admin_reply *reply);

/* The compiled, embedded schema `file` (an entity's schema_file), or NULL when it did not load (admin_crud.c). Import
 * validates its items with the same compiled schemas as the API. */
struct json_schema;
const struct json_schema *admin_schema_for(const char *file);

/* ---- helpers shared by the entity modules (admin_rows.c) ---- */

/* Sets `key` to the column as a string / unsigned integer / ISO 8601 UTC time; SQL NULL leaves the member out. */
int admin_put_text(json_t *doc, const char *key, struct db_result *res, size_t col);
int admin_put_uint(json_t *doc, const char *key, struct db_result *res, size_t col);
int admin_put_time(json_t *doc, const char *key, struct db_result *res, size_t col);
/* version, created_at, updated_at from three consecutive columns starting at `col`. */
int admin_put_read_only(json_t *doc, struct db_result *res, size_t col);
/* Builds an entity's document from the current row of `res`; NULL on a column it cannot read. */
typedef json_t *(*admin_row_doc_fn)(struct db_result *res);
/*
 * The row of a load query, whose columns start with the id and (unless department_id is NULL) the owning
 * department's id: 1 with *doc, *id and *department_id set, 0 no such row, -1 error. `res` may be NULL (a failed query).
 */
int admin_rows_first(struct db_result *res, admin_row_doc_fn row_doc, json_t **doc, uint64_t *id, uint64_t *department_id);
/* Appends the document of every row of a list query (id in column 0) to `items`; *last_id is the last row's id. 0 or -1. */
int admin_rows_append(struct db_result *res, admin_row_doc_fn row_doc, json_t *items, uint64_t *last_id);
/* Appends "kind 'name'" for each (kind, name) row of a referrers query, comma-separated. 0 or -1 (res NULL or unreadable). */
int admin_rows_append_referrers(struct db_result *res, struct strbuf *out);
/* 1 and *id when `sql` (one text parameter) finds a row, 0 when not, -1 error. */
int admin_find_id(struct db *db, const char *sql, const char *name, uint64_t *id);
/* Resolves a department name to its id, adding "unknown department" at `pointer` if there is none. 0 or -1. */
int admin_resolve_department(struct db *db, const char *name, const char *pointer, uint64_t *id, struct problem_list *problems);
/* "2026-11-25T19:09:56[.123456]Z" as "2026-11-25 19:09:56[.123456]" (what a DATETIME(6) compares with); -1 if malformed. */
int admin_time_to_sql(const char *time, char out[32]);
/* Opaque list cursors: 'i' + an 8-byte id, or 'k' + a key, in base64url. */
#define ADMIN_CURSOR_BUFSIZE 176
void admin_cursor_from_id(uint64_t id, char out[ADMIN_CURSOR_BUFSIZE]);
void admin_cursor_from_key(const char *key, char out[ADMIN_CURSOR_BUFSIZE]);
/* Fills call->after_id or call->after_key (and cursor_is_key); -1 for a malformed cursor. */
int admin_cursor_parse(const char *text, struct admin_call *call);
/* The string member `key` of doc, or NULL. */
const char *admin_doc_string(const json_t *doc, const char *key);

#endif
