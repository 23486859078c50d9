/*
 * login_guard.h — brute-force protection for logins, per mobile number and
 * per client IP address (table login_throttle).
 *
 * Every attempt is charged *before* the password (or SMS code) is checked:
 * in one transaction the guard's row is locked (SELECT ... FOR UPDATE), the
 * lock is checked, the attempt counted and, when it reaches the limit, the
 * lock set — then the row is released and the caller verifies. So N parallel
 * wrong passwords can never get more than `max_failures` evaluations per lock
 * period, however they interleave: the limit is enforced where the attempts
 * are serialised, not after the slow hash. A successful login refunds its
 * charge (login_guard_succeeded).
 *
 * The schedule: `max_failures` attempts within `failure_window_s` lock the
 * key for `lock_s`; the lock after that one lasts twice as long, and so on up
 * to `max_lock_s`. A day without a lock forgets the doubling. The attempt
 * that reaches the limit is still checked, and if it succeeds the lock it
 * set is lifted at once, so a user who gets it right on the last try is not
 * locked.
 *
 * Why a stranger cannot lock a person out for good (lock-out abuse):
 *   - every lock ends by itself (at most max_lock_s, default 30 minutes),
 *     nothing is ever locked permanently by failed attempts;
 *   - the per-mobile lock stops *password* logins only. Login by SMS code is
 *     not subject to it (the code has its own attempt limit and is sent only
 *     to the phone), and a successful SMS login clears the mobile number's
 *     lock and its doubling: whoever holds the phone can always get in, and
 *     then set a new password;
 *   - the per-IP lock hits the attacker's address, not the victim's;
 *   - keys are mobile numbers and addresses whether or not an account exists,
 *     so a lock reveals nothing about registration.
 *
 * Threads: functions taking a `struct db` block (workers); login_guard_step
 * is pure.
 */
#ifndef YIWANG_AUTH_LOGIN_GUARD_H
#define YIWANG_AUTH_LOGIN_GUARD_H

#include <stdint.h>

#include "common/config.h"
#include "common/db.h"

/* A day without a lock, and the next lock starts from lock_s again. */
#define LOGIN_GUARD_FORGET_LOCKOUTS_S 86400

enum login_guard_kind {
    LOGIN_GUARD_MOBILE,
    LOGIN_GUARD_IP,
};

enum login_guard_status {
    LOGIN_GUARD_ALLOWED, /* charged: go on and verify */
    LOGIN_GUARD_LOCKED,  /* refused; *retry_after_s says for how long */
    LOGIN_GUARD_ERROR,
};

/* One key's row, times in Unix seconds (0 = never). */
struct login_guard_state {
    unsigned failures;
    int64_t window_started_at;
    unsigned lockouts;
    int64_t locked_until;
};

/*
 * The pure decision for one attempt at `now` by a key limited to
 * `max_failures`: LOGIN_GUARD_LOCKED (state unchanged, *retry_after_s >= 1)
 * or LOGIN_GUARD_ALLOWED with the attempt counted in `state`.
 */
enum login_guard_status login_guard_step(const struct login_guard_config *policy, unsigned max_failures,
                                         struct login_guard_state *state, int64_t now, unsigned *retry_after_s);

/* Charges one attempt for `subject` (a normalised mobile number or an IP address). */
enum login_guard_status login_guard_charge(struct db *db, const struct login_guard_config *policy, enum login_guard_kind kind,
                                           const char *subject, unsigned *retry_after_s, char **err);

/*
 * After a successful login. For a mobile number: forgets its failures, its
 * lock and its doubling (also used after an SMS login, which proves the
 * phone). For an IP address: refunds the one attempt the login was charged,
 * and nothing more — other logins from the address may still be an attack.
 * Returns 0 or -1.
 */
int login_guard_succeeded(struct db *db, enum login_guard_kind kind, const char *subject, char **err);

#endif
