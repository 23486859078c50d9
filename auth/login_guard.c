#include "auth/login_guard.h"

#include <stdlib.h>

#include "common/xalloc.h"

/* Enough doublings to pass any max_lock_s the schema allows (a day) from any lock_s. */
#define MAX_DOUBLINGS 17

static const char *kind_name(enum login_guard_kind kind)
{
    return kind == LOGIN_GUARD_IP ? "ip" : "mobile";
}

static unsigned lock_length(const struct login_guard_config *policy, unsigned lockouts)
{
    uint64_t length = (uint64_t)policy->lock_s << (lockouts < MAX_DOUBLINGS ? lockouts : MAX_DOUBLINGS);
    return length < policy->max_lock_s ? (unsigned)length : policy->max_lock_s;
}

enum login_guard_status login_guard_step(const struct login_guard_config *policy, unsigned max_failures,
                                         struct login_guard_state *state, int64_t now, unsigned *retry_after_s)
{
    *retry_after_s = 0;
    if (state->locked_until > now) {
        *retry_after_s = (unsigned)(state->locked_until - now);
        return LOGIN_GUARD_LOCKED;
    }
    if (state->window_started_at + (int64_t)policy->failure_window_s <= now) {
        state->failures = 0;
        state->window_started_at = now;
    }
    if (state->locked_until != 0 && state->locked_until + LOGIN_GUARD_FORGET_LOCKOUTS_S <= now)
        state->lockouts = 0;
    if (++state->failures >= max_failures) {
        /* the lock starts with this attempt, before its outcome is known; a success lifts it again */
        state->locked_until = now + lock_length(policy, state->lockouts);
        state->lockouts++;
        state->failures = 0;
        state->window_started_at = now;
    }
    return LOGIN_GUARD_ALLOWED;
}

static int fail(struct db *db, const char *what, char **err)
{
    *err = xasprintf("login guard: %s: %s", what, db_error(db));
    return -1;
}

/* Locks the key's row (creating it) and reads its state and the database's clock. */
static int read_locked(struct db *db, const char *kind, const char *subject, struct login_guard_state *state, int64_t *now,
                       char **err)
{
    if (db_exec(db, 0, "INSERT INTO login_throttle (kind, subject) VALUES (?, ?) ON DUPLICATE KEY UPDATE kind = kind",
                DB_ARGS(db_text(kind), db_text(subject))) != 0)
        return fail(db, "cannot create the row", err);
    struct db_result *res = db_query(db, 0,
                                     "SELECT failures, window_started_at, lockouts, locked_until, UTC_TIMESTAMP() "
                                     "FROM login_throttle WHERE kind = ? AND subject = ? FOR UPDATE",
                                     DB_ARGS(db_text(kind), db_text(subject)));
    int failures = 0, lockouts = 0;
    if (res == NULL || db_result_next(res) != 1 || db_result_int(res, 0, &failures) != DB_GET_OK ||
        db_result_unix_time(res, 1, &state->window_started_at) != DB_GET_OK || db_result_int(res, 2, &lockouts) != DB_GET_OK ||
        db_result_unix_time(res, 3, &state->locked_until) != DB_GET_OK || db_result_unix_time(res, 4, now) != DB_GET_OK)
        return fail(db, "cannot read the row", err);
    state->failures = (unsigned)failures;
    state->lockouts = (unsigned)lockouts;
    return 0;
}

static enum login_guard_status charge_in_transaction(struct db *db, const struct login_guard_config *policy,
                                                     enum login_guard_kind kind, const char *subject, unsigned *retry_after_s,
                                                     char **err)
{
    struct login_guard_state state;
    int64_t now = 0;
    if (read_locked(db, kind_name(kind), subject, &state, &now, err) != 0)
        return LOGIN_GUARD_ERROR;
    unsigned max = kind == LOGIN_GUARD_IP ? policy->ip_max_failures : policy->mobile_max_failures;
    if (login_guard_step(policy, max, &state, now, retry_after_s) == LOGIN_GUARD_LOCKED)
        return LOGIN_GUARD_LOCKED;
    if (db_exec(db, 0,
                "UPDATE login_throttle SET failures = ?, window_started_at = FROM_UNIXTIME(?), lockouts = ?, "
                "locked_until = FROM_UNIXTIME(?) WHERE kind = ? AND subject = ?",
                DB_ARGS(db_uint(state.failures), db_int(state.window_started_at), db_uint(state.lockouts),
                        db_int(state.locked_until), db_text(kind_name(kind)), db_text(subject))) != 0) {
        fail(db, "cannot count the attempt", err);
        return LOGIN_GUARD_ERROR;
    }
    return LOGIN_GUARD_ALLOWED;
}

enum login_guard_status login_guard_charge(struct db *db, const struct login_guard_config *policy, enum login_guard_kind kind,
                                           const char *subject, unsigned *retry_after_s, char **err)
{
    *retry_after_s = 0;
    /* two first attempts of one key may deadlock on the new row's gap lock: one loses and runs again */
    for (int round = 0; round < 2; round++) {
        if (db_begin(db) != 0) {
            fail(db, "cannot start a transaction", err);
            return LOGIN_GUARD_ERROR;
        }
        enum login_guard_status status = charge_in_transaction(db, policy, kind, subject, retry_after_s, err);
        if (status != LOGIN_GUARD_ERROR && db_commit(db) == 0)
            return status;
        int again = round == 0 && db_error_is_retryable_txn(db);
        if (status != LOGIN_GUARD_ERROR)
            fail(db, "cannot commit", err);
        db_rollback(db);
        if (!again)
            return LOGIN_GUARD_ERROR;
        free(*err);
        *err = NULL;
    }
    return LOGIN_GUARD_ERROR;
}

int login_guard_succeeded(struct db *db, enum login_guard_kind kind, const char *subject, char **err)
{
    int rc =
        kind == LOGIN_GUARD_IP
            ? db_exec(db, 0,
                      "UPDATE login_throttle SET failures = IF(failures > 0, failures - 1, 0) WHERE kind = 'ip' AND subject = ?",
                      DB_ARGS(db_text(subject)))
            : db_exec(db, DB_IDEMPOTENT,
                      "UPDATE login_throttle SET failures = 0, lockouts = 0, locked_until = '1970-01-01 00:00:00' "
                      "WHERE kind = 'mobile' AND subject = ?",
                      DB_ARGS(db_text(subject)));
    return rc == 0 ? 0 : fail(db, "cannot record the success", err);
}
