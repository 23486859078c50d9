#!/usr/bin/env python3
"""Legal persons (法人) and their agents through `yiwang accounts`: a code with
a wrong check digit is refused, a code is registered once, only an existing
account becomes an agent, a role can change, and an agent can be removed."""

import os
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import yiwang_testlib as lib  # noqa: E402
from sign_in_helpers import SignInGateway  # noqa: E402

USCC = "91350100M000100Y43"
MOBILE = "13800138099"


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
                                 "JOIN legal_persons l ON l.id = g.legal_person_id ORDER BY l.uscc")

    def test_registration_and_agents(self):
        bad = self.cli("add-legal-person", "--name", "某公司", "--uscc", USCC[:-1] + "4")
        self.assertEqual(bad.returncode, 1)
        self.assertIn("not a valid unified social credit code", bad.stderr)

        added = self.cli("add-legal-person", "--name", "福州某科技有限公司", "--uscc", USCC.lower())
        self.assertEqual(added.returncode, 0, added.stderr)
        self.assertTrue(added.stdout.startswith("legal_person "))
        self.assertEqual(self.env.db.query("SELECT uscc, status FROM legal_persons"), [(USCC, "active")])
        again = self.cli("add-legal-person", "--name", "x", "--uscc", USCC)
        self.assertEqual(again.returncode, 1)
        self.assertIn("exists already", again.stderr)

        nobody = self.cli("add-agent", "--uscc", USCC, "--mobile", "13900000001", "--role", "agent")
        self.assertEqual(nobody.returncode, 1)
        self.assertIn("no such account", nobody.stderr)
        unknown_code = self.cli("add-agent", "--uscc", "91110000600037341L", "--mobile", MOBILE, "--role", "agent")
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

    def test_usage_errors(self):
        self.assertEqual(self.cli("add-legal-person", "--uscc", USCC).returncode, 2)  # no --name
        self.assertEqual(self.cli("add-agent", "--uscc", USCC, "--mobile", MOBILE).returncode, 2)  # no --role
        self.assertEqual(self.cli("frobnicate", "--mobile", MOBILE).returncode, 2)


if __name__ == "__main__":
    unittest.main()
