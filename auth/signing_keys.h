/*
 * signing_keys.h — the gateway's own token-signing keys in MariaDB.
 *
 * Table signing_keys (schemas/sql/001_initial.sql). The private half of each
 * key is sealed (AES-256-GCM, auth/secrets.h) with a key derived from the
 * master key, which never enters the database; the associated data names the
 * row ("signing_keys.private_key_ciphertext:<kid>"), so a sealed key cannot
 * be moved to another row. Lifecycle per algorithm:
 *
 *   rotate:  new key -> active;  active -> previous;  previous -> retired
 *
 * The active key signs new tokens; the previous one is still published in the
 * JWKS and accepted, so tokens it signed keep working until they expire (the
 * overlap window is one rotation period: rotate less often than the longest
 * token lifetime). Retired rows stay for audit.
 *
 * Threads: blocking (database), for CLI commands and the main thread's key
 * sync, never an event loop. Results are owned by the caller.
 */
#ifndef YIWANG_AUTH_SIGNING_KEYS_H
#define YIWANG_AUTH_SIGNING_KEYS_H

#include <stddef.h>

#include "auth/jwt_sign.h"
#include "auth/secrets.h"
#include "common/db.h"

struct published_key {
    char kid[44];
    enum jwt_alg alg;
    EVP_PKEY *pkey; /* public */
    int active;
};

struct signing_key_set {
    struct jwt_signer active;   /* the active key of the signing algorithm; pkey NULL when there is none (or no master key) */
    struct published_key *keys; /* active and previous, the JWKS */
    size_t num_keys;
    char *fingerprint; /* "kid:state,..." of what was loaded, to notice changes */
};

/*
 * Makes a new active key for `alg`. With `only_if_none`, does nothing when an
 * active key for `alg` exists (*created = 0). Writes the new kid into `kid`.
 * Returns 0 or -1 with a malloc'ed *err.
 */
int signing_keys_rotate(struct db *db, const struct secrets_master *master, enum jwt_alg alg, int only_if_none, int *created,
                        char kid[44], char **err);

/*
 * The same inside the caller's open transaction, which it neither begins, commits nor rolls back: the admin API
 * rotates and appends the audit record in one registry write, so a rotation is never left without its record.
 * On -1 the caller must roll back (the demotion may already be written). kid[] as for signing_keys_rotate().
 */
int signing_keys_rotate_in_transaction(struct db *db, const struct secrets_master *master, enum jwt_alg alg, int only_if_none,
                                       int *created, char kid[44], char **err);

/* The fingerprint of the keys that are in service now (cheap: kids and states only). malloc'ed; NULL + *err on failure. */
char *signing_keys_fingerprint(struct db *db, char **err);

/*
 * Loads the keys in service. `master` may be NULL: then only the public halves are loaded (the node can verify,
 * not sign). A private key that does not open with the master key is an error: a wrong master key file must not
 * go unnoticed. Returns 0 or -1 with a malloc'ed *err.
 */
int signing_keys_load(struct db *db, const struct secrets_master *master, enum jwt_alg signing_alg, struct signing_key_set *out,
                      char **err);
void signing_key_set_clear(struct signing_key_set *set);

#endif
