#!/usr/bin/env bash
# Runs the benchmarks against a release build (as root: the identity provider and pam_driver need
# the workspace the end-to-end fixtures make). RUNS sets logins per configuration (default 200).
set -euo pipefail
cd "$(dirname "$0")/.."
cmake -S . -B build-bench -DCMAKE_BUILD_TYPE=Release -DPAM_OAUTH2_BUILD_BENCH=ON >/dev/null
cmake --build build-bench -j"$(nproc)" --target pam_oauth2 pam_oauth2_inprocess pam_oauth2_transport pam_oauth2d pam_driver \
    jwt_verify_bench fork_login pam_prompt_permit
echo "== in-process JWT verification"
build-bench/bench/jwt_verify_bench 5000
echo
echo "== logins in fresh processes"
python3 bench/login_latency.py --module build-bench/pam_oauth2/pam_oauth2.so \
    --driver build-bench/tests/pam_driver --runs "${RUNS:-200}"
echo
echo "== the broker: fork-per-login latency, pgbench -C, pgbouncer, daemon memory"
python3 bench/broker_bench.py --build build-bench --rounds "${RUNS:-200}"
echo
echo "== a fleet: 10 daemons and one redis-server (shared cache)"
python3 bench/fleet_bench.py --build build-bench
