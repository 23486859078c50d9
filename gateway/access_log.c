#include "gateway/access_log.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "common/pii_mask.h"
#include "common/xalloc.h"

#define FLUSH_THRESHOLD (32 * 1024)

struct queued_chunk {
    struct queued_chunk *next;
    size_t len;
    char *data;
};

struct access_log {
    int fd;
    int owns_fd;
    pthread_t writer;
    pthread_mutex_t mutex;
    pthread_cond_t cond;
    struct queued_chunk *head, **tail;
    size_t queued;
    int closing;
    atomic_ullong dropped;
};

static void write_all(int fd, const char *data, size_t len)
{
    while (len > 0) {
        ssize_t n = write(fd, data, len);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            log_error("access log write failed: %s", strerror(errno));
            return;
        }
        data += n;
        len -= (size_t)n;
    }
}

static void *writer_main(void *arg)
{
    struct access_log *log = arg;
    pthread_mutex_lock(&log->mutex);
    for (;;) {
        while (log->head == NULL && !log->closing)
            pthread_cond_wait(&log->cond, &log->mutex);
        struct queued_chunk *chunks = log->head;
        log->head = NULL;
        log->tail = &log->head;
        log->queued = 0;
        int closing = log->closing;
        pthread_mutex_unlock(&log->mutex);
        while (chunks != NULL) {
            struct queued_chunk *next = chunks->next;
            write_all(log->fd, chunks->data, chunks->len);
            free(chunks->data);
            free(chunks);
            chunks = next;
        }
        if (closing)
            return NULL;
        pthread_mutex_lock(&log->mutex);
    }
}

struct access_log *access_log_open(const char *path, char **err)
{
    int fd = STDOUT_FILENO, owns_fd = 0;
    if (strcmp(path, "-") != 0) {
        fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
        if (fd < 0) {
            *err = xasprintf("cannot open access log %s: %s", path, strerror(errno));
            return NULL;
        }
        owns_fd = 1;
    }
    struct access_log *log = xcalloc(1, sizeof(*log));
    log->fd = fd;
    log->owns_fd = owns_fd;
    log->tail = &log->head;
    pthread_mutex_init(&log->mutex, NULL);
    pthread_cond_init(&log->cond, NULL);
    if (pthread_create(&log->writer, NULL, writer_main, log) != 0) {
        *err = xasprintf("cannot start the access log writer");
        if (owns_fd)
            close(fd);
        free(log);
        return NULL;
    }
    return log;
}

void access_log_close(struct access_log *log)
{
    if (log == NULL)
        return;
    pthread_mutex_lock(&log->mutex);
    log->closing = 1;
    pthread_cond_signal(&log->cond);
    pthread_mutex_unlock(&log->mutex);
    pthread_join(log->writer, NULL);
    if (log->owns_fd)
        close(log->fd);
    pthread_mutex_destroy(&log->mutex);
    pthread_cond_destroy(&log->cond);
    free(log);
}

unsigned long long access_log_dropped(const struct access_log *log)
{
    return log != NULL ? atomic_load(&log->dropped) : 0;
}

void access_log_buffer_init(struct access_log_buffer *buffer, struct access_log *log)
{
    buffer->log = log;
    buffer->lines = (struct strbuf)STRBUF_INIT;
}

void access_log_flush(struct access_log_buffer *buffer)
{
    if (buffer->log == NULL || buffer->lines.len == 0)
        return;
    struct access_log *log = buffer->log;
    struct queued_chunk *chunk = xmalloc(sizeof(*chunk));
    chunk->next = NULL;
    chunk->data = strbuf_detach(&buffer->lines, &chunk->len);
    pthread_mutex_lock(&log->mutex);
    if (log->queued >= ACCESS_LOG_MAX_QUEUED) {
        pthread_mutex_unlock(&log->mutex);
        atomic_fetch_add(&log->dropped, 1);
        free(chunk->data);
        free(chunk);
        return;
    }
    *log->tail = chunk;
    log->tail = &chunk->next;
    log->queued++;
    pthread_cond_signal(&log->cond);
    pthread_mutex_unlock(&log->mutex);
}

void access_log_buffer_dispose(struct access_log_buffer *buffer)
{
    access_log_flush(buffer);
    strbuf_free(&buffer->lines);
}

/*
 * Query parameters that carry credentials. A request is logged even when it is refused — a token in the query gets
 * 400 token_in_query, and RP-initiated logout sends an ID token as id_token_hint — so their values are replaced
 * before the line is written: a log file must never be a way to obtain a token. Names are matched exactly (they are
 * what OAuth and OIDC define; a percent-encoded name is a different parameter to every server behind the gateway).
 */
static const char *const secret_parameters[] = {
    "access_token", "refresh_token", "id_token_hint", "id_token", "code", "code_verifier", "client_secret", "token", "password",
};

static int is_secret_parameter(const char *name, size_t len)
{
    for (size_t i = 0; i < sizeof(secret_parameters) / sizeof(secret_parameters[0]); i++) {
        if (strlen(secret_parameters[i]) == len && memcmp(secret_parameters[i], name, len) == 0)
            return 1;
    }
    return 0;
}

/* Appends `s` to `out` with the values of credential parameters in its query replaced by "REDACTED". */
static void append_redacted(struct strbuf *out, const char *s, size_t len)
{
    const char *query = memchr(s, '?', len), *end = s + len;
    if (query == NULL) {
        strbuf_append(out, s, len);
        return;
    }
    strbuf_append(out, s, (size_t)(query + 1 - s));
    for (const char *p = query + 1; p < end;) {
        const char *amp = memchr(p, '&', (size_t)(end - p));
        const char *pair_end = amp != NULL ? amp : end;
        const char *eq = memchr(p, '=', (size_t)(pair_end - p));
        if (eq != NULL && is_secret_parameter(p, (size_t)(eq - p))) {
            strbuf_append(out, p, (size_t)(eq + 1 - p));
            strbuf_append_str(out, "REDACTED");
        } else {
            strbuf_append(out, p, (size_t)(pair_end - p));
        }
        if (amp != NULL)
            strbuf_append_char(out, '&');
        p = pair_end + (amp != NULL);
    }
}

/*
 * Appends `s` as a JSON string with citizens' numbers masked. Percent-encoded digits are decoded first: "%31"
 * is "1" to every server behind the gateway, so "/persons/%313812345678" is a phone number too.
 */
static void append_masked_string(struct strbuf *out, const char *s, size_t len)
{
    struct strbuf plain = STRBUF_INIT;
    strbuf_reserve(&plain, len);
    for (size_t i = 0; i < len; i++) {
        if (s[i] == '%' && i + 2 < len && s[i + 1] == '3' && s[i + 2] >= '0' && s[i + 2] <= '9') {
            strbuf_append_char(&plain, s[i + 2]);
            i += 2;
        } else {
            strbuf_append_char(&plain, s[i]);
        }
    }
    pii_mask_inplace(plain.data, plain.len);
    strbuf_append_json_string(out, plain.data, plain.len);
    strbuf_free(&plain);
}

static void append_optional_string(struct strbuf *out, const char *key, const char *value)
{
    strbuf_appendf(out, ",\"%s\":", key);
    if (value == NULL)
        strbuf_append_str(out, "null");
    else
        strbuf_append_json_string(out, value, strlen(value));
}

void access_log_format(struct strbuf *out, const struct access_log_entry *e)
{
    char time[LOG_TIME_BUFSIZE];
    log_format_time(time, e->time_ms);
    strbuf_appendf(out, "{\"time\":\"%s\",\"request_id\":", time);
    if (e->request_id_from_client)
        append_masked_string(out, e->request_id, e->request_id_len); /* a client-chosen id may carry a phone number */
    else
        strbuf_append_json_string(out, e->request_id, e->request_id_len); /* masking random hex would break correlation */
    strbuf_appendf(out, ",\"protocol\":\"%s\",\"tls\":%s,\"client\":", e->protocol, e->tls ? "true" : "false");
    strbuf_append_json_string(out, e->client_ip, strlen(e->client_ip));
    strbuf_append_str(out, ",\"method\":");
    strbuf_append_json_string(out, e->method, e->method_len);
    strbuf_append_str(out, ",\"path\":");
    struct strbuf path = STRBUF_INIT;
    append_redacted(&path, e->path, e->path_len);
    append_masked_string(out, path.data != NULL ? path.data : "", path.len);
    strbuf_free(&path);
    strbuf_appendf(out, ",\"status\":%d,\"bytes\":%llu,\"duration_ms\":%.3f", e->status, (unsigned long long)e->bytes_sent,
                   (double)e->duration_us / 1000.0);
    append_optional_string(out, "route", e->route);
    append_optional_string(out, "service", e->service);
    append_optional_string(out, "target", e->target);
    if (e->upstream_us >= 0)
        strbuf_appendf(out, ",\"upstream_ms\":%.3f", (double)e->upstream_us / 1000.0);
    else
        strbuf_append_str(out, ",\"upstream_ms\":null");
    append_optional_string(out, "error", e->error_code);
    append_optional_string(out, "auth_failure", e->auth_failure);
    strbuf_append_str(out, "}\n");
}

void access_log_append(struct access_log_buffer *buffer, const struct access_log_entry *entry)
{
    if (buffer->log == NULL)
        return;
    access_log_format(&buffer->lines, entry);
    if (buffer->lines.len >= FLUSH_THRESHOLD)
        access_log_flush(buffer);
}
