#!/bin/sh
# Runs last: the kernel log of the whole selftest run must be free of kernel bug reports.
cd "$(dirname "$0")" || exit 1
. ./lib.sh

test_klog_clean() {
    new_kmsg >/dev/null
    # The log must hold this run's messages, or a clean scan proves nothing.
    grep -q 'gigahttpd: loaded' "$KLOG" && grep -q 'smpboot: Booting Node 0 Processor 1' "$KLOG" ||
        { ktap_diag "kernel log was not captured"; return 1; }
    bad='WARNING:|BUG:|Oops|Call Trace|rcu.*stall|soft lockup|hard LOCKUP|blocked for more than'
    bad="$bad|possible recursive locking|possible circular locking|inconsistent lock state"
    bad="$bad|suspicious RCU usage|DEBUG_LOCKS_WARN_ON|turning off the locking correctness validator"
    if grep -E "$bad" "$KLOG" >/tmp/klog-bad; then
        while read -r line; do ktap_diag "$line"; done </tmp/klog-bad
        return 1
    fi
}

ktap_header
ktap_plan 1
ktap_result "kernel log has no warning, BUG, oops, stall or lockdep report" test_klog_clean
ktap_finish
