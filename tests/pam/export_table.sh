#!/bin/sh
# Every symbol pam_oauth2.so defines in its dynamic table must be one of the three entry points.
set -eu
module=$1
exported=$(nm -D --defined-only "$module" | awk '{print $3}' | sort | tr '\n' ' ')
expected="pam_sm_acct_mgmt pam_sm_authenticate pam_sm_setcred "
if [ "$exported" != "$expected" ]; then
    echo "unexpected dynamic exports: $exported" >&2
    exit 1
fi
echo "dynamic exports: $exported"
