#!/usr/bin/env python3
"""Response bodies through the gateway: streamed whole, framed right, failures
visible, and memory bounded - the real binary, real demo upstreams, system curl.

Departments hand out large documents (certificates, scanned forms, statements).
The gateway must pass them through over HTTP/1.1 and HTTP/2 without holding them
in memory: a slow mobile client must make the gateway stop reading from the
department, not make it buffer the rest of the body. And a body that breaks off
must reach the client as an error, never as a short "successful" download.

Run: python3 test_gateway_streaming.py (YIWANG_BIN / YIWANG_UPSTREAM_BIN select the build).
"""

import os
import socket
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import yiwang_testlib as lib  # noqa: E402
from upstream_checks import (  # noqa: E402
    SANITIZED, GatewayTestCase, curl_transfer, curl_transfer_async, finish_curl, rss_kb)

MB = 1000 * 1000

PROTOCOLS = {
    "h1": ("--http1.1",),
    "h2c": ("--http2-prior-knowledge",),
    "h2-tls": ("--http2", "-k"),
}

# Resident memory the gateway may add while streaming a 200 MB body to a client reading 2 MB/s.
# Buffering the body would add hundreds of MB within seconds (the upstream is on loopback).
# Under ASan freed memory first sits in the allocator's quarantine (256 MB by default): the
# gateway gets a 16 MB quarantine here, and the margin grows by as much.
ASAN_QUARANTINE_MB = 16
RSS_MARGIN_KB = (30 + (ASAN_QUARANTINE_MB if SANITIZED else 0)) * 1024


def streaming_config(up, *, total_ms=60000, tls=False):
    svc = lib.service("files", [up], response_header_ms=min(5000, total_ms), total_ms=total_ms, max_failures=1000)
    return lib.make_config([svc], [lib.route("files", "/files/", "files")], tls=tls)


def url_for(gw, proto, path):
    return (gw.tls_url if proto == "h2-tls" else gw.public_url) + path


class StreamingTest(GatewayTestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory(prefix="yiwang-streaming-")

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def test_large_body_streams_completely_over_h1_and_h2(self):
        up = self.start_upstream("files")
        gw = self.start_gateway(streaming_config(up, tls=True))
        for proto, args in PROTOCOLS.items():
            with self.subTest(proto=proto):
                res = curl_transfer(url_for(gw, proto, "/files/big?bytes=50000000&chunk=65536"), *args, max_time=60)
                self.assertEqual(res["exit_code"], 0, res["stderr"])
                self.assertEqual(res["http_code"], 200)
                self.assertEqual(res["size_download"], 50000000)
                self.assertEqual(res["http_version"], "1.1" if proto == "h1" else "2")

    def test_chunked_upstream_body_arrives_whole(self):
        up = self.start_upstream("files")
        gw = self.start_gateway(streaming_config(up))
        # 1 000 000 bytes in chunks of 7777 (the last one short), a little apart
        path = "/files/chunked?bytes=1000000&chunk=7777&chunk_delay_ms=1"
        for proto in ("h1", "h2c"):
            with self.subTest(proto=proto):
                res = lib.curl(*PROTOCOLS[proto], url_for(gw, proto, path), timeout=30)
                self.assertEqual(res.status, 200)
                self.assertEqual(len(res.body), 1000000)
                self.assertEqual(res.body, b"x" * 1000000)
                self.assertNotIn("content-length", res.headers)  # the length was never known
                if proto == "h1":
                    self.assertEqual(res.headers.get("transfer-encoding"), "chunked")
                self.assertEqual(res.headers.get("content-type"), "application/octet-stream")

    def test_head_gets_no_body(self):
        up = self.start_upstream("files")
        gw = self.start_gateway(streaming_config(up))
        for path in ("/files/doc?bytes=5000", "/files/doc"):
            with self.subTest(path=path):
                raw = lib.raw_request("127.0.0.1", gw.public_port,
                                      b"HEAD " + path.encode() + b" HTTP/1.1\r\nHost: gov.example\r\n"
                                      b"Connection: close\r\n\r\n", timeout=10)
                head, sep, rest = raw.partition(b"\r\n\r\n")
                self.assertEqual(sep, b"\r\n\r\n", raw[:300])
                self.assertTrue(head.startswith(b"HTTP/1.1 200 "), head)
                self.assertEqual(rest, b"", "HEAD answered with %d body bytes" % len(rest))
                res = curl_transfer(gw.public_url + path, "--http2-prior-knowledge", "--head", max_time=10)
                self.assertEqual((res["exit_code"], res["http_code"], res["http_version"], res["size_download"]),
                                 (0, 200, "2", 0), res["stderr"])
        # on a kept-alive HTTP/1.1 connection the next response is framed correctly after a HEAD
        client = socket.create_connection(("127.0.0.1", gw.public_port), timeout=10)
        self.addCleanup(client.close)
        client.sendall(b"HEAD /files/one HTTP/1.1\r\nHost: gov.example\r\n\r\n"
                       b"GET /files/two HTTP/1.1\r\nHost: gov.example\r\nConnection: close\r\n\r\n")
        data = b""
        while True:
            chunk = client.recv(65536)
            if not chunk:
                break
            data += chunk
        first, _, after = data.partition(b"\r\n\r\n")
        self.assertTrue(first.startswith(b"HTTP/1.1 200 "), data[:300])
        self.assertTrue(after.startswith(b"HTTP/1.1 200 "), "bytes after the HEAD response: %r" % after[:200])
        self.assertIn(b'"path":"/files/two"', after)

    def _start_slow_download(self, gw, proto, path):
        out = os.path.join(self.tmp.name, "%s-%s.out" % (self._testMethodName, proto))
        handle = curl_transfer_async(url_for(gw, proto, path), *PROTOCOLS[proto], max_time=30, output=out)
        lib.wait_until(lambda: os.path.exists(out) and os.path.getsize(out) > 0, timeout=10,
                       message="the first body bytes at the client (%s)" % proto)
        return handle

    def test_truncated_upstream_body_is_an_error_for_the_client(self):
        up = self.start_upstream("files")
        gw = self.start_gateway(streaming_config(up))
        path = "/files/doc?bytes=20000000&chunk=65536&chunk_delay_ms=20"  # about 6 s of body
        for proto in ("h1", "h2c"):
            with self.subTest(proto=proto):
                if not up.running():
                    up.start()
                handle = self._start_slow_download(gw, proto, path)
                killed_at = time.monotonic()
                up.kill()  # the department dies mid-body: its chunked body never ends
                res = finish_curl(handle, timeout=40)
                self.assertNotEqual(res["exit_code"], 0, "a truncated body looked like a complete download: %s" % res)
                self.assertNotEqual(res["exit_code"], 28, "the client waited for its own timeout: %s" % res)
                self.assertEqual(res["http_code"], 200)  # the head was already sent
                self.assertLess(res["size_download"], 20000000)
                self.assertLess(time.monotonic() - killed_at, 5.0)

    def test_total_timeout_mid_body_aborts_the_stream(self):
        up = self.start_upstream("files")
        gw = self.start_gateway(streaming_config(up, total_ms=1500))
        path = "/files/doc?bytes=10000000&chunk=65536&chunk_delay_ms=50"  # about 8 s of body
        for proto in ("h1", "h2c"):
            with self.subTest(proto=proto):
                res = curl_transfer(url_for(gw, proto, path), *PROTOCOLS[proto], max_time=30)
                self.assertNotEqual(res["exit_code"], 0, "an aborted body looked like a complete download: %s" % res)
                self.assertNotEqual(res["exit_code"], 28, "the client waited for its own timeout: %s" % res)
                self.assertEqual(res["http_code"], 200)
                self.assertGreater(res["size_download"], 0)
                self.assertLess(res["size_download"], 10000000)
                self.assertGreaterEqual(res["seconds"], 1.3)
                self.assertLess(res["seconds"], 5.0)


class BoundedMemoryTest(GatewayTestCase):
    """A client reading 2 MB/s of a 200 MB body for 5 s: the gateway's RSS must stay flat."""

    def _check_rss_bounded(self, proto):
        up = self.start_upstream("files")
        env = {}
        if SANITIZED:
            env["ASAN_OPTIONS"] = os.environ.get("ASAN_OPTIONS", "") + ":quarantine_size_mb=%d" % ASAN_QUARANTINE_MB
        gw = self.start_gateway(streaming_config(up), env=env)
        pid = gw.proc.pid
        # warm up: the buffers a stream needs are allocated once, before the baseline
        warm = curl_transfer(url_for(gw, proto, "/files/warm?bytes=4000000"), *PROTOCOLS[proto], max_time=30)
        self.assertEqual((warm["exit_code"], warm["size_download"]), (0, 4000000), warm["stderr"])
        time.sleep(0.3)
        baseline = rss_kb(pid)

        handle = curl_transfer_async(url_for(gw, proto, "/files/huge?bytes=200000000&chunk=65536"),
                                     *PROTOCOLS[proto], "--limit-rate", "2M", max_time=5)
        samples = []
        while handle[0].poll() is None:
            samples.append(rss_kb(pid))
            time.sleep(0.5)
        samples.append(rss_kb(pid))
        res = finish_curl(handle)

        self.assertEqual(res["exit_code"], 28, "expected curl to stop at --max-time: %s" % res)  # timeout
        self.assertEqual(res["http_code"], 200)
        # the transfer really ran at about 2 MB/s (2 MiB/s * 5 s ~ 10 MB)
        self.assertGreaterEqual(res["size_download"], 4 * MB, res)
        self.assertLess(res["size_download"], 30 * MB, res)
        self.assertGreaterEqual(len(samples), 8)
        growth = max(samples) - baseline
        self.assertLess(growth, RSS_MARGIN_KB,
                        "gateway RSS grew by %d KiB while streaming (baseline %d KiB, samples %s)"
                        % (growth, baseline, samples))
        self.assertTrue(gw.running())

    def test_rss_stays_bounded_for_slow_h1_client(self):
        self._check_rss_bounded("h1")

    def test_rss_stays_bounded_for_slow_h2c_client(self):
        self._check_rss_bounded("h2c")


if __name__ == "__main__":
    unittest.main(verbosity=2)
