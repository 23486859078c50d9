/*
 * registry_import.c — the plan and the writes of `yiwang config import`
 * (registry_import.h, docs/registry.md §7). Each entity goes through the
 * admin API's schema, resolve and store (admin_entity.h), so the file obeys
 * exactly the rules the API enforces.
 */
#include "gateway/registry_import.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/embedded_schemas.h"
#include "common/json_schema.h"
#include "common/registry_write.h"
#include "common/xalloc.h"
#include "gateway/admin_entity.h"

/* Sections in the order parents come before children. `early_delete`: nothing refers to the entity, so it is deleted
 * before any write (a renamed route must not overlap its old self; a namespace handed to another department is not a
 * duplicate of the old one). */
static const struct section {
    const char *name;
    const struct admin_entity *entity;
    const char *keys_sql; /* every existing key: what the file does not name is deleted */
    int early_delete;
} sections[] = {
    {"departments", &admin_departments, "SELECT name FROM departments ORDER BY name", 0},
    {"route_namespaces", &admin_route_namespaces, "SELECT CAST(id AS CHAR) FROM route_namespaces ORDER BY id", 1},
    {"scopes", &admin_scopes, "SELECT name FROM scopes ORDER BY name", 0},
    {"rate_policies", &admin_rate_policies, "SELECT name FROM rate_policies ORDER BY name", 0},
    {"services", &admin_services, "SELECT name FROM services ORDER BY name", 0},
    {"routes", &admin_routes, "SELECT name FROM routes ORDER BY name", 1},
    {"clients", &admin_clients, "SELECT client_id FROM oauth_clients ORDER BY client_id", 1},
};
#define NUM_SECTIONS (sizeof(sections) / sizeof(sections[0]))

/* Members that would carry a secret into the registry: refused, never read. */
static const char *const secret_members[] = {"secret", "client_secret", "secret_hash", "previous_secret_hash"};

struct section_state {
    const json_t *items; /* the file's array; NULL when the section is absent (left untouched) */
    json_t *docs;        /* per item: the candidate document, or null when the item has problems of its own */
    json_t *named;       /* keys the file names (clients: lower case; namespaces: the ids of the rows they match) */
    json_t *schema;      /* the schema's JSON, for its defaults */
};

struct import {
    struct db *db;
    uint64_t version;
    const struct registry_import_options *options;
    struct registry_import_result *result;
    struct section_state state[NUM_SECTIONS];
    char **err;
};

void registry_import_result_init(struct registry_import_result *result)
{
    memset(result, 0, sizeof(*result));
    result->secrets = json_object();
}

void registry_import_result_free(struct registry_import_result *result)
{
    strbuf_free(&result->plan);
    json_decref(result->secrets);
    problem_list_clear(&result->problems);
}

static int db_failed(struct import *im, const char *what)
{
    if (*im->err == NULL)
        *im->err = xasprintf("%s: %s", what, db_error(im->db));
    return -1;
}

/* Adds `found` to the result with `prefix` ("/routes/3") in front of each pointer. */
static void add_rebased(struct import *im, const char *prefix, const struct problem_list *found)
{
    for (size_t i = 0; i < found->count; i++) {
        char *pointer = xasprintf("%s%s", prefix, found->items[i].pointer);
        problem_list_add(&im->result->problems, pointer, "%s", found->items[i].message);
        free(pointer);
    }
}

/* ---- comparing an item with its row ---- */

/* `node`, or the definition its local "$ref" ("#/$defs/route_auth") names in `root`. */
static const json_t *dereference(const json_t *root, const json_t *node)
{
    const char *ref = json_string_value(json_object_get(node, "$ref"));
    if (ref == NULL || strncmp(ref, "#/$defs/", 8) != 0)
        return node;
    const json_t *target = json_object_get(json_object_get(root, "$defs"), ref + 8);
    return target != NULL ? target : node;
}

/* Fills the defaults the schema declares for members `doc` leaves out, into nested objects too, so that an item written
 * with or without a default compares equal to the row (which may store it either way). */
static void fill_defaults(const json_t *root, const json_t *schema, json_t *doc)
{
    const json_t *properties = json_object_get(schema, "properties"), *property;
    const char *member;
    json_object_foreach((json_t *)properties, member, property)
    {
        json_t *value = json_object_get(doc, member);
        const json_t *object = dereference(root, property), *fallback = json_object_get(property, "default");
        if (fallback == NULL)
            fallback = json_object_get(object, "default");
        if (value == NULL && fallback != NULL) {
            json_object_set_new(doc, member, json_deep_copy(fallback));
        } else if (json_object_get(object, "properties") != NULL) {
            if (value == NULL) {
                value = json_object();
                json_object_set_new(doc, member, value);
            }
            if (json_is_object(value))
                fill_defaults(root, object, value);
        }
    }
}

static int compare_strings(const void *a, const void *b)
{
    return strcmp(json_string_value(*(json_t *const *)a), json_string_value(*(json_t *const *)b));
}

/* Arrays the database keeps in an order of its own (a SET's, scopes by name): compared as sets. */
static void sort_strings(json_t *array)
{
    size_t n = json_array_size(array);
    if (n < 2)
        return;
    json_t **values = xmalloc(n * sizeof(*values));
    for (size_t i = 0; i < n; i++) {
        values[i] = json_array_get(array, i);
        if (!json_is_string(values[i])) {
            free(values);
            return;
        }
        json_incref(values[i]);
    }
    qsort(values, n, sizeof(*values), compare_strings);
    json_array_clear(array);
    for (size_t i = 0; i < n; i++)
        json_array_append_new(array, values[i]);
    free(values);
}

static char *named_key(const struct section *sec, const char *key);

/* The document as compared: read-only members and rotation state out, defaults in, unordered arrays sorted. */
static json_t *comparable(const struct section *sec, const struct section_state *st, const json_t *doc)
{
    json_t *copy = json_deep_copy(doc);
    for (const char *const *m = registry_read_only_members; *m != NULL; m++)
        json_object_del(copy, *m);
    json_object_del(copy, "previous_secret_expires_at"); /* belongs to the secret, which import never touches */
    fill_defaults(st->schema, st->schema, copy);
    /* a default the schema states only in words: a rate policy's burst is its requests (admin_rate_policies.c) */
    if (sec->entity == &admin_rate_policies && json_object_get(copy, "burst") == NULL)
        json_object_set(copy, "burst", json_object_get(copy, "requests"));
    /* a client id never changes and matches its row case-insensitively: another spelling is the same client */
    const char *client_id = sec->entity->keyed_by_text ? admin_doc_string(copy, sec->entity->key_member) : NULL;
    if (client_id != NULL) {
        char *lower = named_key(sec, client_id);
        json_object_set_new(copy, sec->entity->key_member, json_string(lower));
        free(lower);
    }
    sort_strings(json_object_get(copy, "methods"));
    sort_strings(json_object_get(json_object_get(copy, "auth"), "scopes"));
    return copy;
}

/* ---- the file's items, before anything is written ---- */

static const char *item_key_member(const struct section *sec)
{
    return sec->entity->key_member != NULL ? sec->entity->key_member : "name";
}

/* A key as the file names it; client ids compare case-insensitively (their column is ascii_general_ci). */
static char *named_key(const struct section *sec, const char *key)
{
    char *copy = xstrdup(key);
    if (sec->entity->keyed_by_text)
        for (char *p = copy; *p; p++)
            if (*p >= 'A' && *p <= 'Z')
                *p = (char)(*p - 'A' + 'a');
    return copy;
}

/* The id of the namespace row with the host and prefix of `doc` as the route table compares them: 1, 0 none, -1. */
static int find_namespace(struct db *db, const json_t *doc, uint64_t *id)
{
    const char *host = admin_doc_string(doc, "host"), *prefix = admin_doc_string(doc, "path_prefix");
    if (prefix == NULL)
        return 0;
    struct db_result *res = db_query(db, 0,
                                     "SELECT id FROM route_namespaces WHERE host_key = ? AND "
                                     "prefix_key = LOWER(TRIM(TRAILING '/' FROM ?))",
                                     DB_ARGS(db_text(host != NULL ? host : ""), db_text(prefix)));
    int row = res != NULL ? db_result_next(res) : -1;
    if (row == 1 && db_result_uint64(res, 0, id) != DB_GET_OK)
        return -1;
    return row;
}

/* Checks one item on its own (shape, secrets, schema, a key named once) and records its key. 0, or -1 db error. */
static int check_item(struct import *im, size_t s, size_t index, const json_t *item)
{
    const struct section *sec = &sections[s];
    struct section_state *st = &im->state[s];
    char *pointer = xasprintf("/%s/%zu", sec->name, index);
    int ok = json_is_object(item);
    if (!ok)
        problem_list_add(&im->result->problems, pointer, "must be a JSON object");
    for (size_t i = 0; ok && i < sizeof(secret_members) / sizeof(secret_members[0]); i++) {
        if (json_object_get(item, secret_members[i]) != NULL) {
            char *at = json_pointer_append(pointer, secret_members[i]);
            problem_list_add(&im->result->problems, at,
                             "secrets are never imported: a new confidential client gets one, printed once");
            free(at);
            ok = 0;
        }
    }
    json_t *doc = ok ? json_deep_copy(item) : NULL;
    for (const char *const *m = registry_read_only_members; doc != NULL && *m != NULL; m++)
        json_object_del(doc, *m); /* an export never has them; as in the API, they are ignored */
    const char *key = ok ? admin_doc_string(item, item_key_member(sec)) : NULL;
    if (ok) {
        const struct json_schema *schema = admin_schema_for(sec->entity->schema_file);
        struct problem_list found = PROBLEM_LIST_INIT;
        if (schema == NULL) {
            problem_list_add(&found, "", "the schema %s is not available", sec->entity->schema_file);
        } else {
            json_schema_validate(schema, doc, &found);
        }
        if (found.count > 0)
            ok = 0;
        add_rebased(im, pointer, &found);
        problem_list_clear(&found);
    }
    int rc = 0;
    if (sec->entity->generated_key && doc != NULL) {
        uint64_t id = 0;
        int found = find_namespace(im->db, doc, &id);
        if (found < 0) {
            rc = db_failed(im, "cannot read route namespaces");
        } else if (found == 1) {
            char text[24];
            snprintf(text, sizeof(text), "%llu", (unsigned long long)id);
            if (json_object_get(st->named, text) != NULL) {
                problem_list_add(&im->result->problems, pointer, "the same host and path prefix as another item");
                ok = 0;
            }
            json_object_set_new(st->named, text, json_true());
        }
    } else if (key != NULL) {
        /* the key is recorded even for an item with problems, so that its entity is not planned for deletion */
        char *k = named_key(sec, key);
        if (json_object_get(st->named, k) != NULL) {
            char *at = json_pointer_append(pointer, item_key_member(sec));
            problem_list_add(&im->result->problems, at, "'%s' appears more than once in %s", key, sec->name);
            free(at);
            ok = 0;
        }
        json_object_set_new(st->named, k, json_true());
        free(k);
    }
    json_array_append_new(st->docs, ok && doc != NULL ? json_incref(doc) : json_null());
    json_decref(doc);
    free(pointer);
    return rc;
}

static int check_file(struct import *im, const json_t *file)
{
    if (!json_is_object(file)) {
        problem_list_add(&im->result->problems, "", "must be a JSON object (a yiwang config export)");
        return 0;
    }
    const char *format = json_string_value(json_object_get(file, "format"));
    if (format == NULL || strcmp(format, REGISTRY_IMPORT_FORMAT) != 0)
        problem_list_add(&im->result->problems, "/format", "must be \"%s\"", REGISTRY_IMPORT_FORMAT);
    const char *member;
    const json_t *value;
    json_object_foreach((json_t *)file, member, value)
    {
        int known = strcmp(member, "format") == 0 || strcmp(member, "registry_version") == 0;
        for (size_t s = 0; s < NUM_SECTIONS; s++)
            known |= strcmp(member, sections[s].name) == 0;
        if (!known) {
            char *at = json_pointer_append("", member);
            problem_list_add(&im->result->problems, at, "unknown section (admin accounts are never imported)");
            free(at);
        }
    }
    for (size_t s = 0; s < NUM_SECTIONS; s++) {
        const json_t *items = json_object_get(file, sections[s].name);
        if (items == NULL)
            continue;
        if (!json_is_array(items)) {
            char *at = json_pointer_append("", sections[s].name);
            problem_list_add(&im->result->problems, at, "must be an array");
            free(at);
            continue;
        }
        im->state[s].items = items;
        size_t i;
        const json_t *item;
        json_array_foreach(items, i, item)
        {
            if (check_item(im, s, i, item) != 0)
                return -1;
        }
    }
    return 0;
}

/* ---- writing ---- */

static void plan_line(struct import *im, const char *action, const struct section *sec, const char *label)
{
    strbuf_appendf(&im->result->plan, "%s %s %s\n", action, sec->entity->type, label);
    im->result->changed++;
}

/* How a namespace is named in the plan: its host and prefix, since its key is only an id. */
static char *label_of(const struct section *sec, const json_t *doc, const char *key)
{
    if (!sec->entity->generated_key)
        return xstrdup(key);
    const char *host = admin_doc_string(doc, "host");
    return xasprintf("%s%s (department %s)", host != NULL ? host : "", admin_doc_string(doc, "path_prefix"),
                     admin_doc_string(doc, "department"));
}

static int audit(struct import *im, const struct section *sec, const char *key, uint64_t department_id, const json_t *before,
                 const json_t *after)
{
    struct registry_audit record = {.actor = im->options->actor,
                                    .actor_role = "cli",
                                    .action = "import",
                                    .entity_type = sec->entity->type,
                                    .entity_key = key,
                                    .department_id = department_id,
                                    .before = before,
                                    .after = after,
                                    .request_id = im->options->request_id};
    return registry_audit_append(im->db, im->version, &record) == 0 ? 0 : db_failed(im, "cannot append the audit record");
}

/* Creates or updates the entity of item `index`, or leaves it alone when it is unchanged. 0, or -1 db error. */
static int upsert(struct import *im, size_t s, size_t index)
{
    const struct section *sec = &sections[s];
    struct section_state *st = &im->state[s];
    const json_t *doc = json_array_get(st->docs, index);
    if (json_is_null(doc))
        return 0; /* its problems are already reported */
    char key[32 + ADMIN_KEY_MAX], *pointer = xasprintf("/%s/%zu", sec->name, index);
    json_t *before = NULL;
    uint64_t id = 0, department_id = 0;
    int found = 0, rc = -1;
    if (sec->entity->generated_key) {
        found = find_namespace(im->db, doc, &id);
        snprintf(key, sizeof(key), "%llu", (unsigned long long)id);
    } else {
        snprintf(key, sizeof(key), "%s", admin_doc_string(doc, item_key_member(sec)));
    }
    if (found >= 0 && (!sec->entity->generated_key || found == 1))
        found = sec->entity->load(im->db, key, &before, &id, &department_id);
    if (found < 0) {
        db_failed(im, "cannot read the registry");
        goto done;
    }
    if (found == 1) {
        json_t *was = comparable(sec, st, before), *will = comparable(sec, st, doc);
        int same = json_equal(was, will);
        json_decref(was);
        json_decref(will);
        if (same) {
            im->result->unchanged++;
            rc = 0;
            goto done;
        }
    } else {
        id = 0;
    }
    /* the platform's own rules: the CLI runs with the database's rights, like a platform admin (no namespace limit) */
    struct admin_call call = {.who = {.role = ADMIN_ROLE_PLATFORM_ADMIN},
                              .method = found == 1 ? ADMIN_PUT : ADMIN_POST,
                              .collection = sec->entity->collection,
                              .name = found == 1 ? key : NULL,
                              .body = (json_t *)doc,
                              .request_id = im->options->request_id,
                              .node_max_body_bytes = im->options->node_max_body_bytes,
                              .token_key = im->options->token_key};
    snprintf(call.who.name, sizeof(call.who.name), "%s", im->options->actor);
    struct admin_refs refs = {0};
    struct problem_list found_problems = PROBLEM_LIST_INIT;
    uint64_t new_id = 0;
    if (sec->entity->resolve(im->db, &call, id, doc, &refs, &found_problems) != 0) {
        db_failed(im, "cannot check references");
        goto free_refs;
    }
    if (found_problems.count > 0) {
        add_rebased(im, pointer, &found_problems);
        rc = 0;
        goto free_refs;
    }
    if (sec->entity->store(im->db, id, doc, &refs, im->version, &new_id) != 0) {
        if (db_error_is_duplicate_key(im->db)) {
            problem_list_add(&im->result->problems, pointer, "another %s already has this key", sec->entity->type);
            rc = 0;
        } else {
            db_failed(im, "cannot write");
        }
        goto free_refs;
    }
    if (sec->entity->generated_key && found != 1)
        snprintf(key, sizeof(key), "%llu", (unsigned long long)new_id);
    json_t *after = NULL;
    uint64_t ignored = 0;
    if (sec->entity->load(im->db, key, &after, &ignored, &department_id) != 1) {
        db_failed(im, "cannot read back");
        goto free_refs;
    }
    rc = audit(im, sec, key, department_id, before, after);
    json_decref(after);
    if (rc == 0) {
        char *label = label_of(sec, doc, key);
        plan_line(im, found == 1 ? "update" : "create", sec, label);
        free(label);
        const char *secret = admin_doc_string(refs.reply_extra, "client_secret");
        if (secret != NULL)
            json_object_set_new(im->result->secrets, key, json_string(secret));
    }
free_refs:
    problem_list_clear(&found_problems);
    free(refs.scope_ids);
    json_decref(refs.reply_extra);
done:
    json_decref(before);
    free(pointer);
    return rc;
}

/* The order items are written in: departments below their parents, routes that exist before new ones (a route moved
 * away frees its path first); everything else as in the file. */
static size_t *write_order(struct import *im, size_t s, size_t *n)
{
    const struct section_state *st = &im->state[s];
    *n = json_array_size(st->docs);
    size_t *order = xmalloc((*n + 1) * sizeof(*order)), k = 0;
    char *done = xcalloc(*n + 1, 1);
    if (sections[s].entity == &admin_departments) {
        json_t *placed = json_object();
        for (int progress = 1; progress && k < *n;) {
            progress = 0;
            for (size_t i = 0; i < *n; i++) {
                const json_t *doc = json_array_get(st->docs, i);
                const char *parent = admin_doc_string(doc, "parent");
                int parent_in_file = parent != NULL && json_object_get(st->named, parent) != NULL;
                if (done[i] || (parent_in_file && json_object_get(placed, parent) == NULL))
                    continue;
                order[k++] = i, done[i] = 1, progress = 1;
                if (admin_doc_string(doc, "name") != NULL)
                    json_object_set_new(placed, admin_doc_string(doc, "name"), json_true());
            }
        }
        json_decref(placed);
    } else if (sections[s].entity == &admin_routes) {
        for (size_t i = 0; i < *n; i++) {
            uint64_t id = 0;
            const char *name = admin_doc_string(json_array_get(st->docs, i), "name");
            if (name != NULL && admin_find_id(im->db, "SELECT id FROM routes WHERE name = ?", name, &id) == 1)
                order[k++] = i, done[i] = 1;
        }
    }
    for (size_t i = 0; i < *n; i++) /* the rest; a department cycle ends up here, and resolve names it */
        if (!done[i])
            order[k++] = i;
    free(done);
    return order;
}

static int write_section(struct import *im, size_t s)
{
    size_t n = 0, *order = write_order(im, s, &n);
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++)
        rc = upsert(im, s, order[i]);
    free(order);
    return rc;
}

/* Deletes what the section's rows have and the file does not name. What is still referred to waits for a later pass
 * (a child department first); what is referred to at the end is a problem. 0, or -1 db error. */
static int delete_missing(struct import *im, size_t s)
{
    const struct section *sec = &sections[s];
    struct section_state *st = &im->state[s];
    struct db_result *res = db_query(im->db, 0, sec->keys_sql, DB_NO_ARGS);
    if (res == NULL)
        return db_failed(im, "cannot list the registry");
    json_t *pending = json_array();
    int row;
    while ((row = db_result_next(res)) == 1) {
        const char *key = NULL;
        if (db_result_text(res, 0, &key, NULL) != DB_GET_OK) {
            row = -1;
            break;
        }
        char *k = named_key(sec, key);
        if (json_object_get(st->named, k) == NULL)
            json_array_append_new(pending, json_string(key));
        free(k);
    }
    if (row < 0) {
        json_decref(pending);
        return db_failed(im, "cannot list the registry");
    }
    int rc = 0;
    struct strbuf users = STRBUF_INIT;
    for (int progress = 1; progress && rc == 0;) {
        progress = 0;
        for (size_t i = 0; i < json_array_size(pending) && rc == 0;) {
            const char *key = json_string_value(json_array_get(pending, i));
            json_t *before = NULL;
            uint64_t id = 0, department_id = 0;
            strbuf_reset(&users);
            if (sec->entity->load(im->db, key, &before, &id, &department_id) != 1 ||
                (sec->entity->referrers != NULL && sec->entity->referrers(im->db, id, &users) != 0)) {
                json_decref(before);
                rc = db_failed(im, "cannot read the registry");
                break;
            }
            int deleted = 0;
            if (users.len == 0) {
                if (sec->entity->remove(im->db, id, key) == 0)
                    deleted = 1;
                else if (db_errno(im->db) != 1451) /* still referred to: perhaps not after another deletion */
                    rc = db_failed(im, "cannot delete");
            }
            if (deleted) {
                rc = audit(im, sec, key, department_id, before, NULL);
                char *label = label_of(sec, before, key);
                plan_line(im, "delete", sec, label);
                free(label);
                json_array_remove(pending, i);
                progress = 1;
            } else {
                i++;
            }
            json_decref(before);
        }
    }
    for (size_t i = 0; i < json_array_size(pending) && rc == 0; i++) {
        const char *key = json_string_value(json_array_get(pending, i));
        json_t *before = NULL;
        uint64_t id = 0, department_id = 0;
        strbuf_reset(&users);
        if (sec->entity->load(im->db, key, &before, &id, &department_id) != 1 ||
            (sec->entity->referrers != NULL && sec->entity->referrers(im->db, id, &users) != 0)) {
            json_decref(before);
            rc = db_failed(im, "cannot read the registry");
            break;
        }
        char *label = label_of(sec, before, key), *at = json_pointer_append("", sec->name);
        problem_list_add(&im->result->problems, at, "%s '%s' is not in the file but cannot be deleted: still used by %s",
                         sec->entity->type, label, users.len > 0 ? users.data : "another entity");
        free(at);
        free(label);
        json_decref(before);
    }
    strbuf_free(&users);
    json_decref(pending);
    return rc;
}

static int run(struct import *im, const json_t *file)
{
    if (check_file(im, file) != 0)
        return -1;
    for (size_t s = NUM_SECTIONS; s-- > 0;) /* leaves first: nothing refers to them */
        if (im->state[s].items != NULL && sections[s].early_delete && delete_missing(im, s) != 0)
            return -1;
    for (size_t s = 0; s < NUM_SECTIONS; s++)
        if (im->state[s].items != NULL && write_section(im, s) != 0)
            return -1;
    for (size_t s = NUM_SECTIONS; s-- > 0;) /* then the rest, children before parents, once nothing moved onto them */
        if (im->state[s].items != NULL && !sections[s].early_delete && delete_missing(im, s) != 0)
            return -1;
    return 0;
}

int registry_import_apply(struct db *db, uint64_t version, const json_t *file, const struct registry_import_options *options,
                          struct registry_import_result *result, char **err)
{
    struct import im = {.db = db, .version = version, .options = options, .result = result, .err = err};
    *err = NULL;
    int rc = 0;
    for (size_t s = 0; s < NUM_SECTIONS; s++) {
        const struct embedded_schema *text = embedded_schema_find(sections[s].entity->schema_file);
        im.state[s].docs = json_array();
        im.state[s].named = json_object();
        im.state[s].schema = text != NULL ? json_loadb(text->text, text->len, 0, NULL) : NULL;
        if (im.state[s].schema == NULL && rc == 0) {
            *err = xasprintf("the schema %s is not embedded", sections[s].entity->schema_file);
            rc = -1;
        }
    }
    if (rc == 0)
        rc = run(&im, file);
    for (size_t s = 0; s < NUM_SECTIONS; s++) {
        json_decref(im.state[s].docs);
        json_decref(im.state[s].named);
        json_decref(im.state[s].schema);
    }
    return rc;
}
