#include "gateway/cli_common.h"

#include <stdio.h>
#include <stdlib.h>

#include "common/db_open.h"

struct config *cli_load_config(const char *path)
{
    struct problem_list problems = PROBLEM_LIST_INIT;
    struct config *config = config_load_file(path, &problems);
    if (config == NULL) {
        for (size_t i = 0; i < problems.count; i++) {
            const char *pointer = problems.items[i].pointer;
            fprintf(stderr, "%s: %s: %s\n", path, pointer[0] != '\0' ? pointer : "(root)", problems.items[i].message);
        }
        if (problems.count == 0)
            fprintf(stderr, "%s: (root): invalid configuration\n", path);
    }
    problem_list_clear(&problems);
    return config;
}

int cli_run_with_database(const char *prog, const char *config_path, cli_database_command command, void *args)
{
    struct config *config = cli_load_config(config_path);
    if (config == NULL)
        return 2;
    char *err = NULL;
    struct db *db = db_open_configured(&config->database, &err);
    int rc = 1;
    if (db == NULL) {
        fprintf(stderr, "%s: %s\n", prog, err);
        free(err);
    } else {
        rc = command(db, config, args);
        db_close(db);
    }
    config_free(config);
    return rc;
}

int cli_load_token_key(const char *prog, const struct config *config, unsigned char key[SECRETS_KEY_LEN])
{
    char reason[256];
    if (config->identity.master_key_file == NULL) {
        fprintf(stderr, "%s: identity.master_key_file is not configured\n", prog);
        return -1;
    }
    struct secrets_master *master = secrets_master_load(config->identity.master_key_file, reason, sizeof(reason));
    int rc = master != NULL ? secrets_derive(master, SECRETS_LABEL_TOKEN_HASH, key) : -1;
    if (rc != 0)
        fprintf(stderr, "%s: %s\n", prog, master == NULL ? reason : "cannot derive the token hash key");
    secrets_master_free(master);
    return rc;
}
