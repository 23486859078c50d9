#!/usr/bin/env python3
"""registry_load.py — from a registry commit to the first request served by it,
with 1,000 services and 10,000 routes (issue 4: load and swap within 1 s).

Starts a private MariaDB (scripts/mariadb.sh start/stop on a directory of its
own) and `yiwang serve` with registry.source = database, one event-loop thread.
Then, while the gateway runs:

  1. one registry transaction (version bump first, as every admin write does)
     inserts 50 departments, 1,000 services and 10,000 routes plus a probe
     route /probe/t1/ whose service is the gateway's own ops listener;
  2. CHANGES more transactions each move the probe route to /probe/t<k>/ (a
     one-row change: the node still reads and builds all 10,000 routes).

After each COMMIT returns, the script asks for /probe/t<k>/healthz every 2 ms
and reports the time until the first 200, i.e. the first request served by a
route of the new version. That includes the wait for the node's next poll
(every 500 ms, so 0-500 ms by chance); the gateway's own log line gives the
read, build and cache-write time of each version. Everything it started is
stopped at the end, by pid. Loopback and a unix socket only.

  bench/registry_load.py [--changes N] [--binary build/yiwang]
"""
import argparse
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MARIADB_SH = os.path.join(ROOT, "scripts", "mariadb.sh")
PUBLIC_PORT, OPS_PORT = 18500, 18509
SERVICES, ROUTES, DEPARTMENTS = 1000, 10000, 50


def sql_quote(value):
    return "'" + value.replace("\\", "\\\\").replace("'", "''") + "'"


def mariadb(socket, sql, timeout=120):
    return subprocess.run(["mariadb", "--no-defaults", "--batch", "--skip-column-names", "--user=root", "--socket=" + socket,
                           "yiwang"], input=sql, text=True, check=True, timeout=timeout, stdout=subprocess.PIPE).stdout


def registry_version(socket):
    return int(mariadb(socket, "SELECT version FROM registry_version WHERE id = 1;").strip())


def registry_write(statements):
    """One registry write (docs/registry.md §3): the version bump first, then rows with version = @v."""
    head = ["SET NAMES utf8mb4", "START TRANSACTION",
            "UPDATE registry_version SET version = LAST_INSERT_ID(version + 1) WHERE id = 1", "SET @v = LAST_INSERT_ID()"]
    return ";\n".join(head + statements + ["COMMIT"]) + ";\n"


def bulk_statements():
    """50 departments, 1,000 services, 10,000 routes shaped like a registry, and the probe route."""
    out = []
    rows = ["(%s, %s, '440300', @v)" % (sql_quote("dept-%d" % d), sql_quote("部门 %d" % d)) for d in range(DEPARTMENTS)]
    out.append("INSERT INTO departments (name, display_name, region_code, version) VALUES " + ",".join(rows))
    specs = []
    for i in range(SERVICES):
        # literal addresses, no health checks: a build must not wait for DNS, and nothing here sends them traffic
        spec = {"targets": [{"host": "127.0.0.1", "port": 20000 + i}, {"host": "127.0.0.2", "port": 20000 + i, "weight": 3}],
                "balancer": "least_in_flight", "timeouts": {"connect_ms": 500, "response_header_ms": 5000, "total_ms": 20000}}
        specs.append("(%s, (SELECT id FROM departments WHERE name = %s), %s, @v)"
                      % (sql_quote("svc-%d" % i), sql_quote("dept-%d" % (i % DEPARTMENTS)), sql_quote(json.dumps(spec))))
    probe = {"targets": [{"host": "127.0.0.1", "port": OPS_PORT}]}
    specs.append("('probe', (SELECT id FROM departments WHERE name = 'dept-0'), %s, @v)" % sql_quote(json.dumps(probe)))
    for k in range(0, len(specs), 250):
        out.append("INSERT INTO services (name, department_id, spec, version) VALUES " + ",".join(specs[k:k + 250]))
    # service ids in insertion order: a temporary map keeps the route inserts to one join
    out.append("CREATE TEMPORARY TABLE svc_ids AS SELECT id, CAST(SUBSTRING(name, 5) AS UNSIGNED) AS n FROM services "
               "WHERE name LIKE 'svc-%'")
    routes = []
    for i in range(ROUTES):
        svc = i % SERVICES
        dept = svc % DEPARTMENTS
        shape = i // SERVICES  # ten routes per service: versions, admin paths, method-specific ones
        prefix = "/dept-%d/svc-%d/v%d/" % (dept, svc, shape) if shape < 8 else "/dept-%d/svc-%d/admin%d/" % (dept, svc, shape)
        host = sql_quote("dept-%d.gov.cn" % dept) if i % 10 == 7 else "NULL"
        methods = "'GET,HEAD'" if i % 4 == 3 else "NULL"
        routes.append("(%s, %s, %s, %s, %d)" % (sql_quote("route-%d" % i), host, sql_quote(prefix), methods, svc))
    out.append("CREATE TEMPORARY TABLE route_rows (name VARCHAR(63), host VARCHAR(253), path_prefix VARCHAR(1024), "
               "methods VARCHAR(64), n INT UNSIGNED)")
    for k in range(0, len(routes), 1000):
        out.append("INSERT INTO route_rows VALUES " + ",".join(routes[k:k + 1000]))
    out.append("INSERT INTO routes (name, host, path_prefix, methods, service_id, strip_prefix, version) "
               "SELECT r.name, r.host, r.path_prefix, r.methods, s.id, 1, @v FROM route_rows r JOIN svc_ids s ON s.n = r.n")
    out.append("INSERT INTO routes (name, path_prefix, service_id, strip_prefix, version) "
               "SELECT 'probe', '/probe/t1/', id, 1, @v FROM services WHERE name = 'probe'")
    return out


def status_of(url):
    try:
        with urllib.request.urlopen(url, timeout=2) as resp:
            return resp.status
    except urllib.error.HTTPError as e:
        return e.code
    except (urllib.error.URLError, ConnectionError):
        return None


def wait_served(url, limit_s=10.0):
    """Seconds until `url` first answers 200 (asked every 2 ms), or None."""
    start = time.monotonic()
    while time.monotonic() - start < limit_s:
        if status_of(url) == 200:
            return time.monotonic() - start
        time.sleep(0.002)
    return None


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--changes", type=int, default=5, help="one-route changes after the bulk load (default 5)")
    parser.add_argument("--binary", default=os.path.join(ROOT, "build", "yiwang"))
    args = parser.parse_args()

    work = tempfile.mkdtemp(prefix="yw-rl-", dir="/tmp")  # short: the socket path must fit 107 bytes
    db_dir = os.path.join(work, "db")
    gateway = None
    log_path = os.path.join(work, "gateway.err")
    try:
        dsn = subprocess.run(["bash", MARIADB_SH, "start", db_dir], check=True, text=True, stdout=subprocess.PIPE,
                             timeout=120).stdout.strip().splitlines()[-1]
        socket = os.path.join(db_dir, "mysqld.sock")
        config = {
            "listeners": {"public": {"address": "127.0.0.1", "port": PUBLIC_PORT}, "tls": {"enabled": False},
                          "ops": {"address": "127.0.0.1", "port": OPS_PORT}},
            "threads": 1,
            "access_log": {"path": None},
            "database": {"dsn": dsn, "pool_size": 1},
            "registry": {"source": "database", "cache_file": os.path.join(work, "registry-cache.json")},
            "services": [], "routes": [],
        }
        config_path = os.path.join(work, "gateway.json")
        with open(config_path, "w") as f:
            json.dump(config, f)
        subprocess.run([args.binary, "migrate", "--config", config_path], check=True, timeout=120,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        with open(log_path, "w") as log:
            gateway = subprocess.Popen([args.binary, "serve", "--config", config_path], stderr=log)
        if wait_served("http://127.0.0.1:%d/healthz" % OPS_PORT, 10) is None:
            raise SystemExit("the gateway did not come up; see " + log_path)

        results = []
        bulk = registry_write(bulk_statements())
        print("bulk write: %d KiB of SQL, one transaction" % (len(bulk) // 1024), file=sys.stderr)
        t0 = time.monotonic()
        mariadb(socket, bulk)
        print("bulk transaction took %.2f s to execute and commit" % (time.monotonic() - t0), file=sys.stderr)
        results.append(("bulk load: empty → 1,000 services / 10,000 routes", registry_version(socket), wait_served(
            "http://127.0.0.1:%d/probe/t1/healthz" % PUBLIC_PORT)))
        for k in range(2, args.changes + 2):
            time.sleep(0.3 + 0.17 * k)  # land at different points of the 500 ms poll cycle
            mariadb(socket, registry_write(["UPDATE routes SET path_prefix = '/probe/t%d/', version = @v WHERE name = 'probe'" % k]))
            version = registry_version(socket)
            results.append(("one route changed (all 10,000 read and built)", version, wait_served(
                "http://127.0.0.1:%d/probe/t%d/healthz" % (PUBLIC_PORT, k))))
        time.sleep(0.2)
        with open(log_path) as f:
            served = re.findall(r"registry: serving version (\d+) \(([^)]*)\); read in (\d+) ms, built in (\d+) ms, "
                                r"cache written in (\d+) ms", f.read())
        by_version = {int(v): (what, r, b, c) for v, what, r, b, c in served}

        print("| change | version | commit → first request served | read | build | cache write |")
        print("|---|---:|---:|---:|---:|---:|")
        for what, version, seconds in results:
            _, r, b, c = by_version.get(version, ("", "?", "?", "?"))
            print("| %s | %d | %s | %s ms | %s ms | %s ms |" % (
                what, version, "%.0f ms" % (seconds * 1e3) if seconds is not None else "not served within 10 s", r, b, c))
    finally:
        if gateway is not None:
            gateway.send_signal(signal.SIGTERM)
            try:
                gateway.wait(timeout=20)
            except subprocess.TimeoutExpired:
                gateway.kill()
                gateway.wait()
        subprocess.run(["bash", MARIADB_SH, "stop", db_dir], timeout=120, check=False,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        if os.environ.get("YIWANG_KEEP_TMP") != "1":
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
