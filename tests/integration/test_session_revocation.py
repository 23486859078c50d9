#!/usr/bin/env python3
"""An ended SSO session stops its access tokens on every gateway node within
about a second, although the tokens are still unexpired and already sit in
the nodes' token caches (issue: "a logout or revocation stops the affected
access tokens on every gateway node within 2 s").

The session is ended directly in MariaDB here, as the logout endpoint will do;
what is under test is the nodes' revocation feed and the proxy-path check."""

import copy
import json
import os
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import yiwang_testlib as lib  # noqa: E402
from sign_in_helpers import SignInGateway, jwt_payload  # noqa: E402

MOBILE = "13800138001"


class SessionRevocationTest(unittest.TestCase):
    def test_ended_session_is_refused_on_every_node_within_two_seconds(self):
        with SignInGateway() as env:
            second_cfg = copy.deepcopy(env.gw.config)
            for listener in second_cfg["listeners"].values():
                if isinstance(listener, dict):
                    listener.pop("port", None)
            with lib.Gateway(second_cfg) as node_b:
                login = env.sms_login(MOBILE)
                token = login["access_token"]
                sid = jwt_payload(token)["sid"]
                headers = ["-H", "Authorization: Bearer " + token]
                for url in (env.gw.public_url, node_b.public_url):
                    for _ in range(3):  # verified once, then served from the thread's cache
                        self.assertEqual(lib.curl(url + "/people/x", *headers, check=False)[0], 200)
                other = env.sms_login("13800138002")["access_token"]  # a session that stays

                env.db.execute("UPDATE sso_sessions SET ended_at = UTC_TIMESTAMP(6), end_reason = 'logout' "
                               "WHERE sid = '%s'" % sid)
                ended = time.monotonic()
                for url in (env.gw.public_url, node_b.public_url):
                    lib.wait_until(lambda: lib.curl(url + "/people/x", *headers, check=False)[0] == 401, timeout=5,
                                   interval=0.05, message="the ended session's token to be refused")
                self.assertLess(time.monotonic() - ended, 2.0)
                r = lib.curl(env.gw.public_url + "/people/x", *headers, check=False)
                self.assertEqual(json.loads(r[2])["error"]["code"], "token_invalid")
                for url in (env.gw.public_url, node_b.public_url):
                    r = lib.curl(url + "/people/x", "-H", "Authorization: Bearer " + other, check=False)
                    self.assertEqual(r[0], 200, "other sessions are not affected")
                metrics = lib.curl(env.gw.ops_url + "/metrics")[2].decode()
                self.assertRegex(metrics, r'yiwang_token_refusals_total\{reason="revoked"\} [1-9]')


if __name__ == "__main__":
    unittest.main()
