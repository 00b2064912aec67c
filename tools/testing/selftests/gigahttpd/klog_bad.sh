#!/bin/sh
# The kernel's reports of its own bugs, as an extended regular expression: warnings, BUGs,
# oopses, stalls, lockups, hung tasks and lockdep. Used by gigahttpd_klog.sh on the guest's
# kernel log and by tools/vm/run on the console after the selftests.
KLOG_BAD='WARNING:|BUG:|Oops|Call Trace|rcu.*stall|soft lockup|hard LOCKUP|blocked for more than'
KLOG_BAD="$KLOG_BAD|possible recursive locking|possible circular locking|inconsistent lock state"
KLOG_BAD="$KLOG_BAD|suspicious RCU usage|DEBUG_LOCKS_WARN_ON|turning off the locking correctness validator"
