/*
 * route_table.c — a tree of path segments per host.
 *
 * Every node is one lower-cased segment; its children sit in an
 * open-addressing hash table, so a lookup costs one hash probe per request
 * segment however many routes exist. Routes hang off the node of their
 * prefix; the deepest node on the request's path that carries routes decides.
 *
 * Tree roots for specific hosts are themselves nodes (keyed by host) in one
 * more hash table of the same kind, so hosts scale the same way.
 */
#include "routes/route_table.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/config.h"
#include "common/xalloc.h"
#include "routes/path_normalize.h"

struct route_entry {
    unsigned methods;
    void *value;
};

/* Open addressing with linear probing; capacity is 0 or a power of two and at
 * most half full, so a probe sequence always ends at an empty slot. */
struct node_map {
    struct route_node **slots;
    size_t capacity;
    size_t count;
};

struct route_node {
    struct node_map children;
    struct route_entry *routes;
    size_t num_routes;
    unsigned methods; /* union of the routes' methods */
    uint32_t hash;
    size_t key_len;
    char key[]; /* lower-cased segment, or host for a tree root */
};

struct route_table {
    struct route_node *any_host; /* routes without a host */
    struct node_map hosts;       /* host -> root of that host's tree */
    size_t size;
};

static unsigned char ascii_lower(unsigned char c)
{
    return c >= 'A' && c <= 'Z' ? (unsigned char)(c + ('a' - 'A')) : c;
}

/* FNV-1a over the lower-cased bytes. Only configured keys are ever inserted,
 * so request bytes cannot lengthen probe chains (no hash flooding). */
static uint32_t hash_lower(const char *s, size_t n)
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < n; i++) {
        h ^= ascii_lower((unsigned char)s[i]);
        h *= 16777619u;
    }
    return h;
}

static int key_equals(const struct route_node *node, const char *s, size_t n)
{
    if (node->key_len != n)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (ascii_lower((unsigned char)s[i]) != (unsigned char)node->key[i])
            return 0;
    return 1;
}

static struct route_node *node_new(const char *key, size_t n, uint32_t hash)
{
    struct route_node *node = xcalloc(1, sizeof(*node) + n + 1);
    for (size_t i = 0; i < n; i++)
        node->key[i] = (char)ascii_lower((unsigned char)key[i]);
    node->key_len = n;
    node->hash = hash;
    return node;
}

static void map_free(struct node_map *map);

static void node_free(struct route_node *node)
{
    map_free(&node->children);
    free(node->routes);
    free(node);
}

static void map_free(struct node_map *map)
{
    for (size_t i = 0; i < map->capacity; i++)
        if (map->slots[i] != NULL)
            node_free(map->slots[i]);
    free(map->slots);
}

static struct route_node *map_find(const struct node_map *map, const char *s, size_t n, uint32_t hash)
{
    if (map->capacity == 0)
        return NULL;
    size_t mask = map->capacity - 1;
    for (size_t i = hash & mask;; i = (i + 1) & mask) {
        struct route_node *node = map->slots[i];
        if (node == NULL || (node->hash == hash && key_equals(node, s, n)))
            return node;
    }
}

static void map_place(struct route_node **slots, size_t capacity, struct route_node *node)
{
    size_t i = node->hash & (capacity - 1);
    while (slots[i] != NULL)
        i = (i + 1) & (capacity - 1);
    slots[i] = node;
}

static void map_grow(struct node_map *map)
{
    size_t capacity = map->capacity ? map->capacity * 2 : 4;
    struct route_node **slots = xcalloc(capacity, sizeof(*slots));
    for (size_t i = 0; i < map->capacity; i++)
        if (map->slots[i] != NULL)
            map_place(slots, capacity, map->slots[i]);
    free(map->slots);
    map->slots = slots;
    map->capacity = capacity;
}

static struct route_node *map_find_or_add(struct node_map *map, const char *s, size_t n)
{
    uint32_t hash = hash_lower(s, n);
    struct route_node *node = map_find(map, s, n, hash);
    if (node != NULL)
        return node;
    if ((map->count + 1) * 2 > map->capacity)
        map_grow(map);
    node = node_new(s, n, hash);
    map_place(map->slots, map->capacity, node);
    map->count++;
    return node;
}

/* The length of a segment's name: up to its first ';', raw or percent-encoded (a backend that decodes before
 * splitting off parameters sees "%3B" as ';'; normalised paths spell it upper-case). */
static size_t segment_name_length(const char *seg, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        if (seg[i] == ';' || (seg[i] == '%' && i + 2 < len && seg[i + 1] == '3' && seg[i + 2] == 'B'))
            return i;
    }
    return len;
}

/* Finds the next non-empty segment at or after *pos; *pos ends just past it. */
static int next_segment(const char *path, size_t len, size_t *pos, const char **seg, size_t *seg_len)
{
    size_t i = *pos;
    while (i < len && path[i] == '/')
        i++;
    size_t start = i;
    while (i < len && path[i] != '/')
        i++;
    *pos = i;
    *seg = path + start;
    *seg_len = i - start;
    return i > start;
}

/*
 * Reduces a Host value to the name routes are keyed by: no port, no IPv6
 * brackets, no trailing dot ("gov.cn." is the same DNS name as "gov.cn", so it
 * must not escape that host's routes). Case is left to hashing/comparison.
 */
static size_t host_key(const char *host, size_t len, const char **key)
{
    if (len > 0 && host[0] == '[') {
        const char *close = memchr(host, ']', len);
        *key = host + 1;
        len = close != NULL ? (size_t)(close - host) - 1 : 0;
    } else {
        *key = host;
        const char *colon = memchr(host, ':', len);
        /* more than one ':' without brackets is a bare IPv6 address, not host:port */
        if (colon != NULL && memchr(colon + 1, ':', len - (size_t)(colon - host) - 1) == NULL)
            len = (size_t)(colon - host);
    }
    if (len > 0 && (*key)[len - 1] == '.')
        len--;
    return len;
}

struct route_table *route_table_new(void)
{
    struct route_table *table = xcalloc(1, sizeof(*table));
    table->any_host = node_new("", 0, 0);
    return table;
}

void route_table_free(struct route_table *table)
{
    if (table == NULL)
        return;
    node_free(table->any_host);
    map_free(&table->hosts);
    free(table);
}

size_t route_table_size(const struct route_table *table)
{
    return table->size;
}

static void format_methods(unsigned methods, char *buf, size_t size)
{
    static const char *const names[] = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"};
    size_t used = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        if (!(methods & (1u << i)))
            continue;
        int n = snprintf(buf + used, size - used, "%s%s", used ? ", " : "", names[i]);
        if (n < 0 || (size_t)n >= size - used)
            return;
        used += (size_t)n;
    }
}

static int fail(char **err, const char *host, const char *prefix, const char *why)
{
    if (err != NULL)
        *err = xasprintf("route \"%s\"%s%s%s: %s", prefix ? prefix : "(null)", host ? " on host \"" : " (any host)",
                         host ? host : "", host ? "\"" : "", why);
    return -1;
}

/* A prefix that normalisation would change could never match a request, so it
 * is refused instead of silently becoming a dead route. */
static int check_prefix(const char *host, const char *prefix, char **err)
{
    if (prefix == NULL || prefix[0] != '/')
        return fail(err, host, prefix, "path prefix must start with '/'");
    size_t len = strlen(prefix), out_len;
    char *norm = xmalloc(len + 1);
    enum path_status status = path_normalize(prefix, len, norm, &out_len);
    int rc = 0;
    if (status != PATH_OK) {
        char *why = xasprintf("invalid path prefix (%s)", path_status_name(status));
        rc = fail(err, host, prefix, why);
        free(why);
    } else if (memchr(prefix, ';', len) != NULL) {
        rc = fail(err, host, prefix, "path prefix must not contain ';' (segment parameters are ignored when matching)");
    } else if (out_len != len || memcmp(norm, prefix, len) != 0) {
        char *why = xasprintf("path prefix is not normalised (would be \"%s\")", norm);
        rc = fail(err, host, prefix, why);
        free(why);
    }
    free(norm);
    return rc;
}

static struct route_node *tree_for_host(struct route_table *table, const char *host, const char *prefix, char **err)
{
    if (host == NULL)
        return table->any_host;
    const char *key;
    size_t n = host_key(host, strlen(host), &key);
    if (n == 0) {
        fail(err, host, prefix, "host is empty or malformed");
        return NULL;
    }
    return map_find_or_add(&table->hosts, key, n);
}

int route_table_add(struct route_table *table, const char *host, const char *path_prefix, unsigned methods, void *value, char **err)
{
    methods &= HTTP_METHOD_ALL;
    if (methods == 0)
        return fail(err, host, path_prefix, "allows no HTTP method");
    if (check_prefix(host, path_prefix, err) != 0)
        return -1;
    struct route_node *node = tree_for_host(table, host, path_prefix, err);
    if (node == NULL)
        return -1;

    size_t len = strlen(path_prefix), pos = 0, seg_len;
    const char *seg;
    while (next_segment(path_prefix, len, &pos, &seg, &seg_len))
        node = map_find_or_add(&node->children, seg, seg_len);

    if (node->methods & methods) {
        char names[64], why[128];
        format_methods(node->methods & methods, names, sizeof(names));
        snprintf(why, sizeof(why), "another route with the same host and prefix already handles %s", names);
        return fail(err, host, path_prefix, why);
    }
    node->routes = xrealloc(node->routes, (node->num_routes + 1) * sizeof(*node->routes));
    node->routes[node->num_routes++] = (struct route_entry){methods, value};
    node->methods |= methods;
    table->size++;
    return 0;
}

/* The deepest node with routes decides; a method it does not allow is a 405,
 * never a reason to try a shorter (possibly less protected) prefix. */
static struct route_match decide(const struct route_node *best, size_t prefix_len, unsigned method_bit)
{
    struct route_match m = {ROUTE_NOT_FOUND, NULL, 0, 0};
    if (best == NULL)
        return m;
    m.prefix_len = prefix_len;
    for (size_t i = 0; i < best->num_routes; i++) {
        if (best->routes[i].methods & method_bit) {
            m.status = ROUTE_MATCHED;
            m.value = best->routes[i].value;
            return m;
        }
    }
    m.status = ROUTE_METHOD_NOT_ALLOWED;
    m.allowed_methods = best->methods;
    return m;
}

static struct route_match match_tree(const struct route_node *root, const char *path, size_t len, unsigned method_bit)
{
    const struct route_node *node = root, *best = root->num_routes ? root : NULL;
    size_t best_len = 0, pos = 0, seg_len;
    const char *seg;

    while (next_segment(path, len, &pos, &seg, &seg_len)) {
        /* Servlet containers drop ";params" from a segment ("/private;x/data" is "/private/data" to them), so the
         * route is chosen by the segment's name alone; otherwise ";x" would slip past /private's policy. */
        seg_len = segment_name_length(seg, seg_len);
        node = map_find(&node->children, seg, seg_len, hash_lower(seg, seg_len));
        if (node == NULL)
            break;
        if (node->num_routes != 0) {
            best = node;
            best_len = pos; /* end of this segment: a trailing '/' stays with the rest of the path */
        }
    }
    return decide(best, best_len, method_bit);
}

struct route_match route_table_match(const struct route_table *table, const char *host, size_t host_len, const char *path,
                                     size_t path_len, unsigned method_bit)
{
    if (host != NULL && table->hosts.count != 0) {
        const char *key;
        size_t n = host_key(host, host_len, &key);
        const struct route_node *root = n ? map_find(&table->hosts, key, n, hash_lower(key, n)) : NULL;
        if (root != NULL) {
            struct route_match m = match_tree(root, path, path_len, method_bit);
            if (m.status != ROUTE_NOT_FOUND)
                return m;
        }
    }
    return match_tree(table->any_host, path, path_len, method_bit);
}
