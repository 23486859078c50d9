/*
 * cli_config.c — `yiwang config <subcommand>`: offline work on configuration
 * files. A small dispatcher: each subcommand is one table entry.
 */
#include <stdio.h>
#include <string.h>

#include "common/config.h"
#include "gateway/cli.h"
#include "gateway/cli_common.h"

static void print_usage(FILE *out)
{
    fputs("usage: yiwang config <subcommand> [arguments]\n"
          "\n"
          "subcommands:\n"
          "  check FILE   validate FILE; prints every problem as 'FILE: /json/pointer: message'\n"
          "               (exit 0 if valid, 2 if not)\n"
          "  export --config FILE\n"
          "               print the service registry in the database of FILE as one JSON document\n"
          "               (docs/registry.md; no secrets, no admin accounts)\n"
          "  import FILE [--dry-run] --config FILE\n"
          "               make the registry match FILE (an export) in one registry write; prints the plan,\n"
          "               every problem as 'FILE: /json/pointer: message' (exit 1, nothing written), and\n"
          "               the secret of each new confidential client once. --dry-run writes nothing\n",
          out);
}

/* yiwang config check FILE */
static int config_check(int argc, char **argv)
{
    if (argc != 1) {
        fputs(argc == 0 ? "yiwang config check: missing FILE\n" : "yiwang config check: expected one FILE\n", stderr);
        print_usage(stderr);
        return 2;
    }
    const char *path = argv[0];
    struct config *config = cli_load_config(path);
    if (config == NULL)
        return 2;
    printf("%s: ok (%zu services, %zu routes)\n", path, config->num_services, config->num_routes);
    config_free(config);
    return fflush(stdout) == 0 ? 0 : 1;
}

static const struct {
    const char *name;
    int (*run)(int argc, char **argv);
} subcommands[] = {
    {"check", config_check},
    {"export", cli_config_export},
    {"import", cli_config_import},
};

int cli_config(int argc, char **argv)
{
    if (argc < 1) {
        fputs("yiwang config: missing subcommand\n", stderr);
        print_usage(stderr);
        return 2;
    }
    if (strcmp(argv[0], "help") == 0 || strcmp(argv[0], "--help") == 0 || strcmp(argv[0], "-h") == 0) {
        print_usage(stdout);
        return 0;
    }
    for (size_t i = 0; i < sizeof(subcommands) / sizeof(subcommands[0]); i++)
        if (strcmp(argv[0], subcommands[i].name) == 0)
            return subcommands[i].run(argc - 1, argv + 1);
    fprintf(stderr, "yiwang config: unknown subcommand '%s'\n", argv[0]);
    print_usage(stderr);
    return 2;
}
