/*
 * errors.h — the catalogue of gateway-generated errors.
 *
 * Each error has an HTTP status, a stable machine-readable `code` (documented
 * in openapi/yiwang.yaml; clients switch on it, so never rename one) and a
 * message in English and Chinese. Immutable; any thread.
 */
#ifndef YIWANG_GATEWAY_ERRORS_H
#define YIWANG_GATEWAY_ERRORS_H

#include "common/error_envelope.h"

enum gateway_error {
    GW_ERR_BAD_PATH,              /* 400 invalid_path */
    GW_ERR_BAD_REQUEST,           /* 400 bad_request */
    GW_ERR_ROUTE_NOT_FOUND,       /* 404 route_not_found */
    GW_ERR_METHOD_NOT_ALLOWED,    /* 405 method_not_allowed */
    GW_ERR_REQUEST_TIMEOUT,       /* 408 request_timeout */
    GW_ERR_BODY_TOO_LARGE,        /* 413 body_too_large */
    GW_ERR_HEADERS_TOO_LARGE,     /* 431 headers_too_large */
    GW_ERR_UPSTREAM_BAD_RESPONSE, /* 502 upstream_bad_response */
    GW_ERR_UPSTREAM_UNAVAILABLE,  /* 502 upstream_connect_failed */
    GW_ERR_NO_HEALTHY_TARGET,     /* 503 no_healthy_target */
    GW_ERR_SERVICE_AT_CAPACITY,   /* 503 service_at_capacity */
    GW_ERR_GATEWAY_OVERLOADED,    /* 503 gateway_overloaded */
    GW_ERR_UPSTREAM_TIMEOUT,      /* 504 upstream_timeout */
    GW_ERR_INTERNAL,              /* 500 internal_error */
    GW_ERR_NOT_FOUND,             /* 404 not_found (ops listener) */
    GW_ERR_TOKEN_IN_QUERY,        /* 400 token_in_query */
    GW_ERR_TOKEN_MISSING,         /* 401 token_missing */
    GW_ERR_TOKEN_INVALID,         /* 401 token_invalid */
    GW_ERR_STEP_UP_REQUIRED,      /* 401 insufficient_user_authentication */
    GW_ERR_INSUFFICIENT_SCOPE,    /* 403 insufficient_scope */
    GW_ERR_USER_TOKEN_REQUIRED,   /* 403 user_token_required */
    /* the sign-in API (/v1/auth/...) */
    GW_ERR_INVALID_CLIENT,            /* 401 invalid_client */
    GW_ERR_INVALID_SCOPE,             /* 400 invalid_scope */
    GW_ERR_INVALID_MOBILE,            /* 400 invalid_mobile */
    GW_ERR_INVALID_CREDENTIALS,       /* 401 invalid_credentials */
    GW_ERR_TOO_MANY_ATTEMPTS,         /* 429 too_many_attempts */
    GW_ERR_SMS_TOO_SOON,              /* 429 sms_too_soon */
    GW_ERR_SMS_DAILY_LIMIT,           /* 429 sms_daily_limit */
    GW_ERR_SMS_UNAVAILABLE,           /* 503 sms_unavailable */
    GW_ERR_SIGN_IN_UNAVAILABLE,       /* 503 sign_in_unavailable */
    GW_ERR_ACCOUNT_DISABLED,          /* 403 account_disabled */
    GW_ERR_REAUTHENTICATION_REQUIRED, /* 401 reauthentication_required */
    GW_ERR_PASSWORD_TOO_SHORT,        /* 400 password_too_short */
    GW_ERR_PASSWORD_TOO_LONG,         /* 400 password_too_long */
    GW_ERR_PASSWORD_BAD_CHARACTERS,   /* 400 password_bad_characters */
    GW_ERR_PASSWORD_ALL_DIGITS,       /* 400 password_all_digits */
    GW_ERR_PASSWORD_CONTAINS_MOBILE,  /* 400 password_contains_mobile */
    GW_ERR_INVALID_ORG,               /* 400 invalid_org */
    GW_ERR_ORG_NOT_PERMITTED,         /* 403 org_not_permitted */
    /* the admin API (/admin/v1/ on the ops listener) */
    GW_ERR_ADMIN_UNAUTHENTICATED,  /* 401 admin_unauthenticated */
    GW_ERR_ADMIN_FORBIDDEN,        /* 403 admin_forbidden */
    GW_ERR_ENTITY_NOT_FOUND,       /* 404 entity_not_found */
    GW_ERR_INVALID_BODY,           /* 400 invalid_body (with "problems") */
    GW_ERR_INVALID_QUERY,          /* 400 invalid_query */
    GW_ERR_UNSUPPORTED_MEDIA_TYPE, /* 415 unsupported_media_type */
    GW_ERR_ENTITY_EXISTS,          /* 409 entity_exists */
    GW_ERR_IN_USE,                 /* 409 in_use */
    GW_ERR_PRECONDITION_FAILED,    /* 412 precondition_failed */
    GW_ERR_PRECONDITION_REQUIRED,  /* 428 precondition_required */
    GW_ERR_REGISTRY_UNAVAILABLE,   /* 503 registry_unavailable */
    GW_ERR__COUNT
};

struct gateway_error_info {
    int status;
    const char *reason; /* HTTP reason phrase */
    const char *code;
    const char *message_en;
    const char *message_zh;
};

const struct gateway_error_info *gateway_error_info(enum gateway_error error);

#endif
