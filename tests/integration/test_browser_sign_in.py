#!/usr/bin/env python3
"""The browser sign-in flow against a real MariaDB and the real binary:
GET /oauth/authorize, the gateway's login page (SMS code and password), the
consent page, single sign-on with the SSO cookie, and POST /oauth/token with
grant_type=authorization_code (PKCE, ID token) — and the attacks each check
stops: PKCE downgrade and missing/wrong verifiers, code replay, expired codes,
codes of another client, redirect URI mismatches (never an open redirect),
login CSRF, HTML injection through state or a client's name, and secrets in
the access log."""

import base64
import hashlib
import json
import os
import sys
import time
import unittest
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sign_in_helpers import ISS, Browser, SignInGateway, jwt_payload, pkce_pair  # noqa: E402

INVALID_CODE = {"error": "invalid_grant", "error_description": "The authorization code is invalid, expired or used."}
CSP = "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'"


def at_hash(token):
    digest = hashlib.sha256(token.encode()).digest()
    return base64.urlsafe_b64encode(digest[:16]).rstrip(b"=").decode()


class BrowserSignInTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.env = SignInGateway()
        cls.env.add_browser_clients()
        cls.next_mobile = 13900000000

    @classmethod
    def tearDownClass(cls):
        cls.env.close()

    def new_mobile(self):
        type(self).next_mobile += 1
        return str(self.next_mobile)

    def params(self, client_id="h5", challenge=None, **extra):
        p = {"response_type": "code", "client_id": client_id, "redirect_uri": "https://%s.example/cb" % client_id,
             "scope": "openid profile", "state": "st-" + client_id, "nonce": "n-0S6_WzA2Mj"}
        if challenge is not None:
            p.update(code_challenge=challenge, code_challenge_method="S256")
        p.update(extra)
        return {k: v for k, v in p.items() if v is not None}

    def assert_page_headers(self, resp):
        self.assertEqual(resp.headers["cache-control"], "no-store")
        self.assertEqual(resp.headers["x-frame-options"], "DENY")
        self.assertEqual(resp.headers["referrer-policy"], "no-referrer")
        self.assertEqual(resp.headers["content-security-policy"], CSP)

    def sign_in(self, browser, client_id="h5", mobile=None, **extra):
        """The whole flow through the login page; returns (code params, verifier, mobile)."""
        mobile = mobile or self.new_mobile()
        verifier, challenge = pkce_pair()
        page = browser.authorize(**self.params(client_id, challenge, **extra))
        self.assertEqual(page.status, 200, page.text)
        done = browser.sms_sign_in(page, mobile)
        self.assertEqual(done.status, 303, done.text)
        return done.redirect_params(), verifier, mobile

    def tokens(self, code, client_id="h5", verifier=None, **kwargs):
        status, headers, body = self.env.token_by_code(code, client_id, verifier=verifier, **kwargs)
        self.assertEqual(status, 200, body)
        self.assertEqual(headers["cache-control"], "no-store")
        return body

    # ---- the flow

    def test_code_flow_with_pkce_via_sms_on_the_login_page(self):
        browser = Browser(self.env)
        verifier, challenge = pkce_pair()
        page = browser.authorize(**self.params("h5", challenge))
        self.assertEqual(page.status, 200)
        self.assertTrue(page.headers["content-type"].startswith("text/html"))
        self.assert_page_headers(page)
        self.assertIn('lang="zh-CN"', page.text)
        self.assertIn("__Host-yiwang-csrf", browser.cookies)
        mobile = self.new_mobile()
        done = browser.sms_sign_in(page, mobile)
        self.assertEqual(done.status, 303)
        self.assert_page_headers(done)
        self.assertTrue(done.location.startswith("https://h5.example/cb?code="), done.location)
        got = done.redirect_params()
        self.assertEqual(sorted(got), ["code", "iss", "state"])
        self.assertEqual((got["state"], got["iss"]), ("st-h5", ISS))
        body = self.tokens(got["code"], verifier=verifier)
        self.assertEqual(sorted(body), ["access_token", "expires_in", "id_token", "refresh_token", "scope", "token_type"])
        self.assertEqual(body["scope"], "openid profile")
        access, idt = jwt_payload(body["access_token"]), jwt_payload(body["id_token"])
        self.assertEqual((idt["iss"], idt["aud"], idt["nonce"]), (ISS, "h5", "n-0S6_WzA2Mj"))
        self.assertEqual(idt["sub"], self.env.account_id(mobile))
        self.assertEqual(idt["sub"], access["sub"])
        self.assertEqual(idt["sid"], access["sid"])
        self.assertEqual(idt["at_hash"], at_hash(body["access_token"]))
        self.assertEqual((idt["acr"], idt["amr"]), ("1", ["sms"]))
        self.assertEqual(idt["auth_time"], access["auth_time"])
        self.assertLessEqual(abs(idt["iat"] - time.time()), 60)
        part = body["id_token"].split(".")[0]
        header = json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))
        status, _, jwks = self.env.request("GET", "/.well-known/jwks.json")
        self.assertEqual(header["typ"], "JWT")
        self.assertIn(header["kid"], [key["kid"] for key in jwks["keys"]])
        self.assertEqual(idt["azp"], "h5")
        self.assertGreater(idt["exp"], idt["iat"])
        status, seen = self.env.upstream_sees("/people/x", body["access_token"])
        self.assertEqual((status, seen["headers"]["x-gateway-subject"]), (200, idt["sub"]))
        # the refresh grant of an OpenID grant returns a new ID token, without nonce (OIDC Core §12.2)
        status, _, again = self.env.refresh(body["refresh_token"], client_id="h5")
        self.assertEqual(status, 200, again)
        second = jwt_payload(again["id_token"])
        self.assertEqual((second["sub"], second["aud"], second["sid"]), (idt["sub"], "h5", idt["sid"]))
        self.assertNotIn("nonce", second)
        self.assertEqual(second["at_hash"], at_hash(again["access_token"]))

    def test_password_login_on_the_page_for_a_confidential_client(self):
        mobile = self.new_mobile()
        tokens = self.env.sms_login(mobile)
        status, _, body = self.env.set_password({"new_password": "browser-pw-1"},
                                                headers={"Authorization": "Bearer " + tokens["access_token"]})
        self.assertEqual(status, 200, body)
        browser = Browser(self.env)
        page = browser.authorize(**self.params("web"))  # a confidential client may do without PKCE
        self.assertEqual(page.status, 200, page.text)
        wrong = browser.password_sign_in(page, mobile, "not-the-password")
        self.assertEqual(wrong.status, 401)
        self.assertIn("手机号、验证码或密码不正确", wrong.text)
        self.assertNotIn("__Host-yiwang-sso", browser.cookies)
        done = browser.password_sign_in(wrong, mobile, "browser-pw-1")
        self.assertEqual(done.status, 303, done.text)
        body = self.tokens(done.redirect_params()["code"], "web", secret=self.env.web_secret)
        self.assertEqual(jwt_payload(body["id_token"])["amr"], ["pwd"])
        # without its secret the confidential client gets nothing
        page = browser.authorize(**self.params("web"))
        status, _, body = self.env.token_by_code(page.redirect_params()["code"], "web")
        self.assertEqual((status, body["error"]), (401, "invalid_client"))

    def test_english_page_and_html_escaping(self):
        browser = Browser(self.env, accept_language="en-US,en;q=0.9")
        _, challenge = pkce_pair()
        evil = '"><script>alert(1)</script>'
        page = browser.authorize(**self.params("spa", challenge, state=evil))
        self.assertEqual(page.status, 200)
        self.assertIn('lang="en"', page.text)
        self.assertNotIn("<script>", page.text)
        self.assertIn("&quot;&gt;&lt;script&gt;", page.text)
        self.assertIn("&lt;b&gt;Evil &amp; Co&lt;/b&gt;", page.text)
        self.assertNotIn("<b>Evil", page.text)
        self.assertEqual(page.forms()[0]["fields"]["state"], evil)  # carried intact
        page = Browser(self.env).authorize(**self.params("h5", challenge, ui_locales="en"))
        self.assertIn('lang="en"', page.text)

    # ---- single sign-on

    def test_sso_a_second_app_gets_a_code_without_credentials(self):
        browser = Browser(self.env)
        first, verifier, _ = self.sign_in(browser, "h5")
        a = self.tokens(first["code"], verifier=verifier)
        got = browser.authorize(**self.params("web"))
        self.assertEqual(got.status, 302, got.text)  # no page, no credentials
        self.assertTrue(got.location.startswith("https://web.example/cb?code="))
        b = self.tokens(got.redirect_params()["code"], "web", secret=self.env.web_secret)
        self.assertEqual(jwt_payload(a["access_token"])["sid"], jwt_payload(b["access_token"])["sid"])
        self.assertEqual(jwt_payload(a["id_token"])["sid"], jwt_payload(b["id_token"])["sid"])
        self.assertEqual(jwt_payload(b["id_token"])["aud"], "web")
        # another browser (no cookie) gets the login page
        self.assertEqual(Browser(self.env).authorize(**self.params("web")).status, 200)

    def test_cookie_attributes(self):
        browser = Browser(self.env)
        verifier, challenge = pkce_pair()
        page = browser.authorize(**self.params("h5", challenge))
        done = browser.sms_sign_in(page, self.new_mobile())
        sso = [c for c in done.set_cookies if c.startswith("__Host-yiwang-sso=")]
        self.assertEqual(len(sso), 1, done.set_cookies)
        attrs = [a.strip().lower() for a in sso[0].split(";")[1:]]
        for want in ("path=/", "secure", "httponly", "samesite=lax", "max-age=43200"):
            self.assertIn(want, attrs)
        self.assertFalse([a for a in attrs if a.startswith("domain")])
        csrf = [c for c in page.set_cookies if c.startswith("__Host-yiwang-csrf=")][0].lower()
        for want in ("path=/", "secure", "httponly", "samesite=lax"):
            self.assertIn(want, csrf)

    def test_prompt_login_forces_the_page_and_keeps_the_session(self):
        browser = Browser(self.env)
        first, verifier, mobile = self.sign_in(browser)
        sid = jwt_payload(self.tokens(first["code"], verifier=verifier)["access_token"])["sid"]
        old_cookie = browser.cookies["__Host-yiwang-sso"]
        again, verifier, _ = self.sign_in(browser, mobile=mobile, prompt="login")
        self.assertNotEqual(browser.cookies["__Host-yiwang-sso"], old_cookie)
        self.assertEqual(jwt_payload(self.tokens(again["code"], verifier=verifier)["access_token"])["sid"], sid)
        # the id seen before the new sign-in is worth nothing now
        stale = Browser(self.env)
        stale.cookies["__Host-yiwang-sso"] = old_cookie
        _, challenge = pkce_pair()
        self.assertEqual(stale.authorize(**self.params("h5", challenge)).status, 200)
        # max_age=0 wants a sign-in as fresh as now: the page again
        self.assertEqual(browser.authorize(**self.params("h5", challenge, max_age="0")).status, 200)

    def test_prompt_none(self):
        _, challenge = pkce_pair()
        got = Browser(self.env).authorize(**self.params("h5", challenge, prompt="none"))
        self.assertEqual(got.status, 302)
        self.assertEqual(got.redirect_params(), {"error": "login_required", "error_description": "The person is not signed in.",
                                                 "state": "st-h5", "iss": ISS})
        browser = Browser(self.env)
        self.sign_in(browser)
        got = browser.authorize(**self.params("h5", challenge, prompt="none"))
        self.assertIn("code", got.redirect_params())
        # a third party the person never allowed: consent would be needed
        got = browser.authorize(**self.params("spa", challenge, prompt="none"))
        self.assertEqual(got.redirect_params()["error"], "consent_required")

    # ---- consent

    def test_consent_for_a_third_party(self):
        browser = Browser(self.env)
        verifier, challenge = pkce_pair()
        page = browser.authorize(**self.params("spa", challenge))
        consent = browser.sms_sign_in(page, self.new_mobile())
        self.assertEqual(consent.status, 200, consent.text)
        self.assertEqual(consent.forms()[0]["action"], "/oauth/consent")
        self.assertIn("<li>openid</li><li>profile</li>", consent.text)
        denied = browser.submit(consent, 0, decision="deny")
        self.assertEqual(denied.status, 303)
        self.assertEqual(denied.redirect_params()["error"], "access_denied")
        self.assertEqual(denied.redirect_params()["state"], "st-spa")
        # asked again, approved
        consent = browser.authorize(**self.params("spa", challenge))
        self.assertEqual((consent.status, consent.forms()[0]["action"]), (200, "/oauth/consent"))
        approved = browser.submit(consent, 0, decision="approve")
        self.assertEqual(approved.status, 303)
        self.tokens(approved.redirect_params()["code"], "spa", verifier=verifier, redirect_uri="https://spa.example/cb")
        # remembered: the next time (or for fewer scopes) no page
        got = browser.authorize(**self.params("spa", challenge, scope="openid"))
        self.assertEqual(got.status, 302)
        self.assertIn("code", got.redirect_params())
        # prompt=consent asks anyway; a first-party client never sees consent
        self.assertEqual(browser.authorize(**self.params("spa", challenge, prompt="consent")).status, 200)
        self.assertEqual(browser.authorize(**self.params("h5", challenge, prompt="consent")).status, 302)

    def test_consent_post_needs_the_csrf_token(self):
        browser = Browser(self.env)
        _, challenge = pkce_pair()
        consent = browser.sms_sign_in(browser.authorize(**self.params("spa", challenge)), self.new_mobile())
        forged = browser.submit(consent, 0, decision="approve", csrf_token="x" * 43)
        self.assertEqual(forged.status, 403)
        self.assertEqual(self.env.db.query("SELECT COUNT(*) FROM oauth_consents WHERE client_id = 'spa' AND account_id = '%s'"
                                           % self.env.account_id(str(self.next_mobile))), [("0",)])

    # ---- PKCE

    def test_pkce_is_required_and_s256_only(self):
        browser = Browser(self.env)
        self.sign_in(browser)
        _, challenge = pkce_pair()
        for extra, description in (
                ({}, "code_challenge is required."),
                ({"code_challenge": challenge, "code_challenge_method": "plain"}, "code_challenge_method must be S256."),
                ({"code_challenge": challenge}, "code_challenge_method must be S256."),
                ({"code_challenge": "short", "code_challenge_method": "S256"}, "code_challenge is malformed.")):
            got = browser.authorize(**self.params("h5", **extra))
            self.assertEqual(got.status, 302, extra)
            self.assertEqual((got.redirect_params()["error"], got.redirect_params()["error_description"]),
                             ("invalid_request", description))

    def test_wrong_or_missing_verifier_and_verifier_without_challenge(self):
        browser = Browser(self.env)
        got, verifier, _ = self.sign_in(browser)
        other, _ = pkce_pair()
        for wrong in (other, None, "short"):
            status, _, body = self.env.token_by_code(got["code"], "h5", verifier=wrong)
            self.assertEqual((status, body), (400, INVALID_CODE))
        self.tokens(got["code"], verifier=verifier)  # a refused attempt does not consume the code
        # a confidential client without a challenge: a verifier at the token endpoint is a downgrade attempt
        code = browser.authorize(**self.params("web")).redirect_params()["code"]
        status, _, body = self.env.token_by_code(code, "web", verifier=other, secret=self.env.web_secret)
        self.assertEqual((status, body), (400, INVALID_CODE))
        self.tokens(code, "web", secret=self.env.web_secret)

    # ---- codes

    def test_code_reuse_revokes_what_the_first_use_issued(self):
        browser = Browser(self.env)
        got, verifier, _ = self.sign_in(browser)
        first = self.tokens(got["code"], verifier=verifier)
        status, _, body = self.env.token_by_code(got["code"], "h5", verifier=verifier)
        self.assertEqual((status, body), (400, INVALID_CODE))
        status, _, body = self.env.refresh(first["refresh_token"], client_id="h5")
        self.assertEqual((status, body["error"]), (400, "invalid_grant"))
        jti = jwt_payload(first["access_token"])["jti"]
        self.assertEqual(self.env.db.query("SELECT reason FROM revoked_access_tokens WHERE jti = '%s'" % jti),
                         [("code_reuse",)])
        # the proxy path refuses the access token once every node has read the revocation (revocation sync)
        deadline, status = time.time() + 3, 200
        while time.time() < deadline and status == 200:
            status, _ = self.env.upstream_sees("/people/x", first["access_token"])
            time.sleep(0.2)
        self.assertEqual(status, 401)

    def test_expired_code(self):
        browser = Browser(self.env)
        got, verifier, mobile = self.sign_in(browser)
        self.env.db.execute("UPDATE authorization_codes SET expires_at = UTC_TIMESTAMP(6) - INTERVAL 1 SECOND "
                            "WHERE account_id = '%s'" % self.env.account_id(mobile))
        status, _, body = self.env.token_by_code(got["code"], "h5", verifier=verifier)
        self.assertEqual((status, body), (400, INVALID_CODE))

    def test_code_of_one_client_redeemed_by_another(self):
        browser = Browser(self.env)
        got, verifier, _ = self.sign_in(browser)
        status, _, body = self.env.token_by_code(got["code"], "spa", redirect_uri="https://h5.example/cb", verifier=verifier)
        self.assertEqual((status, body), (400, INVALID_CODE))
        status, _, body = self.env.token_by_code(got["code"], "web", redirect_uri="https://h5.example/cb", verifier=verifier,
                                                 secret=self.env.web_secret)
        self.assertEqual((status, body), (400, INVALID_CODE))
        self.tokens(got["code"], verifier=verifier)

    def test_redirect_uri_mismatch_at_the_token_endpoint(self):
        browser = Browser(self.env)
        got, verifier, _ = self.sign_in(browser)
        for uri in ("https://h5.example/cb/", "https://evil.example/cb", ""):
            status, _, body = self.env.token_by_code(got["code"], "h5", redirect_uri=uri, verifier=verifier)
            self.assertEqual((status, body), (400, INVALID_CODE), uri)

    # ---- never an open redirect

    def test_bad_client_or_redirect_uri_gets_a_page_not_a_redirect(self):
        browser = Browser(self.env)
        _, challenge = pkce_pair()
        cases = (
            (self.params("h5", challenge, redirect_uri="https://evil.example/cb"), "invalid_redirect_uri"),
            (self.params("h5", challenge, redirect_uri="https://h5.example/cb/../x"), "invalid_redirect_uri"),
            (self.params("h5", challenge, redirect_uri="https://h5.example/cb?x=1"), "invalid_redirect_uri"),
            (self.params("h5", challenge, redirect_uri=None), "invalid_redirect_uri"),
            (self.params("nobody", challenge), "invalid_client"),
            ({k: v for k, v in self.params("h5", challenge).items() if k != "client_id"}, "invalid_client"),
        )
        for params, error in cases:
            got = browser.authorize(**params)
            self.assertEqual(got.status, 400, params)
            self.assertNotIn("location", got.headers)
            self.assertIn(error, got.text)
            self.assert_page_headers(got)
        # a registered URI with a query keeps it and gets the answer appended
        got = browser.authorize(**self.params("spa", challenge, redirect_uri="https://spa.example/cb2?x=1", prompt="none"))
        self.assertTrue(got.location.startswith("https://spa.example/cb2?x=1&error=login_required"), got.location)
        # other errors go back to the verified URI
        got = browser.authorize(**self.params("h5", challenge, response_type="token"))
        self.assertEqual(got.redirect_params()["error"], "unsupported_response_type")
        got = browser.authorize(**self.params("h5", challenge, scope="openid admin"))
        self.assertEqual(got.redirect_params()["error"], "invalid_scope")
        got = browser.authorize(**self.params("norefresh"))
        self.assertEqual(got.status, 400)  # registered no redirect URI at all

    # ---- CSRF

    def test_login_post_without_or_with_a_wrong_csrf_token(self):
        browser = Browser(self.env)
        _, challenge = pkce_pair()
        page = browser.authorize(**self.params("h5", challenge))
        mobile = self.new_mobile()
        sent = browser.submit(page, 0, action="send_code", mobile=mobile)
        self.assertEqual(sent.status, 200)
        sessions = self.env.db.query("SELECT COUNT(*) FROM sso_sessions")
        code = self.env.last_code(mobile)
        fields = dict(page.forms()[0]["fields"], action="sms", mobile=mobile, code=code)
        del fields["csrf_token"]
        self.assertEqual(browser.request("POST", "/oauth/login", fields).status, 403)
        self.assertEqual(browser.submit(page, 0, action="sms", mobile=mobile, code=code, csrf_token="A" * 43).status, 403)
        # a token of another browser does not match this browser's cookie (login CSRF)
        attacker = Browser(self.env)
        attacker_page = attacker.authorize(**self.params("h5", challenge))
        token = attacker_page.forms()[0]["fields"]["csrf_token"]
        victim = Browser(self.env)
        victim.authorize(**self.params("h5", challenge))
        forged = victim.submit(page, 0, action="sms", mobile=mobile, code=code, csrf_token=token)
        self.assertEqual(forged.status, 403)
        no_cookie = Browser(self.env).request("POST", "/oauth/login", dict(fields, csrf_token=token))
        self.assertEqual(no_cookie.status, 403)
        self.assertNotIn("__Host-yiwang-sso", victim.cookies)
        self.assertEqual(self.env.db.query("SELECT COUNT(*) FROM sso_sessions"), sessions)
        # the code was not spent by the refused posts
        done = browser.submit(page, 0, action="sms", mobile=mobile, code=code)
        self.assertEqual(done.status, 303, done.text)

    # ---- the login page's other answers

    def test_password_lock_shows_the_page_with_429(self):
        mobile = self.new_mobile()
        browser = Browser(self.env)
        page = browser.authorize(**self.params("web"))
        statuses = [browser.password_sign_in(page, mobile, "wrong-%d-pw" % i).status for i in range(5)]
        self.assertEqual(statuses, [401] * 5)  # no account: the same answer as a wrong password
        locked = browser.password_sign_in(page, mobile, "wrong-5-pw")
        self.assertEqual(locked.status, 429)
        self.assertGreaterEqual(int(locked.headers["retry-after"]), 1)
        self.assertIn("尝试次数过多", locked.text)
        self.assertIn("（%s 秒后可重试）" % locked.headers["retry-after"], locked.text)
        self.assertEqual(len(locked.forms()), 2)  # the page again, with the request still carried
        # the SMS path is not subject to the number's lock: whoever holds the phone gets in
        done = browser.sms_sign_in(locked, mobile)
        self.assertEqual(done.status, 303, done.text)

    def test_bad_mobile_and_malformed_code(self):
        browser = Browser(self.env)
        _, challenge = pkce_pair()
        page = browser.authorize(**self.params("h5", challenge))
        self.assertEqual(browser.submit(page, 0, action="send_code", mobile="12345").status, 400)
        self.assertEqual(browser.submit(page, 0, action="sms", mobile=self.new_mobile(), code="12ab56").status, 401)
        self.assertEqual(browser.submit(page, 0, action="dance", mobile=self.new_mobile()).status, 400)

    def test_tampered_hidden_fields_are_checked_again(self):
        browser = Browser(self.env)
        _, challenge = pkce_pair()
        page = browser.authorize(**self.params("h5", challenge))
        mobile = self.new_mobile()
        sent = browser.submit(page, 0, action="send_code", mobile=mobile)
        code = self.env.last_code(mobile)
        evil = browser.submit(sent, 0, action="sms", mobile=mobile, code=code, redirect_uri="https://evil.example/cb")
        self.assertEqual(evil.status, 400)
        self.assertNotIn("location", evil.headers)
        no_pkce = browser.submit(sent, 0, action="sms", mobile=mobile, code=code, code_challenge="")
        self.assertEqual(no_pkce.status, 303)
        self.assertEqual(no_pkce.redirect_params()["error"], "invalid_request")
        self.assertNotIn("__Host-yiwang-sso", browser.cookies)  # neither signed the person in

    def test_post_authorize_and_a_cookie_of_an_ended_session(self):
        browser = Browser(self.env)
        got, verifier, mobile = self.sign_in(browser)
        sid = jwt_payload(self.tokens(got["code"], verifier=verifier)["access_token"])["sid"]
        _, challenge = pkce_pair()
        head = browser.request("HEAD", "/oauth/authorize?" + urllib.parse.urlencode(self.params("h5", challenge)))
        self.assertEqual((head.status, head.headers["allow"]), (405, "GET, POST"))
        self.assertEqual(browser.request("PUT", "/oauth/login", {"a": "b"}).status, 405)
        posted = browser.request("POST", "/oauth/authorize", self.params("h5", challenge))
        self.assertEqual(posted.status, 303)
        self.assertIn("code", posted.redirect_params())
        self.env.db.execute("UPDATE sso_sessions SET ended_at = UTC_TIMESTAMP(6) WHERE sid = '%s'" % sid)
        page = browser.authorize(**self.params("h5", challenge))
        self.assertEqual(page.status, 200)
        self.assertTrue([c for c in page.set_cookies if c.startswith("__Host-yiwang-sso=;") and "Max-Age=0" in c])
        self.assertNotIn("__Host-yiwang-sso", browser.cookies)

    # ---- logs

    def test_no_secret_in_the_logs(self):
        browser = Browser(self.env)
        got, verifier, mobile = self.sign_in(browser)
        body = self.tokens(got["code"], verifier=verifier)
        secrets = [got["code"], verifier, mobile, browser.cookies["__Host-yiwang-sso"], body["refresh_token"],
                   body["access_token"], body["id_token"]]
        lines = self.env.gw.access_log_lines(min_lines=5)
        text = "\n".join(str(line) for line in lines) + self.env.gw.stderr()
        for secret in secrets:
            self.assertNotIn(secret, text)
        # a wrong credential on the page is counted like one of the JSON API
        time.sleep(0.3)  # the access log is written by a background thread
        seen = len(self.env.gw.access_log_lines())
        stranger = Browser(self.env)
        page = stranger.authorize(**self.params("web"))
        self.assertEqual(stranger.password_sign_in(page, self.new_mobile(), "wrong-password-1").status, 401)
        deadline, failed = time.time() + 5, []
        while time.time() < deadline and not failed:
            failed = [line for line in self.env.gw.access_log_lines()[seen:]
                      if line.get("path") == "/oauth/login" and line.get("status") == 401]
            time.sleep(0.1)
        self.assertTrue(failed, self.env.gw.access_log_lines()[-3:])
        self.assertEqual((failed[-1]["status"], failed[-1].get("error")), (401, "invalid_credentials"))


if __name__ == "__main__":
    unittest.main(verbosity=2)
