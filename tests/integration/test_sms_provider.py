#!/usr/bin/env python3
"""The SMS provider "http" against a stand-in provider on loopback: a code
reaches it as the documented JSON POST over plain http and over https; over
https the provider's certificate must chain to ca_file and name the host, and
a provider that fails that check (another CA, another name) receives nothing —
the gateway answers 503 sms_unavailable instead of falling back to plain text.
A provider answering an error status is a failed delivery too."""

import http.server
import json
import os
import ssl
import subprocess
import sys
import tempfile
import threading
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import yiwang_testlib as lib  # noqa: E402
from sign_in_helpers import SignInGateway  # noqa: E402


class Provider:
    """An HTTP(S) server on 127.0.0.1 that records the JSON bodies POSTed to it and answers `status`."""

    def __init__(self, cert=None, key=None, status=200):
        self.received = []
        provider = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                provider.received.append((self.path, self.headers["Content-Type"], json.loads(body)))
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        if cert:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(cert, key)
            self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def make_cert(directory, name, san):
    crt, key = os.path.join(directory, name + ".crt"), os.path.join(directory, name + ".key")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                    "-keyout", key, "-out", crt, "-days", "2", "-subj", "/CN=" + name, "-addext", "subjectAltName=" + san],
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return crt, key


class SmsProviderTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.TemporaryDirectory(prefix="yiwang-sms-")
        cls.good = make_cert(cls.dir.name, "provider", "IP:127.0.0.1,DNS:localhost")
        cls.other_ca = make_cert(cls.dir.name, "other", "IP:127.0.0.1")  # a valid name, but not the provider's CA
        cls.wrong_name = make_cert(cls.dir.name, "elsewhere", "DNS:sms.example")  # trusted below, but another name
        cls.bundle = os.path.join(cls.dir.name, "bundle.pem")
        with open(cls.bundle, "w") as out:
            for crt in (cls.good[0], cls.wrong_name[0]):
                with open(crt) as f:
                    out.write(f.read())

    @classmethod
    def tearDownClass(cls):
        cls.dir.cleanup()

    def send(self, url, ca_file=None, mobile="13800138031"):
        sms = {"provider": "http", "url": url, "timeout_ms": 10000}
        if ca_file:
            sms["ca_file"] = ca_file
        with SignInGateway({"sms": sms}) as env:
            status, _, body = env.send_sms(mobile)
            stderr = env.gw.stderr()
        return status, body, stderr

    def delivered_to(self, provider, mobile):
        self.assertEqual(len(provider.received), 1)
        path, content_type, message = provider.received[0]
        self.assertEqual((path, content_type), ("/send", "application/json"))
        self.assertEqual((message["mobile"], message["purpose"]), (mobile, "login"))
        self.assertRegex(message["code"], r"^[0-9]{6}$")

    def test_plain_http(self):
        provider = Provider()
        try:
            status, body, _ = self.send("http://127.0.0.1:%d/send" % provider.port)
            self.assertEqual(status, 202, body)
            self.delivered_to(provider, "13800138031")
        finally:
            provider.close()

    def test_https_with_a_verified_certificate(self):
        provider = Provider(*self.good)
        try:
            status, body, stderr = self.send("https://127.0.0.1:%d/send" % provider.port, ca_file=self.good[0],
                                             mobile="13800138032")
            self.assertEqual(status, 202, "%s %s" % (body, stderr))
            self.delivered_to(provider, "13800138032")
        finally:
            provider.close()

    def test_https_refuses_an_unverified_provider(self):
        for cert, why in ((self.other_ca, "self-signed certificate"), (self.wrong_name, "IP address mismatch")):
            provider = Provider(*cert)
            try:
                status, body, stderr = self.send("https://127.0.0.1:%d/send" % provider.port, ca_file=self.bundle)
                self.assertEqual((status, body["error"]["code"]), (503, "sms_unavailable"), cert)
                self.assertEqual(provider.received, [], "nothing may reach an unverified provider")
                self.assertIn("TLS handshake failed", stderr)
                self.assertIn(why, stderr)
                self.assertNotIn("13800138031", stderr)  # the number never reaches the log
            finally:
                provider.close()

    def test_https_without_ca_file_uses_the_system_store(self):
        provider = Provider(*self.good)  # self-signed: not in the system store
        try:
            status, body, _ = self.send("https://127.0.0.1:%d/send" % provider.port)
            self.assertEqual((status, body["error"]["code"]), (503, "sms_unavailable"))
            self.assertEqual(provider.received, [])
        finally:
            provider.close()

    def test_an_error_status_is_a_failed_delivery(self):
        provider = Provider(status=500)
        try:
            status, body, _ = self.send("http://127.0.0.1:%d/send" % provider.port)
            self.assertEqual((status, body["error"]["code"]), (503, "sms_unavailable"))
            self.assertEqual(len(provider.received), 1)
        finally:
            provider.close()


if __name__ == "__main__":
    unittest.main()
