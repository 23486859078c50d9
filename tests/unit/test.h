/*
 * test.h — a minimal unit-test harness: CHECK records a failure and goes on,
 * so one run reports every broken expectation; TEST_MAIN returns non-zero if
 * any check failed, which is what ctest looks at.
 */
#ifndef YIWANG_TESTS_TEST_H
#define YIWANG_TESTS_TEST_H

#include <stdio.h>
#include <string.h>

static int test_failures;
static int test_checks;

#define CHECK(cond)                                                                                                                \
    do {                                                                                                                           \
        test_checks++;                                                                                                             \
        if (!(cond)) {                                                                                                             \
            test_failures++;                                                                                                       \
            fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond);                                               \
        }                                                                                                                          \
    } while (0)

#define CHECK_STR_EQ(actual, expected)                                                                                             \
    do {                                                                                                                           \
        const char *a_ = (actual), *e_ = (expected);                                                                               \
        test_checks++;                                                                                                             \
        if (a_ == NULL || e_ == NULL ? a_ != e_ : strcmp(a_, e_) != 0) {                                                           \
            test_failures++;                                                                                                       \
            fprintf(stderr, "%s:%d: expected \"%s\", got \"%s\"\n", __FILE__, __LINE__, e_ ? e_ : "(null)", a_ ? a_ : "(null)");   \
        }                                                                                                                          \
    } while (0)

#define CHECK_INT_EQ(actual, expected)                                                                                             \
    do {                                                                                                                           \
        long long a_ = (long long)(actual), e_ = (long long)(expected);                                                            \
        test_checks++;                                                                                                             \
        if (a_ != e_) {                                                                                                            \
            test_failures++;                                                                                                       \
            fprintf(stderr, "%s:%d: %s: expected %lld, got %lld\n", __FILE__, __LINE__, #actual, e_, a_);                          \
        }                                                                                                                          \
    } while (0)

#define TEST_REPORT()                                                                                                              \
    (fprintf(stderr, "%d checks, %d failed\n", test_checks, test_failures), test_failures == 0 && test_checks > 0 ? 0 : 1)

#endif
