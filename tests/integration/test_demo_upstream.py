#!/usr/bin/env python3
"""Tests yiwang-demo-upstream directly (and the parts of yiwang_testlib it uses).

The gateway's own integration tests trust this program to report exactly what
reached it and to misbehave exactly when asked, so both are pinned down here.
Run: python3 test_demo_upstream.py (exit status non-zero on failure).
"""

import hashlib
import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import yiwang_testlib as lib  # noqa: E402


def connect(test, up, timeout=5.0):
    conn = http.client.HTTPConnection(up.host, up.port, timeout=timeout)
    test.addCleanup(conn.close)
    return conn


def get_json(conn, method, path, body=None, headers=None, **kwargs):
    conn.request(method, path, body=body, headers=headers or {}, **kwargs)
    resp = conn.getresponse()
    data = resp.read()
    return resp, json.loads(data) if data else None


def read_response_head(sock):
    """Reads from a raw socket until the end of one response head; returns (head, rest)."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            break
        data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    return head.decode("latin-1"), rest


class EchoTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.up = lib.Upstream("hrss")

    @classmethod
    def tearDownClass(cls):
        code = cls.up.stop()
        assert code == 0, "demo upstream exited with %s" % code
        cls.up.close()

    def test_get_echoes_method_raw_path_and_headers(self):
        conn = connect(self, self.up)
        # path sent exactly like this, odd encodings included: the upstream must not normalise
        raw_path = "/a/%2e%2E/b//c?x=1&y=%20&x=2"
        conn.putrequest("GET", raw_path, skip_host=True, skip_accept_encoding=True)
        conn.putheader("Host", "hrss.internal")
        conn.putheader("X-Trace", "one")
        conn.putheader("x-trace", "two")
        conn.putheader("X-Mixed-CASE", "Value With Spaces")
        conn.endheaders()
        resp = conn.getresponse()
        self.assertEqual(resp.status, 200)
        self.assertEqual(resp.getheader("Content-Type"), "application/json")
        body = resp.read()
        self.assertEqual(int(resp.getheader("Content-Length")), len(body))
        echo = json.loads(body)
        self.assertEqual(echo["service"], "hrss")
        self.assertEqual(echo["method"], "GET")
        self.assertEqual(echo["path"], raw_path)
        self.assertEqual(echo["headers"]["host"], "hrss.internal")
        self.assertEqual(echo["headers"]["x-trace"], "one, two")
        self.assertEqual(echo["headers"]["x-mixed-case"], "Value With Spaces")
        self.assertEqual(echo["body_bytes"], 0)
        self.assertEqual(echo["body_sha256"], hashlib.sha256(b"").hexdigest())
        self.assertEqual(resp.getheader("X-Upstream"), "hrss")

    def test_hop_by_hop_headers_are_reported_too(self):
        # the gateway's tests check these are stripped, so the echo must not hide them
        req = (b"GET /hop HTTP/1.1\r\nHost: h\r\nConnection: keep-alive, X-Secret\r\nKeep-Alive: timeout=5\r\n"
               b"Upgrade: websocket\r\nTE: trailers\r\nProxy-Connection: x\r\nConnection: close\r\n\r\n")
        data = lib.raw_request(self.up.host, self.up.port, req)
        head, _, body = data.partition(b"\r\n\r\n")
        self.assertIn(b"Connection: close", head)
        headers = json.loads(body)["headers"]
        self.assertEqual(headers["connection"], "keep-alive, X-Secret, close")
        for name in ("keep-alive", "upgrade", "te", "proxy-connection"):
            self.assertIn(name, headers)

    def test_post_body_length_and_sha256(self):
        conn = connect(self, self.up)
        payload = os.urandom(300_000)
        resp, echo = get_json(conn, "POST", "/upload", body=payload, headers={"Content-Type": "application/octet-stream"})
        self.assertEqual(resp.status, 200)
        self.assertEqual(echo["method"], "POST")
        self.assertEqual(echo["body_bytes"], len(payload))
        self.assertEqual(echo["body_sha256"], hashlib.sha256(payload).hexdigest())
        self.assertEqual(echo["headers"]["content-length"], str(len(payload)))

    def test_chunked_request_body(self):
        conn = connect(self, self.up)
        parts = [b"hello ", b"", b"x" * 70000, b"world"]
        resp, echo = get_json(conn, "PUT", "/c", body=iter(parts), encode_chunked=True,
                              headers={"Transfer-Encoding": "chunked"})
        self.assertEqual(resp.status, 200)
        whole = b"".join(parts)
        self.assertEqual(echo["body_bytes"], len(whole))
        self.assertEqual(echo["body_sha256"], hashlib.sha256(whole).hexdigest())
        self.assertEqual(echo["headers"]["transfer-encoding"], "chunked")

    def test_chunked_body_with_extensions_and_trailers(self):
        req = (b"POST /t HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
               b"3;ext=1\r\nabc\r\n2\r\nde\r\n0\r\nX-Trailer: yes\r\n\r\n")
        data = lib.raw_request(self.up.host, self.up.port, req)
        echo = json.loads(data.partition(b"\r\n\r\n")[2])
        self.assertEqual(echo["body_bytes"], 5)
        self.assertEqual(echo["body_sha256"], hashlib.sha256(b"abcde").hexdigest())

    def test_expect_100_continue(self):
        with socket.create_connection((self.up.host, self.up.port), timeout=5) as s:
            s.sendall(b"POST /e HTTP/1.1\r\nHost: h\r\nContent-Length: 4\r\nExpect: 100-continue\r\n\r\n")
            head, rest = read_response_head(s)
            self.assertTrue(head.startswith("HTTP/1.1 100 "), head)
            s.sendall(b"body")
            data = rest
            while b"}" not in data:
                data += s.recv(65536)
            self.assertIn(b"HTTP/1.1 200 OK", data)
            self.assertIn(b'"body_bytes":4', data)

    def test_keep_alive_reuses_one_connection(self):
        before = self.up.stats()["connections"]
        conn = connect(self, self.up)
        for i in range(20):
            resp, echo = get_json(conn, "GET", "/k/%d" % i)
            self.assertEqual(resp.status, 200)
            self.assertEqual(echo["path"], "/k/%d" % i)
            self.assertFalse(resp.will_close)
        conn.close()
        # the stats request itself opens one more connection
        self.assertEqual(self.up.stats()["connections"] - before, 2)

    def test_pipelined_requests_are_answered_in_order(self):
        req = b"".join(b"GET /p/%d HTTP/1.1\r\nHost: h\r\n\r\n" % i for i in range(5))
        req += b"GET /p/last HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n"
        data = lib.raw_request(self.up.host, self.up.port, req)
        paths = [json.loads(part.split(b"\r\n\r\n", 1)[1].split(b"HTTP/1.1", 1)[0])["path"]
                 for part in data.split(b"HTTP/1.1 200 OK")[1:]]
        self.assertEqual(paths, ["/p/%d" % i for i in range(5)] + ["/p/last"])

    def test_http10_closes_unless_keep_alive(self):
        data = lib.raw_request(self.up.host, self.up.port, b"GET /ten HTTP/1.0\r\n\r\n")
        self.assertTrue(data.startswith(b"HTTP/1.1 200 OK"))
        self.assertIn(b'"http_version":"1.0"', data)
        with socket.create_connection((self.up.host, self.up.port), timeout=5) as s:
            s.sendall(b"GET /ka HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
            head, _ = read_response_head(s)
            self.assertIn("Connection: keep-alive", head)

    def test_head_has_length_but_no_body(self):
        conn = connect(self, self.up)
        conn.request("HEAD", "/h")
        resp = conn.getresponse()
        self.assertEqual(resp.status, 200)
        self.assertGreater(int(resp.getheader("Content-Length")), 0)
        self.assertEqual(resp.read(), b"")
        resp, echo = get_json(conn, "GET", "/after-head")  # the connection is still in sync
        self.assertEqual(echo["path"], "/after-head")

    def test_status_parameter(self):
        conn = connect(self, self.up)
        resp, echo = get_json(conn, "DELETE", "/s?status=503")
        self.assertEqual(resp.status, 503)
        self.assertEqual(echo["method"], "DELETE")
        conn.request("GET", "/s?status=204")
        resp = conn.getresponse()
        self.assertEqual((resp.status, resp.read()), (204, b""))
        resp, err = get_json(conn, "GET", "/s?status=99")
        self.assertEqual(resp.status, 400)
        self.assertIn("status", err["error"])

    def test_sleep_delays_only_that_request(self):
        slow_result = {}

        def slow():
            t0 = time.monotonic()
            status, _, _ = self.up.request("GET", "/slow?sleep_ms=600")
            slow_result["elapsed"], slow_result["status"] = time.monotonic() - t0, status

        t = threading.Thread(target=slow)
        t.start()
        time.sleep(0.1)
        t0 = time.monotonic()
        status, _, _ = self.up.request("GET", "/fast")
        fast = time.monotonic() - t0
        t.join()
        self.assertEqual(status, 200)
        self.assertLess(fast, 0.3, "a sleeping request blocked another connection")
        self.assertEqual(slow_result["status"], 200)
        self.assertGreaterEqual(slow_result["elapsed"], 0.59)
        self.assertLess(slow_result["elapsed"], 2.0)

    def test_streamed_body_chunks_and_delays(self):
        with socket.create_connection((self.up.host, self.up.port), timeout=5) as s:
            t0 = time.monotonic()
            s.sendall(b"GET /b?bytes=10&chunk=4&chunk_delay_ms=150 HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n")
            data = b""
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    break
                data += chunk
            elapsed = time.monotonic() - t0
        head, _, body = data.partition(b"\r\n\r\n")
        self.assertIn(b"Transfer-Encoding: chunked", head)
        self.assertNotIn(b"Content-Length", head)
        self.assertEqual(body, b"4\r\nxxxx\r\n4\r\nxxxx\r\n2\r\nxx\r\n0\r\n\r\n")
        self.assertGreaterEqual(elapsed, 0.29)  # two gaps between three chunks

    def test_streamed_body_large_and_default_chunk(self):
        conn = connect(self, self.up, timeout=20)
        conn.request("GET", "/big?bytes=5000000&status=206")
        resp = conn.getresponse()
        body = resp.read()
        self.assertEqual(resp.status, 206)
        self.assertEqual(len(body), 5_000_000)
        self.assertEqual(body.count(b"x"), 5_000_000)
        conn.request("GET", "/zero?bytes=0")
        resp = conn.getresponse()
        self.assertEqual((resp.status, resp.read()), (200, b""))

    def test_close_drops_the_connection_without_a_response(self):
        t0 = time.monotonic()
        data = lib.raw_request(self.up.host, self.up.port, b"GET /c?close=1&sleep_ms=200 HTTP/1.1\r\nHost: h\r\n\r\n")
        self.assertEqual(data, b"")
        self.assertGreaterEqual(time.monotonic() - t0, 0.19)

    def test_garbage_answers_with_a_malformed_response(self):
        data = lib.raw_request(self.up.host, self.up.port, b"GET /g?garbage=1 HTTP/1.1\r\nHost: h\r\n\r\n")
        self.assertEqual(data, b"NOT HTTP\r\n\r\n")

    def test_header_bytes_adds_a_filler_header(self):
        conn = connect(self, self.up)
        conn.request("GET", "/f?header_bytes=20000")
        resp = conn.getresponse()
        resp.read()
        self.assertEqual(resp.getheader("X-Filler"), "x" * 20000)

    def test_bad_query_values_are_rejected(self):
        for query in ("sleep_ms=abc", "bytes=-1", "chunk=0", "close=2", "header_bytes=99999999999"):
            status, _, body = self.up.request("GET", "/q?" + query)
            self.assertEqual(status, 400, query)
            self.assertIn(query.split("=")[0], json.loads(body)["error"])

    def test_malformed_requests_get_400_and_close(self):
        for req in (b"GET\r\n\r\n", b"GET /x HTTP/1.1\r\nBad Header\r\n\r\n",
                    b"GET /x HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
                    b"POST /x HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n"):
            data = lib.raw_request(self.up.host, self.up.port, req)
            self.assertTrue(data.startswith(b"HTTP/1.1 400 "), (req, data))
            self.assertIn(b"Connection: close", data)
        data = lib.raw_request(self.up.host, self.up.port, b"GET /x HTTP/2.0\r\n\r\n")
        self.assertTrue(data.startswith(b"HTTP/1.1 505 "), data)

    def test_oversized_head_gets_431(self):
        req = b"GET /x HTTP/1.1\r\nX-Big: " + b"a" * 70000 + b"\r\n\r\n"
        with socket.create_connection((self.up.host, self.up.port), timeout=5) as s:
            try:
                s.sendall(req)
            except (BrokenPipeError, ConnectionResetError):
                pass
            head, _ = read_response_head(s)
        self.assertTrue(head.startswith("HTTP/1.1 431 "), head)

    def test_many_concurrent_connections(self):
        socks = [socket.create_connection((self.up.host, self.up.port), timeout=10) for _ in range(300)]
        try:
            for i, s in enumerate(socks):
                s.sendall(b"GET /many/%d?sleep_ms=100 HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n" % i)
            for i, s in enumerate(socks):
                data = b""
                while True:
                    chunk = s.recv(65536)
                    if not chunk:
                        break
                    data += chunk
                self.assertIn(b'"path":"/many/%d?sleep_ms=100"' % i, data)
        finally:
            for s in socks:
                s.close()


class HealthAndStatsTest(unittest.TestCase):
    def test_health_toggle_and_request_counting(self):
        with lib.Upstream("tax") as up:
            self.assertEqual(up.stats()["requests"], 0)
            status, _, body = up.request("GET", "/healthz")
            self.assertEqual((status, json.loads(body)), (200, {"status": "ok"}))
            up.set_healthy(False)
            status, _, body = up.request("GET", "/healthz")
            self.assertEqual((status, json.loads(body)), (503, {"status": "down"}))
            status, _, _ = up.request("GET", "/other")  # only /healthz is affected
            self.assertEqual(status, 200)
            up.set_healthy(True)
            self.assertEqual(up.request("GET", "/healthz")[0], 200)
            self.assertEqual(up.request("GET", "/__health/down")[0], 405)
            # /healthz x3 and /other count; /__stats and /__health/* do not
            stats = up.stats()
            self.assertEqual(stats["requests"], 4)
            self.assertEqual(stats["healthz"], 3)
            up.reset_stats()
            self.assertEqual(up.stats()["requests"], 0)
            # requests that end without a response still reached the upstream
            lib.raw_request(up.host, up.port, b"GET /gone?close=1 HTTP/1.1\r\nHost: h\r\n\r\n")
            self.assertEqual(up.stats()["requests"], 1)


class ProcessTest(unittest.TestCase):
    def run_bin(self, *args):
        return subprocess.run([lib.UPSTREAM_BIN, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=10)

    def test_bad_arguments_exit_2(self):
        for args in ([], ["--listen"], ["--listen", "localhost:80"], ["--listen", "127.0.0.1"],
                     ["--listen", "127.0.0.1:70000"], ["--listen", "127.0.0.1:0", "--bogus"],
                     ["--listen", "[::1:80"]):
            self.assertEqual(self.run_bin(*args).returncode, 2, args)
        self.assertEqual(self.run_bin("--help").returncode, 0)

    def test_port_in_use_fails(self):
        with lib.Upstream("first") as first:
            self.assertNotEqual(self.run_bin("--listen", first.address).returncode, 0)

    def test_sigterm_exits_0_promptly_with_connections_open(self):
        up = lib.Upstream("term")
        idle = socket.create_connection((up.host, up.port))
        busy = socket.create_connection((up.host, up.port))
        busy.sendall(b"GET /x?sleep_ms=60000 HTTP/1.1\r\nHost: h\r\n\r\n")
        time.sleep(0.1)
        t0 = time.monotonic()
        code = up.stop(timeout=5)
        self.assertEqual(code, 0)
        self.assertLess(time.monotonic() - t0, 1.5)
        idle.close()
        busy.close()
        up.close()

    def test_sigint_exits_0(self):
        up = lib.Upstream("int")
        os.kill(up.proc.pid, signal.SIGINT)
        self.assertEqual(up.proc.wait(5), 0)
        up.close()

    def test_restart_on_the_same_port(self):
        up = lib.Upstream("again")
        port = up.port
        up.stop()
        up.start()
        self.assertEqual(up.port, port)
        self.assertEqual(up.request("GET", "/")[0], 200)
        up.close()

    def test_ipv6_listener(self):
        try:
            with socket.socket(socket.AF_INET6) as s:
                s.bind(("::1", 0))
        except OSError:
            self.skipTest("no IPv6 loopback")
        with lib.Upstream("v6", host="::1") as up:
            self.assertTrue(up.address.startswith("[::1]:"))
            status, _, body = up.request("GET", "/six")
            self.assertEqual(status, 200)
            self.assertEqual(json.loads(body)["listen"], up.address)

    def test_access_log_flag(self):
        with lib.Upstream("logged", args=["--access-log"]) as up:
            up.request("GET", "/logged?status=201")

            def logged():
                with open(up.stdout_path) as f:
                    return [line for line in f if "/logged" in line]

            lines = lib.wait_until(logged, 5)
            self.assertIn("logged GET /logged?status=201 201", lines[0])


class HarnessTest(unittest.TestCase):
    """The pieces of yiwang_testlib that do not need a working gateway."""

    @classmethod
    def setUpClass(cls):
        cls.up = lib.Upstream("harness")

    @classmethod
    def tearDownClass(cls):
        cls.up.close()

    def test_curl_helper(self):
        status, headers, body, version = lib.curl("--http1.1", "-H", "X-A: 1", self.up.url + "/curl?status=202")
        self.assertEqual((status, version), (202, "1.1"))
        self.assertEqual(headers["x-upstream"], "harness")
        self.assertEqual(json.loads(body)["headers"]["x-a"], "1")
        result = lib.curl("-X", "POST", "--data-binary", "abc", self.up.url + "/p")
        self.assertEqual(result.json()["body_bytes"], 3)
        failed = lib.curl(self.up.url + "/x?garbage=1", check=False)
        self.assertNotEqual(failed.exit_code, 0)
        self.assertEqual(failed.status, 0)
        with self.assertRaises(lib.CurlError):
            lib.curl(self.up.url + "/x?close=1")

    def test_free_port_and_config_builders(self):
        self.assertNotEqual(lib.free_port(), 0)
        cfg = lib.make_config(
            [lib.service("hrss", [self.up, ("127.0.0.1", 9, 3)], health_check=True)],
            [lib.route("hrss", "/hrss/", "hrss", methods=["GET"], strip_prefix=True, max_body_bytes=1024)],
            tls=True, limits={"max_body_bytes": 4096})
        svc = cfg["services"][0]
        self.assertEqual(svc["targets"], [{"host": "127.0.0.1", "port": self.up.port, "weight": 1},
                                          {"host": "127.0.0.1", "port": 9, "weight": 3}])
        self.assertEqual(svc["health_check"]["path"], "/healthz")
        self.assertEqual(cfg["routes"][0]["methods"], ["GET"])
        self.assertEqual(cfg["listeners"]["tls"], {"address": "127.0.0.1"})
        self.assertEqual(cfg["limits"], {"max_body_bytes": 4096})
        plain = lib.make_config([], [], access_log=None)
        self.assertNotIn("access_log", plain)
        self.assertNotIn("tls", plain["listeners"])
        self.assertEqual(lib.make_config([], [], access_log=False)["access_log"], {"path": None})

    def test_gateway_class_with_a_stand_in_binary(self):
        """Gateway's plumbing (config writing, ports, TLS files, readiness, reload,
        access log, stop) checked against a tiny fake that serves the ops /healthz."""
        fake = tempfile.NamedTemporaryFile("w", suffix=".py", delete=False)
        fake.write(FAKE_GATEWAY)
        fake.close()
        os.chmod(fake.name, 0o755)
        try:
            cfg = lib.make_config([lib.service("hrss", [self.up])], [lib.route("hrss", "/hrss/", "hrss")], tls=True)
            with lib.Gateway(cfg, binary=fake.name) as gw:
                self.assertTrue(os.path.exists(gw.config["listeners"]["tls"]["certificate"]))
                ports = {gw.public_port, gw.ops_port, gw.tls_port}
                self.assertEqual(len(ports), 3)
                self.assertEqual(gw.ops_url, "http://127.0.0.1:%d" % gw.ops_port)
                self.assertTrue(gw.tls_url.startswith("https://127.0.0.1:"))
                self.assertEqual(lib.http_request("GET", gw.ops_url + "/healthz")[0], 200)
                ops_port = gw.ops_port
                gw.write_config(cfg)
                self.assertEqual(gw.ops_port, ops_port)  # a rewritten config keeps the listeners' ports
                gw.reload()
                lines = gw.access_log_lines(min_lines=2)
                self.assertEqual(lines[-1], {"event": "reload"})
                self.assertEqual(gw.stop(), 0)
            with self.assertRaises(AssertionError) as ctx:
                lib.Gateway(cfg, binary=fake.name, env={"FAKE_FAIL": "1"})
            self.assertIn("bad config on purpose", str(ctx.exception))
        finally:
            os.unlink(fake.name)


FAKE_GATEWAY = r'''#!/usr/bin/env python3
import http.server, json, os, signal, sys, threading
if os.environ.get("FAKE_FAIL"):
    sys.stderr.write("bad config on purpose\n"); sys.exit(2)
cfg = json.load(open(sys.argv[sys.argv.index("--config") + 1]))
log = open(cfg["access_log"]["path"], "a")
def note(obj):
    log.write(json.dumps(obj) + "\n"); log.flush()
note({"event": "start"})
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200); self.send_header("Content-Length", "2"); self.end_headers(); self.wfile.write(b"ok")
    def log_message(self, *a):
        pass
ops = cfg["listeners"]["ops"]
srv = http.server.HTTPServer((ops["address"], ops["port"]), H)
signal.signal(signal.SIGHUP, lambda *a: note({"event": "reload"}))
signal.signal(signal.SIGTERM, lambda *a: threading.Thread(target=srv.shutdown).start())
srv.serve_forever()
'''


if __name__ == "__main__":
    unittest.main(verbosity=2)
