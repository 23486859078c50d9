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
 *   add-legal-person --name NAME --uscc CODE
 *       registers an enterprise or organisation by its unified social credit
 *       code (check digit validated).
 *   add-agent --uscc CODE --mobile M --role legal_representative|administrator|agent
 *   remove-agent --uscc CODE --mobile M
 *       lets the account act for the legal person (its tokens may then carry
 *       the code as `org`), or stops it from the next token on.
 *
 * Exit status: 0 done, 1 failure or no such account, 2 usage or invalid configuration.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth/accounts.h"
#include "auth/identifiers.h"
#include "auth/legal_persons.h"
#include "gateway/cli.h"
#include "gateway/cli_common.h"

#define USAGE                                                                                                                      \
    "usage: yiwang accounts show --config FILE --mobile M\n"                                                                       \
    "       yiwang accounts raise-level --config FILE --mobile M --level 2|3 --actor WHO --evidence REF\n"                         \
    "       yiwang accounts add-legal-person --config FILE --name NAME --uscc CODE\n"                                              \
    "       yiwang accounts add-agent --config FILE --uscc CODE --mobile M --role legal_representative|administrator|agent\n"      \
    "       yiwang accounts remove-agent --config FILE --uscc CODE --mobile M\n"

struct accounts_args {
    const char *config_path, *mobile, *actor, *evidence, *name, *uscc, *role;
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
        else if (strcmp(opt, "--name") == 0)
            a->name = val;
        else if (strcmp(opt, "--uscc") == 0)
            a->uscc = val;
        else if (strcmp(opt, "--role") == 0)
            a->role = val;
        else if (strcmp(opt, "--level") == 0 && (strcmp(val, "2") == 0 || strcmp(val, "3") == 0))
            a->level = (unsigned)(val[0] - '0');
        else
            return -1;
    }
    return argc % 2 == 0 && a->config_path != NULL ? 0 : -1;
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

static const char *legal_persons_problem(enum legal_persons_result result)
{
    switch (result) {
    case LEGAL_PERSONS_BAD_USCC:
        return "not a valid unified social credit code";
    case LEGAL_PERSONS_EXISTS:
        return "a legal person with this code exists already";
    case LEGAL_PERSONS_NOT_FOUND:
        return "no such legal person, or the account is not its agent";
    default:
        return NULL;
    }
}

/* Reports a legal-persons result; the exit status. */
static int legal_persons_report(const char *command, enum legal_persons_result result, char *err)
{
    if (result == LEGAL_PERSONS_OK)
        return 0;
    const char *problem = legal_persons_problem(result);
    fprintf(stderr, "yiwang accounts %s: %s\n", command, problem != NULL ? problem : err);
    free(err);
    return 1;
}

static int add_legal_person(struct db *db, const struct config *config, void *arg)
{
    (void)config;
    const struct accounts_args *a = arg;
    char id[RANDOM_ID_BUFSIZE], *err = NULL;
    int rc = legal_persons_report("add-legal-person", legal_persons_create(db, a->name, a->uscc, id, &err), err);
    if (rc == 0)
        printf("legal_person %s\n", id);
    return rc;
}

static int add_agent(struct db *db, const struct config *config, void *arg)
{
    (void)config;
    const struct accounts_args *a = arg;
    enum legal_person_role role;
    struct account account;
    if (legal_person_role_parse(a->role, &role) != 0) {
        fputs("yiwang accounts add-agent: --role must be legal_representative, administrator or agent\n", stderr);
        return 2;
    }
    if (find(db, a->mobile, &account) != 0)
        return 1;
    char *err = NULL;
    int rc = legal_persons_report("add-agent", legal_persons_add_agent(db, a->uscc, account.id, role, &err), err);
    if (rc == 0)
        printf("account %s may act for %s as %s\n", account.id, a->uscc, a->role);
    return rc;
}

static int remove_agent(struct db *db, const struct config *config, void *arg)
{
    (void)config;
    const struct accounts_args *a = arg;
    struct account account;
    if (find(db, a->mobile, &account) != 0)
        return 1;
    char *err = NULL;
    int rc = legal_persons_report("remove-agent", legal_persons_remove_agent(db, a->uscc, account.id, &err), err);
    if (rc == 0)
        printf("account %s no longer acts for %s\n", account.id, a->uscc);
    return rc;
}

/* Each subcommand with the options it cannot do without. */
static const struct subcommand {
    const char *name;
    cli_database_command run;
    int needs_mobile, needs_uscc, needs_name, needs_role;
} subcommands[] = {
    {"show", show, 1, 0, 0, 0},
    {"raise-level", raise_level, 1, 0, 0, 0},
    {"add-legal-person", add_legal_person, 0, 1, 1, 0},
    {"add-agent", add_agent, 1, 1, 0, 1},
    {"remove-agent", remove_agent, 1, 1, 0, 0},
};

static const struct subcommand *find_subcommand(const char *name, const struct accounts_args *a)
{
    for (size_t i = 0; i < sizeof(subcommands) / sizeof(subcommands[0]); i++) {
        const struct subcommand *c = &subcommands[i];
        if (strcmp(c->name, name) == 0)
            return (!c->needs_mobile || a->mobile != NULL) && (!c->needs_uscc || a->uscc != NULL) &&
                           (!c->needs_name || a->name != NULL) && (!c->needs_role || a->role != NULL)
                       ? c
                       : NULL;
    }
    return NULL;
}

int cli_accounts(int argc, char **argv)
{
    struct accounts_args args;
    const struct subcommand *command =
        argc >= 1 && parse_args(argc - 1, argv + 1, &args) == 0 ? find_subcommand(argv[0], &args) : NULL;
    if (command == NULL) {
        fputs(USAGE, stderr);
        return 2;
    }
    return cli_run_with_database("yiwang accounts", args.config_path, command->run, &args);
}
