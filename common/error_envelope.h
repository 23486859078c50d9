/*
 * error_envelope.h — the one JSON shape of every gateway-generated error:
 *   {"error":{"code":"...","message":"...","request_id":"..."}}
 * and the language choice for its message. The admin API adds an optional
 * member, "problems": [{"pointer": "/region_code", "message": "..."}], that
 * names each invalid field of a request body (docs/registry.md §5).
 *
 * Pure functions; any thread.
 */
#ifndef YIWANG_COMMON_ERROR_ENVELOPE_H
#define YIWANG_COMMON_ERROR_ENVELOPE_H

#include <stddef.h>

#include "common/problems.h"
#include "common/strbuf.h"

enum message_language {
    LANGUAGE_EN,
    LANGUAGE_ZH,
};

/*
 * Picks the message language from an Accept-Language header value (may be
 * NULL): Chinese when a "zh" range (zh, zh-CN, zh-Hans, ...) has a q-value
 * higher than every English range and q > 0; English otherwise. Malformed
 * input falls back to English.
 */
enum message_language error_language_from_accept(const char *accept_language, size_t len);

/* Appends the envelope to `out`; all three strings are JSON-escaped. */
void error_envelope_append(struct strbuf *out, const char *code, const char *message, const char *request_id,
                           size_t request_id_len);

/* The same with a "problems" array after request_id (omitted when `problems` is NULL or empty). */
void error_envelope_append_problems(struct strbuf *out, const char *code, const char *message, const char *request_id,
                                    size_t request_id_len, const struct problem_list *problems);

#endif
