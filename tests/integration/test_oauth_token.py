#!/usr/bin/env python3
"""POST /oauth/token with the client_credentials grant (RFC 6749 §4.4): client
authentication (client_secret_basic / client_secret_post), scopes, RFC 6749
error answers, and the issued access token working on a protected route.

Uses a real MariaDB (mariadb_fixture)."""

import base64
import json
import os
import subprocess
import sys
import tempfile
import unittest
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import yiwang_testlib as lib  # noqa: E402
from mariadb_fixture import MariaDB  # noqa: E402

ISS = "https://id.yiwang.test"
AUD = "https://api.yiwang.test"


def b64url_json(part):
    return json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))


class TokenEndpointTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.TemporaryDirectory(prefix="yiwang-token-")
        cls.db = MariaDB()
        master = os.path.join(cls.dir.name, "master.key")
        with open(os.open(master, os.O_WRONLY | os.O_CREAT, 0o600), "w") as f:
            f.write(os.urandom(32).hex() + "\n")
        identity = {"issuer": ISS, "audiences": [AUD], "master_key_file": master}
        cli = os.path.join(cls.dir.name, "cli.json")
        with open(cli, "w") as f:
            json.dump({"database": {"dsn": cls.db.dsn}, "identity": identity}, f)
        cls.run_cli("migrate", "--config", cli)
        cls.run_cli("keys", "rotate", "--if-none", "--config", cli)
        out = cls.run_cli("clients", "add", "--config", cli, "--id", "tax-svc", "--name", "税务 service",
                          "--kind", "department_service", "--scopes", "hrss:read hrss:write", "--grants", "client_credentials")
        cls.secret = dict(line.split(" ", 1) for line in out.splitlines())["client_secret"]
        cls.run_cli("clients", "add", "--config", cli, "--id", "h5-app", "--name", "H5", "--kind", "web", "--public",
                    "--grants", "client_credentials")
        out = cls.run_cli("clients", "add", "--config", cli, "--id", "no-cc", "--name", "x", "--kind", "third_party",
                          "--grants", "authorization_code")
        cls.no_cc_secret = dict(line.split(" ", 1) for line in out.splitlines())["client_secret"]

        cls.upstream = lib.Upstream("hrss")
        cls.upstream.__enter__()
        routes = [lib.route("hrss", "/hrss/", "hrss", auth={"policy": "client", "scopes": ["hrss:read"]})]
        cfg = lib.make_config([lib.service("hrss", [cls.upstream])], routes, database={"dsn": cls.db.dsn}, identity=identity)
        cls.gw = lib.Gateway(cfg)
        cls.gw.__enter__()

    @classmethod
    def tearDownClass(cls):
        stderr = cls.gw.stderr()
        cls.gw.__exit__(None, None, None)
        cls.upstream.__exit__(None, None, None)
        cls.db.close()
        cls.dir.cleanup()
        assert "AddressSanitizer" not in stderr and "runtime error:" not in stderr, stderr

    @staticmethod
    def run_cli(*args):
        result = subprocess.run([lib.YIWANG_BIN, *args], capture_output=True, text=True, timeout=60)
        if result.returncode != 0:
            raise AssertionError("yiwang %s: %s" % (" ".join(args), result.stderr))
        return result.stdout

    def token_request(self, form, basic=None, content_type="application/x-www-form-urlencoded", method="POST"):
        headers = {"Content-Type": content_type}
        if basic is not None:
            pair = urllib.parse.quote(basic[0], safe="") + ":" + urllib.parse.quote(basic[1], safe="")
            headers["Authorization"] = "Basic " + base64.b64encode(pair.encode()).decode()
        body = form if isinstance(form, bytes) else urllib.parse.urlencode(form).encode()
        status, headers, body = lib.http_request(method, self.gw.public_url + "/oauth/token", body=body, headers=headers)
        return status, headers, json.loads(body) if body else None

    def test_basic_auth_issues_an_rfc9068_token_that_opens_the_route(self):
        status, headers, body = self.token_request({"grant_type": "client_credentials"}, basic=("tax-svc", self.secret))
        self.assertEqual(status, 200, body)
        self.assertEqual(headers["cache-control"], "no-store")
        self.assertEqual(body["token_type"], "Bearer")
        self.assertEqual(body["expires_in"], 600)
        self.assertEqual(body["scope"], "hrss:read hrss:write")
        header, payload, _ = body["access_token"].split(".")
        header, payload = b64url_json(header), b64url_json(payload)
        self.assertEqual(header["typ"], "at+jwt")
        self.assertEqual(header["alg"], "ES256")
        jwks = json.loads(lib.http_request("GET", self.gw.public_url + "/.well-known/jwks.json")[2])
        self.assertIn(header["kid"], [k["kid"] for k in jwks["keys"]])
        for claim in ("iss", "sub", "aud", "exp", "iat", "jti", "client_id", "scope"):
            self.assertIn(claim, payload)
        self.assertEqual((payload["iss"], payload["aud"], payload["sub"], payload["client_id"]), (ISS, AUD, "tax-svc", "tax-svc"))
        self.assertEqual(payload["exp"] - payload["iat"], 600)
        r = lib.curl(self.gw.public_url + "/hrss/x", "-H", "Authorization: Bearer " + body["access_token"], check=False)
        self.assertEqual(r[0], 200, r[2])
        seen = json.loads(r[2])["headers"]
        self.assertEqual((seen["x-gateway-subject"], seen["x-gateway-client"]), ("tax-svc", "tax-svc"))

    def test_post_auth_and_a_narrower_scope(self):
        status, _, body = self.token_request({"grant_type": "client_credentials", "client_id": "tax-svc",
                                              "client_secret": self.secret, "scope": "hrss:write"})
        self.assertEqual(status, 200, body)
        self.assertEqual(body["scope"], "hrss:write")
        r = lib.curl(self.gw.public_url + "/hrss/x", "-H", "Authorization: Bearer " + body["access_token"], check=False)
        self.assertEqual(r[0], 403)  # the route needs hrss:read

    def test_client_authentication_failures_look_alike(self):
        cases = [(("tax-svc", "wrong"), "basic"), (("nobody", self.secret), "basic"), (("tax-svc", self.secret[:-1]), "post")]
        for (client_id, secret), how in cases:
            with self.subTest(client=client_id, how=how):
                if how == "basic":
                    status, headers, body = self.token_request({"grant_type": "client_credentials"}, basic=(client_id, secret))
                    self.assertIn("Basic", headers.get("www-authenticate", ""))
                else:
                    status, headers, body = self.token_request({"grant_type": "client_credentials", "client_id": client_id,
                                                                "client_secret": secret})
                self.assertEqual(status, 401)
                self.assertEqual(body, {"error": "invalid_client", "error_description": "Client authentication failed."})

    def test_request_errors(self):
        ok = ("tax-svc", self.secret)
        cases = [
            ({"grant_type": "password", "username": "a", "password": "b"}, ok, 400, "unsupported_grant_type"),
            ({}, ok, 400, "invalid_request"),
            ({"grant_type": "client_credentials", "scope": "tax:admin"}, ok, 400, "invalid_scope"),
            ({"grant_type": "client_credentials", "client_secret": self.secret}, ok, 400, "invalid_request"),
            ({"grant_type": "client_credentials"}, None, 401, "invalid_client"),
            ({"grant_type": "client_credentials", "client_id": "h5-app"}, None, 401, "invalid_client"),  # public: no secret
            ({"grant_type": "client_credentials"}, ("no-cc", self.no_cc_secret), 400, "unauthorized_client"),
        ]
        for form, basic, status, error in cases:
            with self.subTest(form=form, error=error):
                got_status, _, body = self.token_request(form, basic=basic)
                self.assertEqual((got_status, body["error"]), (status, error), body)
        status, _, body = self.token_request(b"grant_type=client_credentials&grant_type=client_credentials", basic=ok)
        self.assertEqual((status, body["error"]), (400, "invalid_request"))
        status, _, body = self.token_request(b'{"grant_type":"client_credentials"}', basic=ok, content_type="application/json")
        self.assertEqual((status, body["error"]), (400, "invalid_request"))
        status, headers, body = lib.http_request("GET", self.gw.public_url + "/oauth/token")
        self.assertEqual(status, 405)
        self.assertEqual(headers["allow"], "POST")


if __name__ == "__main__":
    unittest.main()
