#!/usr/bin/env python3
"""`yiwang config check FILE` against the real binary: exit codes, the exact
output format, and that every problem of a bad file is printed.

Run as `python3 test_config_cli.py` with YIWANG_BIN set to the yiwang binary
(ctest sets it). Exits non-zero if any test fails.
"""
import json
import os
import subprocess
import sys
import tempfile
import unittest

BIN = os.environ.get("YIWANG_BIN")
SOURCE_DIR = os.environ.get("YIWANG_SOURCE_DIR") or os.path.abspath(
    os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
DEMO = os.path.join(SOURCE_DIR, "docs", "demo", "yiwang.demo.json")


def run(*args):
    return subprocess.run([BIN, *args], capture_output=True, text=True, timeout=30)


class ConfigCheckTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.TemporaryDirectory()

    def tearDown(self):
        self.dir.cleanup()

    def write(self, name, text):
        path = os.path.join(self.dir.name, name)
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)
        return path

    def assert_problems(self, result, path, expected):
        """Exit 2, nothing on stdout, and each (pointer, message) printed as 'path: pointer: message'."""
        self.assertEqual(result.returncode, 2, result.stderr)
        self.assertEqual(result.stdout, "")
        lines = result.stderr.splitlines()
        for pointer, message in expected:
            self.assertIn(f"{path}: {pointer}: {message}", lines)
        for line in lines:
            self.assertTrue(line.startswith(f"{path}: "), line)
        return lines

    def test_demo_config_is_ok(self):
        result = run("config", "check", DEMO)
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual(result.stdout, f"{DEMO}: ok (0 services, 0 routes)\n")
        self.assertEqual(result.stderr, "")

    def test_minimal_config_is_ok(self):
        path = self.write("empty.json", "{}")
        result = run("config", "check", path)
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual(result.stdout, f"{path}: ok (0 services, 0 routes)\n")

    def test_every_schema_problem_is_printed(self):
        doc = {
            "listeners": {"public": {"port": 0}, "tls": {"port": 8443}},
            "threads": "four",
            "bogus": True,
            "services": [{"name": "Hrss", "targets": []}],
            "routes": [{"name": "r", "path_prefix": "/a//b", "service": "hrss", "methods": ["GET", "FETCH"]}],
        }
        path = self.write("bad.json", json.dumps(doc, indent=2))
        lines = self.assert_problems(run("config", "check", path), path, [
            ("/listeners/public/port", "must be an integer between 1 and 65535"),
            ("/listeners/tls/certificate", "is required"),
            ("/listeners/tls/key", "is required"),
            ("/threads", "must be an integer between 0 and 64"),
            ("/bogus", "unknown property 'bogus'"),
            ("/services/0/targets", "must have at least 1 item"),
            ("/routes/0/methods/1", "must be one of: GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS"),
        ])
        pointers = [line.split(": ")[1] for line in lines]
        self.assertIn("/services/0/name", pointers)
        self.assertIn("/routes/0/path_prefix", pointers)
        self.assertEqual(len(lines), 9, lines)

    def test_semantic_problems_are_printed(self):
        service = {"name": "hrss", "targets": [{"host": "127.0.0.1", "port": 9101}]}
        doc = {
            "services": [service, dict(service)],
            "routes": [
                {"name": "a", "path_prefix": "/a/", "service": "hrss"},
                {"name": "b", "path_prefix": "/b/", "service": "nope", "host": "API.example.gov.cn"},
            ],
        }
        path = self.write("semantic.json", json.dumps(doc))
        lines = self.assert_problems(run("config", "check", path), path, [
            ("/services/1/name", "duplicate service name 'hrss' (first used at /services/0)"),
            ("/routes/1/service", "unknown service 'nope'"),
            ("/routes/1/host", "must be lower-case"),
        ])
        self.assertEqual(len(lines), 3, lines)

    def test_missing_file(self):
        path = os.path.join(self.dir.name, "absent.json")
        self.assert_problems(run("config", "check", path), path,
                             [("(root)", f"cannot read {path}: No such file or directory")])

    def test_directory(self):
        self.assert_problems(run("config", "check", self.dir.name), self.dir.name,
                             [("(root)", f"cannot read {self.dir.name}: Is a directory")])

    def test_not_json(self):
        path = self.write("not.json", "listeners:\n  public: 8080\n")
        lines = self.assert_problems(run("config", "check", path), path, [])
        self.assertEqual(len(lines), 1, lines)
        self.assertTrue(lines[0].startswith(f"{path}: (root): invalid JSON at line 1, column "), lines[0])

    def test_duplicate_keys(self):
        path = self.write("dup.json", '{\n  "threads": 1,\n  "threads": 2\n}\n')
        lines = self.assert_problems(run("config", "check", path), path, [])
        self.assertEqual(len(lines), 1, lines)
        self.assertIn("(root): invalid JSON at line 3", lines[0])
        self.assertIn("duplicate object key", lines[0])

    def test_top_level_not_an_object(self):
        path = self.write("array.json", "[]")
        self.assert_problems(run("config", "check", path), path, [("(root)", "must be an object")])

    def test_usage_errors(self):
        for args in (["config"], ["config", "frobnicate"], ["config", "check"], ["config", "check", DEMO, DEMO]):
            with self.subTest(args=args):
                result = run(*args)
                self.assertEqual(result.returncode, 2)
                self.assertEqual(result.stdout, "")
                self.assertIn("usage: yiwang config", result.stderr)
        result = run("config", "frobnicate")
        self.assertIn("unknown subcommand 'frobnicate'", result.stderr)

    def test_help(self):
        result = run("config", "--help")
        self.assertEqual(result.returncode, 0)
        self.assertIn("check FILE", result.stdout)


if __name__ == "__main__":
    if not BIN or not os.access(BIN, os.X_OK):
        print("YIWANG_BIN must name the yiwang binary", file=sys.stderr)
        sys.exit(2)
    unittest.main(verbosity=2)
