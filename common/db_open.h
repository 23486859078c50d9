/*
 * db_open.h — a connection to the database the configuration names.
 * Blocking; for CLI commands and the main thread (workers use worker_pool.h).
 */
#ifndef YIWANG_COMMON_DB_OPEN_H
#define YIWANG_COMMON_DB_OPEN_H

#include "common/config.h"
#include "common/db.h"

/* NULL and a malloc'ed *err (never quoting the password) when there is no DSN, it is invalid or the server is unreachable. */
struct db *db_open_configured(const struct database_config *config, char **err);

#endif
