/*
 * embedded_migrations.h — the SQL migrations of schemas/sql/, compiled into
 * the binary at build time (scripts/cmake/embed_migrations.cmake), so that
 * `yiwang migrate` works from any directory. Immutable.
 *
 * Each file is NNN_name.sql; NNN is its version. The build refuses other
 * names and duplicate numbers, and the table is in ascending version order.
 */
#ifndef YIWANG_COMMON_EMBEDDED_MIGRATIONS_H
#define YIWANG_COMMON_EMBEDDED_MIGRATIONS_H

#include <stddef.h>

struct embedded_migration {
    unsigned version;
    const char *name; /* file name, e.g. "001_initial.sql" */
    const char *text;
    size_t len;
};

/* Ascending by version; terminated by an entry whose name is NULL. */
extern const struct embedded_migration embedded_migrations[];

#endif
