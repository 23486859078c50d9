#!/usr/bin/env bash
# gen-dev-cert.sh DIR — a self-signed development certificate for the TLS listener.
#
# Writes DIR/dev.crt and DIR/dev.key (P-256, valid 825 days, SAN localhost and
# 127.0.0.1, key mode 600). Does nothing when both files exist, so the demo and
# the tests can call it every time. Never use this certificate outside a laptop.
set -euo pipefail

if [ $# -ne 1 ]; then
    echo "usage: $0 DIR" >&2
    exit 2
fi
dir=$1
crt=$dir/dev.crt
key=$dir/dev.key

if [ -s "$crt" ] && [ -s "$key" ]; then
    exit 0
fi
command -v openssl >/dev/null || { echo "gen-dev-cert: openssl not found (run scripts/install-deps.sh)" >&2; exit 1; }
mkdir -p "$dir"

# Write next to the final names and rename, so a concurrent caller never sees half a key.
tmp_key=$(mktemp "$dir/.dev.key.XXXXXX")
tmp_crt=$(mktemp "$dir/.dev.crt.XXXXXX")
trap 'rm -f "$tmp_key" "$tmp_crt"' EXIT
chmod 600 "$tmp_key"

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
    -keyout "$tmp_key" -out "$tmp_crt" -days 825 \
    -subj "/O=Yiwang development/CN=localhost" \
    -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" \
    -addext "keyUsage=critical,digitalSignature" \
    -addext "extendedKeyUsage=serverAuth" 2>/dev/null
chmod 644 "$tmp_crt"
mv -f "$tmp_key" "$key"
mv -f "$tmp_crt" "$crt"
echo "gen-dev-cert: wrote $crt and $key"
