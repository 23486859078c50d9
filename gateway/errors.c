/*
 * errors.c — the catalogue of gateway-generated errors.
 *
 * The messages are shown by citizens' mobile apps and mini-programs as they
 * are, so they say what happened in plain words and whether retrying helps;
 * they never name internal hosts or targets. The codes are the stable part:
 * openapi/yiwang.yaml lists every one, and test_error_envelope checks that
 * the table is complete.
 */
#include "gateway/errors.h"

#include <stddef.h>

static const struct gateway_error_info catalogue[GW_ERR__COUNT] = {
    [GW_ERR_BAD_PATH] = {400, "Bad Request", "invalid_path", "The request path is not valid.", "请求路径无效。"},
    [GW_ERR_BAD_REQUEST] = {400, "Bad Request", "bad_request", "The request is malformed and cannot be processed.",
                            "请求格式有误，无法处理。"},
    [GW_ERR_ROUTE_NOT_FOUND] = {404, "Not Found", "route_not_found", "No API is registered at this path.", "请求的接口不存在。"},
    [GW_ERR_METHOD_NOT_ALLOWED] = {405, "Method Not Allowed", "method_not_allowed", "This API does not accept the request method.",
                                   "该接口不支持此请求方式。"},
    [GW_ERR_REQUEST_TIMEOUT] = {408, "Request Timeout", "request_timeout",
                                "The request was not received in time. Please check the network and retry.",
                                "请求发送超时，请检查网络后重试。"},
    [GW_ERR_BODY_TOO_LARGE] = {413, "Content Too Large", "body_too_large",
                               "The request body is too large. If you are uploading a file, please use a smaller one.",
                               "请求内容过大。如在上传文件，请缩小文件后重试。"},
    [GW_ERR_HEADERS_TOO_LARGE] = {431, "Request Header Fields Too Large", "headers_too_large", "The request headers are too large.",
                                  "请求头信息过大。"},
    [GW_ERR_UPSTREAM_BAD_RESPONSE] = {502, "Bad Gateway", "upstream_bad_response",
                                      "The department service returned an invalid response. Please retry later.",
                                      "部门服务返回异常，请稍后重试。"},
    [GW_ERR_UPSTREAM_UNAVAILABLE] = {502, "Bad Gateway", "upstream_connect_failed",
                                     "The department service could not be reached. Please retry later.",
                                     "暂时无法连接部门服务，请稍后重试。"},
    [GW_ERR_NO_HEALTHY_TARGET] = {503, "Service Unavailable", "no_healthy_target",
                                  "The department service is temporarily unavailable. Please retry later.",
                                  "部门服务暂时不可用，请稍后重试。"},
    [GW_ERR_SERVICE_AT_CAPACITY] = {503, "Service Unavailable", "service_at_capacity",
                                    "The department service is busy. Please retry later.", "部门服务繁忙，请稍后重试。"},
    [GW_ERR_GATEWAY_OVERLOADED] = {503, "Service Unavailable", "gateway_overloaded",
                                   "The gateway is overloaded. Please retry shortly.", "系统繁忙，请稍后重试。"},
    [GW_ERR_UPSTREAM_TIMEOUT] = {504, "Gateway Timeout", "upstream_timeout", "The department service did not answer in time.",
                                 "部门服务响应超时，请稍后重试。"},
    [GW_ERR_INTERNAL] = {500, "Internal Server Error", "internal_error", "An internal error occurred. Please retry later.",
                         "系统内部错误，请稍后重试。"},
    [GW_ERR_NOT_FOUND] = {404, "Not Found", "not_found", "There is nothing at this address.", "该地址不存在。"},
    [GW_ERR_TOKEN_IN_QUERY] = {400, "Bad Request", "token_in_query",
                               "Access tokens must be sent in the Authorization header, never in the URL.",
                               "访问令牌只能放在 Authorization 请求头中，不能放在网址里。"},
    [GW_ERR_TOKEN_MISSING] = {401, "Unauthorized", "token_missing", "Please sign in to use this service.",
                              "请先登录后再使用此服务。"},
    [GW_ERR_TOKEN_INVALID] = {401, "Unauthorized", "token_invalid",
                              "Your sign-in has expired or is not valid. Please sign in again.", "登录已失效，请重新登录。"},
    [GW_ERR_STEP_UP_REQUIRED] =
        {401, "Unauthorized", "insufficient_user_authentication",
         "This service needs a higher level of identity verification. Please verify your identity and retry.",
         "此服务需要更高级别的身份核验，请完成实名认证后重试。"},
    [GW_ERR_INSUFFICIENT_SCOPE] = {403, "Forbidden", "insufficient_scope", "This app is not authorised to use this service.",
                                   "此应用无权使用该服务。"},
    [GW_ERR_USER_TOKEN_REQUIRED] = {403, "Forbidden", "user_token_required",
                                    "This service must be used on behalf of a signed-in person.", "此服务需要由登录用户本人使用。"},
    [GW_ERR_INVALID_CLIENT] = {401, "Unauthorized", "invalid_client", "This app is not allowed to sign people in here.",
                               "此应用无权在此登录。"},
    [GW_ERR_INVALID_SCOPE] = {400, "Bad Request", "invalid_scope", "The app asked for permissions it does not have.",
                              "应用请求了未获授权的权限。"},
    [GW_ERR_INVALID_MOBILE] = {400, "Bad Request", "invalid_mobile", "Please enter a valid mainland China mobile number.",
                               "请输入有效的中国大陆手机号码。"},
    [GW_ERR_INVALID_CREDENTIALS] = {401, "Unauthorized", "invalid_credentials", "The mobile number or the code/password is wrong.",
                                    "手机号码或验证码/密码错误。"},
    [GW_ERR_TOO_MANY_ATTEMPTS] = {429, "Too Many Requests", "too_many_attempts",
                                  "Too many attempts. Please wait a while, or sign in with an SMS code.",
                                  "尝试次数过多，请稍后再试，或使用短信验证码登录。"},
    [GW_ERR_SMS_TOO_SOON] = {429, "Too Many Requests", "sms_too_soon",
                             "A code was sent a moment ago. Please wait before asking for another.",
                             "验证码刚刚已发送，请稍后再重新获取。"},
    [GW_ERR_SMS_DAILY_LIMIT] = {429, "Too Many Requests", "sms_daily_limit",
                                "Too many codes were requested today. Please try again tomorrow.",
                                "今日获取验证码次数已达上限，请明天再试。"},
    [GW_ERR_SMS_UNAVAILABLE] = {503, "Service Unavailable", "sms_unavailable",
                                "SMS codes cannot be sent right now. Please retry later.", "暂时无法发送短信验证码，请稍后重试。"},
    [GW_ERR_SIGN_IN_UNAVAILABLE] = {503, "Service Unavailable", "sign_in_unavailable",
                                    "Signing in is temporarily unavailable. Please retry later.",
                                    "登录服务暂时不可用，请稍后重试。"},
    [GW_ERR_ACCOUNT_DISABLED] = {403, "Forbidden", "account_disabled",
                                 "This account is locked or closed. Please contact the service hotline.",
                                 "该账号已被锁定或注销，请联系服务热线。"},
    [GW_ERR_REAUTHENTICATION_REQUIRED] = {401, "Unauthorized", "reauthentication_required",
                                          "For your security, please sign in again (or give your current password) first.",
                                          "为了您的账号安全，请先重新登录（或输入当前密码）。"},
    [GW_ERR_PASSWORD_TOO_SHORT] = {400, "Bad Request", "password_too_short", "The password must have at least 8 characters.",
                                   "密码至少需要 8 个字符。"},
    [GW_ERR_PASSWORD_TOO_LONG] = {400, "Bad Request", "password_too_long", "The password is too long.", "密码过长。"},
    [GW_ERR_PASSWORD_BAD_CHARACTERS] = {400, "Bad Request", "password_bad_characters",
                                        "The password contains characters that cannot be used.", "密码包含不可使用的字符。"},
    [GW_ERR_PASSWORD_ALL_DIGITS] = {400, "Bad Request", "password_all_digits", "The password must not consist of digits only.",
                                    "密码不能全部为数字。"},
    [GW_ERR_PASSWORD_CONTAINS_MOBILE] = {400, "Bad Request", "password_contains_mobile",
                                         "The password must not contain your mobile number.", "密码不能包含您的手机号码。"},
    [GW_ERR_INVALID_ORG] = {400, "Bad Request", "invalid_org", "Please enter a valid unified social credit code.",
                            "请输入有效的统一社会信用代码。"},
    [GW_ERR_ORG_NOT_PERMITTED] = {403, "Forbidden", "org_not_permitted",
                                  "You are not registered to act for this enterprise or organisation.",
                                  "您未被授权代表该法人办理业务。"},
};

const struct gateway_error_info *gateway_error_info(enum gateway_error error)
{
    /* An out-of-range value is a caller bug; answering internal_error keeps the response well-formed. */
    if ((unsigned)error >= GW_ERR__COUNT)
        return &catalogue[GW_ERR_INTERNAL];
    return &catalogue[error];
}
