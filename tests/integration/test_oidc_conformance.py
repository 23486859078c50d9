#!/usr/bin/env python3
"""The OpenID Connect endpoints driven by an independent client library:
Authlib (Debian's python3-authlib), not code of this project, does discovery,
builds the authorization request with PKCE (S256), exchanges the code, checks
the ID token (signature from the JWKS, iss, aud, exp, iat, nonce, at_hash,
auth_time), calls userinfo, refreshes, and revokes and introspects tokens as
RFC 7009 / RFC 7662 clients. Only the person's part — filling in the login
page — is played by this test, like a browser would.

The gateway's issuer is its own loopback URL here, so that the discovery
document's endpoints are reachable and its issuer equals the URL it was
fetched from (OIDC Discovery §4.3)."""

import os
import sys
import time
import unittest
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import yiwang_testlib as lib  # noqa: E402
from sign_in_helpers import Browser, SignInGateway  # noqa: E402

# Authlib refuses plain http unless told; every request here goes to 127.0.0.1.
os.environ["AUTHLIB_INSECURE_TRANSPORT"] = "1"

import requests  # noqa: E402
from authlib.integrations.requests_client import OAuth2Session, OAuthError  # noqa: E402
from authlib.jose import JsonWebKey, jwt  # noqa: E402
from authlib.oidc.core import CodeIDToken, UserInfo  # noqa: E402

RP_REDIRECT = "https://rp.example.gov.cn/callback"
SCOPE = "openid profile phone hrss:read"
MOBILE = "13800138123"


def path_of(url):
    """The request target of an absolute URL (the test's Browser talks to the gateway directly)."""
    parts = urllib.parse.urlsplit(url)
    return parts.path + ("?" + parts.query if parts.query else "")


class OidcConformanceTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        port = lib.free_port()
        cls.issuer = "http://127.0.0.1:%d" % port
        cls.env = SignInGateway({"issuer": cls.issuer, "audiences": [cls.issuer]},
                                listeners={"public": {"address": "127.0.0.1", "port": port}})
        cls.env.run_cli("clients", "add", "--config", cls.env.cli_config, "--id", "rp", "--name", "社保 H5",
                        "--kind", "web", "--first-party", "--public", "--redirect-uri", RP_REDIRECT,
                        "--scopes", SCOPE + " email", "--grants", "authorization_code refresh_token")
        cls.rs_secret = cls.env.secret_of(cls.env.run_cli(
            "clients", "add", "--config", cls.env.cli_config, "--id", "rs", "--name", "hrss backend",
            "--kind", "department_service", "--scopes", "hrss:read", "--grants", "client_credentials"))
        cls.meta = requests.get(cls.issuer + "/.well-known/openid-configuration", timeout=10).json()
        cls.jwks = JsonWebKey.import_key_set(requests.get(cls.meta["jwks_uri"], timeout=10).json())

    @classmethod
    def tearDownClass(cls):
        cls.env.close()

    # ---- the person's part, played by the test's cookie-keeping Browser (requests' cookie jar would not
    # send the gateway's Secure cookies over loopback http, which browsers do)

    def sign_in_on_the_login_page(self, browser, authorize_url):
        """GET the authorization URL and sign in with an SMS code on the page; returns the redirect."""
        page = browser.request("GET", path_of(authorize_url))
        self.assertEqual(page.status, 200, page.text[:500])
        done = browser.sms_sign_in(page, MOBILE)
        self.assertIn(done.status, (302, 303), done.text[:500])
        return done.headers["location"]

    # ---- the relying party's part, all Authlib

    def relying_party(self):
        rp = OAuth2Session("rp", scope=SCOPE, redirect_uri=RP_REDIRECT, code_challenge_method="S256",
                           token_endpoint_auth_method="none")
        self.addCleanup(rp.close)
        return rp

    def validate_id_token(self, id_token, access_token, nonce=None):
        params = {"client_id": "rp", "access_token": access_token}
        if nonce is not None:
            params["nonce"] = nonce
        claims = jwt.decode(id_token, self.jwks, claims_cls=CodeIDToken,
                            claims_options={"iss": {"essential": True, "value": self.issuer},
                                            "auth_time": {"essential": True}},
                            claims_params=params)
        claims.validate(leeway=5)
        return claims

    def code_flow(self):
        rp = self.relying_party()
        verifier = lib_token()
        nonce = lib_token()
        url, state = rp.create_authorization_url(self.meta["authorization_endpoint"], code_verifier=verifier,
                                                 nonce=nonce)
        browser = Browser(self.env)
        callback = self.sign_in_on_the_login_page(browser, url)
        self.assertTrue(callback.startswith(RP_REDIRECT + "?"), callback)
        query = urllib.parse.parse_qs(urllib.parse.urlsplit(callback).query)
        self.assertEqual(query["iss"], [self.issuer])  # RFC 9207: the answer names its issuer
        token = rp.fetch_token(self.meta["token_endpoint"], authorization_response=callback, state=state,
                               code_verifier=verifier)
        return rp, token, nonce, browser

    def test_discovery(self):
        meta = self.meta
        self.assertEqual(meta["issuer"], self.issuer)
        for endpoint in ("authorization_endpoint", "token_endpoint", "userinfo_endpoint", "jwks_uri",
                         "revocation_endpoint", "introspection_endpoint", "end_session_endpoint"):
            self.assertTrue(meta[endpoint].startswith(self.issuer + "/"), endpoint)
        self.assertIn("code", meta["response_types_supported"])
        self.assertEqual(meta["code_challenge_methods_supported"], ["S256"])
        self.assertIn("openid", meta["scopes_supported"])
        self.assertIn("public", meta["subject_types_supported"])
        self.assertIn("ES256", meta["id_token_signing_alg_values_supported"])
        self.assertTrue(meta["authorization_response_iss_parameter_supported"])

    def test_code_flow_with_pkce_id_token_userinfo_and_refresh(self):
        rp, token, nonce, _ = self.code_flow()
        self.assertEqual(token["token_type"].lower(), "bearer")
        self.assertEqual(set(token["scope"].split()), set(SCOPE.split()))
        claims = self.validate_id_token(token["id_token"], token["access_token"], nonce)
        self.assertEqual(claims["aud"], "rp")
        self.assertIn("sid", claims)

        info = rp.get(self.meta["userinfo_endpoint"], timeout=30)
        self.assertEqual(info.status_code, 200, info.text)
        userinfo = UserInfo(info.json())
        self.assertEqual(userinfo["sub"], claims["sub"])  # OIDC Core §5.3.2: the same subject
        self.assertEqual(userinfo["phone_number"], "+86" + MOBILE)
        self.assertNotIn("email", userinfo)  # not asked for

        refreshed = rp.refresh_token(self.meta["token_endpoint"], refresh_token=token["refresh_token"])
        self.assertNotEqual(refreshed["refresh_token"], token["refresh_token"])  # rotated
        # OIDC Core §12.2: an ID token from a refresh has the same iss, sub, aud and auth_time, and no nonce
        again = self.validate_id_token(refreshed["id_token"], refreshed["access_token"])
        for claim in ("iss", "sub", "aud", "auth_time", "sid"):
            self.assertEqual(again[claim], claims[claim], claim)
        self.assertNotIn("nonce", again)

    def test_revocation_and_introspection(self):
        rp, token, _, _ = self.code_flow()
        rs = OAuth2Session("rs", self.rs_secret, token_endpoint_auth_method="client_secret_basic")
        self.addCleanup(rs.close)
        seen = rs.introspect_token(self.meta["introspection_endpoint"], token=token["access_token"]).json()
        self.assertTrue(seen["active"])
        self.assertEqual(seen["client_id"], "rp")
        self.assertIn("hrss:read", seen["scope"].split())

        revoked = rp.revoke_token(self.meta["revocation_endpoint"], token=token["refresh_token"],
                                  token_type_hint="refresh_token")
        self.assertEqual(revoked.status_code, 200)
        with self.assertRaises(OAuthError) as refused:
            rp.refresh_token(self.meta["token_endpoint"], refresh_token=token["refresh_token"])
        self.assertEqual(refused.exception.error, "invalid_grant")

        self.assertEqual(rp.revoke_token(self.meta["revocation_endpoint"], token=token["access_token"]).status_code, 200)
        deadline = time.monotonic() + 5
        while rs.introspect_token(self.meta["introspection_endpoint"], token=token["access_token"]).json()["active"]:
            self.assertLess(time.monotonic(), deadline, "the revoked access token is still active")
            time.sleep(0.1)

    def test_sso_second_authorization_needs_no_credentials(self):
        _, token, _, browser = self.code_flow()
        rp = self.relying_party()
        verifier, nonce = lib_token(), lib_token()
        url, state = rp.create_authorization_url(self.meta["authorization_endpoint"], code_verifier=verifier,
                                                 nonce=nonce)
        answer = browser.request("GET", path_of(url))  # the SSO cookie alone
        self.assertEqual(answer.status, 302, answer.text[:500])
        second = rp.fetch_token(self.meta["token_endpoint"], authorization_response=answer.headers["location"],
                                state=state, code_verifier=verifier)
        first_claims = self.validate_id_token(token["id_token"], token["access_token"])
        second_claims = self.validate_id_token(second["id_token"], second["access_token"], nonce)
        self.assertEqual(second_claims["sid"], first_claims["sid"])
        self.assertEqual(second_claims["auth_time"], first_claims["auth_time"])  # no new sign-in happened


def lib_token():
    """A random value for nonce and code_verifier: 43 unreserved characters (RFC 7636 §4.1)."""
    from authlib.common.security import generate_token
    return generate_token(43)


if __name__ == "__main__":
    unittest.main()
