#!/usr/bin/env python3
"""The public catalog and the merged OpenAPI document (docs/registry.md §8):
services' documents uploaded through the admin API reach GET /v1/catalog and
GET /openapi.json of a node that follows the registry within about a second;
the catalog shows routes and scopes but no internals; the merged document is
re-rooted, has unique operationIds and resolvable $refs, names the gateway's
OAuth endpoints, and passes the standard OpenAPI linter (@redocly/cli), so an
integrator can import it. Also: RBAC, validation pointers and one audit row
per write for the upload API."""

import copy
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import yiwang_testlib as lib  # noqa: E402
from mariadb_fixture import MariaDB  # noqa: E402

ISSUER = "https://id.example.gov.cn"
SOURCE_DIR = os.environ.get("YIWANG_SOURCE_DIR", os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
REDOCLY_VERSION = "1.34.20"  # as tests/lint/openapi_lint.sh
LIMIT_S = 1.0

ERROR = {"description": "Bad request.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}

INVOICE_DOC = {
    "openapi": "3.0.3",
    "info": {"title": "Invoices", "version": "1.0"},
    "servers": [{"url": "http://10.1.2.3:8080"}],  # internal: must not leak into the merged document
    "paths": {
        "/invoices": {
            "get": {"operationId": "listInvoices", "summary": "List invoices",
                    "responses": {"200": {"description": "The invoices.", "content": {"application/json": {"schema": {
                        "type": "array", "items": {"$ref": "#/components/schemas/Invoice"}}}}}, "400": ERROR}},
            "post": {"operationId": "createInvoice", "summary": "Create an invoice",
                     "requestBody": {"required": True, "content": {"application/json": {
                         "schema": {"$ref": "#/components/schemas/Invoice"}}}},
                     "responses": {"201": {"description": "Created."}, "400": ERROR}},
            "delete": {"operationId": "dropInvoices", "summary": "Not routed (the route has GET and POST only)",
                       "responses": {"204": {"description": "Gone."}, "400": ERROR}},
        },
        "/invoices/{id}": {
            "parameters": [{"name": "id", "in": "path", "required": True, "schema": {"type": "string"}}],
            "get": {"operationId": "getInvoice", "summary": "One invoice",
                    "responses": {"200": {"description": "The invoice.", "content": {"application/json": {
                        "schema": {"$ref": "#/components/schemas/Invoice"}}}}, "400": ERROR}},
        },
    },
    "components": {
        "schemas": {
            "Invoice": {"type": "object", "properties": {"id": {"type": "string"},
                                                         "lines": {"type": "array", "items": {"$ref": "#/components/schemas/Line"}}}},
            "Line": {"type": "object", "properties": {"amount": {"type": "string"},
                                                      "payment": {"$ref": "#/components/schemas/Payment"}}},
            "Payment": {"oneOf": [{"$ref": "#/components/schemas/Card"}, {"$ref": "#/components/schemas/Transfer"}],
                        "discriminator": {"propertyName": "kind", "mapping": {"card": "#/components/schemas/Card",
                                                                              "transfer": "#/components/schemas/Transfer"}}},
            "Card": {"type": "object", "required": ["kind"], "properties": {"kind": {"type": "string"}}},
            "Transfer": {"type": "object", "required": ["kind"], "properties": {"kind": {"type": "string"}}},
            "Error": {"type": "object", "properties": {"message": {"type": "string"}}},
        },
        "securitySchemes": {"internal": {"type": "http", "scheme": "basic"}},
    },
}

PERMIT_DOC = {
    "openapi": "3.1.0",
    "info": {"title": "Permits", "version": "2.0"},
    "paths": {
        # the route does not strip its prefix, so the service's own paths carry it
        "/gz-tax/permits": {"get": {"operationId": "listInvoices", "summary": "List permits (an id the other service uses too)",
                                    "responses": {"200": {"description": "The permits.", "content": {"application/json": {
                                        "schema": {"$ref": "#/components/schemas/Invoice"}}}}, "400": ERROR}}},
        "/internal/health": {"get": {"operationId": "health", "summary": "Not under the route's prefix",
                                     "responses": {"200": {"description": "OK."}, "400": ERROR}}},
    },
    "components": {"schemas": {"Invoice": {"type": "string", "description": "Same name as the invoice service's."},
                               "Error": {"type": "object"}}},
}


class CatalogOpenApiTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.TemporaryDirectory(prefix="yiwang-catalog-")
        cls.db = MariaDB()
        master = os.path.join(cls.dir.name, "master.key")
        with open(os.open(master, os.O_WRONLY | os.O_CREAT, 0o600), "w") as f:
            f.write(os.urandom(32).hex() + "\n")
        identity = {"issuer": ISSUER, "master_key_file": master}
        cls.cli_config = os.path.join(cls.dir.name, "cli.json")
        with open(cls.cli_config, "w") as f:
            json.dump({"database": {"dsn": cls.db.dsn}, "identity": identity}, f)
        for args in (("migrate",), ("keys", "rotate", "--if-none")):
            subprocess.run([lib.YIWANG_BIN, *args, "--config", cls.cli_config], check=True, capture_output=True, timeout=60)
        cls.platform = cls.admin_token("root", "platform_admin")
        cls.upstream = lib.Upstream("demo")
        cls.upstream.__enter__()
        cfg = lib.make_config([], [], database={"dsn": cls.db.dsn, "pool_size": 2}, identity=identity,
                              registry={"source": "database"})
        cls.gw = lib.Gateway(cfg)
        target = [{"host": "127.0.0.1", "port": cls.upstream.port}]
        for name, region in (("sz-tax", "440300"), ("gz-tax", "440100")):
            cls.ok("POST", "/departments", {"name": name, "display_name": "部门 " + name, "region_code": region})
        cls.ok("POST", "/scopes", {"name": "tax:invoice:read", "department": "sz-tax", "display_name": "查询发票",
                                   "third_party": True})
        cls.ok("POST", "/services", {"name": "sz-invoice", "department": "sz-tax", "targets": target})
        cls.ok("POST", "/services", {"name": "gz-permit", "department": "gz-tax", "targets": target})
        cls.ok("POST", "/routes", {"name": "sz-invoice", "path_prefix": "/sz-tax/invoice", "service": "sz-invoice",
                                   "strip_prefix": True, "methods": ["GET", "POST"],
                                   "auth": {"policy": "user", "scopes": ["tax:invoice:read"], "min_acr": 2}})
        cls.ok("POST", "/routes", {"name": "gz-permit", "path_prefix": "/gz-tax/permits", "service": "gz-permit",
                                   "strip_prefix": False, "auth": {"policy": "public"}})
        cls.sz = cls.admin_token("li-ming", "department_admin", "sz-tax")
        cls.auditor = cls.admin_token("audit-1", "auditor")

    @classmethod
    def tearDownClass(cls):
        code = cls.gw.stop()
        stderr = cls.gw.stderr()
        cls.gw.close()
        cls.upstream.__exit__(None, None, None)
        cls.db.close()
        cls.dir.cleanup()
        assert code == 0 and "Sanitizer" not in stderr and "runtime error:" not in stderr, (code, stderr[-4000:])

    # ---- helpers

    @classmethod
    def admin_token(cls, name, role, department=None):
        args = [lib.YIWANG_BIN, "admin", "create", "--config", cls.cli_config, "--name", name, "--role", role]
        if department:
            args += ["--department", department]
        out = subprocess.run(args, check=True, capture_output=True, text=True, timeout=60).stdout
        return out.strip().split(" ", 1)[1]

    @classmethod
    def call(cls, method, path, body=None, token=None, etag=None, raw=None):
        headers = {"Authorization": "Bearer " + (token or cls.platform)}
        data = raw if raw is not None else (json.dumps(body) if body is not None else None)
        if data is not None:
            headers["Content-Type"] = "application/merge-patch+json" if method == "PATCH" else "application/json"
        if etag is not None:
            headers["If-Match"] = etag
        status, h, answer = lib.http_request(method, cls.gw.ops_url + "/admin/v1" + path, body=data, headers=headers)
        return status, h, json.loads(answer) if answer else None

    @classmethod
    def ok(cls, method, path, body=None, **kw):
        status, h, answer = cls.call(method, path, body, **kw)
        assert status in (200, 201, 204), (method, path, status, answer)
        return h, answer

    def public(self, path, headers=None):
        status, h, raw = lib.http_request("GET", self.gw.public_url + path, headers=headers)
        return status, h, raw

    def public_json(self, path):
        status, h, raw = self.public(path)
        self.assertEqual(status, 200, raw)
        return h, json.loads(raw)

    def audit_rows(self, service):
        return self.db.query("SELECT action, diff_before, diff_after FROM audit_log WHERE entity_type = 'service_openapi' "
                             "AND entity_key = '%s' ORDER BY id" % service)

    def upload_both(self):
        """Uploads both documents (once per class) and waits for the node to serve them; returns the seconds it took."""
        if getattr(CatalogOpenApiTest, "uploaded", None) is not None:
            return CatalogOpenApiTest.uploaded
        started = time.monotonic()
        status, h, answer = self.call("PUT", "/services/sz-invoice/openapi", INVOICE_DOC, token=self.sz)
        self.assertEqual(status, 201, answer)
        status, _, answer = self.call("PUT", "/services/gz-permit/openapi", PERMIT_DOC)
        self.assertEqual(status, 201, answer)
        lib.wait_until(lambda: "/gz-tax/permits" in self.public_json("/openapi.json")[1]["paths"], timeout=5, interval=0.02,
                       message="both documents in /openapi.json")
        CatalogOpenApiTest.uploaded = time.monotonic() - started
        return CatalogOpenApiTest.uploaded

    # ---- the upload API

    def test_upload_rbac_validation_and_audit(self):
        self.upload_both()
        # a department admin cannot see, let alone replace, another department's service
        for method in ("GET", "PUT", "DELETE"):
            status, _, answer = self.call(method, "/services/gz-permit/openapi", PERMIT_DOC if method == "PUT" else None,
                                          token=self.sz, etag='"1"')
            self.assertEqual(status, 404, (method, answer))
        self.assertEqual(self.call("PUT", "/services/sz-invoice/openapi", INVOICE_DOC, token=self.auditor)[0], 403)
        status, h, answer = self.call("GET", "/services/sz-invoice/openapi", token=self.auditor)
        self.assertEqual(status, 200)
        self.assertEqual(answer["paths"].keys(), INVOICE_DOC["paths"].keys())

        # bad documents: 400 with pointers, nothing written
        before = len(self.audit_rows("sz-invoice"))
        for body, pointer in (([1, 2], ""), ({"openapi": "2.0", "paths": {}}, "/openapi"),
                              ({"openapi": "3.1.0"}, "/paths"), ({"swagger": "2.0", "paths": {}}, "/openapi"),
                              ({"openapi": "3.0.3", "paths": {"invoices": {}}}, "/paths/invoices"),
                              ({"openapi": "3.0.3", "paths": {"/a/b": []}}, "/paths/~1a~1b"),
                              ({"openapi": "3.1.0", "paths": {}, "components": []}, "/components")):
            status, _, answer = self.call("PUT", "/services/sz-invoice/openapi", body, token=self.sz, etag=h["etag"])
            self.assertEqual(status, 400, body)
            self.assertEqual(answer["error"]["code"], "invalid_body")
            self.assertIn(pointer, [p["pointer"] for p in answer["error"]["problems"]], answer)
        self.assertEqual(self.call("PUT", "/services/sz-invoice/openapi", raw="{not json", token=self.sz)[0], 400)
        self.assertEqual(len(self.audit_rows("sz-invoice")), before)

        # replacing needs the document's ETag
        self.assertEqual(self.call("PUT", "/services/sz-invoice/openapi", INVOICE_DOC, token=self.sz)[0], 428)
        self.assertEqual(self.call("PUT", "/services/sz-invoice/openapi", INVOICE_DOC, token=self.sz, etag='"1"')[0], 412)
        revised = copy.deepcopy(INVOICE_DOC)
        revised["info"]["version"] = "1.0.1"
        status, h2, answer = self.call("PUT", "/services/sz-invoice/openapi", revised, token=self.sz, etag=h["etag"])
        self.assertEqual(status, 200, answer)
        self.assertEqual(len(answer["sha256"]), 64)

        # over the 1 MiB cap
        big = copy.deepcopy(INVOICE_DOC)
        big["info"]["description"] = "x" * (1024 * 1024)
        self.assertEqual(self.call("PUT", "/services/sz-invoice/openapi", big, token=self.sz, etag=h2["etag"])[0], 413)

        # one audit row per write, naming a hash and a size, never the document
        rows = self.audit_rows("sz-invoice")
        self.assertEqual([r[0] for r in rows], ["create", "replace"])
        self.assertIsNone(rows[0][1])
        self.assertEqual(set(json.loads(rows[0][2])), {"sha256", "size_bytes"})
        self.assertEqual(set(json.loads(rows[1][1])), {"sha256", "size_bytes"})  # the diff: both changed
        for action, before_json, after_json in rows:
            self.assertNotIn("listInvoices", (before_json or "") + after_json)
        self.assertEqual(len(self.audit_rows("gz-permit")), 1)

        # the registry version moved with each write
        versions = self.db.query("SELECT registry_version FROM audit_log WHERE entity_type = 'service_openapi' ORDER BY id")
        self.assertEqual(len(set(v[0] for v in versions)), len(versions))

    def test_delete_then_upload_again(self):
        self.upload_both()
        self.ok("POST", "/services", {"name": "tmp-svc", "department": "sz-tax",
                                      "targets": [{"host": "127.0.0.1", "port": self.upstream.port}]})
        self.ok("POST", "/routes", {"name": "tmp-svc", "path_prefix": "/sz-tax/tmp", "service": "tmp-svc", "strip_prefix": True})
        doc = {"openapi": "3.1.0", "info": {"title": "t", "version": "1"},
               "paths": {"/x": {"get": {"operationId": "x", "summary": "x", "responses": {"200": {"description": "x"}}}}}}
        h, _ = self.ok("PUT", "/services/tmp-svc/openapi", doc)
        lib.wait_until(lambda: "/sz-tax/tmp/x" in self.public_json("/openapi.json")[1]["paths"], timeout=5, interval=0.02,
                       message="tmp document served")
        self.assertEqual(self.call("DELETE", "/services/tmp-svc/openapi")[0], 428)
        self.ok("DELETE", "/services/tmp-svc/openapi", etag=h["etag"])
        self.assertEqual(self.call("GET", "/services/tmp-svc/openapi")[0], 404)
        lib.wait_until(lambda: "/sz-tax/tmp/x" not in self.public_json("/openapi.json")[1]["paths"], timeout=5, interval=0.02,
                       message="tmp document gone")
        self.assertEqual([r[0] for r in self.audit_rows("tmp-svc")], ["create", "delete"])
        # deleting the service takes its document with it (ON DELETE CASCADE)
        h, _ = self.ok("PUT", "/services/tmp-svc/openapi", doc)
        _, route = self.ok("GET", "/routes/tmp-svc")
        self.ok("DELETE", "/routes/tmp-svc", etag='"%d"' % route["version"])
        _, svc = self.ok("GET", "/services/tmp-svc")
        service_id = self.db.query("SELECT id FROM services WHERE name = 'tmp-svc'")[0][0]
        count = "SELECT COUNT(*) FROM service_openapi WHERE service_id = %s" % service_id
        self.assertEqual(self.db.query(count)[0][0], "1")
        self.ok("DELETE", "/services/tmp-svc", etag='"%d"' % svc["version"])
        self.assertEqual(self.db.query(count)[0][0], "0")

    # ---- the catalog

    def test_catalog(self):
        self.upload_both()
        h, catalog = self.public_json("/v1/catalog")
        self.assertEqual(h["cache-control"], "public, max-age=60")
        version = self.db.query("SELECT version FROM registry_version")[0][0]
        lib.wait_until(lambda: self.public("/v1/catalog")[1]["etag"] == '"%s"' % version, timeout=5, interval=0.02,
                       message="catalog ETag = registry version")
        status, h, raw = self.public("/v1/catalog")
        catalog = json.loads(raw)
        status, _, body = self.public("/v1/catalog", headers={"If-None-Match": h["etag"]})
        self.assertEqual((status, body), (304, b""))

        departments = {d["name"]: d for d in catalog["departments"]}
        self.assertEqual(departments["sz-tax"]["display_name"], "部门 sz-tax")
        self.assertEqual(departments["sz-tax"]["region_code"], "440300")
        self.assertIn("sz-invoice", departments["sz-tax"]["services"])
        services = {s["name"]: s for s in catalog["services"]}
        self.assertEqual(services["sz-invoice"]["department"], "sz-tax")
        self.assertEqual(services["sz-invoice"]["routes"], [{
            "path_prefix": "/sz-tax/invoice", "methods": ["GET", "HEAD", "POST"],  # GET also serves HEAD
            "auth": {"policy": "user", "scopes": ["tax:invoice:read"], "min_acr": 2}}])
        self.assertEqual(services["gz-permit"]["routes"][0]["auth"]["policy"], "public")
        self.assertIn({"name": "tax:invoice:read", "display_name": "查询发票", "department": "sz-tax"}, catalog["scopes"])
        # never targets, timeouts or other internals
        text = raw.decode()
        for internal in ("127.0.0.1", str(self.upstream.port), "targets", "timeout", "strip_prefix", "max_body_bytes",
                         "forward_authorization"):
            self.assertNotIn(internal, text)

        # a change reaches the catalog within about a second; an internal scope (the default) is never listed
        started = time.monotonic()
        self.ok("POST", "/scopes", {"name": "tax:invoice:audit", "department": "sz-tax", "display_name": "稽查发票"})
        self.ok("POST", "/scopes", {"name": "tax:invoice:write", "department": "sz-tax", "display_name": "开具发票",
                                    "third_party": True})
        lib.wait_until(lambda: "tax:invoice:write" in self.public("/v1/catalog")[2].decode(), timeout=5, interval=0.02,
                       message="new scope in the catalog")
        self.assertLess(time.monotonic() - started, LIMIT_S)
        listed = [s["name"] for s in json.loads(self.public("/v1/catalog")[2])["scopes"]]
        self.assertNotIn("tax:invoice:audit", listed)
        # until its department opens it to third parties
        started = time.monotonic()
        status, h, _ = self.call("GET", "/scopes/tax:invoice:audit")
        self.assertEqual(status, 200)
        self.ok("PATCH", "/scopes/tax:invoice:audit", {"third_party": True}, etag=h["etag"])
        lib.wait_until(lambda: "tax:invoice:audit" in self.public("/v1/catalog")[2].decode(), timeout=5, interval=0.02,
                       message="opened scope in the catalog")
        self.assertLess(time.monotonic() - started, LIMIT_S)

    def test_catalog_not_shadowed_and_method(self):
        status, _, _ = lib.http_request("POST", self.gw.public_url + "/v1/catalog", body="{}",
                                        headers={"Content-Type": "application/json"})
        self.assertEqual(status, 405)

    def test_file_source(self):
        """With registry.source = file the catalog lists the file's routes, with no departments or scopes."""
        cfg = lib.make_config([lib.service("hrss", [self.upstream])],
                              [lib.route("hrss", "/hrss/", "hrss", methods=["GET"], strip_prefix=True,
                                         auth={"policy": "public"})])  # no identity section: served all the same
        gw = lib.Gateway(cfg)
        try:
            status, h, raw = lib.http_request("GET", gw.public_url + "/v1/catalog")
            self.assertEqual(status, 200, raw)
            self.assertTrue(h["etag"].startswith('"file-'), h["etag"])
            catalog = json.loads(raw)
            self.assertEqual((catalog["source"], catalog["departments"], catalog["scopes"]), ("file", [], []))
            self.assertEqual(catalog["services"], [{"name": "hrss", "routes": [{
                "path_prefix": "/hrss/", "methods": ["GET", "HEAD"],
                "auth": {"policy": "public", "scopes": [], "min_acr": 0}}]}])
            self.assertNotIn("127.0.0.1", raw.decode())
            status, _, raw = lib.http_request("GET", gw.public_url + "/openapi.json")
            self.assertEqual(status, 200)
            self.assertIn("/v1/catalog", json.loads(raw)["paths"])
        finally:
            code = gw.stop()
            stderr = gw.stderr()
            gw.close()
            self.assertEqual(code, 0, stderr[-3000:])
            self.assertNotIn("Sanitizer", stderr)

    # ---- the merged document

    def test_merged_document(self):
        elapsed = self.upload_both()
        self.assertLess(elapsed, LIMIT_S + 0.5, "documents reached /openapi.json in %.3f s" % elapsed)
        h, doc = self.public_json("/openapi.json")
        self.assertEqual(h["cache-control"], "public, max-age=60")
        self.assertTrue(doc["openapi"].startswith("3.1."))
        paths = doc["paths"]
        # the gateway's own public endpoints, and none of the ops or admin ones
        for own in ("/oauth/token", "/oauth/authorize", "/.well-known/openid-configuration", "/v1/auth/login", "/v1/catalog",
                    "/openapi.json"):
            self.assertIn(own, paths)
        self.assertFalse([p for p in paths if p.startswith("/admin/") or p in ("/healthz", "/readyz", "/metrics")])
        # re-rooted: strip_prefix puts the service's paths under the prefix; only the route's methods
        self.assertEqual(set(paths["/sz-tax/invoice/invoices"]), {"get", "post"})
        self.assertIn("/sz-tax/invoice/invoices/{id}", paths)
        self.assertNotIn("/invoices", paths)
        # without strip_prefix the service's paths are the gateway's; those outside the prefix are unreachable
        self.assertIn("/gz-tax/permits", paths)
        self.assertNotIn("/internal/health", paths)
        self.assertNotIn("/gz-tax/permits/internal/health", paths)
        # operationIds unique, prefixed with the service
        ids = [op["operationId"] for item in paths.values() for m, op in item.items()
               if isinstance(op, dict) and "operationId" in op]
        self.assertEqual(len(ids), len(set(ids)))
        self.assertIn("sz-invoice_listInvoices", ids)
        self.assertIn("gz-permit_listInvoices", ids)
        # components merged without collisions, every local $ref resolves
        schemas = doc["components"]["schemas"]
        self.assertEqual(schemas["gz-permit_Invoice"]["type"], "string")
        self.assertEqual(schemas["sz-invoice_Invoice"]["type"], "object")
        self.assertIn("ErrorEnvelope", schemas)
        refs = []

        def walk(node):
            if isinstance(node, dict):
                for k, v in node.items():
                    if k == "$ref" and isinstance(v, str):
                        refs.append(v)
                    else:
                        walk(v)
            elif isinstance(node, list):
                for v in node:
                    walk(v)
        walk(doc)
        self.assertIn("#/components/schemas/sz-invoice_Line", refs)
        mapping = schemas["sz-invoice_Payment"]["discriminator"]["mapping"]
        self.assertEqual(mapping["card"], "#/components/schemas/sz-invoice_Card")
        refs.extend(mapping.values())
        for ref in refs:
            self.assertTrue(ref.startswith("#/"), ref)
            target = doc
            for part in ref[2:].split("/"):
                part = part.replace("~1", "/").replace("~0", "~")
                self.assertIn(part, target, "unresolved $ref %s" % ref)
                target = target[part]
        # security from the gateway, not from the service
        scheme = doc["components"]["securitySchemes"]["yiwang"]
        self.assertEqual(scheme["type"], "oauth2")
        self.assertEqual(scheme["flows"]["authorizationCode"]["authorizationUrl"], ISSUER + "/oauth/authorize")
        self.assertEqual(scheme["flows"]["authorizationCode"]["tokenUrl"], ISSUER + "/oauth/token")
        self.assertEqual(scheme["flows"]["clientCredentials"]["tokenUrl"], ISSUER + "/oauth/token")
        self.assertEqual(scheme["flows"]["authorizationCode"]["scopes"]["tax:invoice:read"], "查询发票")
        self.assertNotIn("internal", doc["components"]["securitySchemes"])
        self.assertEqual(paths["/sz-tax/invoice/invoices"]["get"]["security"], [{"yiwang": ["tax:invoice:read"]}])
        self.assertEqual(paths["/gz-tax/permits"]["get"]["security"], [])
        self.assertNotIn("10.1.2.3", json.dumps(doc))
        self.lint(doc)

    def test_public_part_matches_yiwang_yaml(self):
        """openapi/public.json (embedded) is what scripts/openapi_public.py makes of openapi/yiwang.yaml today."""
        try:
            import yaml  # noqa: F401
        except ImportError:
            self.skipTest("PyYAML is not installed")
        result = subprocess.run([sys.executable, os.path.join(SOURCE_DIR, "scripts", "openapi_public.py"), "--check"],
                                capture_output=True, text=True, timeout=60)
        self.assertEqual(result.returncode, 0, result.stderr)

    def lint(self, doc):
        """The live document through the standard OpenAPI linter, with the project's rules (redocly.yaml)."""
        npx = shutil.which("npx")
        self.assertIsNotNone(npx, "npx (Node.js) is needed to lint the merged document")
        path = os.path.join(self.dir.name, "openapi.json")
        with open(path, "w", encoding="utf-8") as f:
            json.dump(doc, f, ensure_ascii=False)
        env = dict(os.environ)
        cache = os.path.join(os.path.dirname(os.path.abspath(lib.YIWANG_BIN)), "npm-cache")
        os.makedirs(cache, exist_ok=True)
        env["npm_config_cache"] = cache
        result = subprocess.run([npx, "--yes", "@redocly/cli@" + REDOCLY_VERSION, "lint", "--format=stylish",
                                 "--config", os.path.join(SOURCE_DIR, "redocly.yaml"), path],
                                capture_output=True, text=True, timeout=280, env=env)
        self.assertEqual(result.returncode, 0, result.stdout[-6000:] + result.stderr[-3000:])


if __name__ == "__main__":
    unittest.main()
