#!/usr/bin/env python3
"""End-to-end: request size and time limits are enforced with real, documented answers.

A citizen's app that sends too much (headers, an upload) or too slowly (a phone on a
weak network, or a slowloris client holding connections) must get a proper HTTP
answer in the gateway's error envelope: 431 headers_too_large, 413 body_too_large,
408 request_timeout. Never a reset the app can only report as "network error", and
never a request forwarded to a department anyway. Limits under test (set below):
limits.max_header_bytes 4096, limits.max_body_bytes 4096, a route limit of 1000 bytes,
limits.client_timeout_ms 1000.

Run: python3 test_gateway_limits.py
"""

import hashlib
import os
import socket
import sys
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import yiwang_testlib as lib  # noqa: E402
from gateway_checks import (GatewayTestCase, assert_curl_error, assert_error_envelope, connect, echo_of,  # noqa: E402
                            metric, parse_response, read_response, read_until_close, scrape)

H2C = "--http2-prior-knowledge"
MAX_HEADER_BYTES = 4096
GATEWAY_MAX_BODY = 4096
ROUTE_MAX_BODY = 1000
CLIENT_TIMEOUT_MS = 1000
# the 408 must come after the client timeout, and not much later: the guard looks twice per timeout
EARLIEST_408_S = 0.9
LATEST_408_S = 4.0


def limits_config(upstream, tls=False, threads=2):
    timeouts = dict(connect_ms=500, response_header_ms=2500, total_ms=3000)
    return lib.make_config(
        [lib.service("hrss", [upstream], **timeouts)],
        [lib.route("small", "/small", "hrss", max_body_bytes=ROUTE_MAX_BODY),
         lib.route("wide", "/wide", "hrss", max_body_bytes=GATEWAY_MAX_BODY)],
        tls=tls, threads=threads,
        limits={"max_header_bytes": MAX_HEADER_BYTES, "max_body_bytes": GATEWAY_MAX_BODY,
                "client_timeout_ms": CLIENT_TIMEOUT_MS})


class LimitsCase(GatewayTestCase):
    @classmethod
    def setUpClass(cls):
        cls.up = cls.class_upstream("hrss")
        cls.gw = cls.class_gateway(limits_config(cls.up))

    def url(self, path):
        return self.gw.public_url + path

    def upstream_requests(self):
        return self.up.stats()["requests"]


class HeaderLimitTest(LimitsCase):
    def test_one_large_header(self):
        before = self.upstream_requests()
        for proto in ((), (H2C,)):
            with self.subTest(proto=proto):
                r = lib.curl(*proto, self.url("/small/x"), "-H", "X-Big: " + "b" * (MAX_HEADER_BYTES + 100),
                             check=False)
                assert_curl_error(self, r, 431, "headers_too_large")
        self.assertEqual(self.upstream_requests(), before, "refused requests are not forwarded")

    def test_one_large_header_raw_http11(self):
        request = (b"GET /small/x HTTP/1.1\r\nHost: gateway.test\r\nConnection: close\r\nX-Big: "
                   + b"b" * (MAX_HEADER_BYTES + 100) + b"\r\n\r\n")
        with connect(self.gw.public_port) as sock:
            sock.sendall(request)
            resp = parse_response(read_until_close(sock))
        assert_error_envelope(self, resp.status, resp.headers, resp.body, 431, "headers_too_large")

    def test_many_small_headers(self):
        # 200 headers of ~30 bytes: over max_header_bytes in total, each one harmless
        args = []
        for i in range(200):
            args += ["-H", "X-Field-%03d: %s" % (i, "v" * 20)]
        before = self.upstream_requests()
        r = lib.curl(H2C, self.url("/small/x"), *args, check=False)
        assert_curl_error(self, r, 431, "headers_too_large")
        # HTTP/1.1: h2o 2.2.5's parser stops at 100 header fields and answers a plain 400 itself, before the gateway
        # sees the request (a documented limit). It must still be refused and never reach the department.
        r = lib.curl(self.url("/small/x"), *args, check=False)
        self.assertEqual(r[0], 400)
        self.assertEqual(self.upstream_requests(), before)

    def test_headers_under_the_limit_pass(self):
        value = "b" * (MAX_HEADER_BYTES - 600)
        for proto in ((), (H2C,)):
            with self.subTest(proto=proto):
                echo = echo_of(self, lib.curl(*proto, self.url("/small/x"), "-H", "X-Big: " + value), "hrss")
                self.assertEqual(echo["headers"].get("x-big"), value)


class BodyLimitTest(LimitsCase):
    def post(self, path, size, *args, proto=()):
        return lib.curl(*proto, "-X", "POST", self.url(path), "--data-binary", "@-", *args,
                        input=os.urandom(size), check=False)

    def test_over_the_route_limit(self):
        before = self.upstream_requests()
        variants = [((), ()), ((), ("-H", "Transfer-Encoding: chunked")), ((H2C,), ()),
                    ((H2C,), ("-H", "Content-Length:"))]  # h2 DATA frames with no content-length
        for proto, extra in variants:
            for size in (ROUTE_MAX_BODY + 1, 3 * ROUTE_MAX_BODY):
                with self.subTest(proto=proto, extra=extra, size=size):
                    r = self.post("/small/upload", size, *extra, proto=proto)
                    self.assertEqual(r.exit_code, 0, "a 413 response, not a reset: %s" % r.stderr)
                    assert_curl_error(self, r, 413, "body_too_large")
        self.assertEqual(self.upstream_requests(), before, "an oversized body is never forwarded")

    def test_over_the_route_limit_over_tls_h2(self):
        gw = self.gateway(limits_config(self.up, tls=True))
        r = lib.curl("-k", "--http2", "-X", "POST", gw.tls_url + "/small/upload", "--data-binary", "@-",
                     input=b"x" * (ROUTE_MAX_BODY + 1), check=False)
        self.assertEqual(r.http_version, "2")
        assert_curl_error(self, r, 413, "body_too_large")

    def test_over_the_gateway_limit(self):
        # the route allows exactly limits.max_body_bytes: a larger body must get the same 413 envelope
        before = self.upstream_requests()
        for proto, extra in (((), ()), ((), ("-H", "Transfer-Encoding: chunked")), ((H2C,), ())):
            with self.subTest(proto=proto, extra=extra):
                r = self.post("/wide/upload", GATEWAY_MAX_BODY + 1, *extra, proto=proto)
                self.assertEqual(r.exit_code, 0, "a 413 response, not a reset: %s" % r.stderr)
                assert_curl_error(self, r, 413, "body_too_large")
        self.assertEqual(self.upstream_requests(), before)

    def test_at_the_limit_passes_intact(self):
        cases = [("/small/upload", ROUTE_MAX_BODY), ("/small/upload", 1), ("/wide/upload", GATEWAY_MAX_BODY)]
        for path, size in cases:
            for proto, extra in (((), ()), ((), ("-H", "Transfer-Encoding: chunked")), ((H2C,), ()),
                                 ((H2C,), ("-H", "Content-Length:"))):
                with self.subTest(path=path, size=size, proto=proto, extra=extra):
                    body = os.urandom(size)
                    r = lib.curl(*proto, "-X", "POST", self.url(path), "--data-binary", "@-", *extra, input=body)
                    echo = echo_of(self, r, "hrss")
                    self.assertEqual(echo["body_bytes"], size)
                    self.assertEqual(echo["body_sha256"], hashlib.sha256(body).hexdigest())

    def test_empty_post(self):
        echo = echo_of(self, lib.curl("-X", "POST", self.url("/small/upload"), "--data-binary", ""), "hrss")
        self.assertEqual(echo["body_bytes"], 0)
        self.assertEqual(echo["headers"].get("content-length"), "0")


class RequestTimeoutTest(LimitsCase):
    def assert_408(self, data, elapsed):
        self.assertTrue(data.startswith(b"HTTP/1.1 408 "), "expected a 408, got %r" % data[:200])
        resp = parse_response(data)
        assert_error_envelope(self, resp.status, resp.headers, resp.body, 408, "request_timeout")
        self.assertEqual(resp.headers.get("connection"), "close")
        self.assertEqual(data, resp.raw)
        head_len = data.index(b"\r\n\r\n") + 4
        self.assertEqual(len(data), head_len + int(resp.headers["content-length"]), "nothing after the 408")
        self.assertGreaterEqual(elapsed, EARLIEST_408_S, "answered before client_timeout_ms")
        self.assertLessEqual(elapsed, LATEST_408_S, "answered long after client_timeout_ms")

    def partial_then_wait(self, payload, tls=False, port=None):
        """Sends payload, then nothing; returns (bytes received until EOF, seconds elapsed)."""
        with connect(port or self.gw.public_port, tls=tls) as sock:
            start = time.monotonic()
            sock.sendall(payload)
            try:
                data = read_until_close(sock, timeout=LATEST_408_S + 2)
            except socket.timeout:
                self.fail("no answer and no close %.1fs after a partial request" % (time.monotonic() - start))
            return data, time.monotonic() - start

    def test_partial_head(self):
        samples, _, _ = scrape(self.gw)
        timed_out = metric(samples, "yiwang_requests_timed_out_total")
        before = self.upstream_requests()
        data, elapsed = self.partial_then_wait(b"GET /small/x HTTP/1.1\r\nHost: gateway.test\r\nX-Slow: 1\r\n")
        self.assert_408(data, elapsed)
        self.assertEqual(self.upstream_requests(), before)
        samples, _, _ = scrape(self.gw)
        self.assertEqual(metric(samples, "yiwang_requests_timed_out_total"), timed_out + 1)

    def test_partial_request_line(self):
        data, elapsed = self.partial_then_wait(b"GET /sma")
        self.assert_408(data, elapsed)

    def test_slow_body(self):
        before = self.upstream_requests()
        data, elapsed = self.partial_then_wait(
            b"POST /small/x HTTP/1.1\r\nHost: gateway.test\r\nContent-Length: 100\r\n\r\n0123456789")
        self.assert_408(data, elapsed)
        self.assertEqual(self.upstream_requests(), before, "a half-received body is never forwarded")

    def test_slow_chunked_body(self):
        data, elapsed = self.partial_then_wait(
            b"POST /small/x HTTP/1.1\r\nHost: gateway.test\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n")
        self.assert_408(data, elapsed)

    def test_trickled_head(self):
        # slowloris: a byte every 100 ms keeps the connection busy but never finishes the head
        payload = b"GET /small/x HTTP/1.1\r\nHost: gateway.test\r\n" + b"X-Drip: " + b"d" * 200
        with connect(self.gw.public_port) as sock:
            start = time.monotonic()
            data = b""
            for i in range(len(payload)):
                if time.monotonic() - start > LATEST_408_S + 1:
                    break
                try:
                    sock.sendall(payload[i:i + 1])
                except (BrokenPipeError, ConnectionResetError):
                    break
                sock.settimeout(0.1)
                try:
                    chunk = sock.recv(65536)
                except socket.timeout:
                    continue
                except ConnectionResetError:
                    break
                data += chunk
                break
            elapsed = time.monotonic() - start
            try:
                data += read_until_close(sock, timeout=3)
            except socket.timeout:
                self.fail("the connection stayed open after %r" % data[:100])
        self.assert_408(data, elapsed)

    def test_partial_second_request_on_a_keepalive_connection(self):
        with connect(self.gw.public_port) as sock:
            sock.sendall(b"GET /small/first HTTP/1.1\r\nHost: gateway.test\r\n\r\n")
            first, rest = read_response(sock)
            self.assertEqual(first.status, 200)
            self.assertEqual(rest, b"")
            start = time.monotonic()
            sock.sendall(b"GET /small/second HTTP/1.1\r\nHost: gateway.test\r\n")
            data = read_until_close(sock, timeout=LATEST_408_S + 2)
            self.assert_408(data, time.monotonic() - start)

    def test_idle_keepalive_connection_is_not_answered_408(self):
        with connect(self.gw.public_port) as sock:
            sock.sendall(b"GET /small/first HTTP/1.1\r\nHost: gateway.test\r\n\r\n")
            first, rest = read_response(sock)
            self.assertEqual((first.status, rest), (200, b""))
            sock.settimeout(2 * CLIENT_TIMEOUT_MS / 1000 + 0.2)
            try:
                idle = sock.recv(65536)  # b"" if the gateway closed the idle connection: allowed
            except socket.timeout:
                idle = None
            except ConnectionResetError:
                idle = b""
            self.assertFalse(idle, "an idle connection between requests is not a slow request: %r" % idle)
            if idle is None:  # still open: it must still work
                sock.sendall(b"GET /small/second HTTP/1.1\r\nHost: gateway.test\r\n\r\n")
                second, _ = read_response(sock)
                self.assertEqual(second.status, 200)
                self.assertEqual(second.json()["path"], "/small/second")

    def test_slow_upstream_is_not_a_slow_client(self):
        start = time.monotonic()
        r = lib.curl(self.url("/small/slow?sleep_ms=1600"))
        self.assertGreaterEqual(time.monotonic() - start, 1.5)
        self.assertEqual(echo_of(self, r, "hrss")["path"], "/small/slow?sleep_ms=1600")

    def test_pipelined_requests_behind_a_slow_upstream(self):
        with connect(self.gw.public_port) as sock:
            sock.sendall(b"GET /small/a?sleep_ms=1600 HTTP/1.1\r\nHost: gateway.test\r\n\r\n"
                         b"GET /small/b HTTP/1.1\r\nHost: gateway.test\r\n\r\n")
            first, rest = read_response(sock, timeout=6)
            self.assertEqual((first.status, first.json()["path"]), (200, "/small/a?sleep_ms=1600"))
            second, _ = read_response(sock, timeout=6, data=rest)
            self.assertEqual((second.status, second.json()["path"]), (200, "/small/b"))


class TlsRequestTimeoutTest(GatewayTestCase):
    """408 over TLS (ALPN http/1.1). The gateway is fresh and has served no cleartext
    request, and several connections are open at once so that every event-loop thread
    gets at least one of them: none may be left to hang silently."""

    def test_partial_head_over_tls(self):
        up = self.upstream("hrss")
        gw = self.gateway(limits_config(up, tls=True, threads=4))
        results = [None] * 8

        def run(i):
            try:
                with connect(gw.tls_port, tls=True, alpn=("http/1.1",)) as sock:
                    if sock.selected_alpn_protocol() != "http/1.1":
                        results[i] = ("alpn", sock.selected_alpn_protocol())
                        return
                    start = time.monotonic()
                    sock.sendall(b"GET /small/x HTTP/1.1\r\nHost: gateway.test\r\n")
                    try:
                        data = read_until_close(sock, timeout=LATEST_408_S + 2)
                    except socket.timeout:
                        data = b"(no answer, connection still open)"
                    results[i] = (data, time.monotonic() - start)
            except Exception as e:  # noqa: BLE001 - reported below
                results[i] = ("error", repr(e))

        threads = [threading.Thread(target=run, args=(i,)) for i in range(len(results))]
        for t in threads:
            t.start()
        for t in threads:
            t.join(LATEST_408_S + 10)
        bad = [(i, r[0][:60] if isinstance(r[0], bytes) else r) for i, r in enumerate(results)
               if r is None or not isinstance(r[0], bytes) or not r[0].startswith(b"HTTP/1.1 408 ")]
        self.assertEqual(bad, [], "TLS connections with a partial request that got no 408")
        for data, elapsed in results:
            RequestTimeoutTest.assert_408(self, data, elapsed)
        self.assertEqual(up.stats()["requests"], 0)

    def test_slow_body_over_tls(self):
        up = self.upstream("hrss")
        gw = self.gateway(limits_config(up, tls=True, threads=1))
        lib.curl(gw.public_url + "/small/warmup")  # the thread has served cleartext: isolates the body case
        with connect(gw.tls_port, tls=True) as sock:
            start = time.monotonic()
            sock.sendall(b"POST /small/x HTTP/1.1\r\nHost: gateway.test\r\nContent-Length: 100\r\n\r\n0123456789")
            data = read_until_close(sock, timeout=LATEST_408_S + 2)
        RequestTimeoutTest.assert_408(self, data, time.monotonic() - start)


if __name__ == "__main__":
    unittest.main(verbosity=2)
