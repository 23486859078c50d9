#!/usr/bin/env bash
# test.sh — runs every test, the way CI does, on a fresh Debian 12 machine.
#
#   1. installs missing packages (scripts/install-deps.sh)
#   2. builds build/ (Release) and build-asan/ (RelWithDebInfo + ASan/UBSan)
#   3. lint: clang-format and cppcheck (scripts/lint.sh)
#   4. starts a private MariaDB server (scripts/mariadb.sh, fresh data in
#      <asan build>/mariadb/, unix socket only) and exports its DSN as
#      YIWANG_TEST_DSN, so the database tests run against a real mariadbd
#   5. ctest on the sanitizer build: unit, integration and lint tests; the
#      integration tests get the ASan binaries through ctest's environment
#   6. stops the MariaDB server (also when interrupted)
#
# ctest's summary is the last thing printed. The exit status is ctest's, or 1
# when ctest passed but lint failed. YIWANG_BUILD_DIR / YIWANG_ASAN_BUILD_DIR
# move the build trees (default build, build-asan); YIWANG_SKIP_LINT=1 skips lint.
# A YIWANG_TEST_DSN already set is used as it is and no server is started.
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.." || exit 1

build_dir=${YIWANG_BUILD_DIR:-build}
asan_dir=${YIWANG_ASAN_BUILD_DIR:-build-asan}
jobs=$(nproc 2>/dev/null || echo 2)

bash scripts/install-deps.sh || exit $?

echo "test: building $build_dir (Release)"
cmake -S . -B "$build_dir" -DCMAKE_BUILD_TYPE=Release -DYIWANG_SANITIZE=OFF >/dev/null || exit $?
cmake --build "$build_dir" -j "$jobs" || exit $?

echo "test: building $asan_dir (RelWithDebInfo, ASan + UBSan)"
cmake -S . -B "$asan_dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DYIWANG_SANITIZE=ON >/dev/null || exit $?
cmake --build "$asan_dir" -j "$jobs" || exit $?

lint_status=0
if [ "${YIWANG_SKIP_LINT:-0}" != 1 ]; then
    bash scripts/lint.sh
    lint_status=$?
    if [ "$lint_status" -ne 0 ]; then
        echo "test: LINT FAILED (see above); running the tests anyway" >&2
    fi
fi

# Leaks fail a test; any sanitizer report stops the process so the test sees it.
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1

# The tests' database server. Its output goes to a log, so that ctest's summary stays the last line.
mariadb_dir=
# shellcheck disable=SC2317 # called through the EXIT trap
stop_mariadb() {
    if [ -n "$mariadb_dir" ]; then
        bash scripts/mariadb.sh stop "$mariadb_dir" >>"$mariadb_dir.log" 2>&1 || true
        mariadb_dir=
    fi
}
if [ -z "${YIWANG_TEST_DSN:-}" ]; then
    mariadb_dir=$asan_dir/mariadb
    trap stop_mariadb EXIT
    trap 'exit 130' INT
    trap 'exit 143' TERM
    # a leftover server of an interrupted run is ours to stop; then start from empty data
    bash scripts/mariadb.sh stop "$mariadb_dir" >"$mariadb_dir.log" 2>&1
    rm -rf "$mariadb_dir"
    started=$(date +%s%N)
    if ! YIWANG_TEST_DSN=$(bash scripts/mariadb.sh start "$mariadb_dir" 2>>"$mariadb_dir.log"); then
        echo "test: cannot start the tests' MariaDB server:" >&2
        cat "$mariadb_dir.log" >&2
        exit 1
    fi
    export YIWANG_TEST_DSN
    echo "test: MariaDB for the tests: $YIWANG_TEST_DSN (up in $((($(date +%s%N) - started) / 1000000)) ms)"
fi

ctest --test-dir "$asan_dir" --output-on-failure --no-label-summary -j2
ctest_status=$?
stop_mariadb
if [ "$ctest_status" -ne 0 ]; then
    exit "$ctest_status"
fi
exit $((lint_status != 0))
