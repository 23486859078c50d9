"""yiwang_testlib - shared harness for Yiwang's integration tests (stdlib only).

Tests run in parallel under `ctest -j`, so nothing here uses fixed ports, and
every process the harness starts is tracked by PID and stopped at exit (and
killed by the kernel if the test process itself dies, via PR_SET_PDEATHSIG).

Typical use:

    from yiwang_testlib import Upstream, Gateway, make_config, service, route, curl

    with Upstream("hrss") as hrss, Upstream("tax") as tax:
        cfg = make_config([service("hrss", [hrss]), service("tax", [tax])],
                          [route("hrss", "/hrss/", "hrss"), route("tax", "/tax/", "tax")])
        with Gateway(cfg) as gw:
            status, headers, body, version = curl("--http2-prior-knowledge", gw.public_url + "/hrss/x")

Binaries come from the environment ctest sets (YIWANG_BIN, YIWANG_UPSTREAM_BIN,
YIWANG_SOURCE_DIR); when a test is run by hand they default to build/.
"""

import atexit
import copy
import ctypes
import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

SOURCE_DIR = os.environ.get("YIWANG_SOURCE_DIR") or os.path.dirname(
    os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
YIWANG_BIN = os.environ.get("YIWANG_BIN") or os.path.join(SOURCE_DIR, "build", "yiwang")
UPSTREAM_BIN = os.environ.get("YIWANG_UPSTREAM_BIN") or os.path.join(
    SOURCE_DIR, "build", "tests", "yiwang-demo-upstream")
CONFIG_SCHEMA = os.path.join(SOURCE_DIR, "schemas", "json", "config.schema.json")

# Keep temporary directories of failed runs for post-mortems: YIWANG_KEEP_TMP=1.
KEEP_TMP = os.environ.get("YIWANG_KEEP_TMP") == "1"

__all__ = [
    "SOURCE_DIR", "YIWANG_BIN", "UPSTREAM_BIN", "free_port", "wait_until", "Upstream", "Gateway",
    "make_config", "service", "route", "tls_listener", "curl", "CurlResult", "CurlError",
    "http_request", "raw_request", "gen_dev_cert",
]

# ---------------------------------------------------------------- processes

_live_processes = {}  # pid -> Popen, only processes this harness started


def _die_with_parent():
    # Runs in the child between fork and exec: if the test process is killed
    # (ctest timeout), the kernel sends SIGKILL to the child too.
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except Exception:  # noqa: BLE001 - best effort, never block the exec
        pass


def _spawn(argv, **kwargs):
    proc = subprocess.Popen(argv, preexec_fn=_die_with_parent, stdin=subprocess.DEVNULL, **kwargs)
    _live_processes[proc.pid] = proc
    return proc


def _stop_process(proc, sig=signal.SIGTERM, timeout=10.0):
    """Signals one process we started (by PID), waits, kills on timeout. Returns its exit code."""
    if proc.poll() is None:
        try:
            os.kill(proc.pid, sig)
        except ProcessLookupError:
            pass
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait()
    _live_processes.pop(proc.pid, None)
    return proc.returncode


@atexit.register
def _cleanup_all():
    for proc in list(_live_processes.values()):
        _stop_process(proc, signal.SIGKILL, timeout=5.0)


def _sigterm_to_exit(signum, frame):
    # SystemExit unwinds `with` blocks and runs atexit, so nothing outlives us.
    raise SystemExit(128 + signum)


if signal.getsignal(signal.SIGTERM) == signal.SIG_DFL:
    signal.signal(signal.SIGTERM, _sigterm_to_exit)


def _tail(path, limit=4000):
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError:
        return "(no output file)"
    text = data[-limit:].decode("utf-8", "replace")
    return text if text.strip() else "(empty)"


# ---------------------------------------------------------------- helpers


def free_port(host="127.0.0.1"):
    """A port that was free a moment ago (bind to port 0, read it back, close)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def wait_until(predicate, timeout=10.0, interval=0.05, message="condition"):
    """Polls predicate() until it returns a truthy value, which is returned; AssertionError on timeout."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise AssertionError("timed out after %.1fs waiting for %s" % (timeout, message))
        time.sleep(interval)


def _host_for_url(host):
    return "[%s]" % host if ":" in host else host


def http_request(method, url, body=None, headers=None, timeout=10.0):
    """One HTTP/1.1 request with http.client (no proxy). Returns (status, headers, body):
    headers is a dict with lower-case names (repeats joined with ", ")."""
    scheme, rest = url.split("://", 1)
    hostport, _, path = rest.partition("/")
    path = "/" + path
    if scheme == "https":
        import ssl
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        conn = http.client.HTTPSConnection(hostport, timeout=timeout, context=ctx)
    else:
        conn = http.client.HTTPConnection(hostport, timeout=timeout)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        resp = conn.getresponse()
        data = resp.read()
        merged = {}
        for name, value in resp.getheaders():
            name = name.lower()
            merged[name] = merged[name] + ", " + value if name in merged else value
        return resp.status, merged, data
    finally:
        conn.close()


def raw_request(host, port, data, timeout=5.0, read_until_close=True):
    """Sends raw bytes and returns every byte received until the peer closes
    (or until the first read when read_until_close=False). A reset counts as a close."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    chunks = []
    with socket.socket(family, socket.SOCK_STREAM) as s:
        s.settimeout(timeout)
        s.connect((host, port))
        s.sendall(data)
        try:
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    break
                chunks.append(chunk)
                if not read_until_close:
                    break
        except ConnectionResetError:
            pass
    return b"".join(chunks)


# ---------------------------------------------------------------- TLS


def gen_dev_cert(directory):
    """Creates DIR/dev.crt and DIR/dev.key (self-signed P-256, localhost + 127.0.0.1)
    unless present; returns (cert_path, key_path)."""
    os.makedirs(directory, exist_ok=True)
    script = os.path.join(SOURCE_DIR, "scripts", "gen-dev-cert.sh")
    crt, key = os.path.join(directory, "dev.crt"), os.path.join(directory, "dev.key")
    if os.path.exists(script):
        subprocess.run(["bash", script, directory], check=True, stdout=subprocess.DEVNULL)
    elif not (os.path.exists(crt) and os.path.exists(key)):
        subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
                        "-nodes", "-keyout", key, "-out", crt, "-days", "825", "-subj", "/CN=localhost",
                        "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"],
                       check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        os.chmod(key, 0o600)
    return crt, key


# ---------------------------------------------------------------- config


def _target_of(t):
    if isinstance(t, Upstream):
        return t.target()
    if isinstance(t, tuple):
        host, port = t[0], t[1]
        return {"host": host, "port": port, "weight": t[2] if len(t) > 2 else 1}
    return dict(t)


def service(name, targets, *, connect_ms=1000, response_header_ms=5000, total_ms=10000, retries=1,
            max_in_flight=1000, max_failures=3, cooldown_ms=1000, health_check=None, **extra):
    """A services[] entry. targets: Upstream objects, (host, port[, weight]) tuples or dicts.
    health_check: None (left out: no active checks), True (GET /healthz every 500 ms) or a dict.
    Extra keyword arguments (balancer, department, keepalive_timeout_ms, ...) are copied in."""
    entry = {
        "name": name,
        "targets": [_target_of(t) for t in targets],
        "timeouts": {"connect_ms": connect_ms, "response_header_ms": response_header_ms, "total_ms": total_ms},
        "retries": retries,
        "max_in_flight": max_in_flight,
        "passive_health": {"max_failures": max_failures, "cooldown_ms": cooldown_ms},
    }
    if health_check is True:
        # fast enough for tests; the schema wants timeout_ms <= interval_ms
        health_check = {"path": "/healthz", "interval_ms": 500, "timeout_ms": 500,
                        "healthy_threshold": 1, "unhealthy_threshold": 2}
    if health_check:
        entry["health_check"] = dict(health_check)
    entry.update(extra)
    return entry


def route(name, path_prefix, service_name, *, methods=None, strip_prefix=False, max_body_bytes=None, **extra):
    """A routes[] entry; methods None = all methods."""
    entry = {"name": name, "path_prefix": path_prefix, "service": service_name, "strip_prefix": strip_prefix}
    if methods is not None:
        entry["methods"] = list(methods)
    if max_body_bytes is not None:
        entry["max_body_bytes"] = max_body_bytes
    entry.update(extra)
    return entry


def tls_listener(address="127.0.0.1", port=None, certificate=None, key=None):
    """listeners.tls; a missing certificate/key is generated by Gateway into its directory."""
    listener = {"address": address}
    if port:
        listener["port"] = port
    if certificate:
        listener["certificate"] = certificate
    if key:
        listener["key"] = key
    return listener


def _deep_merge(base, overrides):
    for key, value in overrides.items():
        if value is None:
            base.pop(key, None)
        elif isinstance(value, dict) and isinstance(base.get(key), dict):
            _deep_merge(base[key], value)
        else:
            base[key] = copy.deepcopy(value)
    return base


def _schema_top_level_keys():
    """Top-level property names when the schema is strict about them, else None."""
    try:
        with open(CONFIG_SCHEMA, encoding="utf-8") as f:
            schema = json.load(f)
    except (OSError, ValueError):
        return None
    if schema.get("additionalProperties") is False and isinstance(schema.get("properties"), dict):
        return set(schema["properties"])
    return None


def make_config(services, routes, *, tls=False, threads=2, access_log="access.log", **overrides):
    """The gateway config dict (schemas/json/config.schema.json format; docs/configuration.md).

    Listener ports are left out; Gateway fills them with free ports. tls=True adds
    a TLS listener (certificate generated by Gateway); otherwise there is none.
    access_log: a path relative to the gateway's directory (default "access.log",
    read back with Gateway.access_log_lines()), "-" for stdout, False to disable
    the log, or None to leave the key out (the gateway's default, stdout).
    overrides are deep-merged at the top level; a value of None removes the key,
    e.g. make_config(s, r, listeners={"tls": tls_listener()}, limits={"max_body_bytes": 1024}).
    """
    cfg = {
        "listeners": {
            "public": {"address": "127.0.0.1"},
            "ops": {"address": "127.0.0.1"},
        },
        "threads": threads,
        "services": [copy.deepcopy(s) for s in services],
        "routes": [copy.deepcopy(r) for r in routes],
    }
    if tls:
        cfg["listeners"]["tls"] = tls_listener()
    if access_log is False:
        cfg["access_log"] = {"path": None}
    elif access_log is not None:
        cfg["access_log"] = {"path": access_log}
    _deep_merge(cfg, overrides)
    known = _schema_top_level_keys()
    if known is not None:
        unknown = set(cfg) - known
        if unknown:
            raise ValueError("config keys not in %s: %s" % (CONFIG_SCHEMA, ", ".join(sorted(unknown))))
    return cfg


# ---------------------------------------------------------------- demo upstream


class Upstream:
    """A yiwang-demo-upstream process. port=0 (default) lets it pick a free port,
    which it reports on its "listening on" line, so no port can be stolen in between."""

    def __init__(self, name="demo", port=0, host="127.0.0.1", args=(), start=True, binary=None):
        self.name = name
        self.host = host
        self.requested_port = port
        self.args = list(args)
        self.binary = binary or UPSTREAM_BIN
        self.port = None
        self.proc = None
        self.dir = tempfile.mkdtemp(prefix="yiwang-upstream-%s-" % name)
        self.stdout_path = os.path.join(self.dir, "stdout.log")
        self.stderr_path = os.path.join(self.dir, "stderr.log")
        if start:
            self.start()

    def start(self, timeout=10.0):
        port = self.requested_port if self.port is None else self.port  # a restart keeps its port
        argv = [self.binary, "--listen", "%s:%d" % (_host_for_url(self.host), port), "--name", self.name] + self.args
        with open(self.stdout_path, "wb") as out, open(self.stderr_path, "ab") as err:
            self.proc = _spawn(argv, stdout=out, stderr=err)
        deadline = time.monotonic() + timeout
        while True:
            with open(self.stdout_path, "rb") as f:
                first = f.readline()
            if first.endswith(b"\n") and first.startswith(b"listening on "):
                self.port = int(first.strip().rsplit(b":", 1)[1])
                return self
            if self.proc.poll() is not None:
                raise AssertionError("upstream %s exited with %s before listening; stderr:\n%s"
                                     % (self.name, self.proc.returncode, _tail(self.stderr_path)))
            if time.monotonic() >= deadline:
                self.kill()
                raise AssertionError("upstream %s not listening after %.0fs; stderr:\n%s"
                                     % (self.name, timeout, _tail(self.stderr_path)))
            time.sleep(0.01)

    @property
    def address(self):
        return "%s:%d" % (_host_for_url(self.host), self.port)

    @property
    def url(self):
        return "http://" + self.address

    def target(self, weight=1):
        """This upstream as a services[].targets[] entry."""
        return {"host": self.host, "port": self.port, "weight": weight}

    def request(self, method, path, body=None, headers=None, timeout=10.0):
        """(status, headers, body) straight from the upstream, bypassing the gateway."""
        return http_request(method, self.url + path, body=body, headers=headers, timeout=timeout)

    def stats(self):
        """{"requests": n, "healthz": n, "connections": accepted, "open_connections": n};
        "requests" counts everything but /__stats* and /__health/*, /healthz included."""
        status, _, body = self.request("GET", "/__stats")
        assert status == 200, status
        return json.loads(body)

    def reset_stats(self):
        self.request("POST", "/__stats/reset")

    def set_healthy(self, healthy):
        """Makes /healthz answer 200 (True) or 503 (False)."""
        status, _, _ = self.request("POST", "/__health/up" if healthy else "/__health/down")
        assert status == 200, status

    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def stop(self, timeout=5.0):
        """SIGTERM, wait, SIGKILL if needed; returns the exit code (0 expected)."""
        if self.proc is None:
            return None
        return _stop_process(self.proc, signal.SIGTERM, timeout)

    def kill(self):
        if self.proc is not None:
            return _stop_process(self.proc, signal.SIGKILL)
        return None

    def close(self):
        self.stop()
        if not KEEP_TMP:
            shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


# ---------------------------------------------------------------- gateway


class Gateway:
    """`yiwang serve --config FILE` in its own temporary directory (its cwd), with
    stdout/stderr captured there. Ready once GET <ops>/healthz answers 200."""

    def __init__(self, config, *, start=True, binary=None, env=None, ready_timeout=10.0, args=()):
        self.binary = binary or YIWANG_BIN
        self.dir = tempfile.mkdtemp(prefix="yiwang-gateway-")
        self.config_path = os.path.join(self.dir, "config.json")
        self.stdout_path = os.path.join(self.dir, "stdout.log")
        self.stderr_path = os.path.join(self.dir, "stderr.log")
        self.env = dict(os.environ, **(env or {}))
        self.args = list(args)
        self.ready_timeout = ready_timeout
        self.proc = None
        self.config = None
        self.write_config(config)
        if start:
            self.start()

    # -- config

    def _fill(self, config):
        cfg = copy.deepcopy(config)
        old = (self.config or {}).get("listeners", {})
        for name, listener in cfg.get("listeners", {}).items():
            if not isinstance(listener, dict) or listener.get("enabled") is False:
                continue
            if not listener.get("port"):
                # keep the ports of the running gateway across write_config(), so a reload
                # test does not move listeners unless it asks to
                listener["port"] = old.get(name, {}).get("port") or free_port(listener.get("address", "127.0.0.1"))
            if name == "tls" and not (listener.get("certificate") and listener.get("key")):
                crt, key = gen_dev_cert(self.dir)
                listener.setdefault("certificate", crt)
                listener.setdefault("key", key)
        return cfg

    def write_config(self, config):
        """(Re)writes the config file, filling free ports and TLS files; call reload() to apply."""
        self.config = self._fill(config)
        tmp = self.config_path + ".tmp"
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump(self.config, f, indent=2, ensure_ascii=False)
        os.replace(tmp, self.config_path)  # a reload never reads a half-written file

    def _listener(self, name):
        listener = self.config.get("listeners", {}).get(name)
        if not isinstance(listener, dict) or listener.get("enabled") is False:
            raise AttributeError("the config has no %s listener" % name)
        return listener

    def _url(self, name, scheme):
        listener = self._listener(name)
        return "%s://%s:%d" % (scheme, _host_for_url(listener.get("address", "127.0.0.1")), listener["port"])

    @property
    def public_url(self):
        return self._url("public", "http")

    @property
    def tls_url(self):
        return self._url("tls", "https")

    @property
    def ops_url(self):
        return self._url("ops", "http")

    @property
    def public_port(self):
        return self._listener("public")["port"]

    @property
    def tls_port(self):
        return self._listener("tls")["port"]

    @property
    def ops_port(self):
        return self._listener("ops")["port"]

    # -- process

    def start(self):
        argv = [self.binary, "serve", "--config", self.config_path] + self.args
        with open(self.stdout_path, "ab") as out, open(self.stderr_path, "ab") as err:
            self.proc = _spawn(argv, cwd=self.dir, stdout=out, stderr=err, env=self.env)
        self.wait_ready(self.ready_timeout)
        return self

    def _healthz_status(self):
        try:
            status, _, _ = http_request("GET", self.ops_url + "/healthz", timeout=1.0)
            return status
        except (OSError, http.client.HTTPException):
            return None

    def wait_ready(self, timeout=10.0):
        deadline = time.monotonic() + timeout
        while True:
            if self.proc.poll() is not None:
                raise AssertionError("gateway exited with %s before it was ready\ncommand: %s serve --config %s\n"
                                     "stderr:\n%s" % (self.proc.returncode, self.binary, self.config_path,
                                                      _tail(self.stderr_path)))
            if self._healthz_status() == 200:
                return
            if time.monotonic() >= deadline:
                self.kill()
                raise AssertionError("gateway not ready (GET %s/healthz != 200) after %.0fs\nstderr:\n%s"
                                     % (self.ops_url, timeout, _tail(self.stderr_path)))
            time.sleep(0.05)

    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def reload(self):
        """SIGHUP: the gateway re-reads its config file (see write_config)."""
        assert self.running(), "gateway is not running"
        os.kill(self.proc.pid, signal.SIGHUP)

    def stop(self, timeout=10.0):
        """SIGTERM, wait (SIGKILL after timeout); returns the exit code."""
        if self.proc is None:
            return None
        return _stop_process(self.proc, signal.SIGTERM, timeout)

    def kill(self):
        if self.proc is not None:
            return _stop_process(self.proc, signal.SIGKILL)
        return None

    def stderr(self):
        with open(self.stderr_path, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def stdout(self):
        with open(self.stdout_path, "rb") as f:
            return f.read().decode("utf-8", "replace")

    # -- access log

    def access_log_path(self):
        log = self.config.get("access_log", {"path": "-"})  # stdout is the gateway's default
        path = (log or {}).get("path")
        if path is None:
            return None
        if path == "-":
            return self.stdout_path
        return path if os.path.isabs(path) else os.path.join(self.dir, path)

    def access_log_lines(self, min_lines=0, timeout=5.0):
        """Parsed JSON lines of the access log (non-JSON lines skipped). The gateway
        writes the log from a background thread, so with min_lines > 0 this waits up
        to `timeout` seconds for that many lines."""
        path = self.access_log_path()
        if path is None:
            raise AssertionError("access_log is not configured")

        def read():
            lines = []
            try:
                with open(path, "rb") as f:
                    for raw in f:
                        if not raw.endswith(b"\n"):
                            break  # a line still being written
                        try:
                            lines.append(json.loads(raw))
                        except ValueError:
                            continue
            except FileNotFoundError:
                pass
            return lines

        if min_lines <= 0:
            return read()
        return wait_until(lambda: (lambda got: got if len(got) >= min_lines else None)(read()), timeout,
                          message="%d access log lines in %s" % (min_lines, path))

    def close(self):
        code = self.stop()
        if not KEEP_TMP and code == 0:
            shutil.rmtree(self.dir, ignore_errors=True)
        elif code not in (None, 0):
            sys.stderr.write("gateway exited with %s; its files are kept in %s\n" % (code, self.dir))

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


# ---------------------------------------------------------------- curl


class CurlError(AssertionError):
    def __init__(self, args, exit_code, stderr):
        super().__init__("curl %s failed with exit code %d: %s" % (" ".join(args), exit_code, stderr.strip()))
        self.exit_code = exit_code
        self.stderr = stderr


class CurlResult(tuple):
    """(status, headers, body, http_version); also .exit_code, .stderr and .json().
    headers: lower-case name -> value (repeats joined with ", ") of the final response."""

    def __new__(cls, status, headers, body, http_version, exit_code=0, stderr=""):
        self = super().__new__(cls, (status, headers, body, http_version))
        self.exit_code = exit_code
        self.stderr = stderr
        return self

    status = property(lambda self: self[0])
    headers = property(lambda self: self[1])
    body = property(lambda self: self[2])
    http_version = property(lambda self: self[3])

    def json(self):
        return json.loads(self[2])


def _parse_header_dump(data):
    # -D writes every response head (100 Continue, redirects); the last one is the answer
    blocks = [b for b in data.replace(b"\r\n", b"\n").split(b"\n\n") if b.strip()]
    headers = {}
    if not blocks:
        return headers
    for line in blocks[-1].split(b"\n")[1:]:
        name, sep, value = line.decode("latin-1").partition(":")
        if not sep:
            continue
        name, value = name.strip().lower(), value.strip()
        headers[name] = headers[name] + ", " + value if name in headers else value
    return headers


def curl(*args, check=True, timeout=30.0, input=None):
    """Runs the system curl with -sS and returns a CurlResult
    (status, headers, body bytes, http_version such as "1.1" or "2").

    Pass curl's own options: "--http1.1", "--http2-prior-knowledge" (h2c),
    "--http2", "-k" (TLS with the dev certificate), "-X", "-H", "--data-binary", ...
    check=False returns status 0 instead of raising when curl itself fails
    (connection reset, malformed response); see .exit_code and .stderr."""
    with tempfile.TemporaryDirectory(prefix="yiwang-curl-") as tmp:
        head_path, body_path = os.path.join(tmp, "head"), os.path.join(tmp, "body")
        argv = ["curl", "-sS", "--noproxy", "*", "--max-time", str(timeout), "-D", head_path, "-o", body_path,
                "-w", "%{http_code} %{http_version}"] + [str(a) for a in args]
        proc = subprocess.run(argv, input=input, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              timeout=timeout + 10)
        stderr = proc.stderr.decode("utf-8", "replace")
        if proc.returncode != 0 and check:
            raise CurlError(argv[1:], proc.returncode, stderr)
        written = proc.stdout.decode().split()
        status = int(written[0]) if written and written[0].isdigit() else 0
        version = written[1] if len(written) > 1 else ""
        headers, body = {}, b""
        if os.path.exists(head_path):
            with open(head_path, "rb") as f:
                headers = _parse_header_dump(f.read())
        if os.path.exists(body_path):
            with open(body_path, "rb") as f:
                body = f.read()
        return CurlResult(status, headers, body, version, proc.returncode, stderr)
