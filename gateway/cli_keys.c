/*
 * cli_keys.c — `yiwang keys rotate|list --config FILE`: the gateway's token
 * signing keys (auth/signing_keys.h).
 *
 *   rotate [--alg ES256|RS256] [--if-none]
 *       makes a new active key; the old one stays published as "previous" so
 *       tokens it signed keep verifying. --if-none only creates the first key.
 *   list
 *       prints kid, algorithm and state of the keys in service.
 *
 * Every running gateway sharing the database picks the change up within
 * seconds. Exit status: 0 done, 1 failure, 2 usage or invalid configuration.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth/signing_keys.h"
#include "common/config.h"
#include "gateway/cli.h"
#include "gateway/cli_common.h"

#define USAGE "usage: yiwang keys rotate --config FILE [--alg ES256|RS256] [--if-none]\n       yiwang keys list --config FILE\n"

struct keys_args {
    const char *config_path;
    enum jwt_alg alg;
    int if_none;
};

static int parse_args(int argc, char **argv, struct keys_args *args)
{
    *args = (struct keys_args){NULL, JWT_ALG_ES256_PINNED, 0};
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--config") == 0 && i + 1 < argc) {
            args->config_path = argv[++i];
        } else if (strcmp(argv[i], "--alg") == 0 && i + 1 < argc) {
            const char *alg = argv[++i];
            if (strcmp(alg, "ES256") != 0 && strcmp(alg, "RS256") != 0)
                return -1;
            args->alg = strcmp(alg, "RS256") == 0 ? JWT_ALG_RS256_PINNED : JWT_ALG_ES256_PINNED;
        } else if (strcmp(argv[i], "--if-none") == 0) {
            args->if_none = 1;
        } else {
            return -1;
        }
    }
    return args->config_path != NULL ? 0 : -1;
}

static int rotate(struct db *db, const struct config *config, void *arg)
{
    const struct keys_args *args = arg;
    if (config->identity.master_key_file == NULL) {
        fputs("yiwang keys rotate: identity.master_key_file is not configured\n", stderr);
        return 1;
    }
    char err_buf[256];
    struct secrets_master *master = secrets_master_load(config->identity.master_key_file, err_buf, sizeof(err_buf));
    if (master == NULL) {
        fprintf(stderr, "yiwang keys rotate: %s\n", err_buf);
        return 1;
    }
    char kid[44] = "", *err = NULL;
    int created = 0;
    int rc = signing_keys_rotate(db, master, args->alg, args->if_none, &created, kid, &err);
    secrets_master_free(master);
    if (rc != 0) {
        fprintf(stderr, "yiwang keys rotate: %s\n", err);
        free(err);
        return 1;
    }
    printf(created ? "new active key %s\n" : "an active key exists already: %s\n", kid);
    return 0;
}

static int list(struct db *db, const struct config *config, void *arg)
{
    (void)config, (void)arg;
    struct signing_key_set set;
    char *err = NULL;
    if (signing_keys_load(db, NULL, JWT_ALG_ES256_PINNED, &set, &err) != 0) {
        fprintf(stderr, "yiwang keys list: %s\n", err);
        free(err);
        return 1;
    }
    for (size_t i = 0; i < set.num_keys; i++)
        printf("%s %s %s\n", set.keys[i].kid, set.keys[i].alg == JWT_ALG_RS256_PINNED ? "RS256" : "ES256",
               set.keys[i].active ? "active" : "previous");
    signing_key_set_clear(&set);
    return 0;
}

int cli_keys(int argc, char **argv)
{
    struct keys_args args;
    if (argc < 1 || (strcmp(argv[0], "rotate") != 0 && strcmp(argv[0], "list") != 0) ||
        parse_args(argc - 1, argv + 1, &args) != 0) {
        fputs(USAGE, stderr);
        return 2;
    }
    return cli_run_with_database("yiwang keys", args.config_path, strcmp(argv[0], "rotate") == 0 ? rotate : list, &args);
}
