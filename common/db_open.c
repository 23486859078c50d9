#include "common/db_open.h"

#include <stdlib.h>

#include "common/xalloc.h"

struct db *db_open_configured(const struct database_config *config, char **err)
{
    if (config->dsn == NULL) {
        *err = xstrdup("no database is configured (database.dsn)");
        return NULL;
    }
    struct db_dsn dsn;
    if (db_dsn_parse(config->dsn, &dsn, err) != 0)
        return NULL;
    struct db *db = db_connect(&dsn, config->connect_timeout_ms, err);
    db_dsn_clear(&dsn);
    return db;
}
