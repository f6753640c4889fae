#!/usr/bin/env bash
# Runs every test of pam_oauth2: unit tests, the module through libpam against a scripted identity
# provider, and end to end with PostgreSQL and a real OpenID provider. Installs what it needs.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh
scripts/build.sh
echo "== unit and module tests (ctest)"
ctest --test-dir build --output-on-failure -j2
echo "== end to end: PostgreSQL + OpenID provider"
python3 tests/e2e/test_postgres.py --module build/pam_oauth2/pam_oauth2.so
echo "== all tests passed"
