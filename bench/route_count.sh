#!/usr/bin/env bash
# bench/route_count.sh — proxy throughput with 10 routes against 10,000 routes (issue 4: within 5 %).
# Starts two release builds of yiwang side by side, both from bench/gateway.bench.json (one event-loop thread,
# access log off) and differing only in their route tables: 10 routes / 10 services on :18300, 10,000 routes /
# 1,000 services on :18310 (registry-shaped prefixes /dept-D/svc-S/vN/, some bound to a host, some GET-only).
# Both proxy /dept-0/bench/v1/ to the nginx stand-in on 127.0.0.1:18001. Then runs ../shared/bench/run.sh with
# both as extra targets, so they are measured in the same interleaved rounds as the peers. The gateways it
# started are stopped at the end. Arguments go to the shared run.sh.
#   bench/route_count.sh                      # 8 s per measurement, 3 rounds
#   bench/route_count.sh --rounds 2 --duration 10
# With --pairs N it skips the peers: it starts only the shared nginx stand-in and measures the two gateways
# directly (h2load -c16 -m10 -t1, wrk -t1 -c64, 5 s each), N rounds in ABBA order, and prints every round's ratio
# so the noise is visible next to the median.
#   bench/route_count.sh --pairs 6
set -euo pipefail
pairs=0
if [ "${1:-}" = --pairs ]; then
    pairs=$2
    shift 2
fi
root=$(cd "$(dirname "$0")/.." && pwd)
shared=${YIWANG_SHARED_BENCH:-$root/../shared/bench}
[ -x "$shared/run.sh" ] || { echo "shared benchmark not found at $shared" >&2; exit 2; }
bash "$shared/setup.sh"
cmake -S "$root" -B "$root/build" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$root/build" --target yiwang -j1 >/dev/null

work=$(mktemp -d)
pids=()
cleanup() {
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; done
    rm -rf "$work"
}
trap cleanup EXIT
openssl ecparam -name prime256v1 -genkey -noout -out "$work/bench.key" 2>/dev/null
openssl pkey -in "$work/bench.key" -pubout -out "$work/bench.pub" 2>/dev/null

# gateway-10.json and gateway-10000.json beside the key (bench/route_count_config.py).
python3 "$root/bench/route_count_config.py" "$root/bench/gateway.bench.json" "$work"

for n in 10 10000; do
    "$root/build/yiwang" config check "$work/gateway-$n.json" >/dev/null
    "$root/build/yiwang" serve --config "$work/gateway-$n.json" 2>"$work/gateway-$n.err" &
    pids+=($!)
done
for ops in 18309 18319; do
    for _ in $(seq 1 100); do curl -fs -o /dev/null "http://127.0.0.1:$ops/readyz" && break; sleep 0.1; done
done
if [ "$pairs" -gt 0 ]; then
    sed -e "s#@WORK@#$work#g" -e "s#@WORKERS@#1#g" "$shared/upstream.nginx.conf" >"$work/upstream.nginx.conf"
    nginx -p "$work" -c "$work/upstream.nginx.conf" -g 'daemon off;' &
    pids+=($!)
    for _ in $(seq 1 100); do curl -s -o /dev/null http://127.0.0.1:18001/ && break; sleep 0.1; done
    path=/dept-0/bench/v1/
    for port in 18300 18310; do
        [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port$path")" = 200 ] ||
            { echo "no 200 from the gateway on :$port" >&2; exit 1; }
    done
    h2() { # req/s, or exit on any failed request
        local out
        out=$(h2load -c16 -m10 -t1 -D 5 "http://127.0.0.1:$1$path" 2>&1)
        grep -q ' 0 failed, 0 errored' <<<"$out" && grep -q '0 3xx, 0 4xx, 0 5xx' <<<"$out" ||
            { echo "h2load against :$1 had failures:" >&2; echo "$out" >&2; exit 1; }
        awk '/^finished in/ {gsub(",", "", $4); print $4}' <<<"$out"
    }
    h1() {
        local out
        out=$(wrk -t1 -c64 -d5s "http://127.0.0.1:$1$path" 2>&1)
        ! grep -q 'Non-2xx\|Socket errors' <<<"$out" || { echo "wrk against :$1 had errors:" >&2; echo "$out" >&2; exit 1; }
        awk '/^Requests\/sec/ {print $2}' <<<"$out"
    }
    printf 'round  proto  10-routes  10000-routes  ratio\n' | tee "$work/pairs"
    for r in $(seq 1 "$pairs"); do
        for proto in h2 h1; do
            if [ $((r % 2)) -eq 1 ]; then a=$($proto 18300); b=$($proto 18310); else b=$($proto 18310); a=$($proto 18300); fi
            printf '%5d  %5s  %9.0f  %12.0f  %5.3f\n' "$r" "$proto" "$a" "$b" "$(echo "$b / $a" | bc -l)" | tee -a "$work/pairs"
        done
    done
    for proto in h2 h1; do
        awk -v p="$proto" '$2 == p {print $5}' "$work/pairs" | sort -n |
            awk -v p="$proto" '{v[NR] = $1} END {m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2;
                printf "%s: median ratio 10000/10 routes %.3f (min %.3f, max %.3f, %d rounds)\n", p, m, v[1], v[NR], NR}'
    done
    exit 0
fi
bash "$shared/run.sh" --rounds 3 --key "$work/bench.key" --kid yiwang-bench --iss https://bench.local --aud bench \
    --extra yiwang-10-routes=http://127.0.0.1:18300/dept-0/bench/v1/,http://127.0.0.1:18300/dept-0/bench/v1/ \
    --extra yiwang-10000-routes=http://127.0.0.1:18310/dept-0/bench/v1/,http://127.0.0.1:18310/dept-0/bench/v1/ "$@"
