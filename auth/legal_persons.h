/*
 * legal_persons.h — legal persons (法人: enterprises and organisations) and
 * the natural persons who may act for them (tables legal_persons,
 * legal_person_agents).
 *
 * A legal person is known by its unified social credit code (USCC), which is
 * public — printed on every business licence — and is what department
 * services file an enterprise's business under. A natural person signed in
 * with their own account acts for a legal person only while they are
 * registered as its agent and the legal person is active; the token then
 * carries the USCC as its `org` claim and the proxy path forwards it as
 * X-Gateway-Org. The check runs at every issuance (sign-in, code
 * redemption, refresh), so removing an agent stops them at their next token.
 *
 * Codes are validated (check digit included) and stored upper case.
 *
 * Threads: functions taking a `struct db` block (workers, CLI). Nothing logs.
 */
#ifndef YIWANG_AUTH_LEGAL_PERSONS_H
#define YIWANG_AUTH_LEGAL_PERSONS_H

#include "auth/accounts.h"
#include "auth/identifiers.h"
#include "common/db.h"

enum legal_person_role {
    LEGAL_PERSON_REPRESENTATIVE, /* "legal_representative" (法定代表人) */
    LEGAL_PERSON_ADMINISTRATOR,  /* "administrator" */
    LEGAL_PERSON_AGENT,          /* "agent" (经办人) */
};

/* The role's stored name; legal_person_role_parse: 0, or -1 for an unknown name. */
const char *legal_person_role_name(enum legal_person_role role);
int legal_person_role_parse(const char *name, enum legal_person_role *out);

enum legal_persons_result {
    LEGAL_PERSONS_OK,
    LEGAL_PERSONS_BAD_USCC,  /* not a valid unified social credit code */
    LEGAL_PERSONS_EXISTS,    /* a legal person with this code exists already */
    LEGAL_PERSONS_NOT_FOUND, /* no legal person with this code, or no such account */
    LEGAL_PERSONS_ERROR,     /* database failure (*err set) */
};

/* Registers a legal person; its new id goes to `id`. */
enum legal_persons_result legal_persons_create(struct db *db, const char *name, const char *uscc, char id[RANDOM_ID_BUFSIZE],
                                               char **err);
/* Lets `account_id` act for the legal person `uscc` as `role` (replacing an earlier role). */
enum legal_persons_result legal_persons_add_agent(struct db *db, const char *uscc, const char *account_id,
                                                  enum legal_person_role role, char **err);
/* Takes that right away again. LEGAL_PERSONS_NOT_FOUND when the person was not an agent. */
enum legal_persons_result legal_persons_remove_agent(struct db *db, const char *uscc, const char *account_id, char **err);

/*
 * May `account_id` act for the legal person `uscc` now (agent of an active
 * legal person)? 1 with the normalised code in `out`, 0 no (or not a valid
 * code), -1 error.
 */
int legal_persons_may_act_for(struct db *db, const char *account_id, const char *uscc, char out[IDENTIFIERS_USCC_BUFSIZE],
                              char **err);

#endif
