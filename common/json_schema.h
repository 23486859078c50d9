/*
 * json_schema.h — a JSON Schema validator (a subset of draft 2020-12) on Jansson.
 *
 * A schema text is compiled once into a tree (regular expressions compiled,
 * "$ref"s resolved to nodes), then any number of instances are checked against
 * it without re-reading the schema. Validation reports every violation, not
 * just the first, each as a problem whose pointer names the failing location
 * in the instance (RFC 6901) and whose message is plain English, e.g.
 * "/listeners/public/port: must be an integer between 1 and 65535".
 *
 * Supported keywords:
 *   type (a name or an array of names; "integer" also accepts a real with no
 *   fraction), enum, const, properties, required, additionalProperties,
 *   patternProperties, minProperties, maxProperties, items (one schema for
 *   every item), minItems, maxItems, uniqueItems, minLength, maxLength
 *   (counted in code points), pattern, minimum, maximum, exclusiveMinimum,
 *   exclusiveMaximum, multipleOf, allOf, anyOf, oneOf, not, if/then/else,
 *   $ref, $defs, format ("ipv4", "ipv6", "hostname", "uri"; any other format
 *   name is refused at load time), and the annotations title, description, default,
 *   examples, $schema, $id and $comment, which are ignored. Boolean schemas
 *   (true / false) are accepted wherever a schema is.
 *
 * Any other keyword makes json_schema_load fail, so that a misspelt keyword in
 * one of our schemas is an error instead of a silently missing rule.
 *
 * Differences from the specification, on purpose:
 *  - "pattern" and "patternProperties" are POSIX extended regular expressions
 *    (regcomp, REG_EXTENDED), not ECMA-262. Write patterns in the subset both
 *    dialects read the same way: literals, '.', bracket expressions such as
 *    [a-z0-9_-], anchors ^ $, groups ( ), alternation |, and the quantifiers
 *    * + ? {m,n}. Escapes such as \d \w \s, lookaround and lazy quantifiers are
 *    not available. Matching is byte-wise, so ranges should stay ASCII.
 *  - "$ref" must be a local JSON pointer fragment ("#", "#/$defs/name", ...,
 *    without percent-encoding);
 *    "$id"-based and remote references are refused at load time.
 *  - A value that fails "type" is reported once (the type message) and the
 *    other keywords of that schema are not checked against it, since their
 *    messages would only restate the mismatch.
 *  - A regular expression makes a poor message, so when "pattern" fails in a
 *    schema that has a "title", the message is "must be <title>": give such
 *    schemas a title phrased as a noun ("a lower-case name of ...").
 *  - When every branch of "anyOf" / "oneOf" fails, the problems of the branch
 *    that got furthest are reported; if all branches fail at the value itself
 *    their messages are joined ("must be an IPv4 address or an IPv6 address").
 *
 * Threads: a loaded schema is immutable; json_schema_validate may be called on
 * it from any number of threads at once (each with its own problem list).
 */
#ifndef YIWANG_COMMON_JSON_SCHEMA_H
#define YIWANG_COMMON_JSON_SCHEMA_H

#include <stddef.h>

#include <jansson.h>

#include "common/problems.h"

struct json_schema;

/*
 * Compiles a schema from its JSON text. Returns NULL when the text is not JSON
 * or not a schema this validator understands; then *err (if err is not NULL)
 * receives a malloc'ed message naming the offending schema location, e.g.
 * "/properties/port: unknown keyword 'minimun'".
 */
struct json_schema *json_schema_load(const char *text, size_t len, char **err);

/* Same, from an already-parsed document (the schema keeps a reference to it). */
struct json_schema *json_schema_load_json(json_t *document, char **err);

void json_schema_free(struct json_schema *schema);

/*
 * Validates `instance` and appends one problem per violation to `problems`
 * (which may be NULL to only count them). Returns the number of problems
 * found; 0 means valid.
 */
size_t json_schema_validate(const struct json_schema *schema, const json_t *instance, struct problem_list *problems);

#endif
