#!/usr/bin/env bash
# Formatting (clang-format) and static analysis (clang-tidy) of the whole tree; fails on any finding.
set -euo pipefail
cd "$(dirname "$0")/.."
mapfile -t sources < <(git ls-files '*.cpp' '*.hpp' '*.c' '*.h')
echo "== clang-format --dry-run -Werror (${#sources[@]} files)"
clang-format-14 --dry-run -Werror "${sources[@]}"
echo "== clang-tidy over pam_oauth2/ and tools/ (the C in front/, protocol/, loader/ with their own .clang-tidy)"
[ -f build/compile_commands.json ] || cmake --preset dev >/dev/null
run-clang-tidy-14 -p build -quiet "$(pwd)/(pam_oauth2|tools)/.*\.(cpp|c)$" > build/clang-tidy.log 2>&1 || {
    grep -E "warning:|error:" build/clang-tidy.log >&2
    exit 1
}
