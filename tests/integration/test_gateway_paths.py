#!/usr/bin/env python3
"""End-to-end: a protected route can't be reached by spelling its path differently.

Setup: "/" goes to the service "public" (GET, POST); "/private" goes to the service
"private" (GET only). Every spelling of /private/... must be judged by the /private
route (and reach "private"), a method /private refuses must get 405 and never fall
back to "/", and spellings whose meaning differs between servers must be refused with
400 invalid_path before anything is forwarded. The upstream always receives the
normalised path.

Requests go through curl --path-as-is (HTTP/1.1 and h2c) and through raw sockets where
curl would rewrite the target. Run: python3 test_gateway_paths.py
"""

import json
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import yiwang_testlib as lib  # noqa: E402
from gateway_checks import (GatewayTestCase, assert_curl_error, assert_error_envelope, get_request,  # noqa: E402
                            raw_exchange)

H2C = "--http2-prior-knowledge"
PROTOCOLS = ((), (H2C,))

# request path -> what the private service must receive
REACH_PRIVATE = {
    "/public/../private/x": "/private/x",
    "/%2e%2e/private/x": "/private/x",
    "/%2E%2E/private/x": "/private/x",
    "/.%2e/private/x": "/private/x",
    "//private/x": "/private/x",
    "/./private/x": "/private/x",
    "/../../private/x": "/private/x",
    "/public/%2e%2e/private/x": "/private/x",
    "/PRIVATE/x": "/PRIVATE/x",
    "/PrIvAtE": "/PrIvAtE",
    "/%70rivate/x": "/private/x",
    "/%70%72%69%76%61%74%65/x": "/private/x",
    "/private;x/data": "/private;x/data",
    "/PRIVATE;jsessionid=1/x": "/PRIVATE;jsessionid=1/x",
}

INVALID = ["/a%2fb", "/a%2Fb", "/a%00b", "/a%zz", "/a%2", "/..;/private", "/%2e%2e;/private", "/..%3b/private",
           "/private/.;/x", "/a%5cb", "/a%0d%0aX-Injected:%201", "/public/..%2fprivate/x"]


class PathCase(GatewayTestCase):
    @classmethod
    def setUpClass(cls):
        cls.public = cls.class_upstream("public")
        cls.private = cls.class_upstream("private")
        timeouts = dict(connect_ms=500, response_header_ms=1000, total_ms=3000)
        cfg = lib.make_config(
            [lib.service("public", [cls.public], **timeouts), lib.service("private", [cls.private], **timeouts)],
            [lib.route("public", "/", "public", methods=["GET", "POST"]),
             lib.route("private", "/private", "private", methods=["GET"])])
        cls.gw = cls.class_gateway(cfg)

    def counts(self):
        return self.public.stats()["requests"], self.private.stats()["requests"]

    def curl_path(self, path, *args, proto=()):
        return lib.curl(*proto, "--path-as-is", self.gw.public_url + path, *args, check=False)

    def raw(self, target, method=b"GET", headers=()):
        return raw_exchange(self.gw.public_port, get_request(target, method=method, headers=headers))

    def assert_reaches(self, status, body, service, path):
        self.assertEqual(status, 200, body[:300])
        echo = json.loads(body)
        self.assertEqual((echo["service"], echo["path"]), (service, path))


class ReachPrivateTest(PathCase):
    def test_spellings_reach_private_over_curl(self):
        for path, expected in REACH_PRIVATE.items():
            for proto in PROTOCOLS:
                with self.subTest(path=path, proto=proto):
                    r = self.curl_path(path, proto=proto)
                    self.assertEqual(r.exit_code, 0, r.stderr)
                    self.assert_reaches(r.status, r.body, "private", expected)

    def test_spellings_reach_private_over_raw_http11(self):
        for path, expected in REACH_PRIVATE.items():
            with self.subTest(path=path):
                resp = self.raw(path)
                self.assert_reaches(resp.status, resp.body, "private", expected)

    def test_public_paths_stay_public(self):
        cases = {"/": "/", "/public/x": "/public/x", "/privatex": "/privatex", "/private/%2e%2e/x": "/x",
                 "/privateer/x": "/privateer/x", "/x/private": "/x/private"}
        for path, expected in cases.items():
            for proto in PROTOCOLS:
                with self.subTest(path=path, proto=proto):
                    r = self.curl_path(path, proto=proto)
                    self.assert_reaches(r.status, r.body, "public", expected)

    def test_encoded_semicolon_is_judged_like_a_raw_one(self):
        # path_normalize treats "%3B" like ";" because backends that decode before splitting off
        # path parameters see both the same way; routing must not let "%3Bx" slip past /private.
        for path in ("/private%3bx/data", "/private%3Bx/data"):
            for proto in PROTOCOLS:
                with self.subTest(path=path, proto=proto):
                    before = self.public.stats()["requests"]
                    r = self.curl_path(path, proto=proto)
                    outcome = json.loads(r.body).get("service") if r.status == 200 else r.status
                    self.assertIn(outcome, ("private", 400), "forwarded as %r: %r" % (outcome, r.body[:200]))
                    if r.status == 400:
                        assert_curl_error(self, r, 400, "invalid_path")
                    self.assertEqual(self.public.stats()["requests"], before, "must not reach the / route's service")

    def test_raw_fragment_marker_does_not_reroute(self):
        # '#' can't appear in a request target (RFC 9112 §3.2); servers that cut the path at
        # it serve /private while the router saw a segment "private#x" under "/".
        for target in ("/private#x", "/private#/../x"):
            for method in (b"GET", b"POST"):
                with self.subTest(target=target, method=method):
                    before = self.public.stats()["requests"]
                    resp = self.raw(target, method=method, headers=[(b"Content-Length", b"0")])
                    outcome = resp.json().get("service") if resp.status == 200 else resp.status
                    self.assertIn(outcome, ("private", 400, 405), "forwarded to %r: %r" % (outcome, resp))
                    self.assertEqual(self.public.stats()["requests"], before, "must not reach the / route's service")


class MethodTest(PathCase):
    def test_post_private_is_405_and_never_falls_back(self):
        before = self.counts()
        for path in ("/private/x", "/private", "/PRIVATE/x", "/public/../private/x", "/%70rivate/x"):
            for proto in PROTOCOLS:
                with self.subTest(path=path, proto=proto):
                    r = self.curl_path(path, "-X", "POST", "--data-binary", "x=1", proto=proto)
                    assert_curl_error(self, r, 405, "method_not_allowed")
                    self.assertEqual(r.headers.get("allow"), "GET, HEAD")  # GET implies HEAD
            with self.subTest(path=path, proto="raw"):
                resp = self.raw(path, method=b"POST", headers=[(b"Content-Length", b"0")])
                assert_error_envelope(self, resp.status, resp.headers, resp.body, 405, "method_not_allowed")
                self.assertEqual(resp.headers.get("allow"), "GET, HEAD")  # GET implies HEAD
        self.assertEqual(self.counts(), before, "a refused method reaches no upstream")

    def test_post_public_still_works(self):
        r = self.curl_path("/public/form", "-X", "POST", "--data-binary", "x=1")
        self.assert_reaches(r.status, r.body, "public", "/public/form")


class InvalidPathTest(PathCase):
    def test_refused_over_curl(self):
        before = self.counts()
        for path in INVALID + ["/a\\b", "/public\\..\\private\\x"]:
            for proto in PROTOCOLS:
                with self.subTest(path=path, proto=proto):
                    assert_curl_error(self, self.curl_path(path, proto=proto), 400, "invalid_path")
        self.assertEqual(self.counts(), before, "an invalid path reaches no upstream")

    def test_refused_over_raw_http11(self):
        before = self.counts()
        for path in INVALID + ["/a\\b", "/public\\..\\private\\x", "*", "http://evil.example/private/x"]:
            with self.subTest(path=path):
                resp = self.raw(path)
                assert_error_envelope(self, resp.status, resp.headers, resp.body, 400, "invalid_path")
        self.assertEqual(self.counts(), before, "an invalid path reaches no upstream")

    def test_refused_before_the_method_check(self):
        # an invalid path is refused as such, whatever the method
        r = self.curl_path("/private/a%2fb", "-X", "POST", "--data-binary", "x")
        assert_curl_error(self, r, 400, "invalid_path")

    def test_too_long(self):
        path = "/public/" + "a" * 8200
        for proto in PROTOCOLS:
            with self.subTest(proto=proto):
                assert_curl_error(self, self.curl_path(path, proto=proto), 400, "invalid_path")


class NormalisedPathTest(PathCase):
    CASES = {
        "/%41": "/A",
        "/%7euser/%5Fx": "/~user/_x",
        "/caf%c3%a9": "/caf%C3%A9",
        "/a/./b/../c": "/a/c",
        "/a//b///c": "/a/b/c",
        "/a/b/..": "/a/",
        "/a/": "/a/",
        "/%252e%252e/private": "/%252e%252e/private",
        "/a%20b": "/a%20b",
        "/a/b?q=%2e%2e/../x": "/a/b?q=%2e%2e/../x",
        "/private/%2e/x/../y": "/private/y",
    }

    def test_upstream_receives_the_normalised_path(self):
        for path, expected in self.CASES.items():
            service = "private" if expected.startswith("/private") else "public"
            for proto in PROTOCOLS:
                with self.subTest(path=path, proto=proto):
                    r = self.curl_path(path, proto=proto)
                    self.assert_reaches(r.status, r.body, service, expected)
            with self.subTest(path=path, proto="raw"):
                resp = self.raw(path)
                self.assert_reaches(resp.status, resp.body, service, expected)


if __name__ == "__main__":
    unittest.main(verbosity=2)
