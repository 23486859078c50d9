#!/usr/bin/env bash
# install-deps.sh — installs the Debian 12 packages Yiwang needs to build, run and test.
#
# Only what is missing is installed, and `apt-get update` runs only then, so a
# second run is a no-op that takes well under a second. Works as root or, for
# other users, through sudo.
set -euo pipefail

packages=(
    build-essential cmake pkg-config
    libh2o-evloop-dev libjwt-dev libssl-dev libjansson-dev libmariadb-dev libargon2-dev
    mariadb-server
    curl nghttp2-client openssl ca-certificates python3
    # an independent OpenID Connect client for tests/integration/test_oidc_conformance.py
    python3-authlib python3-requests
    # an independent JSON Schema validator for tests/integration/test_openapi_responses.py
    python3-yaml python3-jsonschema
    clang-format cppcheck
)
# Node.js is used for API-description tooling. A node or npm that came from
# elsewhere (nodesource, nvm) is left alone: Debian's packages would clash with it.
command -v node >/dev/null 2>&1 || packages+=(nodejs)
command -v npm >/dev/null 2>&1 || packages+=(npm)

missing=()
installed=$(dpkg-query -W -f='${Package} ${Status}\n' "${packages[@]}" 2>/dev/null | awk '$NF == "installed" {print $1}' || true)
for p in "${packages[@]}"; do
    if ! grep -qx -- "$p" <<<"$installed"; then
        missing+=("$p")
    fi
done
if [ ${#missing[@]} -eq 0 ]; then
    echo "install-deps: all ${#packages[@]} packages already installed"
    exit 0
fi

if [ "$(id -u)" -eq 0 ]; then
    sudo=()
elif command -v sudo >/dev/null 2>&1; then
    sudo=(sudo)
else
    echo "install-deps: missing ${missing[*]}; run as root or install sudo" >&2
    exit 1
fi

echo "install-deps: installing ${missing[*]}"
# The demo and tests run their own private mariadbd; keep the package's
# maintainer scripts from starting a system-wide server (there may be no init
# system at all in a container). A policy-rc.d already present is respected.
policy=/usr/sbin/policy-rc.d
added_policy=0
if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' | "${sudo[@]}" tee "$policy" >/dev/null
    "${sudo[@]}" chmod 755 "$policy"
    added_policy=1
fi
cleanup() {
    if [ "$added_policy" -eq 1 ]; then
        "${sudo[@]}" rm -f "$policy"
    fi
}
trap cleanup EXIT

"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq
"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
echo "install-deps: done"
