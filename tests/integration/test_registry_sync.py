#!/usr/bin/env python3
"""Services and routes from the registry in MariaDB (registry.source
"database", docs/registry.md §4): every node follows each change within a
second, a burst of changes fails no request, a database outage leaves the
nodes serving the last registry (and a restarted node serves the cache file),
and `yiwang config export` prints the registry (§7).

The test starts a MariaDB server of its own (scripts/mariadb.sh) rather than
the shared one, because it stops and restarts it. Registry rows are written
with SQL the way every admin write must be (§3): one transaction that bumps
registry_version first and gives each row it writes that version."""

import copy
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import yiwang_testlib as lib  # noqa: E402
from mariadb_fixture import MARIADB_SCRIPT, run_sql  # noqa: E402

PROPAGATION_LIMIT_S = 1.0


class PrivateMariaDB:
    """A MariaDB server this test starts and may stop (by its own pid file, through scripts/mariadb.sh)."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="yw-rs-", dir="/tmp")  # short: a socket path must fit 107 bytes
        self.dsn = None

    def start(self):
        proc = subprocess.run(["bash", MARIADB_SCRIPT, "start", self.dir], capture_output=True, text=True, timeout=90)
        if proc.returncode != 0:
            raise AssertionError("scripts/mariadb.sh start failed:\n" + proc.stderr)
        self.dsn = proc.stdout.strip().splitlines()[-1]

    def stop(self):
        subprocess.run(["bash", MARIADB_SCRIPT, "stop", self.dir], capture_output=True, timeout=90, check=False)

    def database(self, name):
        run_sql(self.dsn, "CREATE DATABASE %s CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci" % name)
        return self.dsn.replace("/yiwang?", "/%s?" % name)

    def close(self):
        self.stop()
        if os.environ.get("YIWANG_KEEP_TMP") != "1":
            shutil.rmtree(self.dir, ignore_errors=True)


class Registry:
    """One registry database: migrated, and written the way admin writes are (§3)."""

    def __init__(self, server, name):
        self.dsn = server.database(name)
        self.dir = tempfile.mkdtemp(prefix="yiwang-registry-")
        self.cli_config = os.path.join(self.dir, "cli.json")
        with open(self.cli_config, "w") as f:
            json.dump({"database": {"dsn": self.dsn}}, f)
        self.cli("migrate")

    def cli(self, *args, check=True):
        argv = [lib.YIWANG_BIN] + list(args) + ["--config", self.cli_config]
        proc = subprocess.run(argv, capture_output=True, text=True, timeout=60)
        if check and proc.returncode != 0:
            raise AssertionError("%s failed (%d):\n%s" % (" ".join(argv), proc.returncode, proc.stderr))
        return proc

    def query(self, sql):
        return run_sql(self.dsn, sql)

    def write(self, *statements):
        """One registry write: bump the version first, then the rows with version = @v."""
        sql = ["SET NAMES utf8mb4", "START TRANSACTION",
               "UPDATE registry_version SET version = LAST_INSERT_ID(version + 1) WHERE id = 1",
               "SET @v = LAST_INSERT_ID()"]
        run_sql(self.dsn, ";\n".join(sql + list(statements) + ["COMMIT"]) + ";\n")

    def version(self):
        return int(self.query("SELECT version FROM registry_version")[0][0])

    def node_config(self, cache_file="registry.json"):
        registry = {"source": "database"}
        if cache_file:
            registry["cache_file"] = cache_file
        return lib.make_config([], [], database={"dsn": self.dsn, "pool_size": 1}, registry=registry)

    def close(self):
        shutil.rmtree(self.dir, ignore_errors=True)


class Node(lib.Gateway):
    """A gateway that must exit 0 on SIGTERM, with nothing from a sanitizer on stderr (the ASan build runs this too)."""

    def __exit__(self, *exc):
        code = self.stop()
        stderr = self.stderr()
        self.close()
        if exc[0] is None:
            assert code == 0 and "Sanitizer" not in stderr, "gateway exited with %s:\n%s" % (code, stderr[-4000:])


def sql_string(value):
    return "'" + value.replace("\\", "\\\\").replace("'", "''") + "'"


def department(name, display_name="深圳市税务局", region="440300"):
    return ("INSERT INTO departments (name, display_name, region_code, version) VALUES (%s, %s, %s, @v)"
            % (sql_string(name), sql_string(display_name), sql_string(region)))


def spec_of(upstream, **extra):
    spec = lib.service("x", [upstream], max_failures=3, cooldown_ms=1000, **extra)
    del spec["name"]
    return json.dumps(spec)


def create_service(name, upstream, dept="sz-tax"):
    return ("INSERT INTO services (name, department_id, spec, version) SELECT %s, id, %s, @v FROM departments WHERE name = %s"
            % (sql_string(name), sql_string(spec_of(upstream)), sql_string(dept)))


def create_route(name, prefix, service, methods=None):
    return ("INSERT INTO routes (name, path_prefix, methods, service_id, strip_prefix, version) "
            "SELECT %s, %s, %s, id, 1, @v FROM services WHERE name = %s"
            % (sql_string(name), sql_string(prefix), sql_string(methods) if methods else "NULL", sql_string(service)))


def route_to(name, service):
    return ("UPDATE routes SET service_id = (SELECT id FROM services WHERE name = %s), version = @v WHERE name = %s"
            % (sql_string(service), sql_string(name)))


def delete_route(name):
    return "DELETE FROM routes WHERE name = %s" % sql_string(name)


def answer(node, path):
    """(status, the upstream that answered or None)."""
    try:
        status, headers, _ = lib.http_request("GET", node.public_url + path, timeout=2.0)
    except OSError:
        return 0, None
    return status, headers.get("x-upstream")


def time_until(nodes, path, expected, limit=3.0):
    """Seconds from now until every node answers `path` as `expected` ((status, upstream)); bounded by `limit`."""
    start = time.monotonic()
    reached = {}
    while len(reached) < len(nodes):
        for i, node in enumerate(nodes):
            if i not in reached and answer(node, path) == expected:
                reached[i] = time.monotonic() - start
        if time.monotonic() - start > limit:
            raise AssertionError("%s not %r on nodes %s after %.1fs" % (path, expected,
                                 [i for i in range(len(nodes)) if i not in reached], limit))
        time.sleep(0.01)
    return max(reached.values())


def readyz(node):
    status, _, body = lib.http_request("GET", node.ops_url + "/readyz", timeout=2.0)
    return status, json.loads(body)


def metric(node, name):
    text = lib.http_request("GET", node.ops_url + "/metrics", timeout=2.0)[2].decode()
    found = re.search(r"^%s (\S+)$" % re.escape(name), text, re.M)
    return float(found.group(1)) if found else None


class RegistrySyncTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = PrivateMariaDB()
        cls.server.start()

    @classmethod
    def tearDownClass(cls):
        cls.server.close()

    def setUp(self):
        self.upstreams = [lib.Upstream("a"), lib.Upstream("b")]
        self.a, self.b = self.upstreams
        self.registry = Registry(self.server, "yiwang_rs_" + self._testMethodName[5:20])
        self.registry.write(department("sz-tax"), create_service("a", self.a), create_service("b", self.b))

    def tearDown(self):
        for upstream in self.upstreams:
            upstream.close()
        self.registry.close()

    def test_changes_reach_both_nodes_within_a_second(self):
        config = self.registry.node_config()
        with Node(config) as node_a, Node(config) as node_b:
            nodes = [node_a, node_b]
            self.assertEqual(answer(node_a, "/one/x"), (404, None))

            started = time.monotonic()
            self.registry.write(create_route("one", "/one/", "a"))
            created = time_until(nodes, "/one/x", (200, "a"))
            self.registry.write(route_to("one", "b"))
            moved = time_until(nodes, "/one/x", (200, "b"))
            self.registry.write(delete_route("one"))
            deleted = time_until(nodes, "/one/x", (404, None))
            print("propagation to both nodes: create %.3fs, retarget %.3fs, delete %.3fs (total %.1fs)"
                  % (created, moved, deleted, time.monotonic() - started), file=sys.stderr)
            for what, seconds in (("create", created), ("retarget", moved), ("delete", deleted)):
                self.assertLess(seconds, PROPAGATION_LIMIT_S, what)

            version = self.registry.version()
            for node in nodes:
                status, body = readyz(node)
                self.assertEqual((status, body["status"], body["registry_version"]), (200, "ready", version))
                self.assertRegex(body["registry_synced_at"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
                self.assertEqual(metric(node, "yiwang_registry_version"), version)
                self.assertEqual(metric(node, "yiwang_registry_sync_failures_total"), 0)
                # Each version served is logged with where its time went (docs/performance.md uses this line).
                self.assertRegex(node.stderr(), r"registry: serving version %d \(2 services, 0 routes\); read in \d+ ms, "
                                 r"built in \d+ ms, cache written in \d+ ms" % version)
            # The cache file follows every accepted version.
            with open(os.path.join(node_a.dir, "registry.json")) as f:
                cache = json.load(f)
            self.assertEqual((cache["registry_version"], cache["routes"]), (version, []))
            self.assertEqual([s["name"] for s in cache["services"]], ["a", "b"])

    def test_burst_of_changes_fails_no_request(self):
        self.registry.write(create_route("steady", "/steady/", "a"))
        config = self.registry.node_config()
        with Node(config) as node_b:
            time_until([node_b], "/steady/x", (200, "a"))
            generation = readyz(node_b)[1]["generation"]
            result = {}
            load = threading.Thread(target=lambda: result.update(run=subprocess.run(
                ["h2load", "-D", "6", "-c", "4", "--h1", node_b.public_url + "/steady/x"],
                capture_output=True, text=True, timeout=60)))
            load.start()
            time.sleep(0.5)
            for i in range(20):  # other routes and services change under the load
                if i % 4 == 0:
                    self.registry.write(create_route("r%d" % i, "/r%d/" % i, "b"))
                elif i % 4 == 1:
                    self.registry.write(route_to("r%d" % (i - 1), "a"))
                elif i % 4 == 2:
                    self.registry.write("UPDATE services SET spec = %s, version = @v WHERE name = 'b'"
                                        % sql_string(spec_of(self.b, retries=i % 3)))
                else:
                    self.registry.write(delete_route("r%d" % (i - 3)))
                time.sleep(0.2)
            load.join(timeout=70)
            self.assertFalse(load.is_alive(), "h2load did not finish")
            out = result["run"].stdout
            print(re.search(r"^requests:.*$", out, re.M).group(0), file=sys.stderr)
            print(re.search(r"^status codes:.*$", out, re.M).group(0), file=sys.stderr)
            found = re.search(r"requests: (\d+) total, (\d+) started, (\d+) done, (\d+) succeeded, (\d+) failed, "
                              r"(\d+) errored, (\d+) timeout", out)
            self.assertIsNotNone(found, out)
            total, _, done, succeeded, failed, errored, timeouts = map(int, found.groups())
            codes = re.search(r"status codes: (\d+) 2xx, (\d+) 3xx, (\d+) 4xx, (\d+) 5xx", out)
            self.assertGreater(done, 1000, out)
            self.assertEqual((failed, errored, timeouts), (0, 0, 0), out)
            self.assertEqual(int(codes.group(1)), succeeded, out)
            self.assertEqual(succeeded, done, out)
            # The node really rebuilt under the load, and ended on the last version.
            status, body = readyz(node_b)
            self.assertGreaterEqual(body["generation"] - generation, 5, body)
            lib.wait_until(lambda: readyz(node_b)[1]["registry_version"] == self.registry.version(), timeout=3,
                           message="the last version")

    def test_database_outage_keeps_the_last_registry(self):
        self.registry.write(create_route("one", "/one/", "a"))
        with Node(self.registry.node_config()) as node:
            time_until([node], "/one/x", (200, "a"))
            served = self.registry.version()
            self.server.stop()
            try:
                lib.wait_until(lambda: readyz(node)[1]["status"] == "degraded", timeout=5,
                               message="readyz to say degraded")
                status, body = readyz(node)
                self.assertEqual(status, 200)
                self.assertEqual(body["registry_version"], served)
                self.assertIn("database unreachable", body["reason"])
                self.assertIsNotNone(body["registry_synced_at"])
                self.assertGreater(metric(node, "yiwang_registry_sync_failures_total"), 0)
                for _ in range(20):
                    self.assertEqual(answer(node, "/one/x"), (200, "a"))

                # A node restarted during the outage serves the cache file; one without a cache serves nothing.
                node.stop()
                node.start()
                self.assertEqual(answer(node, "/one/x"), (200, "a"))
                status, body = readyz(node)
                self.assertEqual((status, body["status"], body["registry_version"]), (200, "degraded", served))
                with Node(self.registry.node_config(cache_file=None)) as bare:
                    self.assertEqual(answer(bare, "/one/x"), (404, None))
                    status, body = readyz(bare)
                    self.assertEqual((status, body["status"]), (503, "not_ready"))
                    self.assertIn("registry not loaded", " ".join(body["reasons"]))
            finally:
                self.server.start()

            # Back: a change made now reaches the node within a few seconds, and it is ready again.
            self.registry.write(route_to("one", "b"))
            caught_up = time_until([node], "/one/x", (200, "b"), limit=5.0)
            print("caught up %.3fs after the first change following the outage" % caught_up, file=sys.stderr)
            lib.wait_until(lambda: readyz(node)[1]["status"] == "ready", timeout=3, message="readyz ready")
            self.assertEqual(readyz(node)[1]["registry_version"], self.registry.version())
            self.assertIn("registry: database reachable again", node.stderr())

    def test_rejected_version_keeps_the_last_registry(self):
        self.registry.write(create_route("one", "/one/", "a"))
        config = self.registry.node_config()
        config["limits"] = {"max_body_bytes": 1000}
        with Node(config) as node:
            time_until([node], "/one/x", (200, "a"))
            good = self.registry.version()
            # Valid in the database, but above this node's limits.max_body_bytes: the build is rejected here.
            self.registry.write("UPDATE routes SET max_body_bytes = 5000, version = @v WHERE name = 'one'",
                                create_route("two", "/two/", "b"))
            lib.wait_until(lambda: readyz(node)[1]["status"] == "degraded", timeout=3, message="degraded")
            status, body = readyz(node)
            self.assertEqual((status, body["registry_version"]), (200, good))
            self.assertIn("rejected", body["reason"])
            self.assertEqual(answer(node, "/two/x"), (404, None))
            self.assertEqual(answer(node, "/one/x"), (200, "a"))
            time.sleep(1.2)  # several polls: logged once, not once per poll
            self.assertEqual(node.stderr().count("rejected; still serving version %d" % good), 1, node.stderr())
            self.assertIn("/routes/0/max_body_bytes (route 'one'): must not exceed limits.max_body_bytes (1000)",
                          node.stderr())
            self.registry.write("UPDATE routes SET max_body_bytes = 900, version = @v WHERE name = 'one'")
            time_until([node], "/two/x", (200, "b"))
            self.assertEqual(readyz(node)[1]["status"], "ready")

    def test_target_state_survives_a_registry_change(self):
        dead = ("127.0.0.1", lib.free_port())
        spec = lib.service("x", [self.a, dead], max_failures=1, cooldown_ms=60000, retries=1)
        del spec["name"]
        self.registry.write("INSERT INTO services (name, department_id, spec, version) SELECT 'c', id, %s, @v "
                            "FROM departments WHERE name = 'sz-tax'" % sql_string(json.dumps(spec)),
                            create_route("c", "/c/", "c"))
        target = 'yiwang_upstream_target_healthy{service="c",target="127.0.0.1:%d"}' % dead[1]
        ejections = 'yiwang_upstream_target_ejections_total{service="c",target="127.0.0.1:%d"}' % dead[1]
        with Node(self.registry.node_config()) as node:
            time_until([node], "/c/x", (200, "a"))
            for _ in range(4):  # round robin reaches the dead target, which is ejected; the retry answers
                self.assertEqual(answer(node, "/c/x"), (200, "a"))
            self.assertEqual((metric(node, target), metric(node, ejections)), (0, 1))
            self.registry.write(create_route("other", "/other/", "b"))
            time_until([node], "/other/x", (200, "b"))
            # The new snapshot took the service's state over: still ejected, not probed again.
            self.assertEqual((metric(node, target), metric(node, ejections)), (0, 1))
            for _ in range(4):
                self.assertEqual(answer(node, "/c/x"), (200, "a"))
            self.assertEqual(metric(node, ejections), 1)

    def test_sighup_keeps_the_registry(self):
        self.registry.write(create_route("one", "/one/", "a"))
        with Node(self.registry.node_config()) as node:
            time_until([node], "/one/x", (200, "a"))
            generation = readyz(node)[1]["generation"]
            node.reload()  # the file is read again and the registry being served merged into it
            lib.wait_until(lambda: readyz(node)[1]["generation"] > generation, timeout=3, message="the reload")
            self.assertEqual(answer(node, "/one/x"), (200, "a"))
            # Routes in the file would be a second source: the reload is refused, the registry stays.
            config = copy.deepcopy(node.config)
            config["routes"] = [lib.route("file", "/file/", "a")]
            node.write_config(config)
            node.reload()
            lib.wait_until(lambda: "reload rejected" in node.stderr(), timeout=3, message="the reload to be rejected")
            self.assertIn('/routes: must be empty with registry.source \\"database\\"', node.stderr())
            self.assertEqual(answer(node, "/one/x"), (200, "a"))
            self.assertEqual(answer(node, "/file/x"), (404, None))

    def test_export(self):
        empty = Registry(self.server, "yiwang_rs_empty")
        try:
            doc = json.loads(empty.cli("config", "export").stdout)
            self.assertEqual(doc, {"format": "yiwang-registry/1", "registry_version": 0, "departments": [],
                                   "route_namespaces": [], "scopes": [], "rate_policies": [], "services": [],
                                   "routes": [], "clients": []})
        finally:
            empty.close()

        r = self.registry
        r.write(department("gd-hrss", "广东省人力资源和社会保障厅", "440000"),
                "UPDATE departments SET parent_id = (SELECT id FROM (SELECT id FROM departments WHERE name = 'gd-hrss') g), "
                "version = @v WHERE name = 'sz-tax'",
                "INSERT INTO scopes (name, department_id, display_name, version) SELECT 'tax:invoice:read', id, '查询发票', @v "
                "FROM departments WHERE name = 'sz-tax'",
                "INSERT INTO rate_policies (name, requests, per_s, burst, key_by, version) VALUES "
                "('platform', 100, 1, 200, 'client_ip', @v)",
                "INSERT INTO route_namespaces (department_id, path_prefix, version) SELECT id, '/tax/', @v FROM departments "
                "WHERE name = 'sz-tax'",
                create_route("zz-last", "/tax/z/", "b", "GET,POST"),
                create_route("invoices", "/tax/invoices/", "a"),
                "UPDATE routes SET auth_policy = 'user', min_acr = 2, rate_policy_id = (SELECT id FROM rate_policies), "
                "version = @v WHERE name = 'invoices'",
                "INSERT INTO route_scopes (route_id, scope_id) SELECT r.id, s.id FROM routes r, scopes s "
                "WHERE r.name = 'invoices'",
                "INSERT INTO oauth_clients (client_id, name, kind, owner_department_id, confidential, secret_hash, "
                "allowed_scopes, grant_types, cors_origins, version) SELECT 'tax-bot', '税务机器人', 'department_service', "
                "id, 1, REPEAT('ab', 32), 'tax:invoice:read openid', 'client_credentials', '[\"https://tax.example\"]', @v "
                "FROM departments WHERE name = 'sz-tax'",
                "INSERT INTO admin_accounts (name, role, version) VALUES ('root-admin', 'platform_admin', @v)")
        out = r.cli("config", "export").stdout
        doc = json.loads(out)
        self.assertEqual(list(doc), ["format", "registry_version", "departments", "route_namespaces", "scopes",
                                     "rate_policies", "services", "routes", "clients"])
        self.assertEqual(doc["registry_version"], r.version())
        self.assertEqual([d["name"] for d in doc["departments"]], ["gd-hrss", "sz-tax"])
        self.assertEqual(doc["departments"][1]["parent"], "gd-hrss")
        self.assertEqual(doc["departments"][0]["display_name"], "广东省人力资源和社会保障厅")
        self.assertEqual(doc["route_namespaces"], [{"department": "sz-tax", "path_prefix": "/tax/"}])
        self.assertEqual(doc["scopes"][0]["display_name"], "查询发票")
        self.assertEqual(doc["rate_policies"][0], {"name": "platform", "description": "", "requests": 100, "per_s": 1,
                                                   "burst": 200, "key_by": "client_ip"})
        self.assertEqual([s["name"] for s in doc["services"]], ["a", "b"])
        self.assertEqual(doc["services"][0]["department"], "sz-tax")
        self.assertEqual(doc["services"][0]["targets"], [self.a.target()])
        self.assertEqual([x["name"] for x in doc["routes"]], ["invoices", "zz-last"])
        invoices, last = doc["routes"]
        self.assertEqual(invoices["auth"], {"policy": "user", "scopes": ["tax:invoice:read"], "min_acr": 2,
                                            "forward_authorization": False})
        self.assertEqual(invoices["rate_policy"], "platform")
        self.assertNotIn("methods", invoices)
        self.assertEqual(last["methods"], ["GET", "POST"])
        client = doc["clients"][0]
        self.assertEqual((client["client_id"], client["department"], client["allowed_scopes"], client["cors_origins"]),
                         ("tax-bot", "sz-tax", ["tax:invoice:read", "openid"], ["https://tax.example"]))
        for secret in ("secret", "hash", "abababab", "root-admin", "admin_accounts"):
            self.assertNotIn(secret, out)
        for item in doc["routes"] + doc["services"]:
            self.assertNotIn("version", item)

        # A file that is not a registry's (no database) is refused with status 1.
        with tempfile.NamedTemporaryFile("w", suffix=".json") as f:
            json.dump({}, f)
            f.flush()
            proc = subprocess.run([lib.YIWANG_BIN, "config", "export", "--config", f.name], capture_output=True,
                                  text=True, timeout=30)
            self.assertEqual(proc.returncode, 1, proc.stderr)


if __name__ == "__main__":
    unittest.main()
