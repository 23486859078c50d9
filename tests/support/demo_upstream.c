/*
 * demo_upstream.c — yiwang-demo-upstream, a stand-in for a department service
 * (人社, 税务, ...) used by the demo and by the integration tests.
 *
 *   yiwang-demo-upstream --listen 127.0.0.1:9101 --name hrss [--access-log]
 *                        [--keepalive-timeout-ms N]
 *
 * Every request is answered with a JSON echo of what arrived (method, raw
 * target, every header, body length and SHA-256), so a test can see exactly
 * what the gateway forwarded. Query parameters make it misbehave on purpose:
 * sleep_ms, status, bytes/chunk/chunk_delay_ms, close, garbage, header_bytes.
 * /healthz, /__health/{down,up}, /__stats and /__stats/reset are control
 * endpoints for health-check and "did it reach the upstream" tests.
 *
 * Why HTTP/1.1 is parsed here instead of using h2o's request handlers: the
 * echo must show headers h2o's server would swallow (host, content-length,
 * transfer-encoding, expect, upgrade), and close=1/garbage=1 need to own the
 * socket, which h2o's server API does not allow. libh2o-evloop still does the
 * event loop, accepting and buffered non-blocking I/O.
 *
 * Single-threaded: every function runs on the one event loop.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <h2o/linklist.h>
#include <h2o/memory.h>
#include <h2o/socket.h>
#include <h2o/socket/evloop.h>
#include <jansson.h>
#include <openssl/evp.h>

#define MAX_HEAD_BYTES (64 * 1024)         /* request line + headers; 431 beyond */
#define MAX_CHUNK_LINE_BYTES 4096          /* chunk-size line or one trailer line */
#define MAX_TRAILER_BYTES (64 * 1024)      /* all trailer lines together */
#define MAX_DELAY_MS (3600u * 1000u)       /* sleep_ms, chunk_delay_ms */
#define MAX_STREAM_BYTES (1ull << 40)      /* bytes= */
#define MAX_CHUNK_BYTES (16 * 1024 * 1024) /* chunk= */
#define MAX_FILLER_BYTES (8 * 1024 * 1024) /* header_bytes= */
#define DEFAULT_CHUNK_BYTES 16384
#define DEFAULT_KEEPALIVE_MS 60000
#define MAX_LOOP_WAIT_MS 200 /* bounds how long a signal may go unnoticed */
#define FILL_BYTES 65536     /* size of the shared buffer of 'x' used for streamed bodies */

enum conn_state { CONN_READ_HEAD, CONN_READ_BODY, CONN_RESPONDING };
enum body_mode { BODY_NONE, BODY_LENGTH, BODY_CHUNKED };
enum chunk_state { CHUNK_SIZE_LINE, CHUNK_DATA, CHUNK_DATA_END, CHUNK_TRAILER };
enum timer_kind { TIMER_NONE, TIMER_IDLE, TIMER_SLEEP, TIMER_CHUNK_DELAY };
/* What to do once the write in flight has completed. */
enum after_write { AFTER_CONTINUE, AFTER_RESPONSE, AFTER_STREAM, AFTER_CLOSE };

struct query {
    uint64_t sleep_ms;
    unsigned status; /* 0 = not given */
    int has_bytes;
    uint64_t bytes;
    uint64_t chunk;
    uint64_t chunk_delay_ms;
    int close;
    int garbage;
    int has_filler;
    uint64_t header_bytes;
};

struct request {
    char *method;
    char *target;      /* raw request target, query included */
    size_t path_len;   /* length of target up to '?' */
    int minor_version; /* HTTP/1.<minor> */
    json_t *headers;   /* lower-case name -> value, repeated headers joined */
    int keep_alive;
    int expect_continue;
    int head_only; /* HEAD: headers as for GET, no body */
    enum body_mode body_mode;
    uint64_t body_remaining; /* BODY_LENGTH: bytes still to read */
    enum chunk_state chunk_state;
    uint64_t chunk_remaining;
    size_t trailer_bytes;
    uint64_t body_bytes;
    struct query query;
    unsigned status; /* final status answered, for the access log */
};

struct conn {
    h2o_linklist_t link; /* in server.conns */
    h2o_socket_t *sock;
    enum conn_state state;
    size_t head_scanned; /* bytes of input already searched for the end of the head */
    struct request req;
    EVP_MD_CTX *sha256; /* reused for every request on the connection */
    /* timer: at most one per connection, since idle, sleep and chunk delays never overlap */
    enum timer_kind timer_kind;
    uint64_t deadline_ms;
    size_t heap_index;
    /* output */
    int writing;
    enum after_write after_write;
    int respond_when_written; /* response became due while "100 Continue" was in flight */
    int close_after_response;
    char *out; /* malloc'd bytes of the write in flight */
    /* streamed body (bytes=) */
    uint64_t stream_left;
    size_t stream_chunk;
    uint64_t stream_delay_ms;
    int stream_chunked; /* HTTP/1.1: chunked framing; HTTP/1.0: raw bytes then close */
    char chunk_head[32];
};

struct timer_heap {
    struct conn **items;
    size_t size;
    size_t capacity;
};

static struct {
    h2o_evloop_t *loop;
    h2o_socket_t *listener;
    const char *name;
    char listen_text[INET6_ADDRSTRLEN + 16];
    unsigned keepalive_ms;
    int access_log;
    int healthy;
    uint64_t requests;
    uint64_t healthz_requests;
    uint64_t connections_accepted;
    uint64_t connections_open;
    h2o_linklist_t conns;
    struct timer_heap timers;
    EVP_MD *sha256_md;
    char fill[FILL_BYTES];
} server;

static volatile sig_atomic_t stop_requested;

static void conn_close(struct conn *conn);
static void handle_input(struct conn *conn);
static void respond_now(struct conn *conn);
static void stream_write_next(struct conn *conn, char *head, size_t head_len);

/* ---- small helpers ---- */

static void *xmalloc(size_t n)
{
    void *p = malloc(n == 0 ? 1 : n);
    if (p == NULL) {
        fputs("yiwang-demo-upstream: out of memory\n", stderr);
        abort();
    }
    return p;
}

static char *xstrndup(const char *s, size_t n)
{
    char *p = xmalloc(n + 1);
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* A growable byte buffer for response heads and bodies. */
struct buf {
    char *data;
    size_t len;
    size_t cap;
};

static void buf_reserve(struct buf *b, size_t extra)
{
    if (b->len + extra + 1 <= b->cap)
        return;
    size_t cap = b->cap == 0 ? 512 : b->cap;
    while (cap < b->len + extra + 1)
        cap *= 2;
    char *p = realloc(b->data, cap);
    if (p == NULL) {
        fputs("yiwang-demo-upstream: out of memory\n", stderr);
        abort();
    }
    b->data = p;
    b->cap = cap;
}

static void buf_append(struct buf *b, const char *s, size_t n)
{
    buf_reserve(b, n);
    memcpy(b->data + b->len, s, n);
    b->len += n;
    b->data[b->len] = '\0';
}

__attribute__((format(printf, 2, 3))) static void buf_printf(struct buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    buf_reserve(b, (size_t)n);
    va_start(ap, fmt);
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

/* Jansson rejects invalid UTF-8; header values may carry obs-text, so such
 * values are reported as if they were Latin-1 rather than dropped. */
static json_t *json_from_bytes(const char *s, size_t n)
{
    json_t *j = json_stringn(s, n);
    if (j != NULL)
        return j;
    char *utf8 = xmalloc(n * 2 + 1);
    size_t o = 0;
    for (size_t i = 0; i != n; ++i) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x80) {
            utf8[o++] = (char)c;
        } else {
            utf8[o++] = (char)(0xc0 | (c >> 6));
            utf8[o++] = (char)(0x80 | (c & 0x3f));
        }
    }
    j = json_stringn(utf8, o);
    free(utf8);
    return j != NULL ? j : json_string("");
}

static const char *reason_phrase(unsigned status)
{
    switch (status) {
    case 100:
        return "Continue";
    case 200:
        return "OK";
    case 201:
        return "Created";
    case 202:
        return "Accepted";
    case 204:
        return "No Content";
    case 301:
        return "Moved Permanently";
    case 302:
        return "Found";
    case 304:
        return "Not Modified";
    case 400:
        return "Bad Request";
    case 401:
        return "Unauthorized";
    case 403:
        return "Forbidden";
    case 404:
        return "Not Found";
    case 405:
        return "Method Not Allowed";
    case 408:
        return "Request Timeout";
    case 413:
        return "Content Too Large";
    case 429:
        return "Too Many Requests";
    case 431:
        return "Request Header Fields Too Large";
    case 500:
        return "Internal Server Error";
    case 501:
        return "Not Implemented";
    case 502:
        return "Bad Gateway";
    case 503:
        return "Service Unavailable";
    case 504:
        return "Gateway Timeout";
    case 505:
        return "HTTP Version Not Supported";
    default:
        return "Status";
    }
}

/* ---- timers: one binary min-heap of connections ordered by deadline ----
 * h2o 2.2.5's h2o_timeout_t has one fixed duration per queue, while sleep_ms
 * and chunk_delay_ms take any value, so deadlines are kept here and the main
 * loop bounds epoll's wait by the earliest one. */

static void heap_place(size_t i, struct conn *c)
{
    server.timers.items[i] = c;
    c->heap_index = i;
}

static void heap_sift_up(size_t i)
{
    struct conn *c = server.timers.items[i];
    while (i > 0) {
        size_t parent = (i - 1) / 2;
        if (server.timers.items[parent]->deadline_ms <= c->deadline_ms)
            break;
        heap_place(i, server.timers.items[parent]);
        i = parent;
    }
    heap_place(i, c);
}

static void heap_sift_down(size_t i)
{
    struct timer_heap *h = &server.timers;
    struct conn *c = h->items[i];
    for (;;) {
        size_t child = 2 * i + 1;
        if (child >= h->size)
            break;
        if (child + 1 < h->size && h->items[child + 1]->deadline_ms < h->items[child]->deadline_ms)
            ++child;
        if (c->deadline_ms <= h->items[child]->deadline_ms)
            break;
        heap_place(i, h->items[child]);
        i = child;
    }
    heap_place(i, c);
}

static void timer_clear(struct conn *conn)
{
    struct timer_heap *h = &server.timers;
    if (conn->timer_kind == TIMER_NONE)
        return;
    size_t i = conn->heap_index;
    struct conn *last = h->items[--h->size];
    if (i != h->size) {
        heap_place(i, last);
        heap_sift_down(i);
        heap_sift_up(last->heap_index);
    }
    conn->timer_kind = TIMER_NONE;
    conn->heap_index = SIZE_MAX;
}

static void timer_set(struct conn *conn, enum timer_kind kind, uint64_t delay_ms)
{
    struct timer_heap *h = &server.timers;
    timer_clear(conn);
    if (h->size == h->capacity) {
        size_t cap = h->capacity == 0 ? 64 : h->capacity * 2;
        struct conn **items = realloc(h->items, cap * sizeof(*items));
        if (items == NULL) {
            fputs("yiwang-demo-upstream: out of memory\n", stderr);
            abort();
        }
        h->items = items;
        h->capacity = cap;
    }
    conn->timer_kind = kind;
    conn->deadline_ms = now_ms() + delay_ms;
    h->items[h->size] = conn;
    heap_sift_up(h->size++);
}

static void on_timer(struct conn *conn, enum timer_kind kind)
{
    switch (kind) {
    case TIMER_IDLE:
        conn_close(conn);
        break;
    case TIMER_SLEEP:
        respond_now(conn);
        break;
    case TIMER_CHUNK_DELAY:
        stream_write_next(conn, NULL, 0);
        break;
    case TIMER_NONE:
        break;
    }
}

/* Fires every due timer; returns whether any fired. */
static int run_due_timers(void)
{
    struct timer_heap *h = &server.timers;
    uint64_t now = now_ms();
    int fired = 0;
    while (h->size != 0 && h->items[0]->deadline_ms <= now) {
        struct conn *conn = h->items[0];
        enum timer_kind kind = conn->timer_kind;
        timer_clear(conn);
        on_timer(conn, kind);
        fired = 1;
    }
    return fired;
}

static int32_t next_wait_ms(void)
{
    if (server.timers.size == 0)
        return MAX_LOOP_WAIT_MS;
    uint64_t now = now_ms(), at = server.timers.items[0]->deadline_ms;
    if (at <= now)
        return 0;
    return at - now < MAX_LOOP_WAIT_MS ? (int32_t)(at - now) : MAX_LOOP_WAIT_MS;
}

/* ---- connections and writes ---- */

static void request_reset(struct request *req)
{
    free(req->method);
    free(req->target);
    json_decref(req->headers);
    memset(req, 0, sizeof(*req));
}

static void conn_close(struct conn *conn)
{
    timer_clear(conn);
    h2o_linklist_unlink(&conn->link);
    /* disposing the socket discards a write in flight, so `out` can go too */
    h2o_socket_close(conn->sock);
    request_reset(&conn->req);
    EVP_MD_CTX_free(conn->sha256);
    free(conn->out);
    free(conn);
    server.connections_open--;
}

static void on_read(h2o_socket_t *sock, const char *err);

static void on_write_done(h2o_socket_t *sock, const char *err)
{
    struct conn *conn = sock->data;
    free(conn->out);
    conn->out = NULL;
    conn->writing = 0;
    if (err != NULL) {
        conn_close(conn);
        return;
    }
    switch (conn->after_write) {
    case AFTER_CONTINUE:
        if (conn->respond_when_written) {
            conn->respond_when_written = 0;
            respond_now(conn);
        }
        break;
    case AFTER_STREAM:
        /* the delay runs from the moment a chunk is out, so a slow reader never has two writes in flight */
        if (conn->stream_delay_ms != 0)
            timer_set(conn, TIMER_CHUNK_DELAY, conn->stream_delay_ms);
        else
            stream_write_next(conn, NULL, 0);
        break;
    case AFTER_CLOSE:
        conn_close(conn);
        break;
    case AFTER_RESPONSE:
        if (conn->close_after_response) {
            conn_close(conn);
            break;
        }
        /* keep-alive: wait for the next request, which may already be buffered (pipelining) */
        request_reset(&conn->req);
        conn->state = CONN_READ_HEAD;
        conn->head_scanned = 0;
        timer_set(conn, TIMER_IDLE, server.keepalive_ms);
        h2o_socket_read_start(conn->sock, on_read);
        handle_input(conn);
        break;
    }
}

/* Writes `len` bytes of `data` (malloc'd, owned from now on) and remembers what comes next. */
static void conn_write(struct conn *conn, char *data, size_t len, enum after_write next)
{
    h2o_iovec_t iov = h2o_iovec_init(data, len);
    conn->out = data;
    conn->writing = 1;
    conn->after_write = next;
    h2o_socket_write(conn->sock, &iov, 1, on_write_done);
}

static void append_head(struct buf *b, struct conn *conn, unsigned status, const char *content_type)
{
    buf_printf(b, "HTTP/1.1 %u %s\r\n", status, reason_phrase(status));
    if (content_type != NULL)
        buf_printf(b, "Content-Type: %s\r\n", content_type);
    buf_printf(b, "X-Upstream: %s\r\n", server.name);
    if (conn->close_after_response)
        buf_append(b, H2O_STRLIT("Connection: close\r\n"));
    else if (conn->req.minor_version == 0)
        buf_append(b, H2O_STRLIT("Connection: keep-alive\r\n"));
    if (conn->req.query.has_filler) {
        size_t n = (size_t)conn->req.query.header_bytes;
        buf_append(b, H2O_STRLIT("X-Filler: "));
        buf_reserve(b, n);
        memset(b->data + b->len, 'x', n);
        b->len += n;
        b->data[b->len] = '\0';
        buf_append(b, H2O_STRLIT("\r\n"));
    }
}

static void log_request(struct conn *conn)
{
    if (!server.access_log)
        return;
    printf("%s %s %s %u %" PRIu64 "\n", server.name, conn->req.method != NULL ? conn->req.method : "-",
           conn->req.target != NULL ? conn->req.target : "-", conn->req.status, conn->req.body_bytes);
}

/* Sends a complete response whose body is `body` (may be NULL) and then goes on per keep-alive. */
static void send_response(struct conn *conn, unsigned status, const char *content_type, const char *body, size_t body_len)
{
    struct buf b = {0};
    int no_body = status == 204 || status == 304;
    conn->req.status = status;
    append_head(&b, conn, status, no_body ? NULL : content_type);
    if (!no_body)
        buf_printf(&b, "Content-Length: %zu\r\n", body_len);
    buf_append(&b, H2O_STRLIT("\r\n"));
    if (!no_body && !conn->req.head_only && body_len != 0)
        buf_append(&b, body, body_len);
    log_request(conn);
    conn_write(conn, b.data, b.len, AFTER_RESPONSE);
}

static void send_json(struct conn *conn, unsigned status, json_t *body)
{
    char *text = json_dumps(body, JSON_COMPACT);
    json_decref(body);
    /* json_dumps fails only without memory or on a NULL value; answer with an empty body then */
    send_response(conn, status, "application/json", text != NULL ? text : "", text != NULL ? strlen(text) : 0);
    free(text);
}

/* Answers a request that could not be parsed and closes: the stream position is unknown. */
static void send_error_and_close(struct conn *conn, unsigned status, const char *message)
{
    if (conn->writing) {
        conn_close(conn);
        return;
    }
    conn->state = CONN_RESPONDING;
    timer_clear(conn);
    h2o_socket_read_stop(conn->sock);
    conn->close_after_response = 1;
    send_json(conn, status, json_pack("{s:s}", "error", message));
}

/* ---- streamed bodies (bytes=N) ---- */

static void stream_write_next(struct conn *conn, char *head, size_t head_len)
{
    size_t n = conn->stream_left < conn->stream_chunk ? (size_t)conn->stream_left : conn->stream_chunk;
    int last = conn->stream_left == n;
    size_t max_iov = 4 + (n + FILL_BYTES - 1) / FILL_BYTES;
    h2o_iovec_t *iov = xmalloc(max_iov * sizeof(*iov));
    size_t cnt = 0;

    if (head != NULL)
        iov[cnt++] = h2o_iovec_init(head, head_len);
    if (conn->stream_chunked && n != 0) {
        int l = snprintf(conn->chunk_head, sizeof(conn->chunk_head), "%zx\r\n", n);
        iov[cnt++] = h2o_iovec_init(conn->chunk_head, (size_t)l);
    }
    for (size_t left = n; left != 0;) {
        size_t piece = left < FILL_BYTES ? left : FILL_BYTES;
        iov[cnt++] = h2o_iovec_init(server.fill, piece);
        left -= piece;
    }
    if (conn->stream_chunked) {
        if (n != 0 && last)
            iov[cnt++] = h2o_iovec_init(H2O_STRLIT("\r\n0\r\n\r\n"));
        else if (n != 0)
            iov[cnt++] = h2o_iovec_init(H2O_STRLIT("\r\n"));
        else
            iov[cnt++] = h2o_iovec_init(H2O_STRLIT("0\r\n\r\n"));
    }
    conn->stream_left -= n;
    conn->out = head; /* the body pieces are static; only the head is owned */
    conn->writing = 1;
    conn->after_write = last ? AFTER_RESPONSE : AFTER_STREAM;
    /* h2o copies the iovec array, so only the bytes it points to must outlive the call */
    h2o_socket_write(conn->sock, iov, cnt, on_write_done);
    free(iov);
}

static void start_stream(struct conn *conn, unsigned status)
{
    struct buf b = {0};
    conn->req.status = status;
    conn->stream_left = conn->req.head_only ? 0 : conn->req.query.bytes;
    conn->stream_chunk = (size_t)conn->req.query.chunk;
    conn->stream_delay_ms = conn->req.query.chunk_delay_ms;
    conn->stream_chunked = conn->req.minor_version != 0;
    if (!conn->stream_chunked)
        conn->close_after_response = 1; /* HTTP/1.0 has no chunked framing: the close ends the body */
    append_head(&b, conn, status, "application/octet-stream");
    if (conn->stream_chunked)
        buf_append(&b, H2O_STRLIT("Transfer-Encoding: chunked\r\n"));
    buf_append(&b, H2O_STRLIT("\r\n"));
    log_request(conn);
    if (conn->req.head_only) {
        conn_write(conn, b.data, b.len, AFTER_RESPONSE);
        return;
    }
    stream_write_next(conn, b.data, b.len);
}

/* ---- request handling ---- */

static int parse_u64(const char *s, size_t n, uint64_t max, uint64_t *out)
{
    uint64_t v = 0;
    if (n == 0 || n > 20)
        return -1;
    for (size_t i = 0; i != n; ++i) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        unsigned d = (unsigned)(s[i] - '0');
        if (v > (UINT64_MAX - d) / 10)
            return -1;
        v = v * 10 + d;
    }
    if (v > max)
        return -1;
    *out = v;
    return 0;
}

/* Parses the known query parameters; returns the name of the first bad one, or NULL. */
static const char *parse_query(const char *target, size_t path_len, struct query *q)
{
    memset(q, 0, sizeof(*q));
    q->chunk = DEFAULT_CHUNK_BYTES;
    if (target[path_len] != '?')
        return NULL;
    const char *p = target + path_len + 1;
    while (*p != '\0' && *p != '#') {
        size_t len = strcspn(p, "&#");
        const char *eq = memchr(p, '=', len);
        size_t name_len = eq != NULL ? (size_t)(eq - p) : len;
        const char *value = eq != NULL ? eq + 1 : p + len;
        size_t value_len = (size_t)(p + len - value);
        uint64_t v = 0;
#define PARAM(literal) (name_len == sizeof(literal) - 1 && memcmp(p, literal, name_len) == 0)
        if (PARAM("sleep_ms")) {
            if (parse_u64(value, value_len, MAX_DELAY_MS, &q->sleep_ms) != 0)
                return "sleep_ms";
        } else if (PARAM("status")) {
            if (parse_u64(value, value_len, 599, &v) != 0 || v < 200)
                return "status";
            q->status = (unsigned)v;
        } else if (PARAM("bytes")) {
            if (parse_u64(value, value_len, MAX_STREAM_BYTES, &q->bytes) != 0)
                return "bytes";
            q->has_bytes = 1;
        } else if (PARAM("chunk")) {
            if (parse_u64(value, value_len, MAX_CHUNK_BYTES, &q->chunk) != 0 || q->chunk == 0)
                return "chunk";
        } else if (PARAM("chunk_delay_ms")) {
            if (parse_u64(value, value_len, MAX_DELAY_MS, &q->chunk_delay_ms) != 0)
                return "chunk_delay_ms";
        } else if (PARAM("close")) {
            if (parse_u64(value, value_len, 1, &v) != 0)
                return "close";
            q->close = v != 0;
        } else if (PARAM("garbage")) {
            if (parse_u64(value, value_len, 1, &v) != 0)
                return "garbage";
            q->garbage = v != 0;
        } else if (PARAM("header_bytes")) {
            if (parse_u64(value, value_len, MAX_FILLER_BYTES, &q->header_bytes) != 0)
                return "header_bytes";
            q->has_filler = 1;
        }
#undef PARAM
        p += len;
        if (*p == '&')
            ++p;
    }
    return NULL;
}

static int path_is(const struct request *req, const char *path)
{
    return req->path_len == strlen(path) && memcmp(req->target, path, req->path_len) == 0;
}

static int method_is(const struct request *req, const char *method)
{
    return strcmp(req->method, method) == 0;
}

static json_t *stats_json(void)
{
    return json_pack("{s:I, s:I, s:I, s:I}", "requests", (json_int_t)server.requests, "healthz",
                     (json_int_t)server.healthz_requests, "connections", (json_int_t)server.connections_accepted,
                     "open_connections", (json_int_t)server.connections_open);
}

/* Control endpoints are not counted and ignore the misbehaviour parameters.
 * Returns 1 when the request was one of them. */
static int handle_control(struct conn *conn)
{
    struct request *req = &conn->req;
    if (path_is(req, "/__stats")) {
        if (!method_is(req, "GET") && !method_is(req, "HEAD"))
            send_json(conn, 405, json_pack("{s:s}", "error", "use GET"));
        else
            send_json(conn, 200, stats_json());
        return 1;
    }
    if (path_is(req, "/__stats/reset")) {
        if (!method_is(req, "POST")) {
            send_json(conn, 405, json_pack("{s:s}", "error", "use POST"));
        } else {
            server.requests = 0;
            server.healthz_requests = 0;
            send_json(conn, 200, stats_json());
        }
        return 1;
    }
    if (path_is(req, "/__health/down") || path_is(req, "/__health/up")) {
        if (!method_is(req, "POST")) {
            send_json(conn, 405, json_pack("{s:s}", "error", "use POST"));
        } else {
            server.healthy = path_is(req, "/__health/up");
            send_json(conn, 200, json_pack("{s:s}", "status", server.healthy ? "ok" : "down"));
        }
        return 1;
    }
    return 0;
}

/* The request (head and body) is complete: count it and answer, now or after sleep_ms. */
static void dispatch(struct conn *conn)
{
    struct request *req = &conn->req;
    conn->state = CONN_RESPONDING;
    timer_clear(conn);
    /* stop reading so a pipelining client cannot make us buffer without bound */
    h2o_socket_read_stop(conn->sock);
    if (!req->keep_alive)
        conn->close_after_response = 1;

    if (handle_control(conn))
        return;
    server.requests++;
    if (path_is(req, "/healthz"))
        server.healthz_requests++;

    const char *bad = parse_query(req->target, req->path_len, &req->query);
    if (bad != NULL) {
        memset(&req->query, 0, sizeof(req->query));
        char message[64];
        snprintf(message, sizeof(message), "invalid query parameter %s", bad);
        send_json(conn, 400, json_pack("{s:s}", "error", message));
        return;
    }
    if (req->query.sleep_ms != 0) {
        timer_set(conn, TIMER_SLEEP, req->query.sleep_ms);
        return;
    }
    respond_now(conn);
}

static json_t *echo_json(struct conn *conn)
{
    struct request *req = &conn->req;
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned digest_len = 0;
    char hex[EVP_MAX_MD_SIZE * 2 + 1];

    EVP_DigestFinal_ex(conn->sha256, digest, &digest_len);
    for (unsigned i = 0; i != digest_len; ++i)
        snprintf(hex + 2 * i, 3, "%02x", digest[i]);
    hex[2 * digest_len] = '\0';

    json_t *o = json_object();
    json_object_set_new(o, "service", json_string(server.name));
    json_object_set_new(o, "listen", json_string(server.listen_text));
    json_object_set_new(o, "method", json_from_bytes(req->method, strlen(req->method)));
    json_object_set_new(o, "path", json_from_bytes(req->target, strlen(req->target)));
    json_object_set_new(o, "http_version", json_string(req->minor_version == 0 ? "1.0" : "1.1"));
    json_object_set(o, "headers", req->headers);
    json_object_set_new(o, "body_bytes", json_integer((json_int_t)req->body_bytes));
    json_object_set_new(o, "body_sha256", json_string(hex));
    return o;
}

static void respond_now(struct conn *conn)
{
    struct request *req = &conn->req;
    if (conn->writing) {
        /* "100 Continue" still in flight; answer when it is out */
        conn->respond_when_written = 1;
        return;
    }
    if (req->query.close) {
        req->status = 0;
        log_request(conn);
        conn_close(conn);
        return;
    }
    if (req->query.garbage) {
        static const char garbage[] = "NOT HTTP\r\n\r\n";
        req->status = 0;
        log_request(conn);
        conn_write(conn, xstrndup(garbage, sizeof(garbage) - 1), sizeof(garbage) - 1, AFTER_CLOSE);
        return;
    }

    unsigned status = 200;
    json_t *body;
    if (path_is(req, "/healthz") && (method_is(req, "GET") || method_is(req, "HEAD"))) {
        status = server.healthy ? 200 : 503;
        body = json_pack("{s:s}", "status", server.healthy ? "ok" : "down");
    } else {
        body = echo_json(conn);
    }
    if (req->query.status != 0)
        status = req->query.status;
    if (req->query.has_bytes) {
        json_decref(body);
        start_stream(conn, status);
        return;
    }
    send_json(conn, status, body);
}

/* ---- parsing ---- */

static int is_tchar(unsigned char c)
{
    return c != 0 &&
           ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

/* Does the comma-separated header value `v` contain `token` (case-insensitive)? */
static int has_token(const char *v, size_t n, const char *token)
{
    size_t tlen = strlen(token);
    size_t i = 0;
    while (i < n) {
        while (i < n && (v[i] == ' ' || v[i] == '\t' || v[i] == ','))
            ++i;
        size_t start = i;
        while (i < n && v[i] != ',')
            ++i;
        size_t end = i;
        while (end > start && (v[end - 1] == ' ' || v[end - 1] == '\t'))
            --end;
        if (end - start == tlen && strncasecmp(v + start, token, tlen) == 0)
            return 1;
    }
    return 0;
}

/* Is the last transfer coding "chunked"? Anything else cannot be framed by us. */
static int last_coding_is_chunked(const char *v)
{
    size_t n = strlen(v);
    while (n > 0 && (v[n - 1] == ' ' || v[n - 1] == '\t'))
        --n;
    size_t start = n;
    while (start > 0 && v[start - 1] != ',' && v[start - 1] != ' ' && v[start - 1] != '\t')
        --start;
    return n - start == 7 && strncasecmp(v + start, "chunked", 7) == 0;
}

/* Returns the length of the next line (without its LF) or -1 when no LF is in [p, end). */
static ssize_t line_length(const char *p, const char *end)
{
    const char *lf = memchr(p, '\n', (size_t)(end - p));
    return lf == NULL ? -1 : lf - p;
}

/* Parses the head in [start, start + len), which ends with its empty line.
 * Returns 0, or an HTTP status with *message set. */
static unsigned parse_head(struct conn *conn, const char *start, size_t len, const char **message)
{
    struct request *req = &conn->req;
    const char *p = start, *end = start + len;
    const char *content_length = NULL, *transfer_encoding = NULL;
    size_t cl_len = 0;
    int cl_conflict = 0;

    /* tolerate empty lines before the request line (RFC 9112 §2.2) */
    while (p < end && (*p == '\r' || *p == '\n'))
        ++p;

    /* request line: METHOD SP target SP HTTP/1.x */
    ssize_t ll = line_length(p, end);
    const char *line_end = p + ll;
    if (ll > 0 && line_end[-1] == '\r')
        --line_end;
    const char *sp1 = memchr(p, ' ', (size_t)(line_end - p));
    if (sp1 == NULL || sp1 == p)
        return *message = "malformed request line", 400;
    for (const char *m = p; m != sp1; ++m)
        if (!is_tchar((unsigned char)*m))
            return *message = "malformed method", 400;
    const char *target = sp1 + 1;
    const char *sp2 = memchr(target, ' ', (size_t)(line_end - target));
    if (sp2 == NULL || sp2 == target)
        return *message = "malformed request line", 400;
    for (const char *t = target; t != sp2; ++t)
        if ((unsigned char)*t <= 0x20 || *t == 0x7f)
            return *message = "malformed request target", 400;
    const char *version = sp2 + 1;
    size_t version_len = (size_t)(line_end - version);
    if (version_len != 8 || memcmp(version, "HTTP/1.", 7) != 0 || (version[7] != '0' && version[7] != '1'))
        return *message = "only HTTP/1.0 and HTTP/1.1 are supported", 505;
    req->method = xstrndup(p, (size_t)(sp1 - p));
    req->target = xstrndup(target, (size_t)(sp2 - target));
    req->path_len = strcspn(req->target, "?");
    req->minor_version = version[7] - '0';
    req->head_only = strcmp(req->method, "HEAD") == 0;
    req->headers = json_object();
    p += ll + 1;

    int connection_close = 0, connection_keep_alive = 0;
    while (p < end) {
        ll = line_length(p, end);
        if (ll < 0)
            break;
        line_end = p + ll;
        if (ll > 0 && line_end[-1] == '\r')
            --line_end;
        if (line_end == p)
            break; /* the empty line that ends the head */
        if (*p == ' ' || *p == '\t')
            return *message = "obsolete header line folding", 400;
        const char *colon = memchr(p, ':', (size_t)(line_end - p));
        if (colon == NULL || colon == p)
            return *message = "malformed header line", 400;
        for (const char *c = p; c != colon; ++c)
            if (!is_tchar((unsigned char)*c))
                return *message = "malformed header name", 400;
        const char *v = colon + 1, *v_end = line_end;
        while (v < v_end && (*v == ' ' || *v == '\t'))
            ++v;
        while (v_end > v && (v_end[-1] == ' ' || v_end[-1] == '\t'))
            --v_end;
        for (const char *c = v; c != v_end; ++c)
            if (((unsigned char)*c < 0x20 && *c != '\t') || *c == 0x7f)
                return *message = "control character in header value", 400;

        char *name = xstrndup(p, (size_t)(colon - p));
        for (char *c = name; *c != '\0'; ++c)
            if (*c >= 'A' && *c <= 'Z')
                *c = (char)(*c - 'A' + 'a');
        size_t vlen = (size_t)(v_end - v);
        json_t *prev = json_object_get(req->headers, name);
        if (prev == NULL) {
            json_object_set_new(req->headers, name, json_from_bytes(v, vlen));
        } else {
            struct buf joined = {0};
            buf_append(&joined, json_string_value(prev), json_string_length(prev));
            buf_append(&joined, H2O_STRLIT(", "));
            buf_append(&joined, v, vlen);
            json_object_set_new(req->headers, name, json_from_bytes(joined.data, joined.len));
            free(joined.data);
        }
        if (strcmp(name, "content-length") == 0) {
            if (content_length != NULL && (cl_len != vlen || memcmp(content_length, v, vlen) != 0))
                cl_conflict = 1;
            content_length = v;
            cl_len = vlen;
        } else if (strcmp(name, "connection") == 0) {
            connection_close |= has_token(v, vlen, "close");
            connection_keep_alive |= has_token(v, vlen, "keep-alive");
        } else if (strcmp(name, "expect") == 0) {
            req->expect_continue |= vlen == 12 && strncasecmp(v, "100-continue", 12) == 0;
        } else if (strcmp(name, "transfer-encoding") == 0) {
            transfer_encoding = ""; /* the joined value is read below */
        }
        free(name);
        p += ll + 1;
    }

    req->keep_alive = req->minor_version == 1 ? !connection_close : connection_keep_alive && !connection_close;
    if (transfer_encoding != NULL) {
        if (req->minor_version == 0)
            return *message = "transfer-encoding in an HTTP/1.0 request", 400;
        if (!last_coding_is_chunked(json_string_value(json_object_get(req->headers, "transfer-encoding"))))
            return *message = "unsupported transfer-encoding", 501;
        req->body_mode = BODY_CHUNKED;
        req->chunk_state = CHUNK_SIZE_LINE;
        if (content_length != NULL)
            req->keep_alive = 0; /* both framings given: answer, then drop the ambiguous stream */
    } else if (content_length != NULL) {
        if (cl_conflict || parse_u64(content_length, cl_len, UINT64_MAX, &req->body_remaining) != 0)
            return *message = "invalid content-length", 400;
        req->body_mode = req->body_remaining != 0 ? BODY_LENGTH : BODY_NONE;
    } else {
        req->body_mode = BODY_NONE;
    }
    return 0;
}

static void hash_body(struct conn *conn, const char *p, size_t n)
{
    EVP_DigestUpdate(conn->sha256, p, n);
    conn->req.body_bytes += n;
}

/* Consumes body bytes from the input. Returns 1 when the body is complete,
 * 0 when more is needed, -1 on a malformed chunked body. */
static int read_body(struct conn *conn)
{
    struct request *req = &conn->req;
    h2o_buffer_t **input = &conn->sock->input;

    if (req->body_mode == BODY_NONE)
        return 1;
    if (req->body_mode == BODY_LENGTH) {
        size_t n = (*input)->size < req->body_remaining ? (*input)->size : (size_t)req->body_remaining;
        hash_body(conn, (*input)->bytes, n);
        h2o_buffer_consume(input, n);
        req->body_remaining -= n;
        return req->body_remaining == 0;
    }

    while ((*input)->size != 0) {
        const char *p = (*input)->bytes, *end = p + (*input)->size;
        ssize_t ll;
        switch (req->chunk_state) {
        case CHUNK_SIZE_LINE: {
            if ((ll = line_length(p, end)) < 0)
                return (*input)->size > MAX_CHUNK_LINE_BYTES ? -1 : 0;
            uint64_t size = 0;
            size_t digits = 0;
            for (; digits < (size_t)ll; ++digits) {
                char c = p[digits];
                int d = c >= '0' && c <= '9'   ? c - '0'
                        : c >= 'a' && c <= 'f' ? c - 'a' + 10
                        : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                               : -1;
                if (d < 0)
                    break;
                if (digits >= 15)
                    return -1;
                size = size * 16 + (uint64_t)d;
            }
            if (digits == 0 || (digits < (size_t)ll && strchr(" \t;\r", p[digits]) == NULL))
                return -1;
            h2o_buffer_consume(input, (size_t)ll + 1);
            req->chunk_remaining = size;
            req->chunk_state = size == 0 ? CHUNK_TRAILER : CHUNK_DATA;
            break;
        }
        case CHUNK_DATA: {
            size_t n = (*input)->size < req->chunk_remaining ? (*input)->size : (size_t)req->chunk_remaining;
            hash_body(conn, p, n);
            h2o_buffer_consume(input, n);
            if ((req->chunk_remaining -= n) == 0)
                req->chunk_state = CHUNK_DATA_END;
            break;
        }
        case CHUNK_DATA_END:
            if (p[0] == '\n') {
                h2o_buffer_consume(input, 1);
            } else if (p[0] == '\r') {
                if ((*input)->size < 2)
                    return 0;
                if (p[1] != '\n')
                    return -1;
                h2o_buffer_consume(input, 2);
            } else {
                return -1;
            }
            req->chunk_state = CHUNK_SIZE_LINE;
            break;
        case CHUNK_TRAILER:
            if ((ll = line_length(p, end)) < 0)
                return (*input)->size > MAX_CHUNK_LINE_BYTES ? -1 : 0;
            int empty = ll == 0 || (ll == 1 && p[0] == '\r');
            /* consuming may free the buffer `p` points into, so look first */
            h2o_buffer_consume(input, (size_t)ll + 1);
            if (empty)
                return 1;
            if ((req->trailer_bytes += (size_t)ll) > MAX_TRAILER_BYTES)
                return -1;
            break;
        }
    }
    return 0;
}

/* Finds the end of the head (the empty line); returns its length including it, or 0. */
static size_t find_head_end(struct conn *conn)
{
    h2o_buffer_t *input = conn->sock->input;
    const char *p = input->bytes;
    size_t n = input->size;
    /* empty lines before the request line are not the end of a head */
    size_t skip = 0;
    while (skip < n && (p[skip] == '\r' || p[skip] == '\n'))
        ++skip;
    /* resume a little before where the last search stopped: the terminator may straddle reads */
    size_t i = conn->head_scanned > skip + 3 ? conn->head_scanned - 3 : skip;
    for (; i < n; ++i) {
        if (p[i] != '\n')
            continue;
        if (i + 1 < n && p[i + 1] == '\n')
            return i + 2;
        if (i + 2 < n && p[i + 1] == '\r' && p[i + 2] == '\n')
            return i + 3;
    }
    conn->head_scanned = n;
    return 0;
}

static void handle_input(struct conn *conn)
{
    if (conn->state == CONN_READ_HEAD) {
        size_t head_len = find_head_end(conn);
        if (head_len == 0) {
            if (conn->sock->input->size > MAX_HEAD_BYTES)
                send_error_and_close(conn, 431, "request head too large");
            return;
        }
        if (head_len > MAX_HEAD_BYTES) {
            send_error_and_close(conn, 431, "request head too large");
            return;
        }
        const char *message = NULL;
        unsigned status = parse_head(conn, conn->sock->input->bytes, head_len, &message);
        h2o_buffer_consume(&conn->sock->input, head_len);
        if (status != 0) {
            send_error_and_close(conn, status, message);
            return;
        }
        if (conn->sha256 == NULL && (conn->sha256 = EVP_MD_CTX_new()) == NULL)
            abort();
        EVP_DigestInit_ex(conn->sha256, server.sha256_md, NULL);
        conn->state = CONN_READ_BODY;
        int needs_more = conn->req.body_mode == BODY_CHUNKED ||
                         (conn->req.body_mode == BODY_LENGTH && conn->sock->input->size < conn->req.body_remaining);
        if (conn->req.expect_continue && conn->req.minor_version == 1 && needs_more) {
            static const char cont[] = "HTTP/1.1 100 Continue\r\n\r\n";
            conn_write(conn, xstrndup(cont, sizeof(cont) - 1), sizeof(cont) - 1, AFTER_CONTINUE);
        }
    }
    if (conn->state == CONN_READ_BODY) {
        int r = read_body(conn);
        if (r < 0) {
            send_error_and_close(conn, 400, "malformed chunked body");
        } else if (r > 0) {
            dispatch(conn);
        }
    }
}

static void on_read(h2o_socket_t *sock, const char *err)
{
    struct conn *conn = sock->data;
    if (err != NULL) {
        conn_close(conn);
        return;
    }
    if (conn->state == CONN_RESPONDING)
        return;
    timer_set(conn, TIMER_IDLE, server.keepalive_ms);
    handle_input(conn);
}

static void on_accept(h2o_socket_t *listener, const char *err)
{
    if (err != NULL)
        return;
    /* bounded, so a burst of connections cannot starve the ones already open */
    for (int i = 0; i != 64; ++i) {
        h2o_socket_t *sock = h2o_evloop_socket_accept(listener);
        if (sock == NULL)
            return;
        struct conn *conn = calloc(1, sizeof(*conn));
        if (conn == NULL) {
            h2o_socket_close(sock);
            return;
        }
        conn->sock = sock;
        conn->heap_index = SIZE_MAX;
        sock->data = conn;
        h2o_linklist_insert(&server.conns, &conn->link);
        server.connections_accepted++;
        server.connections_open++;
        timer_set(conn, TIMER_IDLE, server.keepalive_ms);
        h2o_socket_read_start(sock, on_read);
    }
}

/* ---- start-up ---- */

static void usage(FILE *out)
{
    fputs("usage: yiwang-demo-upstream --listen ADDR:PORT [--name NAME] [--access-log] [--keepalive-timeout-ms N]\n"
          "  ADDR is a numeric IPv4 address or [IPv6]; PORT 0 picks a free port.\n"
          "  Prints \"listening on ADDR:PORT\" once ready; SIGTERM/SIGINT exit 0.\n",
          out);
}

/* Parses "1.2.3.4:80" or "[::1]:80". */
static int parse_listen(const char *text, struct sockaddr_storage *ss, socklen_t *sslen)
{
    char host[INET6_ADDRSTRLEN + 1];
    const char *port_text;
    memset(ss, 0, sizeof(*ss));
    if (text[0] == '[') {
        const char *bracket = strchr(text, ']');
        if (bracket == NULL || bracket[1] != ':' || (size_t)(bracket - text - 1) >= sizeof(host))
            return -1;
        memcpy(host, text + 1, (size_t)(bracket - text - 1));
        host[bracket - text - 1] = '\0';
        port_text = bracket + 2;
    } else {
        const char *colon = strrchr(text, ':');
        if (colon == NULL || (size_t)(colon - text) >= sizeof(host))
            return -1;
        memcpy(host, text, (size_t)(colon - text));
        host[colon - text] = '\0';
        port_text = colon + 1;
    }
    uint64_t port;
    if (parse_u64(port_text, strlen(port_text), 65535, &port) != 0)
        return -1;
    struct sockaddr_in *sin = (struct sockaddr_in *)ss;
    struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;
    if (inet_pton(AF_INET, host, &sin->sin_addr) == 1) {
        sin->sin_family = AF_INET;
        sin->sin_port = htons((uint16_t)port);
        *sslen = sizeof(*sin);
    } else if (inet_pton(AF_INET6, host, &sin6->sin6_addr) == 1) {
        sin6->sin6_family = AF_INET6;
        sin6->sin6_port = htons((uint16_t)port);
        *sslen = sizeof(*sin6);
    } else {
        return -1;
    }
    return 0;
}

static int open_listener(const struct sockaddr_storage *ss, socklen_t sslen)
{
    int fd = socket(ss->ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0), on = 1;
    if (fd < 0) {
        perror("yiwang-demo-upstream: socket");
        return -1;
    }
    /* SO_REUSEADDR only, not SO_REUSEPORT: a second instance on the same port must fail loudly */
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
    if (ss->ss_family == AF_INET6)
        setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof(on));
    if (bind(fd, (const struct sockaddr *)ss, sslen) != 0 || listen(fd, SOMAXCONN) != 0) {
        perror("yiwang-demo-upstream: bind/listen");
        close(fd);
        return -1;
    }
    /* report the bound address, so that port 0 tells the caller what it got */
    struct sockaddr_storage bound;
    socklen_t blen = sizeof(bound);
    char host[INET6_ADDRSTRLEN];
    getsockname(fd, (struct sockaddr *)&bound, &blen);
    if (bound.ss_family == AF_INET6) {
        const struct sockaddr_in6 *b6 = (const struct sockaddr_in6 *)&bound;
        inet_ntop(AF_INET6, &b6->sin6_addr, host, sizeof(host));
        snprintf(server.listen_text, sizeof(server.listen_text), "[%s]:%u", host, ntohs(b6->sin6_port));
    } else {
        const struct sockaddr_in *b4 = (const struct sockaddr_in *)&bound;
        inet_ntop(AF_INET, &b4->sin_addr, host, sizeof(host));
        snprintf(server.listen_text, sizeof(server.listen_text), "%s:%u", host, ntohs(b4->sin_port));
    }
    return fd;
}

static void on_signal(int signo)
{
    (void)signo;
    stop_requested = 1;
}

int main(int argc, char **argv)
{
    const char *listen_arg = NULL;
    uint64_t keepalive_ms = DEFAULT_KEEPALIVE_MS;
    server.name = "demo";

    for (int i = 1; i < argc; ++i) {
        const char *arg = argv[i];
        if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0) {
            usage(stdout);
            return 0;
        } else if (strcmp(arg, "--access-log") == 0) {
            server.access_log = 1;
        } else if (i + 1 < argc && strcmp(arg, "--listen") == 0) {
            listen_arg = argv[++i];
        } else if (i + 1 < argc && strcmp(arg, "--name") == 0) {
            server.name = argv[++i];
        } else if (i + 1 < argc && strcmp(arg, "--keepalive-timeout-ms") == 0) {
            const char *v = argv[++i];
            if (parse_u64(v, strlen(v), MAX_DELAY_MS, &keepalive_ms) != 0 || keepalive_ms == 0) {
                fprintf(stderr, "yiwang-demo-upstream: invalid --keepalive-timeout-ms '%s'\n", v);
                return 2;
            }
        } else {
            fprintf(stderr, "yiwang-demo-upstream: unknown or incomplete option '%s'\n", arg);
            usage(stderr);
            return 2;
        }
    }
    struct sockaddr_storage ss;
    socklen_t sslen = 0;
    if (listen_arg == NULL || parse_listen(listen_arg, &ss, &sslen) != 0) {
        fprintf(stderr, "yiwang-demo-upstream: --listen needs ADDR:PORT or [ADDR]:PORT with a numeric address\n");
        usage(stderr);
        return 2;
    }
    json_t *name_json = json_string(server.name); /* NULL unless valid UTF-8 */
    if (server.name[0] == '\0' || strpbrk(server.name, "\r\n") != NULL || name_json == NULL) {
        fprintf(stderr, "yiwang-demo-upstream: invalid --name\n");
        return 2;
    }
    json_decref(name_json);
    server.keepalive_ms = (unsigned)keepalive_ms;
    server.healthy = 1;
    h2o_linklist_init_anchor(&server.conns);
    memset(server.fill, 'x', sizeof(server.fill));
    if ((server.sha256_md = EVP_MD_fetch(NULL, "SHA256", NULL)) == NULL) {
        fputs("yiwang-demo-upstream: SHA-256 unavailable\n", stderr);
        return 1;
    }

    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    /* writes to a peer that has gone must fail with EPIPE, not kill the process */
    signal(SIGPIPE, SIG_IGN);

    int fd = open_listener(&ss, sslen);
    if (fd < 0)
        return 1;
    server.loop = h2o_evloop_create();
    server.listener = h2o_evloop_socket_create(server.loop, fd, H2O_SOCKET_FLAG_DONT_READ);
    h2o_socket_read_start(server.listener, on_accept);

    /* the access log shares stdout with the ready line; line buffering keeps both prompt when tailed */
    setvbuf(stdout, NULL, _IOLBF, 0);
    printf("listening on %s\n", server.listen_text);
    fflush(stdout);

    int32_t wait_ms = MAX_LOOP_WAIT_MS;
    while (!stop_requested) {
        /* -1 is EINTR from a signal (checked above) or a transient epoll error: just go round */
        h2o_evloop_run(server.loop, wait_ms);
        /* timer callbacks run outside h2o's own dispatch, so let h2o flush what they queued at once */
        wait_ms = run_due_timers() ? 0 : next_wait_ms();
    }

    /* orderly teardown, so leak checkers see a clean exit */
    while (!h2o_linklist_is_empty(&server.conns))
        conn_close(H2O_STRUCT_FROM_MEMBER(struct conn, link, server.conns.next));
    h2o_socket_read_stop(server.listener);
    h2o_socket_close(server.listener);
    h2o_evloop_run(server.loop, 0);
    free(server.timers.items);
    EVP_MD_free(server.sha256_md);
    fflush(stdout);
    return 0;
}
