#!/usr/bin/env python3
"""End-to-end: what a client of each protocol gets, and what the department service receives.

Mobile apps and mini-programs reach the gateway over HTTP/1.1, h2c and TLS (h2 or
http/1.1). Whatever the protocol, the department service must receive the same,
trustworthy request: a request id and a W3C trace it can rely on, X-Forwarded-*
set by the gateway and never by the client, no forged X-Gateway-* identity headers,
no hop-by-hop headers, and the path it expects (prefix stripped or not). Errors the
gateway generates itself must be the documented envelope.

Real binaries, real clients (curl, Python sockets and ssl); run: python3 test_gateway_protocols.py
"""

import json
import os
import re
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import yiwang_testlib as lib  # noqa: E402
from gateway_checks import (HEX32, TRACEPARENT, GatewayTestCase, assert_curl_error,  # noqa: E402
                            assert_error_envelope, connect, echo_of, gateway_named_headers, get_request,
                            raw_exchange)

H2C = "--http2-prior-knowledge"
VALID_TRACEPARENT = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
VALID_TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
VALID_PARENT_ID = "00f067aa0ba902b7"
HAN = re.compile(r"[\u4e00-\u9fff]")


class ProtocolCase(GatewayTestCase):
    """One gateway with a TLS listener; /hrss strips its prefix, /tax does not and
    allows only GET and POST. No route matches "/", so unknown paths are 404."""

    @classmethod
    def setUpClass(cls):
        cls.hrss = cls.class_upstream("hrss")
        cls.tax = cls.class_upstream("tax")
        cfg = lib.make_config(
            [lib.service("hrss", [cls.hrss], connect_ms=500, response_header_ms=1000, total_ms=3000),
             lib.service("tax", [cls.tax], connect_ms=500, response_header_ms=1000, total_ms=3000)],
            [lib.route("hrss", "/hrss", "hrss", strip_prefix=True),
             lib.route("tax", "/tax", "tax", methods=["GET", "POST"], strip_prefix=False)],
            tls=True)
        cls.gw = cls.class_gateway(cfg)

    def url(self, path):
        return self.gw.public_url + path

    def tls_url(self, path):
        return self.gw.tls_url + path

    def raw(self, target, headers=(), host=b"gateway.test", method=b"GET", tls=False):
        port = self.gw.tls_port if tls else self.gw.public_port
        return raw_exchange(port, get_request(target, host=host, headers=headers, method=method), tls=tls)

    def raw_echo(self, target, headers=(), host=b"gateway.test", service="hrss"):
        resp = self.raw(target, headers=headers, host=host)
        self.assertEqual(resp.status, 200, resp)
        echo = resp.json()
        self.assertEqual(echo["service"], service, echo)
        return resp, echo


class ProtocolsTest(ProtocolCase):
    def check_reaches_hrss(self, result, version, proto):
        self.assertEqual(result.http_version, version, "negotiated HTTP version")
        echo = echo_of(self, result, "hrss")
        self.assertEqual(echo["method"], "GET")
        self.assertEqual(echo["path"], "/ping?from=" + proto)
        self.assertEqual(result.headers.get("x-upstream"), "hrss", "the upstream's own response headers pass through")
        return echo

    def test_http11_cleartext(self):
        r = lib.curl("--http1.1", self.url("/hrss/ping?from=h1"))
        echo = self.check_reaches_hrss(r, "1.1", "h1")
        self.assertEqual(echo["headers"]["x-forwarded-proto"], "http")

    def test_h2c_prior_knowledge(self):
        r = lib.curl(H2C, self.url("/hrss/ping?from=h2c"))
        echo = self.check_reaches_hrss(r, "2", "h2c")
        self.assertEqual(echo["headers"]["x-forwarded-proto"], "http")

    def test_tls_alpn_h2(self):
        r = lib.curl("-k", "--http2", self.tls_url("/hrss/ping?from=tls-h2"))
        echo = self.check_reaches_hrss(r, "2", "tls-h2")
        self.assertEqual(echo["headers"]["x-forwarded-proto"], "https")

    def test_tls_http11(self):
        r = lib.curl("-k", "--http1.1", self.tls_url("/hrss/ping?from=tls-h1"))
        echo = self.check_reaches_hrss(r, "1.1", "tls-h1")
        self.assertEqual(echo["headers"]["x-forwarded-proto"], "https")

    def test_tls_alpn_offers_h2_first(self):
        with connect(self.gw.tls_port, tls=True, alpn=("h2", "http/1.1")) as sock:
            self.assertEqual(sock.selected_alpn_protocol(), "h2")
        with connect(self.gw.tls_port, tls=True, alpn=("http/1.1",)) as sock:
            self.assertEqual(sock.selected_alpn_protocol(), "http/1.1")

    def test_raw_http11_over_tls(self):
        resp = self.raw("/hrss/raw", tls=True)
        self.assertEqual(resp.status, 200, resp)
        self.assertEqual(resp.json()["path"], "/raw")
        self.assertEqual(resp.json()["headers"]["x-forwarded-proto"], "https")


class RequestIdTest(ProtocolCase):
    def fetch(self, *args, proto=()):
        r = lib.curl(*proto, self.url("/hrss/id"), *args)
        echo = echo_of(self, r, "hrss")
        sent = r.headers.get("x-request-id")
        received = echo["headers"].get("x-request-id")
        self.assertEqual(sent, received, "the client and the upstream must see the same request id")
        return sent

    def test_generated_when_absent(self):
        for proto in ((), (H2C,)):
            with self.subTest(proto=proto):
                ids = {self.fetch(proto=proto) for _ in range(3)}
                self.assertEqual(len(ids), 3, "every request gets its own id: %r" % ids)
                for rid in ids:
                    self.assertRegex(rid, HEX32)

    def test_kept_when_sane(self):
        for rid in ("abc-123", "A.b_c:d+e/f=g", "x" * 128):
            for proto in ((), (H2C,)):
                with self.subTest(rid=rid, proto=proto):
                    self.assertEqual(self.fetch("-H", "X-Request-Id: " + rid, proto=proto), rid)

    def test_replaced_when_insane(self):
        insane = ["x" * 129, "abc def", 'abc"def', "a<b>c", "id,other", "id\tx", "日本語"]
        for rid in insane:
            for proto in ((), (H2C,)):
                with self.subTest(rid=rid, proto=proto):
                    got = self.fetch("-H", "X-Request-Id: " + rid, proto=proto)
                    self.assertNotEqual(got, rid)
                    self.assertRegex(got, HEX32)

    def test_raw_request_id_bytes_replaced(self):
        # bytes curl would not send as they are: a CR-free but non-ASCII value
        resp, echo = self.raw_echo("/hrss/id", headers=[(b"X-Request-Id", b"\xff\xfeabc")])
        self.assertRegex(resp.headers["x-request-id"], HEX32)
        self.assertEqual(echo["headers"]["x-request-id"], resp.headers["x-request-id"])

    def test_error_envelope_uses_the_request_id(self):
        r = lib.curl(self.url("/nowhere"), "-H", "X-Request-Id: abc-123", check=False)
        error = assert_curl_error(self, r, 404, "route_not_found")
        self.assertEqual(error["request_id"], "abc-123")


class TraceContextTest(ProtocolCase):
    def fetch(self, *headers, proto=()):
        args = []
        for h in headers:
            args += ["-H", h]
        r = lib.curl(*proto, self.url("/hrss/trace"), *args)
        echo = echo_of(self, r, "hrss")
        upstream_tp = echo["headers"].get("traceparent")
        self.assertIsNotNone(upstream_tp, "the upstream always receives a traceparent")
        self.assertRegex(upstream_tp, TRACEPARENT)
        self.assertEqual(r.headers.get("traceparent"), upstream_tp,
                         "the response carries the traceparent the upstream received")
        return TRACEPARENT.match(upstream_tp).groups(), echo["headers"]

    def test_absent_starts_a_trace(self):
        for proto in ((), (H2C,)):
            with self.subTest(proto=proto):
                (trace_id, parent_id, flags), headers = self.fetch(proto=proto)
                self.assertNotEqual(trace_id, "0" * 32)
                self.assertNotEqual(parent_id, "0" * 16)
                self.assertNotIn("tracestate", headers)
                (other_trace, _, _), _ = self.fetch(proto=proto)
                self.assertNotEqual(other_trace, trace_id, "each request without a trace starts its own")

    def test_valid_is_continued(self):
        for flags in ("01", "00"):
            for proto in ((), (H2C,)):
                with self.subTest(flags=flags, proto=proto):
                    incoming = "00-%s-%s-%s" % (VALID_TRACE_ID, VALID_PARENT_ID, flags)
                    (trace_id, parent_id, got_flags), headers = self.fetch(
                        "traceparent: " + incoming, "tracestate: congo=t61rcWkgMzE,rojo=00f067aa0ba902b7", proto=proto)
                    self.assertEqual(trace_id, VALID_TRACE_ID, "same trace")
                    self.assertNotEqual(parent_id, VALID_PARENT_ID, "the gateway is a new parent")
                    self.assertNotEqual(parent_id, "0" * 16)
                    self.assertEqual(got_flags, flags, "trace flags are kept")
                    self.assertEqual(headers.get("tracestate"), "congo=t61rcWkgMzE,rojo=00f067aa0ba902b7")

    def test_invalid_starts_a_new_trace_and_drops_tracestate(self):
        invalid = [
            "garbage",
            "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",  # upper-case hex
            "00-00000000000000000000000000000000-00f067aa0ba902b7-01",  # all-zero trace id
            "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",  # all-zero parent id
            "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",  # forbidden version
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-x",  # version 00 has no extra fields
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-1",  # short flags
            "00-4bf92f3577b34da6a3ce929d0e0e473-00f067aa0ba902b7-01",  # short trace id
        ]
        for tp in invalid:
            with self.subTest(traceparent=tp):
                (trace_id, _, flags), headers = self.fetch("traceparent: " + tp, "tracestate: congo=t61rcWkgMzE")
                self.assertNotEqual(trace_id, VALID_TRACE_ID)
                self.assertNotEqual(trace_id.lower(), VALID_TRACE_ID)
                self.assertEqual(flags, "00", "a new trace is not sampled on the client's word")
                self.assertNotIn("tracestate", headers, "tracestate belongs to the discarded trace")

    def test_split_tracestate_fields_are_combined(self):
        # W3C Trace Context §3.3.1.1: multiple tracestate fields MUST be combined (RFC 9110 §5.3)
        for proto in ((), (H2C,)):
            with self.subTest(proto=proto):
                _, headers = self.fetch("traceparent: " + VALID_TRACEPARENT, "tracestate: congo=t61rcWkgMzE",
                                        "tracestate: rojo=00f067aa0ba902b7", proto=proto)
                members = [m.strip() for m in headers.get("tracestate", "").split(",") if m.strip()]
                self.assertEqual(members, ["congo=t61rcWkgMzE", "rojo=00f067aa0ba902b7"])


class ForwardedHeadersTest(ProtocolCase):
    SPOOFED = ["X-Forwarded-For: 6.6.6.6", "Forwarded: for=6.6.6.6;proto=https", "X-Real-IP: 6.6.6.6",
               "X-Forwarded-Proto: https", "X-Forwarded-Host: evil.example", "X-Forwarded-Port: 443"]

    def check_forwarded(self, headers, proto, host):
        self.assertEqual(headers.get("x-forwarded-for"), "127.0.0.1")
        self.assertEqual(headers.get("x-forwarded-proto"), proto)
        self.assertEqual(headers.get("x-forwarded-host"), host)
        for name in ("forwarded", "x-real-ip", "x-forwarded-port"):
            self.assertNotIn(name, headers)

    def test_set_by_the_gateway(self):
        cases = [((), self.url, "http"), ((H2C,), self.url, "http"), (("-k", "--http2"), self.tls_url, "https"),
                 (("-k", "--http1.1"), self.tls_url, "https")]
        for args, url, proto in cases:
            with self.subTest(args=args):
                r = lib.curl(*args, url("/hrss/fwd"), "-H", "Host: api.gov.example")
                self.check_forwarded(echo_of(self, r, "hrss")["headers"], proto, "api.gov.example")

    def test_forwarded_host_keeps_the_port(self):
        r = lib.curl(self.url("/hrss/fwd"))
        self.assertEqual(echo_of(self, r)["headers"]["x-forwarded-host"], "127.0.0.1:%d" % self.gw.public_port)

    def test_client_values_never_reach_the_upstream(self):
        for args, url, proto in (((), self.url, "http"), ((H2C,), self.url, "http"),
                                 (("-k", "--http2"), self.tls_url, "https")):
            with self.subTest(args=args):
                extra = []
                for h in self.SPOOFED:
                    extra += ["-H", h]
                r = lib.curl(*args, url("/hrss/fwd"), "-H", "Host: api.gov.example", *extra)
                self.check_forwarded(echo_of(self, r, "hrss")["headers"], proto, "api.gov.example")

    def test_repeated_spoofed_headers_over_raw_http11(self):
        headers = [(b"X-Forwarded-For", b"6.6.6.6"), (b"X-Forwarded-For", b"7.7.7.7"),
                   (b"x-forwarded-for", b"8.8.8.8"), (b"FORWARDED", b"for=6.6.6.6"), (b"X-Real-Ip", b"6.6.6.6")]
        _, echo = self.raw_echo("/hrss/fwd", headers=headers, host=b"api.gov.example")
        self.check_forwarded(echo["headers"], "http", "api.gov.example")


class ForgedIdentityTest(ProtocolCase):
    """X-Gateway-* is the identity the gateway asserts to departments; a client copy is a forgery."""

    FORGED = [("X-Gateway-Subject", "citizen-1"), ("X-GATEWAY-SUBJECT", "citizen-2"), ("x-gateway-client", "app-1"),
              ("X-Gateway-Subject", "citizen-3"), ("x-gAtEwAy-Roles", "admin"), ("X-Gateway-", "empty-suffix")]

    def test_dropped_over_http11_raw(self):
        headers = [(n.encode(), v.encode()) for n, v in self.FORGED] + [(b"X-Keep", b"1")]
        _, echo = self.raw_echo("/hrss/who", headers=headers)
        self.assertEqual(gateway_named_headers(echo), [])
        self.assertEqual(echo["headers"].get("x-keep"), "1", "ordinary headers still arrive")

    def test_dropped_over_every_protocol(self):
        args = []
        for n, v in self.FORGED:
            args += ["-H", "%s: %s" % (n, v)]
        args += ["-H", "X-Keep: 1"]
        for proto, url in (((), self.url), ((H2C,), self.url), (("-k", "--http2"), self.tls_url),
                           (("-k", "--http1.1"), self.tls_url)):
            with self.subTest(proto=proto):
                echo = echo_of(self, lib.curl(*proto, url("/hrss/who"), *args), "hrss")
                self.assertEqual(gateway_named_headers(echo), [])
                self.assertEqual(echo["headers"].get("x-keep"), "1")

    def test_dropped_even_when_connection_names_them_not(self):
        # a Connection header listing other names must not make the gateway forget the X-Gateway-* rule
        headers = [(b"Connection", b"keep-alive, x-other"), (b"X-Gateway-Subject", b"citizen-9")]
        _, echo = self.raw_echo("/hrss/who", headers=headers)
        self.assertEqual(gateway_named_headers(echo), [])


class HopByHopTest(ProtocolCase):
    def test_connection_listed_headers_dropped(self):
        headers = [(b"Connection", b"x-secret, close"), (b"X-Secret", b"1"), (b"X-Visible", b"1")]
        _, echo = self.raw_echo("/hrss/hop", headers=headers)
        self.assertNotIn("x-secret", echo["headers"])
        self.assertEqual(echo["headers"].get("x-visible"), "1")

    def test_connection_listing_is_case_insensitive_and_repeatable(self):
        headers = [(b"Connection", b"X-Secret"), (b"connection", b"X-Other-Secret , keep-alive"),
                   (b"x-secret", b"1"), (b"X-OTHER-SECRET", b"2"), (b"X-Visible", b"1")]
        _, echo = self.raw_echo("/hrss/hop", headers=headers)
        self.assertNotIn("x-secret", echo["headers"])
        self.assertNotIn("x-other-secret", echo["headers"])
        self.assertEqual(echo["headers"].get("x-visible"), "1")

    def test_standard_hop_by_hop_headers_dropped(self):
        headers = [(b"TE", b"trailers"), (b"Upgrade", b"websocket"), (b"Keep-Alive", b"timeout=5"),
                   (b"Proxy-Authorization", b"Basic Zm9vOmJhcg=="), (b"Proxy-Connection", b"keep-alive"),
                   (b"X-Visible", b"1")]
        _, echo = self.raw_echo("/hrss/hop", headers=headers)
        for name in ("te", "upgrade", "keep-alive", "proxy-authorization", "proxy-connection"):
            self.assertNotIn(name, echo["headers"])
        self.assertEqual(echo["headers"].get("x-visible"), "1")

    def test_te_and_proxy_authorization_dropped_over_h2(self):
        r = lib.curl(H2C, self.url("/hrss/hop"), "-H", "TE: trailers", "-H", "Proxy-Authorization: Basic Zm9vOmJhcg==")
        echo = echo_of(self, r, "hrss")
        self.assertNotIn("te", echo["headers"])
        self.assertNotIn("proxy-authorization", echo["headers"])

    def test_h2_cookie_fields_joined(self):
        r = lib.curl(H2C, self.url("/hrss/cookies"), "-H", "cookie: a=1", "-H", "cookie: b=2", "-H", "cookie: c=3")
        echo = echo_of(self, r, "hrss")
        self.assertEqual(echo["headers"].get("cookie"), "a=1; b=2; c=3", "one cookie header, joined with '; '")

    def test_h1_cookie_passes(self):
        r = lib.curl(self.url("/hrss/cookies"), "-H", "Cookie: a=1; b=2")
        self.assertEqual(echo_of(self, r, "hrss")["headers"].get("cookie"), "a=1; b=2")


class RoutingTest(ProtocolCase):
    def upstream_path(self, path, proto=()):
        r = lib.curl(*proto, "--path-as-is", self.url(path))
        return echo_of(self, r)["path"]

    def test_strip_prefix(self):
        cases = {"/hrss/ping": "/ping", "/hrss": "/", "/hrss/": "/", "/hrss/a/b": "/a/b", "/hrss?x=1": "/?x=1",
                 "/HRSS/ping": "/ping", "/hrss/ping/": "/ping/"}
        for path, expected in cases.items():
            for proto in ((), (H2C,)):
                with self.subTest(path=path, proto=proto):
                    self.assertEqual(self.upstream_path(path, proto), expected)

    def test_no_strip_prefix(self):
        for path in ("/tax/ping", "/tax", "/tax/", "/tax/a/b?x=1"):
            with self.subTest(path=path):
                r = lib.curl("--path-as-is", self.url(path))
                self.assertEqual(echo_of(self, r, "tax")["path"], path)

    def test_query_passed_verbatim(self):
        query = "?a=1&b=%20&c=%2F&d=%E4%B8%AD&e=&f=a+b&a=2&g=%2e%2e/x&h=%zz"
        for proto in ((), (H2C,)):
            with self.subTest(proto=proto):
                self.assertEqual(self.upstream_path("/tax/q" + query, proto), "/tax/q" + query)
                self.assertEqual(self.upstream_path("/hrss/q" + query, proto), "/q" + query)

    def test_route_not_found(self):
        for proto in ((), (H2C,)):
            with self.subTest(proto=proto):
                r = lib.curl(*proto, self.url("/nowhere/at/all"), check=False)
                assert_curl_error(self, r, 404, "route_not_found")
                # whole segments only: /hrssx is not /hrss
                assert_curl_error(self, lib.curl(*proto, self.url("/hrssx"), check=False), 404, "route_not_found")

    def test_method_not_allowed(self):
        before = self.tax.stats()["requests"]
        for method in ("DELETE", "PUT", "PATCH", "OPTIONS"):
            for proto in ((), (H2C,)):
                with self.subTest(method=method, proto=proto):
                    r = lib.curl(*proto, "-X", method, self.url("/tax/x"), check=False)
                    assert_curl_error(self, r, 405, "method_not_allowed")
                    self.assertEqual(r.headers.get("allow"), "GET, HEAD, POST")  # GET implies HEAD
        self.assertEqual(self.tax.stats()["requests"], before, "a refused method never reaches the upstream")

    def test_allowed_methods_reach_the_upstream(self):
        r = lib.curl("-X", "POST", self.url("/tax/x"), "--data-binary", "hello")
        echo = echo_of(self, r, "tax")
        self.assertEqual(echo["method"], "POST")
        self.assertEqual(echo["body_bytes"], 5)

    def test_malformed_host_is_bad_request(self):
        before = self.hrss.stats()["requests"]
        for host in (b"a/b", b"a@b", b"a\\b", b"a b"):
            with self.subTest(host=host):
                resp = self.raw("/hrss/x", host=host)
                assert_error_envelope(self, resp.status, resp.headers, resp.body, 400, "bad_request")
        self.assertEqual(self.hrss.stats()["requests"], before)


class LanguageTest(ProtocolCase):
    def error(self, accept_language, proto=()):
        args = ["-H", "Accept-Language: " + accept_language] if accept_language is not None else []
        r = lib.curl(*proto, self.url("/nowhere"), *args, check=False)
        error = assert_curl_error(self, r, 404, "route_not_found")
        self.assertIn("Accept-Language", r.headers.get("vary", ""))
        return r.headers.get("content-language"), error["message"]

    def assert_chinese(self, lang, message):
        self.assertEqual(lang, "zh-CN")
        self.assertRegex(message, HAN)
        self.assertNotRegex(message, r"[A-Za-z]")

    def assert_english(self, lang, message):
        self.assertEqual(lang, "en")
        self.assertNotRegex(message, HAN)
        self.assertTrue(message.isascii(), message)

    def test_chinese(self):
        for value in ("zh-CN,zh;q=0.9", "zh", "zh-Hans", "en;q=0.5, zh;q=0.8", "ZH-cn"):
            for proto in ((), (H2C,)):
                with self.subTest(value=value, proto=proto):
                    self.assert_chinese(*self.error(value, proto))

    def test_english(self):
        for value in ("en", None, "fr", "zh;q=0", "en-US,en;q=0.9,zh;q=0.8", "not a ;; header"):
            for proto in ((), (H2C,)):
                with self.subTest(value=value, proto=proto):
                    self.assert_english(*self.error(value, proto))

    def test_same_code_in_both_languages(self):
        zh = lib.curl(self.url("/tax/x"), "-X", "DELETE", "-H", "Accept-Language: zh-CN,zh;q=0.9", check=False)
        en = lib.curl(self.url("/tax/x"), "-X", "DELETE", "-H", "Accept-Language: en", check=False)
        zh_error = assert_curl_error(self, zh, 405, "method_not_allowed")
        en_error = assert_curl_error(self, en, 405, "method_not_allowed")
        self.assertNotEqual(zh_error["message"], en_error["message"])


class OpsIsolationTest(ProtocolCase):
    """The ops endpoints live on their own listener only; the public port has no route on "/"."""

    def test_ops_paths_are_not_served_on_the_public_port(self):
        for path in ("/metrics", "/healthz", "/readyz", "/"):
            for proto in ((), (H2C,)):
                for host in (None, "ops", "ops:65535", "127.0.0.1:%d" % self.gw.ops_port):
                    with self.subTest(path=path, proto=proto, host=host):
                        args = ["-H", "Host: " + host] if host else []
                        r = lib.curl(*proto, self.url(path), *args, check=False)
                        assert_curl_error(self, r, 404, "route_not_found")
                        self.assertNotIn(b"yiwang_", r.body)

    def test_ops_paths_are_not_served_on_the_tls_port(self):
        for path in ("/metrics", "/readyz"):
            with self.subTest(path=path):
                assert_curl_error(self, lib.curl("-k", self.tls_url(path), check=False), 404, "route_not_found")

    def test_ops_listener_answers_them(self):
        status, _, body = lib.http_request("GET", self.gw.ops_url + "/healthz")
        self.assertEqual((status, json.loads(body)), (200, {"status": "ok"}))
        status, headers, body = lib.http_request("GET", self.gw.ops_url + "/nope")
        assert_error_envelope(self, status, headers, body, 404, "not_found")


if __name__ == "__main__":
    unittest.main(verbosity=2)
