#!/usr/bin/env python3
"""Live answers against openapi/yiwang.yaml: the gateway's own API (sign-in,
OAuth/OIDC, admin) is exercised on the real binary and every JSON answer is
validated with an independent JSON Schema validator (python3-jsonschema,
draft 2020-12) against the schema the document gives for that path, method
and status — including the entity schemas it references in schemas/json/. A
member the code sends but the document does not allow, a missing required
member or an undocumented status fails here, so the document integrators
import stays true."""

import base64
import json
import os
import re
import subprocess
import sys
import unittest
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import yiwang_testlib as lib  # noqa: E402
from sign_in_helpers import SignInGateway  # noqa: E402

import yaml  # noqa: E402
from jsonschema import Draft202012Validator, RefResolver  # noqa: E402

OPENAPI = os.path.join(lib.SOURCE_DIR, "openapi", "yiwang.yaml")


class Spec:
    """Finds the response schema of (method, concrete path, status) and validates a body against it."""

    def __init__(self, path):
        with open(path, encoding="utf-8") as f:
            self.doc = yaml.safe_load(f)
        self.base_uri = "file://" + path
        self.templates = [(re.compile("^" + re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(t)) + "$"), t)
                          for t in self.doc["paths"] if not t.startswith("/{")]

    def lookup(self, ref):
        node = self.doc
        for part in ref[2:].split("/"):
            node = node[part.replace("~1", "/").replace("~0", "~")]
        return node

    def response_schema(self, method, path, status):
        template = next((t for regex, t in self.templates if regex.match(path)), None)
        if template is None:
            raise AssertionError("%s is not in the document" % path)
        operation = self.doc["paths"][template].get(method.lower())
        if operation is None:
            raise AssertionError("%s %s is not in the document" % (method, template))
        response = operation["responses"].get(str(status))
        if response is None:
            raise AssertionError("%s %s answered %d, which the document does not list" % (method, template, status))
        while "$ref" in response:
            response = self.lookup(response["$ref"])
        content = response.get("content", {})
        media = next((v for k, v in content.items() if "json" in k), None)
        if media is None:
            raise AssertionError("%s %s %d has no JSON content in the document" % (method, template, status))
        return template, media["schema"]

    def validate(self, method, path, status, body):
        template, schema = self.response_schema(method, path, status)
        resolver = RefResolver(self.base_uri, self.doc)
        errors = sorted(Draft202012Validator(schema, resolver=resolver).iter_errors(body), key=lambda e: list(e.path))
        if errors:
            raise AssertionError("%s %s %d does not match the document:\n%s\n%s" % (
                method, template, status, "\n".join("  /%s: %s" % ("/".join(map(str, e.path)), e.message)
                                                    for e in errors[:10]), json.dumps(body, ensure_ascii=False)[:2000]))
        return template


class OpenApiResponsesTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.spec = Spec(OPENAPI)
        cls.env = SignInGateway()
        out = cls.env.run_cli("admin", "create", "--config", cls.env.cli_config, "--name", "root", "--role",
                              "platform_admin")
        cls.admin_token = out.split()[1]
        cls.checked = set()

    @classmethod
    def tearDownClass(cls):
        cls.env.close()
        print("%d operations checked against the document" % len(cls.checked), file=sys.stderr)

    def check(self, method, path, status, body, expect=None):
        if expect is not None:
            self.assertEqual(status, expect, body)
        self.checked.add((method, self.spec.validate(method, path, status, body), status))

    # ---- the public listener

    def public(self, method, path, body=None, headers=None, raw=False):
        return self.env.request(method, path, body, headers=headers, raw=raw)

    def test_sign_in_and_tokens(self):
        status, _, body = self.env.send_sms("13800138101")
        self.check("POST", "/v1/auth/sms", status, body, 202)
        status, _, body = self.env.login("13800138101", code="000000")
        self.check("POST", "/v1/auth/login", status, body, 401)
        signed_in = self.env.sms_login("13800138102")
        self.check("POST", "/v1/auth/login", 200, signed_in)
        status, _, body = self.env.refresh(signed_in["refresh_token"])
        self.check("POST", "/oauth/token", status, body, 200)
        status, _, body = self.env.refresh("not-a-token")
        self.check("POST", "/oauth/token", status, body, 400)
        form = urllib.parse.urlencode({"grant_type": "client_credentials", "client_id": "svc",
                                       "client_secret": self.env.svc_secret}).encode()
        status, _, body = self.public("POST", "/oauth/token", form, {"Content-Type": "application/x-www-form-urlencoded"},
                                      raw=True)
        self.check("POST", "/oauth/token", status, body, 200)
        basic = {"Authorization": "Basic " + base64.b64encode(("svc:" + self.env.svc_secret).encode()).decode(),
                 "Content-Type": "application/x-www-form-urlencoded"}
        status, _, body = self.public("POST", "/oauth/introspect",
                                      urllib.parse.urlencode({"token": signed_in["access_token"]}).encode(), basic, raw=True)
        self.check("POST", "/oauth/introspect", status, body, 200)
        status, _, body = self.public("POST", "/oauth/introspect", urllib.parse.urlencode({"token": "x"}).encode(), basic,
                                      raw=True)
        self.check("POST", "/oauth/introspect", status, body, 200)
        status, _, body = self.public("GET", "/userinfo", headers={"Authorization": "Bearer " + signed_in["access_token"]})
        self.check("GET", "/userinfo", status, body)  # 403 insufficient_scope or 200, as documented

    def test_discovery_and_keys(self):
        for path in ("/.well-known/openid-configuration", "/.well-known/jwks.json"):
            status, _, body = self.public("GET", path)
            self.check("GET", path, status, body, 200)

    # ---- the admin API on the ops listener

    def admin(self, method, path, body=None, etag=None, token=True):
        headers = {}
        if token:
            headers["Authorization"] = "Bearer " + self.admin_token
        if body is not None:
            headers["Content-Type"] = "application/merge-patch+json" if method == "PATCH" else "application/json"
        if etag:
            headers["If-Match"] = etag
        status, h, raw = lib.http_request(method, self.env.gw.ops_url + "/admin/v1" + path,
                                          body=json.dumps(body) if body is not None else None, headers=headers)
        return status, h, json.loads(raw) if raw else None

    def test_admin_answers(self):
        status, h, body = self.admin("POST", "/departments", {"name": "gd", "display_name": "广东省", "region_code": "440000"})
        self.check("POST", "/admin/v1/departments", status, body, 201)
        status, h, body = self.admin("GET", "/departments/gd")
        self.check("GET", "/admin/v1/departments/gd", status, body, 200)
        status, _, body = self.admin("PATCH", "/departments/gd", {"display_name": "广东省人民政府"}, etag=h["etag"])
        self.check("PATCH", "/admin/v1/departments/gd", status, body, 200)
        status, _, body = self.admin("PATCH", "/departments/gd", {"display_name": "x"}, etag='"1"')
        self.check("PATCH", "/admin/v1/departments/gd", status, body, 412)
        status, _, body = self.admin("GET", "/departments?limit=1")
        self.check("GET", "/admin/v1/departments", status, body, 200)
        status, _, body = self.admin("POST", "/departments", {"name": "bad", "display_name": "x", "region_code": "99"})
        self.check("POST", "/admin/v1/departments", status, body, 400)
        status, _, body = self.admin("GET", "/departments/nowhere")
        self.check("GET", "/admin/v1/departments/nowhere", status, body, 404)
        status, _, body = self.admin("GET", "/departments", token=False)
        self.check("GET", "/admin/v1/departments", status, body, 401)
        status, _, body = self.admin("POST", "/services", {"name": "hrss-api", "department": "gd",
                                                           "targets": [{"host": "127.0.0.1", "port": 9}]})
        self.check("POST", "/admin/v1/services", status, body, 201)
        status, _, body = self.admin("POST", "/routes", {"name": "hrss-api", "path_prefix": "/hrss-api/",
                                                         "service": "hrss-api"})
        self.check("POST", "/admin/v1/routes", status, body, 201)
        status, h, body = self.admin("GET", "/services/hrss-api")
        self.check("GET", "/admin/v1/services/hrss-api", status, body, 200)
        status, _, body = self.admin("DELETE", "/services/hrss-api", etag=h["etag"])
        self.check("DELETE", "/admin/v1/services/hrss-api", status, body, 409)
        status, _, body = self.admin("POST", "/clients", {"client_id": "it-app", "name": "集成商", "kind": "third_party",
                                                          "confidential": True, "grant_types": ["client_credentials"]})
        self.check("POST", "/admin/v1/clients", status, body, 201)
        self.assertIn("client_secret", body)
        status, _, body = self.admin("GET", "/clients/it-app")  # the rest of the answer is the client as GET returns it
        self.check("GET", "/admin/v1/clients/it-app", status, body, 200)
        status, _, body = self.admin("GET", "/audit-log?limit=5")
        self.check("GET", "/admin/v1/audit-log", status, body, 200)


if __name__ == "__main__":
    unittest.main()
