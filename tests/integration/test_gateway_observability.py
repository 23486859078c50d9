#!/usr/bin/env python3
"""End-to-end: what operators see — the access log, /healthz, /readyz and /metrics.

The access log is the record of who asked what of which department: one JSON line per
request, with citizens' mobile and ID numbers masked (the department itself still gets
them unmasked). /readyz tells the load balancer whether to send traffic, naming the
department that is down. /metrics is scraped by Prometheus, so every line must parse
and the counts must be exact. A clean SIGTERM must leave nothing behind.

Run: python3 test_gateway_observability.py
"""

import json
import os
import re
import socket
import sys
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import yiwang_testlib as lib  # noqa: E402
from gateway_checks import (HEX32, LEAK_MARKER, GatewayTestCase, assert_curl_error, echo_of, metric,  # noqa: E402
                            sanitizer_errors, scrape)

H2C = "--http2-prior-knowledge"
FIELDS = {"time", "request_id", "protocol", "method", "path", "status", "bytes", "duration_ms", "route", "service",
          "target", "upstream_ms", "error"}
ISO_TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:?\d\d)$")
FAST = dict(connect_ms=500, response_header_ms=1000, total_ms=3000)


def readyz(gw):
    status, headers, body = lib.http_request("GET", gw.ops_url + "/readyz")
    return status, headers, json.loads(body)


class AccessLogTest(GatewayTestCase):
    @classmethod
    def setUpClass(cls):
        cls.hrss = cls.class_upstream("hrss")
        cfg = lib.make_config([lib.service("hrss", [cls.hrss], **FAST)],
                              [lib.route("hrss-persons", "/hrss", "hrss", max_body_bytes=100),
                               lib.route("hrss-read", "/read", "hrss", methods=["GET"])],
                              tls=True)
        cls.gw = cls.class_gateway(cfg)

    def lines_for(self, request_ids, timeout=5.0):
        """The log lines of these request ids (waits until each has one)."""
        wanted = set(request_ids)

        def ready():
            lines = [line for line in self.gw.access_log_lines() if line.get("request_id") in wanted]
            return lines if {line["request_id"] for line in lines} == wanted else None

        lines = lib.wait_until(ready, timeout, message="access log lines for %s" % sorted(wanted))
        return lines

    def line_for(self, request_id):
        lines = self.lines_for([request_id])
        self.assertEqual(len(lines), 1, "exactly one line per request: %r" % lines)
        line = lines[0]
        self.assertEqual(set(line) & FIELDS, FIELDS, "missing fields: %s" % sorted(FIELDS - set(line)))
        self.assertRegex(line["time"], ISO_TIME)
        self.assertIsInstance(line["duration_ms"], (int, float))
        self.assertGreaterEqual(line["duration_ms"], 0)
        self.assertIsInstance(line["bytes"], int)
        return line

    def test_one_line_per_request(self):
        ids = ["log-one-%d" % i for i in range(6)]
        for i, rid in enumerate(ids):
            proto = (H2C,) if i % 2 else ()
            lib.curl(*proto, self.gw.public_url + "/hrss/count/%d" % i, "-H", "X-Request-Id: " + rid)
        lines = self.lines_for(ids)
        self.assertEqual(sorted(line["request_id"] for line in lines), sorted(ids))
        time.sleep(0.5)  # the writer flushes every 200 ms: nothing more may appear
        all_ids = [line["request_id"] for line in self.gw.access_log_lines()]
        for rid in ids:
            self.assertEqual(all_ids.count(rid), 1, rid)

    def test_proxied_request_fields(self):
        cases = [((), self.gw.public_url, "h1", False), ((H2C,), self.gw.public_url, "h2", False),
                 (("-k", "--http2"), self.gw.tls_url, "h2", True), (("-k", "--http1.1"), self.gw.tls_url, "h1", True)]
        for args, base, protocol, tls in cases:
            with self.subTest(protocol=protocol, tls=tls):
                r = lib.curl(*args, base + "/hrss/fields?x=1")
                echo_of(self, r, "hrss")
                line = self.line_for(r.headers["x-request-id"])
                self.assertRegex(line["request_id"], HEX32)
                self.assertEqual(line["protocol"], protocol)
                self.assertEqual(line.get("tls"), tls)
                self.assertEqual(line["method"], "GET")
                self.assertEqual(line["path"], "/hrss/fields?x=1")
                self.assertEqual(line["status"], 200)
                self.assertEqual(line["bytes"], len(r.body), "bytes: the response body sent")
                self.assertEqual((line["route"], line["service"]), ("hrss-persons", "hrss"))
                self.assertEqual(line["target"], "127.0.0.1:%d" % self.hrss.port)
                self.assertIsInstance(line["upstream_ms"], (int, float))
                self.assertLessEqual(line["upstream_ms"], line["duration_ms"])
                self.assertIsNone(line["error"])

    def test_upstream_time_is_measured(self):
        r = lib.curl(self.gw.public_url + "/hrss/slow?sleep_ms=300")
        line = self.line_for(r.headers["x-request-id"])
        self.assertGreaterEqual(line["upstream_ms"], 290)
        self.assertGreaterEqual(line["duration_ms"], line["upstream_ms"])
        self.assertLess(line["duration_ms"], 3000)

    def test_upstream_status_is_logged_as_is(self):
        r = lib.curl(self.gw.public_url + "/hrss/x?status=503", check=False)
        self.assertEqual(r.status, 503)
        line = self.line_for(r.headers["x-request-id"])
        self.assertEqual((line["status"], line["error"]), (503, None), "the department's own 503 is no gateway error")
        self.assertIsInstance(line["upstream_ms"], (int, float))

    def test_gateway_errors(self):
        cases = [
            (("/nowhere",), 404, "route_not_found", None, None),
            (("/read/x", "-X", "POST"), 405, "method_not_allowed", None, None),
            (("/hrss/a%2fb", "--path-as-is"), 400, "invalid_path", None, None),
            (("/hrss/upload", "--data-binary", "x" * 101), 413, "body_too_large", "hrss-persons", "hrss"),
        ]
        for args, status, code, route, service in cases:
            for proto in ((), (H2C,)):
                with self.subTest(code=code, proto=proto):
                    r = lib.curl(*proto, self.gw.public_url + args[0], *args[1:], check=False)
                    assert_curl_error(self, r, status, code)
                    line = self.line_for(r.headers["x-request-id"])
                    self.assertEqual((line["status"], line["error"]), (status, code))
                    self.assertIsNone(line["upstream_ms"], "no upstream was asked")
                    self.assertIsNone(line["target"])
                    self.assertEqual((line["route"], line["service"]), (route, service))
                    self.assertEqual(line["protocol"], "h2" if proto else "h1")

    def test_identifiers_are_masked_in_the_log_only(self):
        path = "/hrss/persons/13812345678?id=11010519491231002X"
        masked = "/hrss/persons/138****5678?id=110105********002X"
        for proto in ((), (H2C,)):
            with self.subTest(proto=proto):
                r = lib.curl(*proto, self.gw.public_url + path)
                self.assertEqual(echo_of(self, r, "hrss")["path"], path, "the department gets the real numbers")
                line = self.line_for(r.headers["x-request-id"])
                self.assertEqual(line["path"], masked)

    def test_other_identifier_shapes_are_masked(self):
        cases = {
            "/hrss/p?phone=%2B8613812345678": "/hrss/p?phone=%2B86138****5678",
            "/hrss/p/110105194912310025/card": "/hrss/p/110105********0025/card",
            "/hrss/p?legacy=110105491231002": "/hrss/p?legacy=110105*****1002",
            "/hrss/orders/20240101123456": "/hrss/orders/20240101123456",  # 14 digits: not an identifier
        }
        for path, expected in cases.items():
            with self.subTest(path=path):
                r = lib.curl("--path-as-is", self.gw.public_url + path)
                self.assertEqual(echo_of(self, r)["path"], path)
                self.assertEqual(self.line_for(r.headers["x-request-id"])["path"], expected)

    def test_encoded_digits_are_masked_too(self):
        # the router decodes %31 to '1' and forwards a plain mobile number; the log must not keep
        # a copy that is one decode away from it
        for path in ("/hrss/persons/%313812345678", "/hrss/persons/%31%33%38%31%32%33%34%35%36%37%38"):
            with self.subTest(path=path):
                r = lib.curl("--path-as-is", self.gw.public_url + path)
                self.assertEqual(echo_of(self, r)["path"], "/hrss/persons/13812345678")
                logged = self.line_for(r.headers["x-request-id"])["path"]
                decoded = re.sub(r"%([0-9A-Fa-f]{2})", lambda m: chr(int(m.group(1), 16)), logged)
                self.assertNotIn("13812345678", decoded, "logged as %r" % logged)
                self.assertIn("138****5678", decoded)


class HealthTest(GatewayTestCase):
    @classmethod
    def setUpClass(cls):
        cls.hrss = cls.class_upstream("hrss")
        cls.tax = cls.class_upstream("tax")
        cfg = lib.make_config([lib.service("hrss", [cls.hrss], **FAST), lib.service("tax", [cls.tax], **FAST)],
                              [lib.route("hrss", "/hrss", "hrss"), lib.route("tax", "/tax", "tax")])
        cls.gw = cls.class_gateway(cfg)

    def test_healthz(self):
        for method in ("GET", "HEAD"):
            with self.subTest(method=method):
                status, headers, body = lib.http_request(method, self.gw.ops_url + "/healthz")
                self.assertEqual(status, 200)
                self.assertTrue(headers["content-type"].startswith("application/json"))
                if method == "GET":
                    self.assertEqual(json.loads(body), {"status": "ok"})

    def test_readyz_ready(self):
        status, headers, body = readyz(self.gw)
        self.assertEqual(status, 200)
        self.assertTrue(headers["content-type"].startswith("application/json"))
        self.assertEqual(body["status"], "ready")
        self.assertEqual(body["services"], {"hrss": {"healthy_targets": 1, "targets": 1},
                                            "tax": {"healthy_targets": 1, "targets": 1}})
        self.assertNotIn("reasons", body)


class ReadinessTest(GatewayTestCase):
    """Each test has its own gateway and upstreams: they take a department down."""

    def test_not_ready_when_the_only_target_is_ejected(self):
        hrss, tax = self.upstream("hrss"), self.upstream("tax")
        gw = self.gateway(lib.make_config(
            [lib.service("hrss", [hrss], max_failures=2, cooldown_ms=60000, **FAST),
             lib.service("tax", [tax], **FAST)],
            [lib.route("hrss", "/hrss", "hrss"), lib.route("tax", "/tax", "tax")]))
        self.assertEqual(readyz(gw)[0], 200)
        hrss.stop()
        codes = []

        def ejected():
            r = lib.curl(gw.public_url + "/hrss/x", check=False)
            codes.append(json.loads(r.body)["error"]["code"] if r.status >= 500 else r.status)
            return readyz(gw)[0] == 503

        lib.wait_until(ejected, timeout=10, interval=0.05, message="/readyz 503 after the target failed")
        self.assertLessEqual(len(codes), 3, "max_failures is 2: %r" % codes)
        status, _, body = readyz(gw)
        self.assertEqual(status, 503)
        self.assertEqual(body["status"], "not_ready")
        self.assertEqual(len(body["reasons"]), 1, body)
        self.assertIn("hrss", body["reasons"][0])
        self.assertNotIn("tax", body["reasons"][0])
        self.assertEqual(body["services"]["hrss"], {"healthy_targets": 0, "targets": 1})
        self.assertEqual(body["services"]["tax"], {"healthy_targets": 1, "targets": 1})
        r = lib.curl(gw.public_url + "/hrss/x", check=False)
        assert_curl_error(self, r, 503, "no_healthy_target")
        self.assertEqual(r.headers.get("retry-after"), "1")
        samples, _, _ = scrape(gw)
        self.assertEqual(metric(samples, "yiwang_upstream_target_healthy", service="hrss",
                                target="127.0.0.1:%d" % hrss.port), 0)
        self.assertEqual(metric(samples, "yiwang_upstream_target_healthy", service="tax",
                                target="127.0.0.1:%d" % tax.port), 1)
        self.assertEqual(metric(samples, "yiwang_upstream_target_ejections_total", service="hrss",
                                target="127.0.0.1:%d" % hrss.port), 1)

    def test_active_health_check_down_and_up(self):
        hrss, tax = self.upstream("hrss"), self.upstream("tax")
        check = {"path": "/healthz", "interval_ms": 200, "timeout_ms": 200, "healthy_threshold": 1,
                 "unhealthy_threshold": 2}
        gw = self.gateway(lib.make_config(
            [lib.service("hrss", [hrss], **FAST), lib.service("tax", [tax], health_check=check, **FAST)],
            [lib.route("hrss", "/hrss", "hrss"), lib.route("tax", "/tax", "tax")]))
        lib.wait_until(lambda: readyz(gw)[0] == 200, timeout=10, message="ready")
        tax.set_healthy(False)
        lib.wait_until(lambda: readyz(gw)[0] == 503, timeout=10, message="/readyz 503 after tax's /healthz fails")
        status, _, body = readyz(gw)
        self.assertEqual(body["status"], "not_ready")
        self.assertTrue(any("tax" in reason for reason in body["reasons"]), body)
        self.assertFalse(any("hrss" in reason for reason in body["reasons"]), body)
        self.assertEqual(body["services"]["tax"], {"healthy_targets": 0, "targets": 1})
        assert_curl_error(self, lib.curl(gw.public_url + "/tax/x", check=False), 503, "no_healthy_target")
        tax.set_healthy(True)
        lib.wait_until(lambda: readyz(gw)[0] == 200, timeout=10, message="/readyz 200 after tax recovered")
        self.assertEqual(readyz(gw)[2]["services"]["tax"], {"healthy_targets": 1, "targets": 1})
        echo_of(self, lib.curl(gw.public_url + "/tax/x"), "tax")


class MetricsTest(GatewayTestCase):
    @classmethod
    def setUpClass(cls):
        cls.hrss = cls.class_upstream("hrss")
        cls.tax = cls.class_upstream("tax")
        cfg = lib.make_config(
            [lib.service("hrss", [cls.hrss], connect_ms=500, response_header_ms=2500, total_ms=3000),
             lib.service("tax", [cls.tax], **FAST),
             lib.service("counted", [cls.tax], **FAST),
             lib.service("slow", [cls.tax], connect_ms=500, response_header_ms=2500, total_ms=3000)],
            [lib.route("hrss-persons", "/hrss", "hrss"), lib.route("tax-api", "/tax", "tax", methods=["GET"]),
             lib.route("counted-route", "/counted", "counted"), lib.route("slow-route", "/slow", "slow")])
        cls.gw = cls.class_gateway(cfg)

    def test_every_line_parses(self):
        samples, types, text = scrape(self.gw)
        self.assertTrue(samples)
        for name in ("yiwang_requests_total", "yiwang_request_duration_seconds", "yiwang_upstream_target_healthy",
                     "yiwang_upstream_in_flight", "yiwang_connections_open"):
            self.assertIn(name, types, "no # TYPE for %s" % name)
        self.assertEqual(types["yiwang_requests_total"], "counter")
        self.assertEqual(types["yiwang_request_duration_seconds"], "histogram")
        self.assertEqual(types["yiwang_connections_open"], "gauge")
        self.assertTrue(text.endswith("\n"))
        status, headers, _ = lib.http_request("GET", self.gw.ops_url + "/metrics")
        self.assertTrue(headers["content-type"].startswith("text/plain"), headers["content-type"])
        self.assertIn("version=0.0.4", headers["content-type"])

    def test_requests_total_counts_exactly(self):
        n = 7
        for i in range(n):
            lib.curl(*((H2C,) if i % 2 else ()), self.gw.public_url + "/counted/x")
        lib.curl(self.gw.public_url + "/counted/x?status=404", check=False)
        lib.curl(self.gw.public_url + "/counted/x?status=503", check=False)
        samples, _, _ = scrape(self.gw)
        labels = dict(route="counted-route", service="counted")
        self.assertEqual(metric(samples, "yiwang_requests_total", code="2xx", **labels), n)
        self.assertEqual(metric(samples, "yiwang_requests_total", code="4xx", **labels), 1)
        self.assertEqual(metric(samples, "yiwang_requests_total", code="5xx", **labels), 1)
        total = n + 2
        self.assertEqual(metric(samples, "yiwang_request_duration_seconds_count", service="counted"), total)
        self.assertEqual(metric(samples, "yiwang_request_duration_seconds_bucket", service="counted", le="+Inf"), total)
        self.assertGreater(metric(samples, "yiwang_request_duration_seconds_sum", service="counted"), 0)

    def test_every_answer_is_counted_once(self):
        def total():
            return sum(v for n, _, v in scrape(self.gw)[0] if n == "yiwang_requests_total")

        before = total()
        for _ in range(3):
            assert_curl_error(self, lib.curl("-X", "DELETE", self.gw.public_url + "/tax/x", check=False),
                              405, "method_not_allowed")
        for proto in ((), (H2C,)):
            assert_curl_error(self, lib.curl(*proto, self.gw.public_url + "/nowhere", check=False), 404,
                              "route_not_found")
        assert_curl_error(self, lib.curl("--path-as-is", self.gw.public_url + "/tax/a%2fb", check=False), 400,
                          "invalid_path")
        echo_of(self, lib.curl(self.gw.public_url + "/tax/x"), "tax")
        echo_of(self, lib.curl(H2C, self.gw.public_url + "/hrss/x"), "hrss")
        self.assertEqual(total() - before, 8, "8 answers on the public listener")

    def test_duration_histogram(self):
        for _ in range(3):
            echo_of(self, lib.curl(self.gw.public_url + "/slow/fast"), "tax")
        echo_of(self, lib.curl(self.gw.public_url + "/slow/slow?sleep_ms=1100"), "tax")
        samples, _, _ = scrape(self.gw)
        buckets = [(l["le"], v) for n, l, v in samples
                   if n == "yiwang_request_duration_seconds_bucket" and l.get("service") == "slow"]
        self.assertTrue(buckets)
        self.assertEqual(buckets[-1][0], "+Inf")
        bounds = [float(le) for le, _ in buckets[:-1]]
        self.assertEqual(bounds, sorted(bounds), "buckets in increasing order")
        counts = [v for _, v in buckets]
        self.assertEqual(counts, sorted(counts), "cumulative counts never decrease")
        self.assertEqual(dict(buckets)["+Inf"], 4)
        self.assertEqual(dict(buckets)["1"], 3, "the 1.1 s request is above the 1 s bucket, the others below")
        self.assertEqual(metric(samples, "yiwang_request_duration_seconds_count", service="slow"), 4)
        total = metric(samples, "yiwang_request_duration_seconds_sum", service="slow")
        self.assertGreaterEqual(total, 1.1)
        self.assertLess(total, 1.1 + 3 * 1.0)

    def test_target_health_and_in_flight(self):
        samples, _, _ = scrape(self.gw)
        self.assertEqual(metric(samples, "yiwang_upstream_target_healthy", service="hrss",
                                target="127.0.0.1:%d" % self.hrss.port), 1)
        self.assertEqual(metric(samples, "yiwang_upstream_target_healthy", service="tax",
                                target="127.0.0.1:%d" % self.tax.port), 1)
        self.assertEqual(metric(samples, "yiwang_upstream_in_flight", service="hrss"), 0)
        done = threading.Event()
        statuses = []

        def slow_request():
            try:
                statuses.append(lib.curl(self.gw.public_url + "/hrss/slow?sleep_ms=1500", check=False).status)
            finally:
                done.set()

        worker = threading.Thread(target=slow_request)
        worker.start()
        try:
            lib.wait_until(lambda: metric(scrape(self.gw)[0], "yiwang_upstream_in_flight", service="hrss") == 1,
                           timeout=5, message="yiwang_upstream_in_flight{service=hrss} == 1")
            samples, _, _ = scrape(self.gw)
            self.assertEqual(metric(samples, "yiwang_upstream_target_in_flight", service="hrss",
                                    target="127.0.0.1:%d" % self.hrss.port), 1)
            self.assertEqual(metric(samples, "yiwang_upstream_in_flight", service="tax"), 0)
        finally:
            worker.join(10)
        self.assertTrue(done.is_set())
        self.assertEqual(statuses, [200])
        lib.wait_until(lambda: metric(scrape(self.gw)[0], "yiwang_upstream_in_flight", service="hrss") == 0,
                       timeout=5, message="yiwang_upstream_in_flight back to 0")

    def test_connections_open(self):
        def open_count():
            return metric(scrape(self.gw)[0], "yiwang_connections_open")

        # the scrape's own connection is the only one once earlier ones are closed
        lib.wait_until(lambda: open_count() == 1, timeout=5, message="yiwang_connections_open == 1")
        socks = []
        try:
            for _ in range(4):
                s = socket.create_connection(("127.0.0.1", self.gw.public_port), timeout=5)
                s.sendall(b"GET /hrss/keep HTTP/1.1\r\nHost: gateway.test\r\n\r\n")
                self.assertTrue(s.recv(65536).startswith(b"HTTP/1.1 200"))
                socks.append(s)
            lib.wait_until(lambda: open_count() == 5, timeout=5, message="yiwang_connections_open == 4 + 1")
        finally:
            for s in socks:
                s.close()
        lib.wait_until(lambda: open_count() == 1, timeout=5, message="yiwang_connections_open back to 1")
        accepted = metric(scrape(self.gw)[0], "yiwang_connections_accepted_total")
        self.assertGreaterEqual(accepted, 5)


class ShutdownTest(unittest.TestCase):
    """SIGTERM after real traffic: exit status 0 and a stderr free of sanitizer reports,
    leaks included (scripts/test.sh runs the sanitizer build with detect_leaks=1)."""

    def test_clean_exit_after_traffic(self):
        up = lib.Upstream("hrss")
        self.addCleanup(up.close)
        gw = lib.Gateway(lib.make_config([lib.service("hrss", [up], **FAST)], [lib.route("hrss", "/hrss", "hrss")],
                                         tls=True))
        self.addCleanup(gw.close)
        lib.curl(gw.public_url + "/hrss/a")
        lib.curl(H2C, gw.public_url + "/hrss/b", "--data-binary", "x" * 5000)
        lib.curl("-k", "--http2", gw.tls_url + "/hrss/c?bytes=100000")
        lib.curl(gw.public_url + "/nowhere", check=False)
        code = gw.stop()
        stderr = gw.stderr()
        self.assertEqual(sanitizer_errors(stderr), [])
        self.assertNotIn(LEAK_MARKER, stderr, "leak report:\n%s" % stderr[stderr.find(LEAK_MARKER):][:3000])
        self.assertEqual(code, 0, stderr[-2000:])


if __name__ == "__main__":
    unittest.main(verbosity=2)
