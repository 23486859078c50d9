/*
 * cli.h — the `yiwang` subcommands. Each takes the arguments after its own
 * name and returns the process exit status (0 ok, 1 runtime failure, 2 usage
 * or invalid input). Called from main() only.
 */
#ifndef YIWANG_GATEWAY_CLI_H
#define YIWANG_GATEWAY_CLI_H

int cli_serve(int argc, char **argv);         /* yiwang serve --config FILE */
int cli_config(int argc, char **argv);        /* yiwang config check FILE | export --config FILE */
int cli_config_export(int argc, char **argv); /* yiwang config export --config FILE (cli_config_export.c) */
int cli_config_import(int argc, char **argv); /* yiwang config import FILE [--dry-run] --config FILE (cli_config_import.c) */
int cli_migrate(int argc, char **argv);       /* yiwang migrate --config FILE */

int cli_keys(int argc, char **argv); /* yiwang keys rotate|list --config FILE */

int cli_clients(int argc, char **argv); /* yiwang clients add|list --config FILE */

int cli_accounts(int argc, char **argv); /* yiwang accounts show|raise-level --config FILE */

int cli_admin(int argc, char **argv); /* yiwang admin create|token --config FILE */

#endif
