#!/usr/bin/env python3
"""Legal persons (法人) and their agents through `yiwang accounts`: a code with
a wrong check digit is refused, a code is registered once, only an existing
account becomes an agent, a role can change, and an agent can be removed.

Acting for a legal person: a sign-in with "org" succeeds only for its agent;
the tokens carry the credit code as `org`, the department service receives
it as X-Gateway-Org, a refresh keeps it, and removing the agent stops the
next refresh and revokes the family."""

import os
import subprocess
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import yiwang_testlib as lib  # noqa: E402
from sign_in_helpers import SignInGateway, jwt_payload  # noqa: E402

USCC = "91350100M000100Y43"
OTHER_USCC = "91110000600037341L"
UNREGISTERED_USCC = "91440300MA5D000015"
MOBILE = "13800138099"
AGENT = "13800138098"


class LegalPersonsTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.env = SignInGateway()
        cls.env.sms_login(MOBILE)

    @classmethod
    def tearDownClass(cls):
        cls.env.close()

    def cli(self, *args):
        config = os.path.join(self.env.dir.name, "cli.json")
        return subprocess.run([lib.YIWANG_BIN, "accounts", args[0], "--config", config, *args[1:]], capture_output=True,
                              text=True, timeout=60)

    def agents(self):
        return self.env.db.query("SELECT l.uscc, g.role FROM legal_person_agents g "
                                 "JOIN legal_persons l ON l.id = g.legal_person_id WHERE l.uscc = '%s'" % USCC)

    def test_registration_and_agents(self):
        bad = self.cli("add-legal-person", "--name", "某公司", "--uscc", USCC[:-1] + "4")
        self.assertEqual(bad.returncode, 1)
        self.assertIn("not a valid unified social credit code", bad.stderr)

        added = self.cli("add-legal-person", "--name", "福州某科技有限公司", "--uscc", USCC.lower())
        self.assertEqual(added.returncode, 0, added.stderr)
        self.assertTrue(added.stdout.startswith("legal_person "))
        self.assertEqual(self.env.db.query("SELECT name, status FROM legal_persons WHERE uscc = '%s'" % USCC),
                         [("福州某科技有限公司", "active")])
        again = self.cli("add-legal-person", "--name", "x", "--uscc", USCC)
        self.assertEqual(again.returncode, 1)
        self.assertIn("exists already", again.stderr)

        nobody = self.cli("add-agent", "--uscc", USCC, "--mobile", "13900000001", "--role", "agent")
        self.assertEqual(nobody.returncode, 1)
        self.assertIn("no such account", nobody.stderr)
        unknown_code = self.cli("add-agent", "--uscc", UNREGISTERED_USCC, "--mobile", MOBILE, "--role", "agent")
        self.assertEqual(unknown_code.returncode, 1)
        bad_role = self.cli("add-agent", "--uscc", USCC, "--mobile", MOBILE, "--role", "owner")
        self.assertEqual(bad_role.returncode, 2)
        self.assertEqual(self.agents(), [])

        ok = self.cli("add-agent", "--uscc", USCC, "--mobile", MOBILE, "--role", "agent")
        self.assertEqual(ok.returncode, 0, ok.stderr)
        self.assertEqual(self.agents(), [(USCC, "agent")])
        promoted = self.cli("add-agent", "--uscc", USCC, "--mobile", MOBILE, "--role", "legal_representative")
        self.assertEqual(promoted.returncode, 0, promoted.stderr)
        self.assertEqual(self.agents(), [(USCC, "legal_representative")])

        removed = self.cli("remove-agent", "--uscc", USCC, "--mobile", MOBILE)
        self.assertEqual(removed.returncode, 0, removed.stderr)
        self.assertEqual(self.agents(), [])
        twice = self.cli("remove-agent", "--uscc", USCC, "--mobile", MOBILE)
        self.assertEqual(twice.returncode, 1)

    def test_acting_for_a_legal_person(self):
        self.assertEqual(self.cli("add-legal-person", "--name", "某研究院", "--uscc", OTHER_USCC).returncode, 0)
        self.env.sms_login(AGENT)

        status, _, body = self.login_for(AGENT, "91350100M000100Y44")  # wrong check digit
        self.assertEqual((status, body["error"]["code"]), (400, "invalid_org"))
        status, _, body = self.login_for(AGENT, OTHER_USCC)  # right code, but not its agent
        self.assertEqual((status, body["error"]["code"]), (403, "org_not_permitted"))
        status, _, body = self.login_for(AGENT, OTHER_USCC, code="000000")  # wrong credentials say nothing about agents
        self.assertEqual((status, body["error"]["code"]), (401, "invalid_credentials"))

        added = self.cli("add-agent", "--uscc", OTHER_USCC, "--mobile", AGENT, "--role", "administrator")
        self.assertEqual(added.returncode, 0, added.stderr)
        status, _, body = self.login_for(AGENT, OTHER_USCC.lower())
        self.assertEqual(status, 200, body)
        self.assertEqual(jwt_payload(body["access_token"])["org"], OTHER_USCC)
        status, seen = self.env.upstream_sees("/people/x", body["access_token"])
        self.assertEqual((status, seen["headers"]["x-gateway-org"]), (200, OTHER_USCC))

        status, _, again = self.env.refresh(body["refresh_token"])
        self.assertEqual(status, 200, again)
        self.assertEqual(jwt_payload(again["access_token"])["org"], OTHER_USCC)
        own = self.env.sms_login(AGENT)  # signed in as themselves: no org
        self.assertNotIn("org", jwt_payload(own["access_token"]))
        status, seen = self.env.upstream_sees("/people/x", own["access_token"])
        self.assertNotIn("x-gateway-org", seen["headers"])

        self.assertEqual(self.cli("remove-agent", "--uscc", OTHER_USCC, "--mobile", AGENT).returncode, 0)
        status, _, refused = self.env.refresh(again["refresh_token"])
        self.assertEqual((status, refused["error"]), (400, "invalid_grant"))
        family = jwt_payload(again["access_token"])["sid"]
        reasons = self.env.db.query("SELECT DISTINCT revoke_reason FROM refresh_tokens WHERE sid = '%s'" % family)
        self.assertEqual(reasons, [("agent_removed",)])
        self.assertEqual(self.env.refresh(own["refresh_token"])[0], 200)  # the person's own grant is untouched

    def login_for(self, mobile, org, code=None):
        time.sleep(1.05)  # the SMS resend interval of the test gateway
        status, _, body = self.env.send_sms(mobile)
        self.assertEqual(status, 202, body)
        return self.env.login(mobile, code=code or self.env.last_code(mobile), org=org)

    def test_usage_errors(self):
        self.assertEqual(self.cli("add-legal-person", "--uscc", USCC).returncode, 2)  # no --name
        self.assertEqual(self.cli("add-agent", "--uscc", USCC, "--mobile", MOBILE).returncode, 2)  # no --role
        self.assertEqual(self.cli("frobnicate", "--mobile", MOBILE).returncode, 2)


if __name__ == "__main__":
    unittest.main()
