#!/bin/sh
# openapi_lint.sh — lint openapi/yiwang.yaml and check that it documents every
# error code of the gateway.
#
# usage: tests/lint/openapi_lint.sh [BUILD_DIR]
#   BUILD_DIR, when given, holds the npm cache (BUILD_DIR/npm-cache) so the
#   linter is downloaded once per build tree and nothing is written to $HOME.
#
# Exit status: 0 clean; 1 on lint errors, a code missing from (or extra in) the
# document, or a linter that could not be run.
set -eu

repo_root=$(cd "$(dirname "$0")/../.." && pwd)
if [ $# -ge 1 ] && [ -n "$1" ]; then
    mkdir -p "$1/npm-cache"
    npm_config_cache=$(cd "$1/npm-cache" && pwd)
    export npm_config_cache
fi
cd "$repo_root"

spec=openapi/yiwang.yaml
# An exact 1.x version: "@1" would follow every release, so a new rule or a
# release whose dependencies are not yet on the registry would break the test
# with no change here.
redocly_version=1.34.20
status=0

# Clients switch on the codes, so a code added to the catalogue but not to the
# document's enum (or left there after removal) is a documentation bug.
# In errors.c the codes are the only all-lower-case string literals (reasons and
# messages are sentences), which holds however clang-format wraps the table.
catalogue_codes=$(grep -o '"[a-z][a-z0-9_]*"' gateway/errors.c | tr -d '"' | sort)
spec_codes=$(awk '
    /^            code:$/ { in_code = 1; next }
    in_code && /^              enum:$/ { in_enum = 1; next }
    in_enum && /^                - / { print $2; next }
    in_enum && /^[[:space:]]*$/ { next }
    in_enum { exit }
' "$spec" | sort)
if [ -z "$catalogue_codes" ]; then
    echo "openapi_lint: found no error codes in gateway/errors.c" >&2
    status=1
elif [ "$catalogue_codes" != "$spec_codes" ]; then
    echo "openapi_lint: ErrorEnvelope code enum differs from gateway/errors.c (< catalogue, > $spec):" >&2
    tmp=$(mktemp -d)
    printf '%s\n' "$catalogue_codes" >"$tmp/catalogue"
    printf '%s\n' "$spec_codes" >"$tmp/spec"
    diff "$tmp/catalogue" "$tmp/spec" >&2 || true
    rm -rf "$tmp"
    status=1
fi

if ! command -v npx >/dev/null 2>&1; then
    echo "openapi_lint: npx not found; install Node.js (20 or later) with npm" >&2
    exit 1
fi
# --format=stylish prints one line per problem; the exit status is non-zero on errors.
if ! npx --yes @redocly/cli@"$redocly_version" lint --format=stylish "$spec"; then
    status=1
fi
exit $status
