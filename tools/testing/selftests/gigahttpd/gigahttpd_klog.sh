#!/bin/sh
# Runs last: the kernel log of the whole selftest run must be free of kernel bug reports.
cd "$(dirname "$0")" || exit 1
. ./lib.sh
. ./klog_bad.sh

test_klog_clean() {
    new_kmsg >/dev/null
    # The log must hold this run's messages, or a clean scan proves nothing.
    grep -q 'gigahttpd: loaded' "$KLOG" && grep -q 'smpboot: Booting Node 0 Processor 1' "$KLOG" ||
        { ktap_diag "kernel log was not captured"; return 1; }
    if grep -E "$KLOG_BAD" "$KLOG" >/tmp/klog-bad; then
        while read -r line; do ktap_diag "$line"; done </tmp/klog-bad
        return 1
    fi
    # A core that faults halts without a kernel report of its own; the watchdog reports
    # it. Only the faults the tests caused may appear.
    faults=$(grep -c 'gigahttpd: watchdog: CPU [0-9]* faulted' "$KLOG")
    expected=$(cat "$EXPECTED_FAULTS" 2>/dev/null | wc -l)
    if [ "$faults" != "$expected" ]; then
        ktap_diag "$faults core fault(s) reported, $expected caused by the tests:"
        grep 'gigahttpd: watchdog: CPU [0-9]* faulted' "$KLOG" | while read -r line; do ktap_diag "$line"; done
        return 1
    fi
}

ktap_header
ktap_plan 1
ktap_result "kernel log has no warning, BUG, oops, stall or lockdep report" test_klog_clean
ktap_finish
