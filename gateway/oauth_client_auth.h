/*
 * oauth_client_auth.h — who is calling an OAuth endpoint (/oauth/token,
 * /oauth/revoke, /oauth/introspect): RFC 6749 §2.3 client authentication.
 *
 * Methods: client_secret_basic (HTTP Basic with the URL-encoded id and
 * secret, RFC 6749 §2.3.1) or client_secret_post (client_id and
 * client_secret in the form) — exactly one of them. A public client (a mobile
 * app, which cannot keep a secret) names itself with client_id alone
 * ("none"); each endpoint decides whether it accepts that.
 *
 * Reading the credentials needs no database and runs on the event loop;
 * checking them loads the client and runs on a worker (async_request.h).
 * A credentials struct holds a secret: clear it when done.
 */
#ifndef YIWANG_GATEWAY_OAUTH_CLIENT_AUTH_H
#define YIWANG_GATEWAY_OAUTH_CLIENT_AUTH_H

#include <stddef.h>

#include "auth/clients.h"
#include "common/db.h"
#include "common/form.h"
#include "gateway/request.h"

#define OAUTH_CLIENT_SECRET_MAX 256

struct server;

struct oauth_credentials {
    char client_id[CLIENT_ID_MAX + 1];
    char secret[OAUTH_CLIENT_SECRET_MAX + 1];
    size_t secret_len;
    int has_secret; /* 0: a public client named itself with client_id alone */
    int used_basic; /* the answer to a failure then carries a Basic challenge */
};

/*
 * Loop. Reads the credentials from the Authorization header and the form.
 * Returns NULL, or the error_description of a failure with *error set to
 * "invalid_request" (two methods at once) or "invalid_client" (malformed or
 * missing credentials).
 */
const char *oauth_credentials_read(const h2o_req_t *req, const struct form *form, struct oauth_credentials *out,
                                   const char **error);
void oauth_credentials_clear(struct oauth_credentials *cred);
/*
 * Loop. A request about one token (RFC 7009 revocation, RFC 7662 introspection): the credentials as above and the
 * required `token` parameter, copied to a malloc'ed *token. NULL, or the error_description with *error set (and
 * *token NULL). Free the copy with oauth_token_free.
 */
const char *oauth_token_request_read(const h2o_req_t *req, const struct form *form, struct oauth_credentials *cred, char **token,
                                     const char **error);
/* Wipes and frees a token copied by oauth_token_request_read; NULL is fine. */
void oauth_token_free(char *token);

enum oauth_client_auth_result {
    OAUTH_CLIENT_OK = 0,
    OAUTH_CLIENT_INVALID,     /* answer invalid_client */
    OAUTH_CLIENT_UNAVAILABLE, /* the database failed (logged): answer temporarily_unavailable */
};

/*
 * Worker. Loads the client and checks it: it must exist and be active; a
 * confidential client must prove itself with its secret; a public one must
 * send no secret and is only accepted when `public_allowed`. One answer for
 * unknown client, wrong secret and disabled client: nothing to probe. On
 * OAUTH_CLIENT_OK `client` is loaded (the caller clears it); otherwise it is
 * cleared. `what` names the endpoint in the log.
 */
enum oauth_client_auth_result oauth_client_authenticate(struct db *db, const struct server *server,
                                                        const struct oauth_credentials *cred, int public_allowed,
                                                        struct oauth_client *client, const char *what);

#endif
