#!/usr/bin/env bash
# Installs everything building and testing pam_oauth2 needs on Debian 12, and the npm packages of
# the test identity provider from their lockfile. Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(
    build-essential cmake pkg-config git
    libpam0g-dev libcurl4-openssl-dev libssl-dev nlohmann-json3-dev catch2 libqrencode-dev libkeyutils-dev libhiredis-dev libpq-dev
    python3 openssl ca-certificates curl redis-server
    clang-14 clang-format-14 clang-tidy-14 libfuzzer-14-dev libclang-rt-14-dev valgrind
    dpkg-dev rpm lintian man-db systemd util-linux
    selinux-policy-dev checkpolicy semodule-utils
    pamtester postgresql-15 postgresql-client-15 pgbouncer
    nodejs npm
    python3-psycopg default-jdk-headless libpostgresql-jdbc-java
    chromium chromium-driver python3-selenium
)
missing=()
for package in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "ok installed" || missing+=("$package")
done
# Node 20 may come from outside Debian (then it brings its own npm); only install Debian's when absent.
if command -v node >/dev/null && command -v npm >/dev/null; then
    missing=("${missing[@]/nodejs}")
    missing=("${missing[@]/npm}")
fi
read -r -a missing <<<"${missing[*]}"
if [ ${#missing[@]} -gt 0 ]; then
    echo "== installing Debian packages: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q
    apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

if [ ! -d tests/e2e/idp/node_modules/oidc-provider ] || [ tests/e2e/idp/package-lock.json -nt tests/e2e/idp/node_modules ]; then
    echo "== installing the test identity provider's npm packages (from package-lock.json)"
    (cd tests/e2e/idp && npm ci --no-audit --no-fund --loglevel=error)
fi
