#!/usr/bin/env python3
"""`yiwang migrate --config FILE` against a real MariaDB (mariadb_fixture):
a fresh database gets every migration, a second run is a no-op, concurrent runs apply them
exactly once, edited history and unknown versions are refused, the lock is
waited for, and connection errors are clear without showing the password.

Run as `python3 test_migrate.py`; uses YIWANG_TEST_DSN when set (ctest via
scripts/test.sh), otherwise starts a private server itself.
"""
import hashlib
import json
import os
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from mariadb_fixture import MariaDB  # noqa: E402
from yiwang_testlib import SOURCE_DIR, YIWANG_BIN, free_port  # noqa: E402

SQL_DIR = os.path.join(SOURCE_DIR, "schemas", "sql")
MIGRATION_001 = os.path.join(SQL_DIR, "001_initial.sql")
# every migration in the tree, in order: the tests follow the schema as it grows
MIGRATIONS = sorted(name for name in os.listdir(SQL_DIR) if name[:3].isdigit() and name.endswith(".sql"))
LATEST = MIGRATIONS[-1]


def sha256_of(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


class MigrateTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.TemporaryDirectory(prefix="yiwang-migrate-")
        self.db = MariaDB()

    def tearDown(self):
        self.db.close()
        self.dir.cleanup()

    def write_config(self, dsn, name="yiwang.json", connect_timeout_ms=2000):
        path = os.path.join(self.dir.name, name)
        with open(path, "w", encoding="utf-8") as f:
            json.dump({"database": {"dsn": dsn, "connect_timeout_ms": connect_timeout_ms}}, f)
        return path

    def migrate(self, config, cwd=None):
        # from another directory: the SQL files must come from the binary, not the source tree
        return subprocess.run([YIWANG_BIN, "migrate", "--config", config], capture_output=True, text=True,
                              timeout=120, cwd=cwd or self.dir.name)

    def assert_ok(self, result):
        self.assertEqual(result.returncode, 0, "stdout:\n%s\nstderr:\n%s" % (result.stdout, result.stderr))

    def test_fresh_database_then_noop(self):
        config = self.write_config(self.db.dsn)
        first = self.migrate(config)
        self.assert_ok(first)
        for name in MIGRATIONS:
            self.assertIn("yiwang migrate: applying %s\n" % name, first.stdout)
        self.assertIn("%d migration%s applied now" % (len(MIGRATIONS), "" if len(MIGRATIONS) == 1 else "s"), first.stdout)
        self.assertIn("schema_migrations", self.db.tables())
        self.assertIn("signing_keys", self.db.tables())
        rows = self.db.query("SELECT version, name, checksum, applied_at IS NOT NULL FROM schema_migrations ORDER BY version")
        self.assertEqual(rows, [(str(int(name[:3])), name, sha256_of(os.path.join(SQL_DIR, name)), "1") for name in MIGRATIONS])
        columns = self.db.query("SELECT column_name, column_type, is_nullable FROM information_schema.columns"
                                " WHERE table_schema = DATABASE() AND table_name = 'signing_keys'"
                                " ORDER BY ordinal_position")
        self.assertEqual([c[0] for c in columns], ["kid", "alg", "public_pem", "private_key_ciphertext", "state",
                                                   "created_at", "activated_at", "retired_at"])
        self.assertEqual(self.db.query("SELECT engine, table_collation FROM information_schema.tables"
                                       " WHERE table_schema = DATABASE() AND table_name = 'signing_keys'"),
                         [("InnoDB", "utf8mb4_unicode_ci")])

        second = self.migrate(config, cwd="/")
        self.assert_ok(second)
        self.assertEqual(second.stdout, "yiwang migrate: database %s is up to date (%s)\n" % (self.db.database, LATEST))
        self.assertEqual(second.stderr, "")
        self.assertEqual(len(self.db.query("SELECT * FROM schema_migrations")), len(MIGRATIONS))

    def test_registry_tables(self):
        """006: the registry's tables and the rules the database itself enforces (docs/registry.md)."""
        config = self.write_config(self.db.dsn)
        self.assert_ok(self.migrate(config))
        # the file again, as a migration that failed halfway would be run again: every statement is idempotent
        with open(os.path.join(SQL_DIR, "006_registry.sql"), encoding="utf-8") as f:
            self.db.execute(f.read())
        for table in ("registry_version", "departments", "rate_policies", "services", "scopes", "routes", "route_scopes",
                      "route_namespaces", "admin_accounts", "admin_tokens", "audit_log"):
            self.assertIn(table, self.db.tables())
        self.assertEqual(self.db.query("SELECT id, version FROM registry_version"), [("1", "0")])
        columns = [c[0] for c in self.db.query("SELECT column_name FROM information_schema.columns WHERE table_schema ="
                                               " DATABASE() AND table_name = 'oauth_clients'")]
        for column in ("owner_department_id", "cors_origins", "version"):
            self.assertEqual(columns.count(column), 1, columns)

        def refused(sql, error):
            with self.assertRaises(AssertionError) as caught:
                self.db.execute(sql)
            self.assertIn(error, str(caught.exception))

        self.db.execute("INSERT INTO departments (name, display_name, region_code, version) VALUES"
                        " ('gd-tax', '国家税务总局广东省税务局', '440000', 1)")
        self.db.execute("INSERT INTO departments (name, display_name, region_code, parent_id, version)"
                        " SELECT 'sz-tax', '国家税务总局深圳市税务局', '440300', id, 2 FROM departments WHERE name = 'gd-tax'")
        refused("INSERT INTO departments (name, display_name, region_code, version) VALUES ('x', 'x', '4403000', 3)",
                "Data too long for column 'region_code'")
        for code in ("44030", "040300", "44O300", "44030 "):
            refused("INSERT INTO departments (name, display_name, region_code, version) VALUES ('x', 'x', '%s', 3)" % code,
                    "departments_region_code")
        # a write that forgets the registry version fails instead of going unnoticed by the other nodes
        refused("INSERT INTO departments (name, display_name, region_code) VALUES ('x', 'x', '440305')", "version")
        refused("INSERT INTO departments (name, display_name, region_code, version) VALUES ('sz-tax', 'x', '440305', 3)",
                "Duplicate entry")
        self.db.execute("INSERT INTO services (name, department_id, spec, version) SELECT 'invoice', id,"
                        " '{\"targets\":[{\"host\":\"10.0.0.1\",\"port\":8080}]}', 3 FROM departments WHERE name = 'sz-tax'")
        refused("INSERT INTO services (name, department_id, spec, version) SELECT 'bad', id, '[1]', 4 FROM departments"
                " WHERE name = 'sz-tax'", "services_spec_json")
        self.db.execute("INSERT INTO routes (name, path_prefix, methods, service_id, version) SELECT 'invoice', '/Tax/Invoices/',"
                        " 'GET,HEAD', id, 4 FROM services WHERE name = 'invoice'")
        # the keys compare host and prefix the way the route table does
        self.assertEqual(self.db.query("SELECT host_key, prefix_key, methods FROM routes"), [("", "/tax/invoices", "GET,HEAD")])
        refused("INSERT INTO routes (name, path_prefix, methods, service_id, version) SELECT 'none', '/x', '', id, 5"
                " FROM services WHERE name = 'invoice'", "routes_methods_not_empty")
        self.db.execute("INSERT INTO scopes (name, department_id, display_name, version) SELECT 'tax:invoice:read', id, '查询发票', 5"
                        " FROM departments WHERE name = 'sz-tax'")
        self.db.execute("INSERT INTO route_scopes (route_id, scope_id) SELECT r.id, s.id FROM routes r, scopes s")
        # what is still used cannot be deleted: the admin API answers 409
        refused("DELETE FROM services WHERE name = 'invoice'", "routes_service_fk")
        refused("DELETE FROM scopes WHERE name = 'tax:invoice:read'", "route_scopes_scope_fk")
        refused("DELETE FROM departments WHERE name = 'gd-tax'", "departments_parent_fk")
        self.db.execute("INSERT INTO oauth_clients (client_id, name, kind, owner_department_id, confidential, grant_types,"
                        " cors_origins) SELECT 'isz-web', 'i深圳', 'web', id, 0, 'authorization_code',"
                        " '[\"https://www.sz.gov.cn\"]' FROM departments WHERE name = 'sz-tax'")
        refused("DELETE FROM departments WHERE name = 'sz-tax'", "a foreign key constraint fails")
        # a department admin has a department, the other roles none
        refused("INSERT INTO admin_accounts (name, role, version) VALUES ('li', 'department_admin', 6)",
                "admin_accounts_department_role")
        refused("INSERT INTO admin_accounts (name, role, department_id, version) SELECT 'ops', 'operator', id, 6"
                " FROM departments WHERE name = 'sz-tax'", "admin_accounts_department_role")
        self.db.execute("INSERT INTO audit_log (registry_version, actor, actor_role, action, entity_type, entity_key,"
                        " diff_after) VALUES (1, 'cli:root', 'cli', 'create', 'department', 'gd-tax', '{\"name\":\"gd-tax\"}')")
        refused("INSERT INTO audit_log (registry_version, actor, actor_role, action, entity_type, entity_key, diff_after)"
                " VALUES (1, 'cli:root', 'cli', 'create', 'department', 'x', 'not json')", "audit_log_diff_after_json")

    def test_concurrent_runs_apply_once(self):
        config = self.write_config(self.db.dsn)
        procs = [subprocess.Popen([YIWANG_BIN, "migrate", "--config", config], stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True) for _ in range(3)]
        results = [(p.wait(timeout=120), p.stdout.read(), p.stderr.read()) for p in procs]
        for p in procs:
            p.stdout.close()
            p.stderr.close()
        for code, out, err in results:
            self.assertEqual(code, 0, "stdout:\n%s\nstderr:\n%s" % (out, err))
            self.assertIn("is up to date", out)
        applied = [out for _, out, _ in results if "applying 001_initial.sql" in out]
        self.assertEqual(len(applied), 1, results)
        self.assertEqual(self.db.query("SELECT version FROM schema_migrations ORDER BY version"),
                         [(str(int(name[:3])),) for name in MIGRATIONS])

    def test_waits_for_the_lock(self):
        config = self.write_config(self.db.dsn)
        lock = "yiwang_migrate:" + self.db.database
        holder = subprocess.Popen(self.db.client_argv("-e", "SELECT GET_LOCK('%s', 0); SELECT SLEEP(1.5);" % lock),
                                  env=self.db.client_env(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        try:
            deadline = time.monotonic() + 10
            while self.db.query("SELECT IS_USED_LOCK('%s') IS NOT NULL" % lock) != [("1",)]:
                self.assertLess(time.monotonic(), deadline, "the holder never took the lock")
                time.sleep(0.05)
            start = time.monotonic()
            result = self.migrate(config)
            waited = time.monotonic() - start
        finally:
            holder.wait(timeout=30)
            holder.stderr.close()
        self.assert_ok(result)
        self.assertIn("another migrate holds the lock %s; waiting up to 30 s" % lock, result.stdout)
        self.assertIn("applying 001_initial.sql", result.stdout)
        self.assertGreater(waited, 0.5)

    def test_edited_history_is_refused(self):
        config = self.write_config(self.db.dsn)
        self.assert_ok(self.migrate(config))
        self.db.execute("UPDATE schema_migrations SET checksum = REPEAT('0', 64) WHERE version = 1")
        result = self.migrate(config)
        self.assertEqual(result.returncode, 1, result.stdout + result.stderr)
        self.assertIn("yiwang migrate: migration 001_initial.sql was changed after it was applied "
                      "(checksum in schema_migrations %s, of the file in this binary %s)"
                      % ("0" * 64, sha256_of(MIGRATION_001)), result.stderr)
        self.assertNotIn("applying", result.stdout)

    def test_newer_database_is_refused(self):
        config = self.write_config(self.db.dsn)
        self.assert_ok(self.migrate(config))
        self.db.execute("INSERT INTO schema_migrations (version, name, checksum) VALUES (999, '999_future.sql', "
                        "REPEAT('a', 64))")
        result = self.migrate(config)
        self.assertEqual(result.returncode, 1, result.stdout + result.stderr)
        self.assertIn("the database has migration 999 (999_future.sql), which this binary does not have",
                      result.stderr)

    def test_unreachable_database(self):
        secret = "Pa55-w0rd-%d" % os.getpid()
        # a unix socket nobody listens on, and a TCP port nobody listens on
        missing = os.path.join(self.dir.name, "nobody.sock")
        for dsn, code in (("mysql://app:%s@/yiwang?socket=%s" % (secret, missing), "2002"),
                          ("mysql://app:%s@127.0.0.1:%d/yiwang" % (secret, free_port()), "200")):
            result = self.migrate(self.write_config(dsn, connect_timeout_ms=1000))
            self.assertEqual(result.returncode, 1, result.stdout + result.stderr)
            self.assertEqual(result.stdout, "")
            self.assertIn("yiwang migrate: cannot connect to mysql://app:***@", result.stderr)
            self.assertIn("MariaDB error " + code, result.stderr)
            self.assertNotIn(secret, result.stderr)

    def test_wrong_password(self):
        secret = "Wr0ng-%d" % os.getpid()
        dsn = self.db.dsn.replace("mysql://root@", "mysql://root:%s@" % secret, 1)
        self.assertNotEqual(dsn, self.db.dsn, "the test expects the fixture's root@ DSN")
        result = self.migrate(self.write_config(dsn))
        self.assertEqual(result.returncode, 1, result.stdout + result.stderr)
        self.assertIn("MariaDB error 1045", result.stderr)
        self.assertIn("root:***@", result.stderr)
        self.assertNotIn(secret, result.stderr)

    def test_usage_and_config_errors(self):
        no_db = os.path.join(self.dir.name, "no-db.json")
        with open(no_db, "w", encoding="utf-8") as f:
            f.write("{}")
        result = self.migrate(no_db)
        self.assertEqual(result.returncode, 2)
        self.assertIn("has no database section (database.dsn)", result.stderr)

        bad = self.write_config("postgres://u:p@h/d")
        result = self.migrate(bad)
        self.assertEqual(result.returncode, 2)
        self.assertIn("/database/dsn", result.stderr)

        result = subprocess.run([YIWANG_BIN, "migrate"], capture_output=True, text=True, timeout=30)
        self.assertEqual(result.returncode, 2)
        self.assertIn("usage: yiwang migrate --config FILE", result.stderr)


if __name__ == "__main__":
    unittest.main(verbosity=2)
