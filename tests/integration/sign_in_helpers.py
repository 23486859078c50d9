"""sign_in_helpers - a gateway with the sign-in API, a real MariaDB and first-party
clients, for test_sign_in.py and test_refresh_token.py (stdlib only).

    with SignInGateway(identity_overrides) as env:
        env.send_sms("13800138000")                 # -> (status, headers, body)
        code = env.last_code("13800138000")         # from the outbox file
        status, headers, body = env.login("13800138000", code=code)
        env.refresh(body["refresh_token"])          # POST /oauth/token

Clients registered: "app" (first party, public, grants refresh_token, scopes
"profile hrss:read tax:read"), "app2" (first party, public, same grants),
"desk" (first party, confidential), "third" (third party, confidential) and
"norefresh" (first party, public, no refresh_token grant).

The browser flow (test_browser_sign_in.py): env.add_browser_clients() adds "h5"
(first party, public), "web" (first party, confidential, env.web_secret) and
"spa" (third party, public), all with the authorization_code and refresh_token
grants, "openid profile hrss:read" and redirect URI https://<id>.example/cb;
Browser(env) is a user agent with a cookie jar that reads the gateway's forms.
"""

import base64
import hashlib
import html.parser
import http.client
import json
import os
import subprocess
import tempfile
import time
import urllib.parse

import yiwang_testlib as lib
from mariadb_fixture import MariaDB

ISS = "https://id.yiwang.test"
AUD = "https://api.yiwang.test"
SCOPES = "profile hrss:read tax:read"


def jwt_payload(token):
    part = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))


def without_request_id(body):
    """An error envelope with its request id removed, to compare two answers."""
    copy = json.loads(json.dumps(body))
    copy["error"].pop("request_id", None)
    return copy


class SignInGateway:
    def __init__(self, identity=None, routes=None, listeners=None):
        self.dir = tempfile.TemporaryDirectory(prefix="yiwang-signin-")
        self.db = MariaDB()
        master = os.path.join(self.dir.name, "master.key")
        with open(os.open(master, os.O_WRONLY | os.O_CREAT, 0o600), "w") as f:
            f.write(os.urandom(32).hex() + "\n")
        self.outbox = os.path.join(self.dir.name, "sms-outbox.jsonl")
        self.identity = {
            "issuer": ISS, "audiences": [AUD], "master_key_file": master,
            "sms": {"provider": "outbox", "outbox_file": self.outbox, "resend_interval_s": 1},
        }
        for key, value in (identity or {}).items():
            if isinstance(value, dict) and isinstance(self.identity.get(key), dict):
                self.identity[key].update(value)
            else:
                self.identity[key] = value
        cli = os.path.join(self.dir.name, "cli.json")
        with open(cli, "w") as f:
            json.dump({"database": {"dsn": self.db.dsn}, "identity": self.identity}, f)
        self.cli_config = cli  # for tests that register clients of their own
        self.run_cli("migrate", "--config", cli)
        self.run_cli("keys", "rotate", "--if-none", "--config", cli)
        grants = "refresh_token"
        for client_id in ("app", "app2"):
            self.run_cli("clients", "add", "--config", cli, "--id", client_id, "--name", "政务 app", "--kind", "android",
                         "--first-party", "--public", "--scopes", SCOPES, "--grants", grants)
        self.run_cli("clients", "add", "--config", cli, "--id", "norefresh", "--name", "H5", "--kind", "web", "--first-party",
                     "--public", "--scopes", SCOPES, "--grants", "authorization_code")
        self.desk_secret = self.secret_of(self.run_cli(
            "clients", "add", "--config", cli, "--id", "desk", "--name", "desk", "--kind", "web", "--first-party",
            "--scopes", SCOPES, "--grants", grants))
        self.third_secret = self.secret_of(self.run_cli(
            "clients", "add", "--config", cli, "--id", "third", "--name", "x", "--kind", "third_party",
            "--scopes", SCOPES, "--grants", grants))
        self.svc_secret = self.secret_of(self.run_cli(
            "clients", "add", "--config", cli, "--id", "svc", "--name", "svc", "--kind", "department_service",
            "--scopes", SCOPES, "--grants", "client_credentials"))
        self.upstream = lib.Upstream("hrss")
        self.upstream.__enter__()
        routes = routes or [
            lib.route("people", "/people/", "hrss", auth={"policy": "user"}),
            lib.route("verified", "/verified/", "hrss", auth={"policy": "user", "min_acr": 2}),
        ]
        overrides = {"listeners": listeners} if listeners else {}  # e.g. a fixed port the issuer URL names
        cfg = lib.make_config([lib.service("hrss", [self.upstream])], routes,
                              database={"dsn": self.db.dsn, "pool_size": 4}, identity=self.identity, **overrides)
        self.gw = lib.Gateway(cfg)

    @staticmethod
    def secret_of(output):
        return dict(line.split(" ", 1) for line in output.splitlines())["client_secret"]

    @staticmethod
    def run_cli(*args):
        result = subprocess.run([lib.YIWANG_BIN, *args], capture_output=True, text=True, timeout=60)
        if result.returncode != 0:
            raise AssertionError("yiwang %s: %s" % (" ".join(args), result.stderr))
        return result.stdout

    def close(self):
        stderr = self.gw.stderr()
        self.gw.close()
        self.upstream.__exit__(None, None, None)
        self.db.close()
        self.dir.cleanup()
        assert "AddressSanitizer" not in stderr and "runtime error:" not in stderr, stderr
        return stderr

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # ---- requests

    def request(self, method, path, body=None, headers=None, source=None, raw=False):
        """One HTTP/1.1 request; `source` is a loopback address to send from (another client IP).
        Returns (status, lower-case headers, parsed JSON body or None)."""
        port = self.gw.public_port
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60,
                                          source_address=(source, 0) if source else None)
        try:
            data = body if raw or body is None else json.dumps(body).encode()
            all_headers = {"Content-Type": "application/json"}
            all_headers.update(headers or {})
            conn.request(method, path, body=data, headers=all_headers)
            resp = conn.getresponse()
            payload = resp.read()
            merged = {k.lower(): v for k, v in resp.getheaders()}
            return resp.status, merged, json.loads(payload) if payload else None
        finally:
            conn.close()

    def send_sms(self, mobile, client_id="app", purpose="login", source=None, **extra):
        body = {"client_id": client_id, "mobile": mobile, "purpose": purpose}
        body.update(extra)
        return self.request("POST", "/v1/auth/sms", body, source=source)

    def outbox_lines(self):
        try:
            with open(self.outbox) as f:
                return [json.loads(line) for line in f if line.strip()]
        except FileNotFoundError:
            return []

    def last_code(self, mobile, purpose="login"):
        for line in reversed(self.outbox_lines()):
            if line["mobile"] == mobile and line["purpose"] == purpose:
                return line["code"]
        raise AssertionError("no code for %s in the outbox" % mobile)

    def login(self, mobile, code=None, password=None, client_id="app", source=None, **extra):
        body = {"client_id": client_id, "mobile": mobile}
        if code is not None:
            body["code"] = code
        if password is not None:
            body["password"] = password
        body.update(extra)
        return self.request("POST", "/v1/auth/login", body, source=source)

    def sms_login(self, mobile, client_id="app", **extra):
        secret = {"client_secret": extra["client_secret"]} if "client_secret" in extra else {}
        status, headers, body = self.send_sms(mobile, client_id=client_id, **secret)
        if status == 429 and body["error"]["code"] == "sms_too_soon":
            time.sleep(int(headers["retry-after"]) + 0.1)
            status, _, body = self.send_sms(mobile, client_id=client_id, **secret)
        assert status == 202, body
        status, _, body = self.login(mobile, code=self.last_code(mobile), client_id=client_id, **extra)
        assert status == 200, body
        return body

    def set_password(self, body, headers=None):
        return self.request("POST", "/v1/auth/password", body, headers=headers)

    def refresh(self, token, client_id="app", secret=None, scope=None, basic=False):
        form = {"grant_type": "refresh_token", "refresh_token": token}
        headers = {"Content-Type": "application/x-www-form-urlencoded"}
        if basic:
            pair = urllib.parse.quote(client_id, safe="") + ":" + urllib.parse.quote(secret, safe="")
            headers["Authorization"] = "Basic " + base64.b64encode(pair.encode()).decode()
        else:
            form["client_id"] = client_id
            if secret is not None:
                form["client_secret"] = secret
        if scope is not None:
            form["scope"] = scope
        return self.request("POST", "/oauth/token", urllib.parse.urlencode(form).encode(), headers=headers, raw=True)

    def upstream_sees(self, path, access_token):
        status, _, body = self.request("GET", path, headers={"Authorization": "Bearer " + access_token})
        return status, body

    def account_id(self, mobile):
        rows = self.db.query("SELECT id FROM accounts WHERE mobile = '%s'" % mobile)
        return rows[0][0] if rows else None

    # ---- the browser flow

    def add_browser_clients(self):
        cli, grants, scopes = self.cli_config, "authorization_code refresh_token", "openid profile hrss:read"
        self.run_cli("clients", "add", "--config", cli, "--id", "h5", "--name", "政务 H5", "--kind", "web", "--first-party",
                     "--public", "--scopes", scopes, "--grants", grants, "--redirect-uri", "https://h5.example/cb")
        self.web_secret = self.secret_of(self.run_cli(
            "clients", "add", "--config", cli, "--id", "web", "--name", "办事大厅", "--kind", "web", "--first-party",
            "--scopes", scopes, "--grants", grants, "--redirect-uri", "https://web.example/cb"))
        self.run_cli("clients", "add", "--config", cli, "--id", "spa", "--name", "<b>Evil & Co</b>", "--kind",
                     "third_party", "--public", "--scopes", scopes, "--grants", grants,
                     "--redirect-uri", "https://spa.example/cb", "--redirect-uri", "https://spa.example/cb2?x=1")

    def token_by_code(self, code, client_id, redirect_uri=None, verifier=None, secret=None):
        form = {"grant_type": "authorization_code", "code": code, "client_id": client_id}
        form["redirect_uri"] = redirect_uri if redirect_uri is not None else "https://%s.example/cb" % client_id
        if verifier is not None:
            form["code_verifier"] = verifier
        if secret is not None:
            form["client_secret"] = secret
        headers = {"Content-Type": "application/x-www-form-urlencoded"}
        return self.request("POST", "/oauth/token", urllib.parse.urlencode(form).encode(), headers=headers, raw=True)


def pkce_pair():
    verifier = base64.urlsafe_b64encode(os.urandom(32)).rstrip(b"=").decode()
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return verifier, challenge


class _Forms(html.parser.HTMLParser):
    """The forms of a page: [{"action", "fields": {name: value}, "buttons": [(name, value)]}]."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.forms = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            self.forms.append({"action": attrs.get("action"), "method": attrs.get("method"), "fields": {}, "buttons": []})
        elif tag == "input" and self.forms and "name" in attrs:
            self.forms[-1]["fields"][attrs["name"]] = attrs.get("value", "")
        elif tag == "button" and self.forms and "name" in attrs:
            self.forms[-1]["buttons"].append((attrs["name"], attrs.get("value", "")))


def page_forms(text):
    parser = _Forms()
    parser.feed(text)
    return parser.forms


class Response:
    def __init__(self, status, headers, set_cookies, text):
        self.status, self.headers, self.set_cookies, self.text = status, headers, set_cookies, text

    @property
    def location(self):
        return self.headers.get("location")

    def redirect_params(self):
        """The query parameters of the Location (each once)."""
        query = urllib.parse.urlsplit(self.location).query
        return {k: v[0] for k, v in urllib.parse.parse_qs(query, keep_blank_values=True).items()}

    def forms(self):
        return page_forms(self.text)


class Browser:
    """A user agent: a cookie jar (name -> value), no redirects followed."""

    def __init__(self, env, accept_language=None):
        self.env = env
        self.cookies = {}
        self.accept_language = accept_language

    def request(self, method, path, form=None, headers=None, cookies=True):
        all_headers = dict(headers or {})
        if cookies and self.cookies:
            all_headers["Cookie"] = "; ".join("%s=%s" % kv for kv in self.cookies.items())
        if self.accept_language:
            all_headers["Accept-Language"] = self.accept_language
        body = None
        if form is not None:
            body = urllib.parse.urlencode(form).encode()
            all_headers["Content-Type"] = "application/x-www-form-urlencoded"
        conn = http.client.HTTPConnection("127.0.0.1", self.env.gw.public_port, timeout=60)
        try:
            conn.request(method, path, body=body, headers=all_headers)
            resp = conn.getresponse()
            text = resp.read().decode("utf-8", "replace")
            set_cookies = [v for k, v in resp.getheaders() if k.lower() == "set-cookie"]
            merged = {k.lower(): v for k, v in resp.getheaders()}
        finally:
            conn.close()
        for line in set_cookies:
            name, _, rest = line.partition("=")
            value = rest.split(";", 1)[0]
            if "max-age=0" in line.lower().replace(" ", ""):
                self.cookies.pop(name, None)
            else:
                self.cookies[name] = value
        return Response(resp.status, merged, set_cookies, text)

    def authorize(self, **params):
        return self.request("GET", "/oauth/authorize?" + urllib.parse.urlencode(params))

    def submit(self, page, index, **fields):
        """Posts form `index` of `page` with its hidden fields and `fields` (e.g. action="sms", mobile=...)."""
        form = page.forms()[index]
        data = dict(form["fields"])
        data.update(fields)
        return self.request("POST", form["action"], data)

    def sms_sign_in(self, page, mobile):
        """From the login page: ask for a code, then sign in with it. Returns the answer to the login."""
        sent = self.submit(page, 0, action="send_code", mobile=mobile)
        if sent.status == 429:
            time.sleep(int(sent.headers["retry-after"]) + 0.1)
            sent = self.submit(page, 0, action="send_code", mobile=mobile)
        assert sent.status == 200, (sent.status, sent.text)
        return self.submit(sent, 0, action="sms", mobile=mobile, code=self.env.last_code(mobile))

    def password_sign_in(self, page, mobile, password):
        return self.submit(page, 1, action="password", mobile=mobile, password=password)
