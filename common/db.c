/*
 * db.c — MariaDB access over Connector/C prepared statements (contract in db.h).
 *
 * Results are always buffered on the client (mysql_stmt_store_result), so a
 * caller may run another statement while it still holds nothing but copied
 * values, and the server is never left waiting on a slow reader. Output
 * buffers are sized from each column's longest value in the buffered set
 * (STMT_ATTR_UPDATE_MAX_LENGTH); should the connector still report a
 * truncated column, the whole value is fetched again into a larger buffer.
 */
#include "common/db.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <errmsg.h>
#include <mysql.h>
#include <mysqld_error.h>

#include "common/xalloc.h"

/* Prepared statements kept per connection; the least recently used one is closed beyond this. */
#define STMT_CACHE_MAX 128
/* A connection idle longer than this is pinged before use, so that a server-side idle timeout is found
 * before a non-idempotent statement would fail on it. */
#define IDLE_PING_MS 30000
/* After a failed reconnect, calls fail at once for this long (with the same error) rather than each one
 * waiting for the connect timeout while the server is down. */
#define RECONNECT_BACKOFF_MS 1000

/* Strict: refuse bad data instead of storing a "close enough" value. */
#define SESSION_SETUP_SQL                                                                                                          \
    "SET SESSION sql_mode = 'STRICT_ALL_TABLES,NO_ZERO_DATE,NO_ZERO_IN_DATE,ERROR_FOR_DIVISION_BY_ZERO,"                           \
    "NO_ENGINE_SUBSTITUTION,NO_AUTO_CREATE_USER,ONLY_FULL_GROUP_BY', time_zone = '+00:00'"

enum column_kind {
    COLUMN_INT,     /* bound as LONGLONG */
    COLUMN_DOUBLE,  /* FLOAT, DOUBLE */
    COLUMN_TIME,    /* DATE, DATETIME, TIMESTAMP, TIME: bound as MYSQL_TIME */
    COLUMN_DECIMAL, /* bytes holding a decimal number */
    COLUMN_BYTES,   /* strings, blobs, JSON, BIT, ...: bound as bytes */
};

struct column {
    const char *name; /* in the result's metadata */
    enum enum_field_types type;
    enum column_kind kind;
    int is_unsigned;
    unsigned decimals;
    union {
        long long i;
        double d;
        MYSQL_TIME t;
    } num;
    char *buf; /* COLUMN_BYTES / COLUMN_DECIMAL storage, reused across results */
    size_t cap;
    unsigned long length;
    my_bool is_null;
    my_bool truncated;
    char text[64]; /* numbers and times formatted for db_result_text */
};

struct db_result {
    struct db *db;
    struct db_stmt *stmt; /* NULL: no result set */
    MYSQL_RES *meta;
    struct column *columns;
    MYSQL_BIND *binds;
    size_t num_columns;
    size_t capacity;
    uint64_t num_rows;
    int has_row;
};

struct db_stmt {
    struct db_stmt *prev, *next; /* most recently used first */
    uint64_t hash;
    char *sql;
    MYSQL_STMT *stmt;
};

struct db {
    struct db_dsn dsn;
    struct db_options options;
    MYSQL *mysql; /* NULL while disconnected */
    unsigned long connection_id;
    unsigned connects;
    int connect_failed;
    struct timespec connect_failed_at;
    unsigned connect_err_code;
    char connect_err_msg[1024];
    struct timespec last_used;
    int in_transaction;
    unsigned transaction_broken; /* why the server rolled it back (CR_SERVER_LOST, ER_LOCK_DEADLOCK), or 0 */
    struct db_stmt *stmts_head, *stmts_tail;
    size_t num_stmts;
    struct db_result result;
    MYSQL_BIND *param_binds;
    unsigned long *param_lengths;
    size_t param_capacity;
    uint64_t affected_rows;
    uint64_t insert_id;
    unsigned err_code;
    char err_msg[1024];
};

/* ================================================================ library, errors */

void db_library_init(void)
{
    if (mysql_library_init(0, NULL, NULL) != 0) {
        fputs("fatal: cannot initialise the MariaDB client library\n", stderr);
        abort();
    }
}

void db_library_end(void)
{
    mysql_library_end();
}

void db_thread_init(void)
{
    mysql_thread_init();
}

void db_thread_end(void)
{
    mysql_thread_end();
}

static void set_error(struct db *db, unsigned code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void set_error(struct db *db, unsigned code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(db->err_msg, sizeof(db->err_msg), fmt, ap);
    va_end(ap);
    db->err_code = code;
}

static void set_server_error(struct db *db, const char *context, unsigned code, const char *sqlstate, const char *message)
{
    set_error(db, code, "%s%sMariaDB error %u (%s): %s", context, context[0] != '\0' ? ": " : "", code, sqlstate, message);
}

static void set_mysql_error(struct db *db, const char *context)
{
    set_server_error(db, context, mysql_errno(db->mysql), mysql_sqlstate(db->mysql), mysql_error(db->mysql));
}

static void set_stmt_error(struct db *db, MYSQL_STMT *stmt)
{
    set_server_error(db, "", mysql_stmt_errno(stmt), mysql_stmt_sqlstate(stmt), mysql_stmt_error(stmt));
}

static int code_is_connection_lost(unsigned code)
{
    switch (code) {
    case CR_SERVER_GONE_ERROR:
    case CR_SERVER_LOST:
    case CR_SERVER_LOST_EXTENDED:
    case ER_CONNECTION_KILLED:
    case ER_SERVER_SHUTDOWN:
    case ER_UNKNOWN_STMT_HANDLER: /* the server no longer knows our statements: treat the session as gone */
        return 1;
    default:
        return 0;
    }
}

unsigned db_errno(const struct db *db)
{
    return db->err_code;
}

const char *db_error(const struct db *db)
{
    return db->err_msg;
}

int db_error_is_duplicate_key(const struct db *db)
{
    return db->err_code == ER_DUP_ENTRY || db->err_code == ER_DUP_ENTRY_WITH_KEY_NAME;
}

int db_error_is_retryable_txn(const struct db *db)
{
    return db->err_code == ER_LOCK_DEADLOCK || db->err_code == ER_LOCK_WAIT_TIMEOUT;
}

int db_error_is_connection_lost(const struct db *db)
{
    return code_is_connection_lost(db->err_code);
}

int db_error_is_unavailable(const struct db *db)
{
    switch (db->err_code) {
    case CR_CONNECTION_ERROR:
    case CR_CONN_HOST_ERROR:
    case CR_UNKNOWN_HOST:
    case CR_SERVER_HANDSHAKE_ERR:
        return 1;
    default:
        return code_is_connection_lost(db->err_code);
    }
}

/* ================================================================ connections */

static unsigned ms_to_whole_seconds(unsigned ms)
{
    return ms / 1000 + (ms % 1000 != 0);
}

static long long ms_since(const struct timespec *then)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (long long)(now.tv_sec - then->tv_sec) * 1000 + (now.tv_nsec - then->tv_nsec) / 1000000;
}

static void touch(struct db *db)
{
    clock_gettime(CLOCK_MONOTONIC, &db->last_used);
}

static void set_options(MYSQL *m, const struct db_dsn *dsn, const struct db_options *options)
{
    my_bool off = 0, on = 1;
    unsigned connect_s = ms_to_whole_seconds(options->connect_timeout_ms ? options->connect_timeout_ms : 1);
    unsigned io_s = ms_to_whole_seconds(options->io_timeout_ms);
    unsigned no_local_infile = 0;
    unsigned protocol = dsn->socket != NULL ? MYSQL_PROTOCOL_SOCKET : MYSQL_PROTOCOL_TCP;
    mysql_options(m, MYSQL_OPT_RECONNECT, &off);
    mysql_options(m, MYSQL_OPT_CONNECT_TIMEOUT, &connect_s);
    if (io_s != 0) {
        mysql_options(m, MYSQL_OPT_READ_TIMEOUT, &io_s);
        mysql_options(m, MYSQL_OPT_WRITE_TIMEOUT, &io_s);
    }
    mysql_options(m, MYSQL_SET_CHARSET_NAME, "utf8mb4");
    /* "localhost" would otherwise silently mean the default unix socket */
    mysql_options(m, MYSQL_OPT_PROTOCOL, &protocol);
    mysql_options(m, MYSQL_OPT_LOCAL_INFILE, &no_local_infile);
    mysql_options(m, MYSQL_REPORT_DATA_TRUNCATION, &on);
}

static int open_connection(struct db *db)
{
    MYSQL *m = mysql_init(NULL);
    if (m == NULL) {
        fputs("fatal: out of memory in mysql_init\n", stderr);
        abort();
    }
    set_options(m, &db->dsn, &db->options);
    /* CLIENT_FOUND_ROWS: an UPDATE reports the rows it matched, so "not found" and "already so" differ from 0 */
    if (mysql_real_connect(m, db->dsn.host, db->dsn.user, db->dsn.password, db->dsn.database, db->dsn.port, db->dsn.socket,
                           CLIENT_FOUND_ROWS) == NULL ||
        mysql_real_query(m, SESSION_SETUP_SQL, strlen(SESSION_SETUP_SQL)) != 0) {
        char *where = db_dsn_describe(&db->dsn);
        set_server_error(db, "", mysql_errno(m), mysql_sqlstate(m), mysql_error(m));
        char *detail = xstrdup(db->err_msg);
        set_error(db, db->err_code, "cannot connect to %s: %s", where, detail);
        free(detail);
        free(where);
        mysql_close(m);
        db->connect_failed = 1;
        clock_gettime(CLOCK_MONOTONIC, &db->connect_failed_at);
        db->connect_err_code = db->err_code;
        memcpy(db->connect_err_msg, db->err_msg, sizeof(db->connect_err_msg));
        return -1;
    }
    db->connect_failed = 0;
    db->mysql = m;
    db->connection_id = mysql_thread_id(m);
    db->connects++;
    touch(db);
    return 0;
}

static void finish_result(struct db *db)
{
    struct db_result *res = &db->result;
    if (res->stmt != NULL)
        mysql_stmt_free_result(res->stmt->stmt);
    if (res->meta != NULL)
        mysql_free_result(res->meta);
    res->stmt = NULL;
    res->meta = NULL;
    res->num_columns = 0;
    res->num_rows = 0;
    res->has_row = 0;
}

static void free_stmt(struct db_stmt *st)
{
    mysql_stmt_close(st->stmt);
    free(st->sql);
    free(st);
}

/* Drops the connection and every statement prepared on it. The connection is closed first: that
 * detaches the statements, so closing them afterwards sends nothing over a connection that is gone. */
static void disconnect(struct db *db)
{
    finish_result(db);
    if (db->mysql != NULL)
        mysql_close(db->mysql);
    db->mysql = NULL;
    db->connection_id = 0;
    struct db_stmt *st = db->stmts_head;
    while (st != NULL) {
        struct db_stmt *next = st->next;
        free_stmt(st);
        st = next;
    }
    db->stmts_head = db->stmts_tail = NULL;
    db->num_stmts = 0;
    if (db->in_transaction)
        db->transaction_broken = CR_SERVER_LOST;
}

static void set_transaction_broken_error(struct db *db, const char *advice)
{
    set_error(db, db->transaction_broken, "the transaction was rolled back by the server (%s)%s",
              db->transaction_broken == ER_LOCK_DEADLOCK ? "deadlock" : "connection lost", advice);
}

/* Makes sure there is a live connection, reconnecting if allowed. */
static int ensure_connected(struct db *db)
{
    if (db->mysql != NULL && ms_since(&db->last_used) > IDLE_PING_MS && mysql_ping(db->mysql) != 0)
        disconnect(db);
    if (db->transaction_broken) {
        set_transaction_broken_error(db, "; call db_rollback");
        return -1;
    }
    if (db->mysql != NULL)
        return 0;
    if (db->connect_failed && ms_since(&db->connect_failed_at) < RECONNECT_BACKOFF_MS) {
        set_error(db, db->connect_err_code, "%s", db->connect_err_msg);
        return -1;
    }
    return open_connection(db);
}

struct db *db_connect_with(const struct db_dsn *dsn, const struct db_options *options, char **err)
{
    struct db *db = xcalloc(1, sizeof(*db));
    db_dsn_copy(&db->dsn, dsn);
    db->options = *options;
    db->result.db = db;
    if (open_connection(db) != 0) {
        *err = xstrdup(db->err_msg);
        db_close(db);
        return NULL;
    }
    return db;
}

struct db *db_connect(const struct db_dsn *dsn, unsigned connect_timeout_ms, char **err)
{
    struct db_options options = {.connect_timeout_ms = connect_timeout_ms, .io_timeout_ms = DB_DEFAULT_IO_TIMEOUT_MS};
    return db_connect_with(dsn, &options, err);
}

void db_close(struct db *db)
{
    if (db == NULL)
        return;
    disconnect(db);
    struct db_result *res = &db->result;
    for (size_t i = 0; i < res->capacity; i++)
        free(res->columns[i].buf);
    free(res->columns);
    free(res->binds);
    free(db->param_binds);
    free(db->param_lengths);
    db_dsn_clear(&db->dsn);
    free(db);
}

unsigned long db_connection_id(const struct db *db)
{
    return db->connection_id;
}

unsigned db_reconnects(const struct db *db)
{
    return db->connects > 0 ? db->connects - 1 : 0;
}

uint64_t db_affected_rows(const struct db *db)
{
    return db->affected_rows;
}

uint64_t db_insert_id(const struct db *db)
{
    return db->insert_id;
}

int db_in_transaction(const struct db *db)
{
    return db->in_transaction;
}

/* ================================================================ statement cache */

static uint64_t hash_sql(const char *sql)
{
    uint64_t h = 14695981039346656037ull; /* FNV-1a */
    for (const unsigned char *p = (const unsigned char *)sql; *p != '\0'; p++)
        h = (h ^ *p) * 1099511628211ull;
    return h;
}

static void stmt_unlink(struct db *db, struct db_stmt *st)
{
    if (st->prev != NULL)
        st->prev->next = st->next;
    else
        db->stmts_head = st->next;
    if (st->next != NULL)
        st->next->prev = st->prev;
    else
        db->stmts_tail = st->prev;
    st->prev = st->next = NULL;
}

static void stmt_push_front(struct db *db, struct db_stmt *st)
{
    st->next = db->stmts_head;
    if (db->stmts_head != NULL)
        db->stmts_head->prev = st;
    db->stmts_head = st;
    if (db->stmts_tail == NULL)
        db->stmts_tail = st;
}

static struct db_stmt *stmt_prepare(struct db *db, const char *sql, uint64_t hash)
{
    MYSQL_STMT *stmt = mysql_stmt_init(db->mysql);
    if (stmt == NULL) {
        set_mysql_error(db, "");
        return NULL;
    }
    my_bool update_max_length = 1;
    mysql_stmt_attr_set(stmt, STMT_ATTR_UPDATE_MAX_LENGTH, &update_max_length);
    if (mysql_stmt_prepare(stmt, sql, strlen(sql)) != 0) {
        set_stmt_error(db, stmt);
        mysql_stmt_close(stmt);
        return NULL;
    }
    if (db->num_stmts >= STMT_CACHE_MAX) {
        struct db_stmt *oldest = db->stmts_tail;
        stmt_unlink(db, oldest);
        free_stmt(oldest);
        db->num_stmts--;
    }
    struct db_stmt *st = xcalloc(1, sizeof(*st));
    st->hash = hash;
    st->sql = xstrdup(sql);
    st->stmt = stmt;
    stmt_push_front(db, st);
    db->num_stmts++;
    return st;
}

static struct db_stmt *stmt_get(struct db *db, const char *sql)
{
    uint64_t hash = hash_sql(sql);
    for (struct db_stmt *st = db->stmts_head; st != NULL; st = st->next) {
        if (st->hash == hash && strcmp(st->sql, sql) == 0) {
            stmt_unlink(db, st);
            stmt_push_front(db, st);
            return st;
        }
    }
    return stmt_prepare(db, sql, hash);
}

/* ================================================================ parameters */

static void ensure_param_capacity(struct db *db, size_t n)
{
    if (n <= db->param_capacity)
        return;
    db->param_binds = xrealloc(db->param_binds, n * sizeof(*db->param_binds));
    db->param_lengths = xrealloc(db->param_lengths, n * sizeof(*db->param_lengths));
    db->param_capacity = n;
}

static int bind_params(struct db *db, MYSQL_STMT *stmt, const struct db_param *params, size_t n)
{
    static char empty[1];
    ensure_param_capacity(db, n);
    memset(db->param_binds, 0, n * sizeof(*db->param_binds));
    for (size_t i = 0; i < n; i++) {
        MYSQL_BIND *b = &db->param_binds[i];
        const struct db_param *p = &params[i];
        switch (p->type) {
        case DB_PARAM_NULL:
            b->buffer_type = MYSQL_TYPE_NULL;
            break;
        case DB_PARAM_INT:
        case DB_PARAM_UINT:
            /* the connector only reads input buffers */
            b->buffer_type = MYSQL_TYPE_LONGLONG;
            b->buffer = (void *)(p->type == DB_PARAM_INT ? (const void *)&p->v.i : (const void *)&p->v.u);
            b->is_unsigned = p->type == DB_PARAM_UINT;
            break;
        case DB_PARAM_DOUBLE:
            b->buffer_type = MYSQL_TYPE_DOUBLE;
            b->buffer = (void *)&p->v.d;
            break;
        case DB_PARAM_TEXT:
        case DB_PARAM_BLOB:
            b->buffer_type = p->type == DB_PARAM_TEXT ? MYSQL_TYPE_STRING : MYSQL_TYPE_BLOB;
            b->buffer = p->v.bytes.ptr != NULL ? (void *)p->v.bytes.ptr : empty;
            db->param_lengths[i] = p->v.bytes.ptr != NULL ? (unsigned long)p->v.bytes.len : 0;
            b->buffer_length = db->param_lengths[i];
            b->length = &db->param_lengths[i];
            break;
        default:
            set_error(db, 0, "parameter %zu has an unknown type %d", i + 1, (int)p->type);
            return -1;
        }
    }
    if (mysql_stmt_bind_param(stmt, db->param_binds) != 0) {
        set_stmt_error(db, stmt);
        return -1;
    }
    return 0;
}

/* ================================================================ results */

static enum column_kind kind_of(const MYSQL_FIELD *f)
{
    switch (f->type) {
    case MYSQL_TYPE_TINY:
    case MYSQL_TYPE_SHORT:
    case MYSQL_TYPE_LONG:
    case MYSQL_TYPE_INT24:
    case MYSQL_TYPE_LONGLONG:
    case MYSQL_TYPE_YEAR:
        return COLUMN_INT;
    case MYSQL_TYPE_FLOAT:
    case MYSQL_TYPE_DOUBLE:
        return COLUMN_DOUBLE;
    case MYSQL_TYPE_DATE:
    case MYSQL_TYPE_DATETIME:
    case MYSQL_TYPE_TIMESTAMP:
    case MYSQL_TYPE_TIME:
        return COLUMN_TIME;
    case MYSQL_TYPE_DECIMAL:
    case MYSQL_TYPE_NEWDECIMAL:
        return COLUMN_DECIMAL;
    default:
        return COLUMN_BYTES;
    }
}

static void ensure_column_capacity(struct db_result *res, size_t n)
{
    if (n <= res->capacity)
        return;
    res->columns = xrealloc(res->columns, n * sizeof(*res->columns));
    res->binds = xrealloc(res->binds, n * sizeof(*res->binds));
    memset(res->columns + res->capacity, 0, (n - res->capacity) * sizeof(*res->columns));
    res->capacity = n;
}

static void grow_column_buffer(struct column *c, size_t need)
{
    if (need <= c->cap)
        return;
    size_t cap = c->cap < 64 ? 64 : c->cap;
    while (cap < need)
        cap *= 2;
    free(c->buf);
    c->buf = xmalloc(cap);
    c->cap = cap;
}

static void bind_column(struct column *c, MYSQL_BIND *b, const MYSQL_FIELD *f)
{
    c->name = f->name;
    c->type = f->type;
    c->kind = kind_of(f);
    c->is_unsigned = (f->flags & UNSIGNED_FLAG) != 0;
    c->decimals = f->decimals;
    memset(b, 0, sizeof(*b));
    b->is_null = &c->is_null;
    b->error = &c->truncated;
    b->length = &c->length;
    switch (c->kind) {
    case COLUMN_INT:
        b->buffer_type = MYSQL_TYPE_LONGLONG;
        b->buffer = &c->num.i;
        b->is_unsigned = (my_bool)c->is_unsigned;
        break;
    case COLUMN_DOUBLE:
        b->buffer_type = MYSQL_TYPE_DOUBLE;
        b->buffer = &c->num.d;
        break;
    case COLUMN_TIME:
        b->buffer_type = f->type;
        b->buffer = &c->num.t;
        break;
    default:
        /* longest value in the buffered rows, plus room for our NUL */
        grow_column_buffer(c, (size_t)f->max_length + 1);
        b->buffer_type = MYSQL_TYPE_BLOB;
        b->buffer = c->buf;
        b->buffer_length = (unsigned long)(c->cap - 1);
        break;
    }
}

static int bind_result(struct db *db, struct db_stmt *st)
{
    struct db_result *res = &db->result;
    res->meta = mysql_stmt_result_metadata(st->stmt);
    if (res->meta == NULL) {
        set_stmt_error(db, st->stmt);
        return -1;
    }
    size_t n = mysql_num_fields(res->meta);
    const MYSQL_FIELD *fields = mysql_fetch_fields(res->meta);
    ensure_column_capacity(res, n);
    for (size_t i = 0; i < n; i++)
        bind_column(&res->columns[i], &res->binds[i], &fields[i]);
    if (mysql_stmt_bind_result(st->stmt, res->binds) != 0) {
        set_stmt_error(db, st->stmt);
        return -1;
    }
    res->stmt = st;
    res->num_columns = n;
    res->num_rows = mysql_stmt_num_rows(st->stmt);
    return 0;
}

/* The connector said a value did not fit: fetch the whole value of each such column again. */
static int refetch_truncated(struct db_result *res)
{
    MYSQL_STMT *stmt = res->stmt->stmt;
    for (size_t i = 0; i < res->num_columns; i++) {
        struct column *c = &res->columns[i];
        if (!c->truncated)
            continue;
        if (c->kind != COLUMN_BYTES && c->kind != COLUMN_DECIMAL) {
            set_error(res->db, 0, "column %zu (%s): the value does not fit its C type", i, c->name);
            return -1;
        }
        grow_column_buffer(c, (size_t)c->length + 1);
        res->binds[i].buffer = c->buf;
        res->binds[i].buffer_length = (unsigned long)(c->cap - 1);
        if (mysql_stmt_fetch_column(stmt, &res->binds[i], (unsigned)i, 0) != 0) {
            set_stmt_error(res->db, stmt);
            return -1;
        }
        c->truncated = 0;
    }
    /* later rows use the larger buffers */
    if (mysql_stmt_bind_result(stmt, res->binds) != 0) {
        set_stmt_error(res->db, stmt);
        return -1;
    }
    return 0;
}

int db_result_next(struct db_result *res)
{
    res->has_row = 0;
    if (res->stmt == NULL)
        return 0;
    int rc = mysql_stmt_fetch(res->stmt->stmt);
    if (rc == MYSQL_NO_DATA)
        return 0;
    if (rc == 1) {
        set_stmt_error(res->db, res->stmt->stmt);
        return -1;
    }
    if (rc == MYSQL_DATA_TRUNCATED && refetch_truncated(res) != 0)
        return -1;
    for (size_t i = 0; i < res->num_columns; i++) {
        struct column *c = &res->columns[i];
        if ((c->kind == COLUMN_BYTES || c->kind == COLUMN_DECIMAL) && !c->is_null)
            c->buf[c->length] = '\0';
    }
    res->has_row = 1;
    return 1;
}

size_t db_result_columns(const struct db_result *res)
{
    return res->num_columns;
}

uint64_t db_result_rows(const struct db_result *res)
{
    return res->num_rows;
}

const char *db_result_column_name(const struct db_result *res, size_t col)
{
    return col < res->num_columns ? res->columns[col].name : NULL;
}

/* The column of the current row, or NULL with the error set. */
static struct column *current(struct db_result *res, size_t col)
{
    if (!res->has_row) {
        set_error(res->db, 0, "no current row (call db_result_next first)");
        return NULL;
    }
    if (col >= res->num_columns) {
        set_error(res->db, 0, "column %zu does not exist (the result has %zu)", col, res->num_columns);
        return NULL;
    }
    return &res->columns[col];
}

int db_result_is_null(const struct db_result *res, size_t col)
{
    if (!res->has_row || col >= res->num_columns)
        return -1;
    return res->columns[col].is_null != 0;
}

static enum db_get type_error(struct db_result *res, size_t col, const char *wanted)
{
    set_error(res->db, 0, "column %zu (%s) is not %s", col, res->columns[col].name, wanted);
    return DB_GET_ERROR;
}

static enum db_get range_error(struct db_result *res, size_t col, const char *wanted)
{
    set_error(res->db, 0, "column %zu (%s): the value does not fit %s", col, res->columns[col].name, wanted);
    return DB_GET_ERROR;
}

/* A DECIMAL's text as an integer: digits, optionally followed by a fraction of zeros. */
static int decimal_to_int(const char *s, int *negative, uint64_t *magnitude)
{
    *negative = *s == '-';
    if (*s == '-' || *s == '+')
        s++;
    if (*s < '0' || *s > '9')
        return -1;
    errno = 0;
    char *end;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno == ERANGE)
        return -1;
    if (*end == '.')
        for (end++; *end == '0'; end++)
            ;
    if (*end != '\0')
        return -1;
    *magnitude = v;
    return 0;
}

enum db_get db_result_int64(struct db_result *res, size_t col, int64_t *out)
{
    struct column *c = current(res, col);
    if (c == NULL)
        return DB_GET_ERROR;
    if (c->is_null)
        return DB_GET_NULL;
    if (c->kind == COLUMN_INT) {
        if (c->is_unsigned && (unsigned long long)c->num.i > INT64_MAX)
            return range_error(res, col, "int64_t");
        *out = c->num.i;
        return DB_GET_OK;
    }
    if (c->kind != COLUMN_DECIMAL)
        return type_error(res, col, "an integer");
    int negative;
    uint64_t magnitude;
    if (decimal_to_int(c->buf, &negative, &magnitude) != 0)
        return type_error(res, col, "a whole number");
    if (magnitude > (uint64_t)INT64_MAX + (negative ? 1 : 0))
        return range_error(res, col, "int64_t");
    *out = negative ? (int64_t)(0 - magnitude) : (int64_t)magnitude;
    return DB_GET_OK;
}

enum db_get db_result_uint64(struct db_result *res, size_t col, uint64_t *out)
{
    struct column *c = current(res, col);
    if (c == NULL)
        return DB_GET_ERROR;
    if (c->is_null)
        return DB_GET_NULL;
    if (c->kind == COLUMN_INT) {
        if (!c->is_unsigned && c->num.i < 0)
            return range_error(res, col, "uint64_t");
        *out = (uint64_t)c->num.i;
        return DB_GET_OK;
    }
    if (c->kind != COLUMN_DECIMAL)
        return type_error(res, col, "an integer");
    int negative;
    uint64_t magnitude;
    if (decimal_to_int(c->buf, &negative, &magnitude) != 0)
        return type_error(res, col, "a whole number");
    if (negative && magnitude != 0)
        return range_error(res, col, "uint64_t");
    *out = magnitude;
    return DB_GET_OK;
}

enum db_get db_result_int(struct db_result *res, size_t col, int *out)
{
    int64_t v;
    enum db_get rc = db_result_int64(res, col, &v);
    if (rc != DB_GET_OK)
        return rc;
    if (v < INT_MIN || v > INT_MAX)
        return range_error(res, col, "int");
    *out = (int)v;
    return DB_GET_OK;
}

enum db_get db_result_double(struct db_result *res, size_t col, double *out)
{
    struct column *c = current(res, col);
    if (c == NULL)
        return DB_GET_ERROR;
    if (c->is_null)
        return DB_GET_NULL;
    switch (c->kind) {
    case COLUMN_DOUBLE:
        *out = c->num.d;
        return DB_GET_OK;
    case COLUMN_INT:
        *out = c->is_unsigned ? (double)(unsigned long long)c->num.i : (double)c->num.i;
        return DB_GET_OK;
    case COLUMN_DECIMAL:
        *out = strtod(c->buf, NULL);
        return DB_GET_OK;
    default:
        return type_error(res, col, "a number");
    }
}

static void format_time(struct column *c)
{
    const MYSQL_TIME *t = &c->num.t;
    int n;
    if (c->type == MYSQL_TYPE_TIME)
        n = snprintf(c->text, sizeof(c->text), "%s%02u:%02u:%02u", t->neg ? "-" : "", t->hour, t->minute, t->second);
    else if (c->type == MYSQL_TYPE_DATE)
        n = snprintf(c->text, sizeof(c->text), "%04u-%02u-%02u", t->year, t->month, t->day);
    else
        n = snprintf(c->text, sizeof(c->text), "%04u-%02u-%02u %02u:%02u:%02u", t->year, t->month, t->day, t->hour, t->minute,
                     t->second);
    if (c->type != MYSQL_TYPE_DATE && c->decimals > 0 && c->decimals <= 6 && n > 0 && (size_t)n < sizeof(c->text)) {
        char fraction[8];
        snprintf(fraction, sizeof(fraction), "%06lu", t->second_part % 1000000);
        snprintf(c->text + n, sizeof(c->text) - (size_t)n, ".%.*s", (int)c->decimals, fraction);
    }
}

static void format_double(struct column *c)
{
    /* the shortest form that reads back as the same double */
    snprintf(c->text, sizeof(c->text), "%.15g", c->num.d);
    if (strtod(c->text, NULL) != c->num.d)
        snprintf(c->text, sizeof(c->text), "%.17g", c->num.d);
}

enum db_get db_result_text(struct db_result *res, size_t col, const char **out, size_t *len)
{
    struct column *c = current(res, col);
    if (c == NULL)
        return DB_GET_ERROR;
    if (c->is_null)
        return DB_GET_NULL;
    switch (c->kind) {
    case COLUMN_INT:
        if (c->is_unsigned)
            snprintf(c->text, sizeof(c->text), "%llu", (unsigned long long)c->num.i);
        else
            snprintf(c->text, sizeof(c->text), "%lld", c->num.i);
        break;
    case COLUMN_DOUBLE:
        format_double(c);
        break;
    case COLUMN_TIME:
        format_time(c);
        break;
    default:
        *out = c->buf;
        if (len != NULL)
            *len = c->length;
        return DB_GET_OK;
    }
    *out = c->text;
    if (len != NULL)
        *len = strlen(c->text);
    return DB_GET_OK;
}

enum db_get db_result_text_copy(struct db_result *res, size_t col, char *buf, size_t size)
{
    const char *text;
    size_t len;
    enum db_get rc = db_result_text(res, col, &text, &len);
    if (rc != DB_GET_OK)
        return rc;
    if (len >= size) {
        set_error(res->db, 0, "column %zu (%s): %zu bytes do not fit a buffer of %zu", col, res->columns[col].name, len, size);
        return DB_GET_ERROR;
    }
    memcpy(buf, text, len);
    buf[len] = '\0';
    return DB_GET_OK;
}

enum db_get db_result_text_dup(struct db_result *res, size_t col, char **out)
{
    const char *text;
    size_t len;
    enum db_get rc = db_result_text(res, col, &text, &len);
    if (rc == DB_GET_OK)
        *out = xstrndup(text, len);
    return rc;
}

enum db_get db_result_blob(struct db_result *res, size_t col, const void **out, size_t *len)
{
    struct column *c = current(res, col);
    if (c == NULL)
        return DB_GET_ERROR;
    if (c->is_null)
        return DB_GET_NULL;
    if (c->kind != COLUMN_BYTES)
        return type_error(res, col, "a string or binary column");
    *out = c->buf;
    *len = c->length;
    return DB_GET_OK;
}

enum db_get db_result_unix_time(struct db_result *res, size_t col, int64_t *out)
{
    struct column *c = current(res, col);
    if (c == NULL)
        return DB_GET_ERROR;
    if (c->is_null)
        return DB_GET_NULL;
    if (c->kind != COLUMN_TIME || c->type == MYSQL_TYPE_TIME)
        return type_error(res, col, "a DATE, DATETIME or TIMESTAMP");
    struct tm tm = {.tm_year = (int)c->num.t.year - 1900,
                    .tm_mon = (int)c->num.t.month - 1,
                    .tm_mday = (int)c->num.t.day,
                    .tm_hour = (int)c->num.t.hour,
                    .tm_min = (int)c->num.t.minute,
                    .tm_sec = (int)c->num.t.second};
    *out = (int64_t)timegm(&tm);
    return DB_GET_OK;
}

/* ================================================================ running statements */

/* Runs a prepared statement. *sent tells whether it reached the point where the server may have run it. */
static int execute(struct db *db, struct db_stmt *st, const struct db_param *params, size_t n, int *sent)
{
    MYSQL_STMT *stmt = st->stmt;
    unsigned long placeholders = mysql_stmt_param_count(stmt);
    if (placeholders != n) {
        set_error(db, 0, "the statement has %lu placeholders but %zu values were given", placeholders, n);
        return -1;
    }
    if (n > 0 && bind_params(db, stmt, params, n) != 0)
        return -1;
    *sent = 1;
    if (mysql_stmt_execute(stmt) != 0) {
        set_stmt_error(db, stmt);
        return -1;
    }
    db->insert_id = mysql_stmt_insert_id(stmt);
    if (mysql_stmt_field_count(stmt) == 0) {
        db->affected_rows = mysql_stmt_affected_rows(stmt);
        return 0;
    }
    if (mysql_stmt_store_result(stmt) != 0) {
        set_stmt_error(db, stmt);
        return -1;
    }
    if (bind_result(db, st) != 0)
        return -1;
    db->affected_rows = db->result.num_rows;
    return 0;
}

static void begin_call(struct db *db)
{
    finish_result(db);
    db->err_code = 0;
    db->err_msg[0] = '\0';
}

/* After a failure inside a transaction: is the transaction still there? A deadlock rolls back the whole
 * transaction (unlike a lock wait timeout or a duplicate key, which undo one statement). */
static void note_transaction_failure(struct db *db)
{
    if (db->in_transaction && db->err_code == ER_LOCK_DEADLOCK)
        db->transaction_broken = ER_LOCK_DEADLOCK;
}

static struct db_result *run(struct db *db, unsigned flags, const char *sql, const struct db_param *params, size_t n)
{
    begin_call(db);
    for (int attempt = 0;; attempt++) {
        if (ensure_connected(db) != 0)
            return NULL;
        int sent = 0;
        struct db_stmt *st = stmt_get(db, sql);
        if (st != NULL && execute(db, st, params, n, &sent) == 0) {
            touch(db);
            return &db->result;
        }
        finish_result(db);
        if (!code_is_connection_lost(db->err_code)) {
            note_transaction_failure(db);
            return NULL;
        }
        disconnect(db);
        /* Before execution nothing has run, so preparing again on a new connection is always safe. */
        if (attempt > 0 || db->in_transaction || (sent && !(flags & DB_IDEMPOTENT)))
            return NULL;
    }
}

struct db_result *db_query(struct db *db, unsigned flags, const char *sql, const struct db_param *params, size_t num_params)
{
    return run(db, flags, sql, params, num_params);
}

int db_exec(struct db *db, unsigned flags, const char *sql, const struct db_param *params, size_t num_params)
{
    if (run(db, flags, sql, params, num_params) == NULL)
        return -1;
    finish_result(db);
    return 0;
}

/* Drains the results of a multi-statement text; returns 0, or -1 with the error naming the statement. */
static int drain_script_results(struct db *db, int rc)
{
    MYSQL *m = db->mysql;
    for (unsigned n = 1;; n++) {
        if (rc != 0) {
            char context[32];
            snprintf(context, sizeof(context), "statement %u", n);
            set_mysql_error(db, context);
            return -1;
        }
        MYSQL_RES *r = mysql_store_result(m);
        if (r != NULL)
            mysql_free_result(r);
        db->affected_rows = mysql_affected_rows(m);
        rc = mysql_next_result(m);
        if (rc == -1)
            return 0;
    }
}

int db_exec_script(struct db *db, const char *sql, size_t len)
{
    begin_call(db);
    if (ensure_connected(db) != 0)
        return -1;
    /* Only for this text: several statements in one query must never be possible for ordinary SQL. */
    if (mysql_set_server_option(db->mysql, MYSQL_OPTION_MULTI_STATEMENTS_ON) != 0) {
        set_mysql_error(db, "");
    } else {
        int rc = drain_script_results(db, mysql_real_query(db->mysql, sql, (unsigned long)len));
        if (mysql_set_server_option(db->mysql, MYSQL_OPTION_MULTI_STATEMENTS_OFF) != 0 && rc == 0)
            set_mysql_error(db, "");
        else if (rc == 0) {
            touch(db);
            return 0;
        }
    }
    if (code_is_connection_lost(db->err_code))
        disconnect(db);
    else
        note_transaction_failure(db);
    return -1;
}

/* ================================================================ transactions */

static int begin_transaction(struct db *db, const char *statement)
{
    begin_call(db);
    if (db->in_transaction) {
        set_error(db, 0, "a transaction is already open");
        return -1;
    }
    /* nothing has happened yet, so a connection found dead here is simply replaced */
    for (int attempt = 0;; attempt++) {
        if (ensure_connected(db) != 0)
            return -1;
        if (mysql_real_query(db->mysql, statement, strlen(statement)) == 0) {
            db->in_transaction = 1;
            db->transaction_broken = 0;
            touch(db);
            return 0;
        }
        set_mysql_error(db, "");
        if (!code_is_connection_lost(db->err_code) || attempt > 0)
            return -1;
        disconnect(db);
    }
}

int db_begin(struct db *db)
{
    return begin_transaction(db, "START TRANSACTION");
}

int db_begin_consistent_read(struct db *db)
{
    return begin_transaction(db, "START TRANSACTION READ ONLY, WITH CONSISTENT SNAPSHOT");
}

int db_commit(struct db *db)
{
    begin_call(db);
    if (!db->in_transaction) {
        set_error(db, 0, "no transaction is open");
        return -1;
    }
    if (db->transaction_broken || db->mysql == NULL) {
        if (!db->transaction_broken)
            db->transaction_broken = CR_SERVER_LOST;
        set_transaction_broken_error(db, "");
        db->in_transaction = 0;
        db->transaction_broken = 0;
        return -1;
    }
    if (mysql_commit(db->mysql) == 0) {
        db->in_transaction = 0;
        touch(db);
        return 0;
    }
    set_mysql_error(db, "COMMIT");
    db->in_transaction = db->transaction_broken = 0;
    if (code_is_connection_lost(db->err_code)) {
        disconnect(db); /* whether it committed is unknown */
    } else {
        mysql_rollback(db->mysql); /* whatever is left of it */
    }
    return -1;
}

int db_rollback(struct db *db)
{
    begin_call(db);
    if (!db->in_transaction)
        return 0;
    int broken = db->transaction_broken || db->mysql == NULL;
    db->in_transaction = db->transaction_broken = 0;
    if (broken)
        return 0; /* the server has already rolled it back */
    if (mysql_rollback(db->mysql) == 0) {
        touch(db);
        return 0;
    }
    set_mysql_error(db, "ROLLBACK");
    if (code_is_connection_lost(db->err_code)) {
        disconnect(db); /* a lost connection rolls back too */
        return 0;
    }
    return -1;
}
