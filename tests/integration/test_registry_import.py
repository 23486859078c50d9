#!/usr/bin/env python3
"""`yiwang config import FILE [--dry-run] --config CFG` against a real MariaDB
and the real binary (docs/registry.md §7).

An import is one registry write: one version, one audit row per entity
written (actor cli:<user>, role cli, request id import:...). Sections present
are authoritative, absent ones untouched. export -> import -> export is the
identity, and importing an unchanged export is a no-op (no version, no audit
row). --dry-run prints the plan and changes nothing. A bad file (unknown
reference, bad region code, overlapping routes, a secret member) changes
nothing and names every problem by its JSON pointer. Malformed JSON exits 2
with the position. A node with registry.source = database serves imported
routes within about a second."""

import base64
import copy
import getpass
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


def base_document():
    """A small registry: a province and a city department, a namespace, a scope, a rate policy, two services with a
    route each, and a confidential client."""
    target = [{"host": "127.0.0.1", "port": 9}]
    return {
        "format": "yiwang-registry/1",
        "departments": [
            {"name": "gd", "display_name": "广东省政务服务数据管理局", "region_code": "440000"},
            {"name": "sz-tax", "display_name": "深圳市税务局", "region_code": "440300", "parent": "gd"},
        ],
        "route_namespaces": [{"department": "sz-tax", "path_prefix": "/sz-tax/"}],
        "scopes": [{"name": "tax:invoice:read", "department": "sz-tax", "display_name": "查询发票", "third_party": True}],
        "rate_policies": [{"name": "sz-rl", "department": "sz-tax", "requests": 100}],
        "services": [
            {"name": "hrss", "department": "gd", "targets": target},
            {"name": "tax", "department": "sz-tax", "targets": target},
        ],
        "routes": [
            {"name": "hrss-query", "path_prefix": "/hrss/", "service": "hrss", "strip_prefix": True},
            {"name": "tax-invoice", "path_prefix": "/sz-tax/invoice/", "service": "tax", "methods": ["GET"],
             "rate_policy": "sz-rl", "auth": {"policy": "user", "scopes": ["tax:invoice:read"]}},
        ],
        "clients": [
            {"client_id": "sz-backend", "name": "深圳税务后台", "kind": "department_service", "department": "sz-tax",
             "allowed_scopes": ["tax:invoice:read"]},
        ],
    }


ENTITIES_IN_BASE = 10


class RegistryImportTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.TemporaryDirectory(prefix="yiwang-import-")
        cls.master = os.path.join(cls.dir.name, "master.key")
        with open(os.open(cls.master, os.O_WRONLY | os.O_CREAT, 0o600), "w") as f:
            f.write(os.urandom(32).hex() + "\n")

    @classmethod
    def tearDownClass(cls):
        cls.dir.cleanup()

    def setUp(self):
        # a fresh registry per test, so each one sees exactly its own writes
        self.db = MariaDB()
        self.identity = {"issuer": "https://id.example.gov.cn", "audiences": ["yiwang"], "master_key_file": self.master}
        self.cli_config = os.path.join(self.dir.name, "cli-%s.json" % self.db.database)
        with open(self.cli_config, "w") as f:
            json.dump({"database": {"dsn": self.db.dsn}, "identity": self.identity}, f)
        self.cli_ok("migrate", "--config", self.cli_config)

    def tearDown(self):
        self.db.close()

    # ---- helpers

    def cli(self, *args):
        return subprocess.run([lib.YIWANG_BIN, *args], capture_output=True, text=True, timeout=60)

    def cli_ok(self, *args):
        result = self.cli(*args)
        self.assertEqual(result.returncode, 0, "yiwang %s: %s%s" % (" ".join(args), result.stdout, result.stderr))
        self.assertNotIn("Sanitizer", result.stderr)
        return result.stdout

    def import_file(self, document, *extra):
        path = os.path.join(self.dir.name, "import-%s.json" % self.db.database)
        with open(path, "w") as f:
            if isinstance(document, str):
                f.write(document)
            else:
                json.dump(document, f, ensure_ascii=False)
        result = self.cli("config", "import", path, *extra, "--config", self.cli_config)
        self.assertNotIn("Sanitizer", result.stderr)
        return result

    def import_ok(self, document, *extra):
        result = self.import_file(document, *extra)
        self.assertEqual(result.returncode, 0, result.stdout + result.stderr)
        return result.stdout

    def export(self):
        return json.loads(self.cli_ok("config", "export", "--config", self.cli_config))

    def version(self):
        return int(self.db.query("SELECT version FROM registry_version")[0][0])

    def audit_rows(self):
        return self.db.query("SELECT registry_version, actor, actor_role, action, entity_type, entity_key, request_id "
                             "FROM audit_log ORDER BY id")

    def names(self, table, column="name"):
        return sorted(row[0] for row in self.db.query("SELECT %s FROM %s" % (column, table)))

    def snapshot(self):
        """Everything an import may change, to compare before and after one that must change nothing."""
        return (self.version(), self.audit_rows(), self.export())

    def plan(self, stdout):
        return sorted(line for line in stdout.splitlines() if line.split(" ", 1)[0] in ("create", "update", "delete"))

    # ---- tests

    def test_import_then_round_trip_is_a_no_op(self):
        v0 = self.version()
        out = self.import_ok(base_document())
        self.assertEqual(len(self.plan(out)), ENTITIES_IN_BASE, out)
        self.assertIn("create route tax-invoice", out)
        self.assertIn("create department sz-tax", out)
        # the new confidential client's secret, once, on stdout
        secrets = [line.split(" ") for line in out.splitlines() if line.startswith("client_secret ")]
        self.assertEqual(len(secrets), 1, out)
        self.assertEqual(secrets[0][1], "sz-backend")
        secret = secrets[0][2]
        self.assertEqual(len(secret), 43)
        # one version, one audit row per entity, all from this import
        self.assertEqual(self.version(), v0 + 1)
        rows = self.audit_rows()
        self.assertEqual(len(rows), ENTITIES_IN_BASE)
        for version, actor, role, action, _, _, request_id in rows:
            self.assertEqual(int(version), v0 + 1)
            self.assertEqual(actor, "cli:" + getpass.getuser())
            self.assertEqual(role, "cli")
            self.assertEqual(action, "import")
            self.assertTrue(request_id.startswith("import:"), request_id)
        self.assertEqual(len({row[6] for row in rows}), 1)
        # the secret is nowhere in the database but as a hash, and not in the audit log
        dump = json.dumps(self.db.query("SELECT diff_before, diff_after FROM audit_log"))
        self.assertNotIn(secret, dump)
        self.assertNotIn("secret_hash", dump)

        first = self.export()
        self.assertEqual(first["routes"][1]["auth"]["scopes"], ["tax:invoice:read"])
        self.assertIs(first["scopes"][0]["third_party"], True)
        version, audit = self.version(), len(self.audit_rows())
        out = self.import_ok(first)
        self.assertIn("no changes", out)
        self.assertIn("unchanged: %d" % ENTITIES_IN_BASE, out)
        self.assertEqual(self.plan(out), [])
        self.assertNotIn("client_secret", out)
        self.assertEqual(self.version(), version)
        self.assertEqual(len(self.audit_rows()), audit)
        self.assertEqual(self.export(), first)
        # the original, hand-written file (defaults left out) is unchanged as well, and so is a client id spelled
        # in another case (client ids compare case-insensitively and never change)
        doc = base_document()
        doc["clients"][0]["client_id"] = "SZ-Backend"
        out = self.import_ok(doc)
        self.assertIn("no changes", out)
        self.assertEqual(self.version(), version)

    def test_import_creates_updates_and_deletes_to_match(self):
        self.import_ok(base_document())
        v1, audit_before = self.version(), len(self.audit_rows())
        doc = base_document()
        doc["services"][1]["retries"] = 2  # update service tax
        del doc["services"][0]  # delete service hrss, after its route
        doc["routes"] = [
            # a rename on the same path: the old route goes first, so the new one does not overlap it
            dict(doc["routes"][1], name="tax-invoices"),
            {"name": "tax-refund", "path_prefix": "/sz-tax/refund/", "service": "tax", "methods": ["POST"]},
        ]
        doc["departments"].append({"name": "sz-futian", "display_name": "福田区税务局", "region_code": "440304",
                                   "parent": "sz-tax"})
        del doc["clients"]  # absent section: untouched
        out = self.import_ok(doc)
        expected = ["create department sz-futian", "create route tax-invoices", "create route tax-refund",
                    "delete route hrss-query", "delete route tax-invoice", "delete service hrss", "update service tax"]
        self.assertEqual(self.plan(out), expected)
        self.assertIn("unchanged: 5", out)  # gd, sz-tax, the namespace, the scope, the rate policy
        self.assertEqual(self.version(), v1 + 1)
        self.assertEqual(self.names("services"), ["tax"])
        self.assertEqual(self.names("routes"), ["tax-invoices", "tax-refund"])
        self.assertEqual(self.names("departments"), ["gd", "sz-futian", "sz-tax"])
        self.assertEqual(self.names("oauth_clients", "client_id"), ["sz-backend"])
        self.assertEqual(json.loads(self.db.query("SELECT spec FROM services WHERE name = 'tax'")[0][0])["retries"], 2)
        # scopes of the renamed route moved with it
        self.assertEqual(self.export()["routes"][0]["auth"]["scopes"], ["tax:invoice:read"])
        # exactly one audit row per entity written, all at the new version
        rows = self.audit_rows()[audit_before:]
        self.assertEqual(sorted("%s %s" % (r[4], r[5]) for r in rows),
                         ["department sz-futian", "route hrss-query", "route tax-invoice", "route tax-invoices",
                          "route tax-refund", "service hrss", "service tax"])
        self.assertTrue(all(int(r[0]) == v1 + 1 for r in rows))
        # a deletion records the whole entity before, nothing after
        before, after = self.db.query("SELECT diff_before, diff_after FROM audit_log WHERE entity_key = 'hrss' "
                                      "AND entity_type = 'service' ORDER BY id DESC LIMIT 1")[0]
        self.assertEqual(json.loads(before)["name"], "hrss")
        self.assertIn(after, (None, "NULL"))

        # a namespace is keyed by its host and prefix as the route table compares them: another department is an
        # update of the same row (its id stays), whatever the spelling of the prefix; a missing one is deleted
        ns_id = self.db.query("SELECT id FROM route_namespaces")[0][0]
        doc["route_namespaces"] = [{"department": "gd", "path_prefix": "/SZ-TAX"},
                                   {"department": "gd", "host": "gd.gov.cn", "path_prefix": "/"}]
        out = self.import_ok(doc)
        self.assertEqual(self.plan(out), ["create route_namespace gd.gov.cn/ (department gd)",
                                          "update route_namespace /SZ-TAX (department gd)"])
        self.assertEqual(self.db.query("SELECT id FROM route_namespaces WHERE host IS NULL")[0][0], ns_id)
        doc["route_namespaces"] = doc["route_namespaces"][:1]
        out = self.import_ok(doc)
        self.assertEqual(self.plan(out), ["delete route_namespace gd.gov.cn/ (department gd)"])
        self.assertIn(("route_namespace", str(ns_id)), [(r[4], r[5]) for r in self.audit_rows()])

        # deleting a department that is still used is refused, with nothing written
        doc2 = copy.deepcopy(doc)
        doc2["departments"] = [d for d in doc2["departments"] if d["name"] != "sz-tax"]
        state = self.snapshot()
        result = self.import_file(doc2)
        self.assertEqual(result.returncode, 1, result.stdout + result.stderr)
        self.assertIn("/departments: department 'sz-tax' is not in the file but cannot be deleted", result.stderr)
        self.assertEqual(self.snapshot(), state)

    def test_dry_run_prints_the_plan_and_changes_nothing(self):
        self.import_ok(base_document())
        doc = base_document()
        doc["scopes"].append({"name": "tax:refund", "department": "sz-tax", "display_name": "退税"})
        doc["routes"] = doc["routes"][1:]
        doc["clients"].append({"client_id": "sz-app", "name": "i深圳", "kind": "web", "department": "sz-tax",
                               "confidential": False, "grant_types": ["authorization_code"],
                               "redirect_uris": ["https://app.sz.gov.cn/cb"]})
        state = self.snapshot()
        out = self.import_ok(doc, "--dry-run")
        self.assertEqual(self.plan(out), ["create client sz-app", "create scope tax:refund", "delete route hrss-query"])
        self.assertIn("dry run", out)
        self.assertNotIn("client_secret", out)
        self.assertEqual(self.snapshot(), state)
        # the same file for real does what the dry run said
        out = self.import_ok(doc)
        self.assertEqual(self.plan(out), ["create client sz-app", "create scope tax:refund", "delete route hrss-query"])
        self.assertEqual(self.version(), state[0] + 1)

    def test_bad_import_changes_nothing_and_names_every_problem(self):
        self.import_ok(base_document())
        doc = base_document()
        doc["routes"][0]["service"] = "nope"
        doc["departments"].append({"name": "bad", "display_name": "坏", "region_code": "999999"})
        doc["departments"].append({"name": "sz-out", "display_name": "外", "region_code": "110101", "parent": "sz-tax"})
        doc["routes"].append({"name": "tax-dup", "path_prefix": "/SZ-TAX/invoice", "service": "tax", "methods": ["GET"]})
        doc["clients"][0]["secret"] = "let-me-in"
        doc["scopes"].append({"name": "tax:x", "department": "nowhere", "display_name": "x"})
        state = self.snapshot()
        result = self.import_file(doc)
        self.assertEqual(result.returncode, 1, result.stdout + result.stderr)
        err = result.stderr
        self.assertIn("/routes/0/service: unknown service 'nope'", err)
        self.assertIn("/departments/2/region_code:", err)
        self.assertIn("/departments/3/region_code: region 110101 is not within the parent's region 440300", err)
        self.assertIn("/routes/2/path_prefix: route 'tax-invoice' already serves a method", err)
        self.assertIn("/clients/0/secret: secrets are never imported", err)
        self.assertIn("/scopes/1/department: unknown department 'nowhere'", err)
        self.assertIn("nothing was written", err)
        self.assertEqual(self.snapshot(), state)

        # two new routes that overlap each other
        doc = base_document()
        doc["routes"] += [{"name": "a", "path_prefix": "/x/", "service": "tax"},
                          {"name": "b", "path_prefix": "/x", "service": "tax", "methods": ["POST"]}]
        result = self.import_file(doc)
        self.assertEqual(result.returncode, 1, result.stderr)
        self.assertIn("/routes/3/path_prefix: route 'a' already serves a method", result.stderr)
        self.assertEqual(self.snapshot(), state)

        # not an export at all; duplicate names
        doc = base_document()
        doc["format"] = "yiwang-config/1"
        doc["admin_accounts"] = []
        doc["services"].append(dict(doc["services"][0]))
        result = self.import_file(doc)
        self.assertEqual(result.returncode, 1, result.stderr)
        self.assertIn("/format: must be", result.stderr)
        self.assertIn("/admin_accounts: unknown section", result.stderr)
        self.assertIn("/services/2/name: 'hrss' appears more than once", result.stderr)
        self.assertEqual(self.snapshot(), state)

    def test_the_demo_registry_imports_once(self):
        """docs/demo/registry.json is what scripts/run.sh imports: it loads, and importing it again changes nothing."""
        demo = os.path.join(lib.SOURCE_DIR, "docs", "demo", "registry.json")
        result = self.cli("config", "import", demo, "--config", self.cli_config)
        self.assertEqual(result.returncode, 0, result.stdout + result.stderr)
        exported = self.export()
        self.assertEqual([s["name"] for s in exported["services"]], ["hrss", "tax"])
        routes = {r["name"]: r for r in exported["routes"]}
        self.assertEqual(sorted(routes), ["hrss", "hrss-me", "tax"])
        self.assertEqual(routes["hrss-me"]["auth"]["policy"], "user")  # the demo's sign-in examples call it
        before = self.snapshot()
        again = self.cli("config", "import", demo, "--config", self.cli_config)
        self.assertEqual(again.returncode, 0, again.stdout + again.stderr)
        self.assertIn("no changes", again.stdout)
        self.assertEqual(self.snapshot(), before)

    def test_malformed_json_exits_2_with_the_position(self):
        state = self.snapshot()
        result = self.import_file('{"format": "yiwang-registry/1",\n "departments": [}\n')
        self.assertEqual(result.returncode, 2)
        self.assertRegex(result.stderr, r"import-[^:]*\.json:2:\d+: ")
        self.assertEqual(self.snapshot(), state)
        result = self.cli("config", "import", "--config", self.cli_config)
        self.assertEqual(result.returncode, 2)

    def test_a_database_node_serves_imported_routes_within_a_second(self):
        self.cli_ok("keys", "rotate", "--if-none", "--config", self.cli_config)  # for the client secret at /oauth/token
        with lib.Upstream("tax") as upstream:
            doc = base_document()
            doc["services"][1]["targets"] = [{"host": "127.0.0.1", "port": upstream.port}]
            self.import_ok({"format": "yiwang-registry/1", "departments": doc["departments"]})
            cfg = lib.make_config([], [], database={"dsn": self.db.dsn, "pool_size": 2}, registry={"source": "database"},
                                  identity=self.identity)
            with lib.Gateway(cfg) as gw:
                doc["routes"][1]["auth"] = {"policy": "public"}
                out = self.import_ok(doc)
                start = time.monotonic()
                while True:
                    status, _, _ = lib.http_request("GET", gw.public_url + "/sz-tax/invoice/1")
                    if status == 200 or time.monotonic() - start > 3:
                        break
                    time.sleep(0.05)
                elapsed = time.monotonic() - start
                self.assertEqual(status, 200)
                self.assertLess(elapsed, 1.5)
                # the secret printed once is the client's real one
                secret = [line.split(" ")[2] for line in out.splitlines() if line.startswith("client_secret sz-backend ")][0]
                for password, expected in ((secret, 200), (secret[:-1] + "x", 401)):
                    pair = base64.b64encode(("sz-backend:" + password).encode()).decode()
                    status, _, body = lib.http_request("POST", gw.public_url + "/oauth/token",
                                                       body=b"grant_type=client_credentials&scope=tax:invoice:read",
                                                       headers={"Content-Type": "application/x-www-form-urlencoded",
                                                                "Authorization": "Basic " + pair})
                    self.assertEqual(status, expected, body)


if __name__ == "__main__":
    unittest.main()
