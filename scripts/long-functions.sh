#!/usr/bin/env bash
# Lists the production functions longer than the house limit (readability-function-size, 80 lines),
# longest first, as "lines  file:line  function". Exits 1 when there is any. The same check is part
# of .clang-tidy (so scripts/lint.sh fails on a new one); this lists them all at once, at any limit.
#   scripts/long-functions.sh [LINES]
set -euo pipefail
cd "$(dirname "$0")/.."
limit="${1:-80}"
[ -f build/compile_commands.json ] || cmake --preset dev >/dev/null
config="{Checks: '-*,readability-function-size', CheckOptions: [{key: readability-function-size.LineThreshold, value: '${limit}'}]}"
run-clang-tidy-14 -p build -quiet -config="${config}" "$(pwd)/(pam_oauth2|tools)/.*\.(cpp|c)$" 2>/dev/null |
    sed 's/\x1b\[[0-9;]*m//g' |
    awk -v root="$(pwd)/" '
        /warning: function .* exceeds recommended size/ { split($1, at, ":"); file = at[1]; sub(root, "", file)
            match($0, /function .* exceeds/); name = substr($0, RSTART + 9, RLENGTH - 17); where = file ":" at[2] }
        /[0-9]+ lines including whitespace and comments/ { match($0, /[0-9]+ lines/); n = substr($0, RSTART, RLENGTH - 6)
            if (where != "") { printf "%5d  %s  %s\n", n, where, name; where = "" } }' |
    sort -u | sort -rn > build/long-functions.txt
cat build/long-functions.txt
[ ! -s build/long-functions.txt ]
