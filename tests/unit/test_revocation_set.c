/*
 * test_revocation_set.c — lookups by session and by token id, kinds kept
 * apart, and a set large enough for a busy day of logouts.
 */
#include <stdio.h>
#include <string.h>

#include "auth/revocation_set.h"
#include "tests/unit/test.h"

int main(void)
{
    struct revocation_set *set = revocation_set_new(4);
    revocation_set_add(set, REVOKED_SESSION, "s-1");
    revocation_set_add(set, REVOKED_TOKEN, "j-1");
    CHECK(revocation_set_contains(set, REVOKED_SESSION, "s-1"));
    CHECK(revocation_set_contains(set, REVOKED_TOKEN, "j-1"));
    CHECK(!revocation_set_contains(set, REVOKED_TOKEN, "s-1")); /* a sid is not a jti */
    CHECK(!revocation_set_contains(set, REVOKED_SESSION, "s-2"));
    CHECK(!revocation_set_contains(set, REVOKED_SESSION, ""));
    CHECK(!revocation_set_contains(NULL, REVOKED_SESSION, "s-1"));
    char name[32];
    for (int i = 0; i < 100000; i++) {
        snprintf(name, sizeof(name), "sid-%d", i);
        revocation_set_add(set, REVOKED_SESSION, name);
    }
    CHECK_INT_EQ(revocation_set_size(set), 100002);
    CHECK(revocation_set_contains(set, REVOKED_SESSION, "sid-99999"));
    CHECK(!revocation_set_contains(set, REVOKED_SESSION, "sid-100000"));
    revocation_set_retain(set);
    revocation_set_release(set);
    CHECK(revocation_set_contains(set, REVOKED_SESSION, "s-1")); /* still held once */
    revocation_set_release(set);
    return TEST_REPORT();
}
