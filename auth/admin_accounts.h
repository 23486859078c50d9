/*
 * admin_accounts.h — admin accounts and their API tokens (docs/registry.md §6).
 *
 * A token is "ywadm_" followed by 43 base64url characters (256 random bits);
 * the prefix lets secret scanners recognise a leaked one. Only
 * HMAC-SHA256(token-hash key, whole token) is stored (auth/secrets.h, as for
 * refresh tokens), so a database dump or a write to admin_tokens yields no
 * usable token. The token is returned once, to be shown once.
 *
 * Writes here run inside the caller's registry transaction
 * (common/registry_write.h); the caller appends the audit record.
 *
 * Threads: blocking; a worker thread or a CLI command, with its own db.
 */
#ifndef YIWANG_AUTH_ADMIN_ACCOUNTS_H
#define YIWANG_AUTH_ADMIN_ACCOUNTS_H

#include <stddef.h>
#include <stdint.h>

#include "auth/secrets.h"
#include "common/db.h"

#define ADMIN_TOKEN_PREFIX "ywadm_"
#define ADMIN_TOKEN_PREFIX_LEN 6
#define ADMIN_TOKEN_LEN (ADMIN_TOKEN_PREFIX_LEN + SECRETS_TOKEN_LEN)
#define ADMIN_TOKEN_BUFSIZE (ADMIN_TOKEN_LEN + 1)
#define ADMIN_TOKEN_ID_LEN 22 /* 128 random bits, base64url: the public handle of a token */
#define ADMIN_NAME_MAX 63

enum admin_role {
    ADMIN_ROLE_PLATFORM_ADMIN,
    ADMIN_ROLE_DEPARTMENT_ADMIN,
    ADMIN_ROLE_AUDITOR,
    ADMIN_ROLE_OPERATOR,
};

/* "platform_admin", ...; the names admin_accounts.role and audit_log.actor_role use. */
const char *admin_role_name(enum admin_role role);
/* 0 and *out, or -1 for an unknown name. */
int admin_role_from_name(const char *name, enum admin_role *out);

/* Who a valid token belongs to. */
struct admin_identity {
    uint64_t account_id;
    char name[ADMIN_NAME_MAX + 1];
    enum admin_role role;
    uint64_t department_id; /* 0 unless a department admin */
    char department[ADMIN_NAME_MAX + 1];
};

/*
 * Creates a token for `account_id` inside the open transaction: writes the
 * token into `token` and its id into `token_id`. 0, or -1 with *err
 * (malloc'ed).
 */
int admin_token_issue(struct db *db, const unsigned char key[SECRETS_KEY_LEN], uint64_t account_id, const char *label,
                      char token[ADMIN_TOKEN_BUFSIZE], char token_id[ADMIN_TOKEN_ID_LEN + 1], char **err);

/*
 * Finds the active account of an unrevoked, unexpired token in one indexed
 * lookup. 1 found (*out filled), 0 no such token (malformed ones are never
 * looked up), -1 database error (*err malloc'ed). Marks the token used, at
 * most once a minute, so a busy automation does not write on every request.
 */
int admin_token_lookup(struct db *db, const unsigned char key[SECRETS_KEY_LEN], const char *token, size_t len,
                       struct admin_identity *out, char **err);

#endif
