#!/usr/bin/env bash
# lint.sh — style and static checks for the C sources.
#
#   clang-format (the root .clang-format) must leave every project .c/.h unchanged;
#   cppcheck must find no warning/performance/portability issue in the modules.
# Exits non-zero if either fails; both always run, so one pass reports everything.
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.." || exit 1

status=0

# Every C source of the project: build trees, runtime state and vendored
# JavaScript are not ours to format.
mapfile -t c_files < <(find . \( -path ./.git -o -path './build*' -o -path ./var -o -path ./node_modules \) -prune \
    -o -type f \( -name '*.c' -o -name '*.h' \) -print | sed 's#^\./##' | sort)

if [ ${#c_files[@]} -eq 0 ]; then
    echo "lint: no C files found" >&2
    exit 1
fi

echo "lint: clang-format ($(clang-format --version | sed 's/.*version \([0-9.]*\).*/\1/')) on ${#c_files[@]} files"
if ! clang-format --dry-run --Werror "${c_files[@]}"; then
    echo "lint: clang-format: the files above need 'clang-format -i FILE'" >&2
    status=1
fi

modules=()
for d in common routes gateway auth; do
    [ -d "$d" ] && modules+=("$d")
done
echo "lint: cppcheck on ${modules[*]}"
# The defines mirror CMakeLists.txt so cppcheck checks the configuration we build.
if ! cppcheck --error-exitcode=1 --enable=warning,performance,portability --std=c11 --inline-suppr -q \
    -I . -D_GNU_SOURCE -DH2O_USE_LIBUV=0 -DYIWANG_VERSION='"0"' \
    "${modules[@]}"; then
    echo "lint: cppcheck reported problems" >&2
    status=1
fi

if [ "$status" -eq 0 ]; then
    echo "lint: OK"
fi
exit "$status"
