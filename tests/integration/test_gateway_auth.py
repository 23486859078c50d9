#!/usr/bin/env python3
"""Access tokens on the proxy path: policies, scopes, step-up, identity headers,
and every forged or stale token refused before anything reaches a department."""

import json
import os
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import yiwang_testlib as lib  # noqa: E402
from jwt_mint import Signer  # noqa: E402

ISS = "https://id.yiwang.test"
AUD = "https://api.yiwang.test"
H2C = "--http2-prior-knowledge"


def claims(**overrides):
    now = int(time.time())
    c = {"iss": ISS, "aud": AUD, "sub": "u-1001", "client_id": "hrss-app", "scope": "openid hrss:read",
         "acr": "2", "iat": now, "exp": now + 600, "jti": os.urandom(8).hex()}
    c.update(overrides)
    return {k: v for k, v in c.items() if v is not None}


class AuthTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.signer = Signer("ES256")
        cls.rsa = Signer("RS256", directory=cls.signer.dir)
        cls.stranger = Signer("ES256", directory=cls.signer.dir)
        cls.upstream = lib.Upstream("hrss")
        cls.upstream.__enter__()
        identity = {"issuer": ISS, "audiences": [AUD], "clock_skew_s": 5,
                    "trusted_keys": [{"kid": "k1", "alg": "ES256", "public_key_file": cls.signer.public_pem},
                                     {"kid": "r1", "alg": "RS256", "public_key_file": cls.rsa.public_pem}]}
        routes = [
            lib.route("user", "/user/", "hrss", strip_prefix=True, auth={"policy": "user"}),
            lib.route("scoped", "/scoped/", "hrss", auth={"policy": "user", "scopes": ["hrss:read", "hrss:write"]}),
            lib.route("verified", "/verified/", "hrss", auth={"policy": "user", "min_acr": 3}),
            lib.route("client", "/client/", "hrss", auth={"policy": "client", "scopes": ["hrss:read"]}),
            lib.route("forward", "/forward/", "hrss", auth={"policy": "user", "forward_authorization": True}),
            lib.route("public", "/public/", "hrss"),
        ]
        cfg = lib.make_config([lib.service("hrss", [cls.upstream])], routes, identity=identity)
        cls.gw = lib.Gateway(cfg)
        cls.gw.__enter__()

    @classmethod
    def tearDownClass(cls):
        stderr = cls.gw.stderr()
        cls.gw.__exit__(None, None, None)
        cls.upstream.__exit__(None, None, None)
        assert "AddressSanitizer" not in stderr and "runtime error:" not in stderr, stderr

    def call(self, path, token=None, *args, proto=()):
        headers = ["-H", "Authorization: Bearer " + token] if token is not None else []
        return lib.curl(*proto, self.gw.public_url + path, *headers, *args, check=False)

    def assert_error(self, result, status, code, challenge=None):
        self.assertEqual(result[0], status, result[2])
        body = json.loads(result[2])
        self.assertEqual(body["error"]["code"], code)
        self.assertEqual(body["error"]["request_id"], result[1].get("x-request-id"))
        if challenge is not None:
            self.assertIn(challenge, result[1].get("www-authenticate", ""))

    def test_valid_token_identity_reaches_upstream(self):
        token = self.signer.token(claims(org="91110000600037341X"), "k1")
        for proto in ((), (H2C,)):
            with self.subTest(proto=proto):
                r = self.call("/user/x", token, "-H", "X-Gateway-Subject: admin", "-H", "X-Gateway-Acr: 3", proto=proto)
                self.assertEqual(r[0], 200, r[2])
                seen = json.loads(r[2])["headers"]
                self.assertEqual(seen["x-gateway-subject"], "u-1001")  # the verified one, not the client's
                self.assertEqual(seen["x-gateway-client"], "hrss-app")
                self.assertEqual(seen["x-gateway-scopes"], "openid hrss:read")
                self.assertEqual(seen["x-gateway-acr"], "2")
                self.assertEqual(seen["x-gateway-org"], "91110000600037341X")
                self.assertNotIn("authorization", seen)
                self.assertEqual(json.loads(r[2])["path"], "/x")

    def test_rs256_key_and_forwarded_authorization(self):
        token = self.rsa.token(claims(), "r1")
        r = self.call("/forward/x", token)
        self.assertEqual(r[0], 200, r[2])
        self.assertEqual(json.loads(r[2])["headers"]["authorization"], "Bearer " + token)

    def test_missing_token(self):
        before = self.upstream.stats()["requests"]
        for proto in ((), (H2C,)):
            self.assert_error(self.call("/user/x", proto=proto), 401, "token_missing", 'Bearer realm="yiwang"')
        self.assert_error(self.call("/user/x", None, "-H", "Authorization: Basic dTpw"), 401, "token_invalid", "invalid_token")
        self.assert_error(self.call("/user/x", None, "-H", "Authorization: Bearer"), 401, "token_invalid")
        self.assertEqual(self.upstream.stats()["requests"], before)

    def test_every_forgery_is_refused(self):
        now = int(time.time())
        good = self.signer.token(claims(), "k1")
        header, payload, signature = good.split(".")
        forged_payload = header + "." + self.signer.token(claims(acr="3", sub="u-9999"), "k1").split(".")[1] + "." + signature
        attacks = {
            "alg none": self.signer.none_token(claims(), "k1"),
            "HS256 keyed with the public key": self.signer.hs256_with_public_key(claims(), "k1"),
            "ES256 under the RS256 key": self.signer.token(claims(), "r1"),
            "tampered payload": forged_payload,
            "unknown kid": self.signer.token(claims(), "nope"),
            "a stranger's key": self.stranger.token(claims(), "k1"),
            "expired": self.signer.token(claims(iat=now - 1000, exp=now - 600), "k1"),
            "not yet valid": self.signer.token(claims(nbf=now + 600), "k1"),
            "wrong audience": self.signer.token(claims(aud="https://elsewhere"), "k1"),
            "wrong issuer": self.signer.token(claims(iss="https://evil.example"), "k1"),
            "typ JWT": self.signer.token(claims(), "k1", typ="JWT"),
            "no exp": self.signer.token(claims(exp=None), "k1"),
            "header injection in sub": self.signer.token(claims(sub="u\r\nx-gateway-acr: 3"), "k1"),
        }
        before = self.upstream.stats()["requests"]
        for name, token in attacks.items():
            for proto in ((), (H2C,)):
                with self.subTest(attack=name, proto=proto):
                    self.assert_error(self.call("/user/x", token, proto=proto), 401, "token_invalid", 'error="invalid_token"')
        self.assertEqual(self.upstream.stats()["requests"], before, "a refused token never reaches the department")
        expired = self.call("/user/x", attacks["expired"])
        self.assertIn("expired", expired[1]["www-authenticate"])

    def test_refusals_are_counted_and_logged_by_reason(self):
        def refusals(reason):
            metrics = lib.curl(self.gw.ops_url + "/metrics")[2].decode()
            line = [l for l in metrics.splitlines() if l.startswith('yiwang_token_refusals_total{reason="%s"}' % reason)]
            return int(line[0].split()[-1]) if line else -1
        now = int(time.time())
        before_expired, before_alg = refusals("expired"), refusals("alg_mismatch")
        self.assertGreaterEqual(before_expired, 0)
        expired = self.signer.token(claims(iat=now - 1000, exp=now - 600), "k1")
        r = self.call("/user/x", expired, "-H", "X-Request-Id: refusal-expired")
        self.assertEqual(r[0], 401)
        self.call("/user/x", self.signer.none_token(claims(), "k1"))
        self.assertEqual(refusals("expired"), before_expired + 1)
        self.assertEqual(refusals("alg_mismatch"), before_alg + 1)
        line = lib.wait_until(lambda: [l for l in self.gw.access_log_lines() if l.get("request_id") == "refusal-expired"],
                              message="the access log line")[0]
        self.assertEqual((line["error"], line["auth_failure"]), ("token_invalid", "expired"))

    def test_token_in_query_is_refused_everywhere(self):
        token = self.signer.token(claims(), "k1")
        for path in ("/user/x?access_token=" + token, "/public/x?a=1&access_token=" + token):
            self.assert_error(self.call(path), 400, "token_in_query")
        r = self.call("/public/x?my_access_token=1")  # only the exact parameter name
        self.assertEqual(r[0], 200)
        # the refused requests are logged, but the token is not
        lines = lib.wait_until(lambda: [l for l in self.gw.access_log_lines() if "/public/x?a=1&access_token=" in l["path"]],
                               message="the access log line")
        self.assertEqual(lines[0]["path"], "/public/x?a=1&access_token=REDACTED")
        with open(self.gw.access_log_path()) as f:
            self.assertNotIn(token.split(".")[2], f.read())

    def test_scopes(self):
        self.assert_error(self.call("/scoped/x", self.signer.token(claims(), "k1")), 403, "insufficient_scope",
                          'scope="hrss:read hrss:write"')
        r = self.call("/scoped/x", self.signer.token(claims(scope="hrss:write openid hrss:read"), "k1"))
        self.assertEqual(r[0], 200, r[2])

    def test_step_up(self):
        self.assert_error(self.call("/verified/x", self.signer.token(claims(acr="2"), "k1")), 401,
                          "insufficient_user_authentication", 'acr_values="3"')
        self.assert_error(self.call("/verified/x", self.signer.token(claims(acr=None), "k1")), 401,
                          "insufficient_user_authentication")
        self.assertEqual(self.call("/verified/x", self.signer.token(claims(acr="3"), "k1"))[0], 200)

    def test_client_tokens(self):
        client = self.signer.token(claims(sub="tax-svc", client_id="tax-svc", scope="hrss:read", acr=None), "k1")
        self.assert_error(self.call("/user/x", client), 403, "user_token_required")
        r = self.call("/client/x", client)
        self.assertEqual(r[0], 200, r[2])
        self.assertEqual(json.loads(r[2])["headers"]["x-gateway-subject"], "tax-svc")
        self.assert_error(self.call("/client/x", self.signer.token(claims(sub="tax-svc", client_id="tax-svc", scope="x"), "k1")),
                          403, "insufficient_scope")

    def test_two_authorization_headers_are_ambiguous(self):
        token = self.signer.token(claims(), "k1")
        r = self.call("/user/x", token, "-H", "Authorization: Bearer " + token)
        self.assert_error(r, 401, "token_invalid")

    def test_repeated_token_is_served_from_the_cache(self):
        token = self.signer.token(claims(), "k1")
        for _ in range(50):
            self.assertEqual(self.call("/user/x", token)[0], 200)


class KeyRemovalTest(unittest.TestCase):
    def test_cached_token_stops_working_when_its_key_is_removed(self):
        signer = Signer("ES256")
        with lib.Upstream("hrss") as upstream:
            identity = {"issuer": ISS, "audiences": [AUD],
                        "trusted_keys": [{"kid": "k1", "alg": "ES256", "public_key_file": signer.public_pem}]}
            routes = [lib.route("user", "/user/", "hrss", auth={"policy": "user"})]
            cfg = lib.make_config([lib.service("hrss", [upstream])], routes, identity=identity, threads=1)
            with lib.Gateway(cfg) as gw:
                token = signer.token(claims(), "k1")
                headers = ["-H", "Authorization: Bearer " + token]
                self.assertEqual(lib.curl(gw.public_url + "/user/x", *headers, check=False)[0], 200)
                cfg["identity"]["trusted_keys"] = [{"kid": "k2", "alg": "ES256", "public_key_file": signer.public_pem}]
                gw.write_config(cfg)
                gw.reload()
                lib.wait_until(lambda: lib.curl(gw.public_url + "/user/x", *headers, check=False)[0] == 401,
                               message="the cached token to be refused after its key was removed")


if __name__ == "__main__":
    unittest.main()
