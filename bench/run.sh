#!/usr/bin/env bash
# bench/run.sh — the gateway in the shared side-by-side benchmark (../shared/bench/run.sh).
# Generates an ES256 key, starts a release build of yiwang with bench/gateway.bench.json (one event-loop
# thread, like the peers' one worker; access log off, as the peers run without one) trusting that key, and
# runs the shared benchmark with the same key, so HAProxy (haproxy-full) and the gateway verify one token.
# Two gateway targets: yiwang-public (a public route) and yiwang-user (policy user: the token is verified).
# The gateway it started is stopped at the end. Arguments are passed to the shared run.sh.
#   bench/run.sh                      # 8 s per measurement, 2 rounds
#   bench/run.sh --rounds 3 --duration 10
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
shared=${YIWANG_SHARED_BENCH:-$root/../shared/bench}
[ -x "$shared/run.sh" ] || { echo "shared benchmark not found at $shared" >&2; exit 2; }
bash "$shared/setup.sh"
cmake -S "$root" -B "$root/build" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$root/build" --target yiwang -j"$(nproc)" >/dev/null

work=$(mktemp -d)
gateway=
cleanup() {
    if [ -n "$gateway" ]; then kill "$gateway" 2>/dev/null || true; wait "$gateway" 2>/dev/null || true; fi
    rm -rf "$work"
}
trap cleanup EXIT
openssl ecparam -name prime256v1 -genkey -noout -out "$work/bench.key" 2>/dev/null
openssl pkey -in "$work/bench.key" -pubout -out "$work/bench.pub" 2>/dev/null
sed "s#@PUBLIC_KEY@#$work/bench.pub#" "$root/bench/gateway.bench.json" > "$work/gateway.json"
"$root/build/yiwang" config check "$work/gateway.json" >/dev/null

"$root/build/yiwang" serve --config "$work/gateway.json" 2>"$work/gateway.err" &
gateway=$!
for _ in $(seq 1 50); do curl -fs -o /dev/null http://127.0.0.1:18309/healthz && break; sleep 0.1; done
bash "$shared/run.sh" --key "$work/bench.key" --kid yiwang-bench --iss https://bench.local --aud bench \
    --extra yiwang-public=http://127.0.0.1:18300/public/,http://127.0.0.1:18300/public/ \
    --extra yiwang-user=http://127.0.0.1:18300/user/,http://127.0.0.1:18300/user/ "$@"
