#include "auth/identity_keys.h"

int identity_keys_derive(const struct secrets_master *master, struct identity_keys *out)
{
    if (secrets_derive(master, SECRETS_LABEL_TOKEN_HASH, out->token_hash) != 0 ||
        secrets_derive(master, SECRETS_LABEL_ID_NUMBER_ENC, out->id_number_enc) != 0 ||
        secrets_derive(master, SECRETS_LABEL_ID_NUMBER_INDEX, out->id_number_index) != 0 ||
        secrets_derive(master, IDENTITY_LABEL_SMS_CODE_HASH, out->sms_code_hash) != 0 ||
        secrets_derive(master, IDENTITY_LABEL_REFRESH_SEAL, out->refresh_seal) != 0 ||
        secrets_derive(master, IDENTITY_LABEL_CSRF, out->csrf) != 0) {
        identity_keys_wipe(out);
        return -1;
    }
    return 0;
}

void identity_keys_wipe(struct identity_keys *keys)
{
    secrets_wipe(keys, sizeof(*keys));
}
