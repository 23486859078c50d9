#include "gateway/authz_request.h"

#include <stdlib.h>
#include <string.h>

#include "auth/pkce.h"
#include "auth/scope_set.h"
#include "common/xalloc.h"

/* Longer values are refused rather than truncated; a state or nonce needs far less. */
#define AUTHZ_VALUE_MAX 2048

static const char *const names[AUTHZ__COUNT] = {
    [AUTHZ_CLIENT_ID] = "client_id",
    [AUTHZ_REDIRECT_URI] = "redirect_uri",
    [AUTHZ_RESPONSE_TYPE] = "response_type",
    [AUTHZ_SCOPE] = "scope",
    [AUTHZ_STATE] = "state",
    [AUTHZ_NONCE] = "nonce",
    [AUTHZ_CODE_CHALLENGE] = "code_challenge",
    [AUTHZ_CODE_CHALLENGE_METHOD] = "code_challenge_method",
    [AUTHZ_PROMPT] = "prompt",
    [AUTHZ_MAX_AGE] = "max_age",
    [AUTHZ_UI_LOCALES] = "ui_locales",
    [AUTHZ_ORG] = "org",
};

const char *authz_param_name(enum authz_param param)
{
    return names[param];
}

int authz_request_read(struct authz_request *out, const struct form *form)
{
    memset(out, 0, sizeof(*out));
    for (int i = 0; i < AUTHZ__COUNT; i++) {
        const char *value = form_get(form, names[i]);
        if (value == NULL || value[0] == '\0')
            continue; /* an empty parameter is an absent one (RFC 6749 §3.1) */
        if (strlen(value) > AUTHZ_VALUE_MAX) {
            authz_request_free(out);
            return -1;
        }
        out->values[i] = xstrdup(value);
    }
    return 0;
}

void authz_request_free(struct authz_request *r)
{
    for (int i = 0; i < AUTHZ__COUNT; i++) {
        free(r->values[i]);
        r->values[i] = NULL;
    }
}

/* ---- stage 1 ---- */

const char *authz_request_target_problem(const struct authz_request *r, const struct oauth_client *client)
{
    if (client == NULL || !client->active)
        return "invalid_client";
    const char *uri = authz_get(r, AUTHZ_REDIRECT_URI);
    /* required even when the client registered one URI: the code is bound to it and the token request must repeat it */
    if (uri == NULL || strlen(uri) > AUTHZ_REDIRECT_URI_MAX || !clients_redirect_uri_allowed(client, uri))
        return "invalid_redirect_uri";
    return NULL;
}

/* ---- stage 2 ---- */

static const char *refuse(const char **description, const char *error, const char *text)
{
    *description = text;
    return error;
}

/* prompt is a space-separated list (OIDC Core §3.1.2.1); "none" must stand alone. -1 on an unknown or contradictory value. */
static int parse_prompt(const char *value, unsigned *out)
{
    *out = 0;
    if (value == NULL)
        return 0;
    static const struct {
        const char *word;
        unsigned flag;
    } words[] = {{"none", AUTHZ_PROMPT_NONE}, {"login", AUTHZ_PROMPT_LOGIN}, {"consent", AUTHZ_PROMPT_CONSENT}};
    const char *p = value;
    while (*p != '\0') {
        while (*p == ' ')
            p++;
        size_t len = strcspn(p, " ");
        if (len == 0)
            break;
        size_t i = 0;
        while (i < sizeof(words) / sizeof(words[0]) && !(strlen(words[i].word) == len && memcmp(words[i].word, p, len) == 0))
            i++;
        if (i == sizeof(words) / sizeof(words[0]))
            return -1;
        *out |= words[i].flag;
        p += len;
    }
    return (*out & AUTHZ_PROMPT_NONE) && *out != AUTHZ_PROMPT_NONE ? -1 : 0;
}

static int parse_max_age(const char *value, long *out)
{
    *out = -1;
    if (value == NULL)
        return 0;
    size_t len = strlen(value);
    if (len == 0 || len > 9 || strspn(value, "0123456789") != len)
        return -1;
    *out = strtol(value, NULL, 10);
    return 0;
}

static const char *check_pkce(const struct authz_request *r, const struct oauth_client *client, const char **description)
{
    const char *challenge = authz_get(r, AUTHZ_CODE_CHALLENGE), *method = authz_get(r, AUTHZ_CODE_CHALLENGE_METHOD);
    if (challenge == NULL) {
        if (method != NULL)
            return refuse(description, "invalid_request", "code_challenge_method without code_challenge.");
        /* a public client cannot prove it is the one that started the flow without PKCE (OAuth 2.1 §4.1.1) */
        return client->confidential ? NULL : refuse(description, "invalid_request", "code_challenge is required.");
    }
    /* an absent method means "plain" (RFC 7636 §4.3), which is refused like an explicit one */
    if (method == NULL || strcmp(method, "S256") != 0)
        return refuse(description, "invalid_request", "code_challenge_method must be S256.");
    if (!pkce_challenge_is_valid(challenge, strlen(challenge)))
        return refuse(description, "invalid_request", "code_challenge is malformed.");
    return NULL;
}

const char *authz_request_check(const struct authz_request *r, const struct oauth_client *client, struct authz_decision *out,
                                const char **description)
{
    memset(out, 0, sizeof(*out));
    const char *response_type = authz_get(r, AUTHZ_RESPONSE_TYPE);
    if (response_type == NULL)
        return refuse(description, "invalid_request", "response_type is required.");
    if (strcmp(response_type, "code") != 0)
        return refuse(description, "unsupported_response_type", "Only response_type=code is supported.");
    if (!clients_grant_allowed(client, "authorization_code"))
        return refuse(description, "unauthorized_client", "This client may not use the authorization code flow.");
    const char *pkce = check_pkce(r, client, description);
    if (pkce != NULL)
        return pkce;
    if (parse_prompt(authz_get(r, AUTHZ_PROMPT), &out->prompt) != 0)
        return refuse(description, "invalid_request", "prompt is not valid.");
    if (parse_max_age(authz_get(r, AUTHZ_MAX_AGE), &out->max_age) != 0)
        return refuse(description, "invalid_request", "max_age is not valid.");
    const char *nonce = authz_get(r, AUTHZ_NONCE);
    if (nonce != NULL && strlen(nonce) > AUTHZ_NONCE_MAX)
        return refuse(description, "invalid_request", "nonce is too long.");
    const char *org = authz_get(r, AUTHZ_ORG);
    if (org != NULL && identifiers_uscc_normalise(org, strlen(org), out->org) != IDENTIFIER_OK)
        return refuse(description, "invalid_request", "org is not a valid unified social credit code.");
    if (clients_resolve_scope(client, authz_get(r, AUTHZ_SCOPE), out->scope, sizeof(out->scope)) != 0)
        return refuse(description, "invalid_scope", "A requested scope is not allowed for this client.");
    out->openid = scope_set_has_word(out->scope, "openid");
    return NULL;
}

/* ---- the answer ---- */

static void append_param(struct strbuf *out, char *sep, const char *name, const char *value)
{
    static const char hex[] = "0123456789ABCDEF";
    strbuf_append_char(out, *sep);
    *sep = '&';
    strbuf_append_str(out, name);
    strbuf_append_char(out, '=');
    for (const unsigned char *p = (const unsigned char *)value; *p != '\0'; p++) {
        if ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || strchr("-._~", *p) != NULL) {
            strbuf_append_char(out, (char)*p);
        } else {
            strbuf_append_char(out, '%');
            strbuf_append_char(out, hex[*p >> 4]);
            strbuf_append_char(out, hex[*p & 15]);
        }
    }
}

void authz_redirect_location(struct strbuf *out, const struct authz_request *r, const char *code, const char *error,
                             const char *description, const char *issuer)
{
    const char *uri = authz_get(r, AUTHZ_REDIRECT_URI);
    /* registered URIs never have a fragment (clients_redirect_uri_problem); one may already have a query */
    char sep = strchr(uri, '?') != NULL ? '&' : '?';
    strbuf_append_str(out, uri);
    if (code != NULL) {
        append_param(out, &sep, "code", code);
    } else {
        append_param(out, &sep, "error", error);
        if (description != NULL)
            append_param(out, &sep, "error_description", description);
    }
    if (authz_get(r, AUTHZ_STATE) != NULL)
        append_param(out, &sep, "state", authz_get(r, AUTHZ_STATE));
    append_param(out, &sep, "iss", issuer);
}
