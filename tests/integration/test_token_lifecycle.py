#!/usr/bin/env python3
"""The end of a token's life and what relying parties learn about it, against a
real MariaDB and the real binary: revocation (RFC 7009), introspection (RFC
7662), userinfo (OIDC Core §5.3), RP-initiated logout and discovery.

Every check is made with the attack or mistake it stops: another client's
revocation, a wrong hint, a public client introspecting, a token in the query,
a forged logout POST, an unregistered post-logout redirect."""

import base64
import copy
import http.client
import json
import os
import re
import sys
import time
import unittest
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import yiwang_testlib as lib  # noqa: E402
from jwt_mint import Signer  # noqa: E402
from sign_in_helpers import ISS, Browser, SignInGateway, jwt_payload, pkce_pair  # noqa: E402

RP_SCOPES = "openid profile phone email hrss:read"
RP_AFTER = "https://rp.example/signed-out"
RP2_AFTER = "https://rp2.example/bye"
FORM = {"Content-Type": "application/x-www-form-urlencoded"}
INACTIVE = {"active": False}


def basic(client_id, secret):
    pair = urllib.parse.quote(client_id, safe="") + ":" + urllib.parse.quote(secret, safe="")
    return {"Authorization": "Basic " + base64.b64encode(pair.encode()).decode()}


class TokenLifecycleTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.signer = Signer()  # a key trusted for the gateway's issuer: it signs expired tokens and ID-token hints here
        cls.partner = Signer()  # a key trusted for another issuer
        cls.env = SignInGateway({"trusted_keys": [
            {"kid": "t1", "alg": "ES256", "public_key_file": cls.signer.public_pem},
            {"kid": "p1", "alg": "ES256", "public_key_file": cls.partner.public_pem, "issuer": "https://partner.test"},
        ]})
        for client_id, after in (("rp", RP_AFTER), ("rp2", RP2_AFTER)):
            cls.env.run_cli("clients", "add", "--config", cls.env.cli_config, "--id", client_id, "--name", "RP", "--kind", "android",
                            "--first-party", "--public", "--scopes", RP_SCOPES, "--grants", "authorization_code refresh_token",
                            "--redirect-uri", "https://%s.example/cb" % client_id, "--post-logout-redirect-uri", after)
        cls.next_mobile = 13900000000

    @classmethod
    def tearDownClass(cls):
        cls.env.close()

    # ---- helpers

    def login(self, client_id="app", **extra):
        type(self).next_mobile += 1
        self.mobile = str(self.next_mobile)
        return self.env.sms_login(self.mobile, client_id=client_id, **extra)

    def raw(self, method, path, body=None, headers=None, port=None):
        """(status, [(name, value)] lower-case names, bytes)"""
        conn = http.client.HTTPConnection("127.0.0.1", port or self.env.gw.public_port, timeout=30)
        try:
            conn.request(method, path, body=body, headers=headers or {})
            resp = conn.getresponse()
            return resp.status, [(k.lower(), v) for k, v in resp.getheaders()], resp.read()
        finally:
            conn.close()

    def form(self, path, fields, headers=None):
        all_headers = dict(FORM)
        all_headers.update(headers or {})
        return self.env.request("POST", path, urllib.parse.urlencode(fields).encode(), headers=all_headers, raw=True)

    def revoke(self, token, client_id="app", secret=None, hint=None, headers=None):
        fields = {"token": token}
        if client_id is not None and secret is None:
            fields["client_id"] = client_id
        if hint is not None:
            fields["token_type_hint"] = hint
        auth = basic(client_id, secret) if secret is not None else {}
        auth.update(headers or {})
        return self.form("/oauth/revoke", fields, auth)

    def introspect(self, token, client_id="svc", secret=None):
        secret = secret if secret is not None else self.env.svc_secret
        return self.form("/oauth/introspect", {"token": token}, basic(client_id, secret))

    def proxy_status(self, token, url=None):
        return lib.curl((url or self.env.gw.public_url) + "/people/x", "-H", "Authorization: Bearer " + token,
                        check=False)[0]

    def wait_refused(self, token, urls=None, started=None):
        started = started or time.monotonic()
        for url in urls or [self.env.gw.public_url]:
            lib.wait_until(lambda: self.proxy_status(token, url) == 401, timeout=5, interval=0.05,
                           message="the token to be refused on the proxy path")
        self.assertLess(time.monotonic() - started, 2.0)

    def session_ended(self, sid):
        rows = self.env.db.query("SELECT end_reason FROM sso_sessions WHERE sid = '%s' AND ended_at IS NOT NULL" % sid)
        return rows[0][0] if rows else None

    def mint(self, claims, kid="t1", typ="at+jwt", signer=None):
        return (signer or self.signer).token(claims, kid, typ=typ)

    # ---- revocation (RFC 7009)

    def test_revoke_refresh_token_ends_its_family(self):
        first = self.login()
        rotated = self.env.refresh(first["refresh_token"])[2]["refresh_token"]
        status, headers, body = self.revoke(rotated, hint="refresh_token")
        self.assertEqual((status, body, headers["cache-control"]), (200, {}, "no-store"))
        self.assertEqual(self.env.refresh(rotated)[0:3:2], (400, {"error": "invalid_grant", "error_description":
                                                                  "The refresh token is invalid, expired or revoked."}))
        rows = self.env.db.query("SELECT COUNT(*) FROM refresh_tokens WHERE revoke_reason = 'client_revoked'")
        self.assertGreaterEqual(int(rows[0][0]), 2, "the whole family, not just the presented token")
        self.assertEqual(self.revoke(rotated)[0], 200, "revoking twice is fine")

    def test_another_client_cannot_revoke(self):
        login = self.login()
        for who in ({"client_id": "app2"}, {"client_id": "desk", "secret": self.env.desk_secret}):
            self.assertEqual(self.revoke(login["refresh_token"], **who)[0:3:2], (200, {}))
            self.assertEqual(self.revoke(login["access_token"], **who)[0:3:2], (200, {}))
        time.sleep(1.5)  # longer than the revocation feed's period: nothing may have been published
        self.assertEqual(self.proxy_status(login["access_token"]), 200)
        status, _, body = self.env.refresh(login["refresh_token"])
        self.assertEqual(status, 200, body)

    def test_wrong_hint_still_revokes(self):
        login = self.login()
        self.assertEqual(self.revoke(login["refresh_token"], hint="access_token")[0], 200)
        self.assertEqual(self.env.refresh(login["refresh_token"])[0], 400)
        started = time.monotonic()
        self.assertEqual(self.revoke(login["access_token"], hint="refresh_token")[0], 200)
        self.wait_refused(login["access_token"], started=started)
        other = self.login()
        self.assertEqual(self.revoke(other["access_token"], hint="id_token")[0], 200, "an unknown hint is only a hint")
        self.wait_refused(other["access_token"])

    def test_unknown_or_invalid_tokens_get_200(self):
        for token in ("nonsense", "a.b.c", "x" * 43):
            self.assertEqual(self.revoke(token)[0:3:2], (200, {}))

    def test_revocation_requires_client_authentication(self):
        login = self.login()
        status, headers, body = self.form("/oauth/revoke", {"token": login["refresh_token"]})
        self.assertEqual((status, body["error"]), (401, "invalid_client"))
        status, headers, body = self.revoke(login["refresh_token"], client_id="desk", secret="wrong")
        self.assertEqual((status, body["error"]), (401, "invalid_client"))
        self.assertIn("Basic", headers["www-authenticate"])
        status, _, body = self.revoke(login["refresh_token"], client_id="nosuch")
        self.assertEqual((status, body["error"]), (401, "invalid_client"))
        status, _, body = self.form("/oauth/revoke", {"token": login["refresh_token"], "client_id": "desk"})
        self.assertEqual((status, body["error"]), (401, "invalid_client"), "a confidential client must prove itself")
        status, _, body = self.form("/oauth/revoke", {"client_id": "app"})
        self.assertEqual((status, body["error"]), (400, "invalid_request"))
        self.assertEqual(self.env.request("GET", "/oauth/revoke")[0], 405)
        self.assertEqual(self.env.refresh(login["refresh_token"])[0], 200, "nothing was revoked")

    def test_revoked_access_token_is_refused_on_every_node_within_two_seconds(self):
        env = self.env
        second_cfg = copy.deepcopy(env.gw.config)
        for listener in second_cfg["listeners"].values():
            if isinstance(listener, dict):
                listener.pop("port", None)
        with lib.Gateway(second_cfg) as node_b:
            urls = [env.gw.public_url, node_b.public_url]
            login = self.login()
            token = login["access_token"]
            sibling = env.refresh(login["refresh_token"])[2]["access_token"]
            self.assertEqual(jwt_payload(token)["sid"], jwt_payload(sibling)["sid"])
            for url in urls:
                for _ in range(2):  # verified, then from the thread's token cache
                    self.assertEqual(self.proxy_status(token, url), 200)
            started = time.monotonic()
            self.assertEqual(self.revoke(token)[0], 200)
            self.wait_refused(token, urls, started)
            body = json.loads(lib.curl(urls[1] + "/people/x", "-H", "Authorization: Bearer " + token, check=False)[2])
            self.assertEqual(body["error"]["code"], "token_invalid")
            for url in urls:
                self.assertEqual(self.proxy_status(sibling, url), 200, "a sibling token of the same session lives on")

    # ---- introspection (RFC 7662)

    def test_introspect_active_access_token(self):
        login = self.login()
        status, headers, body = self.introspect(login["access_token"])
        self.assertEqual((status, headers["cache-control"]), (200, "no-store"))
        claims = jwt_payload(login["access_token"])
        self.assertIs(body["active"], True)
        self.assertEqual(body["token_type"], "Bearer")
        for name in ("scope", "client_id", "sub", "exp", "iat", "iss", "aud", "jti", "sid", "acr", "auth_time"):
            self.assertEqual(body[name], claims[name], name)
        self.assertEqual(body["client_id"], "app")

    def test_introspect_inactive_tokens(self):
        login = self.login()
        token = login["access_token"]
        tampered = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
        now = int(time.time())
        base = {"iss": ISS, "aud": "https://api.yiwang.test", "sub": "x", "client_id": "app", "scope": "profile",
                "jti": "j-%d" % now}
        expired = self.mint(dict(base, iat=now - 4000, exp=now - 3600))
        partner = self.mint(dict(base, iss="https://partner.test", iat=now, exp=now + 300), kid="p1", signer=self.partner)
        self.assertEqual(self.proxy_status(partner), 200, "valid on the proxy path, but not the gateway's own token")
        for bad in (tampered, expired, partner, "nonsense", login["refresh_token"]):
            self.assertEqual(self.introspect(bad)[0:3:2], (200, INACTIVE))
        self.assertIs(self.introspect(token)[2]["active"], True)
        self.assertEqual(self.revoke(token)[0], 200)
        self.assertEqual(self.introspect(token)[2], INACTIVE, "revoked: exact at once, not a second later")
        other = self.login()
        sid = jwt_payload(other["access_token"])["sid"]
        self.env.db.execute("UPDATE sso_sessions SET ended_at = UTC_TIMESTAMP(6), end_reason = 'admin' WHERE sid = '%s'" % sid)
        self.assertEqual(self.introspect(other["access_token"])[2], INACTIVE, "its session ended")

    def test_introspect_refresh_token_only_for_its_client(self):
        login = self.login("desk", client_secret=self.env.desk_secret)
        status, _, body = self.introspect(login["refresh_token"], "desk", self.env.desk_secret)
        self.assertEqual(status, 200)
        self.assertIs(body["active"], True)
        self.assertEqual((body["client_id"], body["token_type"]), ("desk", "refresh_token"))
        self.assertEqual(body["sid"], jwt_payload(login["access_token"])["sid"])
        self.assertEqual(body["sub"], jwt_payload(login["access_token"])["sub"])
        self.assertEqual(self.introspect(login["refresh_token"])[2], INACTIVE, "another client learns nothing")
        self.env.refresh(login["refresh_token"], client_id="desk", secret=self.env.desk_secret)
        self.assertEqual(self.introspect(login["refresh_token"], "desk", self.env.desk_secret)[2], INACTIVE, "rotated")

    def test_public_clients_may_not_introspect(self):
        login = self.login()
        status, _, body = self.form("/oauth/introspect", {"token": login["access_token"], "client_id": "app"})
        self.assertEqual((status, body["error"]), (401, "invalid_client"))
        status, _, body = self.form("/oauth/introspect", {"token": login["access_token"]})
        self.assertEqual((status, body["error"]), (401, "invalid_client"))
        status, _, body = self.introspect(login["access_token"], "svc", "wrong")
        self.assertEqual((status, body["error"]), (401, "invalid_client"))

    # ---- userinfo (OIDC Core §5.3)

    def userinfo(self, token, method="GET", path="/userinfo"):
        return self.env.request(method, path, headers={"Authorization": "Bearer " + token} if token else {})

    def test_userinfo_claims_by_scope(self):
        login = self.login("rp")
        sub = jwt_payload(login["access_token"])["sub"]
        self.env.db.execute("UPDATE accounts SET name = '张三', email = 'zhang@example.cn' WHERE id = '%s'" % sub)
        for method in ("GET", "POST"):
            status, headers, body = self.userinfo(login["access_token"], method)
            self.assertEqual((status, headers["cache-control"]), (200, "no-store"), body)
            self.assertEqual(body, {"sub": sub, "name": "张三", "phone_number": "+86" + self.mobile,
                                    "phone_number_verified": True, "email": "zhang@example.cn", "email_verified": False})
        narrow = self.login("rp", scope="openid")
        self.assertEqual(self.userinfo(narrow["access_token"])[2], {"sub": jwt_payload(narrow["access_token"])["sub"]})
        phone = self.login("rp", scope="openid phone")
        self.assertEqual(sorted(self.userinfo(phone["access_token"])[2]), ["phone_number", "phone_number_verified", "sub"])

    def test_userinfo_refusals(self):
        no_openid = self.login("app")
        status, headers, body = self.userinfo(no_openid["access_token"])
        self.assertEqual((status, body["error"]), (403, "insufficient_scope"))
        self.assertIn('error="insufficient_scope"', headers["www-authenticate"])
        login = self.login("rp")
        token = login["access_token"]
        for bad in (token[:-4] + "AAAA", "nonsense"):
            status, headers, body = self.userinfo(bad)
            self.assertEqual((status, body["error"]), (401, "invalid_token"))
            self.assertIn('Bearer realm="yiwang", error="invalid_token"', headers["www-authenticate"])
        status, headers, _ = self.userinfo(None)
        self.assertEqual(status, 401)
        self.assertTrue(headers["www-authenticate"].startswith("Bearer"))
        status, _, body = self.userinfo(None, path="/userinfo?access_token=" + token)
        self.assertEqual((status, body["error"]), (400, "invalid_request"))
        status, _, body = self.form("/userinfo", {"access_token": token})
        self.assertEqual(status, 200, body)
        status, _, body = self.form("/userinfo", {"access_token": token}, {"Authorization": "Bearer " + token})
        self.assertEqual((status, body["error"]), (400, "invalid_request"), "two tokens: which one is meant?")
        self.assertEqual(self.userinfo(token, "DELETE")[0], 405)
        self.assertEqual(self.revoke(token, client_id="rp")[0], 200)
        self.assertEqual(self.userinfo(token)[0], 401, "revoked")
        locked = self.login("rp")
        sub = jwt_payload(locked["access_token"])["sub"]
        self.env.db.execute("UPDATE accounts SET status = 'disabled' WHERE id = '%s'" % sub)
        self.assertEqual(self.userinfo(locked["access_token"])[2]["error"], "invalid_token", "account disabled")

    # ---- RP-initiated logout

    def cookies(self, sso=None, csrf=None):
        parts = []
        if sso:
            parts.append("__Host-yiwang-sso=" + sso)
        if csrf:
            parts.append("__Host-yiwang-csrf=" + csrf)
        return {"Cookie": "; ".join(parts)} if parts else {}

    def logout_get(self, params, cookies=None):
        return self.raw("GET", "/oauth/logout?" + urllib.parse.urlencode(params), headers=cookies or {})

    def logout_post(self, fields, cookies=None):
        headers = dict(FORM)
        headers.update(cookies or {})
        return self.raw("POST", "/oauth/logout", urllib.parse.urlencode(fields).encode(), headers)

    def assert_page_headers(self, headers):
        h = dict(headers)
        self.assertEqual(h["cache-control"], "no-store")
        self.assertEqual(h["x-frame-options"], "DENY")
        self.assertIn("default-src 'none'", h["content-security-policy"])
        self.assertIn("frame-ancestors 'none'", h["content-security-policy"])
        self.assertTrue(h["content-type"].startswith("text/html"))

    @staticmethod
    def set_cookie(headers, name):
        for key, value in headers:
            if key == "set-cookie" and value.startswith(name + "="):
                return value.split(";", 1)[0].split("=", 1)[1], value
        return None, None

    def join_session(self, client_id, session_id, sid):
        """Single sign-on: a browser holding the session's cookie gets `client_id` a code without credentials."""
        browser = Browser(self.env)
        browser.cookies["__Host-yiwang-sso"] = session_id
        verifier, challenge = pkce_pair()
        answer = browser.authorize(response_type="code", client_id=client_id, redirect_uri="https://%s.example/cb" % client_id,
                                   scope="openid hrss:read", state="s", code_challenge=challenge, code_challenge_method="S256")
        self.assertEqual(answer.status, 302, answer.text)
        status, _, body = self.env.token_by_code(answer.redirect_params()["code"], client_id, verifier=verifier)
        self.assertEqual(status, 200, body)
        self.assertEqual((jwt_payload(body["access_token"])["sid"], jwt_payload(body["access_token"])["client_id"]),
                         (sid, client_id))
        return body

    def test_logout_with_the_cookie_needs_the_confirmation_post(self):
        login = self.login("rp")
        token, session = login["access_token"], login["session_id"]
        sid = jwt_payload(token)["sid"]
        sibling = self.join_session("rp2", session, sid)  # another app in the same session
        self.assertEqual(self.proxy_status(sibling["access_token"]), 200)
        params = {"client_id": "rp", "post_logout_redirect_uri": RP_AFTER, "state": "s<1>&\"", "ui_locales": "en"}
        status, headers, page = self.logout_get(params, self.cookies(session))
        self.assertEqual(status, 200)
        self.assert_page_headers(headers)
        html = page.decode()
        self.assertIn('lang="en"', html)
        self.assertIn("s&lt;1&gt;&amp;&quot;", html, "the state is escaped")
        self.assertNotIn("s<1>", html)
        csrf_cookie, _ = self.set_cookie(headers, "__Host-yiwang-csrf")
        csrf_token = re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)
        self.assertIsNone(self.session_ended(sid), "a GET never logs out")

        # logout CSRF: a POST another site makes carries no valid token
        fields = dict(params)
        self.assertEqual(self.logout_post(fields, self.cookies(session, csrf_cookie))[0], 403)
        self.assertEqual(self.logout_post(dict(fields, csrf_token="A" * 43), self.cookies(session, csrf_cookie))[0], 403)
        self.assertEqual(self.logout_post(dict(fields, csrf_token=csrf_token), self.cookies(session))[0], 403)
        self.assertIsNone(self.session_ended(sid))
        self.assertEqual(self.proxy_status(token), 200)

        started = time.monotonic()
        status, headers, _ = self.logout_post(dict(fields, csrf_token=csrf_token), self.cookies(session, csrf_cookie))
        self.assertEqual(status, 302)
        self.assertEqual(dict(headers)["location"], RP_AFTER + "?state=s%3C1%3E%26%22")
        value, line = self.set_cookie(headers, "__Host-yiwang-sso")
        self.assertEqual(value, "")
        self.assertIn("Max-Age=0", line)
        self.assertEqual(self.session_ended(sid), "logout")
        for t in (token, sibling["access_token"]):
            self.wait_refused(t, started=started)
        self.assertEqual(self.env.refresh(sibling["refresh_token"], client_id="rp2")[0], 400)
        self.assertEqual(self.env.refresh(login["refresh_token"], client_id="rp")[0], 400)

    def test_logout_without_a_session_or_redirect(self):
        status, headers, page = self.logout_get({})
        self.assertEqual(status, 200)
        self.assert_page_headers(headers)
        self.assertIn("已退出登录", page.decode())

    def test_logout_redirect_uri_must_be_registered(self):
        login = self.login("rp")
        sid = jwt_payload(login["access_token"])["sid"]
        cookies = self.cookies(login["session_id"])
        for params in ({"client_id": "rp", "post_logout_redirect_uri": "https://evil.example/"},
                       {"client_id": "rp", "post_logout_redirect_uri": RP2_AFTER},
                       {"client_id": "rp", "post_logout_redirect_uri": RP_AFTER + "/"},
                       {"post_logout_redirect_uri": RP_AFTER},
                       {"client_id": "nosuch", "post_logout_redirect_uri": RP_AFTER}):
            status, headers, _ = self.logout_get(params, cookies)
            self.assertEqual(status, 400, params)
            self.assertNotIn("location", dict(headers))
            self.assert_page_headers(headers)
        self.assertIsNone(self.session_ended(sid))

    def id_token(self, login, aud, **extra):
        claims = jwt_payload(login["access_token"])
        now = int(time.time())
        body = {"iss": ISS, "sub": claims["sub"], "aud": aud, "sid": claims["sid"], "iat": now - 7200, "exp": now - 3600}
        body.update(extra)
        return self.mint(body, typ="JWT")

    def test_logout_with_an_id_token_hint(self):
        login = self.login("rp")
        sid = jwt_payload(login["access_token"])["sid"]
        hint = self.id_token(login, "rp")  # expired: a hint may be
        forged = Signer().token(jwt_payload(hint), "t1", typ="JWT")
        self.assertEqual(self.logout_get({"id_token_hint": forged})[0], 400)
        self.assertEqual(self.logout_get({"id_token_hint": hint, "client_id": "rp2"})[0], 400, "hint for another client")
        self.assertEqual(self.logout_get({"id_token_hint": hint, "post_logout_redirect_uri": RP2_AFTER})[0], 400)
        # the browser is signed in with another session: the stale hint does not sign it out without a click
        other = self.login("rp2")
        status, _, page = self.logout_get({"id_token_hint": hint}, self.cookies(other["session_id"]))
        self.assertEqual(status, 200)
        self.assertIn("csrf_token", page.decode())
        self.assertIsNone(self.session_ended(jwt_payload(other["access_token"])["sid"]))
        self.assertIsNone(self.session_ended(sid))

        started = time.monotonic()
        status, headers, _ = self.logout_get({"id_token_hint": hint, "post_logout_redirect_uri": RP_AFTER, "state": "x"})
        self.assertEqual((status, dict(headers)["location"]), (302, RP_AFTER + "?state=x"))
        self.assertEqual(self.session_ended(sid), "logout")
        self.wait_refused(login["access_token"], started=started)
        self.assertEqual(self.proxy_status(other["access_token"]), 200, "the other session lives on")

    def test_logout_with_hint_and_matching_cookie(self):
        login = self.login("rp")
        sid = jwt_payload(login["access_token"])["sid"]
        status, headers, _ = self.logout_post({"id_token_hint": self.id_token(login, "rp")}, self.cookies(login["session_id"]))
        self.assertEqual(status, 200)
        self.assertEqual(self.set_cookie(headers, "__Host-yiwang-sso")[0], "")
        self.assertEqual(self.session_ended(sid), "logout")

    # ---- discovery

    def test_discovery_document(self):
        status, headers, body = self.env.request("GET", "/.well-known/openid-configuration")
        self.assertEqual((status, headers["cache-control"]), (200, "public, max-age=300"))
        self.assertEqual(body["issuer"], ISS)
        for name, path in (("authorization_endpoint", "/oauth/authorize"), ("token_endpoint", "/oauth/token"),
                           ("userinfo_endpoint", "/userinfo"), ("jwks_uri", "/.well-known/jwks.json"),
                           ("revocation_endpoint", "/oauth/revoke"), ("introspection_endpoint", "/oauth/introspect"),
                           ("end_session_endpoint", "/oauth/logout")):
            self.assertEqual(body[name], ISS + path)
        self.assertEqual(body["response_types_supported"], ["code"])
        self.assertEqual(body["code_challenge_methods_supported"], ["S256"])
        self.assertEqual(body["id_token_signing_alg_values_supported"], ["ES256"])
        self.assertEqual(body["subject_types_supported"], ["public"])
        self.assertEqual(body["token_endpoint_auth_methods_supported"], ["client_secret_basic", "client_secret_post", "none"])
        self.assertNotIn("none", body["introspection_endpoint_auth_methods_supported"])
        self.assertEqual(body["scopes_supported"][0], "openid")
        self.assertEqual(body["acr_values_supported"], ["1", "2", "3"])
        self.assertEqual(body["ui_locales_supported"], ["zh-CN", "en"])
        self.assertIs(body["authorization_response_iss_parameter_supported"], True)
        # every advertised endpoint is served here
        for name in ("authorization_endpoint", "token_endpoint", "userinfo_endpoint", "jwks_uri", "revocation_endpoint", "introspection_endpoint",
                     "end_session_endpoint"):
            path = urllib.parse.urlsplit(body[name]).path
            self.assertNotEqual(self.raw("GET", path)[0], 404, name)
        self.assertEqual(self.env.request("POST", "/.well-known/openid-configuration")[0], 405)


if __name__ == "__main__":
    unittest.main()
