/*
 * test_form.c — urlencoded forms: decoding, and refusing what would let two
 * readers see different values (duplicates, bad escapes, NUL).
 */
#include <string.h>

#include "common/form.h"
#include "tests/unit/test.h"

static enum form_status parse(struct form *form, const char *text)
{
    return form_parse(form, text, strlen(text), NULL);
}

int main(void)
{
    struct form form;
    CHECK_INT_EQ(parse(&form, "grant_type=client_credentials&scope=a+b%3Ac&empty=&flag"), FORM_OK);
    CHECK_STR_EQ(form_get(&form, "grant_type"), "client_credentials");
    CHECK_STR_EQ(form_get(&form, "scope"), "a b:c");
    CHECK_STR_EQ(form_get(&form, "empty"), "");
    CHECK_STR_EQ(form_get(&form, "flag"), "");
    CHECK(form_get(&form, "missing") == NULL);
    CHECK_INT_EQ(form.count, 4);
    form_clear(&form);

    CHECK_INT_EQ(parse(&form, "redirect_uri=https%3A%2F%2Fapp.example%2Fcb%3Fx%3D1&&"), FORM_OK);
    CHECK_STR_EQ(form_get(&form, "redirect_uri"), "https://app.example/cb?x=1");
    form_clear(&form);

    CHECK_INT_EQ(parse(&form, ""), FORM_OK);
    CHECK_INT_EQ(form.count, 0);
    CHECK_INT_EQ(parse(&form, "scope=a&scope=b"), FORM_DUPLICATE);
    CHECK_INT_EQ(parse(&form, "scope=a&sc%6Fpe=b"), FORM_DUPLICATE); /* the same name, spelled differently */
    CHECK_INT_EQ(parse(&form, "a=%zz"), FORM_BAD_ENCODING);
    CHECK_INT_EQ(parse(&form, "a=%4"), FORM_BAD_ENCODING);
    CHECK_INT_EQ(parse(&form, "a=%"), FORM_BAD_ENCODING);
    CHECK_INT_EQ(parse(&form, "a=x%00y"), FORM_BAD_ENCODING);
    CHECK_INT_EQ(parse(&form, "%zz=1"), FORM_BAD_ENCODING);
    CHECK_INT_EQ(form.count, 0); /* nothing half-parsed survives a failure */

    char many[FORM_MAX_FIELDS * 8 + 16] = "";
    for (int i = 0; i <= FORM_MAX_FIELDS; i++)
        snprintf(many + strlen(many), sizeof(many) - strlen(many), "f%d=1&", i);
    CHECK_INT_EQ(parse(&form, many), FORM_TOO_MANY);

    char out[16];
    CHECK_INT_EQ(form_decode("%41%62+c", 8, out), 4);
    CHECK_STR_EQ(out, "Ab c");
    return TEST_REPORT();
}
