#include <string.h>

#include "common/embedded_schemas.h"

const struct embedded_schema *embedded_schema_find(const char *name)
{
    for (const struct embedded_schema *s = embedded_schemas; s->name != NULL; s++) {
        if (strcmp(s->name, name) == 0)
            return s;
    }
    return NULL;
}
