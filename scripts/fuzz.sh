#!/usr/bin/env bash
# Builds the libFuzzer targets (clang 14, ASan + UBSan) and runs each for FUZZ_SECONDS (default 60),
# starting from the committed seed corpora. Run longer with e.g. FUZZ_SECONDS=3600 scripts/fuzz.sh.
# New inputs go to build-fuzz/corpus/<target>, never into the committed seeds.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${FUZZ_SECONDS:-60}
cmake --preset fuzz >/dev/null
cmake --build build-fuzz -j"$(nproc)"
for seeds in tests/fuzz/corpus/*/; do
    target=$(basename "$seeds")
    work=build-fuzz/corpus/$target
    mkdir -p "$work" build-fuzz/crashes
    echo "== fuzz_$target for ${seconds}s"
    status=0
    build-fuzz/tests/fuzz/fuzz_"$target" -max_total_time="$seconds" -print_final_stats=1 -rss_limit_mb=2048 \
        -artifact_prefix=build-fuzz/crashes/"$target"- "$work" "$seeds" > "build-fuzz/fuzz_$target.log" 2>&1 || status=$?
    grep -E '^#[0-9]+.*DONE|stat::number_of_executed_units|ERROR|SUMMARY' "build-fuzz/fuzz_$target.log" || true
    if [ "$status" -ne 0 ]; then
        echo "fuzz_$target failed (exit $status); reproducer in build-fuzz/crashes/, log in build-fuzz/fuzz_$target.log" >&2
        exit 1
    fi
done
