#!/usr/bin/env bash
# Builds pam-oauth2_<version>_<arch>.deb and pam-oauth2-<version>.<arch>.rpm from one release build
# into build-release/. The RPM differs only in its PAM directory (/usr/lib64/security), so the second
# configure relinks nothing and only changes the install rules.
set -euo pipefail
cd "$(dirname "$0")/.."
cmake --preset release -DPAM_OAUTH2_RPM_LAYOUT=OFF >/dev/null
cmake --build build-release -j"$(nproc)"
(cd build-release && cpack -G DEB >/dev/null)
cmake build-release -DPAM_OAUTH2_RPM_LAYOUT=ON >/dev/null
(cd build-release && cpack -G RPM >/dev/null)
cmake build-release -DPAM_OAUTH2_RPM_LAYOUT=OFF >/dev/null
ls build-release/*.deb build-release/*.rpm
