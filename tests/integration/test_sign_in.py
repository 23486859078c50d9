#!/usr/bin/env python3
"""The JSON sign-in API for first-party apps against a real MariaDB and the real
binary: registration and login by SMS code (codes read from the outbox file),
passwords, the answers that must not reveal whether an account exists, SMS
code rules, the login guard under parallel attack and its release, and the
access token on user and min_acr routes."""

import concurrent.futures
import json
import os
import statistics
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import yiwang_testlib as lib  # noqa: E402
from jwt_mint import Signer  # noqa: E402
from sign_in_helpers import SignInGateway, jwt_payload, without_request_id  # noqa: E402

GUARD = {"mobile_max_failures": 5, "ip_max_failures": 10000, "failure_window_s": 60, "lock_s": 2, "max_lock_s": 4}


class SignInTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.env = SignInGateway({"login_guard": GUARD, "sms": {"daily_limit_per_mobile": 4}})

    @classmethod
    def tearDownClass(cls):
        with open(cls.env.gw.access_log_path(), encoding="utf-8") as f:
            access_log = f.read()
        stderr = cls.env.close()
        for line in cls.env_secrets:
            assert line not in access_log, "a secret reached the access log"
        # nothing secret reaches the gateway's own log
        for line in cls.env_secrets:
            assert line not in stderr, "a secret was logged"

    env_secrets = set()

    def remember(self, *secrets):
        self.env_secrets.update(s for s in secrets if s)

    # ---- registration and SMS login

    def test_registration_by_sms_then_login_and_the_token_on_routes(self):
        env, mobile = self.env, "13800000001"
        status, headers, body = env.send_sms("+86 138-0000-0001")
        self.assertEqual((status, body), (202, {"sent": True, "resend_after_s": 1}))
        self.assertEqual(headers["cache-control"], "no-store")
        line = env.outbox_lines()[-1]
        self.assertEqual(sorted(line), ["code", "mobile", "purpose", "time", "ttl_s"])
        self.assertEqual((line["mobile"], line["purpose"]), (mobile, "login"))
        self.assertRegex(line["code"], r"^[0-9]{6}$")
        self.assertIsNone(env.account_id(mobile))  # nothing is registered by asking for a code
        status, headers, body = env.login(mobile, code=line["code"])
        self.assertEqual(status, 200, body)
        self.remember(line["code"], body["refresh_token"], body["session_id"])
        self.assertEqual(headers["cache-control"], "no-store")
        self.assertEqual(sorted(body), ["access_token", "expires_in", "refresh_token", "scope", "session_id", "token_type"])
        self.assertEqual((body["token_type"], body["expires_in"], body["scope"]), ("Bearer", 600, "profile hrss:read tax:read"))
        account = env.account_id(mobile)
        self.assertIsNotNone(account)
        claims = jwt_payload(body["access_token"])
        self.assertEqual((claims["sub"], claims["acr"], claims["client_id"]), (account, "1", "app"))
        self.assertEqual(env.db.query("SELECT assurance_level FROM accounts WHERE id = '%s'" % account), [("1",)])
        self.assertIn(claims["sid"], [r[0] for r in env.db.query("SELECT sid FROM sso_sessions WHERE account_id = '%s'" % account)])
        self.assertNotEqual(claims["sid"], body["session_id"])
        self.assertTrue(abs(claims["auth_time"] - time.time()) < 60)
        # the session id and the refresh token are stored only as keyed hashes
        for table, column in (("sso_sessions", "id_hash"), ("refresh_tokens", "token_hash")):
            self.assertEqual(env.db.query("SELECT COUNT(*) FROM %s WHERE %s = '%s'" % (table, column, body["session_id"])), [("0",)])
        # a user route: the department sees the account id and its level; a min_acr 2 route asks for step-up
        status, seen = env.upstream_sees("/people/x", body["access_token"])
        self.assertEqual(status, 200, seen)
        self.assertEqual((seen["headers"]["x-gateway-subject"], seen["headers"]["x-gateway-acr"]), (account, "1"))
        status, seen = env.upstream_sees("/verified/x", body["access_token"])
        self.assertEqual((status, seen["error"]["code"]), (401, "insufficient_user_authentication"))
        # the code is single use
        status, _, again = env.login(mobile, code=line["code"])
        self.assertEqual((status, again["error"]["code"]), (401, "invalid_credentials"))
        # a second SMS login finds the same account
        self.assertEqual(jwt_payload(env.sms_login(mobile)["access_token"])["sub"], account)

    def test_only_first_party_clients(self):
        env = self.env
        cases = [({"client_id": "third", "client_secret": env.third_secret}, "a third-party app"),
                 ({"client_id": "nobody"}, "an unknown app"),
                 ({"client_id": "desk"}, "a confidential app without its secret"),
                 ({"client_id": "desk", "client_secret": "wrong"}, "a wrong secret"),
                 ({"client_id": "app", "client_secret": "x"}, "a public app with a secret")]
        for client, why in cases:
            with self.subTest(why):
                body = dict(client, mobile="13800000002", purpose="login")
                status, _, answer = env.request("POST", "/v1/auth/sms", body)
                self.assertEqual((status, answer["error"]["code"]), (401, "invalid_client"))
                body = dict(client, mobile="13800000002", password="whatever-it-is")
                status, _, answer = env.request("POST", "/v1/auth/login", body)
                self.assertEqual((status, answer["error"]["code"]), (401, "invalid_client"))
        status, _, body = env.send_sms("13800000002", client_id="desk", client_secret=env.desk_secret)
        self.assertEqual(status, 202, body)

    def test_malformed_requests(self):
        env = self.env
        cases = [
            ("/v1/auth/sms", {"client_id": "app", "mobile": "12345"}, 400, "invalid_mobile"),
            ("/v1/auth/sms", {"client_id": "app", "mobile": "13800000003", "purpose": "admin"}, 400, "bad_request"),
            ("/v1/auth/sms", {"client_id": "app", "mobile": "13800000003", "extra": "x"}, 400, "bad_request"),
            ("/v1/auth/sms", {"client_id": "app", "mobile": 13800000003}, 400, "bad_request"),
            ("/v1/auth/sms", {"mobile": "13800000003"}, 400, "bad_request"),
            ("/v1/auth/login", {"client_id": "app", "mobile": "13800000003", "code": "123456", "password": "x"}, 400,
             "bad_request"),
            ("/v1/auth/login", {"client_id": "app", "mobile": "13800000003"}, 400, "bad_request"),
            ("/v1/auth/login", {"client_id": "app", "mobile": "13800000003", "code": "12345"}, 401, "invalid_credentials"),
            ("/v1/auth/login", {"client_id": "app", "mobile": "13800000003", "code": "123456", "scope": "admin"}, 400,
             "invalid_scope"),
        ]
        for path, body, status, code in cases:
            with self.subTest(body=body):
                got, _, answer = env.request("POST", path, body)
                self.assertEqual((got, answer["error"]["code"]), (status, code))
        got, _, answer = env.request("POST", "/v1/auth/login", b'{"client_id":"app","client_id":"app"}', raw=True)
        self.assertEqual((got, answer["error"]["code"]), (400, "bad_request"))  # duplicate keys
        got, _, answer = env.request("POST", "/v1/auth/login", b"client_id=app", raw=True,
                                     headers={"Content-Type": "application/x-www-form-urlencoded"})
        self.assertEqual((got, answer["error"]["code"]), (400, "bad_request"))
        got, _, answer = env.request("POST", "/v1/auth/login", b"{" + b" " * 9000 + b"}", raw=True)
        self.assertEqual((got, answer["error"]["code"]), (413, "body_too_large"))
        got, headers, _ = env.request("GET", "/v1/auth/login")
        self.assertEqual((got, headers["allow"]), (405, "POST"))

    # ---- what an attacker learns: nothing about who is registered

    def test_wrong_credentials_look_the_same_for_existing_and_unknown_numbers(self):
        env, known, unknown = self.env, "13800000004", "13800000005"
        tokens = env.sms_login(known)
        status, _, _ = env.set_password({"new_password": "known's password"},
                                        headers={"Authorization": "Bearer " + tokens["access_token"]})
        self.assertEqual(status, 200)
        status, _, body = env.send_sms(unknown)
        self.assertEqual((status, body), (202, {"sent": True, "resend_after_s": 1}))  # same as for the known number
        answers, times = {}, {known: [], unknown: []}
        for mobile in (known, unknown):
            for _ in range(3):
                start = time.monotonic()
                status, headers, body = env.login(mobile, password="not-the-password-1")
                times[mobile].append(time.monotonic() - start)
                answers.setdefault(mobile, set()).add((status, str(without_request_id(body))))
            time.sleep(0.1)
        wrong_code = "000000" if env.last_code(unknown) != "000000" else "111111"
        status, _, body_code = env.login(unknown, code=wrong_code)
        self.assertEqual(answers[known], answers[unknown])
        self.assertEqual(len(answers[known]), 1)
        self.assertEqual(answers[known].pop(), (401, str(without_request_id(body_code))))
        # the unknown number costs a dummy Argon2id verification too: same order of time
        fast, slow = sorted((statistics.median(times[known]), statistics.median(times[unknown])))
        self.assertGreater(fast, 0.3 * slow, times)

    # ---- SMS codes

    def test_resend_cooldown_and_daily_limit(self):
        env, mobile = self.env, "13800000006"
        self.assertEqual(env.send_sms(mobile)[0], 202)
        status, headers, body = env.send_sms(mobile)
        self.assertEqual((status, body["error"]["code"]), (429, "sms_too_soon"))
        self.assertEqual(headers["retry-after"], "1")
        for _ in range(3):
            time.sleep(1.1)
            self.assertEqual(env.send_sms(mobile)[0], 202)
        time.sleep(1.1)
        status, headers, body = env.send_sms(mobile)  # a fifth code today: over the limit of 4
        self.assertEqual((status, body["error"]["code"]), (429, "sms_daily_limit"))
        self.assertTrue(1 <= int(headers["retry-after"]) <= 86400)
        # only the newest code works
        codes = [line["code"] for line in env.outbox_lines() if line["mobile"] == mobile]
        if codes[-2] != codes[-1]:
            self.assertEqual(env.login(mobile, code=codes[-2])[0], 401)
        self.assertEqual(env.login(mobile, code=codes[-1])[0], 200)

    def test_code_attempt_limit_and_expiry(self):
        env, mobile = self.env, "13800000007"
        env.send_sms(mobile)
        code = env.last_code(mobile)
        wrong = "%06d" % ((int(code) + 1) % 1000000)
        for _ in range(5):
            self.assertEqual(env.login(mobile, code=wrong)[0], 401)
        status, _, body = env.login(mobile, code=code)  # the right code, after five wrong ones
        self.assertEqual((status, body["error"]["code"]), (401, "invalid_credentials"))
        time.sleep(1.1)
        env.send_sms(mobile)
        env.db.execute("UPDATE sms_codes SET expires_at = UTC_TIMESTAMP(6) - INTERVAL 1 SECOND WHERE mobile = '%s'" % mobile)
        self.assertEqual(env.login(mobile, code=env.last_code(mobile))[0], 401)
        # stored hashed: the code is not in the table
        self.assertEqual(env.db.query("SELECT COUNT(*) FROM sms_codes WHERE code_hash = '%s'" % code), [("0",)])

    # ---- passwords

    def test_set_password_by_token_then_password_login_and_change(self):
        env, mobile = self.env, "13800000008"
        tokens = env.sms_login(mobile)
        auth = {"Authorization": "Bearer " + tokens["access_token"]}
        status, _, body = env.set_password({"new_password": "short"}, headers=auth)
        self.assertEqual((status, body["error"]["code"]), (400, "password_too_short"))
        status, _, body = env.set_password({"new_password": "pw13800000008x"}, headers=auth)
        self.assertEqual((status, body["error"]["code"]), (400, "password_contains_mobile"))
        status, _, body = env.set_password({"new_password": "12345678901"}, headers=auth)
        self.assertEqual((status, body["error"]["code"]), (400, "password_all_digits"))
        status, _, body = env.set_password({"new_password": "长城长城 good pass"}, headers=auth)
        self.assertEqual(status, 200, body)
        self.assertTrue(body["password_set"])
        phc = env.db.query("SELECT password_hash FROM accounts WHERE mobile = '%s'" % mobile)[0][0]
        self.assertTrue(phc.startswith("$argon2id$v=19$m=19456,t=2,p=1$"))
        status, _, login = env.login(mobile, password="长城长城 good pass")
        self.assertEqual(status, 200, login)
        self.assertEqual(jwt_payload(login["access_token"])["sub"], jwt_payload(tokens["access_token"])["sub"])
        # changing it again needs the current one (the sign-in is recent, but a wrong current password is refused)
        status, _, body = env.set_password({"new_password": "another good one", "current_password": "wrong one"},
                                           headers={"Authorization": "Bearer " + login["access_token"]})
        self.assertEqual((status, body["error"]["code"]), (401, "invalid_credentials"))
        status, _, body = env.set_password({"new_password": "another good one", "current_password": "长城长城 good pass"},
                                           headers={"Authorization": "Bearer " + login["access_token"]})
        self.assertEqual(status, 200, body)
        self.assertGreaterEqual(body["sessions_ended"], 1)  # the first (SMS) session is out
        status, _, body = env.refresh(tokens["refresh_token"])
        self.assertEqual((status, body["error"]), (400, "invalid_grant"))
        self.assertEqual(env.refresh(login["refresh_token"])[0], 200)  # the session that changed it stays
        status, _, body = env.set_password({"new_password": "third good one"},
                                           headers={"Authorization": "Bearer " + tokens["access_token"]})
        self.assertEqual((status, body["error"]["code"]), (401, "token_invalid"))  # the ended session's token
        self.assertEqual(env.login(mobile, password="长城长城 good pass")[0], 401)
        self.assertEqual(env.login(mobile, password="another good one")[0], 200)

    def test_a_stale_sign_in_cannot_set_a_password_without_the_current_one(self):
        env, mobile = self.env, "13800000009"
        tokens = env.sms_login(mobile)
        sid = jwt_payload(tokens["access_token"])["sid"]
        env.db.execute("UPDATE sso_sessions SET auth_time = auth_time - INTERVAL 1 HOUR WHERE sid = '%s'" % sid)
        status, _, body = env.set_password({"new_password": "a fine password"},
                                           headers={"Authorization": "Bearer " + tokens["access_token"]})
        self.assertEqual((status, body["error"]["code"]), (401, "reauthentication_required"))

    def test_password_reset_by_sms_code(self):
        env, mobile = self.env, "13800000010"
        status, _, body = env.send_sms(mobile, purpose="password")
        self.assertEqual(status, 202, body)
        code = env.last_code(mobile, purpose="password")
        # a password code does not log in, and a login code does not set passwords
        self.assertEqual(env.login(mobile, code=code)[0], 401)
        request = {"client_id": "app", "mobile": mobile, "code": code, "new_password": "reset by sms ok"}
        status, _, body = env.set_password(request)
        self.assertEqual(status, 200, body)
        self.assertEqual(env.set_password(request)[0], 401)  # single use
        self.assertEqual(env.login(mobile, password="reset by sms ok")[0], 200)

    def test_password_endpoint_refuses_other_tokens(self):
        env = self.env
        status, _, body = env.set_password({"new_password": "a fine password"}, headers={"Authorization": "Bearer abc.def.ghi"})
        self.assertEqual((status, body["error"]["code"]), (401, "token_invalid"))
        
        form = "grant_type=client_credentials&client_id=svc&client_secret=" + env.svc_secret
        status, _, token = env.request("POST", "/oauth/token", form.encode(), raw=True,
                                       headers={"Content-Type": "application/x-www-form-urlencoded"})
        self.assertEqual(status, 200, token)
        status, _, body = env.set_password({"new_password": "a fine password"},
                                           headers={"Authorization": "Bearer " + token["access_token"]})
        self.assertEqual((status, body["error"]["code"]), (403, "user_token_required"))

    # ---- the login guard

    def test_parallel_wrong_passwords_never_exceed_the_limit_and_the_lock_is_released(self):
        env, mobile = self.env, "13800000011"
        tokens = env.sms_login(mobile)
        status, _, _ = env.set_password({"new_password": "the right password"},
                                        headers={"Authorization": "Bearer " + tokens["access_token"]})
        self.assertEqual(status, 200)
        with concurrent.futures.ThreadPoolExecutor(20) as pool:
            results = list(pool.map(lambda _: env.login(mobile, password="a wrong password"), range(20)))
        statuses = sorted(r[0] for r in results)
        self.assertEqual(statuses.count(401), 5, statuses)  # exactly the limit was evaluated
        self.assertEqual(statuses.count(429), 15, statuses)
        locked = [r for r in results if r[0] == 429][0]
        self.assertEqual(locked[2]["error"]["code"], "too_many_attempts")
        self.assertTrue(1 <= int(locked[1]["retry-after"]) <= 2)
        # the right password is refused too while locked, with the same answer as for an unknown number's lock
        self.assertEqual(env.login(mobile, password="the right password")[0], 429)
        # released by time
        time.sleep(2.2)
        self.assertEqual(env.login(mobile, password="the right password")[0], 200)
        # locked again (a password login proved the owner, so the lock does not double), then released by an SMS login
        for _ in range(5):
            self.assertEqual(env.login(mobile, password="a wrong password")[0], 401)
        status, headers, _ = env.login(mobile, password="the right password")
        self.assertEqual(status, 429)
        self.assertTrue(1 <= int(headers["retry-after"]) <= 2)
        time.sleep(1.1)  # the SMS resend interval
        env.sms_login(mobile)
        self.assertEqual(env.login(mobile, password="the right password")[0], 200)

    def test_the_guard_locks_unknown_numbers_alike(self):
        env, mobile = self.env, "13800000012"
        answers = [env.login(mobile, password="guess number %d" % i)[0] for i in range(7)]
        self.assertEqual(answers, [401] * 5 + [429] * 2)

    def test_per_address_limit(self):
        # a password-spraying address: many numbers, one address; others are unaffected
        env = SignInGateway({"login_guard": dict(GUARD, ip_max_failures=4)})
        try:
            answers = [env.login("1390000000%d" % i, password="spray", source="127.0.0.3")[0] for i in range(6)]
            self.assertEqual(answers, [401] * 4 + [429] * 2)
            self.assertEqual(env.login("13900000009", password="spray", source="127.0.0.4")[0], 401)
        finally:
            env.close()


class FailClosedTest(unittest.TestCase):
    """What the sign-in API refuses when something it relies on is missing or foreign."""

    def test_a_trusted_partner_token_cannot_change_a_password(self):
        # a federation partner's key is trusted on the proxy path, even for our issuer; it must not reach the account
        signer = Signer("ES256")
        trusted = [{"kid": "partner", "alg": "ES256", "public_key_file": signer.public_pem}]
        env = SignInGateway({"trusted_keys": trusted})
        try:
            real = jwt_payload(env.sms_login("13800000020")["access_token"])
            forged = dict(real, exp=int(time.time()) + 300, iat=int(time.time()), auth_time=int(time.time()))
            token = signer.token(forged, "partner")
            status, _ = env.upstream_sees("/people/x", token)
            self.assertEqual(status, 200)  # a valid token on the proxy path...
            status, _, body = env.set_password({"new_password": "taken over!"}, headers={"Authorization": "Bearer " + token})
            self.assertEqual((status, body["error"]["code"]), (401, "token_invalid"))  # ...but not here
            self.assertEqual(env.db.query("SELECT COUNT(*) FROM accounts WHERE password_hash IS NOT NULL"), [("0",)])
        finally:
            env.close()

    def test_without_master_key_or_sms_provider(self):
        env = SignInGateway()
        try:
            tokens = env.sms_login("13800000021")
            config = json.loads(json.dumps(env.gw.config))
            for listener in config["listeners"].values():
                listener.pop("port", None)
            del config["identity"]["master_key_file"]
            with lib.Gateway(config) as bare:
                url = bare.public_url
                status, body = post(url, "/v1/auth/sms", {"client_id": "app", "mobile": "13800000022"})
                self.assertEqual((status, body["error"]["code"]), (503, "sign_in_unavailable"))
                status, body = post(url, "/v1/auth/login", {"client_id": "app", "mobile": "13800000021", "password": "x"})
                self.assertEqual((status, body["error"]["code"]), (503, "sign_in_unavailable"))
                status, body = post(url, "/oauth/token", "grant_type=refresh_token&client_id=app&refresh_token="
                                    + tokens["refresh_token"], "application/x-www-form-urlencoded")
                self.assertEqual((status, body["error"]), (503, "temporarily_unavailable"))
            self.assertEqual(env.refresh(tokens["refresh_token"])[0], 200)  # nothing was spent meanwhile
            config = json.loads(json.dumps(env.gw.config))
            for listener in config["listeners"].values():
                listener.pop("port", None)
            del config["identity"]["sms"]
            with lib.Gateway(config) as silent:
                status, body = post(silent.public_url, "/v1/auth/sms", {"client_id": "app", "mobile": "13800000022"})
                self.assertEqual((status, body["error"]["code"]), (503, "sms_unavailable"))
        finally:
            env.close()


def post(url, path, body, content_type="application/json"):
    data = body.encode() if isinstance(body, str) else json.dumps(body).encode()
    status, _, answer = lib.http_request("POST", url + path, body=data, headers={"Content-Type": content_type})
    return status, json.loads(answer)


class SmsProviderTest(unittest.TestCase):
    """The http provider: the JSON a provider receives, and 503 when it fails."""

    def test_http_provider(self):
        import http.server
        import threading

        received = []

        class Provider(http.server.BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - http.server's naming
                received.append((self.path, self.headers["Content-Type"], self.rfile.read(int(self.headers["Content-Length"]))))
                self.send_response(200 if len(received) == 1 else 500)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        server = http.server.HTTPServer(("127.0.0.1", 0), Provider)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        url = "http://127.0.0.1:%d/sms/send" % server.server_address[1]
        env = SignInGateway({"sms": {"provider": "http", "url": url, "timeout_ms": 2000}})
        try:
            status, _, body = env.send_sms("13800000013")
            self.assertEqual(status, 202, body)
            path, content_type, data = received[0]
            self.assertEqual((path, content_type), ("/sms/send", "application/json"))
            import json
            message = json.loads(data)
            self.assertEqual((message["mobile"], message["purpose"], message["ttl_s"]), ("13800000013", "login", 300))
            self.assertEqual(env.login("13800000013", code=message["code"])[0], 200)
            time.sleep(1.1)
            status, _, body = env.send_sms("13800000013")  # the provider answers 500 now
            self.assertEqual((status, body["error"]["code"]), (503, "sms_unavailable"))
        finally:
            stderr = env.close()
            server.shutdown()
            server.server_close()
        self.assertIn("answered 500", stderr)
        self.assertNotIn("13800000013", stderr)


if __name__ == "__main__":
    unittest.main()
