#include "auth/signing_keys.h"

#include <openssl/bio.h>
#include <openssl/pem.h>
#include <stdlib.h>
#include <string.h>

#include "common/strbuf.h"
#include "common/xalloc.h"

static const char *alg_name(enum jwt_alg alg)
{
    return alg == JWT_ALG_RS256_PINNED ? "RS256" : "ES256";
}

static int fail_db(struct db *db, const char *what, char **err)
{
    *err = xasprintf("%s: %s", what, db_error(db));
    return -1;
}

static void associated_data(const char *kid, char *out, size_t size)
{
    snprintf(out, size, "signing_keys.private_key_ciphertext:%s", kid);
}

/* ---- rotation ---- */

static int seal_private_key(const struct secrets_master *master, const struct jwt_signer *signer, unsigned char **sealed,
                            size_t *sealed_len, char **err)
{
    unsigned char key[SECRETS_KEY_LEN];
    size_t pem_len = 0;
    char *pem = jwt_signer_private_pem(signer, &pem_len), ad[128];
    if (pem == NULL || secrets_derive(master, SECRETS_LABEL_SIGNING_KEY_ENC, key) != 0) {
        free(pem);
        *err = xstrdup("cannot encode or derive the key to seal the private key");
        return -1;
    }
    associated_data(signer->kid, ad, sizeof(ad));
    *sealed = xmalloc(SECRETS_SEALED_LEN(pem_len));
    enum secrets_status status = secrets_seal(key, ad, strlen(ad), pem, pem_len, *sealed, SECRETS_SEALED_LEN(pem_len), sealed_len);
    secrets_wipe(key, sizeof(key));
    secrets_wipe(pem, pem_len);
    free(pem);
    if (status != SECRETS_OK) {
        free(*sealed);
        *err = xasprintf("cannot seal the private key: %s", secrets_status_name(status));
        return -1;
    }
    return 0;
}

static int demote_and_insert(struct db *db, const struct jwt_signer *signer, const unsigned char *sealed, size_t sealed_len,
                             char **err)
{
    const char *alg = alg_name(signer->alg);
    size_t pem_len;
    char *public_pem = jwt_signer_public_pem(signer, &pem_len);
    int rc = 0;
    if (db_exec(db, 0,
                "UPDATE signing_keys SET state = 'retired', retired_at = UTC_TIMESTAMP(6) WHERE state = 'previous' AND alg = ?",
                DB_ARGS(db_text(alg))) != 0 ||
        db_exec(db, 0, "UPDATE signing_keys SET state = 'previous' WHERE state = 'active' AND alg = ?", DB_ARGS(db_text(alg))) !=
            0 ||
        db_exec(db, 0,
                "INSERT INTO signing_keys (kid, alg, public_pem, private_key_ciphertext, state, activated_at) "
                "VALUES (?, ?, ?, ?, 'active', UTC_TIMESTAMP(6))",
                DB_ARGS(db_text(signer->kid), db_text(alg), db_text(public_pem), db_blob(sealed, sealed_len))) != 0)
        rc = fail_db(db, "cannot store the new signing key", err);
    free(public_pem);
    return rc;
}

int signing_keys_rotate_in_transaction(struct db *db, const struct secrets_master *master, enum jwt_alg alg, int only_if_none,
                                       int *created, char kid[44], char **err)
{
    *created = 0;
    /* the lock on the active row serialises concurrent rotations (several nodes, several operators) */
    struct db_result *res = db_query(db, 0, "SELECT kid FROM signing_keys WHERE state = 'active' AND alg = ? FOR UPDATE",
                                     DB_ARGS(db_text(alg_name(alg))));
    if (res == NULL)
        return fail_db(db, "cannot read the active key", err);
    if (db_result_next(res) == 1 && only_if_none) {
        db_result_text_copy(res, 0, kid, 44);
        return 0;
    }
    struct jwt_signer signer;
    unsigned char *sealed = NULL;
    size_t sealed_len = 0;
    if (jwt_signer_generate(&signer, alg, err) != 0)
        return -1;
    int rc = seal_private_key(master, &signer, &sealed, &sealed_len, err);
    if (rc == 0)
        rc = demote_and_insert(db, &signer, sealed, sealed_len, err);
    if (rc == 0) {
        *created = 1;
        memcpy(kid, signer.kid, 44);
    }
    free(sealed);
    jwt_signer_clear(&signer);
    return rc;
}

int signing_keys_rotate(struct db *db, const struct secrets_master *master, enum jwt_alg alg, int only_if_none, int *created,
                        char kid[44], char **err)
{
    *created = 0;
    if (db_begin(db) != 0)
        return fail_db(db, "cannot start a transaction", err);
    int rc = signing_keys_rotate_in_transaction(db, master, alg, only_if_none, created, kid, err);
    if (rc == 0 && db_commit(db) != 0)
        rc = fail_db(db, "cannot commit the new signing key", err);
    if (rc != 0) {
        db_rollback(db);
        *created = 0;
    }
    return rc;
}

/* ---- loading ---- */

char *signing_keys_fingerprint(struct db *db, char **err)
{
    struct db_result *res = db_query(
        db, DB_IDEMPOTENT, "SELECT kid, state FROM signing_keys WHERE state IN ('active', 'previous') ORDER BY kid", DB_NO_ARGS);
    if (res == NULL) {
        fail_db(db, "cannot read the signing keys", err);
        return NULL;
    }
    struct strbuf out = STRBUF_INIT;
    while (db_result_next(res) == 1) {
        const char *kid = NULL, *state = NULL;
        db_result_text(res, 0, &kid, NULL);
        db_result_text(res, 1, &state, NULL);
        strbuf_appendf(&out, "%s:%s,", kid != NULL ? kid : "", state != NULL ? state : "");
    }
    return strbuf_detach(&out, NULL);
}

static EVP_PKEY *parse_public_pem(const char *pem, size_t len)
{
    BIO *bio = BIO_new_mem_buf(pem, (int)len);
    EVP_PKEY *pkey = bio != NULL ? PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL) : NULL;
    BIO_free(bio);
    return pkey;
}

static int open_private_key(const struct secrets_master *master, const char *kid, enum jwt_alg alg, const void *sealed,
                            size_t sealed_len, struct jwt_signer *out, char **err)
{
    unsigned char key[SECRETS_KEY_LEN];
    char ad[128];
    if (sealed_len < SECRETS_SEAL_OVERHEAD || secrets_derive(master, SECRETS_LABEL_SIGNING_KEY_ENC, key) != 0) {
        *err = xasprintf("the private half of signing key %s is unusable", kid);
        return -1;
    }
    associated_data(kid, ad, sizeof(ad));
    size_t pem_len = 0;
    char *pem = xmalloc(sealed_len);
    enum secrets_status status = secrets_open(key, ad, strlen(ad), sealed, sealed_len, (unsigned char *)pem, sealed_len, &pem_len);
    secrets_wipe(key, sizeof(key));
    int rc = -1;
    if (status != SECRETS_OK)
        *err = xasprintf("the private half of signing key %s does not open with this master key (%s)", kid,
                         secrets_status_name(status));
    else if ((rc = jwt_signer_from_pem(out, alg, pem, pem_len, err)) == 0 && strcmp(out->kid, kid) != 0) {
        jwt_signer_clear(out);
        *err = xasprintf("signing key %s holds a different key", kid);
        rc = -1;
    }
    secrets_wipe(pem, sealed_len);
    free(pem);
    return rc;
}

static int load_row(struct db_result *res, const struct secrets_master *master, enum jwt_alg signing_alg,
                    struct signing_key_set *out, char **err)
{
    char kid[44], alg_text[8], state[16];
    const char *pem = NULL;
    const void *sealed = NULL;
    size_t pem_len = 0, sealed_len = 0;
    if (db_result_text_copy(res, 0, kid, sizeof(kid)) != DB_GET_OK ||
        db_result_text_copy(res, 1, alg_text, sizeof(alg_text)) != DB_GET_OK ||
        db_result_text(res, 2, &pem, &pem_len) != DB_GET_OK || db_result_blob(res, 3, &sealed, &sealed_len) != DB_GET_OK ||
        db_result_text_copy(res, 4, state, sizeof(state)) != DB_GET_OK) {
        *err = xstrdup("a signing_keys row cannot be read");
        return -1;
    }
    enum jwt_alg alg = strcmp(alg_text, "RS256") == 0 ? JWT_ALG_RS256_PINNED : JWT_ALG_ES256_PINNED;
    EVP_PKEY *pkey = parse_public_pem(pem, pem_len);
    if (pkey == NULL) {
        *err = xasprintf("signing key %s has an unreadable public key", kid);
        return -1;
    }
    int active = strcmp(state, "active") == 0;
    out->keys = xrealloc(out->keys, (out->num_keys + 1) * sizeof(*out->keys));
    struct published_key *key = &out->keys[out->num_keys++];
    *key = (struct published_key){.alg = alg, .pkey = pkey, .active = active};
    memcpy(key->kid, kid, sizeof(kid));
    /* the newest active key of the configured algorithm signs (the query orders by activation) */
    if (active && alg == signing_alg && master != NULL && out->active.pkey == NULL)
        return open_private_key(master, kid, alg, sealed, sealed_len, &out->active, err);
    return 0;
}

int signing_keys_load(struct db *db, const struct secrets_master *master, enum jwt_alg signing_alg, struct signing_key_set *out,
                      char **err)
{
    memset(out, 0, sizeof(*out));
    if ((out->fingerprint = signing_keys_fingerprint(db, err)) == NULL)
        return -1;
    struct db_result *res = db_query(db, DB_IDEMPOTENT,
                                     "SELECT kid, alg, public_pem, private_key_ciphertext, state FROM signing_keys "
                                     "WHERE state IN ('active', 'previous') ORDER BY state = 'active' DESC, activated_at DESC",
                                     DB_NO_ARGS);
    if (res == NULL) {
        fail_db(db, "cannot read the signing keys", err);
        signing_key_set_clear(out);
        return -1;
    }
    int row;
    while ((row = db_result_next(res)) == 1) {
        if (load_row(res, master, signing_alg, out, err) != 0) {
            signing_key_set_clear(out);
            return -1;
        }
    }
    if (row < 0) {
        fail_db(db, "cannot read the signing keys", err);
        signing_key_set_clear(out);
        return -1;
    }
    return 0;
}

void signing_key_set_clear(struct signing_key_set *set)
{
    jwt_signer_clear(&set->active);
    for (size_t i = 0; i < set->num_keys; i++)
        EVP_PKEY_free(set->keys[i].pkey);
    free(set->keys);
    free(set->fingerprint);
    memset(set, 0, sizeof(*set));
}
