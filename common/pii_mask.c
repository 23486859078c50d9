/*
 * pii_mask.c — find citizens' identifiers in a log line and overwrite their
 * middle digits with '*'.
 *
 * The scan looks at maximal runs of ASCII digits. A run is masked only when
 * its whole length is one of the identifier shapes below, which is what keeps
 * order numbers, timestamps and amounts intact:
 *
 *   11  1[3-9]xxxxxxxxx             mobile            138****5678
 *   13  86 + mobile                 mobile, +86 form  86138****5678
 *   15  0086 + mobile               mobile, 00 form   0086138****5678
 *   15  anything else               legacy (1st gen.) 110105*****0025
 *                                   resident ID
 *   18  anything                    resident ID       110105********0025
 *   17  followed by 'X' or 'x'      resident ID       110105********002X
 *
 * Choices, and why:
 *  - "+86" needs no rule of its own: '+' is not a digit, so "+8613812345678"
 *    is the 13-digit run "86..." and comes out as "+86138****5678".
 *  - 15-digit runs are masked as legacy ID numbers. The 15-digit scheme
 *    predates GB 11643-1999 and still appears in old social-security and
 *    household records. The false positives (IMEIs are 15 digits) are
 *    device identifiers that should not be logged either. A 15-digit
 *    "0086" + mobile is a phone number: no ID number starts with 0 (region
 *    codes start with 1-8).
 *  - The resident ID checksum and birth date are not verified: a mistyped ID
 *    number is still personal data, and over-masking an 18-digit order number
 *    in a log costs little.
 *  - Letters and any other non-digit byte are boundaries, so "tel13812345678"
 *    and UTF-8 text next to a number do not protect it.
 *  - Percent escapes: the router leaves non-unreserved bytes %-encoded, so a
 *    number often follows an escape ("%20" or the last byte of a UTF-8
 *    character, "%89"). The escape's hex digits would make the run too long,
 *    so when the whole run matches nothing and it starts inside an escape,
 *    the escape's digits are dropped and the rest is tried once more.
 *  - Not handled: numbers written with separators ("138 1234 5678",
 *    "138-1234-5678") and %-encoded digits; the router decodes the latter in
 *    paths, and separators do not occur in machine-built URLs.
 *
 * Every byte is looked at a bounded number of times, so the scan is linear,
 * and pii_mask_inplace never allocates.
 */
#include "common/pii_mask.h"

#include <string.h>

#define MOBILE_LEN 11
#define RESIDENT_ID_LEN 18
#define LEGACY_ID_LEN 15

static int is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static int is_hex_letter(char c)
{
    return (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

static int looks_like_mobile(const char *p)
{
    return p[0] == '1' && p[1] >= '3' && p[1] <= '9';
}

/* Overwrites all but the first `head` and the last `tail` of the `len` bytes at p. */
static void mask_middle(char *p, size_t len, size_t head, size_t tail)
{
    memset(p + head, '*', len - head - tail);
}

/*
 * Masks the identifier that is exactly the digits p[0..n), plus the 'X' at
 * p[n] when x_follows. Returns 1 if there was one, 0 if the run is left alone.
 */
static int mask_exact_run(char *p, size_t n, int x_follows)
{
    if (x_follows && n == RESIDENT_ID_LEN - 1) {
        mask_middle(p, RESIDENT_ID_LEN, 6, 4);
        return 1;
    }
    switch (n) {
    case MOBILE_LEN:
        if (!looks_like_mobile(p))
            return 0;
        mask_middle(p, MOBILE_LEN, 3, 4);
        return 1;
    case MOBILE_LEN + 2:
        if (p[0] != '8' || p[1] != '6' || !looks_like_mobile(p + 2))
            return 0;
        mask_middle(p + 2, MOBILE_LEN, 3, 4);
        return 1;
    case LEGACY_ID_LEN:
        if (memcmp(p, "0086", 4) == 0 && looks_like_mobile(p + 4))
            mask_middle(p + 4, MOBILE_LEN, 3, 4);
        else
            mask_middle(p, LEGACY_ID_LEN, 6, 4);
        return 1;
    case RESIDENT_ID_LEN:
        mask_middle(p, RESIDENT_ID_LEN, 6, 4);
        return 1;
    default:
        return 0;
    }
}

/* How many leading digits of the run starting at buf[start] are the hex digits of a "%XX" escape. */
static size_t escape_digits(const char *buf, size_t start)
{
    if (start >= 1 && buf[start - 1] == '%')
        return 2;
    if (start >= 2 && buf[start - 2] == '%' && is_hex_letter(buf[start - 1]))
        return 1;
    return 0;
}

/* Handles the digit run buf[start..end); returns the number of masks applied (0 or 1). */
static size_t mask_run(char *buf, size_t len, size_t start, size_t end)
{
    int x_follows = end < len && (buf[end] == 'X' || buf[end] == 'x');
    size_t n = end - start;
    if (mask_exact_run(buf + start, n, x_follows))
        return 1;
    size_t skip = escape_digits(buf, start);
    if (skip != 0 && skip < n)
        return (size_t)mask_exact_run(buf + start + skip, n - skip, x_follows);
    return 0;
}

size_t pii_mask_inplace(char *buf, size_t len)
{
    size_t masks = 0, i = 0;
    while (i < len) {
        if (!is_digit(buf[i])) {
            i++;
            continue;
        }
        size_t start = i;
        while (i < len && is_digit(buf[i]))
            i++;
        masks += mask_run(buf, len, start, i);
    }
    return masks;
}

void pii_mask_append(struct strbuf *out, const char *in, size_t len)
{
    size_t offset = out->len;
    strbuf_append(out, in, len);
    pii_mask_inplace(out->data + offset, len);
}
