/*
 * cli_common.h — what the `yiwang` subcommands share: loading the
 * configuration file and reporting its problems the same way everywhere
 * ("FILE: /json/pointer: message" on stderr). Main thread of a CLI command.
 */
#ifndef YIWANG_GATEWAY_CLI_COMMON_H
#define YIWANG_GATEWAY_CLI_COMMON_H

#include "common/config.h"

/* Loads `path`; on failure prints every problem and returns NULL (the caller exits 2). */
struct config *cli_load_config(const char *path);

#endif
