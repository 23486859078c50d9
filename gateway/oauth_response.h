/*
 * oauth_response.h — how the OAuth endpoints (/oauth/token, /oauth/revoke,
 * /oauth/introspect) read their form and answer: JSON never cached
 * (no-store, RFC 6749 §5.1) and errors in RFC 6749 §5.2's
 * {"error","error_description"} shape, which OAuth client libraries expect,
 * rather than the gateway's own envelope.
 *
 * Event-loop thread only.
 */
#ifndef YIWANG_GATEWAY_OAUTH_RESPONSE_H
#define YIWANG_GATEWAY_OAUTH_RESPONSE_H

#include "common/form.h"
#include "common/strbuf.h"
#include "gateway/request.h"

/*
 * Checks that the request is a POST with an application/x-www-form-urlencoded
 * body and parses it into `form` (the caller clears it). Returns 0, or -1
 * after answering 405 (with Allow) or 400 invalid_request.
 */
int oauth_read_post_form(struct request_ctx *rc, struct form *form);
/* Answers `status` with the JSON `body` (wiped and freed: it may hold tokens), with Cache-Control: no-store and Pragma: no-cache.
 */
void oauth_send_json(struct request_ctx *rc, int status, const char *reason, struct strbuf *body);
/*
 * RFC 6749 §5.2: 400, except invalid_client (401, with a Basic challenge when
 * the client tried Basic) and temporarily_unavailable (503).
 */
void oauth_send_error(struct request_ctx *rc, const char *error, const char *description, int used_basic);

#endif
