#!/usr/bin/env python3
"""Legal persons (法人) and their agents through `yiwang accounts`: a code with
a wrong check digit is refused, a code is registered once, only an existing
account becomes an agent, a role can change, and an agent can be removed.

Acting for a legal person: a sign-in with "org" succeeds only for its agent;
the tokens carry the credit code as `org`, the department service receives
it as X-Gateway-Org, a refresh keeps it, and removing the agent stops the
next refresh and revokes the family.

The browser flow with the `org` parameter of /oauth/authorize: a malformed
code is invalid_request, a person who is not the agent gets access_denied and
no code — after signing in and with single sign-on alike — an agent's code
yields tokens with `org` (ID token included), a third party always asks for
consent and names the legal person, and removing the agent stops the code
not yet redeemed and the refresh."""

import os
import subprocess
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import yiwang_testlib as lib  # noqa: E402
from sign_in_helpers import Browser, SignInGateway, jwt_payload, pkce_pair  # noqa: E402

USCC = "91350100M000100Y43"
OTHER_USCC = "91110000600037341L"
UNREGISTERED_USCC = "91440300MA5D000015"
MOBILE = "13800138099"
AGENT = "13800138098"
BROWSER_USCC = "91320500MA1MX0000R"
NOBODYS_USCC = "91310000MA1FL0000N"  # valid, never registered
BROWSER_AGENT = "13800138097"


class LegalPersonsTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.env = SignInGateway()
        cls.env.add_browser_clients()
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

    # ---- the browser flow

    def authorize(self, browser, client_id="h5", **extra):
        verifier, challenge = pkce_pair()
        params = {"response_type": "code", "client_id": client_id, "redirect_uri": "https://%s.example/cb" % client_id,
                  "scope": "openid profile", "state": "st", "nonce": "n-1", "code_challenge": challenge,
                  "code_challenge_method": "S256"}
        params.update(extra)
        return browser.authorize(**params), verifier

    def assert_refused(self, resp, error, description):
        self.assertIn(resp.status, (302, 303), resp.text)
        got = resp.redirect_params()
        self.assertNotIn("code", got)
        self.assertEqual((got["error"], got["error_description"], got["state"]), (error, description, "st"))

    def code_tokens(self, resp, verifier, client_id="h5"):
        self.assertIn(resp.status, (302, 303), resp.text)
        status, _, body = self.env.token_by_code(resp.redirect_params()["code"], client_id, verifier=verifier)
        self.assertEqual(status, 200, body)
        return body

    def codes_of(self, mobile):
        return self.env.db.query("SELECT org FROM authorization_codes WHERE account_id = '%s' ORDER BY created_at"
                                 % self.env.account_id(mobile))

    def test_browser_flow_acting_for_a_legal_person(self):
        self.assertEqual(self.cli("add-legal-person", "--name", "苏州某制造有限公司", "--uscc", BROWSER_USCC).returncode, 0)
        browser = Browser(self.env)
        malformed, _ = self.authorize(browser, org=BROWSER_USCC[:-1] + "A")
        self.assert_refused(malformed, "invalid_request", "org is not a valid unified social credit code.")
        self.assertNotIn("__Host-yiwang-csrf", browser.cookies)  # refused before any page

        # not (yet) an agent: signing in works, the code does not
        page, _ = self.authorize(browser, org=BROWSER_USCC)
        self.assertEqual(page.status, 200, page.text)
        self.assertEqual(page.forms()[0]["fields"]["org"], BROWSER_USCC)  # carried with the request
        denied = browser.sms_sign_in(page, BROWSER_AGENT)
        self.assert_refused(denied, "access_denied", "The person may not act for this legal person.")
        self.assertIn("__Host-yiwang-sso", browser.cookies)
        sso, _ = self.authorize(browser, org=BROWSER_USCC.lower())  # signed in: no page, the same answer
        self.assert_refused(sso, "access_denied", "The person may not act for this legal person.")
        self.assertEqual(self.codes_of(BROWSER_AGENT), [])

        # an agent: single sign-on, no credentials, tokens for the legal person
        added = self.cli("add-agent", "--uscc", BROWSER_USCC, "--mobile", BROWSER_AGENT, "--role", "agent")
        self.assertEqual(added.returncode, 0, added.stderr)
        got, verifier = self.authorize(browser, org=BROWSER_USCC.lower())
        self.assertEqual(got.status, 302, got.text)
        body = self.code_tokens(got, verifier)
        self.assertEqual(self.codes_of(BROWSER_AGENT), [(BROWSER_USCC,)])
        access, idt = jwt_payload(body["access_token"]), jwt_payload(body["id_token"])
        self.assertEqual((access["org"], idt["org"]), (BROWSER_USCC, BROWSER_USCC))
        self.assertEqual(access["sub"], self.env.account_id(BROWSER_AGENT))
        status, seen = self.env.upstream_sees("/people/x", body["access_token"])
        self.assertEqual((status, seen["headers"]["x-gateway-org"]), (200, BROWSER_USCC))
        status, _, again = self.env.refresh(body["refresh_token"], client_id="h5")
        self.assertEqual(status, 200, again)
        self.assertEqual((jwt_payload(again["access_token"])["org"], jwt_payload(again["id_token"])["org"]),
                         (BROWSER_USCC, BROWSER_USCC))
        other_browser = Browser(self.env)  # signing in on the login page works the same
        page, page_verifier = self.authorize(other_browser, org=BROWSER_USCC)
        signed_in = other_browser.sms_sign_in(page, BROWSER_AGENT)
        self.assertEqual(signed_in.status, 303, signed_in.text)
        self.assertEqual(jwt_payload(self.code_tokens(signed_in, page_verifier)["access_token"])["org"], BROWSER_USCC)
        own, own_verifier = self.authorize(browser)  # the same session without org: the person themselves
        mine = self.code_tokens(own, own_verifier)
        self.assertNotIn("org", jwt_payload(mine["access_token"]))
        self.assertNotIn("org", jwt_payload(mine["id_token"]))

        # a third party acting for the legal person asks every time, and says for whom
        consent, spa_verifier = self.authorize(browser, "spa", org=BROWSER_USCC)
        self.assertEqual((consent.status, consent.forms()[0]["action"]), (200, "/oauth/consent"), consent.text)
        self.assertIn("统一社会信用代码为 <strong>%s</strong> 的企业" % BROWSER_USCC, consent.text)
        forged = browser.submit(consent, 0, decision="approve", org=NOBODYS_USCC)  # hidden field changed
        self.assert_refused(forged, "access_denied", "The person may not act for this legal person.")
        approved = browser.submit(consent, 0, decision="approve")
        status, _, spa = self.env.token_by_code(approved.redirect_params()["code"], "spa", verifier=spa_verifier)
        self.assertEqual((status, jwt_payload(spa["access_token"])["org"]), (200, BROWSER_USCC))
        self.assertEqual(self.authorize(browser, "spa")[0].status, 302)  # the consent is remembered for the person
        again_page, _ = self.authorize(browser, "spa", org=BROWSER_USCC)  # but not for the legal person
        self.assertEqual(again_page.status, 200)
        self.assertNotIn("统一社会信用代码", self.authorize(browser, "spa", prompt="consent")[0].text)
        silent, _ = self.authorize(browser, "spa", org=BROWSER_USCC, prompt="none")
        self.assertEqual(silent.redirect_params()["error"], "consent_required")

        # removing the agent stops a code not yet redeemed, the refresh and new codes
        pending, pending_verifier = self.authorize(browser, org=BROWSER_USCC)
        self.assertEqual(pending.status, 302, pending.text)
        self.assertEqual(self.cli("remove-agent", "--uscc", BROWSER_USCC, "--mobile", BROWSER_AGENT).returncode, 0)
        status, _, refused = self.env.token_by_code(pending.redirect_params()["code"], "h5", verifier=pending_verifier)
        self.assertEqual((status, refused["error"]), (400, "invalid_grant"), refused)
        status, _, refused = self.env.refresh(again["refresh_token"], client_id="h5")
        self.assertEqual((status, refused["error"]), (400, "invalid_grant"))
        self.assert_refused(self.authorize(browser, org=BROWSER_USCC)[0], "access_denied",
                            "The person may not act for this legal person.")
        self.assertEqual(self.env.refresh(mine["refresh_token"], client_id="h5")[0], 200)  # the person's own grant stays

    def test_usage_errors(self):
        self.assertEqual(self.cli("add-legal-person", "--uscc", USCC).returncode, 2)  # no --name
        self.assertEqual(self.cli("add-agent", "--uscc", USCC, "--mobile", MOBILE).returncode, 2)  # no --role
        self.assertEqual(self.cli("frobnicate", "--mobile", MOBILE).returncode, 2)


if __name__ == "__main__":
    unittest.main()
