/*
 * retention.h — how long the identity tables keep rows that serve no purpose
 * any more, and the sweep that deletes them.
 *
 * Personal data is kept only as long as it is needed (PIPL art. 19), and
 * tables that grow with every sign-in must not grow for ever. What each row
 * is still needed for decides when it may go:
 *
 *   authorization codes   a day after expiry: until then a replay still finds
 *                         the row and revokes what the code issued
 *   revoked access tokens once the token itself expired (plus the clock skew):
 *                         it would be refused anyway
 *   refresh tokens        a whole family at once, a day after its last token
 *                         expired or was revoked: while any token of a family
 *                         may still be used, its used tokens are what reuse
 *                         detection recognises. Families are found through
 *                         their expired tokens (the expiry index), so a family
 *                         revoked before any token expired waits for that
 *   SMS codes             two days after the last code was sent and expired:
 *                         the daily count per number needs the row that day
 *   SMS quotas per IP     two days after their day (China Standard Time)
 *   login throttles       a day after the last attempt, when not locked: a day
 *                         without a lock forgets the doubling anyway
 *
 * Each kind is deleted in batches of at most `limit` rows, so one sweep never
 * holds locks for long; a backlog shrinks by `limit` per kind per sweep.
 * Every node may sweep: deleting a row twice deletes it once.
 *
 * Threads: blocking database calls (the main thread's housekeeping, or a
 * worker). Nothing logs.
 */
#ifndef YIWANG_AUTH_RETENTION_H
#define YIWANG_AUTH_RETENTION_H

#include "common/db.h"

/* Rows deleted by one sweep, per kind. */
struct retention_report {
    long authorization_codes;
    long revoked_access_tokens;
    long refresh_tokens;
    long sms_codes;
    long sms_quotas;
    long login_throttles;
};

/*
 * Deletes what the rules above allow, up to `limit` rows of each kind (for
 * refresh tokens: `limit` families). `skew_s` is the clock skew the proxy
 * path allows. 0 with `out` filled, or -1 (err set) at the first failure;
 * what was deleted before it stays deleted.
 */
int retention_sweep(struct db *db, unsigned skew_s, unsigned limit, struct retention_report *out, char **err);

#endif
