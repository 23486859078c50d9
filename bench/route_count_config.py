#!/usr/bin/env python3
"""route_count_config.py BENCH_JSON DIR — writes DIR/gateway-10.json and DIR/gateway-10000.json for route_count.sh.

Both are BENCH_JSON (bench/gateway.bench.json) trusting DIR/bench.pub, with the bench service (the nginx stand-in
on 127.0.0.1:18001) behind /dept-0/bench/v1/, plus filler routes shaped like a registry (/dept-D/svc-S/vN/, one in
ten bound to its department's host, one in four GET/HEAD only) over a tenth as many filler services: 10 routes in
all on :18300 (ops :18309), 10,000 on :18310 (ops :18319).
"""
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
    with open("%s/gateway-%d.json" % (work, routes), "w") as f:
        json.dump(cfg, f)
