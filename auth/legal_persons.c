#include "auth/legal_persons.h"

#include <stdlib.h>
#include <string.h>

#include "common/xalloc.h"

static const char *const role_names[] = {
    [LEGAL_PERSON_REPRESENTATIVE] = "legal_representative",
    [LEGAL_PERSON_ADMINISTRATOR] = "administrator",
    [LEGAL_PERSON_AGENT] = "agent",
};

const char *legal_person_role_name(enum legal_person_role role)
{
    return role_names[role];
}

int legal_person_role_parse(const char *name, enum legal_person_role *out)
{
    for (size_t i = 0; i < sizeof(role_names) / sizeof(role_names[0]); i++) {
        if (strcmp(name, role_names[i]) == 0) {
            *out = (enum legal_person_role)i;
            return 0;
        }
    }
    return -1;
}

static enum legal_persons_result fail(struct db *db, const char *what, char **err)
{
    *err = xasprintf("legal persons: %s: %s", what, db_error(db));
    return LEGAL_PERSONS_ERROR;
}

static int normalise(const char *uscc, char out[IDENTIFIERS_USCC_BUFSIZE])
{
    return identifiers_uscc_normalise(uscc, strlen(uscc), out) == IDENTIFIER_OK ? 0 : -1;
}

enum legal_persons_result legal_persons_create(struct db *db, const char *name, const char *uscc, char id[RANDOM_ID_BUFSIZE],
                                               char **err)
{
    char code[IDENTIFIERS_USCC_BUFSIZE];
    if (normalise(uscc, code) != 0)
        return LEGAL_PERSONS_BAD_USCC;
    if (random_id_generate(id) != 0) {
        *err = xstrdup("legal persons: the random generator failed");
        return LEGAL_PERSONS_ERROR;
    }
    if (db_exec(db, 0, "INSERT INTO legal_persons (id, name, uscc) VALUES (?, ?, ?)",
                DB_ARGS(db_text(id), db_text(name), db_text(code))) != 0)
        return db_error_is_duplicate_key(db) ? LEGAL_PERSONS_EXISTS : fail(db, "cannot register", err);
    return LEGAL_PERSONS_OK;
}

enum legal_persons_result legal_persons_add_agent(struct db *db, const char *uscc, const char *account_id,
                                                  enum legal_person_role role, char **err)
{
    char code[IDENTIFIERS_USCC_BUFSIZE];
    if (normalise(uscc, code) != 0)
        return LEGAL_PERSONS_BAD_USCC;
    /* both ids come from their own rows, so a missing legal person or account inserts nothing */
    if (db_exec(db, DB_IDEMPOTENT,
                "INSERT INTO legal_person_agents (legal_person_id, account_id, role) "
                "SELECT l.id, a.id, ? FROM legal_persons l JOIN accounts a ON a.id = ? WHERE l.uscc = ? "
                "ON DUPLICATE KEY UPDATE role = VALUES(role)",
                DB_ARGS(db_text(legal_person_role_name(role)), db_text(account_id), db_text(code))) != 0)
        return fail(db, "cannot add the agent", err);
    return db_affected_rows(db) == 0 ? LEGAL_PERSONS_NOT_FOUND : LEGAL_PERSONS_OK;
}

enum legal_persons_result legal_persons_remove_agent(struct db *db, const char *uscc, const char *account_id, char **err)
{
    char code[IDENTIFIERS_USCC_BUFSIZE];
    if (normalise(uscc, code) != 0)
        return LEGAL_PERSONS_BAD_USCC;
    if (db_exec(db, DB_IDEMPOTENT,
                "DELETE g FROM legal_person_agents g JOIN legal_persons l ON l.id = g.legal_person_id "
                "WHERE l.uscc = ? AND g.account_id = ?",
                DB_ARGS(db_text(code), db_text(account_id))) != 0)
        return fail(db, "cannot remove the agent", err);
    return db_affected_rows(db) == 0 ? LEGAL_PERSONS_NOT_FOUND : LEGAL_PERSONS_OK;
}

int legal_persons_may_act_for(struct db *db, const char *account_id, const char *uscc, char out[IDENTIFIERS_USCC_BUFSIZE],
                              char **err)
{
    if (normalise(uscc, out) != 0)
        return 0;
    struct db_result *res = db_query(db, DB_IDEMPOTENT,
                                     "SELECT 1 FROM legal_person_agents g JOIN legal_persons l ON l.id = g.legal_person_id "
                                     "WHERE l.uscc = ? AND g.account_id = ? AND l.status = 'active'",
                                     DB_ARGS(db_text(out), db_text(account_id)));
    int found = res != NULL ? db_result_next(res) : -1;
    if (found < 0) {
        fail(db, "cannot check the agent", err);
        return -1;
    }
    return found;
}
