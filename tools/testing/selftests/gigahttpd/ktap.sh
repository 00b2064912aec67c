#!/bin/sh
# Minimal KTAP v1 reporting for GigaHttpd's selftests (POSIX sh / busybox ash).
# Usage: ktap_header; ktap_plan N; then one ktap_result per test; ktap_finish.

KTAP_NUM=0
KTAP_FAILED=0

ktap_header() { echo "KTAP version 1"; }
ktap_plan() { echo "1..$1"; }
ktap_diag() { echo "# $*"; }

# ktap_result NAME COMMAND...: runs COMMAND, reports ok/not ok under NAME.
ktap_result() {
    KTAP_NAME=$1
    shift
    KTAP_NUM=$((KTAP_NUM + 1))
    ktap_start=$(cut -d' ' -f1 /proc/uptime)
    # Subshell: a test's variables and `cd`s do not leak into the next test.
    if ("$@"); then
        echo "ok $KTAP_NUM $KTAP_NAME"
    else
        echo "not ok $KTAP_NUM $KTAP_NAME"
        KTAP_FAILED=$((KTAP_FAILED + 1))
    fi
    ktap_diag "took $(awk -v s="$ktap_start" '{ printf "%.1f", $1 - s }' /proc/uptime) s"
}

ktap_finish() {
    ktap_diag "$((KTAP_NUM - KTAP_FAILED)) passed, $KTAP_FAILED failed"
    [ "$KTAP_FAILED" = 0 ]
}
