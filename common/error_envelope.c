/*
 * error_envelope.c — the JSON error body and the choice of its language.
 *
 * Accept-Language (RFC 9110 §12.5.4) is
 *   #( language-range [ OWS ";" OWS "q=" qvalue ] )
 * with basic language ranges (RFC 4647 §2.1: 1*8ALPHA *("-" 1*8alphanum), or
 * "*") and qvalues of at most three decimals, 0..1. Empty list elements are
 * allowed, as for every "#" list. Only two languages are on offer, so a range
 * counts for Chinese when its primary subtag is "zh" (zh, zh-CN, zh-TW,
 * zh-Hans...: a reader of Traditional Chinese is still better served by
 * Simplified Chinese than by English), for English when it is "en", and "*"
 * stands for whichever of the two the client did not name, as the more
 * specific range wins in RFC 4647 matching.
 *
 * Chinese is chosen when its best q is above English's and above 0; on equal
 * q the language whose best range was listed first wins. English is the
 * default for everything else, including any syntax error: a header we do not
 * understand says nothing reliable about the reader.
 */
#include "common/error_envelope.h"

#include <stdint.h>
#include <string.h>

#define Q_MAX 1000 /* q=1, in thousandths */

struct cursor {
    const char *p, *end;
};

/* The best q seen for one language and where its range was listed. */
struct preference {
    int q;           /* thousandths; 0 when the language was not named */
    size_t position; /* list index of the first range with that q; SIZE_MAX when not named */
};

#define PREFERENCE_NONE ((struct preference){0, SIZE_MAX})

enum range_language { RANGE_OTHER, RANGE_ZH, RANGE_EN, RANGE_ANY };

static int is_alpha(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static int is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static char to_lower(char c)
{
    return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

static void skip_ows(struct cursor *c)
{
    while (c->p < c->end && (*c->p == ' ' || *c->p == '\t'))
        c->p++;
}

static int at(const struct cursor *c, char ch)
{
    return c->p < c->end && *c->p == ch;
}

/* Consumes 1..8 characters accepted by `accept`; returns how many (0 = syntax error). */
static size_t take_subtag(struct cursor *c, int (*accept)(char))
{
    size_t n = 0;
    while (c->p < c->end && accept(*c->p) && n < 9) {
        c->p++;
        n++;
    }
    return n <= 8 ? n : 0;
}

static int is_alphanum(char c)
{
    return is_alpha(c) || is_digit(c);
}

/* Parses one language range; returns 0 on a syntax error. */
static int parse_range(struct cursor *c, enum range_language *language)
{
    if (at(c, '*')) {
        c->p++;
        *language = RANGE_ANY;
        return 1;
    }
    const char *primary = c->p;
    size_t primary_len = take_subtag(c, is_alpha);
    if (primary_len == 0)
        return 0;
    while (at(c, '-')) {
        c->p++;
        if (take_subtag(c, is_alphanum) == 0)
            return 0;
    }
    *language = RANGE_OTHER;
    if (primary_len == 2 && to_lower(primary[0]) == 'z' && to_lower(primary[1]) == 'h')
        *language = RANGE_ZH;
    else if (primary_len == 2 && to_lower(primary[0]) == 'e' && to_lower(primary[1]) == 'n')
        *language = RANGE_EN;
    return 1;
}

/* Parses `qvalue` = ("0" ["." 0*3DIGIT]) / ("1" ["." 0*3"0"]) into thousandths; returns 0 on a syntax error. */
static int parse_qvalue(struct cursor *c, int *q)
{
    if (!at(c, '0') && !at(c, '1'))
        return 0;
    int whole = *c->p++ - '0', fraction = 0, scale = 100;
    if (at(c, '.')) {
        c->p++;
        for (int digits = 0; c->p < c->end && is_digit(*c->p); digits++, c->p++) {
            if (digits == 3)
                return 0;
            fraction += (*c->p - '0') * scale;
            scale /= 10;
        }
    }
    *q = whole * Q_MAX + fraction;
    return *q <= Q_MAX;
}

/* Parses the optional weight after a range; *q stays Q_MAX without one. Returns 0 on a syntax error. */
static int parse_weight(struct cursor *c, int *q)
{
    *q = Q_MAX;
    skip_ows(c);
    if (!at(c, ';'))
        return 1;
    c->p++;
    skip_ows(c);
    /* ABNF literals are case-insensitive, so "Q=" is as good as "q=". */
    if (c->end - c->p < 2 || to_lower(c->p[0]) != 'q' || c->p[1] != '=')
        return 0;
    c->p += 2;
    if (!parse_qvalue(c, q))
        return 0;
    skip_ows(c);
    return 1;
}

static void note(struct preference *pref, int q, size_t position)
{
    /* Strictly greater: on equal q the earlier range keeps its place. */
    if (pref->position == SIZE_MAX || q > pref->q)
        *pref = (struct preference){q, position};
}

/* Fills the best zh, en and "*" preferences; returns 0 if the header is malformed. */
static int parse_accept_language(struct cursor *c, struct preference *zh, struct preference *en, struct preference *any)
{
    size_t position = 0;
    for (;;) {
        skip_ows(c);
        if (c->p == c->end)
            return 1;
        if (at(c, ',')) {
            c->p++;
            continue;
        }
        enum range_language language;
        int q;
        if (!parse_range(c, &language) || !parse_weight(c, &q))
            return 0;
        if (c->p != c->end && !at(c, ','))
            return 0;
        if (language == RANGE_ZH)
            note(zh, q, position);
        else if (language == RANGE_EN)
            note(en, q, position);
        else if (language == RANGE_ANY)
            note(any, q, position);
        position++;
    }
}

enum message_language error_language_from_accept(const char *accept_language, size_t len)
{
    if (accept_language == NULL)
        return LANGUAGE_EN;
    struct cursor c = {accept_language, accept_language + len};
    struct preference zh = PREFERENCE_NONE, en = PREFERENCE_NONE, any = PREFERENCE_NONE;
    if (!parse_accept_language(&c, &zh, &en, &any))
        return LANGUAGE_EN;
    if (zh.position == SIZE_MAX)
        zh = any;
    if (en.position == SIZE_MAX)
        en = any;
    if (zh.q == 0)
        return LANGUAGE_EN;
    if (zh.q > en.q || (zh.q == en.q && zh.position < en.position))
        return LANGUAGE_ZH;
    return LANGUAGE_EN;
}

static void append_member(struct strbuf *out, const char *name, const char *value, size_t len)
{
    strbuf_append_json_string(out, name, strlen(name));
    strbuf_append_char(out, ':');
    strbuf_append_json_string(out, value, len);
}

void error_envelope_append(struct strbuf *out, const char *code, const char *message, const char *request_id, size_t request_id_len)
{
    error_envelope_append_problems(out, code, message, request_id, request_id_len, NULL);
}

static void append_problems(struct strbuf *out, const struct problem_list *problems)
{
    strbuf_append_str(out, ",\"problems\":[");
    for (size_t i = 0; i < problems->count; i++) {
        const struct problem *p = &problems->items[i];
        strbuf_append_str(out, i ? ",{" : "{");
        append_member(out, "pointer", p->pointer, strlen(p->pointer));
        strbuf_append_char(out, ',');
        append_member(out, "message", p->message, strlen(p->message));
        strbuf_append_char(out, '}');
    }
    strbuf_append_char(out, ']');
}

void error_envelope_append_problems(struct strbuf *out, const char *code, const char *message, const char *request_id,
                                    size_t request_id_len, const struct problem_list *problems)
{
    /* NULLs become "" so a caller's mistake still yields the documented shape. */
    if (code == NULL)
        code = "";
    if (message == NULL)
        message = "";
    if (request_id == NULL) {
        request_id = "";
        request_id_len = 0;
    }
    strbuf_append_str(out, "{\"error\":{");
    append_member(out, "code", code, strlen(code));
    strbuf_append_char(out, ',');
    append_member(out, "message", message, strlen(message));
    strbuf_append_char(out, ',');
    append_member(out, "request_id", request_id, request_id_len);
    if (problems != NULL && problems->count > 0)
        append_problems(out, problems);
    strbuf_append_str(out, "}}");
}
