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
set -euo pipefail
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

# gateway-N.json: the bench file with N routes over max(N/10, 1) filler services plus the bench route and service.
python3 - "$root/bench/gateway.bench.json" "$work" <<'EOF'
import json, sys
base, work = sys.argv[1], sys.argv[2]
for routes, port in ((10, 18300), (10000, 18310)):
    cfg = json.load(open(base))
    cfg["identity"]["trusted_keys"][0]["public_key_file"] = work + "/bench.pub"
    cfg["listeners"]["public"]["port"], cfg["listeners"]["ops"]["port"] = port, port + 9
    bench = cfg["services"][0]
    services = max(routes // 10, 1)
    depts = max(services // 20, 1)
    cfg["services"] = [bench] + [{"name": "svc-%d" % i, "department": "dept-%d" % (i % depts),
                                  "targets": [{"host": "127.0.0.1", "port": 20000 + i}]} for i in range(services)]
    cfg["routes"] = [{"name": "bench", "path_prefix": "/dept-0/bench/v1/", "service": "bench", "strip_prefix": True}]
    for i in range(routes - 1):
        svc = i % services
        shape = i // services
        r = {"name": "route-%d" % i, "path_prefix": "/dept-%d/svc-%d/v%d/" % (svc % depts, svc, shape),
             "service": "svc-%d" % svc, "strip_prefix": True}
        if i % 10 == 7:
            r["host"] = "dept-%d.gov.cn" % (svc % depts)
        if i % 4 == 3:
            r["methods"] = ["GET", "HEAD"]
        cfg["routes"].append(r)
    json.dump(cfg, open("%s/gateway-%d.json" % (work, routes), "w"))
EOF

for n in 10 10000; do
    "$root/build/yiwang" config check "$work/gateway-$n.json" >/dev/null
    "$root/build/yiwang" serve --config "$work/gateway-$n.json" 2>"$work/gateway-$n.err" &
    pids+=($!)
done
for ops in 18309 18319; do
    for _ in $(seq 1 100); do curl -fs -o /dev/null "http://127.0.0.1:$ops/readyz" && break; sleep 0.1; done
done
bash "$shared/run.sh" --rounds 3 --key "$work/bench.key" --kid yiwang-bench --iss https://bench.local --aud bench \
    --extra yiwang-10-routes=http://127.0.0.1:18300/dept-0/bench/v1/,http://127.0.0.1:18300/dept-0/bench/v1/ \
    --extra yiwang-10000-routes=http://127.0.0.1:18310/dept-0/bench/v1/,http://127.0.0.1:18310/dept-0/bench/v1/ "$@"
