/*
 * cli_accounts.c — `yiwang accounts show|raise-level --config FILE`: what an
 * authorised operator does with a citizen's account until the admin API
 * exists (auth/accounts.h).
 *
 *   show --mobile M
 *       prints the account id, assurance level and status (the mobile number
 *       masked; never the name or the ID number).
 *   raise-level --mobile M --level 2|3 --actor WHO --evidence REF
 *       raises the assurance level (never lowers it) and records who decided
 *       it and on what evidence (a reference such as a verification
 *       transaction id, never personal data). Tokens carry the new level from
 *       the person's next sign-in.
 *
 * Exit status: 0 done, 1 failure or no such account, 2 usage or invalid configuration.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth/accounts.h"
#include "auth/identifiers.h"
#include "gateway/cli.h"
#include "gateway/cli_common.h"

#define USAGE                                                                                                                      \
    "usage: yiwang accounts show --config FILE --mobile M\n"                                                                       \
    "       yiwang accounts raise-level --config FILE --mobile M --level 2|3 --actor WHO --evidence REF\n"

struct accounts_args {
    const char *config_path, *mobile, *actor, *evidence;
    unsigned level;
};

static int parse_args(int argc, char **argv, struct accounts_args *a)
{
    memset(a, 0, sizeof(*a));
    for (int i = 0; i + 1 < argc; i += 2) {
        const char *opt = argv[i], *val = argv[i + 1];
        if (strcmp(opt, "--config") == 0)
            a->config_path = val;
        else if (strcmp(opt, "--mobile") == 0)
            a->mobile = val;
        else if (strcmp(opt, "--actor") == 0)
            a->actor = val;
        else if (strcmp(opt, "--evidence") == 0)
            a->evidence = val;
        else if (strcmp(opt, "--level") == 0 && (strcmp(val, "2") == 0 || strcmp(val, "3") == 0))
            a->level = (unsigned)(val[0] - '0');
        else
            return -1;
    }
    return argc % 2 == 0 && a->config_path != NULL && a->mobile != NULL ? 0 : -1;
}

static int find(struct db *db, const char *mobile, struct account *account)
{
    char normal[IDENTIFIERS_MOBILE_BUFSIZE], *err = NULL;
    if (identifiers_mobile_normalise(mobile, strlen(mobile), normal) != IDENTIFIER_OK) {
        fputs("yiwang accounts: not a mainland mobile number\n", stderr);
        return -1;
    }
    int found = accounts_find_by_mobile(db, normal, account, &err);
    if (found <= 0) {
        fprintf(stderr, "yiwang accounts: %s\n", found < 0 ? err : "no such account");
        free(err);
        return -1;
    }
    return 0;
}

static int show(struct db *db, const struct config *config, void *arg)
{
    (void)config;
    const struct accounts_args *a = arg;
    struct account account;
    if (find(db, a->mobile, &account) != 0)
        return 1;
    char masked[IDENTIFIERS_MOBILE_BUFSIZE];
    identifiers_mobile_mask(account.mobile, masked);
    printf("id %s\nmobile %s\nassurance_level %u\nstatus %s\n", account.id, masked, account.assurance_level,
           account_status_name(account.status));
    return 0;
}

static int raise_level(struct db *db, const struct config *config, void *arg)
{
    (void)config;
    const struct accounts_args *a = arg;
    if (a->level == 0 || a->actor == NULL || a->evidence == NULL) {
        fputs(USAGE, stderr);
        return 2;
    }
    struct account account;
    if (find(db, a->mobile, &account) != 0)
        return 1;
    char *err = NULL;
    int raised = accounts_raise_assurance(db, account.id, a->level, a->actor, a->evidence, &err);
    if (raised < 0) {
        fprintf(stderr, "yiwang accounts raise-level: %s\n", err);
        free(err);
        return 1;
    }
    printf(raised ? "account %s raised to level %u\n" : "account %s is already at level %u or above\n", account.id, a->level);
    return 0;
}

int cli_accounts(int argc, char **argv)
{
    struct accounts_args args;
    if (argc < 1 || (strcmp(argv[0], "show") != 0 && strcmp(argv[0], "raise-level") != 0) ||
        parse_args(argc - 1, argv + 1, &args) != 0) {
        fputs(USAGE, stderr);
        return 2;
    }
    return cli_run_with_database("yiwang accounts", args.config_path, strcmp(argv[0], "show") == 0 ? show : raise_level, &args);
}
