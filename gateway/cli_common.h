/*
 * cli_common.h — what the `yiwang` subcommands share: loading the
 * configuration file and reporting its problems the same way everywhere
 * ("FILE: /json/pointer: message" on stderr). Main thread of a CLI command.
 */
#ifndef YIWANG_GATEWAY_CLI_COMMON_H
#define YIWANG_GATEWAY_CLI_COMMON_H

#include "auth/secrets.h"
#include "common/config.h"
#include "common/db.h"

/* Loads `path`; on failure prints every problem and returns NULL (the caller exits 2). */
struct config *cli_load_config(const char *path);

/* What a database subcommand does once the config is loaded and the database open; returns the exit status. */
typedef int (*cli_database_command)(struct db *db, const struct config *config, void *args);

/* Loads the config, opens its database, runs `command`, closes everything. Exit status: the command's, 2 for a bad
 * config, 1 when the database cannot be opened (the reason printed after `prog`). */
int cli_run_with_database(const char *prog, const char *config_path, cli_database_command command, void *args);

/* Derives the token-hash key (client secrets and admin tokens are hashed under it) from identity.master_key_file.
 * 0, or -1 with the reason printed after `prog`. */
int cli_load_token_key(const char *prog, const struct config *config, unsigned char key[SECRETS_KEY_LEN]);

#endif
