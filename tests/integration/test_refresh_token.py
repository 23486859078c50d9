#!/usr/bin/env python3
"""POST /oauth/token with grant_type=refresh_token (RFC 6749 §6) against a real
MariaDB and the real binary: rotation, reuse detection (the whole family dies,
the newest token included), the grace window for a repeat by the same client
(and not for another client, nor after the window), scope narrowing, client
binding and authentication, and an assurance-level raise reaching the next
access token."""

import concurrent.futures
import os
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sign_in_helpers import SignInGateway, jwt_payload  # noqa: E402

GRACE_S = 2
INVALID = {"error": "invalid_grant", "error_description": "The refresh token is invalid, expired or revoked."}


class RefreshTokenTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.env = SignInGateway({"refresh_reuse_grace_s": GRACE_S})
        cls.next_mobile = 13700000000

    @classmethod
    def tearDownClass(cls):
        cls.env.close()

    def login(self, client_id="app", **extra):
        type(self).next_mobile += 1
        self.mobile = str(self.next_mobile)
        return self.env.sms_login(self.mobile, client_id=client_id, **extra)

    def refresh_ok(self, token, **kwargs):
        status, headers, body = self.env.refresh(token, **kwargs)
        self.assertEqual(status, 200, body)
        self.assertEqual(headers["cache-control"], "no-store")
        return body

    def assert_dead(self, token, **kwargs):
        status, _, body = self.env.refresh(token, **kwargs)
        self.assertEqual((status, body), (400, INVALID))

    def test_rotation_on_every_use(self):
        first = self.login()
        r1 = first["refresh_token"]
        second = self.refresh_ok(r1)
        self.assertEqual(sorted(second), ["access_token", "expires_in", "refresh_token", "scope", "token_type"])
        r2 = second["refresh_token"]
        self.assertNotEqual(r1, r2)
        a, b = jwt_payload(first["access_token"]), jwt_payload(second["access_token"])
        for claim in ("sub", "sid", "client_id", "acr", "auth_time", "scope"):
            self.assertEqual(a[claim], b[claim], claim)
        self.assertNotEqual(a["jti"], b["jti"])
        status, seen = self.env.upstream_sees("/people/x", second["access_token"])
        self.assertEqual((status, seen["headers"]["x-gateway-subject"]), (200, a["sub"]))
        r3 = self.refresh_ok(r2)["refresh_token"]
        self.refresh_ok(r3)

    def test_reuse_of_an_old_token_revokes_the_family(self):
        r1 = self.login()["refresh_token"]
        r2 = self.refresh_ok(r1)["refresh_token"]
        r3 = self.refresh_ok(r2)["refresh_token"]
        # r1's successor (r2) has been used, so no grace applies: a thief or a broken app holds r1
        self.assert_dead(r1)
        self.assert_dead(r3)  # the newest token of the family dies too
        self.assert_dead(r2)
        sessions = self.env.db.query("SELECT COUNT(*) FROM refresh_tokens WHERE revoke_reason = 'reuse'")
        self.assertGreaterEqual(int(sessions[0][0]), 3)

    def test_a_repeat_within_the_grace_window_gets_the_same_successor(self):
        r1 = self.login()["refresh_token"]
        r2 = self.refresh_ok(r1)["refresh_token"]
        # the response was lost: the app presents r1 again
        again = self.refresh_ok(r1)
        self.assertEqual(again["refresh_token"], r2)
        self.assertEqual(self.refresh_ok(r1)["refresh_token"], r2)
        r3 = self.refresh_ok(r2)["refresh_token"]  # the family is alive
        self.refresh_ok(r3)

    def test_parallel_uses_of_one_token_yield_one_successor(self):
        r1 = self.login()["refresh_token"]
        with concurrent.futures.ThreadPoolExecutor(8) as pool:
            results = list(pool.map(lambda _: self.env.refresh(r1), range(8)))
        self.assertEqual([r[0] for r in results], [200] * 8)
        self.assertEqual(len({r[2]["refresh_token"] for r in results}), 1)

    def test_a_repeat_after_the_window_revokes_the_family(self):
        r1 = self.login()["refresh_token"]
        r2 = self.refresh_ok(r1)["refresh_token"]
        time.sleep(GRACE_S + 0.5)
        self.assert_dead(r1)
        self.assert_dead(r2)

    def test_another_client_presenting_the_token_revokes_the_family(self):
        r1 = self.login()["refresh_token"]
        r2 = self.refresh_ok(r1)["refresh_token"]
        self.assert_dead(r1, client_id="app2")  # within the window, but not the client it was issued to
        self.assert_dead(r2)
        r1 = self.login()["refresh_token"]
        self.assert_dead(r1, client_id="app2")  # even an unused token
        self.assert_dead(r1)

    def test_the_sealed_successor_is_wiped_once_used(self):
        r1 = self.login()["refresh_token"]
        r2 = self.refresh_ok(r1)["refresh_token"]
        mine = "SELECT COUNT(*) FROM refresh_tokens r JOIN accounts a ON a.id = r.account_id " \
               "WHERE a.mobile = '%s' AND r.successor_sealed IS NOT NULL" % self.mobile
        self.assertEqual(self.env.db.query(mine), [("1",)])
        r3 = self.refresh_ok(r2)["refresh_token"]
        self.assertEqual(self.env.db.query(mine), [("1",)])  # only the newest rotation keeps one
        # past the window, the endpoint's sweep (after about one rotation in 64) wipes what nobody used
        time.sleep(GRACE_S + 0.5)
        stale = "SELECT COUNT(*) FROM refresh_tokens WHERE successor_sealed IS NOT NULL AND sealed_until < UTC_TIMESTAMP(6)"
        token = self.login()["refresh_token"]
        for _ in range(600):
            token = self.refresh_ok(token)["refresh_token"]
            if self.env.db.query(stale) == [("0",)]:
                break
        self.assertEqual(self.env.db.query(stale), [("0",)])
        self.assert_dead(r2)  # wiped means no grace: a repeat of r2 is a reuse
        self.assert_dead(r3)

    def test_scope_may_only_narrow(self):
        r1 = self.login()["refresh_token"]
        status, _, body = self.env.refresh(r1, scope="profile admin")
        self.assertEqual((status, body["error"]), (400, "invalid_scope"))
        narrowed = self.refresh_ok(r1, scope="hrss:read")  # the refused request consumed nothing
        self.assertEqual(narrowed["scope"], "hrss:read")
        self.assertEqual(jwt_payload(narrowed["access_token"])["scope"], "hrss:read")
        # the refresh token keeps the full grant
        self.assertEqual(self.refresh_ok(narrowed["refresh_token"])["scope"], "profile hrss:read tax:read")

    def test_client_authentication(self):
        # a confidential first-party client must authenticate, with Basic or in the form
        r1 = self.login(client_id="desk", client_secret=self.env.desk_secret)["refresh_token"]
        status, _, body = self.env.refresh(r1, client_id="desk")
        self.assertEqual((status, body["error"]), (401, "invalid_client"))
        status, _, body = self.env.refresh(r1, client_id="desk", secret="wrong")
        self.assertEqual((status, body["error"]), (401, "invalid_client"))
        r2 = self.refresh_ok(r1, client_id="desk", secret=self.env.desk_secret, basic=True)["refresh_token"]
        self.refresh_ok(r2, client_id="desk", secret=self.env.desk_secret)
        # a public client sends its id alone; a secret from it is refused
        r1 = self.login()["refresh_token"]
        status, _, body = self.env.refresh(r1, secret="anything")
        self.assertEqual((status, body["error"]), (401, "invalid_client"))
        self.refresh_ok(r1)
        # a client without the refresh_token grant gets no refresh token at login and cannot refresh
        tokens = self.login(client_id="norefresh")
        self.assertNotIn("refresh_token", tokens)
        status, _, body = self.env.refresh(r1, client_id="norefresh")
        self.assertEqual((status, body["error"]), (400, "unauthorized_client"))

    def test_malformed_requests(self):
        status, _, body = self.env.request("POST", "/oauth/token", b"grant_type=refresh_token&client_id=app", raw=True,
                                           headers={"Content-Type": "application/x-www-form-urlencoded"})
        self.assertEqual((status, body["error"]), (400, "invalid_request"))
        self.assert_dead("not-a-token")
        self.assert_dead(self.login()["session_id"])  # the SSO session id is not a refresh token

    def test_a_raised_assurance_level_reaches_the_next_access_token(self):
        tokens = self.login()
        status, _ = self.env.upstream_sees("/verified/x", tokens["access_token"])
        self.assertEqual(status, 401)
        account = jwt_payload(tokens["access_token"])["sub"]
        self.env.db.execute("UPDATE accounts SET assurance_level = 2 WHERE id = '%s'" % account)
        refreshed = self.refresh_ok(tokens["refresh_token"])
        self.assertEqual(jwt_payload(refreshed["access_token"])["acr"], "2")
        status, seen = self.env.upstream_sees("/verified/x", refreshed["access_token"])
        self.assertEqual((status, seen["headers"]["x-gateway-acr"]), (200, "2"))

    def test_a_disabled_account_cannot_refresh(self):
        tokens = self.login()
        account = jwt_payload(tokens["access_token"])["sub"]
        self.env.db.execute("UPDATE accounts SET status = 'disabled' WHERE id = '%s'" % account)
        self.assert_dead(tokens["refresh_token"])
        status, _, body = self.env.send_sms(self.mobile)
        time.sleep(1.1)
        self.env.send_sms(self.mobile)
        status, _, body = self.env.login(self.mobile, code=self.env.last_code(self.mobile))
        self.assertEqual((status, body["error"]["code"]), (403, "account_disabled"))


if __name__ == "__main__":
    unittest.main()
