#!/usr/bin/env python3
"""Reloads, shutdown and load: the real gateway process under h2load, curl and
Python clients, with real demo upstreams.

Operators change routes with SIGHUP while citizens are using the services, and
restart the gateway with SIGTERM. Neither may cost a request: a reload swaps the
route table without failing one of thousands of requests in flight, a broken
file is refused (the old routes keep serving, the problem is logged and counted),
a request that started before a reload finishes on the routes it started with,
and SIGTERM lets requests finish (up to the drain timeout) before exiting 0.

Run: python3 test_gateway_lifecycle.py (YIWANG_BIN / YIWANG_UPSTREAM_BIN select the build).
"""

import json
import os
import re
import signal
import sys
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import yiwang_testlib as lib  # noqa: E402
from upstream_checks import (  # noqa: E402
    GatewayTestCase, connection_refused, curl_transfer_async, finish_curl, finish_h2load, generation,
    h2load_async, h2load_available, metrics, run_h2load, timed_request)


def log_messages(stderr, level=None):
    """The "msg" of every JSON log line the gateway wrote to stderr (optionally of one level)."""
    messages = []
    for line in stderr.splitlines():
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        if isinstance(entry, dict) and (level is None or entry.get("level") == level):
            messages.append(entry.get("msg", ""))
    return messages


def reload_counts(gw):
    samples = metrics(gw)
    return (samples['yiwang_config_reloads_total{result="ok"}'], samples['yiwang_config_reloads_total{result="rejected"}'],
            samples["yiwang_config_generation"])


def write_raw_config(gw, text):
    """Replaces the config file with exactly `text` (atomically, so a reload never reads half of it)."""
    tmp = gw.config_path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(text)
    os.replace(tmp, gw.config_path)


class BackgroundRequest(threading.Thread):
    """One HTTP/1.1 request in a thread; .result is (status, headers, body, seconds) or the exception."""

    def __init__(self, method, url, timeout=30.0):
        super().__init__(daemon=True)
        self.method, self.url, self.timeout = method, url, timeout
        self.result = None
        self.start()

    def run(self):
        try:
            self.result = timed_request(self.method, self.url, timeout=self.timeout)
        except Exception as e:  # noqa: BLE001 - inspected by the test
            self.result = e


def two_services(hrss, tax):
    return [lib.service("hrss", [hrss]), lib.service("tax", [tax])]


class ReloadTest(GatewayTestCase):
    def test_sighup_under_h2load_fails_no_request(self):
        if not h2load_available():
            self.skipTest("h2load not installed (apt-get install nghttp2-client)")
        hrss = self.start_upstream("hrss")
        tax = self.start_upstream("tax")
        old = lib.make_config(two_services(hrss, tax), [lib.route("hrss", "/hrss/", "hrss"), lib.route("tax", "/tax/", "tax")],
                              access_log=False)
        new = lib.make_config(two_services(hrss, tax), [lib.route("hrss", "/hrss/", "hrss"),
                                                        lib.route("tax-v2", "/tax-v2/", "tax")], access_log=False)
        gw = self.start_gateway(old)
        self.assertEqual(lib.curl(gw.public_url + "/tax/x").status, 200)
        self.assertEqual(lib.curl(gw.public_url + "/tax-v2/x").status, 404)

        # sleep_ms=10 makes the run last seconds whatever the machine: 20000 / 80 streams * 10 ms >= 2.5 s
        load = h2load_async(["-n", "20000", "-c", "8", "-m", "10", gw.public_url + "/hrss/load?sleep_ms=10"])
        self.addCleanup(lambda: load.poll() is None and load.kill())
        lib.wait_until(lambda: hrss.stats()["requests"] >= 500, timeout=20, interval=0.01,
                       message="h2load traffic reaching the upstream")
        # add tax-v2 and drop tax, put them back, drop them again: three route tables while under load
        for expected_generation, cfg in ((2, new), (3, old), (4, new)):
            gw.write_config(cfg)
            gw.reload()
            lib.wait_until(lambda: generation(gw) == expected_generation, timeout=10, interval=0.01,
                           message="generation %d" % expected_generation)
        self.assertIsNone(load.poll(), "h2load finished before the three reloads: nothing was tested under load")

        code, summary, output = finish_h2load(load, timeout=80)
        self.assertIsNotNone(summary, output)
        self.assertEqual(code, 0, output)
        self.assertEqual((summary["succeeded"], summary["failed"], summary["errored"], summary["timeout"]),
                         (20000, 0, 0, 0), output)
        self.assertEqual(summary["2xx"], 20000, output)

        self.assertEqual(reload_counts(gw), (3, 0, 4))
        res = lib.curl(gw.public_url + "/tax-v2/x")
        self.assertEqual(res.status, 200)
        self.assertEqual(res.json()["service"], "tax")
        res = lib.curl(gw.public_url + "/tax/x")
        self.assert_envelope(res.status, res.headers, res.body, 404, "route_not_found")
        self.assertIn("configuration reloaded: generation 4, 2 services, 2 routes", log_messages(gw.stderr(), "info"))

    def test_bad_config_on_sighup_is_rejected_and_old_routes_keep_serving(self):
        hrss = self.start_upstream("hrss")
        cfg = lib.make_config([lib.service("hrss", [hrss])], [lib.route("hrss", "/hrss/", "hrss")])
        gw = self.start_gateway(cfg)
        path = gw.config_path
        good = json.dumps(gw.config)

        def rejected_after(n):
            lib.wait_until(lambda: reload_counts(gw)[1] == n, timeout=10, message="%d rejected reloads" % n)
            self.assertEqual(reload_counts(gw), (0, n, 1))
            status, _, body, _ = timed_request("GET", gw.public_url + "/hrss/still")
            self.assertEqual(status, 200)
            self.assertEqual(json.loads(body)["service"], "hrss")

        # 1. not JSON
        write_raw_config(gw, good[:-20])
        gw.reload()
        rejected_after(1)
        errors = log_messages(gw.stderr(), "error")
        self.assertTrue(any(m.startswith(path + ": (root): invalid JSON at line ") for m in errors), errors)
        self.assertIn("reload rejected: %s has 1 problem(s); still serving generation 1" % path, errors)

        # 2. JSON, but not what the schema allows
        broken = json.loads(good)
        broken["services"][0]["retries"] = 9
        broken["routes"][0]["methods"] = ["GET", "FETCH"]
        write_raw_config(gw, json.dumps(broken))
        gw.reload()
        rejected_after(2)
        errors = log_messages(gw.stderr(), "error")
        self.assertIn(path + ": /services/0/retries: must be an integer between 0 and 5", errors)
        self.assertTrue(any(m.startswith(path + ": /routes/0/methods/1: ") for m in errors), errors)
        self.assertIn("reload rejected: %s has 2 problem(s); still serving generation 1" % path, errors)

        # 3. schema-valid, but a route names a service that does not exist
        broken = json.loads(good)
        broken["routes"].append(lib.route("ghost", "/ghost/", "nowhere"))
        write_raw_config(gw, json.dumps(broken))
        gw.reload()
        rejected_after(3)
        self.assertIn(path + ": /routes/1/service: unknown service 'nowhere'", log_messages(gw.stderr(), "error"))
        res = lib.curl(gw.public_url + "/ghost/x")
        self.assert_envelope(res.status, res.headers, res.body, 404, "route_not_found")

        # a good file is still taken
        fixed = json.loads(good)
        fixed["routes"].append(lib.route("hrss-v2", "/v2/hrss/", "hrss", strip_prefix=True))
        write_raw_config(gw, json.dumps(fixed))
        gw.reload()
        lib.wait_until(lambda: generation(gw) == 2, timeout=10, message="generation 2")
        self.assertEqual(reload_counts(gw), (1, 3, 2))
        res = lib.curl(gw.public_url + "/v2/hrss/x")
        self.assertEqual(res.status, 200)
        self.assertEqual(res.json()["path"], "/x")
        self.assertTrue(gw.running())

    def test_request_in_flight_during_reload_finishes_on_its_snapshot(self):
        hrss = self.start_upstream("hrss")
        legacy = self.start_upstream("legacy")
        old = lib.make_config([lib.service("hrss", [hrss]), lib.service("legacy", [legacy])],
                              [lib.route("hrss", "/hrss/", "hrss"), lib.route("legacy", "/legacy/", "legacy")])
        # the route and its service both go away
        new = lib.make_config([lib.service("hrss", [hrss])], [lib.route("hrss", "/hrss/", "hrss")])
        gw = self.start_gateway(old)

        h1 = BackgroundRequest("GET", gw.public_url + "/legacy/slow?sleep_ms=1500")
        h2 = curl_transfer_async(gw.public_url + "/legacy/slow-h2?sleep_ms=1500", "--http2-prior-knowledge",
                                 max_time=30, output=os.path.join(gw.dir, "h2-body"))
        lib.wait_until(lambda: legacy.stats()["requests"] == 2, timeout=10, message="both requests at the upstream")
        gw.write_config(new)
        gw.reload()
        lib.wait_until(lambda: generation(gw) == 2, timeout=10, message="generation 2")
        self.assertTrue(h1.is_alive(), "the slow request finished before the reload: nothing was tested")
        res = lib.curl(gw.public_url + "/legacy/x")
        self.assert_envelope(res.status, res.headers, res.body, 404, "route_not_found")

        h1.join(30)
        self.assertNotIsInstance(h1.result, Exception, h1.result)
        status, _, body, seconds = h1.result
        self.assertEqual(status, 200, body)
        self.assertEqual(json.loads(body)["service"], "legacy")
        self.assertGreaterEqual(seconds, 1.4)
        res2 = finish_curl(h2, timeout=30)
        self.assertEqual((res2["exit_code"], res2["http_code"]), (0, 200), res2)
        with open(os.path.join(gw.dir, "h2-body"), "rb") as f:
            self.assertEqual(json.loads(f.read())["path"], "/legacy/slow-h2?sleep_ms=1500")
        self.assertEqual(legacy.stats()["requests"], 2)


class ShutdownTest(GatewayTestCase):
    def test_sigterm_drains_in_flight_requests_then_exits_0(self):
        hrss = self.start_upstream("hrss")
        cfg = lib.make_config([lib.service("hrss", [hrss])], [lib.route("hrss", "/hrss/", "hrss")],
                              shutdown={"drain_timeout_ms": 5000})
        gw = self.start_gateway(cfg, expect_exit=None)  # the exit is checked here
        h1 = BackgroundRequest("GET", gw.public_url + "/hrss/slow?sleep_ms=1500")
        h2 = curl_transfer_async(gw.public_url + "/hrss/slow-h2?sleep_ms=1500", "--http2-prior-knowledge", max_time=30)
        lib.wait_until(lambda: hrss.stats()["requests"] == 2, timeout=10, message="both requests at the upstream")

        os.kill(gw.proc.pid, signal.SIGTERM)  # a process this test started (the harness's Popen)
        sent = time.monotonic()
        # draining: no new connections, while the two requests are still being answered
        lib.wait_until(lambda: connection_refused("127.0.0.1", gw.public_port), timeout=3,
                       message="the public listener closed during the drain")
        self.assertTrue(h1.is_alive(), "the slow request finished before the drain was observed")

        h1.join(30)
        self.assertNotIsInstance(h1.result, Exception, h1.result)
        status, _, body, _ = h1.result
        self.assertEqual(status, 200, body)
        self.assertEqual(json.loads(body)["path"], "/hrss/slow?sleep_ms=1500")
        res2 = finish_curl(h2, timeout=30)
        self.assertEqual((res2["exit_code"], res2["http_code"]), (0, 200), res2)

        code = gw.proc.wait(timeout=10)
        exited_after = time.monotonic() - sent
        self.assertLess(exited_after, 5.0, "exit took longer than drain_timeout_ms")
        self.check_gateway_exit(code, gw.stderr(), 0, where=gw.dir)
        self.assertTrue(connection_refused("127.0.0.1", gw.public_port))
        self.assertTrue(connection_refused("127.0.0.1", gw.ops_port))
        messages = log_messages(gw.stderr())
        self.assertIn("SIGTERM received: draining (up to 5000 ms)", messages)
        self.assertIn("stopped", messages)
        self.assertFalse([m for m in messages if "drain timeout" in m], messages)

    def test_drain_timeout_bounds_the_shutdown(self):
        hrss = self.start_upstream("hrss")
        cfg = lib.make_config([lib.service("hrss", [hrss])], [lib.route("hrss", "/hrss/", "hrss")],
                              shutdown={"drain_timeout_ms": 500})
        gw = self.start_gateway(cfg, expect_exit=None)
        slow = curl_transfer_async(gw.public_url + "/hrss/slow?sleep_ms=5000", max_time=30)
        lib.wait_until(lambda: hrss.stats()["requests"] == 1, timeout=10, message="the request at the upstream")

        os.kill(gw.proc.pid, signal.SIGTERM)
        sent = time.monotonic()
        code = gw.proc.wait(timeout=10)
        exited_after = time.monotonic() - sent
        self.assertGreaterEqual(exited_after, 0.35, "exited before the drain timeout with a request in flight")
        self.assertLess(exited_after, 2.5, "drain_timeout_ms 500 but the exit took %.2fs" % exited_after)
        self.check_gateway_exit(code, gw.stderr(), 0, where=gw.dir)
        warnings = log_messages(gw.stderr(), "warn")
        cut_off = [m for m in warnings if re.fullmatch(r"thread \d+: drain timeout with 1 requests still in flight", m)]
        self.assertEqual(len(cut_off), 1, warnings)
        res = finish_curl(slow, timeout=10)  # may fail; it must not hang for the 5 s the upstream takes
        self.assertLess(slow[1] + res["seconds"] - sent, 3.0, res)
        self.assertTrue(connection_refused("127.0.0.1", gw.public_port))


class LoadSmokeTest(GatewayTestCase):
    def test_h2load_h2c_tls_h2_and_h1(self):
        if not h2load_available():
            self.skipTest("h2load not installed (apt-get install nghttp2-client)")
        hrss = self.start_upstream("hrss")
        cfg = lib.make_config([lib.service("hrss", [hrss])], [lib.route("hrss", "/hrss/", "hrss")], tls=True,
                              access_log=False)
        gw = self.start_gateway(cfg)
        runs = {
            "h2c": ["-n", "10000", "-c", "10", "-m", "10", gw.public_url + "/hrss/smoke"],
            "h2-tls": ["-n", "10000", "-c", "10", "-m", "10", gw.tls_url + "/hrss/smoke"],
            "h1": ["--h1", "-n", "10000", "-c", "10", "-m", "10", gw.public_url + "/hrss/smoke"],
        }
        for name, args in runs.items():
            with self.subTest(protocol=name):
                code, summary, output = run_h2load(args, timeout=60)
                self.assertIsNotNone(summary, output)
                self.assertEqual(code, 0, output)
                self.assertEqual((summary["succeeded"], summary["failed"], summary["errored"], summary["timeout"]),
                                 (10000, 0, 0, 0), output)
                self.assertEqual(summary["2xx"], 10000, output)
                if name == "h2-tls":
                    self.assertIn("Application protocol: h2", output)
        self.assertEqual(hrss.stats()["requests"], 30000)  # each request reached the department once
        self.assertEqual(metrics(gw)['yiwang_requests_total{route="hrss",service="hrss",code="2xx"}'], 30000)


if __name__ == "__main__":
    unittest.main(verbosity=2)
