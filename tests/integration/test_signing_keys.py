#!/usr/bin/env python3
"""The gateway's own signing keys: `yiwang keys rotate|list`, the JWKS that
every node publishes, and rotation reaching running nodes within seconds.

Uses a real MariaDB (mariadb_fixture): YIWANG_TEST_DSN under scripts/test.sh,
otherwise a private server started by the fixture."""

import json
import os
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import yiwang_testlib as lib  # noqa: E402
from mariadb_fixture import MariaDB  # noqa: E402

ISS = "https://id.yiwang.test"


class SigningKeysTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.TemporaryDirectory(prefix="yiwang-keys-")
        self.db = MariaDB()
        self.master = os.path.join(self.dir.name, "master.key")
        with open(os.open(self.master, os.O_WRONLY | os.O_CREAT, 0o600), "w") as f:
            f.write(os.urandom(32).hex() + "\n")
        self.identity = {"issuer": ISS, "master_key_file": self.master}
        self.cli_config = os.path.join(self.dir.name, "cli.json")
        with open(self.cli_config, "w") as f:
            json.dump({"database": {"dsn": self.db.dsn}, "identity": self.identity}, f)
        self.yiwang("migrate")

    def tearDown(self):
        self.db.close()
        self.dir.cleanup()

    def yiwang(self, *args, check=True, config=None):
        argv = [lib.YIWANG_BIN, *args[:1], *args[1:]]
        if args[0] == "keys":
            argv = [lib.YIWANG_BIN, "keys", args[1], "--config", config or self.cli_config, *args[2:]]
        else:
            argv = [lib.YIWANG_BIN, args[0], "--config", config or self.cli_config, *args[1:]]
        result = subprocess.run(argv, capture_output=True, text=True, timeout=60)
        if check and result.returncode != 0:
            self.fail("%s failed (%d): %s" % (" ".join(argv), result.returncode, result.stderr))
        return result

    def gateway(self, **identity_overrides):
        identity = dict(self.identity, **identity_overrides)
        cfg = lib.make_config([], [], database={"dsn": self.db.dsn}, identity=identity, threads=1)
        return lib.Gateway(cfg)

    def jwks(self, gw):
        status, headers, body = lib.http_request("GET", gw.public_url + "/.well-known/jwks.json")
        self.assertEqual(status, 200)
        self.assertEqual(headers["content-type"], "application/jwk-set+json")
        return json.loads(body)

    def test_rotate_list_and_the_states(self):
        first = self.yiwang("keys", "rotate", "--if-none").stdout.split()[-1]
        self.assertEqual(self.yiwang("keys", "rotate", "--if-none").stdout.split()[-1], first)  # nothing new
        second = self.yiwang("keys", "rotate").stdout.split()[-1]
        self.assertNotEqual(first, second)
        listed = dict(line.split()[0::2] for line in self.yiwang("keys", "list").stdout.splitlines())
        self.assertEqual(listed, {first: "previous", second: "active"})
        self.yiwang("keys", "rotate")
        states = dict(self.db.query("SELECT kid, state FROM signing_keys"))
        self.assertEqual(states[first], "retired")
        self.assertEqual(states[second], "previous")
        # the private half is sealed: no PEM in the database
        for (blob,) in self.db.query("SELECT HEX(private_key_ciphertext) FROM signing_keys"):
            self.assertNotIn("BEGIN".encode().hex().upper(), blob)

    def test_running_nodes_pick_up_a_rotation(self):
        first = self.yiwang("keys", "rotate", "--if-none").stdout.split()[-1]
        with self.gateway() as a, self.gateway() as b:
            for gw in (a, b):
                keys = self.jwks(gw)["keys"]
                self.assertEqual([k["kid"] for k in keys], [first])
                self.assertEqual((keys[0]["kty"], keys[0]["crv"], keys[0]["alg"], keys[0]["use"]), ("EC", "P-256", "ES256", "sig"))
                self.assertNotIn("d", keys[0])
            second = self.yiwang("keys", "rotate").stdout.split()[-1]
            start = time.monotonic()
            for gw in (a, b):
                lib.wait_until(lambda: {k["kid"] for k in self.jwks(gw)["keys"]} == {first, second}, timeout=5,
                               message="node to publish the new key")
            self.assertLess(time.monotonic() - start, 5)
            self.yiwang("keys", "rotate")
            lib.wait_until(lambda: first not in {k["kid"] for k in self.jwks(a)["keys"]}, timeout=5,
                           message="the retired key to leave the JWKS")

    def test_wrong_master_key_is_refused_loudly(self):
        self.yiwang("keys", "rotate", "--if-none")
        other = os.path.join(self.dir.name, "other.key")
        with open(os.open(other, os.O_WRONLY | os.O_CREAT, 0o600), "w") as f:
            f.write(os.urandom(32).hex() + "\n")
        with self.gateway(master_key_file=other) as gw:
            lib.wait_until(lambda: "does not open with this master key" in gw.stderr(), timeout=5,
                           message="an error about the master key")

    def test_a_readable_master_key_file_stops_the_start(self):
        os.chmod(self.master, 0o644)
        cfg = lib.make_config([], [], database={"dsn": self.db.dsn}, identity=self.identity, threads=1)
        with self.assertRaises(AssertionError):
            with lib.Gateway(cfg, ready_timeout=3):
                pass


if __name__ == "__main__":
    unittest.main()
