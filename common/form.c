#include "common/form.h"

#include <stdlib.h>
#include <string.h>

#include "common/hex.h"
#include "common/xalloc.h"

long form_decode(const char *in, size_t len, char *out)
{
    size_t o = 0;
    for (size_t i = 0; i < len; i++) {
        char c = in[i];
        if (c == '+') {
            c = ' ';
        } else if (c == '%') {
            if (i + 2 >= len || hex_digit_value((unsigned char)in[i + 1]) < 0 || hex_digit_value((unsigned char)in[i + 2]) < 0)
                return -1;
            c = (char)(hex_digit_value((unsigned char)in[i + 1]) << 4 | hex_digit_value((unsigned char)in[i + 2]));
            i += 2;
        }
        if (c == '\0')
            return -1;
        out[o++] = c;
    }
    out[o] = '\0';
    return (long)o;
}

static char *decode_copy(const char *in, size_t len, size_t *out_len)
{
    char *out = xmalloc(len + 1);
    long n = form_decode(in, len, out);
    if (n < 0) {
        free(out);
        return NULL;
    }
    *out_len = (size_t)n;
    return out;
}

const char *form_get(const struct form *form, const char *name)
{
    for (size_t i = 0; i < form->count; i++) {
        if (strcmp(form->fields[i].name, name) == 0)
            return form->fields[i].value;
    }
    return NULL;
}

static enum form_status add_field(struct form *form, const char *pair, size_t len, const char **bad_name)
{
    const char *eq = memchr(pair, '=', len);
    size_t name_len = eq != NULL ? (size_t)(eq - pair) : len, value_len = 0, decoded_name_len = 0;
    char *name = decode_copy(pair, name_len, &decoded_name_len);
    char *value = decode_copy(eq != NULL ? eq + 1 : "", eq != NULL ? len - name_len - 1 : 0, &value_len);
    enum form_status status = FORM_OK;
    if (name == NULL || value == NULL)
        status = FORM_BAD_ENCODING;
    else if (form_get(form, name) != NULL)
        status = FORM_DUPLICATE;
    else if (form->count == FORM_MAX_FIELDS)
        status = FORM_TOO_MANY;
    if (status != FORM_OK) {
        if (bad_name != NULL)
            *bad_name = pair;
        free(name);
        free(value);
        return status;
    }
    form->fields[form->count++] = (struct form_field){name, value, value_len};
    return FORM_OK;
}

enum form_status form_parse(struct form *form, const char *text, size_t len, const char **bad_name)
{
    memset(form, 0, sizeof(*form));
    const char *p = text, *end = text + len;
    while (p < end) {
        const char *amp = memchr(p, '&', (size_t)(end - p));
        size_t pair_len = amp != NULL ? (size_t)(amp - p) : (size_t)(end - p);
        if (pair_len != 0) { /* empty pairs ("a=1&&b=2") carry nothing */
            enum form_status status = add_field(form, p, pair_len, bad_name);
            if (status != FORM_OK) {
                form_clear(form);
                return status;
            }
        }
        p += pair_len + 1;
    }
    return FORM_OK;
}

void form_clear(struct form *form)
{
    for (size_t i = 0; i < form->count; i++) {
        free(form->fields[i].name);
        free(form->fields[i].value);
    }
    form->count = 0;
}
