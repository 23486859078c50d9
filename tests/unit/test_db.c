/*
 * test_db.c — common/db.c against a real MariaDB server: typed parameters and
 * rows, NULLs, values that do not fit, duplicate keys, transactions, scripts,
 * and reconnecting after the server killed the connection.
 *
 * Needs YIWANG_TEST_DSN (scripts/test.sh starts a private server and sets it).
 * Without it the test reports "skipped" and exits 77, which ctest counts as
 * skipped (SKIP_RETURN_CODE in tests/CMakeLists.txt). Everything happens in a
 * database of its own, created here and dropped at the end.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/db.h"
#include "common/xalloc.h"
#include "tests/unit/test.h"

#define SKIP_RETURN_CODE 77

static struct db_dsn test_dsn; /* points at this test's own database */

static struct db *open_db(void)
{
    char *err = NULL;
    struct db *db = db_connect(&test_dsn, 2000, &err);
    if (db == NULL) {
        fprintf(stderr, "cannot connect: %s\n", err);
        free(err);
        exit(1);
    }
    return db;
}

/* Runs SQL that must succeed (set-up steps). */
static void must(struct db *db, const char *sql)
{
    if (db_exec(db, 0, sql, DB_NO_ARGS) != 0) {
        fprintf(stderr, "%s: %s\n", sql, db_error(db));
        exit(1);
    }
}

static long long count_rows(struct db *db, const char *table)
{
    char *sql = xasprintf("SELECT COUNT(*) FROM %s", table);
    int64_t n = -1;
    struct db_result *res = db_query(db, DB_IDEMPOTENT, sql, DB_NO_ARGS);
    if (res == NULL || db_result_next(res) != 1 || db_result_int64(res, 0, &n) != DB_GET_OK)
        fprintf(stderr, "count %s: %s\n", table, db_error(db));
    free(sql);
    return n;
}

static void test_typed_rows(struct db *db)
{
    must(db, "CREATE TABLE people (id INT UNSIGNED AUTO_INCREMENT PRIMARY KEY, name VARCHAR(64) NOT NULL UNIQUE,"
             " note TEXT NULL, big BIGINT NULL, amount DECIMAL(10,2) NULL, ratio DOUBLE NULL, born DATETIME(6) NULL,"
             " data VARBINARY(64) NULL) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4");
    static const char raw[] = {'a', 0, 'b', (char)0xff};
    const char *sql = "INSERT INTO people (name, note, big, amount, ratio, born, data) VALUES (?, ?, ?, ?, ?, ?, ?)";
    CHECK_INT_EQ(db_exec(db, 0, sql,
                         DB_ARGS(db_text("张三"), db_null(), db_int(-5000000000LL), db_text("12.50"), db_double(0.1),
                                 db_text("2026-11-25 08:30:00.123456"), db_blob(raw, sizeof(raw)))),
                 0);
    CHECK_INT_EQ(db_insert_id(db), 1);
    CHECK_INT_EQ(db_affected_rows(db), 1);
    CHECK_INT_EQ(
        db_exec(db, 0, sql, DB_ARGS(db_text("li"), db_text("note"), db_int(7), db_text("3.00"), db_null(), db_null(), db_null())),
        0);
    CHECK_INT_EQ(db_insert_id(db), 2);

    struct db_result *res =
        db_query(db, DB_IDEMPOTENT, "SELECT id, name, note, big, amount, ratio, born, data FROM people ORDER BY id", DB_NO_ARGS);
    CHECK(res != NULL);
    if (res == NULL)
        return;
    CHECK_INT_EQ(db_result_columns(res), 8);
    CHECK_INT_EQ(db_result_rows(res), 2);
    CHECK_STR_EQ(db_result_column_name(res, 6), "born");
    CHECK(db_result_column_name(res, 8) == NULL);
    int64_t i64 = 0;
    CHECK_INT_EQ(db_result_int64(res, 0, &i64), DB_GET_ERROR); /* no row yet */

    CHECK_INT_EQ(db_result_next(res), 1);
    uint64_t u64 = 0;
    CHECK_INT_EQ(db_result_uint64(res, 0, &u64), DB_GET_OK);
    CHECK_INT_EQ(u64, 1);
    const char *text = NULL;
    size_t len = 0;
    CHECK_INT_EQ(db_result_text(res, 1, &text, &len), DB_GET_OK);
    CHECK_STR_EQ(text, "张三");
    CHECK_INT_EQ(len, strlen("张三"));
    CHECK_INT_EQ(db_result_is_null(res, 2), 1);
    text = "untouched";
    CHECK_INT_EQ(db_result_text(res, 2, &text, &len), DB_GET_NULL);
    CHECK_STR_EQ(text, "untouched");
    CHECK_INT_EQ(db_result_int64(res, 3, &i64), DB_GET_OK);
    CHECK_INT_EQ(i64, -5000000000LL);
    int small = 0;
    CHECK_INT_EQ(db_result_int(res, 3, &small), DB_GET_ERROR); /* does not fit an int */
    CHECK(strstr(db_error(db), "does not fit") != NULL);
    CHECK_INT_EQ(db_result_uint64(res, 3, &u64), DB_GET_ERROR); /* negative */
    CHECK_INT_EQ(db_result_text(res, 4, &text, NULL), DB_GET_OK);
    CHECK_STR_EQ(text, "12.50");
    CHECK_INT_EQ(db_result_int64(res, 4, &i64), DB_GET_ERROR); /* has a fraction */
    double d = 0;
    CHECK_INT_EQ(db_result_double(res, 4, &d), DB_GET_OK);
    CHECK(d == 12.5);
    CHECK_INT_EQ(db_result_double(res, 5, &d), DB_GET_OK);
    CHECK(d == 0.1);
    CHECK_INT_EQ(db_result_text(res, 5, &text, NULL), DB_GET_OK);
    CHECK_STR_EQ(text, "0.1");
    CHECK_INT_EQ(db_result_unix_time(res, 6, &i64), DB_GET_OK);
    CHECK_INT_EQ(i64, 1795595400); /* 2026-11-25T08:30:00Z */
    CHECK_INT_EQ(db_result_text(res, 6, &text, NULL), DB_GET_OK);
    CHECK_STR_EQ(text, "2026-11-25 08:30:00.123456");
    const void *blob = NULL;
    CHECK_INT_EQ(db_result_blob(res, 7, &blob, &len), DB_GET_OK);
    CHECK_INT_EQ(len, sizeof(raw));
    CHECK(blob != NULL && memcmp(blob, raw, sizeof(raw)) == 0);
    CHECK_INT_EQ(db_result_int64(res, 1, &i64), DB_GET_ERROR); /* text is not an integer */
    CHECK(strstr(db_error(db), "column 1 (name) is not an integer") != NULL);
    CHECK_INT_EQ(db_result_int64(res, 8, &i64), DB_GET_ERROR); /* no such column */
    CHECK(strstr(db_error(db), "column 8 does not exist") != NULL);
    CHECK_INT_EQ(db_result_unix_time(res, 1, &i64), DB_GET_ERROR);

    /* into a caller's buffer: exactly fits, or refused, never cut */
    char buf[8];
    CHECK_INT_EQ(db_result_text_copy(res, 1, buf, strlen("张三") + 1), DB_GET_OK);
    CHECK_STR_EQ(buf, "张三");
    CHECK_INT_EQ(db_result_text_copy(res, 1, buf, strlen("张三")), DB_GET_ERROR);
    CHECK(strstr(db_error(db), "do not fit") != NULL);

    CHECK_INT_EQ(db_result_next(res), 1);
    CHECK_INT_EQ(db_result_int(res, 3, &small), DB_GET_OK);
    CHECK_INT_EQ(small, 7);
    CHECK_INT_EQ(db_result_int(res, 4, &small), DB_GET_OK); /* 3.00 is a whole number */
    CHECK_INT_EQ(small, 3);
    CHECK_INT_EQ(db_result_double(res, 5, &d), DB_GET_NULL);
    CHECK_INT_EQ(db_result_unix_time(res, 6, &i64), DB_GET_NULL);
    char *dup = NULL;
    CHECK_INT_EQ(db_result_text_dup(res, 2, &dup), DB_GET_OK);
    CHECK_STR_EQ(dup, "note");
    free(dup);
    CHECK_INT_EQ(db_result_next(res), 0);
    CHECK_INT_EQ(db_result_next(res), 0);

    /* a parameter count that does not match runs nothing */
    CHECK(db_query(db, DB_IDEMPOTENT, "SELECT name FROM people WHERE id = ?", DB_NO_ARGS) == NULL);
    CHECK(strstr(db_error(db), "1 placeholders but 0 values") != NULL);
    CHECK(db_query(db, DB_IDEMPOTENT, "SELECT name FROM nowhere", DB_NO_ARGS) == NULL);
    CHECK_INT_EQ(db_errno(db), 1146);
    CHECK(strstr(db_error(db), "MariaDB error 1146 (42S02)") != NULL);
}

/* Values longer than the first row's, and much longer than any fixed buffer. */
static void test_long_values(struct db *db)
{
    must(db, "CREATE TABLE docs (id INT PRIMARY KEY, body MEDIUMTEXT NOT NULL)");
    size_t big = 300000;
    char *body = xmalloc(big + 1);
    for (size_t i = 0; i < big; i++)
        body[i] = (char)('a' + i % 26);
    body[big] = '\0';
    CHECK_INT_EQ(db_exec(db, 0, "INSERT INTO docs VALUES (?, ?)", DB_ARGS(db_int(1), db_text("short"))), 0);
    CHECK_INT_EQ(db_exec(db, 0, "INSERT INTO docs VALUES (?, ?)", DB_ARGS(db_int(2), db_textn(body, big))), 0);
    struct db_result *res = db_query(db, DB_IDEMPOTENT, "SELECT body FROM docs ORDER BY id", DB_NO_ARGS);
    CHECK(res != NULL);
    const char *text = NULL;
    size_t len = 0;
    CHECK_INT_EQ(db_result_next(res), 1);
    CHECK_INT_EQ(db_result_text(res, 0, &text, &len), DB_GET_OK);
    CHECK_STR_EQ(text, "short");
    CHECK_INT_EQ(db_result_next(res), 1);
    CHECK_INT_EQ(db_result_text(res, 0, &text, &len), DB_GET_OK);
    CHECK_INT_EQ(len, big);
    CHECK(text != NULL && strcmp(text, body) == 0);
    free(body);
}

static void test_duplicate_key(struct db *db)
{
    const char *sql = "INSERT INTO people (name) VALUES (?)";
    CHECK_INT_EQ(db_exec(db, 0, sql, DB_ARGS(db_text("wang"))), 0);
    CHECK_INT_EQ(db_exec(db, 0, sql, DB_ARGS(db_text("wang"))), -1);
    CHECK(db_error_is_duplicate_key(db));
    CHECK_INT_EQ(db_errno(db), 1062);
    CHECK(strstr(db_error(db), "Duplicate entry") != NULL);
    CHECK(!db_error_is_connection_lost(db));
    /* the connection is fine afterwards */
    CHECK_INT_EQ(db_exec(db, 0, sql, DB_ARGS(db_text("zhao"))), 0);
    CHECK_STR_EQ(db_error(db), "");
}

static void test_transactions(struct db *db)
{
    long long before = count_rows(db, "people");
    CHECK_INT_EQ(db_begin(db), 0);
    CHECK(db_in_transaction(db));
    CHECK_INT_EQ(db_begin(db), -1);
    CHECK_INT_EQ(db_exec(db, 0, "INSERT INTO people (name) VALUES (?)", DB_ARGS(db_text("rolled back"))), 0);
    CHECK_INT_EQ(count_rows(db, "people"), before + 1); /* visible inside */
    CHECK_INT_EQ(db_rollback(db), 0);
    CHECK(!db_in_transaction(db));
    CHECK_INT_EQ(count_rows(db, "people"), before);

    /* a duplicate key undoes one statement, not the transaction */
    CHECK_INT_EQ(db_begin(db), 0);
    CHECK_INT_EQ(db_exec(db, 0, "INSERT INTO people (name) VALUES (?)", DB_ARGS(db_text("committed"))), 0);
    CHECK_INT_EQ(db_exec(db, 0, "INSERT INTO people (name) VALUES (?)", DB_ARGS(db_text("wang"))), -1);
    CHECK(db_error_is_duplicate_key(db));
    CHECK_INT_EQ(db_commit(db), 0);
    CHECK_INT_EQ(count_rows(db, "people"), before + 1);
    CHECK_INT_EQ(db_commit(db), -1); /* none open */
    CHECK_INT_EQ(db_rollback(db), 0);
}

struct deadlock_side {
    struct db *db;
    int rc;
    unsigned err;
};

/* Side A's second statement blocks on B's lock, so it runs on its own thread. */
static void *deadlock_side_a(void *arg)
{
    struct deadlock_side *a = arg;
    db_thread_init();
    a->rc = db_exec(a->db, 0, "UPDATE people SET note = 'a' WHERE id = ?", DB_ARGS(db_int(2)));
    a->err = db_errno(a->db);
    db_thread_end();
    return NULL;
}

/* A deadlock rolls back the victim's whole transaction: it must stay failed until rolled back. */
static void test_deadlock(struct db *db)
{
    struct deadlock_side a = {.db = open_db()}, b = {.db = db};
    const char *update = "UPDATE people SET note = ? WHERE id = ?";
    CHECK_INT_EQ(db_begin(a.db), 0);
    CHECK_INT_EQ(db_begin(b.db), 0);
    CHECK_INT_EQ(db_exec(a.db, 0, update, DB_ARGS(db_text("a"), db_int(1))), 0);
    CHECK_INT_EQ(db_exec(b.db, 0, update, DB_ARGS(db_text("b"), db_int(2))), 0);
    pthread_t thread;
    pthread_create(&thread, NULL, deadlock_side_a, &a);
    usleep(200 * 1000); /* A now waits for row 2 */
    b.rc = db_exec(b.db, 0, update, DB_ARGS(db_text("b"), db_int(1)));
    b.err = db_errno(b.db);
    /* InnoDB rolls one of them back at once, which lets the other one go on */
    pthread_join(thread, NULL);
    struct deadlock_side *victim = b.rc != 0 ? &b : &a, *winner = b.rc != 0 ? &a : &b;
    CHECK_INT_EQ(victim->rc, -1);
    CHECK_INT_EQ(victim->err, 1213);
    CHECK_INT_EQ(winner->rc, 0);
    CHECK(db_exec(victim->db, 0, update, DB_ARGS(db_text("after"), db_int(3))) != 0);
    CHECK(strstr(db_error(victim->db), "rolled back by the server (deadlock); call db_rollback") != NULL);
    CHECK(db_error_is_retryable_txn(victim->db));
    CHECK(!db_error_is_connection_lost(victim->db));
    CHECK_INT_EQ(db_commit(victim->db), -1);
    CHECK_INT_EQ(db_rollback(victim->db), 0);
    CHECK_INT_EQ(db_commit(winner->db), 0);
    CHECK(!db_in_transaction(a.db) && !db_in_transaction(b.db));
    /* both usable again */
    CHECK_INT_EQ(db_exec(a.db, 0, update, DB_ARGS(db_text("a2"), db_int(1))), 0);
    CHECK_INT_EQ(db_exec(b.db, 0, update, DB_ARGS(db_text("b2"), db_int(2))), 0);
    db_close(a.db);
}

static void test_script(struct db *db)
{
    const char *ok = "CREATE TABLE s1 (a INT);\nINSERT INTO s1 VALUES (1), (2);\n-- a comment\nINSERT INTO s1 VALUES (3);\n";
    CHECK_INT_EQ(db_exec_script(db, ok, strlen(ok)), 0);
    CHECK_INT_EQ(count_rows(db, "s1"), 3);
    const char *bad = "INSERT INTO s1 VALUES (4); INSERT INTO nowhere VALUES (1); INSERT INTO s1 VALUES (5);";
    CHECK_INT_EQ(db_exec_script(db, bad, strlen(bad)), -1);
    CHECK(strstr(db_error(db), "statement 2: MariaDB error 1146") != NULL);
    CHECK_INT_EQ(count_rows(db, "s1"), 4); /* the first ran, the third did not */
    /* several statements in one prepared statement stay impossible */
    CHECK_INT_EQ(db_exec(db, 0, "INSERT INTO s1 VALUES (6); DROP TABLE s1", DB_NO_ARGS), -1);
    CHECK_INT_EQ(count_rows(db, "s1"), 4);
}

/* The server kills db's connection, as a restart, failover or idle timeout would. */
static void kill_connection(struct db *killer, struct db *db)
{
    unsigned long id = db_connection_id(db);
    CHECK(id != 0);
    CHECK_INT_EQ(db_exec(killer, 0, "KILL CONNECTION ?", DB_ARGS(db_uint(id))), 0);
    usleep(50 * 1000); /* let the server finish closing it */
}

static void test_reconnect(struct db *db, struct db *killer)
{
    const char *select = "SELECT name FROM people WHERE id = ?";
    const char *insert = "INSERT INTO people (name) VALUES (?)";
    struct db_result *res = db_query(db, DB_IDEMPOTENT, select, DB_ARGS(db_int(1)));
    CHECK(res != NULL);
    CHECK_INT_EQ(db_exec(db, 0, insert, DB_ARGS(db_text("before kill"))), 0); /* now both are prepared */
    unsigned long first_id = db_connection_id(db);
    unsigned reconnects = db_reconnects(db);

    /* idempotent: reconnected, prepared again and retried, invisibly */
    kill_connection(killer, db);
    res = db_query(db, DB_IDEMPOTENT, select, DB_ARGS(db_int(1)));
    CHECK(res != NULL);
    const char *name = NULL;
    CHECK(res != NULL && db_result_next(res) == 1 && db_result_text(res, 0, &name, NULL) == DB_GET_OK);
    CHECK_STR_EQ(name, "张三");
    CHECK_INT_EQ(db_reconnects(db), reconnects + 1);
    CHECK(db_connection_id(db) != first_id);

    /* not yet prepared on the new connection: a lost connection found while preparing is replaced, because
     * nothing has run yet, even for a statement that is not idempotent */
    long long before = count_rows(db, "people");
    kill_connection(killer, db);
    CHECK_INT_EQ(db_exec(db, 0, insert, DB_ARGS(db_text("prepared again"))), 0);
    CHECK_INT_EQ(db_reconnects(db), reconnects + 2);
    CHECK_INT_EQ(count_rows(db, "people"), before + 1);

    /* prepared, not idempotent: the server may have run it, so the error is the caller's to handle */
    kill_connection(killer, db);
    CHECK_INT_EQ(db_exec(db, 0, insert, DB_ARGS(db_text("maybe twice"))), -1);
    CHECK(db_error_is_connection_lost(db));
    fprintf(stderr, "non-idempotent statement after KILL: %s\n", db_error(db));
    CHECK_INT_EQ(db_reconnects(db), reconnects + 2);
    /* the next call connects again */
    CHECK_INT_EQ(db_exec(db, 0, insert, DB_ARGS(db_text("after kill"))), 0);
    CHECK_INT_EQ(db_reconnects(db), reconnects + 3);
    CHECK_INT_EQ(count_rows(db, "people"), before + 2);

    /* inside a transaction nothing is retried, and the transaction stays failed until rolled back */
    CHECK_INT_EQ(db_begin(db), 0);
    CHECK_INT_EQ(db_exec(db, 0, insert, DB_ARGS(db_text("in lost transaction"))), 0);
    kill_connection(killer, db);
    CHECK(db_query(db, DB_IDEMPOTENT, select, DB_ARGS(db_int(1))) == NULL);
    CHECK(db_error_is_connection_lost(db));
    CHECK(db_query(db, DB_IDEMPOTENT, select, DB_ARGS(db_int(1))) == NULL);
    CHECK(strstr(db_error(db), "db_rollback") != NULL);
    CHECK_INT_EQ(db_commit(db), -1);
    CHECK_INT_EQ(db_rollback(db), 0);
    CHECK_INT_EQ(count_rows(db, "people"), before + 2);
    CHECK_INT_EQ(db_reconnects(db), reconnects + 4);
}

static void test_connect_errors(void)
{
    struct db_dsn dsn;
    db_dsn_copy(&dsn, &test_dsn);
    free(dsn.password);
    dsn.password = xstrdup("s3cret-Pa55");
    free(dsn.user);
    dsn.user = xstrdup("nobody_here");
    char *err = NULL;
    CHECK(db_connect(&dsn, 2000, &err) == NULL);
    CHECK(err != NULL && strstr(err, "cannot connect to mysql://nobody_here:***@") != NULL);
    CHECK(err != NULL && strstr(err, "1045") != NULL); /* access denied */
    CHECK(err != NULL && strstr(err, "s3cret-Pa55") == NULL);
    fprintf(stderr, "bad user: %s\n", err ? err : "(null)");
    free(err);
    db_dsn_clear(&dsn);

    char *bad = NULL;
    CHECK_INT_EQ(db_dsn_parse("mysql://u:s3cret-Pa55@/db?socket=/nonexistent/mysqld.sock", &dsn, &bad), 0);
    CHECK(db_connect(&dsn, 2000, &err) == NULL);
    CHECK(err != NULL && strstr(err, "2002") != NULL && strstr(err, "s3cret-Pa55") == NULL);
    fprintf(stderr, "no server: %s\n", err ? err : "(null)");
    free(err);
    db_dsn_clear(&dsn);
}

int main(void)
{
    const char *text = getenv("YIWANG_TEST_DSN");
    if (text == NULL || text[0] == '\0') {
        printf("skipped: no YIWANG_TEST_DSN (scripts/test.sh provides a private MariaDB)\n");
        return SKIP_RETURN_CODE;
    }
    db_library_init();
    char *err = NULL;
    struct db_dsn admin_dsn;
    if (db_dsn_parse(text, &admin_dsn, &err) != 0) {
        fprintf(stderr, "YIWANG_TEST_DSN: %s\n", err);
        return 1;
    }
    struct db *admin = db_connect(&admin_dsn, 2000, &err);
    if (admin == NULL) {
        fprintf(stderr, "%s\n", err);
        return 1;
    }
    char *database = xasprintf("yiwang_test_unit_db_%ld", (long)getpid());
    char *create = xasprintf("CREATE DATABASE %s CHARACTER SET utf8mb4", database);
    char *drop = xasprintf("DROP DATABASE IF EXISTS %s", database);
    must(admin, drop);
    must(admin, create);
    db_dsn_copy(&test_dsn, &admin_dsn);
    free(test_dsn.database);
    test_dsn.database = xstrdup(database);

    struct db *db = open_db();
    test_typed_rows(db);
    test_long_values(db);
    test_duplicate_key(db);
    test_transactions(db);
    test_deadlock(db);
    test_script(db);
    test_reconnect(db, admin);
    test_connect_errors();
    db_close(db);

    must(admin, drop);
    db_close(admin);
    db_dsn_clear(&test_dsn);
    db_dsn_clear(&admin_dsn);
    free(database);
    free(create);
    free(drop);
    db_library_end();
    return TEST_REPORT();
}
