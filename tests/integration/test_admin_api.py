#!/usr/bin/env python3
"""The registry's admin API (/admin/v1/ on the ops listener) and `yiwang admin`,
against a real MariaDB and the real binary (docs/registry.md §5, §6).

Bootstrap: `yiwang admin create` prints a ywadm_ token once and stores only its
keyed hash, with one audit row. Authentication: 401 and WWW-Authenticate
without a token or with a bad one. The RBAC matrix for departments, services,
scopes and routes: each role and verb, and a department admin reaching for
another department's entities by name, by list filter and by creating or
moving into it. ETag/If-Match (428, 412 after a concurrent edit, success with
the fresh ETag), validation problems naming JSON pointers, references (400
unknown service, 409 in_use), route overlaps and namespaces, cursor
pagination, and the audit log: every write leaves exactly one record, failed
writes none, and no token or secret ever appears in one. The operator's
endpoints: signing keys listed and rotated (the new key reaches the JWKS), and
a per-node config reload."""

import base64
import json
import os
import re
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import yiwang_testlib as lib  # noqa: E402
from mariadb_fixture import MariaDB  # noqa: E402

TOKEN_RE = re.compile(r"^ywadm_[A-Za-z0-9_-]{43}$")


class AdminApiTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.TemporaryDirectory(prefix="yiwang-admin-")
        cls.db = MariaDB()
        master = os.path.join(cls.dir.name, "master.key")
        with open(os.open(master, os.O_WRONLY | os.O_CREAT, 0o600), "w") as f:
            f.write(os.urandom(32).hex() + "\n")
        identity = {"issuer": "https://id.example.gov.cn", "audiences": ["yiwang"], "master_key_file": master}
        cls.cli_config = os.path.join(cls.dir.name, "cli.json")
        with open(cls.cli_config, "w") as f:
            json.dump({"database": {"dsn": cls.db.dsn}, "identity": identity}, f)
        cls.cli_ok("migrate", "--config", cls.cli_config)
        cls.cli_ok("keys", "rotate", "--if-none", "--config", cls.cli_config)  # client secrets are tried at /oauth/token
        cls.upstream = lib.Upstream("demo")
        cls.upstream.__enter__()
        cfg = lib.make_config([lib.service("demo", [cls.upstream])], [lib.route("demo", "/demo/", "demo")],
                              database={"dsn": cls.db.dsn, "pool_size": 4}, identity=identity)
        cls.gw = lib.Gateway(cfg)
        cls.platform = cls.admin("root", "platform_admin")
        # the departments every test uses: Guangdong, and two cities below it
        for name, region, parent in (("gd", "440000", None), ("sz-tax", "440300", "gd"), ("gz-tax", "440100", "gd")):
            body = {"name": name, "display_name": "部门 " + name, "region_code": region}
            if parent:
                body["parent"] = parent
            status, _, answer = cls.call("POST", "/departments", cls.platform, body)
            assert status == 201, answer
        cls.sz = cls.admin("li-ming", "department_admin", "sz-tax")
        cls.gz = cls.admin("wang-fang", "department_admin", "gz-tax")
        cls.auditor = cls.admin("audit-1", "auditor")
        cls.operator = cls.admin("ops-1", "operator")
        # where each city's department admin may put routes
        for department in ("sz-tax", "gz-tax"):
            status, _, answer = cls.call("POST", "/route-namespaces", cls.platform,
                                         {"department": department, "path_prefix": "/%s/" % department})
            assert status == 201, answer

    @classmethod
    def tearDownClass(cls):
        # stopped first, so that a sanitizer's report at exit (leaks included) is in stderr and in the exit code
        code = cls.gw.stop()
        stderr = cls.gw.stderr()
        cls.gw.close()
        cls.upstream.__exit__(None, None, None)
        cls.db.close()
        cls.dir.cleanup()
        assert code == 0 and "AddressSanitizer" not in stderr and "runtime error:" not in stderr, (code, stderr)

    # ---- helpers

    @classmethod
    def cli(cls, *args):
        return subprocess.run([lib.YIWANG_BIN, *args], capture_output=True, text=True, timeout=60)

    @classmethod
    def cli_ok(cls, *args):
        result = cls.cli(*args)
        assert result.returncode == 0, "yiwang %s: %s" % (" ".join(args), result.stderr)
        return result.stdout

    @classmethod
    def admin(cls, name, role, department=None):
        args = ["admin", "create", "--config", cls.cli_config, "--name", name, "--role", role]
        if department:
            args += ["--department", department]
        out = cls.cli_ok(*args)
        token = out.strip().split(" ", 1)[1]
        assert TOKEN_RE.match(token), out
        return token

    @classmethod
    def call(cls, method, path, token=None, body=None, headers=None, content_type=None):
        h = dict(headers or {})
        if token is not None:
            h["Authorization"] = "Bearer " + token
        data = None
        if body is not None:
            data = body if isinstance(body, (bytes, str)) else json.dumps(body)
            h["Content-Type"] = content_type or ("application/merge-patch+json" if method == "PATCH" else "application/json")
        status, headers, raw = lib.http_request(method, cls.gw.ops_url + "/admin/v1" + path, body=data, headers=h)
        return status, headers, json.loads(raw) if raw else None

    def audit_count(self):
        return int(self.db.query("SELECT COUNT(*) FROM audit_log")[0][0])

    def write(self, method, path, token, body=None, headers=None, expect=None, content_type=None):
        """A write that must leave exactly one audit row when it succeeds and none when it fails."""
        before = self.audit_count()
        status, h, answer = self.call(method, path, token, body, headers, content_type)
        after = self.audit_count()
        self.assertEqual(after - before, 1 if status in (200, 201, 202, 204) else 0, (method, path, status, answer))
        if expect is not None:
            self.assertEqual(status, expect, (method, path, answer))
        return status, h, answer

    def etag(self, path, token=None):
        status, h, answer = self.call("GET", path, token or self.platform)
        self.assertEqual(status, 200, answer)
        return h["etag"]

    def service(self, name, department):
        body = {"name": name, "department": department, "targets": [{"host": "127.0.0.1", "port": 8080}]}
        self.write("POST", "/services", self.platform, body, expect=201)

    # ---- bootstrap and authentication

    def test_cli_bootstrap(self):
        out = self.cli_ok("admin", "create", "--config", self.cli_config, "--name", "boot", "--role", "platform_admin")
        token = out.split()[1]
        self.assertTrue(TOKEN_RE.match(token))
        rows = self.db.query("SELECT a.role, HEX(t.token_hash) FROM admin_tokens t JOIN admin_accounts a ON a.id = t.account_id "
                             "WHERE a.name = 'boot'")
        self.assertEqual(len(rows), 1)
        self.assertEqual(rows[0][0], "platform_admin")
        self.assertEqual(len(rows[0][1]), 64)
        self.assertNotIn(token, json.dumps(self.db.query("SELECT id, label, HEX(token_hash) FROM admin_tokens")))
        audit = self.db.query("SELECT actor, actor_role, action, entity_type, diff_after FROM audit_log WHERE entity_key = 'boot'")
        self.assertEqual(len(audit), 1)
        self.assertTrue(audit[0][0].startswith("cli:"))
        self.assertEqual(audit[0][1:4], ("cli", "create", "admin_account"))
        self.assertNotIn("ywadm_", audit[0][4])
        # the new token works; a second token for the account works too
        self.assertEqual(self.call("GET", "/departments", token)[0], 200)
        second = self.cli_ok("admin", "token", "--config", self.cli_config, "--name", "boot").split()[1]
        self.assertNotEqual(second, token)
        self.assertEqual(self.call("GET", "/departments", second)[0], 200)
        # refused: a department admin without a department, an unknown role, a taken name
        before = self.audit_count()
        self.assertEqual(self.cli("admin", "create", "--config", self.cli_config, "--name", "x", "--role",
                                  "department_admin").returncode, 2)
        self.assertEqual(self.cli("admin", "create", "--config", self.cli_config, "--name", "x", "--role", "god").returncode, 2)
        self.assertEqual(self.cli("admin", "create", "--config", self.cli_config, "--name", "boot", "--role",
                                  "auditor").returncode, 1)
        self.assertEqual(self.cli("admin", "create", "--config", self.cli_config, "--name", "y", "--role", "department_admin",
                                  "--department", "nowhere").returncode, 1)
        self.assertEqual(self.audit_count(), before)

    def test_authentication(self):
        for token in (None, "ywadm_" + "A" * 43, "not-a-token", self.platform[:-1] + ("A" if self.platform[-1] != "A" else "B")):
            for path in ("/departments", "/departments/gd", "/no-such-collection"):
                status, h, answer = self.call("GET", path, token)
                self.assertEqual(status, 401, (token, path))
                self.assertEqual(answer["error"]["code"], "admin_unauthenticated")
                self.assertTrue(h["www-authenticate"].startswith("Bearer"))
        status, h, _ = self.call("GET", "/departments", None, headers={"Authorization": "Basic cm9vdDpyb290"})
        self.assertEqual(status, 401)
        status, h, answer = self.call("GET", "/departments", None, headers={"Accept-Language": "zh-CN,zh;q=0.9"})
        self.assertEqual((status, h["content-language"]), (401, "zh-CN"))
        self.assertIn("管理令牌", answer["error"]["message"])
        # a disabled account's token stops working
        token = self.admin("leaver", "auditor")
        self.assertEqual(self.call("GET", "/departments", token)[0], 200)
        self.db.execute("UPDATE admin_accounts SET status = 'disabled' WHERE name = 'leaver'")
        self.assertEqual(self.call("GET", "/departments", token)[0], 401)
        self.assertEqual(self.call("GET", "/no-such-collection", self.platform)[0], 404)

    # ---- RBAC

    def test_rbac_departments(self):
        self.assertEqual(self.call("GET", "/departments/sz-tax", self.sz)[0], 200)
        self.assertEqual(self.call("GET", "/departments/gz-tax", self.sz)[0], 404)
        status, _, listed = self.call("GET", "/departments", self.sz)
        self.assertEqual([d["name"] for d in listed["items"]], ["sz-tax"])
        self.assertEqual(self.call("GET", "/departments?department=gz-tax", self.sz)[2]["items"], [])
        new = {"name": "sz-new", "display_name": "x", "region_code": "440300", "parent": "sz-tax"}
        tag = self.etag("/departments/sz-tax")
        self.write("POST", "/departments", self.sz, new, expect=403)
        self.write("PATCH", "/departments/sz-tax", self.sz, {"display_name": "y"}, {"If-Match": tag}, expect=403)
        self.write("DELETE", "/departments/sz-tax", self.sz, None, {"If-Match": tag}, expect=403)
        for token in (self.auditor, self.platform):
            self.assertEqual(self.call("GET", "/departments/gz-tax", token)[0], 200)
            self.assertEqual(len(self.call("GET", "/departments", token)[2]["items"]) >= 3, True)
        self.write("POST", "/departments", self.auditor, new, expect=403)
        self.write("PATCH", "/departments/sz-tax", self.auditor, {"display_name": "y"}, {"If-Match": tag}, expect=403)
        self.assertEqual(self.call("GET", "/departments", self.operator)[0], 403)
        self.assertEqual(self.call("GET", "/departments/gd", self.operator)[0], 403)
        self.write("POST", "/departments", self.operator, new, expect=403)

    def rbac_owned(self, collection, own_body, other_body, patch):
        """The matrix for a department-owned collection; own_body/other_body are creatable by sz/gz respectively."""
        own, other = own_body["name"], other_body["name"]
        self.write("POST", "/" + collection, self.sz, own_body, expect=201)
        self.write("POST", "/" + collection, self.gz, other_body, expect=201)
        # by name: the other department's entity does not exist for a department admin
        self.assertEqual(self.call("GET", "/%s/%s" % (collection, own), self.sz)[0], 200)
        self.assertEqual(self.call("GET", "/%s/%s" % (collection, other), self.sz)[0], 404)
        other_tag = self.etag("/%s/%s" % (collection, other))
        self.write("PATCH", "/%s/%s" % (collection, other), self.sz, patch, {"If-Match": other_tag}, expect=404)
        self.write("PUT", "/%s/%s" % (collection, other), self.sz, other_body, {"If-Match": other_tag}, expect=404)
        self.write("DELETE", "/%s/%s" % (collection, other), self.sz, None, {"If-Match": other_tag}, expect=404)
        # by list filter
        names = [i["name"] for i in self.call("GET", "/" + collection + "?limit=500", self.sz)[2]["items"]]
        self.assertIn(own, names)
        self.assertNotIn(other, names)
        self.assertEqual(self.call("GET", "/%s?department=gz-tax" % collection, self.sz)[2]["items"], [])
        # a name another department holds: 409, names are global
        self.write("POST", "/" + collection, self.sz, dict(own_body, name=other), expect=409)
        # auditors read everything and write nothing; operators see nothing
        self.assertEqual(self.call("GET", "/%s/%s" % (collection, other), self.auditor)[0], 200)
        names = [i["name"] for i in self.call("GET", "/" + collection + "?limit=500", self.auditor)[2]["items"]]
        self.assertTrue({own, other} <= set(names))
        own_tag = self.etag("/%s/%s" % (collection, own))
        self.write("PATCH", "/%s/%s" % (collection, own), self.auditor, patch, {"If-Match": own_tag}, expect=403)
        self.write("DELETE", "/%s/%s" % (collection, own), self.auditor, None, {"If-Match": own_tag}, expect=403)
        self.write("POST", "/" + collection, self.auditor, dict(own_body, name=own + "-a"), expect=403)
        self.assertEqual(self.call("GET", "/%s/%s" % (collection, own), self.operator)[0], 403)
        self.assertEqual(self.call("GET", "/" + collection, self.operator)[0], 403)
        self.write("POST", "/" + collection, self.operator, dict(own_body, name=own + "-o"), expect=403)
        # the owner patches; the platform admin patches anyone's
        self.write("PATCH", "/%s/%s" % (collection, own), self.sz, patch, {"If-Match": own_tag}, expect=200)
        self.write("PATCH", "/%s/%s" % (collection, other), self.platform, patch, {"If-Match": other_tag}, expect=200)
        return own, other

    def test_rbac_services(self):
        body = {"name": "sz-invoice", "department": "sz-tax", "targets": [{"host": "10.0.0.1", "port": 8080}]}
        other = {"name": "gz-invoice", "department": "gz-tax", "targets": [{"host": "10.0.0.2", "port": 8080}]}
        own, _ = self.rbac_owned("services", body, other, {"retries": 2})
        # creating in, or moving into, another department: 403
        self.write("POST", "/services", self.sz, dict(body, name="sz-x", department="gz-tax"), expect=403)
        tag = self.etag("/services/" + own)
        self.write("PATCH", "/services/" + own, self.sz, {"department": "gz-tax"}, {"If-Match": tag}, expect=403)
        full = self.call("GET", "/services/" + own, self.sz)[2]
        self.write("PUT", "/services/" + own, self.sz, dict(full, department="gz-tax"), {"If-Match": tag}, expect=403)
        self.assertEqual(self.call("GET", "/services/" + own, self.sz)[2]["department"], "sz-tax")
        # the spec round-trips as written, and a GET body can be PUT back
        self.assertEqual(full["retries"], 2)
        self.assertEqual(full["targets"], [{"host": "10.0.0.1", "port": 8080}])
        status, h, answer = self.write("PUT", "/services/" + own, self.sz, full, {"If-Match": tag}, expect=200)
        self.assertNotEqual(h["etag"], tag)

    def test_rbac_scopes(self):
        body = {"name": "sz:invoice:read", "department": "sz-tax", "display_name": "查询发票"}
        other = {"name": "gz:invoice:read", "department": "gz-tax", "display_name": "查询发票"}
        self.rbac_owned("scopes", body, other, {"description": "Read invoices"})
        self.write("POST", "/scopes", self.sz, dict(body, name="sz:x", department="gz-tax"), expect=403)
        status, _, answer = self.write("POST", "/scopes", self.platform, dict(body, name="openid"), expect=400)
        self.assertEqual(answer["error"]["problems"][0]["pointer"], "/name")

    def test_rbac_routes(self):
        self.service("sz-route-svc", "sz-tax")
        self.service("gz-route-svc", "gz-tax")
        body = {"name": "sz-r", "path_prefix": "/sz-tax/invoices/", "service": "sz-route-svc"}
        other = {"name": "gz-r", "path_prefix": "/gz-tax/invoices/", "service": "gz-route-svc"}
        own, _ = self.rbac_owned("routes", body, other, {"auth": {"policy": "user", "min_acr": 2}})
        # a route on another department's service is a route in that department
        self.write("POST", "/routes", self.sz, dict(body, name="sz-steal", service="gz-route-svc"), expect=403)
        # outside the department's namespaces, even on its own service
        status, _, answer = self.write("POST", "/routes", self.sz, dict(body, name="sz-wide", path_prefix="/gz-tax/x/"),
                                       expect=400)
        self.assertEqual(answer["error"]["problems"][0]["pointer"], "/path_prefix")
        self.write("POST", "/routes", self.sz, dict(body, name="sz-root", path_prefix="/"), expect=400)
        self.write("POST", "/routes", self.sz, dict(body, name="sz-prefixish", path_prefix="/sz-taxes/"), expect=400)
        # the platform admin is not limited to namespaces
        self.write("POST", "/routes", self.platform, dict(body, name="sz-anywhere", path_prefix="/elsewhere/"), expect=201)
        got = self.call("GET", "/routes/" + own, self.sz)[2]
        self.assertEqual(got["auth"], {"policy": "user", "min_acr": 2})

    def test_rbac_rate_policies(self):
        body = {"name": "sz-rl", "department": "sz-tax", "requests": 100}
        other = {"name": "gz-rl", "department": "gz-tax", "requests": 50, "key_by": "client_id"}
        own, _ = self.rbac_owned("rate-policies", body, other, {"burst": 500})
        got = self.call("GET", "/rate-policies/" + own, self.sz)[2]
        self.assertEqual((got["per_s"], got["burst"], got["key_by"]), (1, 500, "client_ip"))
        # platform-wide policies: department admins read them (to reference them) and write none
        self.write("POST", "/rate-policies", self.platform, {"name": "national", "requests": 1000}, expect=201)
        self.assertEqual(self.call("GET", "/rate-policies/national", self.sz)[0], 200)
        names = [p["name"] for p in self.call("GET", "/rate-policies?limit=500", self.sz)[2]["items"]]
        self.assertIn("national", names)
        self.assertNotIn("gz-rl", names)
        tag = self.etag("/rate-policies/national")
        self.write("PATCH", "/rate-policies/national", self.sz, {"requests": 1}, {"If-Match": tag}, expect=403)
        self.write("DELETE", "/rate-policies/national", self.sz, None, {"If-Match": tag}, expect=403)
        self.write("POST", "/rate-policies", self.sz, {"name": "sz-wide", "requests": 1}, expect=403)
        own_tag = self.etag("/rate-policies/" + own)
        self.write("PATCH", "/rate-policies/" + own, self.sz, {"department": None}, {"If-Match": own_tag}, expect=403)
        # routes: their department's policies or platform-wide ones
        self.service("rl-svc", "sz-tax")
        route = {"name": "rl-r", "path_prefix": "/sz-tax/rl/", "service": "rl-svc", "rate_policy": "gz-rl"}
        status, _, answer = self.write("POST", "/routes", self.sz, route, expect=400)
        self.assertEqual(answer["error"]["problems"][0]["pointer"], "/rate_policy")
        self.write("POST", "/routes", self.sz, dict(route, rate_policy="national"), expect=201)
        status, _, answer = self.write("DELETE", "/rate-policies/national", self.platform, None,
                                       {"If-Match": self.etag("/rate-policies/national")}, expect=409)
        self.assertIn("route 'rl-r'", answer["error"]["message"])

    def test_admin_accounts_and_tokens(self):
        self.write("POST", "/admin-accounts", self.platform,
                   {"name": "zhao", "display_name": "赵", "role": "department_admin", "department": "sz-tax"}, expect=201)
        self.write("POST", "/admin-accounts", self.platform, {"name": "nodept", "role": "department_admin"}, expect=400)
        status, _, answer = self.write("POST", "/admin-accounts", self.platform,
                                       {"name": "audit-2", "role": "auditor", "department": "sz-tax"}, expect=400)
        self.assertIn("/department", [p["pointer"] for p in answer["error"]["problems"]])
        # department admins and operators read only themselves; auditors read all; only platform admins write
        self.assertEqual([a["name"] for a in self.call("GET", "/admin-accounts", self.sz)[2]["items"]], ["li-ming"])
        self.assertEqual([a["name"] for a in self.call("GET", "/admin-accounts", self.operator)[2]["items"]], ["ops-1"])
        self.assertEqual(self.call("GET", "/admin-accounts/li-ming", self.sz)[0], 200)
        self.assertEqual(self.call("GET", "/admin-accounts/zhao", self.sz)[0], 404)
        self.assertEqual(self.call("GET", "/admin-accounts/ops-1", self.operator)[0], 200)
        self.assertEqual(self.call("GET", "/admin-accounts/root", self.operator)[0], 404)
        names = {a["name"] for a in self.call("GET", "/admin-accounts?limit=500", self.auditor)[2]["items"]}
        self.assertTrue({"root", "li-ming", "wang-fang", "audit-1", "ops-1", "zhao"} <= names)
        self.assertNotIn("token", json.dumps(self.call("GET", "/admin-accounts/zhao", self.platform)[2]))
        mine = self.etag("/admin-accounts/li-ming", self.sz)
        self.write("PATCH", "/admin-accounts/li-ming", self.sz, {"role": "platform_admin", "department": None},
                   {"If-Match": mine}, expect=403)
        self.write("POST", "/admin-accounts", self.sz, {"name": "sz-2", "role": "auditor"}, expect=403)
        self.write("POST", "/admin-accounts", self.auditor, {"name": "sz-2", "role": "auditor"}, expect=403)
        self.write("POST", "/admin-accounts", self.operator, {"name": "sz-2", "role": "auditor"}, expect=403)

        # tokens: shown once, listed without the secret, scoped like the account
        status, h, created = self.write("POST", "/admin-accounts/zhao/tokens", self.platform, {"label": "ci"}, expect=201)
        token = created["token"]
        self.assertTrue(TOKEN_RE.match(token))
        self.assertEqual(h["location"], "/admin/v1/admin-accounts/zhao/tokens/" + created["id"])
        self.assertEqual([s["department"] for s in self.call("GET", "/services?limit=500", token)[2]["items"]
                          if s["department"] != "sz-tax"], [])
        listed = self.call("GET", "/admin-accounts/zhao/tokens", self.platform)[2]["items"]
        self.assertEqual([(t["id"], t["label"]) for t in listed], [(created["id"], "ci")])
        self.assertNotIn(token, json.dumps(listed))
        self.write("POST", "/admin-accounts/li-ming/tokens", self.sz, {}, expect=201)
        self.write("POST", "/admin-accounts/ops-1/tokens", self.operator, {"label": "laptop"}, expect=201)
        self.write("POST", "/admin-accounts/zhao/tokens", self.sz, {}, expect=404)
        self.write("POST", "/admin-accounts/audit-1/tokens", self.auditor, {}, expect=403)
        self.assertEqual(self.call("GET", "/admin-accounts/zhao/tokens", self.sz)[0], 404)
        self.assertEqual(self.call("GET", "/admin-accounts/zhao/tokens", self.auditor)[0], 403)
        status, _, answer = self.write("POST", "/admin-accounts/zhao/tokens", self.platform, {"label": 5, "x": 1}, expect=400)
        self.assertEqual(sorted(p["pointer"] for p in answer["error"]["problems"]), ["", "/label"])
        expired = self.write("POST", "/admin-accounts/zhao/tokens", self.platform, {"expires_at": "2020-01-01T00:00:00Z"},
                             expect=201)[2]["token"]
        self.assertEqual(self.call("GET", "/services", expired)[0], 401)
        # revoking: the token stops working at once; revoking again finds nothing
        self.write("DELETE", "/admin-accounts/zhao/tokens/" + created["id"], self.sz, expect=404)
        self.write("DELETE", "/admin-accounts/zhao/tokens/" + created["id"], self.platform, expect=204)
        self.assertEqual(self.call("GET", "/services", token)[0], 401)
        self.write("DELETE", "/admin-accounts/zhao/tokens/" + created["id"], self.platform, expect=404)
        rows = self.db.query("SELECT action, diff_after FROM audit_log WHERE entity_key = 'zhao' AND action LIKE '%token'")
        self.assertEqual([r[0] for r in rows], ["create_token", "create_token", "revoke_token"])
        self.assertNotIn("ywadm_", json.dumps(rows))
        # disabling the account stops its other tokens; deleting it removes them
        again = self.write("POST", "/admin-accounts/zhao/tokens", self.platform, {}, expect=201)[2]["token"]
        self.write("PATCH", "/admin-accounts/zhao", self.platform, {"status": "disabled"},
                   {"If-Match": self.etag("/admin-accounts/zhao")}, expect=200)
        self.assertEqual(self.call("GET", "/services", again)[0], 401)
        self.write("DELETE", "/admin-accounts/zhao", self.platform, None, {"If-Match": self.etag("/admin-accounts/zhao")},
                   expect=204)
        self.assertEqual(self.db.query("SELECT COUNT(*) FROM admin_tokens t LEFT JOIN admin_accounts a ON a.id = t.account_id "
                                       "WHERE a.id IS NULL"), [("0",)])

    def client_token(self, client_id, secret):
        pair = base64.b64encode(("%s:%s" % (client_id, secret)).encode()).decode()
        status, _, body = lib.http_request("POST", self.gw.public_url + "/oauth/token", body=b"grant_type=client_credentials",
                                           headers={"Content-Type": "application/x-www-form-urlencoded",
                                                    "Authorization": "Basic " + pair})
        return status, json.loads(body) if body else None

    def test_clients(self):
        self.write("POST", "/scopes", self.platform, {"name": "cl:sz", "department": "sz-tax", "display_name": "s"}, expect=201)
        self.write("POST", "/scopes", self.platform, {"name": "cl:gz", "department": "gz-tax", "display_name": "g"}, expect=201)
        body = {"client_id": "sz-backend", "name": "深圳税务后台", "kind": "department_service", "department": "sz-tax",
                "allowed_scopes": ["cl:sz", "openid"]}
        status, h, created = self.write("POST", "/clients", self.sz, body, expect=201)
        secret = created["client_secret"]
        self.assertEqual(h["location"], "/admin/v1/clients/sz-backend")
        self.assertEqual(created["grant_types"], ["client_credentials"])
        # the secret works, and is never shown again nor recorded
        status, answer = self.client_token("sz-backend", secret)
        self.assertEqual(status, 200, answer)
        got = self.call("GET", "/clients/sz-backend", self.sz)[2]
        self.assertNotIn("client_secret", got)
        everything = json.dumps(self.db.query("SELECT * FROM audit_log"))
        self.assertNotIn(secret, everything)
        self.assertNotIn(self.db.query("SELECT secret_hash FROM oauth_clients WHERE client_id = 'sz-backend'")[0][0], everything)
        # rules a schema cannot express
        status, _, answer = self.write("POST", "/clients", self.sz, dict(body, client_id="sz-2", allowed_scopes=["cl:gz", "x:y"]),
                                       expect=400)
        self.assertEqual([p["pointer"] for p in answer["error"]["problems"]], ["/allowed_scopes/0", "/allowed_scopes/1"])
        status, _, answer = self.write("POST", "/clients", self.sz, dict(body, client_id="sz-3", confidential=False), expect=400)
        self.assertEqual(answer["error"]["problems"][0]["pointer"], "/confidential")
        status, _, answer = self.write("POST", "/clients", self.sz,
                                       dict(body, client_id="sz-4", kind="web", grant_types=["authorization_code"],
                                            redirect_uris=["http://evil.example/cb"]), expect=400)
        self.assertEqual(answer["error"]["problems"][0]["pointer"], "/redirect_uris/0")
        # ownership: third parties and other departments are the platform's or theirs
        self.write("POST", "/clients", self.sz, {"client_id": "third", "name": "x", "kind": "third_party"}, expect=403)
        self.write("POST", "/clients", self.sz, dict(body, client_id="sz-5", department="gz-tax", allowed_scopes=[]), expect=403)
        self.write("POST", "/clients", self.platform, {"client_id": "third", "name": "x", "kind": "third_party"}, expect=201)
        # a third party only gets scopes their department has opened (third_party), besides the OIDC ones
        scope = self.call("GET", "/scopes/cl:sz", self.sz)[2]
        self.assertIs(scope["third_party"], False)  # internal unless opened: fail closed
        third = {"client_id": "third-2", "name": "x", "kind": "third_party", "allowed_scopes": ["openid", "cl:sz"]}
        status, _, answer = self.write("POST", "/clients", self.platform, third, expect=400)
        self.assertEqual(answer["error"]["code"], "invalid_body")
        self.assertEqual([p["pointer"] for p in answer["error"]["problems"]], ["/allowed_scopes/1"])
        _, h, _ = self.call("GET", "/scopes/cl:sz", self.sz)
        _, _, opened = self.write("PATCH", "/scopes/cl:sz", self.sz, {"third_party": True}, {"If-Match": h["etag"]}, expect=200)
        self.assertIs(opened["third_party"], True)
        self.write("POST", "/clients", self.platform, third, expect=201)
        self.assertEqual(self.call("GET", "/clients/third", self.sz)[0], 404)
        self.assertEqual(self.call("GET", "/clients/third", self.auditor)[0], 200)
        names = [c["client_id"] for c in self.call("GET", "/clients?limit=500", self.sz)[2]["items"]]
        self.assertEqual(names, ["sz-backend"])
        self.write("POST", "/clients", self.auditor, dict(body, client_id="au"), expect=403)
        self.assertEqual(self.call("GET", "/clients", self.operator)[0], 403)
        # client_id and confidential stay; other members change
        tag = self.etag("/clients/sz-backend", self.sz)
        self.write("PATCH", "/clients/sz-backend", self.sz, {"confidential": False}, {"If-Match": tag}, expect=400)
        self.write("PUT", "/clients/sz-backend", self.sz, dict(body, client_id="renamed"), {"If-Match": tag}, expect=400)
        _, h, patched = self.write("PATCH", "/clients/sz-backend", self.sz, {"cors_origins": ["https://app.example.gov.cn"]},
                                   {"If-Match": tag}, expect=200)
        self.assertEqual(patched["cors_origins"], ["https://app.example.gov.cn"])
        self.assertNotIn("client_secret", patched)
        # rotation: a new secret once; the previous one keeps working for the overlap
        status, h, rotated = self.write("POST", "/clients/sz-backend/secret", self.sz, {"overlap_s": 300}, expect=200)
        self.assertNotEqual(rotated["client_secret"], secret)
        self.assertIsNotNone(rotated["previous_secret_expires_at"])
        self.assertEqual(self.client_token("sz-backend", rotated["client_secret"])[0], 200)
        self.assertEqual(self.client_token("sz-backend", secret)[0], 200)
        audit = self.call("GET", "/audit-log?entity_type=client&entity_key=sz-backend", self.auditor)[2]["items"]
        self.assertEqual(audit[-1]["action"], "rotate_secret")
        self.assertEqual(audit[-1]["after"]["secret"], "rotated")
        self.assertNotIn(rotated["client_secret"], json.dumps(self.db.query("SELECT * FROM audit_log")))
        status, _, again = self.write("POST", "/clients/sz-backend/secret", self.sz, {}, expect=200)
        self.assertEqual(self.client_token("sz-backend", rotated["client_secret"])[0], 401)
        self.assertEqual(self.client_token("sz-backend", again["client_secret"])[0], 200)
        self.write("POST", "/clients/third/secret", self.sz, {}, expect=404)
        self.write("POST", "/clients/sz-backend/secret", self.auditor, {}, expect=403)
        self.write("POST", "/clients/sz-backend/secret", self.sz, {"overlap_s": 10 ** 7}, expect=400)
        # a client registered before the registry has version 0, a valid ETag
        self.cli_ok("clients", "add", "--config", self.cli_config, "--id", "legacy", "--name", "l", "--kind", "web", "--public",
                    "--grants", "authorization_code")
        status, h, legacy = self.call("GET", "/clients/legacy", self.platform)
        self.assertEqual((status, h["etag"], legacy["version"]), (200, '"0"', 0))
        self.write("PATCH", "/clients/legacy", self.platform, {"department": "gd"}, {"If-Match": '"0"'}, expect=200)
        self.write("POST", "/clients/legacy/secret", self.platform, {}, expect=400)
        # paging by client_id
        seen, cursor, cursors = [], None, []
        while True:
            page = self.call("GET", "/clients?limit=2" + ("&cursor=" + cursor if cursor else ""), self.platform)[2]
            seen += [c["client_id"] for c in page["items"]]
            cursor = page["next_cursor"]
            if cursor is None:
                break
            cursors.append(cursor)
        self.assertEqual(seen, sorted(seen))
        self.assertEqual(len(seen), len(set(seen)))
        self.assertTrue({"legacy", "sz-backend", "third"} <= set(seen))
        self.assertTrue(cursors)
        # a cursor belongs to the kind of list that made it
        self.assertEqual(self.call("GET", "/scopes?cursor=" + cursors[0], self.platform)[0], 400)
        self.assertEqual(self.call("GET", "/audit-log?cursor=" + cursors[0], self.platform)[0], 400)
        self.write("DELETE", "/clients/third", self.platform, None, {"If-Match": self.etag("/clients/third")}, expect=204)

    def test_route_namespaces(self):
        status, h, created = self.write("POST", "/route-namespaces", self.platform,
                                        {"department": "sz-tax", "host": "sz.example.gov.cn", "path_prefix": "/ns/"}, expect=201)
        path = "/route-namespaces/%d" % created["id"]
        self.assertEqual(h["location"], "/admin/v1" + path)
        # the same host and prefix as the route table compares them: one namespace
        self.write("POST", "/route-namespaces", self.platform,
                   {"department": "gz-tax", "host": "sz.example.gov.cn", "path_prefix": "/NS"}, expect=409)
        self.write("POST", "/route-namespaces", self.platform, {"department": "sz-tax", "host": "SZ.example", "path_prefix": "/x/"},
                   expect=400)
        # department admins read their own, write none; auditors read all; operators nothing
        self.assertEqual(self.call("GET", path, self.sz)[0], 200)
        self.assertEqual(self.call("GET", path, self.gz)[0], 404)
        self.assertEqual({n["department"] for n in self.call("GET", "/route-namespaces", self.sz)[2]["items"]}, {"sz-tax"})
        self.assertEqual(self.call("GET", path, self.auditor)[0], 200)
        self.assertEqual(self.call("GET", path, self.operator)[0], 403)
        self.assertEqual(self.call("GET", "/route-namespaces/0", self.platform)[0], 404)
        self.assertEqual(self.call("GET", "/route-namespaces/x", self.platform)[0], 404)
        tag = h["etag"]
        self.write("POST", "/route-namespaces", self.sz, {"department": "sz-tax", "path_prefix": "/more/"}, expect=403)
        self.write("PATCH", path, self.sz, {"path_prefix": "/ns2/"}, {"If-Match": tag}, expect=403)
        self.write("DELETE", path, self.auditor, None, {"If-Match": tag}, expect=403)
        # a route of sz-tax inside it, on that host only
        self.service("ns-svc", "sz-tax")
        route = {"name": "ns-r", "host": "sz.example.gov.cn", "path_prefix": "/ns/a/", "service": "ns-svc"}
        self.write("POST", "/routes", self.sz, dict(route, host="other.example.gov.cn"), expect=400)
        self.write("POST", "/routes", self.sz, route, expect=201)
        # the platform moves it; the id stays the key
        _, h, moved = self.write("PATCH", path, self.platform, {"department": "gz-tax", "id": 999}, {"If-Match": tag}, expect=200)
        self.assertEqual((moved["id"], moved["department"]), (created["id"], "gz-tax"))
        self.assertEqual(self.call("GET", path, self.sz)[0], 404)
        self.write("DELETE", path, self.platform, None, {"If-Match": h["etag"]}, expect=204)
        self.assertEqual(self.call("GET", path, self.platform)[0], 404)

    # ---- ETag and If-Match

    def test_etag_if_match(self):
        self.write("POST", "/scopes", self.platform, {"name": "etag:s", "department": "gd", "display_name": "e"}, expect=201)
        status, h, doc = self.call("GET", "/scopes/etag:s", self.platform)
        self.assertEqual(h["etag"], '"%d"' % doc["version"])
        self.write("PATCH", "/scopes/etag:s", self.platform, {"description": "x"}, expect=428)
        self.write("PATCH", "/scopes/etag:s", self.platform, {"description": "x"}, {"If-Match": "*"}, expect=428)
        self.write("DELETE", "/scopes/etag:s", self.platform, None, expect=428)
        # two admins read the same version; the first write wins, the second is stale
        first = second = h["etag"]
        _, h1, _ = self.write("PATCH", "/scopes/etag:s", self.platform, {"description": "one"}, {"If-Match": first}, expect=200)
        status, _, answer = self.write("PATCH", "/scopes/etag:s", self.platform, {"description": "two"}, {"If-Match": second},
                                       expect=412)
        self.assertEqual(answer["error"]["code"], "precondition_failed")
        self.write("PUT", "/scopes/etag:s", self.platform, dict(doc, description="two"), {"If-Match": h1["etag"]}, expect=412)
        # a body that repeats version must repeat the If-Match one
        self.write("PUT", "/scopes/etag:s", self.platform, dict(doc, description="two"), {"If-Match": h1["etag"]}, expect=412)
        self.write("PATCH", "/scopes/etag:s", self.platform, {"description": "two", "version": doc["version"]},
                   {"If-Match": h1["etag"]}, expect=412)
        fresh = self.etag("/scopes/etag:s")
        self.assertEqual(fresh, h1["etag"])
        self.write("PATCH", "/scopes/etag:s", self.platform, {"description": "two"}, {"If-Match": fresh}, expect=200)
        self.assertEqual(self.call("GET", "/scopes/etag:s", self.platform)[2]["description"], "two")
        self.write("DELETE", "/scopes/etag:s", self.platform, None, {"If-Match": fresh}, expect=412)
        self.write("DELETE", "/scopes/etag:s", self.platform, None, {"If-Match": self.etag("/scopes/etag:s")}, expect=204)
        self.assertEqual(self.call("GET", "/scopes/etag:s", self.platform)[0], 404)
        self.write("PATCH", "/scopes/etag:s", self.platform, {"description": "x"}, {"If-Match": fresh}, expect=404)

    def test_concurrent_writers(self):
        """Writers holding the same ETag race: the registry_version lock lets exactly one through."""
        import threading
        status, h, _ = self.write("POST", "/scopes", self.platform, {"name": "race:s", "department": "gd", "display_name": "r"},
                                  expect=201)
        self.assertEqual(h["location"], "/admin/v1/scopes/race:s")
        self.assertEqual(h["etag"], self.etag("/scopes/race:s"))
        tag, before, results = h["etag"], self.audit_count(), []

        def patch(i):
            results.append(self.call("PATCH", "/scopes/race:s", self.platform, {"description": "writer %d" % i},
                                     {"If-Match": tag})[0])
        threads = [threading.Thread(target=patch, args=(i,)) for i in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
        self.assertEqual(sorted(results), [200] + [412] * 7)
        self.assertEqual(self.audit_count(), before + 1)
        versions = self.db.query("SELECT COUNT(DISTINCT registry_version), COUNT(*) FROM audit_log")
        self.assertEqual(versions[0][0], versions[0][1])  # every write took its own version

    # ---- validation and references

    def test_validation_problems(self):
        status, _, answer = self.write("POST", "/departments", self.platform,
                                       {"name": "Bad Name", "display_name": "x", "region_code": "990000"}, expect=400)
        self.assertEqual(answer["error"]["code"], "invalid_body")
        self.assertEqual(sorted(p["pointer"] for p in answer["error"]["problems"]), ["/name", "/region_code"])
        self.assertEqual(answer["error"]["request_id"] != "", True)
        # hierarchy: the child's region lies within the parent's
        status, _, answer = self.write("POST", "/departments", self.platform,
                                       {"name": "bj-x", "display_name": "x", "region_code": "110100", "parent": "gd"}, expect=400)
        self.assertEqual(answer["error"]["problems"][0]["pointer"], "/region_code")
        self.write("POST", "/departments", self.platform,
                   {"name": "nowhere-child", "display_name": "x", "region_code": "440300", "parent": "nowhere"}, expect=400)
        # a cycle: gd under its own child
        tag = self.etag("/departments/gd")
        status, _, answer = self.write("PATCH", "/departments/gd", self.platform, {"parent": "sz-tax"}, {"If-Match": tag},
                                       expect=400)
        self.assertIn("/parent", [p["pointer"] for p in answer["error"]["problems"]])
        # a patch is validated after merging: its pointers are the document's
        status, _, answer = self.write("PATCH", "/departments/gd", self.platform, {"region_code": "44"}, {"If-Match": tag},
                                       expect=400)
        self.assertEqual([p["pointer"] for p in answer["error"]["problems"]], ["/region_code"])
        self.write("PATCH", "/departments/gd", self.platform, {"display_name": None}, {"If-Match": tag}, expect=400)
        # a region change that would leave a child outside
        self.write("PATCH", "/departments/gd", self.platform, {"region_code": "450000"}, {"If-Match": tag}, expect=400)
        # bodies: not JSON, the wrong type, not an object
        status, _, answer = self.write("POST", "/departments", self.platform, "{not json", expect=400)
        self.assertEqual(answer["error"]["code"], "invalid_body")
        self.write("POST", "/departments", self.platform, "[]", expect=400)
        self.write("POST", "/departments", self.platform, {"name": "x"}, content_type="text/plain", expect=415)
        self.write("PATCH", "/departments/gd", self.platform, {"display_name": "x"}, {"If-Match": tag},
                   content_type="application/json", expect=415)
        status, _, answer = self.write("POST", "/services", self.platform,
                                       {"name": "v", "department": "gd", "targets": [{"host": "10.0.0.1", "port": 70000}]},
                                       expect=400)
        self.assertEqual(answer["error"]["problems"][0]["pointer"], "/targets/0/port")

    def test_loader_rules(self):
        # the config loader's own rules, reported with pointers into the entity
        status, _, answer = self.write("POST", "/services", self.platform,
                                       {"name": "slow", "department": "gd", "targets": [{"host": "10.0.0.1", "port": 80}],
                                        "timeouts": {"connect_ms": 5000, "total_ms": 1000}}, expect=400)
        self.assertIn("/timeouts/connect_ms", [p["pointer"] for p in answer["error"]["problems"]])
        self.service("loader-svc", "gd")
        status, _, answer = self.write("POST", "/routes", self.platform,
                                       {"name": "loud", "host": "API.example.gov.cn", "path_prefix": "/loud/",
                                        "service": "loader-svc", "max_body_bytes": 1073741824}, expect=400)
        self.assertEqual(sorted(p["pointer"] for p in answer["error"]["problems"]), ["/host", "/max_body_bytes"])
        self.write("POST", "/routes", self.platform, {"name": "quiet", "host": "api.example.gov.cn", "path_prefix": "/quiet/",
                                                      "service": "loader-svc", "max_body_bytes": 1024,
                                                      "auth": {"policy": "user"}}, expect=201)

    def test_references(self):
        status, _, answer = self.write("POST", "/routes", self.platform,
                                       {"name": "orphan", "path_prefix": "/orphan/", "service": "no-such-service"}, expect=400)
        self.assertEqual(answer["error"]["problems"], [{"pointer": "/service", "message": "unknown service 'no-such-service'"}])
        self.service("ref-svc", "gd")
        self.write("POST", "/scopes", self.platform, {"name": "ref:read", "department": "gd", "display_name": "r"}, expect=201)
        status, _, answer = self.write("POST", "/routes", self.platform,
                                       {"name": "ref-r", "path_prefix": "/ref/", "service": "ref-svc",
                                        "auth": {"policy": "user", "scopes": ["ref:read", "ref:nope"]}}, expect=400)
        self.assertEqual(answer["error"]["problems"][0]["pointer"], "/auth/scopes/1")
        self.write("POST", "/routes", self.platform, {"name": "ref-r", "path_prefix": "/ref/", "service": "ref-svc",
                                                     "auth": {"policy": "user", "scopes": ["ref:read"]}}, expect=201)
        status, _, answer = self.write("DELETE", "/services/ref-svc", self.platform, None,
                                       {"If-Match": self.etag("/services/ref-svc")}, expect=409)
        self.assertEqual(answer["error"]["code"], "in_use")
        self.assertIn("route 'ref-r'", answer["error"]["message"])
        self.write("DELETE", "/scopes/ref:read", self.platform, None, {"If-Match": self.etag("/scopes/ref:read")}, expect=409)
        self.write("DELETE", "/departments/gd", self.platform, None, {"If-Match": self.etag("/departments/gd")}, expect=409)
        self.write("DELETE", "/routes/ref-r", self.platform, None, {"If-Match": self.etag("/routes/ref-r")}, expect=204)
        self.write("DELETE", "/services/ref-svc", self.platform, None, {"If-Match": self.etag("/services/ref-svc")}, expect=204)

    def test_route_overlap(self):
        self.service("ov-read", "gd")
        self.service("ov-write", "gd")
        base = {"path_prefix": "/ov/", "service": "ov-read"}
        self.write("POST", "/routes", self.platform, dict(base, name="ov-get", methods=["GET"]), expect=201)
        # the same prefix spelled differently, and a method in common (GET serves HEAD)
        status, _, answer = self.write("POST", "/routes", self.platform,
                                       dict(base, name="ov-head", path_prefix="/OV", methods=["HEAD"]), expect=400)
        self.assertEqual(answer["error"]["problems"][0]["pointer"], "/path_prefix")
        self.assertIn("ov-get", answer["error"]["problems"][0]["message"])
        self.write("POST", "/routes", self.platform, dict(base, name="ov-all"), expect=400)
        # disjoint methods share a prefix; another host is another route
        self.write("POST", "/routes", self.platform, dict(base, name="ov-post", service="ov-write", methods=["POST"]), expect=201)
        self.write("POST", "/routes", self.platform, dict(base, name="ov-host", host="api.example.gov.cn"), expect=201)
        # a route does not conflict with itself when replaced
        doc = self.call("GET", "/routes/ov-get", self.platform)[2]
        self.write("PUT", "/routes/ov-get", self.platform, dict(doc, methods=["GET", "OPTIONS"]),
                   {"If-Match": '"%d"' % doc["version"]}, expect=200)

    # ---- lists

    def test_pagination(self):
        for i in range(7):
            self.write("POST", "/scopes", self.platform, {"name": "page:%d" % i, "department": "gz-tax", "display_name": "p"},
                       expect=201)
        seen, cursor, pages = [], None, 0
        while True:
            path = "/scopes?department=gz-tax&limit=3" + ("&cursor=" + cursor if cursor else "")
            status, _, answer = self.call("GET", path, self.platform)
            self.assertEqual(status, 200, answer)
            self.assertLessEqual(len(answer["items"]), 3)
            seen += [s["name"] for s in answer["items"]]
            pages += 1
            cursor = answer["next_cursor"]
            if cursor is None:
                break
        pages_names = [n for n in seen if n.startswith("page:")]
        self.assertEqual(pages_names, ["page:%d" % i for i in range(7)])
        self.assertEqual(len(seen), len(set(seen)))
        self.assertGreaterEqual(pages, 3)
        self.assertTrue(all(self.call("GET", "/scopes/" + n, self.platform)[2]["department"] == "gz-tax" for n in seen))
        for bad in ("limit=0", "limit=501", "limit=x", "cursor=!!", "cursor=AAAA"):
            self.assertEqual(self.call("GET", "/scopes?" + bad, self.platform)[0], 400, bad)

    # ---- the audit log

    def test_audit_log(self):
        before = self.audit_count()
        self.write("POST", "/scopes", self.sz, {"name": "audit:s", "department": "sz-tax", "display_name": "a"}, expect=201)
        tag = self.etag("/scopes/audit:s")
        self.write("PATCH", "/scopes/audit:s", self.sz, {"description": "d"}, {"If-Match": tag, "X-Request-Id": "req-42"},
                   expect=200)
        self.assertEqual(self.audit_count(), before + 2)
        status, _, answer = self.call("GET", "/audit-log?entity_type=scope&entity_key=audit:s", self.auditor)
        self.assertEqual(status, 200)
        rows = answer["items"]
        self.assertEqual([r["action"] for r in rows], ["create", "patch"])
        patch = rows[1]
        self.assertEqual((patch["actor"], patch["actor_role"], patch["department"]), ("li-ming", "department_admin", "sz-tax"))
        self.assertEqual((patch["before"], patch["after"]), ({"description": ""}, {"description": "d"}))
        self.assertEqual(patch["request_id"], "req-42")
        self.assertEqual(patch["source_address"], "127.0.0.1")
        self.assertEqual(rows[0]["before"], None)
        self.assertNotIn("version", rows[0]["after"])
        self.assertEqual(patch["registry_version"], int(tag.strip('"')) + 1)
        # filters: actor, since; department admins see only their department's rows; operators none
        actors = {r["actor"] for r in self.call("GET", "/audit-log?actor=li-ming&limit=500", self.platform)[2]["items"]}
        self.assertEqual(actors, {"li-ming"})
        self.assertEqual(self.call("GET", "/audit-log?since=2999-01-01T00:00:00Z", self.platform)[2]["items"], [])
        self.assertEqual(self.call("GET", "/audit-log?since=yesterday", self.platform)[0], 400)
        gz_rows = self.call("GET", "/audit-log?limit=500", self.gz)[2]["items"]
        self.assertTrue(all(r["department"] == "gz-tax" for r in gz_rows))
        self.assertEqual(self.call("GET", "/audit-log?department=sz-tax", self.gz)[2]["items"], [])
        self.assertEqual(self.call("GET", "/audit-log", self.operator)[0], 403)
        self.assertEqual(self.call("POST", "/audit-log", self.platform, {})[0], 405)
        # no token, no token hash, anywhere in the log
        everything = json.dumps(self.db.query("SELECT * FROM audit_log"))
        hashes = [h for (h,) in self.db.query("SELECT LOWER(HEX(token_hash)) FROM admin_tokens")]
        for secret in [self.platform, self.sz, self.gz, self.auditor, self.operator] + hashes:
            self.assertNotIn(secret, everything)
            self.assertNotIn(secret.upper(), everything)
        self.assertNotIn("ywadm_", everything)

    # ---- the operator's endpoints: signing keys and reload

    def assert_no_key_material(self, text):
        for marker in ("PRIVATE KEY", "BEGIN", "private", "ciphertext", '"d"', '"p"', '"q"'):
            self.assertNotIn(marker, text)

    def jwks_kids(self):
        status, _, raw = lib.http_request("GET", self.gw.public_url + "/.well-known/jwks.json")
        self.assertEqual(status, 200)
        return {k["kid"] for k in json.loads(raw)["keys"]}

    def test_signing_keys(self):
        # read: platform admins, operators, auditors; department admins nothing
        for token in (self.platform, self.operator, self.auditor):
            status, _, listed = self.call("GET", "/keys", token)
            self.assertEqual(status, 200, listed)
            self.assertTrue(any(k["state"] == "active" for k in listed["items"]), listed)
            self.assert_no_key_material(json.dumps(listed))
        self.assertEqual(self.call("GET", "/keys", self.sz)[0], 403)
        active = [k for k in self.call("GET", "/keys", self.operator)[2]["items"] if k["state"] == "active" and k["alg"] == "ES256"]
        self.assertEqual(len(active), 1)
        self.assertEqual(set(active[0]) - {"retired_at"}, {"kid", "alg", "state", "created_at", "activated_at"})
        # rotate: platform admins and operators; the others 403 and no audit row
        for token in (self.sz, self.gz, self.auditor):
            status, _, answer = self.write("POST", "/keys/rotate", token, expect=403)
            self.assertEqual(answer["error"]["code"], "admin_forbidden")
        self.write("POST", "/keys/rotate", self.operator, {"alg": "HS256"}, expect=400)
        self.write("POST", "/keys/rotate", self.operator, {"algorithm": "ES256"}, expect=400)
        self.write("POST", "/keys/rotate", self.operator, [], expect=400)
        self.assertEqual(self.call("GET", "/keys/rotate", self.operator)[0], 405)
        self.assertEqual(self.call("POST", "/keys", self.operator, {})[0], 405)
        self.assertEqual(self.call("POST", "/keys/other", self.operator, {})[0], 404)
        # no body: identity.signing_alg (ES256); the old active key becomes previous and stays published
        status, _, answer = self.write("POST", "/keys/rotate", self.operator, expect=201)
        self.assertEqual(set(answer), {"kid", "alg"})
        self.assertEqual(answer["alg"], "ES256")
        kid = answer["kid"]
        states = {k["kid"]: k["state"] for k in self.call("GET", "/keys", self.auditor)[2]["items"]}
        self.assertEqual((states[kid], states[active[0]["kid"]]), ("active", "previous"))
        lib.wait_until(lambda: kid in self.jwks_kids(), timeout=10.0, message="new kid in the JWKS")
        self.assertIn(active[0]["kid"], self.jwks_kids())
        audit = self.db.query("SELECT actor, actor_role, action, entity_type, diff_before, diff_after FROM audit_log "
                              "WHERE entity_type = 'signing_key' AND entity_key = '%s'" % kid)  # a kid is base64url
        self.assertEqual(len(audit), 1)
        self.assertEqual(audit[0][:4], ("ops-1", "operator", "rotate_key", "signing_key"))
        self.assertEqual(json.loads(audit[0][5]), {"kid": kid, "alg": "ES256"})
        # an explicit algorithm, by a platform admin
        status, _, answer = self.write("POST", "/keys/rotate", self.platform, {"alg": "RS256"}, expect=201)
        self.assertEqual(answer["alg"], "RS256")
        rs_kid = answer["kid"]
        states = {k["kid"]: (k["alg"], k["state"]) for k in self.call("GET", "/keys", self.platform)[2]["items"]}
        self.assertEqual(states[rs_kid], ("RS256", "active"))
        self.assertEqual(states[kid], ("ES256", "active"))  # another algorithm's rotation leaves ES256 alone
        everything = json.dumps(self.db.query("SELECT * FROM audit_log WHERE entity_type = 'signing_key'"))
        self.assert_no_key_material(everything)
        status, _, answer = self.call("GET", "/audit-log?entity_type=signing_key", self.auditor)
        self.assertEqual(status, 200)
        self.assertEqual({r["entity_key"] for r in answer["items"]}, {kid, rs_kid})

    def readyz_generation(self):
        status, _, raw = lib.http_request("GET", self.gw.ops_url + "/readyz")
        return json.loads(raw)["generation"]

    def test_reload(self):
        for token in (self.sz, self.gz, self.auditor):
            status, _, answer = self.write("POST", "/reload", token, expect=403)
            self.assertEqual(answer["error"]["code"], "admin_forbidden")
        self.assertEqual(self.call("GET", "/reload", self.operator)[0], 405)
        self.assertEqual(self.call("POST", "/reload/now", self.operator)[0], 404)
        for token, actor in ((self.operator, "ops-1"), (self.platform, "root")):
            generation = self.readyz_generation()
            reloads = self.gw.stderr().count("configuration reloaded")
            status, _, answer = self.write("POST", "/reload", token, expect=202)
            self.assertEqual(answer["reload"], "requested")
            self.assertTrue(answer["node"])
            lib.wait_until(lambda: self.readyz_generation() > generation, timeout=10.0, message="a new generation")
            lib.wait_until(lambda: self.gw.stderr().count("configuration reloaded") > reloads, timeout=5.0,
                           message="the reload in the log")
            rows = self.db.query("SELECT actor, action, entity_type, entity_key FROM audit_log WHERE action = 'reload' "
                                 "ORDER BY id DESC LIMIT 1")
            self.assertEqual(rows[0], (actor, "reload", "node", answer["node"]))
        self.assertTrue(self.gw.running())
        self.assertEqual(self.call("GET", "/departments/gd", self.platform)[0], 200)


if __name__ == "__main__":
    unittest.main()
