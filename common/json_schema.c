/*
 * json_schema.c — compiles a JSON Schema into a tree of `struct node`s once,
 * then walks instance and tree together. See json_schema.h for the contract.
 *
 * The validator keeps the instance location as a JSON pointer in one growing
 * buffer (pushed and popped as it descends), so a problem's pointer costs a
 * copy only when a problem is actually reported.
 */
#include "common/json_schema.h"

#include <arpa/inet.h>
#include <math.h>
#include <regex.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/strbuf.h"
#include "common/xalloc.h"

/* Deeper than this, "$ref" cycles that consume no input are assumed. */
#define MAX_VALIDATION_DEPTH 512

enum {
    TYPE_NULL = 1u << 0,
    TYPE_BOOLEAN = 1u << 1,
    TYPE_OBJECT = 1u << 2,
    TYPE_ARRAY = 1u << 3,
    TYPE_NUMBER = 1u << 4,
    TYPE_STRING = 1u << 5,
    TYPE_INTEGER = 1u << 6,
};

/* Schema names and, in the order messages list them, the noun for each type. */
static const struct {
    const char *name;
    unsigned bit;
    const char *noun;
} type_table[] = {
    {"object", TYPE_OBJECT, "an object"}, {"array", TYPE_ARRAY, "an array"},
    {"string", TYPE_STRING, "a string"},  {"integer", TYPE_INTEGER, "an integer"},
    {"number", TYPE_NUMBER, "a number"},  {"boolean", TYPE_BOOLEAN, "a boolean"},
    {"null", TYPE_NULL, "null"},
};

enum format_kind { FORMAT_NONE, FORMAT_IPV4, FORMAT_IPV6, FORMAT_HOSTNAME, FORMAT_URI };

struct pattern {
    regex_t regex;
    const char *source; /* borrowed from the schema document */
};

struct property {
    const char *name; /* borrowed from the schema document */
    struct node *node;
};

struct pattern_property {
    struct pattern pattern;
    struct node *node;
};

struct node_list {
    struct node **items;
    size_t count;
};

/* One compiled (sub)schema. Every pointer into the document is borrowed: the
 * json_schema keeps the document alive for as long as the nodes exist. */
struct node {
    const json_t *source; /* the schema value this node was compiled from */
    int boolean;          /* -1: an object schema; 0 / 1: the boolean schema false / true */
    unsigned types;       /* TYPE_* mask; 0 when there is no "type" */
    const json_t *enum_values, *const_value;
    /* objects */
    struct property *properties; /* sorted by name for bsearch */
    size_t num_properties;
    struct pattern_property *pattern_properties;
    size_t num_pattern_properties;
    struct node *additional_properties;
    const char **required;
    size_t num_required;
    long long min_properties, max_properties; /* -1 = absent */
    /* arrays */
    struct node *items;
    long long min_items, max_items;
    int unique_items;
    /* strings */
    long long min_length, max_length;
    struct pattern *pattern;
    const char *title; /* names what "pattern" accepts, in its failure message */
    enum format_kind format;
    /* numbers */
    const json_t *minimum, *maximum, *exclusive_minimum, *exclusive_maximum, *multiple_of;
    /* combinators */
    struct node_list all_of, any_of, one_of;
    struct node *not_schema, *if_schema, *then_schema, *else_schema;
    struct node *ref;
    /* messages composed at load time from several keywords */
    char *type_message;
    char *enum_message;
    char *range_message; /* set when both inclusive bounds exist: "must be ... between A and B" */
};

struct json_schema {
    json_t *document;
    struct node *root;
    struct node **nodes; /* every node, for lookup by source and for freeing */
    size_t num_nodes, capacity;
};

/* ------------------------------------------------------------------------ */
/* Small helpers shared by loading and validation                           */

/* Formats a JSON number the shortest way that reads back to the same value. */
static char *format_number(const json_t *number)
{
    if (json_is_integer(number))
        return xasprintf("%" JSON_INTEGER_FORMAT, json_integer_value(number));
    double value = json_real_value(number);
    for (int precision = 1; precision < 17; precision++) {
        char *text = xasprintf("%.*g", precision, value);
        if (strtod(text, NULL) == value)
            return text;
        free(text);
    }
    return xasprintf("%.17g", value);
}

/* How a value is shown in a message: strings as they are, anything else as JSON. */
static char *format_value(const json_t *value)
{
    if (json_is_string(value))
        return xstrndup(json_string_value(value), json_string_length(value));
    if (json_is_number(value))
        return format_number(value);
    char *text = json_dumps(value, JSON_COMPACT | JSON_ENCODE_ANY | JSON_SORT_KEYS);
    return text != NULL ? text : xstrdup("(value)");
}

/* Three-way comparison of two JSON numbers, exact when both are integers. */
static int compare_numbers(const json_t *a, const json_t *b)
{
    if (json_is_integer(a) && json_is_integer(b)) {
        json_int_t x = json_integer_value(a), y = json_integer_value(b);
        return (x > y) - (x < y);
    }
    double x = json_number_value(a), y = json_number_value(b);
    return (x > y) - (x < y);
}

/* JSON Schema equality: like json_equal, except that numbers compare by value (1 equals 1.0). */
static int values_equal(const json_t *a, const json_t *b)
{
    if (json_is_number(a) && json_is_number(b))
        return compare_numbers(a, b) == 0;
    if (json_typeof(a) != json_typeof(b))
        return 0;
    if (json_is_array(a)) {
        if (json_array_size(a) != json_array_size(b))
            return 0;
        for (size_t i = 0; i < json_array_size(a); i++)
            if (!values_equal(json_array_get(a, i), json_array_get(b, i)))
                return 0;
        return 1;
    }
    if (json_is_object(a)) {
        if (json_object_size(a) != json_object_size(b))
            return 0;
        const char *key;
        const json_t *value;
        json_object_foreach((json_t *)a, key, value)
        {
            const json_t *other = json_object_get(b, key);
            if (other == NULL || !values_equal(value, other))
                return 0;
        }
        return 1;
    }
    return json_equal((json_t *)a, (json_t *)b);
}

static unsigned instance_types(const json_t *instance)
{
    switch (json_typeof(instance)) {
    case JSON_OBJECT:
        return TYPE_OBJECT;
    case JSON_ARRAY:
        return TYPE_ARRAY;
    case JSON_STRING:
        return TYPE_STRING;
    case JSON_INTEGER:
        return TYPE_INTEGER | TYPE_NUMBER;
    case JSON_REAL: {
        double value = json_real_value(instance);
        return TYPE_NUMBER | (isfinite(value) && floor(value) == value ? TYPE_INTEGER : 0);
    }
    case JSON_TRUE:
    case JSON_FALSE:
        return TYPE_BOOLEAN;
    case JSON_NULL:
        return TYPE_NULL;
    }
    return 0;
}

static size_t utf8_code_points(const char *s, size_t len)
{
    size_t count = 0;
    for (size_t i = 0; i < len; i++)
        count += ((unsigned char)s[i] & 0xc0) != 0x80;
    return count;
}

static int pattern_matches(const struct pattern *pattern, const char *s, size_t len)
{
#ifdef REG_STARTEND
    /* Lets a string with an embedded NUL be matched as a whole. */
    regmatch_t range = {.rm_so = 0, .rm_eo = (regoff_t)len};
    return regexec(&pattern->regex, s, 1, &range, REG_STARTEND) == 0;
#else
    (void)len;
    return regexec(&pattern->regex, s, 0, NULL, 0) == 0;
#endif
}

/* ------------------------------------------------------------------------ */
/* Formats                                                                  */

static int is_ipv4(const char *s)
{
    unsigned char buf[sizeof(struct in_addr)];
    return inet_pton(AF_INET, s, buf) == 1;
}

static int is_ipv6(const char *s)
{
    unsigned char buf[sizeof(struct in6_addr)];
    return inet_pton(AF_INET6, s, buf) == 1;
}

/* RFC 1123 host name: dot-separated labels of letters, digits and '-', no
 * label starting or ending with '-', at most 63 bytes a label, 253 in all. */
static int is_hostname(const char *s, size_t len)
{
    if (len == 0 || len > 253)
        return 0;
    size_t label = 0;
    for (size_t i = 0; i <= len; i++) {
        char c = i < len ? s[i] : '.';
        if (c == '.') {
            if (label == 0 || label > 63 || s[i - 1] == '-')
                return 0;
            label = 0;
        } else if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-') {
            if (label == 0 && c == '-')
                return 0;
            label++;
        } else {
            return 0;
        }
    }
    return 1;
}

static int is_hex(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* Best-effort RFC 3986 absolute URI: a scheme, ':', then only characters a URI
 * may contain, with every '%' starting a valid escape. */
static int is_uri(const char *s, size_t len)
{
    static const char allowed[] = "-._~:/?#[]@!$&'()*+,;=";
    size_t i = 0;
    if (len == 0 || !((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= 'A' && s[0] <= 'Z')))
        return 0;
    while (i < len && ((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= '0' && s[i] <= '9') ||
                       s[i] == '+' || s[i] == '-' || s[i] == '.'))
        i++;
    if (i == len || s[i] != ':')
        return 0;
    for (i++; i < len; i++) {
        char c = s[i];
        if (c == '%') {
            if (i + 2 >= len || !is_hex(s[i + 1]) || !is_hex(s[i + 2]))
                return 0;
            i += 2;
        } else if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                     (c != '\0' && strchr(allowed, c) != NULL))) {
            return 0;
        }
    }
    return 1;
}

static const struct {
    const char *name;
    enum format_kind kind;
    const char *message;
} format_table[] = {
    {"ipv4", FORMAT_IPV4, "must be an IPv4 address"},
    {"ipv6", FORMAT_IPV6, "must be an IPv6 address"},
    {"hostname", FORMAT_HOSTNAME, "must be a host name"},
    {"uri", FORMAT_URI, "must be an absolute URI"},
};

static int format_matches(enum format_kind kind, const char *s, size_t len)
{
    /* inet_pton reads a C string, so an embedded NUL must not shorten it. */
    if (strlen(s) != len)
        return 0;
    switch (kind) {
    case FORMAT_NONE:
        return 1;
    case FORMAT_IPV4:
        return is_ipv4(s);
    case FORMAT_IPV6:
        return is_ipv6(s);
    case FORMAT_HOSTNAME:
        return is_hostname(s, len);
    case FORMAT_URI:
        return is_uri(s, len);
    }
    return 1;
}

static const char *format_message(enum format_kind kind)
{
    for (size_t i = 0; i < sizeof(format_table) / sizeof(format_table[0]); i++)
        if (format_table[i].kind == kind)
            return format_table[i].message;
    return "has an invalid format";
}

/* ------------------------------------------------------------------------ */
/* Loading                                                                  */

struct compiler {
    struct json_schema *schema;
    struct strbuf path; /* JSON pointer of the schema location being compiled */
    char *err;
};

static struct node *compile(struct compiler *c, const json_t *source);

static int fail(struct compiler *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int fail(struct compiler *c, const char *fmt, ...)
{
    if (c->err != NULL)
        return -1;
    va_list ap;
    va_start(ap, fmt);
    char *message = xvasprintf(fmt, ap);
    va_end(ap);
    c->err = xasprintf("%s: %s", c->path.len ? c->path.data : "(root)", message);
    free(message);
    return -1;
}

static size_t compiler_push(struct compiler *c, const char *token)
{
    size_t mark = c->path.len;
    char *pointer = json_pointer_append("", token);
    strbuf_append_str(&c->path, pointer);
    free(pointer);
    return mark;
}

static void compiler_pop(struct compiler *c, size_t mark)
{
    c->path.len = mark;
    c->path.data[mark] = '\0';
}

/* Compiles the subschema `value` found under the keyword path token(s). */
static struct node *compile_at(struct compiler *c, const char *token, const char *token2, const json_t *value)
{
    size_t mark = compiler_push(c, token);
    if (token2 != NULL)
        compiler_push(c, token2);
    struct node *node = compile(c, value);
    compiler_pop(c, mark);
    return node;
}

static int get_count(struct compiler *c, const char *keyword, const json_t *value, long long *out)
{
    if (!json_is_integer(value) || json_integer_value(value) < 0)
        return fail(c, "'%s' must be a non-negative integer", keyword);
    *out = json_integer_value(value);
    return 0;
}

static int compile_pattern(struct compiler *c, const char *keyword, const char *source, struct pattern *out)
{
    int rc = regcomp(&out->regex, source, REG_EXTENDED | REG_NOSUB);
    if (rc != 0) {
        char reason[256];
        regerror(rc, &out->regex, reason, sizeof(reason));
        return fail(c, "'%s' is not a valid POSIX extended regular expression: '%s' (%s)", keyword, source, reason);
    }
    out->source = source;
    return 0;
}

static int compile_list(struct compiler *c, const char *keyword, const json_t *value, struct node_list *out)
{
    if (!json_is_array(value) || json_array_size(value) == 0)
        return fail(c, "'%s' must be a non-empty array of schemas", keyword);
    out->count = json_array_size(value);
    out->items = xcalloc(out->count, sizeof(*out->items));
    for (size_t i = 0; i < out->count; i++) {
        char index[32];
        snprintf(index, sizeof(index), "%zu", i);
        if ((out->items[i] = compile_at(c, keyword, index, json_array_get(value, i))) == NULL)
            return -1;
    }
    return 0;
}

static int kw_type(struct compiler *c, struct node *node, const json_t *value)
{
    size_t n = json_is_array(value) ? json_array_size(value) : 1;
    if (!json_is_string(value) && !(json_is_array(value) && n > 0))
        return fail(c, "'type' must be a type name or a non-empty array of them");
    for (size_t i = 0; i < n; i++) {
        const json_t *name = json_is_array(value) ? json_array_get(value, i) : value;
        unsigned bit = 0;
        for (size_t t = 0; json_is_string(name) && t < sizeof(type_table) / sizeof(type_table[0]); t++)
            if (strcmp(type_table[t].name, json_string_value(name)) == 0)
                bit = type_table[t].bit;
        if (bit == 0)
            return fail(c, "'type' names an unknown type");
        node->types |= bit;
    }
    return 0;
}

static int kw_enum(struct compiler *c, struct node *node, const json_t *value)
{
    if (!json_is_array(value) || json_array_size(value) == 0)
        return fail(c, "'enum' must be a non-empty array");
    node->enum_values = value;
    return 0;
}

static int kw_const(struct compiler *c, struct node *node, const json_t *value)
{
    (void)c;
    node->const_value = value;
    return 0;
}

static int compare_properties(const void *a, const void *b)
{
    return strcmp(((const struct property *)a)->name, ((const struct property *)b)->name);
}

static int kw_properties(struct compiler *c, struct node *node, const json_t *value)
{
    if (!json_is_object(value))
        return fail(c, "'properties' must be an object");
    node->properties = xcalloc(json_object_size(value), sizeof(*node->properties));
    const char *name;
    const json_t *sub;
    json_object_foreach((json_t *)value, name, sub)
    {
        struct property *p = &node->properties[node->num_properties++];
        p->name = name;
        if ((p->node = compile_at(c, "properties", name, sub)) == NULL)
            return -1;
    }
    qsort(node->properties, node->num_properties, sizeof(*node->properties), compare_properties);
    return 0;
}

static int kw_pattern_properties(struct compiler *c, struct node *node, const json_t *value)
{
    if (!json_is_object(value))
        return fail(c, "'patternProperties' must be an object");
    node->pattern_properties = xcalloc(json_object_size(value), sizeof(*node->pattern_properties));
    const char *source;
    const json_t *sub;
    json_object_foreach((json_t *)value, source, sub)
    {
        struct pattern_property *p = &node->pattern_properties[node->num_pattern_properties];
        if (compile_pattern(c, "patternProperties", source, &p->pattern) != 0)
            return -1;
        node->num_pattern_properties++; /* only now does the regex need regfree */
        if ((p->node = compile_at(c, "patternProperties", source, sub)) == NULL)
            return -1;
    }
    return 0;
}

static int kw_additional_properties(struct compiler *c, struct node *node, const json_t *value)
{
    return (node->additional_properties = compile_at(c, "additionalProperties", NULL, value)) != NULL ? 0 : -1;
}

static int kw_required(struct compiler *c, struct node *node, const json_t *value)
{
    if (!json_is_array(value))
        return fail(c, "'required' must be an array of property names");
    node->required = xcalloc(json_array_size(value), sizeof(*node->required));
    for (size_t i = 0; i < json_array_size(value); i++) {
        const json_t *name = json_array_get(value, i);
        if (!json_is_string(name))
            return fail(c, "'required' must be an array of property names");
        node->required[node->num_required++] = json_string_value(name);
    }
    return 0;
}

static int kw_min_properties(struct compiler *c, struct node *node, const json_t *value)
{
    return get_count(c, "minProperties", value, &node->min_properties);
}

static int kw_max_properties(struct compiler *c, struct node *node, const json_t *value)
{
    return get_count(c, "maxProperties", value, &node->max_properties);
}

static int kw_items(struct compiler *c, struct node *node, const json_t *value)
{
    if (json_is_array(value))
        return fail(c, "'items' must be a single schema (the array form is not supported)");
    return (node->items = compile_at(c, "items", NULL, value)) != NULL ? 0 : -1;
}

static int kw_min_items(struct compiler *c, struct node *node, const json_t *value)
{
    return get_count(c, "minItems", value, &node->min_items);
}

static int kw_max_items(struct compiler *c, struct node *node, const json_t *value)
{
    return get_count(c, "maxItems", value, &node->max_items);
}

static int kw_unique_items(struct compiler *c, struct node *node, const json_t *value)
{
    if (!json_is_boolean(value))
        return fail(c, "'uniqueItems' must be a boolean");
    node->unique_items = json_is_true(value);
    return 0;
}

static int kw_min_length(struct compiler *c, struct node *node, const json_t *value)
{
    return get_count(c, "minLength", value, &node->min_length);
}

static int kw_max_length(struct compiler *c, struct node *node, const json_t *value)
{
    return get_count(c, "maxLength", value, &node->max_length);
}

static int kw_pattern(struct compiler *c, struct node *node, const json_t *value)
{
    if (!json_is_string(value))
        return fail(c, "'pattern' must be a string");
    struct pattern *pattern = xcalloc(1, sizeof(*pattern));
    if (compile_pattern(c, "pattern", json_string_value(value), pattern) != 0) {
        free(pattern);
        return -1;
    }
    node->pattern = pattern;
    return 0;
}

static int kw_format(struct compiler *c, struct node *node, const json_t *value)
{
    for (size_t i = 0; json_is_string(value) && i < sizeof(format_table) / sizeof(format_table[0]); i++) {
        if (strcmp(format_table[i].name, json_string_value(value)) == 0) {
            node->format = format_table[i].kind;
            return 0;
        }
    }
    return fail(c, "'format' must be one of: ipv4, ipv6, hostname, uri");
}

static int get_number(struct compiler *c, const char *keyword, const json_t *value, const json_t **out)
{
    if (!json_is_number(value))
        return fail(c, "'%s' must be a number", keyword);
    *out = value;
    return 0;
}

static int kw_minimum(struct compiler *c, struct node *node, const json_t *value)
{
    return get_number(c, "minimum", value, &node->minimum);
}

static int kw_maximum(struct compiler *c, struct node *node, const json_t *value)
{
    return get_number(c, "maximum", value, &node->maximum);
}

static int kw_exclusive_minimum(struct compiler *c, struct node *node, const json_t *value)
{
    return get_number(c, "exclusiveMinimum", value, &node->exclusive_minimum);
}

static int kw_exclusive_maximum(struct compiler *c, struct node *node, const json_t *value)
{
    return get_number(c, "exclusiveMaximum", value, &node->exclusive_maximum);
}

static int kw_multiple_of(struct compiler *c, struct node *node, const json_t *value)
{
    if (!json_is_number(value) || !(json_number_value(value) > 0))
        return fail(c, "'multipleOf' must be a number greater than 0");
    node->multiple_of = value;
    return 0;
}

static int kw_all_of(struct compiler *c, struct node *node, const json_t *value)
{
    return compile_list(c, "allOf", value, &node->all_of);
}

static int kw_any_of(struct compiler *c, struct node *node, const json_t *value)
{
    return compile_list(c, "anyOf", value, &node->any_of);
}

static int kw_one_of(struct compiler *c, struct node *node, const json_t *value)
{
    return compile_list(c, "oneOf", value, &node->one_of);
}

static int kw_not(struct compiler *c, struct node *node, const json_t *value)
{
    return (node->not_schema = compile_at(c, "not", NULL, value)) != NULL ? 0 : -1;
}

static int kw_if(struct compiler *c, struct node *node, const json_t *value)
{
    return (node->if_schema = compile_at(c, "if", NULL, value)) != NULL ? 0 : -1;
}

static int kw_then(struct compiler *c, struct node *node, const json_t *value)
{
    return (node->then_schema = compile_at(c, "then", NULL, value)) != NULL ? 0 : -1;
}

static int kw_else(struct compiler *c, struct node *node, const json_t *value)
{
    return (node->else_schema = compile_at(c, "else", NULL, value)) != NULL ? 0 : -1;
}

/* Resolves a local reference ("#" or "#/json/pointer") in the schema document. */
static const json_t *resolve_ref(const json_t *document, const char *ref)
{
    const json_t *at = document;
    const char *p = ref + 1;
    while (at != NULL && *p == '/') {
        const char *end = strchr(p + 1, '/');
        size_t len = end != NULL ? (size_t)(end - p - 1) : strlen(p + 1);
        struct strbuf token = STRBUF_INIT;
        for (size_t i = 0; i < len; i++) {
            char ch = p[1 + i];
            if (ch == '~' && i + 1 < len && (p[2 + i] == '0' || p[2 + i] == '1'))
                ch = p[2 + i++] == '0' ? '~' : '/';
            strbuf_append_char(&token, ch);
        }
        char *name = strbuf_detach(&token, NULL);
        if (json_is_object(at)) {
            at = json_object_get(at, name);
        } else if (json_is_array(at)) {
            char *rest;
            unsigned long index = strtoul(name, &rest, 10);
            at = *name != '\0' && *rest == '\0' ? json_array_get(at, index) : NULL;
        } else {
            at = NULL;
        }
        free(name);
        p += 1 + len;
    }
    return *p == '\0' ? at : NULL;
}

static int kw_ref(struct compiler *c, struct node *node, const json_t *value)
{
    const char *ref = json_string_value(value);
    if (ref == NULL || ref[0] != '#')
        return fail(c, "'$ref' must be a local reference such as \"#/$defs/name\"");
    const json_t *target = resolve_ref(c->schema->document, ref);
    if (target == NULL)
        return fail(c, "'$ref' target '%s' does not exist", ref);
    /* Compile the target under its own location so its errors name it. */
    struct strbuf saved = c->path;
    c->path = (struct strbuf)STRBUF_INIT;
    strbuf_append_str(&c->path, ref + 1);
    node->ref = compile(c, target);
    strbuf_free(&c->path);
    c->path = saved;
    return node->ref != NULL ? 0 : -1;
}

static int kw_defs(struct compiler *c, struct node *node, const json_t *value)
{
    (void)node;
    if (!json_is_object(value))
        return fail(c, "'$defs' must be an object");
    /* Compiled even when unreferenced, so a mistake in one is found early. */
    const char *name;
    const json_t *sub;
    json_object_foreach((json_t *)value, name, sub)
    {
        if (compile_at(c, "$defs", name, sub) == NULL)
            return -1;
    }
    return 0;
}

static int kw_title(struct compiler *c, struct node *node, const json_t *value)
{
    if (!json_is_string(value))
        return fail(c, "'title' must be a string");
    node->title = json_string_value(value);
    return 0;
}

static int kw_annotation(struct compiler *c, struct node *node, const json_t *value)
{
    (void)c, (void)node, (void)value;
    return 0;
}

static const struct {
    const char *name;
    int (*compile)(struct compiler *c, struct node *node, const json_t *value);
} keyword_table[] = {
    {"type", kw_type},
    {"enum", kw_enum},
    {"const", kw_const},
    {"properties", kw_properties},
    {"patternProperties", kw_pattern_properties},
    {"additionalProperties", kw_additional_properties},
    {"required", kw_required},
    {"minProperties", kw_min_properties},
    {"maxProperties", kw_max_properties},
    {"items", kw_items},
    {"minItems", kw_min_items},
    {"maxItems", kw_max_items},
    {"uniqueItems", kw_unique_items},
    {"minLength", kw_min_length},
    {"maxLength", kw_max_length},
    {"pattern", kw_pattern},
    {"format", kw_format},
    {"minimum", kw_minimum},
    {"maximum", kw_maximum},
    {"exclusiveMinimum", kw_exclusive_minimum},
    {"exclusiveMaximum", kw_exclusive_maximum},
    {"multipleOf", kw_multiple_of},
    {"allOf", kw_all_of},
    {"anyOf", kw_any_of},
    {"oneOf", kw_one_of},
    {"not", kw_not},
    {"if", kw_if},
    {"then", kw_then},
    {"else", kw_else},
    {"$ref", kw_ref},
    {"$defs", kw_defs},
    {"title", kw_title},
    {"description", kw_annotation},
    {"default", kw_annotation},
    {"examples", kw_annotation},
    {"$schema", kw_annotation},
    {"$id", kw_annotation},
    {"$comment", kw_annotation},
};

/* "must be a string or null", or for an integer with both bounds "must be an integer between 1 and 65535". */
static void compose_type_message(struct node *node)
{
    struct strbuf sb = STRBUF_INIT;
    size_t listed = 0, total = 0;
    unsigned types = node->types;
    if (types & TYPE_NUMBER)
        types &= ~TYPE_INTEGER; /* "a number" already includes integers */
    for (size_t t = 0; t < sizeof(type_table) / sizeof(type_table[0]); t++)
        total += (types & type_table[t].bit) != 0;
    strbuf_append_str(&sb, "must be ");
    for (size_t t = 0; t < sizeof(type_table) / sizeof(type_table[0]); t++) {
        if (!(types & type_table[t].bit))
            continue;
        if (listed > 0)
            strbuf_append_str(&sb, listed + 1 == total ? " or " : ", ");
        strbuf_append_str(&sb, type_table[t].noun);
        listed++;
    }
    if (total == 1 && (types & (TYPE_INTEGER | TYPE_NUMBER)) && node->minimum != NULL && node->maximum != NULL) {
        char *lo = format_number(node->minimum), *hi = format_number(node->maximum);
        strbuf_appendf(&sb, " between %s and %s", lo, hi);
        free(lo);
        free(hi);
    }
    node->type_message = strbuf_detach(&sb, NULL);
}

/* Messages that depend on several keywords are composed once the whole
 * schema object has been read (its keywords come in any order). */
static void finish_node(struct node *node)
{
    if (node->types != 0)
        compose_type_message(node);
    if (node->enum_values != NULL) {
        struct strbuf sb = STRBUF_INIT;
        strbuf_append_str(&sb, json_array_size(node->enum_values) == 1 ? "must be " : "must be one of: ");
        for (size_t i = 0; i < json_array_size(node->enum_values); i++) {
            char *text = format_value(json_array_get(node->enum_values, i));
            strbuf_appendf(&sb, "%s%s", i ? ", " : "", text);
            free(text);
        }
        node->enum_message = strbuf_detach(&sb, NULL);
    }
    if (node->minimum != NULL && node->maximum != NULL) {
        char *lo = format_number(node->minimum), *hi = format_number(node->maximum);
        node->range_message = xasprintf("must be %sbetween %s and %s", node->types == TYPE_INTEGER ? "an integer " : "", lo, hi);
        free(lo);
        free(hi);
    }
}

static struct node *new_node(struct json_schema *schema, const json_t *source)
{
    struct node *node = xcalloc(1, sizeof(*node));
    node->source = source;
    node->boolean = -1;
    node->min_properties = node->max_properties = -1;
    node->min_items = node->max_items = -1;
    node->min_length = node->max_length = -1;
    if (schema->num_nodes == schema->capacity) {
        schema->capacity = schema->capacity ? schema->capacity * 2 : 64;
        schema->nodes = xrealloc(schema->nodes, schema->capacity * sizeof(*schema->nodes));
    }
    schema->nodes[schema->num_nodes++] = node;
    return node;
}

static struct node *compile(struct compiler *c, const json_t *source)
{
    /* A subschema reached twice (through "$ref" or "$defs") is compiled once;
     * registering the node before its children also ends reference cycles. */
    for (size_t i = 0; i < c->schema->num_nodes; i++)
        if (c->schema->nodes[i]->source == source)
            return c->schema->nodes[i];
    if (!json_is_object(source) && !json_is_boolean(source)) {
        fail(c, "a schema must be an object or a boolean");
        return NULL;
    }
    struct node *node = new_node(c->schema, source);
    if (json_is_boolean(source)) {
        node->boolean = json_is_true(source);
        return node;
    }
    const char *key;
    const json_t *value;
    json_object_foreach((json_t *)source, key, value)
    {
        size_t k = 0, n = sizeof(keyword_table) / sizeof(keyword_table[0]);
        while (k < n && strcmp(keyword_table[k].name, key) != 0)
            k++;
        if (k == n) {
            fail(c, "unknown keyword '%s'", key);
            return NULL;
        }
        if (keyword_table[k].compile(c, node, value) != 0)
            return NULL;
    }
    finish_node(node);
    return node;
}

static void free_node(struct node *node)
{
    for (size_t i = 0; i < node->num_pattern_properties; i++)
        regfree(&node->pattern_properties[i].pattern.regex);
    if (node->pattern != NULL)
        regfree(&node->pattern->regex);
    free(node->pattern);
    free(node->pattern_properties);
    free(node->properties);
    free(node->required);
    free(node->all_of.items);
    free(node->any_of.items);
    free(node->one_of.items);
    free(node->type_message);
    free(node->enum_message);
    free(node->range_message);
    free(node);
}

void json_schema_free(struct json_schema *schema)
{
    if (schema == NULL)
        return;
    for (size_t i = 0; i < schema->num_nodes; i++)
        free_node(schema->nodes[i]);
    free(schema->nodes);
    json_decref(schema->document);
    free(schema);
}

struct json_schema *json_schema_load_json(json_t *document, char **err)
{
    if (err != NULL)
        *err = NULL;
    struct json_schema *schema = xcalloc(1, sizeof(*schema));
    schema->document = json_incref(document);
    struct compiler c = {.schema = schema, .path = STRBUF_INIT, .err = NULL};
    strbuf_append_str(&c.path, "");
    schema->root = compile(&c, document);
    strbuf_free(&c.path);
    if (schema->root == NULL) {
        if (err != NULL)
            *err = c.err;
        else
            free(c.err);
        json_schema_free(schema);
        return NULL;
    }
    return schema;
}

struct json_schema *json_schema_load(const char *text, size_t len, char **err)
{
    json_error_t error;
    json_t *document = json_loadb(text, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &error);
    if (document == NULL) {
        if (err != NULL)
            *err = xasprintf("schema is not valid JSON: line %d, column %d: %s", error.line, error.column, error.text);
        return NULL;
    }
    struct json_schema *schema = json_schema_load_json(document, err);
    json_decref(document);
    return schema;
}

/* ------------------------------------------------------------------------ */
/* Validation                                                               */

struct validator {
    struct problem_list *out; /* where problems go; NULL = only count them */
    int quick;                /* only "valid or not" is wanted: stop at the first problem */
    struct strbuf path;       /* JSON pointer of the instance location being checked */
    unsigned depth;
};

static size_t validate(struct validator *v, const struct node *node, const json_t *instance);

static const char *current_pointer(const struct validator *v)
{
    return v->path.len ? v->path.data : "";
}

static size_t report(struct validator *v, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static size_t report(struct validator *v, const char *fmt, ...)
{
    if (v->out == NULL)
        return 1;
    va_list ap;
    va_start(ap, fmt);
    char *message = xvasprintf(fmt, ap);
    va_end(ap);
    problem_list_add(v->out, current_pointer(v), "%s", message);
    free(message);
    return 1;
}

static size_t push_key(struct validator *v, const char *key)
{
    size_t mark = v->path.len;
    strbuf_append_char(&v->path, '/');
    if (strpbrk(key, "~/") == NULL) {
        strbuf_append_str(&v->path, key);
        return mark;
    }
    for (const char *p = key; *p; p++) {
        if (*p == '~')
            strbuf_append_str(&v->path, "~0");
        else if (*p == '/')
            strbuf_append_str(&v->path, "~1");
        else
            strbuf_append_char(&v->path, *p);
    }
    return mark;
}

static size_t push_index(struct validator *v, size_t index)
{
    size_t mark = v->path.len;
    strbuf_appendf(&v->path, "/%zu", index);
    return mark;
}

static void pop(struct validator *v, size_t mark)
{
    v->path.len = mark;
    v->path.data[mark] = '\0';
}

/* Validates into `list` (or only for validity when quick), keeping the path. */
static size_t validate_into(struct validator *v, const struct node *node, const json_t *instance, struct problem_list *list,
                            int quick)
{
    struct problem_list *saved_out = v->out;
    int saved_quick = v->quick;
    v->out = list;
    v->quick = quick;
    size_t count = validate(v, node, instance);
    v->out = saved_out;
    v->quick = saved_quick;
    return count;
}

static int is_valid(struct validator *v, const struct node *node, const json_t *instance)
{
    return validate_into(v, node, instance, NULL, 1) == 0;
}

static size_t report_bound(struct validator *v, const char *relation, const json_t *bound)
{
    char *text = format_number(bound);
    size_t count = report(v, "must be %s %s", relation, text);
    free(text);
    return count;
}

static int is_multiple(const json_t *instance, const json_t *divisor)
{
    if (json_is_integer(instance) && json_is_integer(divisor))
        return json_integer_value(instance) % json_integer_value(divisor) == 0;
    /* Reals: a quotient within rounding error of an integer counts. */
    double quotient = json_number_value(instance) / json_number_value(divisor);
    return isfinite(quotient) && fabs(quotient - round(quotient)) <= 1e-9 * fmax(1.0, fabs(quotient));
}

static size_t check_number(struct validator *v, const struct node *node, const json_t *instance)
{
    size_t count = 0;
    int too_low = node->minimum != NULL && compare_numbers(instance, node->minimum) < 0;
    int too_high = node->maximum != NULL && compare_numbers(instance, node->maximum) > 0;
    if ((too_low || too_high) && node->range_message != NULL)
        count += report(v, "%s", node->range_message);
    else if (too_low)
        count += report_bound(v, "at least", node->minimum);
    else if (too_high)
        count += report_bound(v, "at most", node->maximum);
    if (node->exclusive_minimum != NULL && compare_numbers(instance, node->exclusive_minimum) <= 0)
        count += report_bound(v, "greater than", node->exclusive_minimum);
    if (node->exclusive_maximum != NULL && compare_numbers(instance, node->exclusive_maximum) >= 0)
        count += report_bound(v, "less than", node->exclusive_maximum);
    if (node->multiple_of != NULL && !is_multiple(instance, node->multiple_of))
        count += report_bound(v, "a multiple of", node->multiple_of);
    return count;
}

static size_t check_string(struct validator *v, const struct node *node, const json_t *instance)
{
    size_t count = 0, len = json_string_length(instance);
    const char *s = json_string_value(instance);
    if (node->min_length >= 0 || node->max_length >= 0) {
        size_t chars = utf8_code_points(s, len);
        if (node->min_length >= 0 && chars < (size_t)node->min_length)
            count += node->min_length == 1 ? report(v, "must not be empty")
                                           : report(v, "must be at least %lld characters long", node->min_length);
        if (node->max_length >= 0 && chars > (size_t)node->max_length)
            count += report(v, "must be at most %lld characters long", node->max_length);
    }
    if (node->pattern != NULL && !pattern_matches(node->pattern, s, len)) {
        if (node->title != NULL)
            count += report(v, "must be %s", node->title);
        else
            count += report(v, "must match the pattern %s", node->pattern->source);
    }
    if (node->format != FORMAT_NONE && !format_matches(node->format, s, len))
        count += report(v, "%s", format_message(node->format));
    return count;
}

static size_t check_array(struct validator *v, const struct node *node, const json_t *instance)
{
    size_t count = 0, n = json_array_size(instance);
    if (node->min_items >= 0 && n < (size_t)node->min_items)
        count += report(v, "must have at least %lld item%s", node->min_items, node->min_items == 1 ? "" : "s");
    if (node->max_items >= 0 && n > (size_t)node->max_items)
        count += report(v, "must have at most %lld item%s", node->max_items, node->max_items == 1 ? "" : "s");
    for (size_t i = 1; node->unique_items && i < n; i++) {
        for (size_t j = 0; j < i; j++) {
            if (values_equal(json_array_get(instance, i), json_array_get(instance, j))) {
                size_t mark = push_index(v, i);
                count += report(v, "is a duplicate of item %zu", j);
                pop(v, mark);
                break;
            }
        }
        if (v->quick && count)
            return count;
    }
    for (size_t i = 0; node->items != NULL && i < n; i++) {
        size_t mark = push_index(v, i);
        count += validate(v, node->items, json_array_get(instance, i));
        pop(v, mark);
        if (v->quick && count)
            return count;
    }
    return count;
}

static const struct property *find_property(const struct node *node, const char *name)
{
    if (node->num_properties == 0)
        return NULL;
    struct property key = {.name = name};
    return bsearch(&key, node->properties, node->num_properties, sizeof(key), compare_properties);
}

/* Checks one member of an object against properties / patternProperties /
 * additionalProperties. The path already points at the member. */
static size_t check_member(struct validator *v, const struct node *node, const char *name, const json_t *value)
{
    size_t count = 0;
    int matched = 0;
    const struct property *property = find_property(node, name);
    if (property != NULL) {
        count += validate(v, property->node, value);
        matched = 1;
    }
    for (size_t i = 0; i < node->num_pattern_properties; i++) {
        if (pattern_matches(&node->pattern_properties[i].pattern, name, strlen(name))) {
            count += validate(v, node->pattern_properties[i].node, value);
            matched = 1;
        }
    }
    if (!matched && node->additional_properties != NULL) {
        if (node->additional_properties->boolean == 0)
            count += report(v, "unknown property '%s'", name);
        else
            count += validate(v, node->additional_properties, value);
    }
    return count;
}

static size_t check_object(struct validator *v, const struct node *node, const json_t *instance)
{
    size_t count = 0, n = json_object_size(instance);
    if (node->min_properties >= 0 && n < (size_t)node->min_properties)
        count += report(v, "must have at least %lld propert%s", node->min_properties, node->min_properties == 1 ? "y" : "ies");
    if (node->max_properties >= 0 && n > (size_t)node->max_properties)
        count += report(v, "must have at most %lld propert%s", node->max_properties, node->max_properties == 1 ? "y" : "ies");
    for (size_t i = 0; i < node->num_required; i++) {
        if (json_object_get(instance, node->required[i]) == NULL) {
            size_t mark = push_key(v, node->required[i]);
            count += report(v, "is required");
            pop(v, mark);
        }
    }
    if (v->quick && count)
        return count;
    if (node->num_properties == 0 && node->num_pattern_properties == 0 && node->additional_properties == NULL)
        return count;
    const char *name;
    const json_t *value;
    json_object_foreach((json_t *)instance, name, value)
    {
        size_t mark = push_key(v, name);
        count += check_member(v, node, name, value);
        pop(v, mark);
        if (v->quick && count)
            return count;
    }
    return count;
}

static int all_at(const struct problem_list *list, const char *pointer)
{
    for (size_t i = 0; i < list->count; i++)
        if (strcmp(list->items[i].pointer, pointer) != 0)
            return 0;
    return 1;
}

/* Every branch failed at the value itself (e.g. "not an IPv4 address", "not an
 * IPv6 address"): one problem naming all the alternatives. */
static size_t report_alternatives(struct validator *v, const struct problem_list *lists, size_t n)
{
    struct strbuf sb = STRBUF_INIT;
    const char *prefix = "must be ";
    int common_prefix = 1;
    for (size_t b = 0; b < n; b++)
        for (size_t i = 0; i < lists[b].count; i++)
            common_prefix &= strncmp(lists[b].items[i].message, prefix, strlen(prefix)) == 0;
    if (common_prefix)
        strbuf_append_str(&sb, prefix);
    for (size_t b = 0; b < n; b++) {
        if (b > 0)
            strbuf_append_str(&sb, b + 1 == n ? " or " : ", ");
        for (size_t i = 0; i < lists[b].count; i++) {
            if (i > 0)
                strbuf_append_str(&sb, " and ");
            strbuf_append_str(&sb, lists[b].items[i].message + (common_prefix ? strlen(prefix) : 0));
        }
    }
    size_t count = report(v, "%s", sb.data);
    strbuf_free(&sb);
    return count;
}

/* Reports why none of the branches of anyOf / oneOf matched. */
static size_t report_branches(struct validator *v, const struct node_list *branches, const json_t *instance)
{
    if (v->quick)
        return 1;
    struct problem_list *lists = xcalloc(branches->count, sizeof(*lists));
    for (size_t b = 0; b < branches->count; b++)
        validate_into(v, branches->items[b], instance, &lists[b], 0);
    /* The branch that got furthest is the one whose problems lie below the
     * value (its shape matched); among those, the one with fewest problems. */
    size_t best = branches->count;
    for (size_t b = 0; b < branches->count; b++)
        if (!all_at(&lists[b], current_pointer(v)) && (best == branches->count || lists[b].count < lists[best].count))
            best = b;
    size_t count = 0;
    if (best == branches->count) {
        count = report_alternatives(v, lists, branches->count);
    } else {
        for (size_t i = 0; i < lists[best].count; i++) {
            if (v->out != NULL)
                problem_list_add(v->out, lists[best].items[i].pointer, "%s", lists[best].items[i].message);
            count++;
        }
    }
    for (size_t b = 0; b < branches->count; b++)
        problem_list_clear(&lists[b]);
    free(lists);
    return count;
}

static size_t check_combinators(struct validator *v, const struct node *node, const json_t *instance)
{
    size_t count = 0;
    for (size_t i = 0; i < node->all_of.count && !(v->quick && count); i++)
        count += validate(v, node->all_of.items[i], instance);
    if (node->any_of.count > 0) {
        size_t i = 0;
        while (i < node->any_of.count && !is_valid(v, node->any_of.items[i], instance))
            i++;
        if (i == node->any_of.count)
            count += report_branches(v, &node->any_of, instance);
    }
    if (node->one_of.count > 0) {
        size_t matches = 0;
        for (size_t i = 0; i < node->one_of.count; i++)
            matches += is_valid(v, node->one_of.items[i], instance);
        if (matches == 0)
            count += report_branches(v, &node->one_of, instance);
        else if (matches > 1)
            count += report(v, "must match exactly one of the allowed forms, but matches %zu", matches);
    }
    if (node->not_schema != NULL && is_valid(v, node->not_schema, instance))
        count += report(v, "must not match the excluded form");
    if (node->if_schema != NULL) {
        const struct node *branch = is_valid(v, node->if_schema, instance) ? node->then_schema : node->else_schema;
        if (branch != NULL)
            count += validate(v, branch, instance);
    }
    if (node->ref != NULL)
        count += validate(v, node->ref, instance);
    return count;
}

static int equals_any(const json_t *instance, const json_t *values)
{
    for (size_t i = 0; i < json_array_size(values); i++)
        if (values_equal(instance, json_array_get(values, i)))
            return 1;
    return 0;
}

static size_t validate_node(struct validator *v, const struct node *node, const json_t *instance)
{
    if (node->boolean >= 0)
        return node->boolean ? 0 : report(v, "is not allowed");
    unsigned types = instance_types(instance);
    if (node->types != 0 && !(node->types & types))
        return report(v, "%s", node->enum_message != NULL ? node->enum_message : node->type_message);
    size_t count = 0;
    if (node->enum_values != NULL && !equals_any(instance, node->enum_values))
        count += report(v, "%s", node->enum_message);
    if (node->const_value != NULL && !values_equal(instance, node->const_value)) {
        char *text = format_value(node->const_value);
        count += report(v, "must be %s", text);
        free(text);
    }
    if (types & TYPE_NUMBER)
        count += check_number(v, node, instance);
    else if (types & TYPE_STRING)
        count += check_string(v, node, instance);
    else if (types & TYPE_ARRAY)
        count += check_array(v, node, instance);
    else if (types & TYPE_OBJECT)
        count += check_object(v, node, instance);
    if (v->quick && count)
        return count;
    return count + check_combinators(v, node, instance);
}

static size_t validate(struct validator *v, const struct node *node, const json_t *instance)
{
    if (v->depth >= MAX_VALIDATION_DEPTH)
        return report(v, "is nested too deeply to validate");
    v->depth++;
    size_t count = validate_node(v, node, instance);
    v->depth--;
    return count;
}

size_t json_schema_validate(const struct json_schema *schema, const json_t *instance, struct problem_list *problems)
{
    struct validator v = {.out = problems, .quick = 0, .path = STRBUF_INIT, .depth = 0};
    strbuf_reserve(&v.path, 256);
    strbuf_append_str(&v.path, "");
    size_t count = validate(&v, schema->root, instance);
    strbuf_free(&v.path);
    return count;
}
