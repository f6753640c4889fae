#!/usr/bin/env bash
# The pam_oauth2 demo: installs what it needs, builds the module, then logs in to a throwaway
# PostgreSQL with an access token from a local OpenID provider. Leaves nothing behind.
set -euo pipefail
cd "$(dirname "$0")/.."
echo "== Installing build and demo dependencies (Debian packages, npm packages from the lockfile)"
scripts/install-deps.sh >/dev/null
echo "== Building pam_oauth2.so"
scripts/build.sh >/dev/null
python3 scripts/demo.py --module build/pam_oauth2/pam_oauth2.so
