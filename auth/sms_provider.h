/*
 * sms_provider.h — handing an SMS code to whatever sends it (identity.sms).
 *
 * One message is the JSON object
 *
 *     {"time":"2026-11-25T08:30:00.000Z","mobile":"13800138000","code":"123456","purpose":"login","ttl_s":300}
 *
 * provider "outbox" (development and tests): the object is appended as one
 *   line to outbox_file (created 0600, O_APPEND, one write(2) per line so
 *   lines of parallel workers never interleave). Nothing is sent; tests read
 *   the codes from the file. The file holds live codes: never use it in
 *   production.
 * provider "http": the object is POSTed to `url` over HTTP/1.1
 *   (Content-Type: application/json, Connection: close) and any 2xx answer
 *   means accepted. A small blocking client: the whole exchange — DNS,
 *   connect, TLS handshake, send, status line — must finish within
 *   timeout_ms. An https:// URL is reached over TLS 1.2 or later, and the
 *   provider's certificate must chain to `ca_file` (default: the system's CA
 *   store) and name the URL's host (or IP address); anything else fails the
 *   send, never falls back to plain text. An http:// URL is plain text: only
 *   for a provider or relay on a trusted network segment. The response body
 *   is not read.
 *
 * Errors name the provider and what failed, never the number or the code.
 *
 * Threads: blocks (file or network I/O): worker threads only. Reentrant.
 */
#ifndef YIWANG_AUTH_SMS_PROVIDER_H
#define YIWANG_AUTH_SMS_PROVIDER_H

#include <stdint.h>

#include "common/config.h"

struct sms_message {
    const char *mobile;  /* normalised */
    const char *code;    /* the plaintext code */
    const char *purpose; /* "login" or "password" */
    unsigned ttl_s;
    int64_t time_ms; /* Unix milliseconds */
};

/* Delivers the message. Returns 0, or -1 with a malloc'ed *err. */
int sms_provider_send(const struct sms_config *config, const struct sms_message *message, char **err);

/* The JSON text of a message (malloc'ed, NUL-terminated, *len without the NUL). Exposed for tests. */
char *sms_provider_message_json(const struct sms_message *message, size_t *len);

#endif
