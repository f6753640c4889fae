#!/usr/bin/env bash
# Configures and builds pam_oauth2 into build/ (the dev preset: warnings are errors).
set -euo pipefail
cd "$(dirname "$0")/.."
cmake --preset dev >/dev/null
cmake --build build -j"$(nproc)"
