"""upstream_checks - helpers shared by the upstream, streaming and lifecycle
integration tests (stdlib only; builds on yiwang_testlib, which it never changes).

- GatewayTestCase: a unittest.TestCase whose gateways and demo upstreams are
  stopped at teardown, with their exit codes and sanitizer reports checked;
- the error envelope check, /readyz and /metrics readers;
- curl and h2load runners that report what happened instead of raising;
- the gateway's resident memory (VmRSS);
- SlowUpstream (a target that answers every request late) and a loopback
  address whose SYNs are never answered, for connect timeouts.
"""

import contextlib
import http.client
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import threading
import time
import unittest
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import yiwang_testlib as lib  # noqa: E402

# Memory-safety and undefined-behaviour findings: always a failure.
SANITIZER_MARKERS = (
    "ERROR: AddressSanitizer",
    "runtime error:",
    "SUMMARY: UndefinedBehaviorSanitizer",
)

# A leak found by LeakSanitizer when the process exits: also a failure.
LEAK_REPORT = "ERROR: LeakSanitizer"


def binary_is_sanitized(path):
    """True for an ASan build: by its build directory's name, else by the ASan runtime in the binary."""
    if "asan" in os.path.basename(os.path.dirname(os.path.abspath(path))):
        return True
    try:
        with open(path, "rb") as f:
            return b"__asan_init" in f.read()
    except OSError:
        return False


SANITIZED = binary_is_sanitized(lib.YIWANG_BIN)


def sanitizer_reports(text):
    """The lines of `text` that report a memory-safety or UB finding (empty list when clean)."""
    return [line for line in text.splitlines() if any(marker in line for marker in SANITIZER_MARKERS)]


def leak_blocks(text):
    """LeakSanitizer's "Direct/Indirect leak of ..." blocks in `text`, each as a list of lines
    (one placeholder block when it reported leaks in a form that could not be parsed)."""
    blocks, current = [], None
    for line in text.splitlines():
        if re.match(r"^(Direct|Indirect) leak of ", line):
            current = [line]
            blocks.append(current)
        elif current is not None and line.strip().startswith("#"):
            current.append(line)
        else:
            current = None
    if not blocks and LEAK_REPORT in text:
        blocks.append([LEAK_REPORT + " (no leak blocks could be parsed)"])
    return blocks


def tail(text, limit=3000):
    return text[-limit:] if len(text) > limit else text


def read_text(path):
    try:
        with open(path, "rb") as f:
            return f.read().decode("utf-8", "replace")
    except OSError:
        return ""


# ---------------------------------------------------------------- test case base


class GatewayTestCase(unittest.TestCase):
    """Starts gateways and upstreams that are stopped at teardown. A gateway must
    exit 0 on SIGTERM and neither it nor an upstream may print a sanitizer report."""

    def start_upstream(self, name="demo", **kwargs):
        up = lib.Upstream(name, **kwargs)
        self.addCleanup(self._finish_upstream, up)
        return up

    def _finish_upstream(self, up):
        up.stop()
        stderr = read_text(up.stderr_path)
        up.close()
        reports = sanitizer_reports(stderr)
        self.assertEqual(reports, [], "upstream %s printed sanitizer reports:\n%s" % (up.name, tail(stderr)))

    def start_gateway(self, config, expect_exit=0, **kwargs):
        gw = lib.Gateway(config, **kwargs)
        self.addCleanup(self._finish_gateway, gw, expect_exit)
        return gw

    def _finish_gateway(self, gw, expect_exit):
        code = gw.stop(timeout=20.0)
        stderr = gw.stderr() if os.path.exists(gw.stderr_path) else ""
        self.check_gateway_exit(code, stderr, expect_exit, where=gw.dir)
        if not lib.KEEP_TMP:
            shutil.rmtree(gw.dir, ignore_errors=True)

    def check_gateway_exit(self, code, stderr, expect_exit=0, where=""):
        """No memory-safety, UB or leak report in the gateway's stderr, and the expected exit code."""
        where = " (files kept in %s)" % where if where else ""
        self.assert_sanitizer_clean(stderr, "gateway" + where)
        leaks = leak_blocks(stderr)
        self.assertEqual(leaks, [], "gateway%s: LeakSanitizer reported leaks:\n%s"
                         % (where, "\n\n".join("\n".join(b[:8]) for b in leaks)))
        if expect_exit is not None:
            self.assertEqual(code, expect_exit, "gateway exit code%s; stderr:\n%s" % (where, tail(stderr)))

    def assert_sanitizer_clean(self, stderr, what="gateway"):
        reports = sanitizer_reports(stderr)
        self.assertEqual(reports, [], "%s printed sanitizer reports:\n%s" % (what, tail(stderr)))

    # -- responses

    def assert_envelope(self, status, headers, body, expected_status, expected_code):
        """A gateway error: the status, the JSON envelope with `code`, a message and the
        request id that the X-Request-Id header also carries."""
        self.assertEqual(status, expected_status, "body: %r" % body[:500])
        self.assertTrue(headers.get("content-type", "").startswith("application/json"), headers)
        try:
            doc = json.loads(body)
        except ValueError:
            self.fail("not a JSON error envelope: %r" % body[:500])
        self.assertEqual(set(doc), {"error"}, doc)
        self.assertEqual(doc["error"].get("code"), expected_code, doc)
        self.assertTrue(doc["error"].get("message"), doc)
        self.assertTrue(doc["error"].get("request_id"), doc)
        self.assertEqual(headers.get("x-request-id"), doc["error"]["request_id"], headers)
        if expected_status == 503:
            self.assertEqual(headers.get("retry-after"), "1", headers)
        return doc


# ---------------------------------------------------------------- plain requests


def timed_request(method, url, body=None, headers=None, timeout=15.0):
    """lib.http_request, also returning the elapsed seconds: (status, headers, body, seconds)."""
    started = time.monotonic()
    status, hdrs, data = lib.http_request(method, url, body=body, headers=headers, timeout=timeout)
    return status, hdrs, data, time.monotonic() - started


class KeepAliveClient:
    """One HTTP/1.1 keep-alive connection (reconnects when the server closed it)."""

    def __init__(self, host, port, timeout=15.0):
        self.host, self.port, self.timeout = host, port, timeout
        self.conn = None

    def request(self, method, path, body=None, headers=None):
        for attempt in (0, 1):
            if self.conn is None:
                self.conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
            try:
                self.conn.request(method, path, body=body, headers=headers or {})
                resp = self.conn.getresponse()
                data = resp.read()
                hdrs = {k.lower(): v for k, v in resp.getheaders()}
                if resp.will_close:
                    self.close()
                return resp.status, hdrs, data
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                # a keep-alive connection the server closed while idle: one fresh try
                self.close()
                if attempt:
                    raise
        raise AssertionError("unreachable")

    def close(self):
        if self.conn is not None:
            self.conn.close()
            self.conn = None


def run_concurrently(functions, timeout=60.0):
    """Calls every function at the same moment (one thread each, released by a barrier).
    Returns their results in order; re-raises the first exception."""
    barrier = threading.Barrier(len(functions))
    results = [None] * len(functions)
    errors = [None] * len(functions)

    def run(i, fn):
        try:
            barrier.wait(timeout)
            results[i] = fn()
        except BaseException as e:  # noqa: BLE001 - reported below
            errors[i] = e

    threads = [threading.Thread(target=run, args=(i, fn), daemon=True) for i, fn in enumerate(functions)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout)
        if t.is_alive():
            raise AssertionError("a concurrent request did not finish within %.0fs" % timeout)
    for e in errors:
        if e is not None:
            raise e
    return results


def connection_refused(host, port, timeout=1.0):
    """True when a TCP connect to host:port is refused (nothing listening)."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return False
    except ConnectionRefusedError:
        return True
    except OSError:
        return False


# ---------------------------------------------------------------- ops endpoints


def readyz(gw):
    """(status, parsed JSON) of GET <ops>/readyz; 503 is a normal answer here."""
    status, _, body = lib.http_request("GET", gw.ops_url + "/readyz", timeout=5.0)
    return status, json.loads(body)


def healthy_targets(gw, service):
    return readyz(gw)[1]["services"][service]["healthy_targets"]


def generation(gw):
    return readyz(gw)[1]["generation"]


_SAMPLE = re.compile(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{.*\})?\s+(\S+)$")


def metrics(gw):
    """GET <ops>/metrics as {"name{labels}": value}; a series without labels is just "name"."""
    status, _, body = lib.http_request("GET", gw.ops_url + "/metrics", timeout=5.0)
    assert status == 200, status
    samples = {}
    for line in body.decode("utf-8").splitlines():
        if not line or line.startswith("#"):
            continue
        m = _SAMPLE.match(line)
        if m:
            samples[m.group(1) + (m.group(2) or "")] = float(m.group(3))
    return samples


def metric_total(samples, name):
    """Sum of every series of `name` (all label sets)."""
    return sum(v for k, v in samples.items() if k == name or k.startswith(name + "{"))


# ---------------------------------------------------------------- curl and h2load


def curl_transfer(url, *args, max_time=60.0, output="/dev/null"):
    """Runs curl on one URL and reports the outcome without raising: a dict with
    exit_code, http_code, size_download, http_version, seconds and stderr.
    The body goes to `output` (/dev/null by default)."""
    argv = ["curl", "-sS", "--noproxy", "*", "--max-time", str(max_time), "-o", output,
            "-w", "%{http_code} %{size_download} %{http_version}"] + [str(a) for a in args] + [url]
    started = time.monotonic()
    proc = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=max_time + 15)
    fields = proc.stdout.decode().split()
    return {
        "exit_code": proc.returncode,
        "http_code": int(fields[0]) if fields and fields[0].isdigit() else 0,
        "size_download": int(float(fields[1])) if len(fields) > 1 else -1,
        "http_version": fields[2] if len(fields) > 2 else "",
        "seconds": time.monotonic() - started,
        "stderr": proc.stderr.decode("utf-8", "replace"),
    }


def curl_transfer_async(url, *args, max_time=60.0, output="/dev/null"):
    """Like curl_transfer, started in the background; returns (Popen, started_at).
    Finish with finish_curl()."""
    argv = ["curl", "-sS", "--noproxy", "*", "--max-time", str(max_time), "-o", output,
            "-w", "%{http_code} %{size_download} %{http_version}"] + [str(a) for a in args] + [url]
    return subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE), time.monotonic()


def finish_curl(handle, timeout=60.0):
    proc, started = handle
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
    fields = out.decode().split()
    return {
        "exit_code": proc.returncode,
        "http_code": int(fields[0]) if fields and fields[0].isdigit() else 0,
        "size_download": int(float(fields[1])) if len(fields) > 1 else -1,
        "http_version": fields[2] if len(fields) > 2 else "",
        "seconds": time.monotonic() - started,
        "stderr": err.decode("utf-8", "replace"),
    }


def h2load_available():
    return subprocess.run(["sh", "-c", "command -v h2load"], stdout=subprocess.DEVNULL).returncode == 0


_H2LOAD_REQUESTS = re.compile(r"requests: (\d+) total, (\d+) started, (\d+) done, (\d+) succeeded, (\d+) failed, "
                              r"(\d+) errored, (\d+) timeout")
_H2LOAD_STATUS = re.compile(r"status codes: (\d+) 2xx, (\d+) 3xx, (\d+) 4xx, (\d+) 5xx")


def parse_h2load(output):
    """The numbers of h2load's summary: total, started, done, succeeded, failed, errored,
    timeout, 2xx, 3xx, 4xx, 5xx (None when the summary is missing)."""
    req = _H2LOAD_REQUESTS.search(output)
    st = _H2LOAD_STATUS.search(output)
    if req is None or st is None:
        return None
    keys = ("total", "started", "done", "succeeded", "failed", "errored", "timeout")
    result = dict(zip(keys, map(int, req.groups())))
    result.update(zip(("2xx", "3xx", "4xx", "5xx"), map(int, st.groups())))
    return result


def h2load_async(args):
    """Starts h2load in the background (stdout and stderr merged); finish with finish_h2load()."""
    return subprocess.Popen(["h2load"] + [str(a) for a in args], stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)


def finish_h2load(proc, timeout=80.0):
    """Waits for h2load; returns (exit code, parsed summary or None, output text)."""
    try:
        out, _ = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, _ = proc.communicate()
    text = out.decode("utf-8", "replace")
    return proc.returncode, parse_h2load(text), text


def run_h2load(args, timeout=80.0):
    return finish_h2load(h2load_async(args), timeout)


# ---------------------------------------------------------------- memory


def rss_kb(pid):
    """VmRSS of a process in KiB (from /proc/<pid>/status)."""
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError("no VmRSS for pid %d" % pid)


# ---------------------------------------------------------------- special targets


class _SlowHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def _answer(self, with_body):
        server = self.server
        with server.lock:
            server.requests += 1
        time.sleep(server.delay)
        body = b'{"slow":true}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if with_body:
            self.wfile.write(body)

    def do_GET(self):  # noqa: N802 - BaseHTTPRequestHandler's naming
        self._answer(True)

    def do_HEAD(self):  # noqa: N802
        self._answer(False)

    def log_message(self, *args):
        pass


class SlowUpstream:
    """An HTTP/1.1 target, inside the test process, that answers every GET after
    `delay` seconds; .requests counts what reached it. A context manager."""

    def __init__(self, delay):
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), _SlowHandler)
        self.httpd.daemon_threads = True
        self.httpd.delay = delay
        self.httpd.requests = 0
        self.httpd.lock = threading.Lock()
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()

    @property
    def requests(self):
        with self.httpd.lock:
            return self.httpd.requests

    def target(self, weight=1):
        return {"host": "127.0.0.1", "port": self.port, "weight": weight}

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


@contextlib.contextmanager
def blackhole_target(probe_timeout=0.5):
    """Yields (host, port) on loopback where a TCP connect never completes: a
    listening socket with backlog 0 whose accept queue the test fills and never
    drains, so the kernel drops every further SYN. Yields None when a probe
    connect does not hang (the kernel answered after all)."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    fillers = []
    try:
        listener.bind(("127.0.0.1", 0))
        listener.listen(0)
        port = listener.getsockname()[1]
        for _ in range(4):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.setblocking(False)
            try:
                s.connect(("127.0.0.1", port))
            except (BlockingIOError, InterruptedError):
                pass
            fillers.append(s)
        time.sleep(0.1)
        probe = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        probe.settimeout(probe_timeout)
        try:
            probe.connect(("127.0.0.1", port))
            hangs = False
        except socket.timeout:
            hangs = True
        except OSError:
            hangs = False
        finally:
            probe.close()
        yield ("127.0.0.1", port) if hangs else None
    finally:
        for s in fillers:
            s.close()
        listener.close()
