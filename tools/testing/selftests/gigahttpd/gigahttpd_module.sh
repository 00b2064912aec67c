#!/bin/sh
# Lifecycle selftests of gigahttpd.ko: load, /proc/gigahttpd/status, parameter
# validation, unload, repeated load/unload, and a clean kernel log. Prints KTAP.
# Run as root in a guest with at least 2 CPUs online; GH_MODULE names the module file.
cd "$(dirname "$0")" || exit 1
. ./ktap.sh

MODULE=${GH_MODULE:-/gigahttpd.ko}
PROC=/proc/gigahttpd
KLOG=/tmp/gigahttpd-dmesg.log

# Kernel messages are drained into KLOG as the tests go, so each step can look at the
# messages it caused and the last test can scan the whole log.
new_kmsg() {
    dmesg -c >/tmp/gigahttpd-dmesg.new
    cat /tmp/gigahttpd-dmesg.new >>"$KLOG"
    cat /tmp/gigahttpd-dmesg.new
}
new_kmsg >/dev/null

no_trace() {
    ! [ -e "$PROC" ] && ! [ -e /sys/module/gigahttpd ] && ! grep -q '^gigahttpd ' /proc/modules
}
field() { sed -n "s/^$1: //p" "$PROC/status"; }
expect_field() {
    got=$(field "$1")
    [ "$got" = "$2" ] || { ktap_diag "$1: got '$got', want '$2'"; return 1; }
}

test_load_defaults() {
    insmod "$MODULE" && [ -r "$PROC/status" ] && new_kmsg | grep -q 'gigahttpd: loaded'
}

test_status_fields() {
    online=$(cat /sys/devices/system/cpu/online)
    for f in version state uptime_s param.cpus param.mem_mib param.ip param.gateway \
        param.port gh_cpus online_cpus; do
        grep -q "^$f: ." "$PROC/status" || { ktap_diag "no field $f"; return 1; }
    done
    expect_field state loaded && expect_field online_cpus "$online" &&
        expect_field gh_cpus "$(cpus_but_zero "$online")" && expect_field param.cpus default &&
        expect_field param.port 80 && expect_field param.ip 10.0.3.15/24
}

# "0-3" -> "1-3", "0-1" -> "1": the default choice, every online CPU but CPU 0.
cpus_but_zero() {
    case "$1" in
    0-1) echo 1 ;;
    0-*) echo "1-${1#0-}" ;;
    *) echo "unexpected online list $1" ;;
    esac
}

test_unload() { rmmod gigahttpd && no_trace; }

test_params_applied() {
    insmod "$MODULE" cpus=1 port=8080 ip=192.168.5.9/16 gateway=192.168.0.1 mem_mib=64 || return 1
    ok=0
    expect_field param.cpus 1 && expect_field gh_cpus 1 && expect_field param.port 8080 &&
        expect_field param.ip 192.168.5.9/16 && expect_field param.gateway 192.168.0.1 &&
        expect_field param.mem_mib 64 &&
        [ "$(cat /sys/module/gigahttpd/parameters/port)" = 8080 ] || ok=1
    rmmod gigahttpd && no_trace && return $ok
}

test_bad_params() {
    for arg in cpus=0 cpus=1,0 cpus=7 cpus=63-64 cpus=x cpus=2-1 cpus= mem_mib=8 \
        mem_mib=65537 mem_mib=12ab ip=10.0.3.15 ip=300.1.1.1/24 ip=10.0.3.15/33 \
        gateway=10.9.9.9 gateway=10.0.3 port=0 port=65536 port=-1; do
        if insmod "$MODULE" "$arg" 2>/dev/null; then
            ktap_diag "insmod accepted $arg"
            rmmod gigahttpd
            return 1
        fi
        name=${arg%%=*}
        new_kmsg | grep -q "gigahttpd: invalid parameter $name: " ||
            { ktap_diag "no dmesg line for $arg"; return 1; }
        no_trace || { ktap_diag "$arg left a trace"; return 1; }
    done
}

test_modinfo() {
    for p in cpus mem_mib ip gateway port; do
        modinfo -F parm "$MODULE" | grep -q "^$p:.\{10,\}" ||
            { ktap_diag "no modinfo description for $p"; return 1; }
    done
}

test_read_during_unload() {
    insmod "$MODULE" || return 1
    (end=$(($(date +%s) + 3)); while [ "$(date +%s)" -lt "$end" ]; do
        cat "$PROC/status" >/dev/null 2>&1; done) &
    reader=$!
    sleep 1
    rmmod gigahttpd
    rc=$?
    wait $reader
    [ $rc = 0 ] && no_trace
}

test_cycles() {
    i=0
    while [ $i -lt 20 ]; do
        insmod "$MODULE" || { ktap_diag "insmod failed in cycle $i"; return 1; }
        grep -q '^state: loaded$' "$PROC/status" || { ktap_diag "bad status in cycle $i"; return 1; }
        rmmod gigahttpd || { ktap_diag "rmmod failed in cycle $i"; return 1; }
        i=$((i + 1))
    done
    no_trace
}

test_klog_clean() {
    new_kmsg >/dev/null
    bad='WARNING:|BUG:|Oops|Call Trace|rcu.*stall|soft lockup|hard LOCKUP|blocked for more than'
    bad="$bad|possible recursive locking|possible circular locking|inconsistent lock state"
    bad="$bad|suspicious RCU usage|DEBUG_LOCKS_WARN_ON|turning off the locking correctness validator"
    if grep -E "$bad" "$KLOG" >/tmp/klog-bad; then
        while read -r line; do ktap_diag "$line"; done </tmp/klog-bad
        return 1
    fi
}

ktap_header
ktap_plan 9
ktap_result "module loads with default parameters" test_load_defaults
ktap_result "status shows every field" test_status_fields
ktap_result "rmmod removes everything" test_unload
ktap_result "parameters are applied" test_params_applied
ktap_result "invalid parameters fail insmod and leave no trace" test_bad_params
ktap_result "modinfo describes every parameter" test_modinfo
ktap_result "status reads race safely with rmmod" test_read_during_unload
ktap_result "20 load/unload cycles leave no trace" test_cycles
ktap_result "kernel log has no warning, BUG, oops, stall or lockdep report" test_klog_clean
ktap_finish
