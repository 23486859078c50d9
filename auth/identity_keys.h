/*
 * identity_keys.h — the derived keys the identity modules work with, derived
 * once from the master key (auth/secrets.h) when the gateway starts.
 *
 * Each purpose has its own HKDF label, so a key for one is useless for any
 * other. The labels already in secrets.h are reused for what they name; the
 * three below are new purposes of this module's callers. Like every label they
 * are part of the stored format: changing one invalidates what was stored
 * under it (docs/identity-data.md, rotation).
 *
 *   token_hash       refresh tokens and session ids (HMAC; stored form)
 *   id_number_enc    resident ID numbers (AES-256-GCM)
 *   id_number_index  their lookup index (HMAC)
 *   sms_code_hash    SMS codes (HMAC over mobile, purpose and code)
 *   refresh_seal     a refresh token's successor, sealed for the reuse grace
 *                    window only (auth/refresh_tokens.h)
 *   csrf             the login and consent pages' anti-forgery tokens (HMAC
 *                    of the browser's pre-login cookie; nothing is stored)
 *
 * Immutable once derived; any thread may read it. Wiped with
 * identity_keys_wipe.
 */
#ifndef YIWANG_AUTH_IDENTITY_KEYS_H
#define YIWANG_AUTH_IDENTITY_KEYS_H

#include "auth/secrets.h"

#define IDENTITY_LABEL_SMS_CODE_HASH "yiwang sms-code hash v1"
#define IDENTITY_LABEL_REFRESH_SEAL "yiwang refresh-token successor v1"
#define IDENTITY_LABEL_CSRF "yiwang browser csrf v1"

struct identity_keys {
    unsigned char token_hash[SECRETS_KEY_LEN];
    unsigned char id_number_enc[SECRETS_KEY_LEN];
    unsigned char id_number_index[SECRETS_KEY_LEN];
    unsigned char sms_code_hash[SECRETS_KEY_LEN];
    unsigned char refresh_seal[SECRETS_KEY_LEN];
    unsigned char csrf[SECRETS_KEY_LEN];
};

/* Derives every key. Returns 0, or -1 with `out` wiped (no master key, or HKDF failed). */
int identity_keys_derive(const struct secrets_master *master, struct identity_keys *out);
void identity_keys_wipe(struct identity_keys *keys);

#endif
