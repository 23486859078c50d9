/*
 * accounts.h — natural persons (自然人) in the `accounts` table
 * (schemas/sql/003_accounts_sessions.sql).
 *
 * An account is found by its id (the opaque `sub` of its tokens: 128 random
 * bits, base64url), by its mobile number (normal form of auth/identifiers.h)
 * or by its resident ID number. The ID number is stored only sealed
 * (AES-256-GCM under the id-number key, associated data
 * "accounts.id_number:<id>", so a ciphertext copied to another row does not
 * open) plus an HMAC index with a unique key, which is what lookups and the
 * "already registered" check use. It never leaves this module except through
 * accounts_read_id_number, for callers that must show or forward it; it is
 * never logged, put in a token or in an error message.
 *
 * Assurance levels: 1 registered (mobile number proven by SMS), 2 real-name
 * verified, 3 verified in person. accounts_raise_assurance only raises,
 * records who raised it and on what evidence (account_assurance_events), and
 * is for authorised callers only: no endpoint of the login API reaches it.
 * The caller — the admin API or a verification service's callback — checks
 * its own caller's authority first. Lowering a level is not an operation:
 * disable the account instead.
 *
 * Threads: every function taking a `struct db` blocks (worker threads, CLI,
 * tests). Results are owned by the caller; nothing is shared.
 */
#ifndef YIWANG_AUTH_ACCOUNTS_H
#define YIWANG_AUTH_ACCOUNTS_H

#include <stdint.h>

#include "auth/identifiers.h"
#include "auth/identity_keys.h"
#include "auth/password.h"
#include "common/db.h"

/* 128 random bits in base64url: account ids, session ids (sid), refresh-token families, legal persons. */
#define RANDOM_ID_LEN 22
#define RANDOM_ID_BUFSIZE (RANDOM_ID_LEN + 1)

#define ACCOUNT_MAX_LEVEL 3

enum account_status {
    ACCOUNT_ACTIVE,
    ACCOUNT_LOCKED,   /* by an operator, e.g. reported stolen; not the login guard's temporary lock */
    ACCOUNT_DISABLED, /* closed */
};

struct account {
    char id[RANDOM_ID_BUFSIZE];
    char mobile[IDENTIFIERS_MOBILE_BUFSIZE];
    char name[257];  /* VARCHAR(64) of utf8mb4; "" when not known */
    char email[255]; /* "" when none */
    int has_id_number;
    unsigned assurance_level; /* 1..3 */
    enum account_status status;
    char password_hash[PASSWORD_PHC_BUFSIZE]; /* PHC string; "" when no password is set */
};

/* What a new account starts with. mobile is required; the rest may be NULL. */
struct account_spec {
    const char *mobile;    /* normalised */
    const char *name;      /* at most 64 characters */
    const char *email;     /* at most 254 bytes */
    const char *id_number; /* normalised (identifiers_resident_id_normalise) */
};

enum accounts_result {
    ACCOUNTS_OK = 0,
    ACCOUNTS_MOBILE_TAKEN,    /* another account has this mobile number */
    ACCOUNTS_ID_NUMBER_TAKEN, /* another account has this resident ID number */
    ACCOUNTS_NOT_FOUND,
    ACCOUNTS_ERROR, /* database or crypto failure; *err says which (never with personal data) */
};

const char *account_status_name(enum account_status status);
/* A fresh random id (RANDOM_ID_LEN base64url characters and a NUL). 0, or -1 if the random generator failed. */
int random_id_generate(char out[RANDOM_ID_BUFSIZE]);

/* 1 found, 0 no such account, -1 error (*err malloc'ed). */
int accounts_find_by_id(struct db *db, const char *id, struct account *out, char **err);
int accounts_find_by_mobile(struct db *db, const char *mobile, struct account *out, char **err);
int accounts_find_by_id_number(struct db *db, const struct identity_keys *keys, const char *id_number, struct account *out,
                               char **err);

/* Creates an account at level 1 and loads it into `out`. */
enum accounts_result accounts_create(struct db *db, const struct identity_keys *keys, const struct account_spec *spec,
                                     struct account *out, char **err);
/*
 * Registration by SMS: the account with this mobile number, created (level 1,
 * mobile only) when there is none; *created says which. Two parallel first
 * logins of one number end with one account (the loser of the insert reads
 * the winner's row). Returns 1, or -1 on error.
 */
int accounts_find_or_create_by_mobile(struct db *db, const char *mobile, struct account *out, int *created, char **err);

/* Stores a new PHC string (already hashed; the policy already checked). ACCOUNTS_OK, _NOT_FOUND or _ERROR. */
enum accounts_result accounts_set_password(struct db *db, const char *id, const char *phc, char **err);
/* Seals and stores the resident ID number (normalised). ACCOUNTS_OK, _ID_NUMBER_TAKEN, _NOT_FOUND or _ERROR. */
enum accounts_result accounts_set_id_number(struct db *db, const struct identity_keys *keys, const char *id, const char *id_number,
                                            char **err);
/* Opens the stored ID number into `out`: 1, 0 when none is stored, -1 on error (also when it does not open). */
int accounts_read_id_number(struct db *db, const struct identity_keys *keys, const char *id,
                            char out[IDENTIFIERS_RESIDENT_ID_BUFSIZE], char **err);
/*
 * Raises the level to `level` (2 or 3) and records the event with `actor`
 * (who decided, e.g. "admin:zhang" or a verification service's client id)
 * and `evidence` (a reference, never personal data). 1 raised, 0 already at
 * or above `level` (nothing recorded), -1 error or no such account.
 */
int accounts_raise_assurance(struct db *db, const char *id, unsigned level, const char *actor, const char *evidence, char **err);
/* Sets the status. Callers that lock or disable also end the account's sessions (sessions.h). */
enum accounts_result accounts_set_status(struct db *db, const char *id, enum account_status status, char **err);

/* The associated data a sealed ID number of account `id` is bound to. */
void accounts_id_number_ad(const char *id, char *out, size_t size);

#endif
