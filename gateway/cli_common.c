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
