#!/usr/bin/env python3
"""openapi_public.py -- writes openapi/public.json: the public-listener part
of openapi/yiwang.yaml (the identity and sign-in endpoints) as JSON, with the
components those paths use. The gateway embeds it and merges the services'
documents into it for GET /openapi.json (docs/registry.md section 8).

The file is committed, so building the gateway needs no YAML parser;
tests/integration/test_catalog_openapi.py regenerates it and fails when it
differs, so it cannot drift from yiwang.yaml.

usage: scripts/openapi_public.py [--check]   (needs PyYAML)
"""
import json
import os
import sys

import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def refs(node, out):
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str) and value.startswith("#/components/"):
                out.add(tuple(value[len("#/components/"):].split("/", 1)))
            else:
                refs(value, out)
    elif isinstance(node, list):
        for value in node:
            refs(value, out)


def public_document(spec):
    # Ops-listener paths name their own server; the proxy's catch-all and the admin API are not "the gateway's
    # public API" an integrator imports.
    paths = {p: item for p, item in spec["paths"].items()
             if "servers" not in item and not p.startswith("/admin/") and "{service_path}" not in p}
    used, todo = set(), set()
    refs(paths, todo)
    for item in paths.values():
        for op in item.values():
            if isinstance(op, dict):
                for requirement in op.get("security", []):
                    todo.update(("securitySchemes", name) for name in requirement)
    while todo:
        kind, name = todo.pop()
        if (kind, name) in used:
            continue
        used.add((kind, name))
        refs(spec["components"][kind][name], todo)
    components = {}
    for kind, name in sorted(used):
        components.setdefault(kind, {})[name] = spec["components"][kind][name]
    tags = [t for t in spec.get("tags", []) if t["name"] in ("identity", "sign-in", "catalog")]
    return {"openapi": spec["openapi"], "info": spec["info"], "servers": spec["servers"], "tags": tags,
            "paths": paths, "components": components}


def main():
    with open(os.path.join(ROOT, "openapi", "yiwang.yaml"), encoding="utf-8") as f:
        text = json.dumps(public_document(yaml.safe_load(f)), ensure_ascii=False, indent=1, sort_keys=False) + "\n"
    target = os.path.join(ROOT, "openapi", "public.json")
    if "--check" in sys.argv[1:]:
        with open(target, encoding="utf-8") as f:
            if f.read() != text:
                sys.exit("openapi/public.json is out of date: run scripts/openapi_public.py")
        return
    with open(target, "w", encoding="utf-8") as f:
        f.write(text)


if __name__ == "__main__":
    main()
