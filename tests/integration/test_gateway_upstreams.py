#!/usr/bin/env python3
"""How the gateway treats department services that fail, stall, lie or get busy:
the real binary against real yiwang-demo-upstream processes.

A citizen's app must get a fast, honest answer (the right status and error code,
Retry-After when retrying helps) instead of hanging, and one broken department
target must not take the service down while a healthy one remains: connect
failures, timeouts, bad responses, passive ejection and recovery, the per-service
in-flight cap, retries (idempotent methods only), weighted balancing and active
health checks.

Run: python3 test_gateway_upstreams.py (YIWANG_BIN / YIWANG_UPSTREAM_BIN select the build).
"""

import json
import os
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import yiwang_testlib as lib  # noqa: E402
from upstream_checks import (  # noqa: E402
    GatewayTestCase, KeepAliveClient, SlowUpstream, blackhole_target, healthy_targets, metric_total, metrics,
    readyz, run_concurrently, timed_request)


def one_route(svc, prefix="/hrss/"):
    return lib.make_config([svc], [lib.route(svc["name"], prefix, svc["name"])])


def app_requests(up):
    """Requests that reached a demo upstream, health checks left out."""
    stats = up.stats()
    return stats["requests"] - stats["healthz"]


class FailingUpstreamTest(GatewayTestCase):
    def test_killed_upstream_is_refused_then_ejected_then_back_after_cooldown(self):
        up = self.start_upstream("hrss")
        # connect_ms well above what "quickly" means below: a refusal must not wait for the connect timeout
        gw = self.start_gateway(one_route(lib.service("hrss", [up], connect_ms=3000, retries=1, max_failures=2,
                                                      cooldown_ms=1000)))
        url = gw.public_url + "/hrss/api/ping"
        status, _, _, _ = timed_request("GET", url)
        self.assertEqual(status, 200)

        self.assertEqual(up.kill(), -9)
        for attempt in (1, 2):
            status, headers, body, seconds = timed_request("GET", url)
            self.assert_envelope(status, headers, body, 502, "upstream_connect_failed")
            self.assertLess(seconds, 1.5, "refused connection %d took %.2fs" % (attempt, seconds))
        ejected_at = time.monotonic()

        # ejected after 2 consecutive failures: answered at once, without a connect attempt
        status, headers, body, seconds = timed_request("GET", url)
        self.assert_envelope(status, headers, body, 503, "no_healthy_target")
        self.assertLess(seconds, 0.5)
        samples = metrics(gw)
        target = "127.0.0.1:%d" % up.port
        self.assertEqual(samples['yiwang_upstream_target_ejections_total{service="hrss",target="%s"}' % target], 1)
        self.assertEqual(samples['yiwang_upstream_target_healthy{service="hrss",target="%s"}' % target], 0)
        self.assertIn("target %s of service hrss ejected" % target, gw.stderr())

        up.start()  # same port
        if time.monotonic() - ejected_at < 0.6:
            # still cooling down: the revived target is not tried yet
            status, headers, body, _ = timed_request("GET", url)
            self.assert_envelope(status, headers, body, 503, "no_healthy_target")
            self.assertEqual(up.stats()["requests"], 0)

        def back():
            status, _, _, _ = timed_request("GET", url)
            return status == 200

        lib.wait_until(back, timeout=6.0, interval=0.05, message="200 after the cool-down")
        back_after = time.monotonic() - ejected_at
        self.assertGreaterEqual(back_after, 0.8, "the target was tried again before its 1 s cool-down ended")
        self.assertLess(back_after, 1.0 + 1.5, "the target came back %.2fs after ejection (cool-down 1 s)" % back_after)
        self.assertEqual(up.stats()["requests"], 1)
        status, _, body, _ = timed_request("GET", url)
        self.assertEqual(status, 200)
        self.assertEqual(json.loads(body)["service"], "hrss")

    def test_slow_upstream_gets_504_after_response_header_timeout(self):
        up = self.start_upstream("hrss")
        gw = self.start_gateway(one_route(lib.service("hrss", [up], response_header_ms=500, total_ms=10000,
                                                      max_failures=1000)))
        status, headers, body, seconds = timed_request("GET", gw.public_url + "/hrss/slow?sleep_ms=3000")
        self.assert_envelope(status, headers, body, 504, "upstream_timeout")
        self.assertGreaterEqual(seconds, 0.45)
        self.assertLess(seconds, 2.0)
        self.assertEqual(up.stats()["requests"], 1)  # sent once: a head timeout is not retried

    def test_connect_timeout_gets_504(self):
        with blackhole_target() as address:
            if address is None:
                self.skipTest("cannot make a loopback address that drops SYNs (a full backlog-0 accept queue "
                              "was answered by the kernel)")
            svc = lib.service("hrss", [address], connect_ms=500, response_header_ms=5000, retries=0,
                              max_failures=1000)
            gw = self.start_gateway(one_route(svc))
            status, headers, body, seconds = timed_request("GET", gw.public_url + "/hrss/x")
            self.assert_envelope(status, headers, body, 504, "upstream_timeout")
            self.assertGreaterEqual(seconds, 0.45)
            self.assertLess(seconds, 2.0)

    def test_garbage_and_closed_connection_get_502(self):
        up = self.start_upstream("hrss")
        gw = self.start_gateway(one_route(lib.service("hrss", [up], max_failures=1000)))
        for query in ("garbage=1", "close=1"):
            for args in (("--http1.1",), ("--http2-prior-knowledge",)):
                res = lib.curl(*args, gw.public_url + "/hrss/x?" + query)
                self.assert_envelope(res.status, res.headers, res.body, 502, "upstream_bad_response")
        # the broken connections were not kept: a normal request still works
        status, _, body, _ = timed_request("GET", gw.public_url + "/hrss/ok")
        self.assertEqual(status, 200)
        self.assertEqual(json.loads(body)["path"], "/hrss/ok")

    def test_upstream_5xx_is_passed_through_unchanged(self):
        up = self.start_upstream("hrss")
        gw = self.start_gateway(one_route(lib.service("hrss", [up], max_failures=1000)))
        for code in (500, 502, 503):
            for args in (("--http1.1",), ("--http2-prior-knowledge",)):
                res = lib.curl(*args, gw.public_url + "/hrss/fail?status=%d" % code)
                self.assertEqual(res.status, code)
                echo = res.json()  # the department's own body, not the gateway's envelope
                self.assertNotIn("error", echo)
                self.assertEqual(echo["service"], "hrss")
                self.assertEqual(echo["path"], "/hrss/fail?status=%d" % code)
                self.assertEqual(res.headers.get("x-upstream"), "hrss")
                self.assertEqual(res.headers.get("content-type"), "application/json")
                self.assertEqual(int(res.headers["content-length"]), len(res.body))
                self.assertNotIn("retry-after", res.headers)


class CapacityAndRetryTest(GatewayTestCase):
    def test_service_at_capacity_rejects_at_once(self):
        up = self.start_upstream("hrss")
        gw = self.start_gateway(one_route(lib.service("hrss", [up], max_in_flight=2, response_header_ms=5000)))
        url = gw.public_url + "/hrss/busy?sleep_ms=1000"
        t0 = time.monotonic()

        def one():
            status, headers, body, seconds = timed_request("GET", url)
            return status, headers, body, seconds, time.monotonic() - t0

        results = run_concurrently([one] * 6)
        ok = [r for r in results if r[0] == 200]
        rejected = [r for r in results if r[0] != 200]
        self.assertEqual(len(ok), 2, [(r[0], r[2][:200]) for r in results])
        self.assertEqual(len(rejected), 4)
        for status, headers, body, seconds, _ in rejected:
            self.assert_envelope(status, headers, body, 503, "service_at_capacity")
            self.assertLess(seconds, 0.8, "a rejection waited %.2fs (for a slot?)" % seconds)
        for _, _, _, seconds, _ in ok:
            self.assertGreaterEqual(seconds, 0.95)
        self.assertLess(max(r[4] for r in rejected), min(r[4] for r in ok))
        self.assertEqual(up.stats()["requests"], 2)  # rejected requests never reached the department
        samples = metrics(gw)
        self.assertEqual(metric_total(samples, "yiwang_rejected_at_capacity_total"), 4)
        self.assertEqual(samples['yiwang_upstream_in_flight{service="hrss"}'], 0)
        # the slots were given back
        status, _, _, _ = timed_request("GET", gw.public_url + "/hrss/after")
        self.assertEqual(status, 200)

    def test_connect_failure_retried_for_get_but_never_for_post(self):
        live = self.start_upstream("hrss")
        dead_port = lib.free_port()
        # max_failures high: the dead target stays in rotation, so every other pick exercises the retry
        svc = lib.service("hrss", [("127.0.0.1", dead_port), live], retries=1, max_failures=1000)
        gw = self.start_gateway(one_route(svc))
        client = KeepAliveClient("127.0.0.1", gw.public_port)
        self.addCleanup(client.close)

        statuses = [client.request("GET", "/hrss/get/%d" % i)[0] for i in range(40)]
        self.assertEqual(statuses, [200] * 40)
        self.assertEqual(live.stats()["requests"], 40)  # each GET reached the live target exactly once
        retries_after_gets = metric_total(metrics(gw), "yiwang_upstream_retries_total")
        self.assertGreaterEqual(retries_after_gets, 1, "no GET was retried: the dead target was never picked")
        self.assertLessEqual(retries_after_gets, 40)

        live.reset_stats()
        outcomes = []
        for i in range(40):
            status, headers, body = client.request("POST", "/hrss/post/%d" % i, body=b'{"n":%d}' % i,
                                                   headers={"Content-Type": "application/json"})
            if status == 200:
                self.assertEqual(json.loads(body)["path"], "/hrss/post/%d" % i)
            else:
                self.assert_envelope(status, headers, body, 502, "upstream_connect_failed")
            outcomes.append(status)
        self.assertGreaterEqual(outcomes.count(502), 1, "no POST hit the dead target: %s" % outcomes)
        self.assertEqual(outcomes.count(200) + outcomes.count(502), 40, outcomes)
        # POST is not idempotent: no retry, so the live target saw exactly the POSTs that succeeded
        self.assertEqual(live.stats()["requests"], outcomes.count(200))
        self.assertEqual(metric_total(metrics(gw), "yiwang_upstream_retries_total"), retries_after_gets)


class BalancingTest(GatewayTestCase):
    def test_round_robin_follows_weights(self):
        heavy = self.start_upstream("heavy")
        light = self.start_upstream("light")
        svc = lib.service("hrss", [heavy.target(weight=3), light.target(weight=1)], balancer="round_robin")
        gw = self.start_gateway(one_route(svc))

        def hundred():
            client = KeepAliveClient("127.0.0.1", gw.public_port)
            try:
                return [client.request("GET", "/hrss/rr/%d" % i)[0] for i in range(100)]
            finally:
                client.close()

        statuses = sum(run_concurrently([hundred] * 4), [])
        self.assertEqual(statuses, [200] * 400)
        a, b = heavy.stats()["requests"], light.stats()["requests"]
        self.assertEqual(a + b, 400)
        # smooth weighted round robin per event-loop thread: each thread is off by at most a weight
        self.assertLessEqual(abs(a - 300), 6, (a, b))
        self.assertLessEqual(abs(b - 100), 6, (a, b))

    def test_least_in_flight_prefers_the_fast_target(self):
        fast = self.start_upstream("fast")
        slow = SlowUpstream(delay=0.3)
        self.addCleanup(slow.close)
        svc = lib.service("hrss", [fast.target(), slow.target()], balancer="least_in_flight")
        gw = self.start_gateway(one_route(svc))

        def thirty():
            client = KeepAliveClient("127.0.0.1", gw.public_port)
            try:
                return [client.request("GET", "/hrss/lif/%d" % i)[0] for i in range(30)]
            finally:
                client.close()

        statuses = sum(run_concurrently([thirty] * 6), [])
        self.assertEqual(statuses, [200] * 180)
        n_fast, n_slow = fast.stats()["requests"], slow.requests
        self.assertEqual(n_fast + n_slow, 180)
        # round robin would split 90/90; the slow target holds its requests 0.3 s, so it gets few new ones
        self.assertGreaterEqual(n_slow, 1, "the slow target never got a request (was it balanced at all?)")
        self.assertLessEqual(n_slow, 180 // 4, "fast %d, slow %d" % (n_fast, n_slow))


class ActiveHealthCheckTest(GatewayTestCase):
    def test_health_check_takes_a_target_out_and_brings_it_back(self):
        a = self.start_upstream("a")
        b = self.start_upstream("b")
        check = {"path": "/healthz", "interval_ms": 200, "timeout_ms": 200, "healthy_threshold": 2,
                 "unhealthy_threshold": 2}
        gw = self.start_gateway(one_route(lib.service("hrss", [a, b], health_check=check, max_failures=1000)))
        url = gw.public_url + "/hrss/hc"
        lib.wait_until(lambda: a.stats()["healthz"] >= 2 and b.stats()["healthz"] >= 2, timeout=5.0,
                       message="health checks reaching both targets")
        self.assertEqual(healthy_targets(gw, "hrss"), 2)
        target_a = "127.0.0.1:%d" % a.port

        a.set_healthy(False)
        t0 = time.monotonic()
        lib.wait_until(lambda: healthy_targets(gw, "hrss") == 1, timeout=5.0, message="target a marked down")
        self.assertLess(time.monotonic() - t0, 2.5, "2 failed checks 200 ms apart took too long to count")
        status, doc = readyz(gw)
        self.assertEqual((status, doc["status"]), (200, "ready"))  # one healthy target is enough
        self.assertEqual(doc["services"]["hrss"], {"healthy_targets": 1, "targets": 2})
        self.assertEqual(metrics(gw)['yiwang_upstream_target_healthy{service="hrss",target="%s"}' % target_a], 0)

        before_a, before_b = app_requests(a), app_requests(b)
        for i in range(20):
            status, _, body, _ = timed_request("GET", url)
            self.assertEqual(status, 200)
            self.assertEqual(json.loads(body)["service"], "b")
        self.assertEqual(app_requests(a) - before_a, 0)
        self.assertEqual(app_requests(b) - before_b, 20)

        # both down: not ready, and requests are refused at once
        b.set_healthy(False)
        lib.wait_until(lambda: healthy_targets(gw, "hrss") == 0, timeout=5.0, message="target b marked down")
        status, doc = readyz(gw)
        self.assertEqual((status, doc["status"]), (503, "not_ready"))
        status, headers, body, seconds = timed_request("GET", url)
        self.assert_envelope(status, headers, body, 503, "no_healthy_target")
        self.assertLess(seconds, 0.5)

        a.set_healthy(True)
        b.set_healthy(True)
        t0 = time.monotonic()
        lib.wait_until(lambda: healthy_targets(gw, "hrss") == 2, timeout=5.0, message="both targets healthy again")
        self.assertLess(time.monotonic() - t0, 2.5)
        before_a, before_b = app_requests(a), app_requests(b)
        for i in range(20):
            status, _, _, _ = timed_request("GET", url)
            self.assertEqual(status, 200)
        self.assertGreaterEqual(app_requests(a) - before_a, 5)
        self.assertGreaterEqual(app_requests(b) - before_b, 5)
        self.assertEqual(app_requests(a) - before_a + app_requests(b) - before_b, 20)
        stderr = gw.stderr()
        self.assertIn("health check: target %s of service hrss is down after 2 failed checks" % target_a, stderr)
        self.assertIn("health check: target %s of service hrss is healthy again" % target_a, stderr)


if __name__ == "__main__":
    unittest.main(verbosity=2)
