/*
 * cli_config_export.c — `yiwang config export --config FILE`: the registry
 * as one JSON document on stdout (docs/registry.md §7).
 *
 * Read in one consistent snapshot, so the document is exactly one registry
 * version. Items are sorted by name (clients by client_id, namespaces by host
 * and prefix), so two exports diff cleanly. Services and routes are rendered
 * by registry_read.h, the code the nodes build their snapshots from. Nothing
 * secret leaves: clients' secret hashes are never selected, and admin
 * accounts and tokens are not exported at all, so an export cannot grant
 * admin rights when it is imported.
 *
 * Exit status: 0 done, 1 database failure, 2 usage or invalid configuration.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "common/xalloc.h"
#include "gateway/cli.h"
#include "gateway/cli_common.h"
#include "gateway/registry_read.h"

#define PROG "yiwang config export"
#define FORMAT "yiwang-registry/1"

enum column_kind {
    TEXT,     /* a string, always present */
    OPT_TEXT, /* a string, absent when NULL */
    UINT,     /* an integer */
    BOOL,     /* TINYINT(1) */
    JSON,     /* a column that holds JSON text */
    WORDS,    /* space-separated words, as an array */
};

struct column {
    const char *key;
    enum column_kind kind;
};

/* The space- (or comma-) separated words of `text`, as an array of strings. */
static json_t *words_array(const char *text)
{
    json_t *words = json_array();
    for (const char *p = text; *p;) {
        size_t n = strcspn(p, " ,");
        if (n > 0)
            json_array_append_new(words, json_stringn(p, n));
        p += n + (p[n] != '\0');
    }
    return words;
}

static int add_member(struct db_result *res, size_t col, const struct column *column, json_t *item)
{
    const char *text = NULL;
    enum db_get got = db_result_text(res, col, &text, NULL);
    if (got == DB_GET_ERROR || (got == DB_GET_NULL && column->kind != OPT_TEXT))
        return -1;
    if (got == DB_GET_NULL)
        return 0;
    json_t *value = NULL;
    uint64_t number = 0;
    if (column->kind == UINT || column->kind == BOOL) {
        if (db_result_uint64(res, col, &number) != DB_GET_OK)
            return -1;
        value = column->kind == BOOL ? json_boolean(number != 0) : json_integer((json_int_t)number);
    } else if (column->kind == JSON) {
        value = json_loads(text, JSON_DECODE_ANY, NULL);
    } else {
        value = column->kind == WORDS ? words_array(text) : json_string(text);
    }
    if (value == NULL)
        return -1;
    json_object_set_new(item, column->key, value);
    return 0;
}

/* Runs `sql` (in the open read transaction) and maps each row to an object, column i to columns[i]. */
static json_t *read_items(struct db *db, const char *what, const char *sql, const struct column *columns, size_t num_columns,
                          char **err)
{
    struct db_result *res = db_query(db, 0, sql, DB_NO_ARGS);
    json_t *items = json_array();
    int row = res != NULL ? 1 : -1;
    while (row == 1 && (row = db_result_next(res)) == 1) {
        json_t *item = json_object();
        for (size_t i = 0; i < num_columns && row == 1; i++)
            if (add_member(res, i, &columns[i], item) != 0)
                row = -1;
        json_array_append_new(items, item);
    }
    if (row < 0) {
        *err = xasprintf("cannot read %s: %s", what, db_error(db)[0] ? db_error(db) : "a value does not convert");
        json_decref(items);
        return NULL;
    }
    return items;
}

#define READ(db, what, sql, columns, err) read_items(db, what, sql, columns, sizeof(columns) / sizeof(columns[0]), err)

static json_t *read_departments(struct db *db, char **err)
{
    static const struct column columns[] = {{"name", TEXT}, {"display_name", TEXT}, {"region_code", TEXT}, {"parent", OPT_TEXT}};
    return READ(db, "departments",
                "SELECT d.name, d.display_name, d.region_code, p.name FROM departments d "
                "LEFT JOIN departments p ON p.id = d.parent_id ORDER BY d.name",
                columns, err);
}

static json_t *read_namespaces(struct db *db, char **err)
{
    static const struct column columns[] = {{"department", TEXT}, {"host", OPT_TEXT}, {"path_prefix", TEXT}};
    return READ(db, "route namespaces",
                "SELECT d.name, n.host, n.path_prefix FROM route_namespaces n JOIN departments d ON d.id = n.department_id "
                "ORDER BY n.host_key, n.prefix_key",
                columns, err);
}

static json_t *read_scopes(struct db *db, char **err)
{
    static const struct column columns[] = {
        {"name", TEXT}, {"department", TEXT}, {"display_name", TEXT}, {"description", TEXT}, {"third_party", BOOL}};
    return READ(db, "scopes",
                "SELECT s.name, d.name, s.display_name, s.description, s.third_party FROM scopes s "
                "JOIN departments d ON d.id = s.department_id "
                "ORDER BY s.name",
                columns, err);
}

static json_t *read_rate_policies(struct db *db, char **err)
{
    static const struct column columns[] = {{"name", TEXT},  {"department", OPT_TEXT}, {"description", TEXT}, {"requests", UINT},
                                            {"per_s", UINT}, {"burst", UINT},          {"key_by", TEXT}};
    return READ(db, "rate policies",
                "SELECT p.name, d.name, p.description, p.requests, p.per_s, p.burst, p.key_by FROM rate_policies p "
                "LEFT JOIN departments d ON d.id = p.department_id ORDER BY p.name",
                columns, err);
}

/* Never the secret hashes, nor the rotation state that belongs to them. */
static json_t *read_clients(struct db *db, char **err)
{
    static const struct column columns[] = {{"client_id", TEXT},       {"name", TEXT},          {"kind", TEXT},
                                            {"department", OPT_TEXT},  {"owner", TEXT},         {"first_party", BOOL},
                                            {"confidential", BOOL},    {"redirect_uris", JSON}, {"post_logout_redirect_uris", JSON},
                                            {"allowed_scopes", WORDS}, {"grant_types", WORDS},  {"cors_origins", JSON},
                                            {"status", TEXT}};
    return READ(db, "clients",
                "SELECT c.client_id, c.name, c.kind, d.name, c.owner, c.first_party, c.confidential, c.redirect_uris, "
                "c.post_logout_redirect_uris, c.allowed_scopes, c.grant_types, c.cors_origins, c.status "
                "FROM oauth_clients c LEFT JOIN departments d ON d.id = c.owner_department_id "
                "ORDER BY CAST(c.client_id AS BINARY)",
                columns, err);
}

static json_t *read_routes(struct db *db, char **err)
{
    return registry_read_routes(db, REGISTRY_ROUTES_EXPORT, err);
}

/* Every section, in the order import applies them (parents first). */
static const struct {
    const char *name;
    json_t *(*read)(struct db *db, char **err);
} sections[] = {
    {"departments", read_departments},
    {"route_namespaces", read_namespaces},
    {"scopes", read_scopes},
    {"rate_policies", read_rate_policies},
    {"services", registry_read_services},
    {"routes", read_routes},
    {"clients", read_clients},
};

static json_t *read_document(struct db *db, char **err)
{
    uint64_t version = 0;
    if (registry_read_begin(db, &version, err) != 0)
        return NULL;
    json_t *doc = json_pack("{s:s,s:I}", "format", FORMAT, "registry_version", (json_int_t)version);
    for (size_t i = 0; i < sizeof(sections) / sizeof(sections[0]); i++) {
        json_t *items = sections[i].read(db, err);
        if (items == NULL) {
            registry_read_abort(db);
            json_decref(doc);
            return NULL;
        }
        json_object_set_new(doc, sections[i].name, items);
    }
    if (registry_read_end(db, err) != 0) {
        json_decref(doc);
        return NULL;
    }
    return doc;
}

static int export(struct db *db, const struct config *config, void *arg)
{
    (void)config, (void)arg;
    char *err = NULL;
    json_t *doc = read_document(db, &err);
    if (doc == NULL) {
        fprintf(stderr, PROG ": %s\n", err);
        free(err);
        return 1;
    }
    int rc = json_dumpf(doc, stdout, JSON_INDENT(2)) == 0 && fputc('\n', stdout) != EOF && fflush(stdout) == 0 ? 0 : 1;
    if (rc != 0)
        fputs(PROG ": cannot write the document to stdout\n", stderr);
    json_decref(doc);
    return rc;
}

int cli_config_export(int argc, char **argv)
{
    if (argc != 2 || strcmp(argv[0], "--config") != 0) {
        fputs("usage: " PROG " --config FILE\n", stderr);
        return 2;
    }
    return cli_run_with_database(PROG, argv[1], export, NULL);
}
