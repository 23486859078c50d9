#!/usr/bin/env python3
"""The registry end to end, as operators use it: a route created through node
A's admin API serves on node B within a second, a change through the API moves
traffic on both nodes, and a route deleted through the API stops serving on
both; h2load against node B sees no failed request while A's admin API makes
a burst of changes; and with MariaDB stopped the API answers 503
registry_unavailable (docs/registry.md §3–§5). test_registry_sync.py covers the sync with rows
written in SQL and test_admin_api.py the API on one node; this test joins the
two, so a write that forgot to bump the registry version would fail here."""

import json
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import yiwang_testlib as lib  # noqa: E402
from mariadb_fixture import MariaDB  # noqa: E402

LIMIT_S = 1.0


class RegistryAdminFlowTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.TemporaryDirectory(prefix="yiwang-e2e-")
        cls.db = MariaDB()
        master = os.path.join(cls.dir.name, "master.key")
        with open(os.open(master, os.O_WRONLY | os.O_CREAT, 0o600), "w") as f:
            f.write(os.urandom(32).hex() + "\n")
        identity = {"issuer": "https://id.example.gov.cn", "master_key_file": master}
        cli_config = os.path.join(cls.dir.name, "cli.json")
        with open(cli_config, "w") as f:
            json.dump({"database": {"dsn": cls.db.dsn}, "identity": identity}, f)
        for args in (("migrate",), ("keys", "rotate", "--if-none")):
            subprocess.run([lib.YIWANG_BIN, *args, "--config", cli_config], check=True, capture_output=True, timeout=60)
        out = subprocess.run([lib.YIWANG_BIN, "admin", "create", "--config", cli_config, "--name", "root", "--role",
                              "platform_admin"], check=True, capture_output=True, text=True, timeout=60).stdout
        cls.token = out.split()[1]
        cls.blue, cls.green = lib.Upstream("blue"), lib.Upstream("green")
        for upstream in (cls.blue, cls.green):
            upstream.__enter__()
        cfg = lib.make_config([], [], database={"dsn": cls.db.dsn, "pool_size": 2}, identity=identity,
                              registry={"source": "database"})
        cls.a, cls.b = lib.Gateway(cfg), lib.Gateway(cfg)

    @classmethod
    def tearDownClass(cls):
        for node in (cls.a, cls.b):
            code = node.stop()
            stderr = node.stderr()
            node.close()
            assert code == 0 and "Sanitizer" not in stderr and "runtime error:" not in stderr, (code, stderr[-4000:])
        for upstream in (cls.blue, cls.green):
            upstream.__exit__(None, None, None)
        cls.db.close()
        cls.dir.cleanup()

    def admin(self, method, path, body=None, etag=None):
        headers = {"Authorization": "Bearer " + self.token}
        if body is not None:
            headers["Content-Type"] = "application/merge-patch+json" if method == "PATCH" else "application/json"
        if etag is not None:
            headers["If-Match"] = etag
        status, h, raw = lib.http_request(method, self.a.ops_url + "/admin/v1" + path,
                                          body=json.dumps(body) if body is not None else None, headers=headers)
        return status, h, json.loads(raw) if raw else None

    def created(self, path, body):
        status, h, answer = self.admin("POST", path, body)
        self.assertEqual(status, 201, answer)
        return h["etag"]

    def served_by(self, node, path):
        status, _, raw = lib.http_request("GET", node.public_url + path)
        return status, (json.loads(raw).get("service") if status == 200 else None)

    def wait_all(self, path, expected, started):
        """Both nodes answer `expected` ((status, upstream name)) within LIMIT_S of `started`."""
        for node in (self.b, self.a):
            lib.wait_until(lambda: self.served_by(node, path) == expected, timeout=5, interval=0.02,
                           message="%s on %s" % (expected, node.public_url))
        elapsed = time.monotonic() - started
        self.assertLess(elapsed, LIMIT_S, "%s reached both nodes in %.3f s" % (expected, elapsed))
        return elapsed

    def test_create_change_delete_through_the_api(self):
        self.created("/departments", {"name": "sz-hrss", "display_name": "深圳市人力资源和社会保障局", "region_code": "440300"})
        for name, upstream in (("blue", self.blue), ("green", self.green)):
            self.created("/services", {"name": name, "department": "sz-hrss",
                                       "targets": [{"host": "127.0.0.1", "port": upstream.port}]})
        self.assertEqual(self.served_by(self.b, "/e2e/ping")[0], 404)

        started = time.monotonic()
        etag = self.created("/routes", {"name": "e2e", "path_prefix": "/e2e/", "service": "blue", "strip_prefix": True})
        created_in = self.wait_all("/e2e/ping", (200, "blue"), started)

        started = time.monotonic()
        status, h, answer = self.admin("PATCH", "/routes/e2e", {"service": "green"}, etag)
        self.assertEqual(status, 200, answer)
        moved_in = self.wait_all("/e2e/ping", (200, "green"), started)

        started = time.monotonic()
        status, _, answer = self.admin("DELETE", "/routes/e2e", etag=h["etag"])
        self.assertEqual(status, 204, answer)
        deleted_in = self.wait_all("/e2e/ping", (404, None), started)
        print("propagation through the admin API: create %.3f s, change %.3f s, delete %.3f s"
              % (created_in, moved_in, deleted_in), file=sys.stderr)

    def test_zero_failed_requests_during_a_burst_of_admin_changes(self):
        """h2load against node B while node A's admin API makes twenty changes to other routes: not one request may
        fail, and B must really have rebuilt its snapshot under the load."""
        self.created("/departments", {"name": "gz-tax", "display_name": "广州市税务局", "region_code": "440100"})
        self.created("/services", {"name": "steady", "department": "gz-tax",
                                   "targets": [{"host": "127.0.0.1", "port": self.blue.port}]})
        self.created("/services", {"name": "other", "department": "gz-tax",
                                   "targets": [{"host": "127.0.0.1", "port": self.green.port}]})
        self.created("/routes", {"name": "steady", "path_prefix": "/steady/", "service": "steady"})
        self.wait_all("/steady/x", (200, "blue"), time.monotonic())
        generation = json.loads(lib.http_request("GET", self.b.ops_url + "/readyz")[2]).get("generation")
        result = {}
        load = threading.Thread(target=lambda: result.update(run=subprocess.run(
            ["h2load", "-D", "6", "-c", "4", "--h1", self.b.public_url + "/steady/x"],
            capture_output=True, text=True, timeout=60)))
        load.start()
        time.sleep(0.5)
        etags = {}
        for i in range(20):
            name = "burst%d" % (i // 2)
            if i % 2 == 0:
                etags[name] = self.created("/routes", {"name": name, "path_prefix": "/%s/" % name, "service": "other"})
            else:
                status, _, answer = self.admin("DELETE", "/routes/" + name, etag=etags[name])
                self.assertEqual(status, 204, answer)
            time.sleep(0.2)
        load.join(timeout=70)
        self.assertFalse(load.is_alive(), "h2load did not finish")
        out = result["run"].stdout
        found = re.search(r"requests: (\d+) total, (\d+) started, (\d+) done, (\d+) succeeded, (\d+) failed, "
                          r"(\d+) errored, (\d+) timeout", out)
        codes = re.search(r"status codes: (\d+) 2xx", out)
        self.assertIsNotNone(found, out)
        _, _, done, succeeded, failed, errored, timeouts = map(int, found.groups())
        self.assertGreater(done, 1000, out)
        self.assertEqual((failed, errored, timeouts, succeeded, int(codes.group(1))), (0, 0, 0, done, done), out)
        after = json.loads(lib.http_request("GET", self.b.ops_url + "/readyz")[2]).get("generation")
        self.assertGreaterEqual(after - generation, 5, "node B rebuilt its snapshot under the load")
        print("burst of 20 admin changes: %d requests to node B, all 2xx" % done, file=sys.stderr)


class AdminWhileTheDatabaseIsDownTest(unittest.TestCase):
    """MariaDB stopped: the node keeps serving its last snapshot, and admin writes and reads fail with a clear 503
    registry_unavailable (not a 500, not a hang); MariaDB back: the API works again."""

    def test_admin_api_answers_503_while_the_database_is_down(self):
        from test_registry_sync import PrivateMariaDB
        server = PrivateMariaDB()
        server.start()
        work = tempfile.TemporaryDirectory(prefix="yiwang-e2e-down-")
        node = None
        try:
            dsn = server.database("down")
            master = os.path.join(work.name, "master.key")
            with open(os.open(master, os.O_WRONLY | os.O_CREAT, 0o600), "w") as f:
                f.write(os.urandom(32).hex() + "\n")
            identity = {"issuer": "https://id.example.gov.cn", "master_key_file": master}
            cli_config = os.path.join(work.name, "cli.json")
            with open(cli_config, "w") as f:
                json.dump({"database": {"dsn": dsn}, "identity": identity}, f)
            subprocess.run([lib.YIWANG_BIN, "migrate", "--config", cli_config], check=True, capture_output=True, timeout=60)
            token = subprocess.run([lib.YIWANG_BIN, "admin", "create", "--config", cli_config, "--name", "root", "--role",
                                    "platform_admin"], check=True, capture_output=True, text=True, timeout=60).stdout.split()[1]
            node = lib.Gateway(lib.make_config([], [], database={"dsn": dsn, "pool_size": 1}, identity=identity,
                                               registry={"source": "database"}))
            auth = {"Authorization": "Bearer " + token, "Content-Type": "application/json"}
            body = json.dumps({"name": "gd", "display_name": "广东省", "region_code": "440000"})
            status, _, raw = lib.http_request("POST", node.ops_url + "/admin/v1/departments", body=body, headers=auth)
            self.assertEqual(status, 201, raw)

            server.stop()
            for method, path, data in (("POST", "/departments", json.dumps({"name": "sz", "display_name": "深圳市",
                                                                              "region_code": "440300"})),
                                       ("GET", "/departments", None)):
                started = time.monotonic()
                status, headers, raw = lib.http_request(method, node.ops_url + "/admin/v1" + path, body=data,
                                                        headers=auth, timeout=30)
                self.assertEqual(status, 503, raw)
                self.assertEqual(json.loads(raw)["error"]["code"], "registry_unavailable")
                self.assertIn("retry-after", {k.lower() for k in headers})
                self.assertLess(time.monotonic() - started, 10)

            server.start()
            lib.wait_until(lambda: lib.http_request("GET", node.ops_url + "/admin/v1/departments", headers=auth)[0] == 200,
                           timeout=20, interval=0.2, message="the admin API to work again")
        finally:
            if node is not None:
                node.stop()
                node.close()
            server.close()
            work.cleanup()


if __name__ == "__main__":
    unittest.main()
