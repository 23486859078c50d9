/*
 * cli_migrate.c — `yiwang migrate --config FILE`: brings the database in the
 * config's `database.dsn` up to the migrations compiled into this binary
 * (schemas/sql/NNN_name.sql, common/embedded_migrations.h).
 *
 * - Applied versions are recorded in `schema_migrations` with the SHA-256 of
 *   the file. Running again is a no-op ("up to date").
 * - Several nodes may run it at once: everything happens under the
 *   user-level lock yiwang_migrate:<database> (GET_LOCK, 30 s wait), and the
 *   list of applied versions is read only once the lock is held.
 * - History is checked first: an applied migration whose file changed, a
 *   version this binary does not know (the database is newer), or a gap (a
 *   migration added below one already applied) stops it with exit 1 before
 *   anything is changed.
 * - Each migration runs in its own transaction with its schema_migrations
 *   row. MariaDB commits DDL statements at once, so a migration with DDL is
 *   not atomic: if it fails halfway, the statements before the failing one
 *   stay applied and the row is not written. Migrations are therefore written
 *   to be safe to run again (CREATE TABLE IF NOT EXISTS, ...) or kept to one
 *   DDL statement each; see schemas/sql/README.md.
 *
 * Exit status: 0 up to date, 1 the database could not be migrated, 2 usage or
 * an invalid configuration.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>

#include "common/config.h"
#include "common/db.h"
#include "common/embedded_migrations.h"
#include "common/xalloc.h"
#include "gateway/cli.h"
#include "gateway/cli_common.h"

#define PROG "yiwang migrate"
#define LOCK_WAIT_S 30
#define LOCK_NAME_MAX 64 /* MariaDB's limit for user-level lock names */
#define CHECKSUM_HEX_LEN 64

static const char create_table_sql[] = "CREATE TABLE IF NOT EXISTS schema_migrations ("
                                       " version INT UNSIGNED NOT NULL,"
                                       " name VARCHAR(255) NOT NULL,"
                                       " checksum CHAR(64) CHARACTER SET ascii NOT NULL COMMENT 'SHA-256 of the file, hex',"
                                       " applied_at DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),"
                                       " PRIMARY KEY (version)"
                                       ") ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci";

struct applied {
    unsigned version;
    char name[256];
    char checksum[CHECKSUM_HEX_LEN + 1];
};

struct applied_list {
    struct applied *items;
    size_t count;
};

static void print_usage(FILE *out)
{
    fputs("usage: yiwang migrate --config FILE\n"
          "  applies the SQL migrations built into this binary to the database of FILE's\n"
          "  database.dsn (exit 0 up to date, 1 failed, 2 usage or invalid config)\n",
          out);
}

static void checksum_hex(const struct embedded_migration *m, char out[CHECKSUM_HEX_LEN + 1])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    EVP_Digest(m->text, m->len, md, &len, EVP_sha256(), NULL);
    for (unsigned i = 0; i < len && i < CHECKSUM_HEX_LEN / 2; i++)
        snprintf(out + 2 * i, 3, "%02x", md[i]);
    out[CHECKSUM_HEX_LEN] = '\0';
}

static const struct embedded_migration *find_migration(unsigned version)
{
    for (const struct embedded_migration *m = embedded_migrations; m->name != NULL; m++)
        if (m->version == version)
            return m;
    return NULL;
}

static const struct applied *find_applied(const struct applied_list *list, unsigned version)
{
    for (size_t i = 0; i < list->count; i++)
        if (list->items[i].version == version)
            return &list->items[i];
    return NULL;
}

static double ms_between(const struct timespec *a, const struct timespec *b)
{
    return (double)(b->tv_sec - a->tv_sec) * 1e3 + (double)(b->tv_nsec - a->tv_nsec) / 1e6;
}

/* ---- the database side ---- */

static struct db *connect_database(const struct db_dsn *dsn, const struct database_config *config)
{
    /* no I/O timeout: a migration may legitimately run for minutes (an ALTER TABLE on a big table) */
    struct db_options options = {.connect_timeout_ms = config->connect_timeout_ms, .io_timeout_ms = 0};
    char *err = NULL;
    struct db *db = db_connect_with(dsn, &options, &err);
    if (db == NULL) {
        fprintf(stderr, PROG ": %s\n", err);
        free(err);
    }
    return db;
}

/* SELECT GET_LOCK / RELEASE_LOCK: DB_GET_* and the integer in *out. */
static enum db_get lock_query(struct db *db, const char *sql, const char *lock_name, int64_t wait_s, int64_t *out)
{
    struct db_result *res = wait_s >= 0 ? db_query(db, 0, sql, DB_ARGS(db_text(lock_name), db_int(wait_s)))
                                        : db_query(db, 0, sql, DB_ARGS(db_text(lock_name)));
    if (res == NULL || db_result_next(res) != 1)
        return DB_GET_ERROR;
    return db_result_int64(res, 0, out);
}

/* Takes the migration lock of this database, waiting up to LOCK_WAIT_S for another migrate. */
static int take_lock(struct db *db, const char *lock_name)
{
    int64_t got = 0;
    enum db_get rc = lock_query(db, "SELECT GET_LOCK(?, ?)", lock_name, 0, &got);
    if (rc == DB_GET_OK && got != 1) {
        printf(PROG ": another migrate holds the lock %s; waiting up to %d s\n", lock_name, LOCK_WAIT_S);
        fflush(stdout);
        rc = lock_query(db, "SELECT GET_LOCK(?, ?)", lock_name, LOCK_WAIT_S, &got);
    }
    if (rc == DB_GET_ERROR) {
        fprintf(stderr, PROG ": cannot take the lock %s: %s\n", lock_name, db_error(db));
        return -1;
    }
    if (rc == DB_GET_NULL || got != 1) {
        fprintf(stderr, PROG ": another migrate has held the lock %s for more than %d s; try again later\n", lock_name,
                LOCK_WAIT_S);
        return -1;
    }
    return 0;
}

static int read_applied(struct db *db, struct applied_list *list)
{
    struct db_result *res =
        db_query(db, DB_IDEMPOTENT, "SELECT version, name, checksum FROM schema_migrations ORDER BY version", DB_NO_ARGS);
    if (res == NULL) {
        fprintf(stderr, PROG ": cannot read schema_migrations: %s\n", db_error(db));
        return -1;
    }
    list->items = xcalloc(db_result_rows(res), sizeof(*list->items));
    int rc;
    while ((rc = db_result_next(res)) == 1) {
        struct applied *a = &list->items[list->count];
        int64_t version = 0;
        if (db_result_int64(res, 0, &version) != DB_GET_OK || version < 0 || version > UINT32_MAX ||
            db_result_text_copy(res, 1, a->name, sizeof(a->name)) != DB_GET_OK ||
            db_result_text_copy(res, 2, a->checksum, sizeof(a->checksum)) != DB_GET_OK) {
            fprintf(stderr, PROG ": unexpected row in schema_migrations: %s\n", db_error(db));
            return -1;
        }
        a->version = (unsigned)version;
        list->count++;
    }
    if (rc < 0) {
        fprintf(stderr, PROG ": cannot read schema_migrations: %s\n", db_error(db));
        return -1;
    }
    return 0;
}

/* Applied history must match this binary: same files, nothing unknown, no gaps. */
static int check_history(const struct applied_list *applied)
{
    unsigned highest = 0;
    for (size_t i = 0; i < applied->count; i++) {
        const struct applied *a = &applied->items[i];
        const struct embedded_migration *m = find_migration(a->version);
        if (m == NULL) {
            fprintf(stderr,
                    PROG ": the database has migration %03u (%s), which this binary does not have: the database is "
                         "newer than this yiwang; run migrate with the newer binary\n",
                    a->version, a->name);
            return -1;
        }
        char checksum[CHECKSUM_HEX_LEN + 1];
        checksum_hex(m, checksum);
        if (strcmp(checksum, a->checksum) != 0) {
            fprintf(stderr,
                    PROG ": migration %s was changed after it was applied (checksum in schema_migrations %s, of the "
                         "file in this binary %s); applied migrations must not be edited: restore the file and put the "
                         "change in a new migration\n",
                    m->name, a->checksum, checksum);
            return -1;
        }
        if (a->version > highest)
            highest = a->version;
    }
    for (const struct embedded_migration *m = embedded_migrations; m->name != NULL; m++) {
        if (m->version < highest && find_applied(applied, m->version) == NULL) {
            fprintf(stderr,
                    PROG ": migration %s is not applied, but a later one (version %03u) is; a new migration needs a "
                         "number above every applied one: renumber it\n",
                    m->name, highest);
            return -1;
        }
    }
    return 0;
}

static int apply(struct db *db, const struct embedded_migration *m)
{
    char checksum[CHECKSUM_HEX_LEN + 1];
    checksum_hex(m, checksum);
    struct timespec start, end;
    clock_gettime(CLOCK_MONOTONIC, &start);
    printf(PROG ": applying %s\n", m->name);
    fflush(stdout);
    if (db_begin(db) != 0 || db_exec_script(db, m->text, m->len) != 0 ||
        db_exec(db, 0, "INSERT INTO schema_migrations (version, name, checksum) VALUES (?, ?, ?)",
                DB_ARGS(db_uint(m->version), db_text(m->name), db_text(checksum))) != 0 ||
        db_commit(db) != 0) {
        fprintf(stderr,
                PROG ": %s failed: %s\n" PROG ": statements of it that changed the schema (DDL) stay applied, as "
                     "MariaDB commits DDL at once; fix the cause and run migrate again\n",
                m->name, db_error(db));
        db_rollback(db);
        return -1;
    }
    clock_gettime(CLOCK_MONOTONIC, &end);
    printf(PROG ": applied %s in %.0f ms\n", m->name, ms_between(&start, &end));
    return 0;
}

/* Under the lock: read history, check it, apply what is missing. */
static int migrate_locked(struct db *db, const char *database)
{
    if (db_exec(db, 0, create_table_sql, DB_NO_ARGS) != 0) {
        fprintf(stderr, PROG ": cannot create schema_migrations: %s\n", db_error(db));
        return -1;
    }
    struct applied_list applied = {NULL, 0};
    int rc = read_applied(db, &applied);
    if (rc == 0)
        rc = check_history(&applied);
    unsigned count = 0;
    const char *latest = NULL;
    for (const struct embedded_migration *m = embedded_migrations; rc == 0 && m->name != NULL; m++) {
        if (find_applied(&applied, m->version) == NULL) {
            rc = apply(db, m);
            count += rc == 0;
        }
        latest = m->name;
    }
    if (rc == 0 && count == 0)
        printf(PROG ": database %s is up to date (%s)\n", database, latest != NULL ? latest : "no migrations");
    else if (rc == 0)
        printf(PROG ": database %s is up to date (%s); %u migration%s applied now\n", database, latest, count,
               count == 1 ? "" : "s");
    free(applied.items);
    return rc;
}

static int migrate(const struct config *config)
{
    struct db_dsn dsn;
    char *err = NULL;
    if (db_dsn_parse(config->database.dsn, &dsn, &err) != 0) {
        fprintf(stderr, PROG ": %s\n", err);
        free(err);
        return 2;
    }
    struct db *db = connect_database(&dsn, &config->database);
    int rc = -1;
    if (db != NULL) {
        char lock_name[LOCK_NAME_MAX + 1];
        snprintf(lock_name, sizeof(lock_name), "yiwang_migrate:%s", dsn.database);
        rc = take_lock(db, lock_name);
        if (rc == 0) {
            rc = migrate_locked(db, dsn.database);
            int64_t released;
            lock_query(db, "SELECT RELEASE_LOCK(?)", lock_name, -1, &released); /* closing the connection would, too */
        }
        db_close(db);
    }
    db_dsn_clear(&dsn);
    return rc == 0 && fflush(stdout) == 0 ? 0 : 1;
}

int cli_migrate(int argc, char **argv)
{
    const char *config_path = NULL;
    for (int i = 0; i < argc; i++) {
        if ((strcmp(argv[i], "--config") == 0 || strcmp(argv[i], "-c") == 0) && i + 1 < argc) {
            config_path = argv[++i];
        } else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            print_usage(stdout);
            return 0;
        } else {
            fprintf(stderr, PROG ": unexpected argument '%s'\n", argv[i]);
            print_usage(stderr);
            return 2;
        }
    }
    if (config_path == NULL) {
        print_usage(stderr);
        return 2;
    }
    struct config *config = cli_load_config(config_path);
    if (config == NULL)
        return 2;
    int rc;
    if (config->database.dsn == NULL) {
        fprintf(stderr, PROG ": %s has no database section (database.dsn): nothing to migrate\n", config_path);
        rc = 2;
    } else {
        rc = migrate(config);
    }
    config_free(config);
    return rc;
}
