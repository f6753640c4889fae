#!/usr/bin/env bash
# Runs every test of pam_oauth2 (installs what it needs, as root):
#   unit tests, the module through libpam (functional, 10,000 load/unload cycles, valgrind), the tool,
#   the docs check and PostgreSQL end to end (ctest preset `full`); lint; the same tests under
#   ASan + UBSan; fuzzing; and the .deb/.rpm packages.
#
#   scripts/test.sh --quick   a dev build, every test but the slow ones (ctest preset `quick`) and lint:
#                             a few minutes, the loop to run before every commit
set -euo pipefail
cd "$(dirname "$0")/.."

quick=false
case "${1:-}" in
    --quick) quick=true ;;
    "") ;;
    *) echo "usage: $0 [--quick]" >&2; exit 4 ;;
esac

scripts/install-deps.sh

echo "== gcc build (warnings are errors)"
cmake --preset dev >/dev/null
cmake --build --preset dev
if $quick; then
    echo "== quick tests: unit, tools, docs, the module through libpam"
    ctest --preset quick
    echo "== the tools against oidc-provider on loopback"
    ctest --preset provider
    scripts/lint.sh
    echo "== quick tests passed"
    exit 0
fi
echo "== every test: unit, tools, docs, the module through libpam (also soak and valgrind), PostgreSQL end to end"
ctest --preset full

scripts/lint.sh

echo "== clang build with AddressSanitizer + UndefinedBehaviorSanitizer: the same tests but end to end"
cmake --preset asan >/dev/null
cmake --build --preset asan
ctest --preset asan

echo "== fuzzing every parser (${FUZZ_SECONDS:-60}s each)"
scripts/fuzz.sh

echo "== packages: .deb and .rpm built, checked, installed, tested end to end, purged"
scripts/test-package.sh
echo "== all tests passed"
