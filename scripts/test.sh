#!/usr/bin/env bash
# Runs every test of pam_oauth2: unit tests, the module through libpam against a scripted identity
# provider (also under ASan/UBSan and valgrind), lint, fuzzing, end to end with PostgreSQL and a real
# OpenID provider, and the packages. Installs what it needs.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh

echo "== gcc build (warnings are errors): unit tests, module through libpam, valgrind cycles"
cmake --preset dev >/dev/null
cmake --build build -j"$(nproc)"
ctest --test-dir build --output-on-failure -j2

scripts/lint.sh

echo "== clang build with AddressSanitizer + UndefinedBehaviorSanitizer: the same tests"
cmake --preset asan >/dev/null
cmake --build build-asan -j"$(nproc)"
ctest --test-dir build-asan --output-on-failure -j2

echo "== fuzzing every parser (${FUZZ_SECONDS:-60}s each)"
scripts/fuzz.sh

echo "== end to end: PostgreSQL, pgbouncer, node-postgres and a real OpenID provider"
python3 tests/e2e/test_postgres.py --module build/pam_oauth2/pam_oauth2.so

echo "== packages: .deb and .rpm built, checked, installed, tested end to end, purged"
scripts/test-package.sh
echo "== all tests passed"
