#include "gateway/sign_in_steps.h"

#include <stdlib.h>
#include <time.h>

#include "auth/login_guard.h"
#include "auth/password.h"
#include "auth/sms_provider.h"
#include "common/log.h"
#include "gateway/server.h"

/* ---- sending a code ---- */

int sign_in_send_code(struct db *db, const struct async_request *ar, const char *mobile, enum sms_purpose purpose,
                      const char *client_ip, unsigned *resend_after_s, struct api_outcome *outcome)
{
    const struct sms_config *sms = &ar->snapshot->config->identity.sms;
    if (!sms->enabled)
        return auth_api_fail(outcome, GW_ERR_SMS_UNAVAILABLE, 0);
    char code[SMS_CODE_BUFSIZE], *err = NULL;
    unsigned retry = 0;
    int64_t now_ms = (int64_t)time(NULL) * 1000;
    switch (sms_issue(db, ar->server->identity_keys.sms_code_hash, sms, mobile, purpose, client_ip, now_ms / 1000, code, &retry,
                      &err)) {
    case SMS_ISSUED:
        break;
    case SMS_TOO_SOON:
        return auth_api_fail(outcome, GW_ERR_SMS_TOO_SOON, retry);
    case SMS_MOBILE_DAILY_LIMIT:
    case SMS_IP_DAILY_LIMIT:
        return auth_api_fail(outcome, GW_ERR_SMS_DAILY_LIMIT, retry);
    default:
        return auth_api_unavailable(outcome, "cannot issue an SMS code", err);
    }
    struct sms_message message = {
        .mobile = mobile, .code = code, .purpose = sms_purpose_name(purpose), .ttl_s = sms->code_ttl_s, .time_ms = now_ms};
    int sent = sms_provider_send(sms, &message, &err);
    secrets_wipe(code, sizeof(code));
    if (sent != 0) {
        log_error("sign-in: %s", err);
        free(err);
        return auth_api_fail(outcome, GW_ERR_SMS_UNAVAILABLE, 0);
    }
    *resend_after_s = sms->resend_interval_s;
    return 0;
}

/* ---- checking credentials ---- */

static int charge(struct db *db, const struct async_request *ar, enum login_guard_kind kind, const char *subject,
                  struct api_outcome *outcome)
{
    unsigned retry = 0;
    char *err = NULL;
    switch (login_guard_charge(db, &ar->snapshot->config->identity.login_guard, kind, subject, &retry, &err)) {
    case LOGIN_GUARD_ALLOWED:
        return 0;
    case LOGIN_GUARD_LOCKED:
        return auth_api_fail(outcome, GW_ERR_TOO_MANY_ATTEMPTS, retry);
    default:
        return auth_api_unavailable(outcome, "the login guard failed", err);
    }
}

/* Keeps stored hashes at the current Argon2 parameters; a failure only means the next login tries again. */
static void rehash_if_needed(struct db *db, const struct sign_in_credentials *cred, const struct account *account)
{
    char phc[PASSWORD_PHC_BUFSIZE], *err = NULL;
    if (password_needs_rehash(account->password_hash) != 1 ||
        password_hash(cred->password, cred->password_len, phc, sizeof(phc)) != 0)
        return;
    if (accounts_set_password(db, account->id, phc, &err) != ACCOUNTS_OK) {
        log_warn("sign-in: cannot store a rehashed password: %s", err != NULL ? err : "account vanished");
        free(err);
    }
}

static int check_password(struct db *db, const struct async_request *ar, const struct sign_in_credentials *cred,
                          struct account *account, struct api_outcome *outcome)
{
    char *err = NULL;
    if (charge(db, ar, LOGIN_GUARD_MOBILE, cred->mobile, outcome) != 0)
        return -1;
    int found = accounts_find_by_mobile(db, cred->mobile, account, &err);
    if (found < 0)
        return auth_api_unavailable(outcome, "cannot load the account", err);
    int has_password = found == 1 && account->password_hash[0] != '\0';
    /* no account or no password: the same Argon2 cost as a wrong password, so timing does not tell them apart */
    enum password_result result = has_password ? password_verify(account->password_hash, cred->password, cred->password_len)
                                               : password_verify_dummy(cred->password, cred->password_len);
    if (result == PASSWORD_ERROR && has_password)
        log_error("sign-in: the stored password hash of account %s cannot be used", account->id);
    if (result != PASSWORD_MATCH)
        return auth_api_fail(outcome, GW_ERR_INVALID_CREDENTIALS, 0);
    rehash_if_needed(db, cred, account);
    return 0;
}

static int check_code(struct db *db, const struct async_request *ar, const struct sign_in_credentials *cred,
                      struct account *account, struct api_outcome *outcome)
{
    char *err = NULL;
    int created = 0;
    const struct sms_config *sms = &ar->snapshot->config->identity.sms;
    switch (sms_verify(db, ar->server->identity_keys.sms_code_hash, sms, cred->mobile, SMS_PURPOSE_LOGIN, cred->code, &err)) {
    case SMS_CODE_OK:
        break;
    case SMS_CODE_WRONG:
    case SMS_CODE_UNUSABLE:
        return auth_api_fail(outcome, GW_ERR_INVALID_CREDENTIALS, 0);
    default:
        return auth_api_unavailable(outcome, "cannot check the SMS code", err);
    }
    if (accounts_find_or_create_by_mobile(db, cred->mobile, account, &created, &err) != 1)
        return auth_api_unavailable(outcome, "cannot register the account", err);
    return 0;
}

int sign_in_check_credentials(struct db *db, const struct async_request *ar, const struct sign_in_credentials *cred,
                              struct account *account, struct api_outcome *outcome)
{
    char *err = NULL;
    if (charge(db, ar, LOGIN_GUARD_IP, cred->client_ip, outcome) != 0)
        return -1;
    if ((cred->password != NULL ? check_password(db, ar, cred, account, outcome) : check_code(db, ar, cred, account, outcome)) != 0)
        return -1;
    /* refunds the address's charge and lifts the number's lock: the login proved it */
    if (login_guard_succeeded(db, LOGIN_GUARD_MOBILE, cred->mobile, &err) != 0 ||
        login_guard_succeeded(db, LOGIN_GUARD_IP, cred->client_ip, &err) != 0)
        return auth_api_unavailable(outcome, "cannot record the successful login", err);
    if (account->status != ACCOUNT_ACTIVE)
        return auth_api_fail(outcome, GW_ERR_ACCOUNT_DISABLED, 0);
    return 0;
}
