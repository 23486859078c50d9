#!/usr/bin/env bash
# mariadb.sh — a private MariaDB server for the demo and the tests (no systemd, no TCP).
#
#   scripts/mariadb.sh start DIR    creates DIR/data on first use, starts mariadbd on the unix socket
#                                   DIR/mysqld.sock, waits until it answers, creates the database
#                                   `yiwang` and prints its DSN (the only line on stdout)
#   scripts/mariadb.sh stop DIR     stops the server of DIR by its pid file and waits until it has exited
#   scripts/mariadb.sh status DIR   prints whether it runs (exit 0) or not (exit 3)
#
# The server listens on no TCP port (--skip-networking) and DIR is made private
# (mode 700), because root has no password: whoever can reach the socket is
# root. Works as root (mariadbd then needs --user=root) and as a normal user.
# Progress and errors go to stderr; the server's own log is DIR/error.log.
# Only the mariadbd whose pid is in DIR/mysqld.pid, and whose command line names
# DIR, is ever signalled.
set -euo pipefail

usage() {
    echo "usage: $0 start|stop|status DIR" >&2
    exit 2
}

[ $# -eq 2 ] || usage
command=$1
mkdir -p "$2"
dir=$(cd "$2" && pwd -P)
data=$dir/data
socket=$dir/mysqld.sock
pidfile=$dir/mysqld.pid
log=$dir/error.log
start_timeout_s=${YIWANG_MARIADB_START_TIMEOUT_S:-60}
stop_timeout_s=${YIWANG_MARIADB_STOP_TIMEOUT_S:-60}

say() { echo "mariadb: $*" >&2; }

# The server refuses to run as root unless told to; as anyone else the option is refused.
user_opts=()
if [ "$(id -u)" -eq 0 ]; then
    user_opts=(--user=root)
fi

# A unix socket path must fit in sockaddr_un.sun_path (108 bytes with the NUL).
if [ ${#socket} -gt 107 ]; then
    say "socket path $socket is longer than 107 bytes; use a shorter DIR"
    exit 1
fi

# Prints the pid of the server of DIR if it is running, else nothing (and cleans a stale pid file).
running_pid() {
    local pid
    [ -f "$pidfile" ] || return 0
    pid=$(tr -dc '0-9' <"$pidfile")
    if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null && tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "--datadir=$data "; then
        echo "$pid"
    fi
}

ping_server() {
    mariadb-admin --no-defaults --socket="$socket" -uroot --connect-timeout=2 ping >/dev/null 2>&1
}

dsn() {
    echo "mysql://root@/yiwang?socket=$socket"
}

install_db() {
    # Into a scratch directory first, so an interrupted install never leaves a half-made data dir behind.
    local scratch=$dir/data.new
    rm -rf "$scratch"
    say "creating a new data directory in $data"
    if ! mariadb-install-db --no-defaults "${user_opts[@]}" --datadir="$scratch" --auth-root-authentication-method=normal \
        --skip-test-db --skip-name-resolve >"$dir/install.log" 2>&1; then
        say "mariadb-install-db failed:"
        tail -n 30 "$dir/install.log" >&2
        exit 1
    fi
    mv "$scratch" "$data"
}

start() {
    local pid started
    pid=$(running_pid)
    if [ -n "$pid" ] && ping_server; then
        say "already running (pid $pid)"
        dsn
        return 0
    fi
    if [ -n "$pid" ]; then
        say "pid $pid of $dir does not answer; stop it first ('$0 stop $dir')"
        exit 1
    fi
    rm -f "$pidfile" "$socket"
    chmod 700 "$dir"
    [ -d "$data/mysql" ] || install_db

    started=$(date +%s%N)
    # Its own session: a Ctrl-C meant for the script that started it must not reach the server;
    # that script stops it with `stop`. --wait keeps $! alive as long as the server, even if setsid forks.
    setsid --wait mariadbd --no-defaults "${user_opts[@]}" --datadir="$data" --socket="$socket" --pid-file="$pidfile" \
        --skip-networking --skip-name-resolve --skip-log-bin --log-error="$log" \
        --character-set-server=utf8mb4 --collation-server=utf8mb4_unicode_ci \
        --innodb-buffer-pool-size=64M --innodb-flush-log-at-trx-commit=2 \
        </dev/null >/dev/null 2>&1 &
    local launcher=$!
    local deadline=$((SECONDS + start_timeout_s))
    until ping_server; do
        if ! kill -0 "$launcher" 2>/dev/null && [ -z "$(running_pid)" ]; then
            say "mariadbd exited during start-up; the end of $log:"
            tail -n 30 "$log" >&2 || true
            exit 1
        fi
        if [ "$SECONDS" -ge "$deadline" ]; then
            say "mariadbd did not answer within ${start_timeout_s}s; the end of $log:"
            tail -n 30 "$log" >&2 || true
            exit 1
        fi
        sleep 0.05
    done
    mariadb --no-defaults --socket="$socket" -uroot \
        -e 'CREATE DATABASE IF NOT EXISTS yiwang CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci'
    say "running (pid $(running_pid), ready in $((($(date +%s%N) - started) / 1000000)) ms, socket $socket)"
    dsn
}

stop() {
    local pid
    pid=$(running_pid)
    if [ -z "$pid" ]; then
        say "not running ($dir)"
        return 0
    fi
    # SIGTERM is mariadbd's clean shutdown (the same as `mariadb-admin shutdown`), and needs no connection.
    kill -TERM "$pid"
    local deadline=$((SECONDS + stop_timeout_s))
    while kill -0 "$pid" 2>/dev/null; do
        if [ "$SECONDS" -ge "$deadline" ]; then
            say "pid $pid still running after ${stop_timeout_s}s; killing it"
            kill -KILL "$pid" 2>/dev/null || true
            break
        fi
        sleep 0.05
    done
    say "stopped (pid $pid)"
}

status() {
    local pid
    pid=$(running_pid)
    if [ -n "$pid" ] && ping_server; then
        echo "running (pid $pid): $(dsn)"
        return 0
    fi
    echo "not running ($dir)"
    return 3
}

case "$command" in
start) start ;;
stop) stop ;;
status) status ;;
*) usage ;;
esac
