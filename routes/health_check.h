/*
 * health_check.h — active health checks of upstream targets.
 *
 * One thread with its own event loop sends `GET <path>` to every target of
 * every service that configures a health check, each on its own interval.
 * A 2xx within the timeout is a success; anything else (refused, timeout,
 * other status) a failure. `unhealthy_threshold` consecutive failures mark the
 * target down (target_state.active_down = 1), `healthy_threshold` consecutive
 * successes mark it up again. Targets start up, so a fresh gateway serves at
 * once. Targets of services without a check are always considered up.
 *
 * health_checker_update may be called from any one thread (the main thread on
 * start and reload); it copies what it needs, so the service set may be freed
 * afterwards. The checker only touches target state through atomics.
 */
#ifndef YIWANG_ROUTES_HEALTH_CHECK_H
#define YIWANG_ROUTES_HEALTH_CHECK_H

#include "routes/service.h"

struct health_checker;

struct health_checker *health_checker_start(void);
void health_checker_update(struct health_checker *checker, const struct service_set *services);
void health_checker_stop(struct health_checker *checker);

#endif
