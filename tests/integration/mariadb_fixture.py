"""mariadb_fixture - a fresh MariaDB database for an integration test (stdlib only).

    from mariadb_fixture import MariaDB

    with MariaDB() as db:
        db.dsn                       # mysql://root@/yiwang_test_1a2b3c4d?socket=/.../mysqld.sock
        db.execute("UPDATE ...")     # runs SQL in that database with the mariadb client
        db.query("SELECT a, b ...")  # -> [("1", "x"), ...]; SQL NULL is None

The server is the one in YIWANG_TEST_DSN (scripts/test.sh starts a private one
for the whole run and exports it). Without it, the first MariaDB() starts a
private server in a temporary directory with scripts/mariadb.sh, so a single
test file can be run by hand; that server is stopped (by its pid file) when
the test process exits. Each MariaDB() creates its own database
yiwang_test_<random>, so tests running in parallel never share one, and drops
it at the end (kept with YIWANG_KEEP_TMP=1).
"""

import atexit
import os
import secrets
import shutil
import subprocess
import tempfile
import urllib.parse

SOURCE_DIR = os.environ.get("YIWANG_SOURCE_DIR") or os.path.dirname(
    os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MARIADB_SCRIPT = os.path.join(SOURCE_DIR, "scripts", "mariadb.sh")
KEEP_TMP = os.environ.get("YIWANG_KEEP_TMP") == "1"

__all__ = ["MariaDB", "parse_dsn", "server_dsn"]

_private_dir = None  # the server this process started, if any
_server_dsn = None


def parse_dsn(dsn):
    """The parts of a mysql:// DSN: dict(user, password, host, port, socket, database)."""
    url = urllib.parse.urlsplit(dsn)
    if url.scheme != "mysql":
        raise ValueError("not a mysql:// DSN")
    query = urllib.parse.parse_qs(url.query)
    return {
        "user": urllib.parse.unquote(url.username or ""),
        "password": urllib.parse.unquote(url.password or ""),
        "host": url.hostname,
        "port": url.port or (3306 if url.hostname else None),
        "socket": query.get("socket", [None])[0],
        "database": url.path.lstrip("/"),
    }


def _with_database(dsn, database):
    url = urllib.parse.urlsplit(dsn)
    return urllib.parse.urlunsplit((url.scheme, url.netloc, "/" + database, url.query, ""))


def _stop_private_server():
    global _private_dir
    if _private_dir is None:
        return
    subprocess.run(["bash", MARIADB_SCRIPT, "stop", _private_dir], stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL, check=False)
    if not KEEP_TMP:
        shutil.rmtree(_private_dir, ignore_errors=True)
    _private_dir = None


def server_dsn():
    """DSN of the server to use (YIWANG_TEST_DSN, or a private one started now); its database is `yiwang`."""
    global _private_dir, _server_dsn
    if _server_dsn:
        return _server_dsn
    if os.environ.get("YIWANG_TEST_DSN"):
        _server_dsn = os.environ["YIWANG_TEST_DSN"]
        return _server_dsn
    # short path: a unix socket path must stay under 108 bytes
    _private_dir = tempfile.mkdtemp(prefix="yiwang-mdb-", dir="/tmp")
    atexit.register(_stop_private_server)
    proc = subprocess.run(["bash", MARIADB_SCRIPT, "start", _private_dir], stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, text=True, check=False)
    if proc.returncode != 0:
        raise AssertionError("scripts/mariadb.sh start %s failed:\n%s" % (_private_dir, proc.stderr))
    _server_dsn = proc.stdout.strip().splitlines()[-1]
    return _server_dsn


def client_argv(dsn, *extra):
    """argv for the mariadb command-line client connected as the DSN says (password via MYSQL_PWD, see client_env)."""
    parts = parse_dsn(dsn)
    argv = ["mariadb", "--no-defaults", "--batch", "--skip-column-names", "--user=" + parts["user"]]
    if parts["socket"]:
        argv.append("--socket=" + parts["socket"])
    else:
        argv += ["--protocol=tcp", "--host=" + parts["host"], "--port=%d" % parts["port"]]
    return argv + list(extra) + [parts["database"]]


def client_env(dsn):
    env = dict(os.environ)
    password = parse_dsn(dsn)["password"]
    if password:
        env["MYSQL_PWD"] = password  # not on the command line, where ps would show it
    return env


def run_sql(dsn, sql, timeout=60):
    """Runs SQL with the mariadb client; returns rows as tuples of strings (None for NULL)."""
    proc = subprocess.run(client_argv(dsn), input=sql, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                          env=client_env(dsn), timeout=timeout, check=False)
    if proc.returncode != 0:
        raise AssertionError("SQL failed: %s\n%s" % (sql, proc.stderr.strip()))
    rows = []
    for line in proc.stdout.splitlines():
        rows.append(tuple(None if v == "NULL" else v for v in line.split("\t")))
    return rows


class MariaDB:
    """A fresh database on the test server; .dsn points at it."""

    def __init__(self):
        self.server_dsn = server_dsn()
        self.database = "yiwang_test_" + secrets.token_hex(4)
        run_sql(self.server_dsn, "CREATE DATABASE %s CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci" % self.database)
        self.dsn = _with_database(self.server_dsn, self.database)

    def query(self, sql):
        return run_sql(self.dsn, sql)

    def execute(self, sql):
        run_sql(self.dsn, sql)

    def tables(self):
        return sorted(row[0] for row in self.query("SHOW TABLES"))

    def client_argv(self, *extra):
        return client_argv(self.dsn, *extra)

    def client_env(self):
        return client_env(self.dsn)

    def close(self):
        if not KEEP_TMP and self.database:
            run_sql(self.server_dsn, "DROP DATABASE IF EXISTS %s" % self.database)
        self.database = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
