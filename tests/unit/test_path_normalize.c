/*
 * test_path_normalize.c — every normalisation rule and every refused spelling,
 * plus properties (bounded output, idempotence) over generated inputs.
 */
#include <stdint.h>
#include <stdlib.h>

#include "routes/path_normalize.h"
#include "tests/unit/test.h"

struct norm_case {
    const char *in;
    enum path_status status;
    const char *out; /* expected output when status is PATH_OK */
};

static const struct norm_case cases[] = {
    /* plain paths */
    {"/", PATH_OK, "/"},
    {"/a/b", PATH_OK, "/a/b"},
    {"/a/b/", PATH_OK, "/a/b/"},
    {"/a b", PATH_INVALID_CHAR, NULL},           /* not a pchar; an HTTP/2 :path could carry it */
    {"/private#/../x", PATH_INVALID_CHAR, NULL}, /* '#' would start a fragment downstream */
    {"/a\"b", PATH_INVALID_CHAR, NULL},
    {"/a<b>", PATH_INVALID_CHAR, NULL},
    {"/a{b}", PATH_INVALID_CHAR, NULL},
    {"/a|b", PATH_INVALID_CHAR, NULL},
    {"/a^b", PATH_INVALID_CHAR, NULL},
    {"/a`b", PATH_INVALID_CHAR, NULL},
    {"/caf\xc3\xa9", PATH_INVALID_CHAR, NULL}, /* raw UTF-8 must be percent-encoded */
    {"/a%20b", PATH_OK, "/a%20b"},
    {"/a%23b", PATH_OK, "/a%23b"},
    {"/!$&'()*+,;=:@", PATH_OK, "/!$&'()*+,;=:@"},
    {"/a;b/c", PATH_OK, "/a;b/c"},
    {"/.a/..b/...", PATH_OK, "/.a/..b/..."},
    {"/..a;/x", PATH_OK, "/..a;/x"},
    {"/...;/x", PATH_OK, "/...;/x"},
    /* not absolute */
    {"relative", PATH_NOT_ABSOLUTE, NULL},
    {"", PATH_NOT_ABSOLUTE, NULL},
    {"*", PATH_NOT_ABSOLUTE, NULL},
    {"a/../b", PATH_NOT_ABSOLUTE, NULL},
    /* dot segments (RFC 3986 §5.2.4) */
    {"/public/../private", PATH_OK, "/private"},
    {"/a/./b", PATH_OK, "/a/b"},
    {"/a/../b", PATH_OK, "/b"},
    {"/..", PATH_OK, "/"},
    {"/../..", PATH_OK, "/"},
    {"/../private", PATH_OK, "/private"},
    {"/.", PATH_OK, "/"},
    {"/./", PATH_OK, "/"},
    {"/a/b/..", PATH_OK, "/a/"},
    {"/a/b/.", PATH_OK, "/a/b/"},
    {"/a/b/../", PATH_OK, "/a/"},
    {"/a/b/../../../c", PATH_OK, "/c"},
    {"/a/./../b/./c/..", PATH_OK, "/b/"},
    /* slash runs */
    {"//private", PATH_OK, "/private"},
    {"///a////b//", PATH_OK, "/a/b/"},
    {"/public//..//private", PATH_OK, "/private"},
    /* encoded dots are dots */
    {"/%2e%2e/private", PATH_OK, "/private"},
    {"/%2E%2E/private", PATH_OK, "/private"},
    {"/%2e%2E/private", PATH_OK, "/private"},
    {"/.%2e/private", PATH_OK, "/private"},
    {"/public/%2e%2e/private", PATH_OK, "/private"},
    {"/public/%2e/private", PATH_OK, "/public/private"},
    /* double encoding is decoded once only */
    {"/%252e%252e/private", PATH_OK, "/%252e%252e/private"},
    {"/%25", PATH_OK, "/%25"},
    /* decoding of unreserved characters, upper-case hex for the rest */
    {"/%41%42", PATH_OK, "/AB"},
    {"/%7e%5F%2D%2E%30%7A", PATH_OK, "/~_-.0z"},
    {"/caf%C3%A9", PATH_OK, "/caf%C3%A9"},
    {"/caf%c3%a9", PATH_OK, "/caf%C3%A9"},
    {"/a%20b", PATH_OK, "/a%20b"},
    {"/a%3bb", PATH_OK, "/a%3Bb"},
    {"/a%3fb", PATH_OK, "/a%3Fb"},
    {"/%ff", PATH_OK, "/%FF"},
    /* bad percent encoding */
    {"/%zz", PATH_BAD_PERCENT, NULL},
    {"/%4", PATH_BAD_PERCENT, NULL},
    {"/%", PATH_BAD_PERCENT, NULL},
    {"/%g0", PATH_BAD_PERCENT, NULL},
    {"/%0g", PATH_BAD_PERCENT, NULL},
    {"/a%%41", PATH_BAD_PERCENT, NULL},
    /* encoded separators */
    {"/public/..%2fprivate", PATH_ENCODED_SLASH, NULL},
    {"/public/..%2Fprivate", PATH_ENCODED_SLASH, NULL},
    {"/a%2fb", PATH_ENCODED_SLASH, NULL},
    {"/a%5cb", PATH_ENCODED_BACKSLASH, NULL},
    {"/a%5Cb", PATH_ENCODED_BACKSLASH, NULL},
    {"/public/..%5c..%5cprivate", PATH_ENCODED_BACKSLASH, NULL},
    /* raw backslash */
    {"/a\\b", PATH_BACKSLASH, NULL},
    {"/public\\..\\private", PATH_BACKSLASH, NULL},
    /* NUL and control bytes */
    {"/a%00b", PATH_NUL, NULL},
    {"/a%01b", PATH_CONTROL_CHAR, NULL},
    {"/a%0a", PATH_CONTROL_CHAR, NULL},
    {"/a%0D%0Ax", PATH_CONTROL_CHAR, NULL},
    {"/a%1F", PATH_CONTROL_CHAR, NULL},
    {"/a%7f", PATH_CONTROL_CHAR, NULL},
    {"/a\x01"
     "b",
     PATH_CONTROL_CHAR, NULL},
    {"/a\tb", PATH_CONTROL_CHAR, NULL},
    {"/a\x1f", PATH_CONTROL_CHAR, NULL},
    {"/a\x7f", PATH_CONTROL_CHAR, NULL},
    /* dot segments with path parameters (Tomcat "..;/") */
    {"/..;/private", PATH_DOT_PARAMETER, NULL},
    {"/public/..;x/private", PATH_DOT_PARAMETER, NULL},
    {"/public/..;/private", PATH_DOT_PARAMETER, NULL},
    {"/public/.;x/private", PATH_DOT_PARAMETER, NULL},
    {"/public/..;", PATH_DOT_PARAMETER, NULL},
    {"/public/%2e%2e;x/private", PATH_DOT_PARAMETER, NULL},
    {"/public/.%2E;/private", PATH_DOT_PARAMETER, NULL},
    {"/public/..%3bx/private", PATH_DOT_PARAMETER, NULL},
    {"/public/%2e%2e%3B/private", PATH_DOT_PARAMETER, NULL},
    /* the first problem wins */
    {"/%zz%2f", PATH_BAD_PERCENT, NULL},
    {"/a%2f%zz", PATH_ENCODED_SLASH, NULL},
    {"/a\\%00", PATH_BACKSLASH, NULL},
};

static void test_table(void)
{
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const struct norm_case *c = &cases[i];
        size_t len = strlen(c->in), out_len = 12345;
        char *out = malloc(len + 1); /* exactly the documented size, so ASan sees any overrun */
        enum path_status status = path_normalize(c->in, len, out, &out_len);
        if (status != c->status)
            fprintf(stderr, "case \"%s\": expected %s, got %s\n", c->in, path_status_name(c->status), path_status_name(status));
        CHECK_INT_EQ(status, c->status);
        if (c->status == PATH_OK) {
            CHECK_STR_EQ(out, c->out);
            CHECK_INT_EQ(out_len, strlen(c->out));
        } else {
            CHECK_STR_EQ(out, ""); /* a refused path leaves nothing usable behind */
            CHECK_INT_EQ(out_len, 0);
        }
        free(out);
    }
}

static void test_raw_nul(void)
{
    static const char in[] = {'/', 'a', '\0', 'b'};
    char out[sizeof(in) + 1];
    size_t out_len;
    CHECK_INT_EQ(path_normalize(in, sizeof(in), out, &out_len), PATH_CONTROL_CHAR);
}

static void test_length_limit(void)
{
    char *in = malloc(8194), *out = malloc(8194);
    size_t out_len;
    memset(in, 'a', 8193);
    in[0] = '/';
    CHECK_INT_EQ(path_normalize(in, 8192, out, &out_len), PATH_OK);
    CHECK_INT_EQ(out_len, 8192);
    CHECK_INT_EQ(path_normalize(in, 8193, out, &out_len), PATH_TOO_LONG);
    CHECK_INT_EQ(out_len, 0);
    free(in);
    free(out);
}

/* The length argument is what counts: bytes after it are not part of the path. */
static void test_len_respected(void)
{
    char out[8];
    size_t out_len;
    CHECK_INT_EQ(path_normalize("/ab/../cd", 3, out, &out_len), PATH_OK);
    CHECK_STR_EQ(out, "/ab");
    CHECK_INT_EQ(path_normalize("/a%2e", 3, out, &out_len), PATH_BAD_PERCENT);
}

static void test_in_place(void)
{
    char buf[] = "/public/%2e%2E//private/%41/./x/..";
    size_t out_len;
    CHECK_INT_EQ(path_normalize(buf, strlen(buf), buf, &out_len), PATH_OK);
    CHECK_STR_EQ(buf, "/private/A/");
}

static void test_status_names(void)
{
    CHECK_STR_EQ(path_status_name(PATH_OK), "ok");
    CHECK_STR_EQ(path_status_name(PATH_NOT_ABSOLUTE), "not_absolute");
    CHECK_STR_EQ(path_status_name(PATH_BAD_PERCENT), "bad_percent_encoding");
    CHECK_STR_EQ(path_status_name(PATH_ENCODED_SLASH), "encoded_slash");
    CHECK_STR_EQ(path_status_name(PATH_ENCODED_BACKSLASH), "encoded_backslash");
    CHECK_STR_EQ(path_status_name(PATH_NUL), "nul");
    CHECK_STR_EQ(path_status_name(PATH_BACKSLASH), "backslash");
    CHECK_STR_EQ(path_status_name(PATH_CONTROL_CHAR), "control_char");
    CHECK_STR_EQ(path_status_name(PATH_INVALID_CHAR), "invalid_char");
    CHECK_STR_EQ(path_status_name(PATH_DOT_PARAMETER), "dot_parameter");
    CHECK_STR_EQ(path_status_name(PATH_TOO_LONG), "too_long");
}

static int has_dot_segment(const char *p)
{
    for (const char *s = p; (s = strchr(s, '/')) != NULL; s++) {
        size_t n = strcspn(s + 1, "/");
        if ((n == 1 && s[1] == '.') || (n == 2 && s[1] == '.' && s[2] == '.'))
            return 1;
    }
    return 0;
}

/* Checks what must hold for every accepted path: bounded, canonical, and
 * normalising again changes nothing (so no second decoding can alter routing). */
static int check_properties(const char *in, size_t len)
{
    char *out = malloc(len + 1), *again = malloc(len + 1);
    size_t out_len, again_len;
    int ok = 1;
    if (path_normalize(in, len, out, &out_len) == PATH_OK) {
        ok = out_len <= len && out[out_len] == '\0' && strlen(out) == out_len && out[0] == '/' && strstr(out, "//") == NULL &&
             !has_dot_segment(out) && strchr(out, '\\') == NULL && path_normalize(out, out_len, again, &again_len) == PATH_OK &&
             strcmp(out, again) == 0;
        if (!ok)
            fprintf(stderr, "property broken for \"%.*s\" -> \"%s\"\n", (int)len, in, out);
    }
    free(out);
    free(again);
    return ok;
}

static void test_generated_properties(void)
{
    static const char *const pieces[] = {"/", "/", ".", "..",  "%2e", "%2E", "%",   "2", "f",
                                         "a", "B", ";", "%3b", "%41", "%25", "%c3", "x"};
    const size_t num_pieces = sizeof(pieces) / sizeof(pieces[0]);
    uint32_t seed = 12345;
    int broken = 0;
    char in[64];
    for (int round = 0; round < 200000; round++) {
        size_t len = 0;
        in[len++] = '/';
        int count = 1 + (int)(seed % 10);
        for (int k = 0; k < count; k++) {
            seed = seed * 1103515245u + 12345u;
            const char *piece = pieces[(seed >> 16) % num_pieces];
            size_t n = strlen(piece);
            memcpy(in + len, piece, n);
            len += n;
        }
        broken += !check_properties(in, len);
    }
    CHECK_INT_EQ(broken, 0);
}

int main(void)
{
    test_table();
    test_raw_nul();
    test_length_limit();
    test_len_respected();
    test_in_place();
    test_status_names();
    test_generated_properties();
    return TEST_REPORT();
}
