/*
 * auth_api.h — the JSON sign-in API for first-party apps (docs/identity.md):
 *
 *   POST /v1/auth/sms       send an SMS code (registration, login, password)
 *   POST /v1/auth/login     SMS code or password -> SSO session + tokens
 *   POST /v1/auth/password  set or change the password
 *
 * Only clients registered with first_party = 1 may call it: the person types
 * their code or password into the app itself, which is acceptable for the
 * government's own apps and for no one else (third parties use the browser
 * code flow with PKCE). A first-party client identifies itself with its
 * client_id, and a confidential one also with its client_secret, both in the
 * JSON body.
 *
 * Requests are parsed and checked on the event loop; everything that touches
 * the database, hashes a password or sends an SMS runs on a worker
 * (async_request.h). Errors use the gateway's JSON envelope (errors.h), with
 * Retry-After on 429. Answers are never cached. Nothing here logs a mobile
 * number, a code, a password, a token or an ID number.
 *
 * Event-loop thread only.
 */
#ifndef YIWANG_GATEWAY_AUTH_API_H
#define YIWANG_GATEWAY_AUTH_API_H

#include "gateway/request.h"

void auth_api_sms(struct request_ctx *rc);
void auth_api_login(struct request_ctx *rc);
void auth_api_password(struct request_ctx *rc);

#endif
