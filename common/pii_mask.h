/*
 * pii_mask.h — mask citizens' identifiers before they reach a log.
 *
 * Mainland mobile numbers (11 digits, 1[3-9]x) keep 3 + 4 digits:
 * "13812345678" -> "138****5678". 18-character resident ID numbers (17 digits
 * + digit or X) keep 6 + 4: "11010519491231002X" -> "110105********002X".
 * Matches are taken only where the digits are not part of a longer run of
 * digits, so order numbers and timestamps are left alone. Percent-encoded
 * digits are not decoded: the input is already normalised by the router.
 *
 * Pure function; any thread.
 */
#ifndef YIWANG_COMMON_PII_MASK_H
#define YIWANG_COMMON_PII_MASK_H

#include <stddef.h>

#include "common/strbuf.h"

/* Appends `in` to `out` with every mobile and resident ID number masked. */
void pii_mask_append(struct strbuf *out, const char *in, size_t len);

/* Masks in place (the length never changes). Returns the number of masks applied. */
size_t pii_mask_inplace(char *buf, size_t len);

#endif
