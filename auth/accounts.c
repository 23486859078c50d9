#include "auth/accounts.h"

#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/base64url.h"
#include "common/xalloc.h"

#define ACCOUNT_COLUMNS "id, mobile, name, email, id_number_index IS NOT NULL, assurance_level, status, password_hash"

static const char *const status_names[] = {
    [ACCOUNT_ACTIVE] = "active",
    [ACCOUNT_LOCKED] = "locked",
    [ACCOUNT_DISABLED] = "disabled",
};

const char *account_status_name(enum account_status status)
{
    return (unsigned)status < sizeof(status_names) / sizeof(status_names[0]) ? status_names[status] : "disabled";
}

static int status_from_name(const char *name, enum account_status *out)
{
    for (size_t i = 0; i < sizeof(status_names) / sizeof(status_names[0]); i++) {
        if (strcmp(status_names[i], name) == 0) {
            *out = (enum account_status)i;
            return 0;
        }
    }
    return -1;
}

int random_id_generate(char out[RANDOM_ID_BUFSIZE])
{
    unsigned char bytes[16];
    if (RAND_bytes(bytes, sizeof(bytes)) != 1)
        return -1;
    out[base64url_encode(bytes, sizeof(bytes), out)] = '\0';
    return 0;
}

void accounts_id_number_ad(const char *id, char *out, size_t size)
{
    snprintf(out, size, "accounts.id_number:%s", id);
}

static int fail(struct db *db, const char *what, char **err)
{
    *err = xasprintf("%s: %s", what, db_error(db));
    return -1;
}

static enum db_get copy_optional(struct db_result *res, size_t col, char *buf, size_t size)
{
    buf[0] = '\0';
    enum db_get got = db_result_text_copy(res, col, buf, size);
    return got == DB_GET_NULL ? DB_GET_OK : got;
}

/* Reads the row of an ACCOUNT_COLUMNS query: 1, 0 (no row) or -1. */
static int read_account(struct db *db, struct db_result *res, struct account *out, char **err)
{
    memset(out, 0, sizeof(*out));
    if (res == NULL)
        return fail(db, "cannot read the account", err);
    int row = db_result_next(res);
    if (row <= 0)
        return row < 0 ? fail(db, "cannot read the account", err) : 0;
    char status[16];
    int level = 0;
    int ok = db_result_text_copy(res, 0, out->id, sizeof(out->id)) == DB_GET_OK &&
             db_result_text_copy(res, 1, out->mobile, sizeof(out->mobile)) == DB_GET_OK &&
             copy_optional(res, 2, out->name, sizeof(out->name)) == DB_GET_OK &&
             copy_optional(res, 3, out->email, sizeof(out->email)) == DB_GET_OK &&
             db_result_int(res, 4, &out->has_id_number) == DB_GET_OK && db_result_int(res, 5, &level) == DB_GET_OK &&
             db_result_text_copy(res, 6, status, sizeof(status)) == DB_GET_OK && status_from_name(status, &out->status) == 0 &&
             copy_optional(res, 7, out->password_hash, sizeof(out->password_hash)) == DB_GET_OK;
    if (!ok || level < 1 || level > ACCOUNT_MAX_LEVEL) {
        memset(out, 0, sizeof(*out));
        return fail(db, "an account row cannot be read", err);
    }
    out->assurance_level = (unsigned)level;
    return 1;
}

int accounts_find_by_id(struct db *db, const char *id, struct account *out, char **err)
{
    return read_account(
        db, db_query(db, DB_IDEMPOTENT, "SELECT " ACCOUNT_COLUMNS " FROM accounts WHERE id = ?", DB_ARGS(db_text(id))), out, err);
}

int accounts_find_by_mobile(struct db *db, const char *mobile, struct account *out, char **err)
{
    return read_account(
        db, db_query(db, DB_IDEMPOTENT, "SELECT " ACCOUNT_COLUMNS " FROM accounts WHERE mobile = ?", DB_ARGS(db_text(mobile))), out,
        err);
}

int accounts_find_by_id_number(struct db *db, const struct identity_keys *keys, const char *id_number, struct account *out,
                               char **err)
{
    unsigned char index[SECRETS_HASH_LEN];
    if (secrets_keyed_hash(keys->id_number_index, id_number, strlen(id_number), index) != 0) {
        *err = xstrdup("cannot compute the ID number index");
        return -1;
    }
    return read_account(db,
                        db_query(db, DB_IDEMPOTENT, "SELECT " ACCOUNT_COLUMNS " FROM accounts WHERE id_number_index = ?",
                                 DB_ARGS(db_blob(index, sizeof(index)))),
                        out, err);
}

/* The sealed ID number and its index for account `id`; 0 or -1. */
static int seal_id_number(const struct identity_keys *keys, const char *id, const char *id_number,
                          unsigned char sealed[SECRETS_SEALED_LEN(IDENTIFIERS_RESIDENT_ID_LEN)], size_t *sealed_len,
                          unsigned char index[SECRETS_HASH_LEN])
{
    char ad[64];
    size_t len = strlen(id_number);
    if (len != IDENTIFIERS_RESIDENT_ID_LEN)
        return -1;
    accounts_id_number_ad(id, ad, sizeof(ad));
    if (secrets_seal(keys->id_number_enc, ad, strlen(ad), id_number, len, sealed, SECRETS_SEALED_LEN(IDENTIFIERS_RESIDENT_ID_LEN),
                     sealed_len) != SECRETS_OK)
        return -1;
    return secrets_keyed_hash(keys->id_number_index, id_number, len, index);
}

/* Which unique key a failed INSERT/UPDATE hit (MariaDB names the key in the message). */
static enum accounts_result duplicate_kind(struct db *db)
{
    if (!db_error_is_duplicate_key(db))
        return ACCOUNTS_ERROR;
    return strstr(db_error(db), "accounts_id_number") != NULL ? ACCOUNTS_ID_NUMBER_TAKEN : ACCOUNTS_MOBILE_TAKEN;
}

enum accounts_result accounts_create(struct db *db, const struct identity_keys *keys, const struct account_spec *spec,
                                     struct account *out, char **err)
{
    char id[RANDOM_ID_BUFSIZE];
    unsigned char sealed[SECRETS_SEALED_LEN(IDENTIFIERS_RESIDENT_ID_LEN)], index[SECRETS_HASH_LEN];
    size_t sealed_len = 0;
    if (random_id_generate(id) != 0 ||
        (spec->id_number != NULL && seal_id_number(keys, id, spec->id_number, sealed, &sealed_len, index) != 0)) {
        *err = xstrdup("cannot generate an account id or seal the ID number");
        return ACCOUNTS_ERROR;
    }
    struct db_param sealed_param = spec->id_number != NULL ? db_blob(sealed, sealed_len) : db_null();
    struct db_param index_param = spec->id_number != NULL ? db_blob(index, sizeof(index)) : db_null();
    if (db_exec(db, 0,
                "INSERT INTO accounts (id, mobile, name, email, id_number_sealed, id_number_index) VALUES (?, ?, ?, ?, ?, ?)",
                DB_ARGS(db_text(id), db_text(spec->mobile), db_text(spec->name), db_text(spec->email), sealed_param,
                        index_param)) != 0) {
        enum accounts_result result = duplicate_kind(db);
        if (result == ACCOUNTS_ERROR)
            fail(db, "cannot create the account", err);
        return result;
    }
    return accounts_find_by_id(db, id, out, err) == 1 ? ACCOUNTS_OK : ACCOUNTS_ERROR;
}

int accounts_find_or_create_by_mobile(struct db *db, const char *mobile, struct account *out, int *created, char **err)
{
    *created = 0;
    int found = accounts_find_by_mobile(db, mobile, out, err);
    if (found != 0)
        return found;
    struct account_spec spec = {.mobile = mobile};
    enum accounts_result result = accounts_create(db, NULL, &spec, out, err);
    if (result == ACCOUNTS_OK) {
        *created = 1;
        return 1;
    }
    if (result != ACCOUNTS_MOBILE_TAKEN)
        return -1;
    /* a parallel first login won the insert: its account is ours too */
    found = accounts_find_by_mobile(db, mobile, out, err);
    if (found == 0)
        *err = xstrdup("the account of this mobile number vanished while being created");
    return found == 1 ? 1 : -1;
}

static enum accounts_result updated_one(struct db *db, int rc, const char *what, char **err)
{
    if (rc != 0) {
        fail(db, what, err);
        return ACCOUNTS_ERROR;
    }
    return db_affected_rows(db) == 1 ? ACCOUNTS_OK : ACCOUNTS_NOT_FOUND;
}

enum accounts_result accounts_set_password(struct db *db, const char *id, const char *phc, char **err)
{
    int rc =
        db_exec(db, DB_IDEMPOTENT, "UPDATE accounts SET password_hash = ?, password_changed_at = UTC_TIMESTAMP(6) WHERE id = ?",
                DB_ARGS(db_text(phc), db_text(id)));
    return updated_one(db, rc, "cannot store the password", err);
}

enum accounts_result accounts_set_id_number(struct db *db, const struct identity_keys *keys, const char *id, const char *id_number,
                                            char **err)
{
    unsigned char sealed[SECRETS_SEALED_LEN(IDENTIFIERS_RESIDENT_ID_LEN)], index[SECRETS_HASH_LEN];
    size_t sealed_len = 0;
    if (seal_id_number(keys, id, id_number, sealed, &sealed_len, index) != 0) {
        *err = xstrdup("cannot seal the ID number");
        return ACCOUNTS_ERROR;
    }
    if (db_exec(db, DB_IDEMPOTENT, "UPDATE accounts SET id_number_sealed = ?, id_number_index = ? WHERE id = ?",
                DB_ARGS(db_blob(sealed, sealed_len), db_blob(index, sizeof(index)), db_text(id))) != 0) {
        enum accounts_result result = duplicate_kind(db);
        if (result == ACCOUNTS_ERROR)
            fail(db, "cannot store the ID number", err);
        return result;
    }
    return db_affected_rows(db) == 1 ? ACCOUNTS_OK : ACCOUNTS_NOT_FOUND;
}

int accounts_read_id_number(struct db *db, const struct identity_keys *keys, const char *id,
                            char out[IDENTIFIERS_RESIDENT_ID_BUFSIZE], char **err)
{
    out[0] = '\0';
    struct db_result *res =
        db_query(db, DB_IDEMPOTENT, "SELECT id_number_sealed FROM accounts WHERE id = ? AND id_number_sealed IS NOT NULL",
                 DB_ARGS(db_text(id)));
    int row = res != NULL ? db_result_next(res) : -1;
    if (row <= 0)
        return row < 0 ? fail(db, "cannot read the ID number", err) : 0;
    const void *sealed = NULL;
    size_t sealed_len = 0, len = 0;
    char ad[64];
    accounts_id_number_ad(id, ad, sizeof(ad));
    if (db_result_blob(res, 0, &sealed, &sealed_len) != DB_GET_OK ||
        secrets_open(keys->id_number_enc, ad, strlen(ad), sealed, sealed_len, (unsigned char *)out,
                     IDENTIFIERS_RESIDENT_ID_BUFSIZE - 1, &len) != SECRETS_OK ||
        len != IDENTIFIERS_RESIDENT_ID_LEN) {
        secrets_wipe(out, IDENTIFIERS_RESIDENT_ID_BUFSIZE);
        *err = xasprintf("the sealed ID number of account %s does not open", id);
        return -1;
    }
    out[len] = '\0';
    return 1;
}

static int raise_locked(struct db *db, const char *id, unsigned level, const char *actor, const char *evidence, char **err)
{
    struct db_result *res = db_query(db, 0, "SELECT assurance_level FROM accounts WHERE id = ? FOR UPDATE", DB_ARGS(db_text(id)));
    int current = 0, row = res != NULL ? db_result_next(res) : -1;
    if (row == 0) {
        *err = xstrdup("no such account");
        return -1;
    }
    if (row < 0 || db_result_int(res, 0, &current) != DB_GET_OK)
        return fail(db, "cannot read the assurance level", err);
    if ((unsigned)current >= level)
        return 0;
    if (db_exec(db, 0, "UPDATE accounts SET assurance_level = ? WHERE id = ?", DB_ARGS(db_uint(level), db_text(id))) != 0 ||
        db_exec(db, 0,
                "INSERT INTO account_assurance_events (account_id, from_level, to_level, actor, evidence) VALUES (?, ?, ?, ?, ?)",
                DB_ARGS(db_text(id), db_int(current), db_uint(level), db_text(actor), db_text(evidence != NULL ? evidence : ""))) !=
            0)
        return fail(db, "cannot raise the assurance level", err);
    return 1;
}

int accounts_raise_assurance(struct db *db, const char *id, unsigned level, const char *actor, const char *evidence, char **err)
{
    if (level < 2 || level > ACCOUNT_MAX_LEVEL || actor == NULL || actor[0] == '\0') {
        *err = xstrdup("a raise needs a level of 2 or 3 and an actor");
        return -1;
    }
    if (db_begin(db) != 0)
        return fail(db, "cannot start a transaction", err);
    int raised = raise_locked(db, id, level, actor, evidence, err);
    if (raised < 0) {
        db_rollback(db);
        return -1;
    }
    if (db_commit(db) != 0) {
        db_rollback(db);
        return fail(db, "cannot commit the assurance level", err);
    }
    return raised;
}

enum accounts_result accounts_set_status(struct db *db, const char *id, enum account_status status, char **err)
{
    int rc = db_exec(db, DB_IDEMPOTENT, "UPDATE accounts SET status = ? WHERE id = ?",
                     DB_ARGS(db_text(account_status_name(status)), db_text(id)));
    return updated_one(db, rc, "cannot set the account status", err);
}
