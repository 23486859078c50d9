/*
 * embedded_schemas.h — the JSON Schemas of schemas/json/, compiled into the
 * binary at build time (scripts/cmake/embed_schemas.cmake). Immutable.
 */
#ifndef YIWANG_COMMON_EMBEDDED_SCHEMAS_H
#define YIWANG_COMMON_EMBEDDED_SCHEMAS_H

#include <stddef.h>

struct embedded_schema {
    const char *name; /* file name, e.g. "config.schema.json" */
    const char *text;
    size_t len;
};

/* Terminated by an entry whose name is NULL. */
extern const struct embedded_schema embedded_schemas[];

/* Returns the schema text with that file name, or NULL. */
const struct embedded_schema *embedded_schema_find(const char *name);

#endif
