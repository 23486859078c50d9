/*
 * sign_in_steps.h — the steps of signing a person in that the JSON sign-in
 * API (auth_api_*.c) and the browser login page (browser_flow.c) share, so
 * both answer the same attacks the same way:
 *
 *   - sending an SMS code (throttles, provider delivery);
 *   - checking a code or a password: the login guard is charged first (per
 *     address, and per mobile number for passwords), then the code or the
 *     Argon2id hash is checked, with one answer (invalid_credentials) for
 *     every way of being wrong and a dummy Argon2id run when there is no
 *     password to compare with. A first SMS login registers the number.
 *
 * Worker threads only (inside an async_request's work callback, with the
 * worker's database connection). Nothing here logs a mobile number, a code
 * or a password.
 */
#ifndef YIWANG_GATEWAY_SIGN_IN_STEPS_H
#define YIWANG_GATEWAY_SIGN_IN_STEPS_H

#include <stddef.h>

#include "auth/accounts.h"
#include "auth/sms.h"
#include "gateway/auth_api_common.h"

/* What the person typed, already well formed (mobile normalised, code of SMS_CODE_LEN digits, password not empty). */
struct sign_in_credentials {
    const char *mobile;
    const char *code;     /* NULL: a password login */
    const char *password; /* NULL: an SMS login */
    size_t password_len;
    const char *client_ip; /* the login guard's address key */
};

/*
 * Issues a code for `mobile` and hands it to the SMS provider; writes the
 * resend interval to *resend_after_s. 0, or -1 with the outcome set
 * (sms_too_soon, sms_daily_limit, sms_unavailable).
 */
int sign_in_send_code(struct db *db, const struct async_request *ar, const char *mobile, enum sms_purpose purpose,
                      const char *client_ip, unsigned *resend_after_s, struct api_outcome *outcome);

/*
 * Charges the guard, checks the credentials and, on success, lifts what the
 * login proved and fills `account` (active). 0, or -1 with the outcome set:
 * too_many_attempts (with the wait), invalid_credentials, account_disabled,
 * sign_in_unavailable.
 */
int sign_in_check_credentials(struct db *db, const struct async_request *ar, const struct sign_in_credentials *cred,
                              struct account *account, struct api_outcome *outcome);

#endif
