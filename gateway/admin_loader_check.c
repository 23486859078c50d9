#include "gateway/admin_loader_check.h"

#include <stdlib.h>
#include <string.h>

#include "common/config.h"

/* Moves the loader's problems under `prefix` ("/services/0") into `out`, as pointers into the entity. */
static void rebase(const struct problem_list *found, const char *prefix, struct problem_list *out)
{
    size_t len = strlen(prefix);
    for (size_t i = 0; i < found->count; i++) {
        const struct problem *p = &found->items[i];
        if (strncmp(p->pointer, prefix, len) == 0 && (p->pointer[len] == '/' || p->pointer[len] == '\0'))
            problem_list_add(out, p->pointer + len, "%s", p->message);
    }
}

static int run(json_t *document, const char *prefix, struct problem_list *problems)
{
    char *text = json_dumps(document, JSON_COMPACT);
    json_decref(document);
    if (text == NULL)
        return -1;
    struct problem_list found = PROBLEM_LIST_INIT;
    struct config *config = config_load_string(text, strlen(text), &found);
    free(text);
    config_free(config);
    rebase(&found, prefix, problems);
    problem_list_clear(&found);
    return 0;
}

/* The entity without the registry's read-only members. */
static json_t *as_config_item(const json_t *entity)
{
    json_t *item = json_deep_copy(entity);
    json_object_del(item, "version");
    json_object_del(item, "created_at");
    json_object_del(item, "updated_at");
    return item;
}

int admin_loader_check_service(const json_t *service, struct problem_list *problems)
{
    json_t *document = json_pack("{s:[o], s:[]}", "services", as_config_item(service), "routes");
    return document != NULL ? run(document, "/services/0", problems) : -1;
}

int admin_loader_check_route(const json_t *route, size_t max_body_bytes, struct problem_list *problems)
{
    json_t *item = as_config_item(route);
    json_object_del(item, "rate_policy"); /* not a config file member until the rate limiter lands */
    const char *service = json_string_value(json_object_get(route, "service"));
    json_t *document = json_pack("{s:{s:I}, s:{s:s}, s:[{s:s, s:[{s:s, s:i}]}], s:[o]}", "limits", "max_body_bytes",
                                 (json_int_t)max_body_bytes, "identity", "issuer", "https://registry.invalid", "services", "name",
                                 service != NULL ? service : "", "targets", "host", "127.0.0.1", "port", 1, "routes", item);
    return document != NULL ? run(document, "/routes/0", problems) : -1;
}
