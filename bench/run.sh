#!/usr/bin/env bash
# bench/run.sh — the gateway in the shared side-by-side benchmark (../shared/bench/run.sh).
# Starts a release build of yiwang with bench/gateway.bench.json (one event-loop thread, like the peers'
# one worker; access log off, as the peers run without one), runs the shared benchmark with the gateway as
# an extra target, then stops the gateway it started. Arguments are passed to the shared run.sh.
#   bench/run.sh                      # ES256 token, 8 s per measurement, 2 rounds
#   bench/run.sh --rounds 3 --duration 10
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
shared=${YIWANG_SHARED_BENCH:-$root/../shared/bench}
[ -x "$shared/run.sh" ] || { echo "shared benchmark not found at $shared" >&2; exit 2; }
bash "$shared/setup.sh"
cmake -S "$root" -B "$root/build" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$root/build" --target yiwang -j"$(nproc)" >/dev/null
"$root/build/yiwang" config check "$root/bench/gateway.bench.json" >/dev/null

"$root/build/yiwang" serve --config "$root/bench/gateway.bench.json" 2>"${TMPDIR:-/tmp}/yiwang-bench.err" &
gateway=$!
trap 'kill "$gateway" 2>/dev/null || true; wait "$gateway" 2>/dev/null || true' EXIT
for _ in $(seq 1 50); do curl -fs -o /dev/null http://127.0.0.1:18309/healthz && break; sleep 0.1; done
bash "$shared/run.sh" --extra yiwang=http://127.0.0.1:18300/bench/,http://127.0.0.1:18300/bench/ "$@"
