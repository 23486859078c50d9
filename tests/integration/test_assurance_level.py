#!/usr/bin/env python3
"""Assurance levels: a newly registered person (level 1) is refused by a route
that needs real-name verification (401 insufficient_user_authentication, RFC
9470 step-up); an authorised operator raises the level, with who and on what
evidence recorded; the next sign-in's token carries the new level and opens
the route. `yiwang accounts show` never prints the full mobile number."""

import json
import os
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import yiwang_testlib as lib  # noqa: E402
from sign_in_helpers import SignInGateway, jwt_payload  # noqa: E402

MOBILE = "13800138077"


class AssuranceLevelTest(unittest.TestCase):
    def cli(self, env, *args, check=True):
        config = os.path.join(env.dir.name, "cli.json")
        result = subprocess.run([lib.YIWANG_BIN, "accounts", args[0], "--config", config, *args[1:]], capture_output=True,
                                text=True, timeout=60)
        if check:
            self.assertEqual(result.returncode, 0, result.stderr)
        return result

    def test_step_up_after_an_operator_raises_the_level(self):
        with SignInGateway() as env:
            token = env.sms_login(MOBILE)["access_token"]
            self.assertEqual(jwt_payload(token)["acr"], "1")
            status, body = env.upstream_sees("/verified/x", token)
            self.assertEqual(status, 401)
            self.assertEqual(body["error"]["code"], "insufficient_user_authentication")

            shown = self.cli(env, "show", "--mobile", MOBILE).stdout
            self.assertIn("assurance_level 1", shown)
            self.assertIn("138****8077", shown)
            self.assertNotIn(MOBILE, shown)

            out = self.cli(env, "raise-level", "--mobile", MOBILE, "--level", "2", "--actor", "admin:zhang",
                           "--evidence", "verify-tx-20261125-0001").stdout
            self.assertIn("raised to level 2", out)
            again = self.cli(env, "raise-level", "--mobile", MOBILE, "--level", "2", "--actor", "admin:zhang",
                             "--evidence", "x").stdout
            self.assertIn("already at level 2", again)
            lower = self.cli(env, "raise-level", "--mobile", MOBILE, "--level", "1", "--actor", "a", "--evidence", "b",
                             check=False)
            self.assertEqual(lower.returncode, 2)  # levels are never lowered this way
            events = env.db.query("SELECT from_level, to_level, actor, evidence FROM account_assurance_events")
            self.assertEqual(events, [("1", "2", "admin:zhang", "verify-tx-20261125-0001")])

            token = env.sms_login(MOBILE)["access_token"]
            self.assertEqual(jwt_payload(token)["acr"], "2")
            status, body = env.upstream_sees("/verified/x", token)
            self.assertEqual(status, 200, body)
            self.assertEqual(body["headers"]["x-gateway-acr"], "2")

    def test_unknown_account_and_bad_input(self):
        with SignInGateway() as env:
            self.assertEqual(self.cli(env, "show", "--mobile", "13800138099", check=False).returncode, 1)
            self.assertEqual(self.cli(env, "show", "--mobile", "12345", check=False).returncode, 1)
            self.assertEqual(self.cli(env, "raise-level", "--mobile", MOBILE, check=False).returncode, 2)


if __name__ == "__main__":
    unittest.main()
