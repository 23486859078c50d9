"""gateway_checks - assertions and small clients shared by the gateway's end-to-end tests
(test_gateway_protocols, test_gateway_paths, test_gateway_limits, test_gateway_observability).

yiwang_testlib starts the processes; this module answers the questions those tests keep
asking: did the gateway (or a sanitizer) complain on stderr, is this body the documented
error envelope, what did the demo upstream receive, what does a raw HTTP/1.1 exchange look
like byte for byte, and what does /metrics say. Standard library only.
"""

import json
import os
import re
import socket
import ssl
import unittest

import yiwang_testlib as lib

# A memory error or undefined behaviour: always a failure, whatever else happened.
SANITIZER_ERROR_MARKERS = ("ERROR: AddressSanitizer", "runtime error:")
# Leaks are reported when the process exits; they fail ShutdownTest in
# test_gateway_observability, so the other tests do not all fail for the same cause.
LEAK_MARKER = "ERROR: LeakSanitizer"

HEX32 = re.compile(r"^[0-9a-f]{32}$")
TRACEPARENT = re.compile(r"^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$")

# ---------------------------------------------------------------- process teardown


def _read(path):
    try:
        with open(path, "rb") as f:
            return f.read().decode("utf-8", "replace")
    except OSError:
        return ""


def sanitizer_errors(text):
    """The lines of `text` that report a memory error or undefined behaviour."""
    return [line for line in text.splitlines() if any(m in line for m in SANITIZER_ERROR_MARKERS)]


def _check_exit(what, code, text, binary):
    errors = sanitizer_errors(text)
    if errors:
        raise AssertionError("%s (%s) reported sanitizer errors:\n%s\n--- stderr tail ---\n%s"
                             % (what, binary, "\n".join(errors[:10]), text[-6000:]))
    if code not in (0, None) and LEAK_MARKER not in text:
        raise AssertionError("%s (%s) exited with %s\n--- stderr tail ---\n%s" % (what, binary, code, text[-4000:]))


def stop_gateway_checked(gw):
    """Stops the gateway (SIGTERM), then fails if it reported a sanitizer error or exited
    non-zero for any reason other than a leak report."""
    code = gw.stop()
    text = _read(gw.stderr_path)
    gw.close()
    _check_exit("gateway", code, text, gw.binary)


def stop_upstream_checked(up):
    code = up.stop()
    text = _read(up.stderr_path)
    up.close()
    _check_exit("demo upstream %s" % up.name, code, text, up.binary)


class GatewayTestCase(unittest.TestCase):
    """Starts processes whose teardown is checked for sanitizer reports. Class cleanups
    run last-in first-out, so a gateway stops before the upstreams it proxies to."""

    @classmethod
    def class_upstream(cls, name, **kwargs):
        up = lib.Upstream(name, **kwargs)
        cls.addClassCleanup(stop_upstream_checked, up)
        return up

    @classmethod
    def class_gateway(cls, config, **kwargs):
        gw = lib.Gateway(config, **kwargs)
        cls.addClassCleanup(stop_gateway_checked, gw)
        return gw

    def upstream(self, name, **kwargs):
        up = lib.Upstream(name, **kwargs)
        self.addCleanup(stop_upstream_checked, up)
        return up

    def gateway(self, config, **kwargs):
        gw = lib.Gateway(config, **kwargs)
        self.addCleanup(stop_gateway_checked, gw)
        return gw


# ---------------------------------------------------------------- openapi and the error envelope


def openapi_error_statuses():
    """{code: status} from the ErrorEnvelope table in openapi/yiwang.yaml
    ("| `code` | status | meaning |" rows), checked against the schema's enum."""
    path = os.path.join(lib.SOURCE_DIR, "openapi", "yiwang.yaml")
    with open(path, encoding="utf-8") as f:
        text = f.read()
    table = {m.group(1): int(m.group(2))
             for m in re.finditer(r"^\s*\|\s*`([a-z_]+)`\s*\|\s*(\d{3})\s*\|", text, re.M)}
    # the `enum` of ErrorEnvelope.error.code: the "- name" lines after the first "enum:" in ErrorEnvelope
    envelope = text[text.index("\n    ErrorEnvelope:"):]
    enum_at = envelope.index("enum:")
    enum = set()
    for line in envelope[enum_at:].splitlines()[1:]:
        if not line.strip().startswith("- "):
            break
        enum.add(line.strip()[2:].strip())
    if not table or set(table) != enum:
        raise AssertionError("%s: the ErrorEnvelope table %s and the code enum %s disagree"
                             % (path, sorted(table), sorted(enum)))
    return table


_OPENAPI = None


def documented_status(code):
    global _OPENAPI
    if _OPENAPI is None:
        _OPENAPI = openapi_error_statuses()
    return _OPENAPI.get(code)


def assert_error_envelope(test, status, headers, body, expected_status, expected_code):
    """The gateway's own error: the expected status, a JSON body that is exactly
    {"error": {"code", "message", "request_id"}}, the request id equal to the X-Request-Id
    header, and a code that openapi/yiwang.yaml documents with that status. Returns the
    inner "error" object."""
    test.assertEqual(status, expected_status, "status; body: %r" % (body[:300],))
    test.assertTrue(headers.get("content-type", "").startswith("application/json"),
                    "content-type %r" % headers.get("content-type"))
    try:
        envelope = json.loads(body)
    except ValueError:
        test.fail("not JSON: %r" % (body[:300],))
    test.assertEqual(set(envelope), {"error"}, envelope)
    error = envelope["error"]
    test.assertEqual(set(error), {"code", "message", "request_id"}, envelope)
    test.assertEqual(error["code"], expected_code, envelope)
    test.assertIsInstance(error["message"], str)
    test.assertTrue(error["message"].strip(), envelope)
    test.assertEqual(error["request_id"], headers.get("x-request-id"),
                     "request_id must equal the X-Request-Id header")
    test.assertEqual(documented_status(error["code"]), expected_status,
                     "code %r is not documented in openapi/yiwang.yaml with status %d"
                     % (error["code"], expected_status))
    return error


def assert_curl_error(test, result, expected_status, expected_code):
    test.assertEqual(result.exit_code, 0, "curl failed: %s" % result.stderr)
    return assert_error_envelope(test, result.status, result.headers, result.body, expected_status, expected_code)


# ---------------------------------------------------------------- the demo upstream's echo


def echo_of(test, result, service=None):
    """The demo upstream's JSON echo from a curl result (checks 200 and, if given, the service)."""
    test.assertEqual(result.exit_code, 0, "curl failed: %s" % result.stderr)
    test.assertEqual(result.status, 200, "body: %r" % (result.body[:300],))
    echo = json.loads(result.body)
    test.assertIn("headers", echo, echo)
    if service is not None:
        test.assertEqual(echo.get("service"), service, echo)
    return echo


def gateway_named_headers(echo):
    """Header names starting with x-gateway- that the upstream received."""
    return sorted(name for name in echo["headers"] if name.lower().startswith("x-gateway-"))


# ---------------------------------------------------------------- raw HTTP/1.1


class RawResponse:
    def __init__(self, status, reason, headers, body, raw):
        self.status, self.reason, self.headers, self.body, self.raw = status, reason, headers, body, raw

    def json(self):
        return json.loads(self.body)

    def __repr__(self):
        return "RawResponse(%s %r, %r)" % (self.status, self.reason, self.raw[:400])


def parse_response(data):
    """Parses the first HTTP/1.x response in `data` (Content-Length or read-to-close body).
    Returns a RawResponse, or None when `data` holds no complete head."""
    head, sep, rest = data.partition(b"\r\n\r\n")
    if not sep:
        return None
    lines = head.decode("latin-1").split("\r\n")
    parts = lines[0].split(" ", 2)
    if len(parts) < 2 or not parts[0].startswith("HTTP/1.") or not parts[1].isdigit():
        raise AssertionError("not an HTTP/1.x response: %r" % data[:200])
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        name, value = name.strip().lower(), value.strip()
        headers[name] = headers[name] + ", " + value if name in headers else value
    body = rest
    if "content-length" in headers:
        body = rest[:int(headers["content-length"])]
    return RawResponse(int(parts[1]), parts[2] if len(parts) > 2 else "", headers, body, data)


def client_tls_context(alpn=("http/1.1",)):
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    if alpn:
        ctx.set_alpn_protocols(list(alpn))
    return ctx


def connect(port, tls=False, alpn=("http/1.1",), timeout=5.0):
    """A connected socket to 127.0.0.1:port; with tls=True, after the TLS handshake."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    if tls:
        sock = client_tls_context(alpn).wrap_socket(sock, server_hostname="localhost")
    sock.settimeout(timeout)
    return sock


def read_until_close(sock, timeout=5.0):
    """Everything the peer sends until it closes (a reset counts as a close). Raises
    socket.timeout if the peer neither sends nor closes within `timeout` seconds."""
    sock.settimeout(timeout)
    chunks = []
    try:
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                break
            chunks.append(chunk)
    except (ConnectionResetError, ssl.SSLEOFError):
        pass
    return b"".join(chunks)


def read_response(sock, timeout=5.0, data=b""):
    """Reads one complete Content-Length-framed response (after the bytes already in `data`);
    returns (RawResponse, leftover bytes)."""
    sock.settimeout(timeout)
    while True:
        parsed = parse_response(data)
        if parsed is not None and "content-length" in parsed.headers:
            head_len = data.index(b"\r\n\r\n") + 4
            total = head_len + int(parsed.headers["content-length"])
            if len(data) >= total:
                return parsed, data[total:]
        chunk = sock.recv(65536)
        if not chunk:
            raise AssertionError("connection closed before a complete response: %r" % data[:300])
        data += chunk


def raw_exchange(port, request, tls=False, timeout=5.0):
    """Sends raw request bytes, reads until the gateway closes, parses the first response."""
    with connect(port, tls=tls, timeout=timeout) as sock:
        sock.sendall(request)
        data = read_until_close(sock, timeout)
    parsed = parse_response(data)
    if parsed is None:
        raise AssertionError("no HTTP response to %r: got %r" % (request[:120], data[:300]))
    return parsed


def get_request(target, host=b"gateway.test", headers=(), method=b"GET"):
    """Bytes of an HTTP/1.1 request with Connection: close; headers are (name, value) byte pairs."""
    if isinstance(target, str):
        target = target.encode("latin-1")
    lines = [method + b" " + target + b" HTTP/1.1", b"Host: " + host]
    lines += [name + b": " + value for name, value in headers]
    lines.append(b"Connection: close")
    return b"\r\n".join(lines) + b"\r\n\r\n"


# ---------------------------------------------------------------- Prometheus text format

_METRIC_LINE = re.compile(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$")
_LABEL = re.compile(r'\s*([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"\s*(?:,|$)')


def _parse_labels(text, line):
    labels, pos = {}, 0
    while pos < len(text):
        m = _LABEL.match(text, pos)
        if not m or m.end() == pos:
            raise AssertionError("malformed labels in metric line %r" % line)
        value = m.group(2).replace("\\n", "\n").replace('\\"', '"').replace("\\\\", "\\")
        labels[m.group(1)] = value
        pos = m.end()
    return labels


def parse_metrics(text):
    """Parses the Prometheus text format 0.0.4: every line is '# HELP', '# TYPE', blank
    or `name{labels} value`; anything else raises. Returns (samples, types) where samples
    is a list of (name, labels dict, float value) and types maps a family to its TYPE."""
    samples, types = [], {}
    for line in text.splitlines():
        if not line.strip():
            continue
        if line.startswith("# HELP "):
            continue
        if line.startswith("# TYPE "):
            parts = line.split()
            if len(parts) != 4 or parts[3] not in ("counter", "gauge", "histogram", "summary", "untyped"):
                raise AssertionError("malformed TYPE line %r" % line)
            types[parts[2]] = parts[3]
            continue
        if line.startswith("#"):
            continue
        m = _METRIC_LINE.match(line)
        if not m:
            raise AssertionError("malformed metric line %r" % line)
        try:
            value = float(m.group(3))
        except ValueError:
            raise AssertionError("metric line %r has no numeric value" % line)
        samples.append((m.group(1), _parse_labels(m.group(2) or "", line), value))
    return samples, types


def metric(samples, name, **labels):
    """The value of the one sample called `name` whose labels include `labels`; None if none
    matches, AssertionError if several do."""
    found = [v for n, l, v in samples if n == name and all(l.get(k) == str(x) for k, x in labels.items())]
    if len(found) > 1:
        raise AssertionError("%d samples of %s match %r" % (len(found), name, labels))
    return found[0] if found else None


def scrape(gw):
    """(samples, types, text) of GET <ops>/metrics."""
    status, headers, body = lib.http_request("GET", gw.ops_url + "/metrics")
    if status != 200:
        raise AssertionError("/metrics answered %d: %r" % (status, body[:200]))
    text = body.decode("utf-8")
    samples, types = parse_metrics(text)
    return samples, types, text
