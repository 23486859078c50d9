/*
 * cli_admin.c — `yiwang admin create|token --config FILE`: the first admin
 * accounts and their tokens, before anyone can use the admin API.
 *
 *   create --name NAME --role ROLE [--department DEPT] [--label LABEL]
 *       creates the account and a token in one registry transaction
 *   token --name NAME [--label LABEL]
 *       a new token for an existing account
 *
 * Both print the token once ("token ywadm_..."): only its keyed hash is
 * stored. Each runs as one registry write (common/registry_write.h) with one
 * audit record whose actor is "cli:<OS user>" and role "cli"; the audit
 * record names the token's id, never the token.
 *
 * Exit status: 0 done, 1 failure, 2 usage or invalid configuration.
 */
#include <jansson.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "auth/admin_accounts.h"
#include "common/registry_write.h"
#include "gateway/cli.h"
#include "gateway/cli_common.h"

#define USAGE                                                                                                                      \
    "usage: yiwang admin create --config FILE --name NAME --role platform_admin|department_admin|auditor|operator\n"               \
    "                           [--department DEPT] [--label LABEL]\n"                                                             \
    "       yiwang admin token --config FILE --name NAME [--label LABEL]\n"

struct admin_args {
    const char *config_path, *name, *role, *department, *label;
    int create;
    char actor[80];
};

static int parse_args(int argc, char **argv, struct admin_args *a)
{
    for (int i = 0; i + 1 < argc; i += 2) {
        const char *opt = argv[i], *val = argv[i + 1];
        if (strcmp(opt, "--config") == 0)
            a->config_path = val;
        else if (strcmp(opt, "--name") == 0)
            a->name = val;
        else if (strcmp(opt, "--role") == 0 && a->create)
            a->role = val;
        else if (strcmp(opt, "--department") == 0 && a->create)
            a->department = val;
        else if (strcmp(opt, "--label") == 0)
            a->label = val;
        else
            return -1;
    }
    if (argc % 2 != 0 || a->config_path == NULL || a->name == NULL || (a->create && a->role == NULL))
        return -1;
    return 0;
}

/* "cli:<OS user>": who ran the command, for the audit log. */
static void set_actor(struct admin_args *a)
{
    const struct passwd *pw = getpwuid(geteuid());
    const char *user = pw != NULL ? pw->pw_name : getenv("USER");
    snprintf(a->actor, sizeof(a->actor), "cli:%s", user != NULL ? user : "unknown");
}

/* 1 and *id when the row exists, 0 when not, -1 on error. */
static int find_id(struct db *db, const char *sql, const char *name, uint64_t *id)
{
    struct db_result *res = db_query(db, 0, sql, DB_ARGS(db_text(name)));
    if (res == NULL)
        return -1;
    int row = db_result_next(res);
    if (row == 1 && db_result_uint64(res, 0, id) != DB_GET_OK)
        return -1;
    return row;
}

static int insert_account(struct db *db, const struct admin_args *a, uint64_t version, uint64_t *department_id, uint64_t *id)
{
    *department_id = 0;
    if (a->department != NULL) {
        int found = find_id(db, "SELECT id FROM departments WHERE name = ?", a->department, department_id);
        if (found <= 0) {
            fprintf(stderr, "yiwang admin: %s\n", found == 0 ? "no such department" : db_error(db));
            return -1;
        }
    }
    if (db_exec(db, 0, "INSERT INTO admin_accounts (name, role, department_id, version) VALUES (?, ?, ?, ?)",
                DB_ARGS(db_text(a->name), db_text(a->role), *department_id ? db_uint(*department_id) : db_null(),
                        db_uint(version))) != 0) {
        fprintf(stderr, "yiwang admin: %s\n",
                db_error_is_duplicate_key(db) ? "an account with this name exists already" : db_error(db));
        return -1;
    }
    *id = db_insert_id(db);
    return 0;
}

/* The account (create) or its token (token) as the audit log records it: no token, no hash. */
static json_t *audit_after(const struct admin_args *a, const char *token_id)
{
    if (a->create)
        return json_pack("{s:s, s:s, s:s?, s:s}", "name", a->name, "role", a->role, "department", a->department, "token_id",
                         token_id);
    return json_pack("{s:s, s:s, s:n}", "token_id", token_id, "label", a->label ? a->label : "", "expires_at");
}

static int write_account(struct db *db, struct admin_args *a, const unsigned char key[SECRETS_KEY_LEN], char *token)
{
    uint64_t version, account_id = 0, department_id = 0;
    char token_id[ADMIN_TOKEN_ID_LEN + 1], *err = NULL;
    if (registry_write_begin(db, &version) != 0) {
        fprintf(stderr, "yiwang admin: %s\n", db_error(db));
        return -1;
    }
    int rc = a->create ? insert_account(db, a, version, &department_id, &account_id)
             : find_id(db, "SELECT id FROM admin_accounts WHERE name = ?", a->name, &account_id) == 1 ? 0
                                                                                                      : -1;
    if (rc != 0 && !a->create)
        fprintf(stderr, "yiwang admin: no such account\n");
    if (rc == 0 && admin_token_issue(db, key, account_id, a->label, token, token_id, &err) != 0) {
        fprintf(stderr, "yiwang admin: %s\n", err);
        free(err);
        rc = -1;
    }
    if (rc == 0) {
        json_t *after = audit_after(a, token_id);
        struct registry_audit audit = {.actor = a->actor,
                                       .actor_role = "cli",
                                       .action = a->create ? "create" : "create_token",
                                       .entity_type = "admin_account",
                                       .entity_key = a->name,
                                       .department_id = department_id,
                                       .after = after,
                                       .request_id = "cli"};
        rc = registry_audit_append(db, version, &audit) == 0 && db_commit(db) == 0 ? 0 : -1;
        json_decref(after);
        if (rc != 0)
            fprintf(stderr, "yiwang admin: %s\n", db_error(db));
    }
    if (rc != 0)
        db_rollback(db);
    return rc;
}

static int run(struct db *db, const struct config *config, void *arg)
{
    struct admin_args *a = arg;
    enum admin_role role;
    if (a->create && admin_role_from_name(a->role, &role) != 0) {
        fputs(USAGE, stderr);
        return 2;
    }
    if (a->create && (role == ADMIN_ROLE_DEPARTMENT_ADMIN) != (a->department != NULL)) {
        fputs("yiwang admin: --department is required for a department_admin, and only for one\n", stderr);
        return 2;
    }
    unsigned char key[SECRETS_KEY_LEN];
    char token[ADMIN_TOKEN_BUFSIZE];
    if (cli_load_token_key("yiwang admin", config, key) != 0)
        return 1;
    set_actor(a);
    int rc = write_account(db, a, key, token);
    secrets_wipe(key, sizeof(key));
    if (rc != 0)
        return 1;
    printf("token %s\n", token); /* shown this once; only its keyed hash is stored */
    secrets_wipe(token, sizeof(token));
    return 0;
}

int cli_admin(int argc, char **argv)
{
    struct admin_args args = {0};
    args.create = argc >= 1 && strcmp(argv[0], "create") == 0;
    if (argc < 1 || (!args.create && strcmp(argv[0], "token") != 0) || parse_args(argc - 1, argv + 1, &args) != 0) {
        fputs(USAGE, stderr);
        return 2;
    }
    return cli_run_with_database("yiwang admin", args.config_path, run, &args);
}
