#!/bin/sh
# Every symbol a shared object defines in its dynamic table must be one of the expected names.
#   export_table.sh OBJECT "sorted space-separated names"
set -eu
object=$1
expected="$2 "
exported=$(nm -D --defined-only "$object" | awk '{print $3}' | sort | tr '\n' ' ')
if [ "$exported" != "$expected" ]; then
    echo "unexpected dynamic exports of $object: $exported" >&2
    exit 1
fi
echo "dynamic exports: $exported"
