#!/usr/bin/env bash
# run.sh — starts the Yiwang demo on this machine (fresh Debian 12 is fine).
#
# Installs missing packages, builds build/ (Release), creates a development TLS
# certificate in var/tls/, starts two stand-in department services (hrss on
# 127.0.0.1:9101, tax on 127.0.0.1:9102; logs in var/log/) and runs the gateway
# in the foreground with docs/demo/yiwang.demo.json (YIWANG_CONFIG=FILE to use
# another; YIWANG_BUILD_DIR=DIR to build elsewhere). Ctrl-C stops the gateway
# and the services this script started.
#
# When the config names no database (database.dsn), a private MariaDB server is
# started under var/mariadb/ (unix socket only, scripts/mariadb.sh; its data
# survives between runs), the config plus its DSN is written to
# var/yiwang.demo.json and used instead, and the server is stopped on exit.
# Either way `yiwang migrate` brings the schema up to date before the gateway starts.
# With the demo config, the demo's departments, services and routes are then
# imported into the registry from docs/demo/registry.json (`yiwang config
# import`; a second run changes nothing), and the gateway follows the registry.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.." || exit 1
build=${YIWANG_BUILD_DIR:-build}

config=${YIWANG_CONFIG:-docs/demo/yiwang.demo.json}
if [ ! -f "$config" ]; then
    echo "run: config file '$config' not found" >&2
    exit 1
fi

bash scripts/install-deps.sh
echo "run: building $build/ (Release)"
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release -DYIWANG_SANITIZE=OFF >/dev/null
cmake --build "$build" -j "$(nproc 2>/dev/null || echo 2)"
bash scripts/gen-dev-cert.sh var/tls
mkdir -p var/log

upstream_pids=()
mariadb_dir=
# shellcheck disable=SC2317 # called through the EXIT trap
stop_all() {
    local pid
    for pid in "${upstream_pids[@]}"; do
        kill -TERM "$pid" 2>/dev/null || true
    done
    for pid in "${upstream_pids[@]}"; do
        wait "$pid" 2>/dev/null || true
    done
    upstream_pids=()
    if [ -n "$mariadb_dir" ]; then
        bash scripts/mariadb.sh stop "$mariadb_dir" || true
        mariadb_dir=
    fi
}
trap stop_all EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# The database: the config's own, or a private server for this demo.
has_dsn=$(python3 -c 'import json, sys; print(1 if (json.load(open(sys.argv[1])).get("database") or {}).get("dsn") else 0)' "$config")
if [ "$has_dsn" != 1 ]; then
    mariadb_dir=var/mariadb
    dsn=$(bash scripts/mariadb.sh start "$mariadb_dir")
    python3 - "$config" "$dsn" var/yiwang.demo.json <<'PY'
import json, sys
source, dsn, target = sys.argv[1:]
config = json.load(open(source, encoding="utf-8"))
config["database"] = {"dsn": dsn}
# a config without services and routes of its own (the demo's) takes them from the registry in this database
if not config.get("services") and not config.get("routes") and "registry" not in config:
    config["registry"] = {"source": "database", "cache_file": "var/registry-cache.json"}
with open(target, "w", encoding="utf-8") as f:
    json.dump(config, f, ensure_ascii=False, indent=2)
    f.write("\n")
PY
    echo "run: MariaDB for the demo: $dsn (config with it: var/yiwang.demo.json)"
    config=var/yiwang.demo.json
fi
"$build/yiwang" migrate --config "$config"
# The demo's departments, services and routes live in the registry: loaded (or brought back to the file) the way
# operators load theirs. A config of your own (YIWANG_CONFIG) keeps whatever registry it has.
if [ -z "${YIWANG_CONFIG:-}" ]; then
    "$build/yiwang" config import docs/demo/registry.json --config "$config"
fi

# The master key seals the signing keys (and, later, citizens' ID numbers) in the database. It never enters the
# database; a real deployment keeps it in a secrets store. The demo makes one on first run.
if [ ! -s var/secrets/master.key ]; then
    mkdir -p var/secrets && chmod 700 var/secrets
    (umask 077 && openssl rand -hex 32 > var/secrets/master.key)
    echo "run: created var/secrets/master.key (mode 600)"
fi
"$build/yiwang" keys rotate --if-none --config "$config"

# Two demo apps: a first-party mobile app that signs people in with the JSON API, and a first-party H5 page that uses
# the browser flow (its redirect URI is the stand-in hrss service, which shows the code it receives).
add_demo_client() { # ID ARGS...
    local out
    if ! out=$("$build/yiwang" clients add --config "$config" --id "$@" 2>&1) && ! grep -q 'exists already' <<<"$out"; then
        echo "run: cannot register the demo client $1: $out" >&2
        exit 1
    fi
}
add_demo_client demo-app --name "一网 demo app" --kind android --first-party --public \
    --scopes "openid profile phone hrss:read" --grants "refresh_token"
add_demo_client demo-h5 --name "一网 demo H5" --kind web --first-party --public \
    --scopes "openid profile phone hrss:read" --grants "authorization_code refresh_token" \
    --redirect-uri "http://127.0.0.1:9101/callback"

start_upstream() { # NAME PORT
    local name=$1 port=$2 log="var/log/upstream-$1.log"
    "$build/tests/yiwang-demo-upstream" --listen "127.0.0.1:$port" --name "$name" --access-log >"$log" 2>&1 &
    upstream_pids+=($!)
    for _ in $(seq 1 100); do
        if grep -q '^listening on ' "$log"; then
            echo "run: department service '$name' on 127.0.0.1:$port (log: $log)"
            return 0
        fi
        if ! kill -0 "$!" 2>/dev/null; then
            break
        fi
        sleep 0.05
    done
    echo "run: department service '$name' did not start on 127.0.0.1:$port:" >&2
    cat "$log" >&2
    exit 1
}
start_upstream hrss 9101
start_upstream tax 9102

# Print examples with the listener addresses of the config actually used.
read -r public tls ops < <(python3 - "$config" <<'PY' || echo "127.0.0.1:8080 127.0.0.1:8443 127.0.0.1:9080"
import json, sys
listeners = json.load(open(sys.argv[1])).get("listeners", {})
def addr(name, default):
    l = listeners.get(name) or {}
    if l.get("enabled") is False or "port" not in l:
        return default
    host = l.get("address", "127.0.0.1")
    return "%s:%s" % ("[%s]" % host if ":" in host else host, l["port"])
print(addr("public", "127.0.0.1:8080"), addr("tls", "-"), addr("ops", "127.0.0.1:9080"))
PY
)

cat <<EOT

Yiwang demo — try, from another terminal:
  curl -sS http://$public/hrss/api/ping                            # HTTP/1.1 -> 人社 (hrss)
  curl -sS --http2-prior-knowledge http://$public/tax/api/ping     # h2c -> 税务 (tax)
EOT
if [ "$tls" != "-" ]; then
    echo "  curl -sS -k --http2 https://$tls/hrss/api/ping              # TLS + HTTP/2 (dev certificate)"
fi
cat <<EOT
  curl -sS 'http://$public/tax/api/ping?sleep_ms=300&status=503'   # a slow department answering 503
  curl -sS http://$public/nowhere                                  # 404 from the gateway itself
  curl -sS http://$public/.well-known/jwks.json                    # the gateway's token-signing keys (JWKS)
  curl -sS http://$ops/healthz
  curl -sS http://$ops/readyz
  curl -sS http://$ops/metrics

Sign a citizen in (the SMS code goes to var/sms-outbox.jsonl instead of a phone):
  curl -sS http://$public/v1/auth/sms -H 'content-type: application/json' -d '{"client_id":"demo-app","mobile":"13800138000"}'
  tail -n 1 var/sms-outbox.jsonl
  curl -sS http://$public/v1/auth/login -H 'content-type: application/json' \\
       -d '{"client_id":"demo-app","mobile":"13800138000","code":"CODE"}'
  curl -sS http://$public/hrss/me/profile -H 'authorization: Bearer ACCESS_TOKEN'   # hrss sees X-Gateway-Subject
EOT
if [ "$tls" != "-" ]; then
    verifier=$(openssl rand -base64 32 | tr '+/' '-_' | tr -d '=\n')
    challenge=$(printf %s "$verifier" | openssl dgst -sha256 -binary | openssl base64 | tr '+/' '-_' | tr -d '=\n')
    cat <<EOT
Or in a browser (accept the development certificate), the login page and single sign-on:
  https://$tls/oauth/authorize?response_type=code&client_id=demo-h5&redirect_uri=http%3A%2F%2F127.0.0.1%3A9101%2Fcallback&scope=openid%20profile&state=demo&code_challenge=$challenge&code_challenge_method=S256
  then exchange the code shown by hrss (within 60 s):
  curl -sS -k https://$tls/oauth/token -d grant_type=authorization_code -d client_id=demo-h5 -d code=CODE \\
       -d redirect_uri=http://127.0.0.1:9101/callback -d code_verifier=$verifier
EOT
fi

# In the background so that a signal sent to this script alone (not to the
# whole terminal process group, as Ctrl-C is) still reaches the gateway; the
# EXIT trap then stops the department services.
"$build/yiwang" serve --config "$config" &
gateway_pid=$!
echo "run: gateway pid $gateway_pid: $build/yiwang serve --config $config   (Ctrl-C to stop, kill -HUP $gateway_pid to reload)"
# shellcheck disable=SC2317 # called from the traps below
forward() { kill -"$1" "$gateway_pid" 2>/dev/null || true; }
trap 'forward INT' INT
trap 'forward TERM' TERM
trap 'forward HUP' HUP
status=0
while :; do
    status=0
    wait "$gateway_pid" || status=$?
    # wait also returns when a trapped signal arrives; go on until the gateway is gone
    kill -0 "$gateway_pid" 2>/dev/null || break
done
exit "$status"
