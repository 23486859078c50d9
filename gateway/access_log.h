/*
 * access_log.h — one JSON line per request, written off the event loops.
 *
 * Event-loop threads format lines into their own buffer (no lock per
 * request) and hand full buffers — or whatever they have every 200 ms — to
 * one writer thread, which owns the file descriptor. A slow disk or a full
 * stdout pipe therefore stalls only the writer, never request handling; if the
 * writer falls more than `ACCESS_LOG_MAX_QUEUED` buffers behind, new buffers
 * are dropped and counted rather than growing memory without bound.
 *
 * Citizens' mobile numbers and resident ID numbers in the path or query are
 * masked before a line is formatted (common/pii_mask.h), and the values of
 * query parameters that carry credentials (access_token, id_token_hint, code,
 * ...) are replaced by "REDACTED".
 */
#ifndef YIWANG_GATEWAY_ACCESS_LOG_H
#define YIWANG_GATEWAY_ACCESS_LOG_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "common/strbuf.h"

#define ACCESS_LOG_MAX_QUEUED 256

struct access_log;

struct access_log_buffer {
    struct access_log *log; /* NULL: logging disabled */
    struct strbuf lines;
};

struct access_log_entry {
    uint64_t time_ms; /* when the request arrived, Unix ms */
    const char *request_id;
    size_t request_id_len;
    int request_id_from_client; /* a client-chosen id is masked like the path; a generated one never holds PII */
    const char *protocol;       /* "h1" or "h2" */
    int tls;
    const char *client_ip;
    const char *method;
    size_t method_len;
    const char *path; /* normalised path (raw when it could not be normalised) + query; masked here */
    size_t path_len;
    int status; /* 499 when the client went away before a response */
    uint64_t bytes_sent;
    uint64_t duration_us;
    const char *route;        /* NULL when no route matched */
    const char *service;      /* NULL likewise */
    const char *target;       /* NULL when no upstream was contacted */
    int64_t upstream_us;      /* -1 when no upstream was contacted */
    const char *error_code;   /* gateway error code, NULL when none */
    const char *auth_failure; /* why an access token was refused (expired, bad_signature, ...), NULL when none */
};

/* Opens the log ("-" = stdout) and starts the writer thread. NULL + *err on failure. */
struct access_log *access_log_open(const char *path, char **err);
/* Writes out everything queued, stops the writer and closes the file. */
void access_log_close(struct access_log *log);
unsigned long long access_log_dropped(const struct access_log *log);

void access_log_buffer_init(struct access_log_buffer *buffer, struct access_log *log);
/* Formats one line into the thread's buffer; hands the buffer over when it is large. */
void access_log_append(struct access_log_buffer *buffer, const struct access_log_entry *entry);
/* Hands whatever is buffered to the writer (called periodically and at shutdown). */
void access_log_flush(struct access_log_buffer *buffer);
void access_log_buffer_dispose(struct access_log_buffer *buffer);

/* Formats one entry as a JSON line (with the newline); exposed for unit tests. */
void access_log_format(struct strbuf *out, const struct access_log_entry *entry);

#endif
