#include "gateway/cli_common.h"

#include <stdio.h>

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
