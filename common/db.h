/*
 * db.h — MariaDB access: one connection, its prepared statements, typed
 * parameters and typed result rows.
 *
 * Owns: a `struct db` owns one MariaDB connection, a copy of the DSN it was
 * opened with (to reconnect), the prepared statements made on it (cached by
 * their SQL text, so SQL must be a constant with `?` placeholders, never text
 * built from values) and the rows of the last statement it ran. A
 * `struct db_result` belongs to its `struct db` and stays valid until the next
 * call that runs SQL on it (db_query, db_exec, db_begin, ...); callers never
 * free it.
 *
 * Threads: every call blocks on the network. A `struct db` is used by one
 * thread at a time and never on an event loop: worker threads (worker_pool.h)
 * each own one, the control thread and CLI commands open their own. Call
 * db_library_init() once in main() before any thread starts, and
 * db_thread_init()/db_thread_end() in every other thread that uses this module.
 *
 * Connections are opened with utf8mb4, strict SQL mode, time zone +00:00 and
 * the connector's automatic reconnect off: a silent reconnect would lose the
 * prepared statements, an open transaction and session locks without telling
 * anyone. Instead, when the server has gone away (2006, 2013, a killed
 * connection) or no longer knows a statement (1243), this module reconnects,
 * prepares again and retries the statement once, but only when the caller
 * marked it DB_IDEMPOTENT and no transaction is open (or when the connection
 * was found broken while preparing, before anything ran). A statement that
 * may have run before the connection broke is never repeated behind the
 * caller's back. After a failed reconnect, calls fail at once with the same
 * error for a second instead of each waiting out the connect timeout. A
 * connection idle for 30 s is pinged before it is used.
 *
 * Errors: functions return -1 (or NULL) and leave the reason in db_error():
 * the MariaDB error code and message, or a message of our own with code 0.
 * Messages name the user, host and database, never the password. MariaDB's
 * own messages may quote values (a duplicate entry): log them, never send
 * them to clients.
 */
#ifndef YIWANG_COMMON_DB_H
#define YIWANG_COMMON_DB_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* ---- DSN ---------------------------------------------------------------- */

/* A parsed DSN (schemas/json/config.schema.json, database.dsn):
 *   mysql://USER[:PASSWORD]@HOST[:PORT]/DATABASE       HOST a name, an IPv4 address or [IPv6]
 *   mysql://USER[:PASSWORD]@/DATABASE?socket=/path     a unix socket
 * USER, PASSWORD and the socket path are percent-decoded. Every string is owned (db_dsn_clear). */
struct db_dsn {
    char *user;
    char *password; /* "" when none; never logged or put in a message */
    char *host;     /* NULL for a unix socket */
    unsigned port;  /* 3306 unless given; 0 for a unix socket */
    char *socket;   /* NULL for TCP */
    char *database;
};

/* Parses `text` into `out` (which need not be initialised). Returns 0, or -1 with a malloc'ed
 * message in *err (the caller frees it) that never quotes the user or password part. */
int db_dsn_parse(const char *text, struct db_dsn *out, char **err);
void db_dsn_copy(struct db_dsn *dst, const struct db_dsn *src);
void db_dsn_clear(struct db_dsn *dsn);
/* "user@host:port/db" or "user@unix:/path/db" for messages; malloc'ed, no password. */
char *db_dsn_describe(const struct db_dsn *dsn);

/* ---- library and thread set-up ------------------------------------------ */

void db_library_init(void); /* main(), before threads */
void db_library_end(void);  /* main(), after every thread that used a db has ended */
void db_thread_init(void);  /* first thing in a thread that will use a db */
void db_thread_end(void);   /* last thing in that thread */

/* ---- connections ---------------------------------------------------------- */

struct db;

#define DB_DEFAULT_IO_TIMEOUT_MS 10000

struct db_options {
    unsigned connect_timeout_ms; /* rounded up to whole seconds, as the connector counts them */
    unsigned io_timeout_ms;      /* each read or write on the connection; 0 = no limit (migrations) */
};

/* Connects with DB_DEFAULT_IO_TIMEOUT_MS. Returns NULL and a malloc'ed *err on failure. */
struct db *db_connect(const struct db_dsn *dsn, unsigned connect_timeout_ms, char **err);
struct db *db_connect_with(const struct db_dsn *dsn, const struct db_options *options, char **err);
/* Closes the connection (an open transaction is rolled back by the server) and frees everything. NULL is fine. */
void db_close(struct db *db);

/* The server's id for the current connection (what KILL CONNECTION takes); 0 while disconnected. */
unsigned long db_connection_id(const struct db *db);
/* Times this db has connected again after losing its connection. */
unsigned db_reconnects(const struct db *db);

/* ---- errors --------------------------------------------------------------- */

unsigned db_errno(const struct db *db);               /* MariaDB (ER_*, CR_*) code of the last failure; 0 = ours or none */
const char *db_error(const struct db *db);            /* "" when the last call succeeded */
int db_error_is_duplicate_key(const struct db *db);   /* 1062: a UNIQUE or PRIMARY KEY already has that value */
int db_error_is_retryable_txn(const struct db *db);   /* 1213 deadlock / 1205 lock wait timeout: rerun the transaction */
int db_error_is_connection_lost(const struct db *db); /* the connection broke; the statement may or may not have run */
int db_error_is_unavailable(const struct db *db);     /* connection lost, or the server cannot be reached at all */

/* ---- statements ------------------------------------------------------------- */

enum db_param_type {
    DB_PARAM_NULL,
    DB_PARAM_INT,
    DB_PARAM_UINT,
    DB_PARAM_DOUBLE,
    DB_PARAM_TEXT,
    DB_PARAM_BLOB,
};

/* One `?` value. Build them with db_int() etc.: the value is converted to the right C type by the
 * function call, so there is no format string to get wrong. Pointers are borrowed for the call only. */
struct db_param {
    enum db_param_type type;
    union {
        int64_t i;
        uint64_t u;
        double d;
        struct {
            const void *ptr;
            size_t len;
        } bytes;
    } v;
};

static inline struct db_param db_null(void)
{
    return (struct db_param){.type = DB_PARAM_NULL};
}
static inline struct db_param db_int(int64_t i)
{
    return (struct db_param){.type = DB_PARAM_INT, .v.i = i};
}
static inline struct db_param db_uint(uint64_t u)
{
    return (struct db_param){.type = DB_PARAM_UINT, .v.u = u};
}
static inline struct db_param db_double(double d)
{
    return (struct db_param){.type = DB_PARAM_DOUBLE, .v.d = d};
}
/* A NUL-terminated string; NULL is SQL NULL. */
static inline struct db_param db_text(const char *s)
{
    if (s == NULL)
        return db_null();
    return (struct db_param){.type = DB_PARAM_TEXT, .v.bytes = {s, strlen(s)}};
}
static inline struct db_param db_textn(const char *s, size_t len)
{
    return (struct db_param){.type = DB_PARAM_TEXT, .v.bytes = {s, len}};
}
static inline struct db_param db_blob(const void *ptr, size_t len)
{
    return (struct db_param){.type = DB_PARAM_BLOB, .v.bytes = {ptr, len}};
}

/* The parameter list of one call: DB_ARGS(db_text(kid), db_int(n)) or DB_NO_ARGS. Their number must
 * equal the statement's `?` count, or the call fails without running anything. */
#define DB_ARGS(...)                                                                                                               \
    ((const struct db_param[]){__VA_ARGS__}), (sizeof((const struct db_param[]){__VA_ARGS__}) / sizeof(struct db_param))
#define DB_NO_ARGS NULL, 0

enum db_flags {
    /* Running it twice has the same effect as once (a SELECT, an upsert, an UPDATE that sets absolute values):
     * allowed to be retried on a new connection after the old one broke, outside transactions. */
    DB_IDEMPOTENT = 1u << 0,
};

struct db_result;

/* Prepares (or takes from the cache) and runs one statement, and buffers its rows. Returns the rows
 * (none for statements without a result set), or NULL on failure. */
struct db_result *db_query(struct db *db, unsigned flags, const char *sql, const struct db_param *params, size_t num_params);
/* The same for statements whose rows, if any, are not wanted. Returns 0 or -1. */
int db_exec(struct db *db, unsigned flags, const char *sql, const struct db_param *params, size_t num_params);
/* Of the last successful db_exec/db_query: rows an UPDATE matched (CLIENT_FOUND_ROWS, so "found but
 * already so" is not 0), rows inserted or deleted, or rows returned. */
uint64_t db_affected_rows(const struct db *db);
uint64_t db_insert_id(const struct db *db); /* AUTO_INCREMENT value of the last successful INSERT */

/* Runs several `;`-separated statements sent as one text (not prepared; no parameters), e.g. a migration
 * file. Never retried. On failure the message says which statement (1-based) failed; the ones before it
 * have run. Returns 0 or -1. */
int db_exec_script(struct db *db, const char *sql, size_t len);

/* ---- transactions ------------------------------------------------------------- */

/* While a transaction is open nothing is retried: if the connection breaks, the server has rolled the
 * transaction back, every further statement fails, and the caller must db_rollback() (which then just
 * clears the state) before the db is usable again. A failed db_commit() whose connection broke leaves the
 * outcome unknown. */
int db_begin(struct db *db);
/* A read-only transaction whose reads all see the database as it was at this call (InnoDB's read view is taken
 * now, not at the first SELECT): several tables read in it form one consistent picture. End it with db_commit. */
int db_begin_consistent_read(struct db *db);
int db_commit(struct db *db);
int db_rollback(struct db *db);
int db_in_transaction(const struct db *db);

/* ---- result rows ------------------------------------------------------------ */

/* Moves to the next row: 1 = there is one, 0 = no more rows, -1 = error (db_error). */
int db_result_next(struct db_result *res);
size_t db_result_columns(const struct db_result *res);
uint64_t db_result_rows(const struct db_result *res);
const char *db_result_column_name(const struct db_result *res, size_t col); /* NULL if out of range */

/* Getters for the current row. Each returns DB_GET_OK with the value, DB_GET_NULL for SQL NULL (the output
 * is left alone), or DB_GET_ERROR (db_error says why) when the column does not exist, there is no current
 * row, the column's type does not convert, or the value does not fit: nothing is ever silently cut or wrapped. */
enum db_get {
    DB_GET_ERROR = -1,
    DB_GET_OK = 0,
    DB_GET_NULL = 1,
};

int db_result_is_null(const struct db_result *res, size_t col); /* 1, 0, or -1 for a bad column */
/* Integer columns, and DECIMAL values without a fraction. */
enum db_get db_result_int64(struct db_result *res, size_t col, int64_t *out);
enum db_get db_result_uint64(struct db_result *res, size_t col, uint64_t *out);
enum db_get db_result_int(struct db_result *res, size_t col, int *out);
/* FLOAT/DOUBLE, integer and DECIMAL columns. */
enum db_get db_result_double(struct db_result *res, size_t col, double *out);
/* Any column, as text (numbers and dates formatted as MariaDB would): a pointer into the row, valid until the
 * next row, NUL-terminated; `len` (may be NULL) excludes the NUL. Binary data may contain NULs: use the length. */
enum db_get db_result_text(struct db_result *res, size_t col, const char **out, size_t *len);
/* The text copied into buf (size bytes, NUL included); DB_GET_ERROR if it does not fit. */
enum db_get db_result_text_copy(struct db_result *res, size_t col, char *buf, size_t size);
/* A malloc'ed NUL-terminated copy in *out. */
enum db_get db_result_text_dup(struct db_result *res, size_t col, char **out);
/* String and binary columns as bytes (same lifetime as db_result_text). */
enum db_get db_result_blob(struct db_result *res, size_t col, const void **out, size_t *len);
/* DATETIME, TIMESTAMP and DATE as seconds since the epoch (sessions run in UTC; DATETIME values are taken as UTC). */
enum db_get db_result_unix_time(struct db_result *res, size_t col, int64_t *out);

#endif
