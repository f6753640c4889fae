#!/usr/bin/env bash
# Configures and builds pam_oauth2 into build/ (warnings are errors).
set -euo pipefail
cd "$(dirname "$0")/.."
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo -DPAM_OAUTH2_WERROR=ON >/dev/null
cmake --build build -j"$(nproc)"
