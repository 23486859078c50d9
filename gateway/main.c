/*
 * main.c — the `yiwang` command line: dispatches to a subcommand (cli.h).
 */
#include <stdio.h>
#include <string.h>

#include "common/db.h"
#include "gateway/cli.h"

static void print_usage(FILE *out)
{
    fputs("usage: yiwang <command> [options]\n"
          "\n"
          "commands:\n"
          "  serve --config FILE     run the gateway\n"
          "  config check FILE       validate a configuration file (exit 2 if invalid)\n"
          "  config export --config FILE   print the service registry as one JSON document\n"
          "  migrate --config FILE   bring the database schema up to date\n"
          "  keys rotate|list --config FILE   manage the keys that sign the gateway's tokens\n"
          "  clients add|list --config FILE   register the apps and services that obtain tokens\n"
          "  accounts show|raise-level --config FILE   an operator's view of a citizen's account\n"
          "  admin create|token --config FILE   admin accounts and their API tokens\n"
          "  version                 print the version\n",
          out);
}

static int run_command(int argc, char **argv)
{
    if (argc < 2) {
        print_usage(stderr);
        return 2;
    }
    const char *command = argv[1];
    if (strcmp(command, "serve") == 0)
        return cli_serve(argc - 2, argv + 2);
    if (strcmp(command, "config") == 0)
        return cli_config(argc - 2, argv + 2);
    if (strcmp(command, "migrate") == 0)
        return cli_migrate(argc - 2, argv + 2);
    if (strcmp(command, "keys") == 0)
        return cli_keys(argc - 2, argv + 2);
    if (strcmp(command, "clients") == 0)
        return cli_clients(argc - 2, argv + 2);
    if (strcmp(command, "accounts") == 0)
        return cli_accounts(argc - 2, argv + 2);
    if (strcmp(command, "admin") == 0)
        return cli_admin(argc - 2, argv + 2);
    if (strcmp(command, "version") == 0 || strcmp(command, "--version") == 0) {
        printf("yiwang %s\n", YIWANG_VERSION);
        return 0;
    }
    if (strcmp(command, "help") == 0 || strcmp(command, "--help") == 0 || strcmp(command, "-h") == 0) {
        print_usage(stdout);
        return 0;
    }
    fprintf(stderr, "yiwang: unknown command '%s'\n", command);
    print_usage(stderr);
    return 2;
}

int main(int argc, char **argv)
{
    db_library_init(); /* once, before any thread; techguide §5 */
    int status = run_command(argc, argv);
    db_library_end();
    return status;
}
