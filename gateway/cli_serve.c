/*
 * cli_serve.c — `yiwang serve --config FILE`.
 */
#include <stdio.h>
#include <string.h>

#include "gateway/cli.h"
#include "gateway/server.h"

int cli_serve(int argc, char **argv)
{
    const char *config_path = NULL;
    for (int i = 0; i < argc; i++) {
        if ((strcmp(argv[i], "--config") == 0 || strcmp(argv[i], "-c") == 0) && i + 1 < argc) {
            config_path = argv[++i];
        } else {
            fprintf(stderr, "yiwang serve: unexpected argument '%s'\nusage: yiwang serve --config FILE\n", argv[i]);
            return 2;
        }
    }
    if (config_path == NULL) {
        fputs("usage: yiwang serve --config FILE\n", stderr);
        return 2;
    }
    return server_run(config_path);
}
