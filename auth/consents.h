/*
 * consents.h — what a person has allowed a third-party client (table
 * oauth_consents).
 *
 * First-party clients (the government's own apps) need no consent. A
 * third-party client gets the consent page the first time it asks for a
 * scope set the person has not approved; what was approved is remembered as
 * the union of every approved set, so a later request within it — the same
 * set, or fewer scopes — goes through without asking again.
 *
 * Threads: functions taking a `struct db` block (workers). Nothing logs.
 */
#ifndef YIWANG_AUTH_CONSENTS_H
#define YIWANG_AUTH_CONSENTS_H

#include "common/db.h"

#define CONSENT_SCOPE_MAX 2048

/* Has the person approved every scope of `scope` for the client? 1, 0, or -1 on error. */
int consents_cover(struct db *db, const char *account_id, const char *client_id, const char *scope, char **err);
/* Remembers that the person approved `scope` for the client, on top of what was approved before. 0 or -1. */
int consents_grant(struct db *db, const char *account_id, const char *client_id, const char *scope, char **err);

#endif
