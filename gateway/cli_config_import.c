/*
 * cli_config_import.c — `yiwang config import FILE [--dry-run] --config CFG`:
 * makes the registry match FILE, an export (docs/registry.md §7), in one
 * registry write: one version, one audit row per entity written (actor
 * "cli:<OS user>", role "cli", request id "import:<random>").
 *
 * The plan and the rules are registry_import.h's; this file reads FILE,
 * opens the write, prints the plan and decides between commit and rollback:
 * any problem (all are printed, as "FILE: /pointer: message") or --dry-run
 * rolls back, and so does an import that changes nothing, so that an
 * unchanged export takes no version and leaves no audit rows. New
 * confidential clients' secrets are printed once, after the commit.
 *
 * Exit status: 0 done (or nothing to do), 1 problems in FILE or a database
 * failure, 2 usage, a configuration file that does not load, or FILE is not
 * JSON (with the position of the parse error).
 */
#include <jansson.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "auth/secrets.h"
#include "common/registry_write.h"
#include "gateway/cli.h"
#include "gateway/cli_common.h"
#include "gateway/registry_import.h"

#define PROG "yiwang config import"
#define USAGE "usage: " PROG " FILE [--dry-run] --config CFG\n"

struct import_args {
    const char *file_path, *config_path;
    int dry_run;
    json_t *file;
};

static int parse_args(int argc, char **argv, struct import_args *a)
{
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--dry-run") == 0)
            a->dry_run = 1;
        else if (strcmp(argv[i], "--config") == 0 && i + 1 < argc)
            a->config_path = argv[++i];
        else if (argv[i][0] != '-' && a->file_path == NULL)
            a->file_path = argv[i];
        else
            return -1;
    }
    return a->file_path != NULL && a->config_path != NULL ? 0 : -1;
}

/* "cli:<OS user>": who ran the import, for the audit log. */
static void actor_name(char *out, size_t size)
{
    const struct passwd *pw = getpwuid(geteuid());
    const char *user = pw != NULL ? pw->pw_name : getenv("USER");
    snprintf(out, size, "cli:%s", user != NULL ? user : "unknown");
}

static void print_problems(const char *path, const struct problem_list *problems)
{
    for (size_t i = 0; i < problems->count; i++) {
        const char *pointer = problems->items[i].pointer;
        fprintf(stderr, "%s: %s: %s\n", path, pointer[0] != '\0' ? pointer : "(root)", problems->items[i].message);
    }
    fprintf(stderr, PROG ": %zu problem%s; nothing was written\n", problems->count, problems->count == 1 ? "" : "s");
}

/* Prints the plan and, unless nothing may be written, commits. The exit status. */
static int finish(struct db *db, const struct import_args *a, struct registry_import_result *result, uint64_t version)
{
    if (result->problems.count > 0) {
        db_rollback(db);
        print_problems(a->file_path, &result->problems);
        return 1;
    }
    fputs(result->plan.data != NULL ? result->plan.data : "", stdout);
    printf("unchanged: %zu\n", result->unchanged);
    if (result->changed == 0 || a->dry_run) {
        /* the rollback takes the version bump back too: an import that writes nothing leaves no trace */
        if (db_rollback(db) != 0)
            fprintf(stderr, PROG ": rollback: %s\n", db_error(db));
        puts(result->changed == 0 ? "no changes" : "dry run: nothing was written");
        return fflush(stdout) == 0 ? 0 : 1;
    }
    if (db_commit(db) != 0) {
        fprintf(stderr, PROG ": commit: %s\n", db_error(db));
        return 1;
    }
    printf("registry version %llu\n", (unsigned long long)version);
    const char *client_id;
    json_t *secret;
    json_object_foreach(result->secrets, client_id, secret)
    {
        /* shown this once; only its keyed hash is stored */
        printf("client_secret %s %s\n", client_id, json_string_value(secret));
    }
    return fflush(stdout) == 0 ? 0 : 1;
}

static int import(struct db *db, const struct config *config, void *arg)
{
    const struct import_args *a = arg;
    unsigned char key[SECRETS_KEY_LEN];
    /* new confidential clients need the key their secrets are hashed under; without a clients section, no key is
     * needed */
    int have_key = json_object_get(a->file, "clients") != NULL;
    if (have_key && cli_load_token_key(PROG, config, key) != 0)
        return 1;
    char actor[96], request_id[64], random[SECRETS_TOKEN_BUFSIZE];
    actor_name(actor, sizeof(actor));
    if (secrets_token_generate(random) != 0) {
        fputs(PROG ": no random bytes for the request id\n", stderr);
        return 1;
    }
    snprintf(request_id, sizeof(request_id), "import:%.22s", random);
    struct registry_import_options options = {.actor = actor,
                                              .request_id = request_id,
                                              .node_max_body_bytes = config->limits.max_body_bytes,
                                              .token_key = have_key ? key : NULL};
    struct registry_import_result result;
    registry_import_result_init(&result);
    uint64_t version = 0;
    char *err = NULL;
    int rc = 1;
    if (registry_write_begin(db, &version) != 0) {
        fprintf(stderr, PROG ": %s\n", db_error(db));
    } else if (registry_import_apply(db, version, a->file, &options, &result, &err) != 0) {
        db_rollback(db);
        fprintf(stderr, PROG ": %s\n", err != NULL ? err : "database failure");
    } else {
        rc = finish(db, a, &result, version);
    }
    free(err);
    registry_import_result_free(&result);
    secrets_wipe(key, sizeof(key));
    return rc;
}

int cli_config_import(int argc, char **argv)
{
    struct import_args a = {0};
    if (parse_args(argc, argv, &a) != 0) {
        fputs(USAGE, stderr);
        return 2;
    }
    json_error_t error;
    a.file = json_load_file(a.file_path, JSON_REJECT_DUPLICATES, &error);
    if (a.file == NULL) {
        fprintf(stderr, "%s:%d:%d: %s\n", a.file_path, error.line, error.column, error.text);
        return 2;
    }
    int rc = cli_run_with_database(PROG, a.config_path, import, &a);
    json_decref(a.file);
    return rc;
}
