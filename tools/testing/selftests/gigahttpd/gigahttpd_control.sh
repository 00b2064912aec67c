#!/bin/sh
# Control-plane selftests of gigahttpd.ko: /proc/gigahttpd/config and control, the
# watchdog, and ghctl. Prints KTAP. Needs a guest with CPUs 0-3 and the data NIC.
cd "$(dirname "$0")" || exit 1
. ./lib.sh

setting() { sed -n "s/^$1=//p" "$PROC/config"; }
core_field() { # core_field CPU COLUMN(2=state 3=heartbeat 4=restarts 5=nmis 11=quarantined)
    awk -v cpu="$1" -v col="$2" 'NR > 1 && $1 == cpu { print $col }' "$PROC/cpus"
}
# Waits up to $2 seconds for core $1 to be running with a heartbeat that moves.
core_alive_within() {
    i=0
    while [ $i -lt "$2" ]; do
        if [ "$(core_field "$1" 2)" = running ]; then
            a=$(core_field "$1" 3)
            sleep 1
            b=$(core_field "$1" 3)
            [ "$b" -gt "$a" ] && return 0
        else
            sleep 1
        fi
        i=$((i + 1))
    done
    ktap_diag "core $1: $(grep "^$1 " "$PROC/cpus")"
    return 1
}
# Waits up to $2 seconds for the watchdog to have restarted core $1 at least once.
restarted_within() {
    i=0
    while [ "$(core_field "$1" 4)" -lt 1 ] && [ $i -lt "$2" ]; do sleep 1; i=$((i + 1)); done
    [ "$(core_field "$1" 4)" -ge 1 ] || { ktap_diag "no restart: $(grep "^$1 " "$PROC/cpus")"; return 1; }
}
# A refused write fails, and the kernel log says why.
refused() {
    new_kmsg >/dev/null
    ! printf '%s\n' "$2" 2>/dev/null >"$PROC/$1" || return 1
    new_kmsg | grep -q "gigahttpd: $1: refused: " || { ktap_diag "no reason logged for '$2'"; return 1; }
}
test_load() { insmod "$MODULE" && [ -w "$PROC/config" ] && [ -w "$PROC/control" ]; }

test_config_defaults() {
    [ "$(setting watchdog_ms)" = 2000 ] && [ "$(setting initial_window)" = 1024 ] &&
        [ "$(setting idle_ms)" = 60000 ]
}

test_bad_config_writes() {
    for bad in watchdog_ms=5 watchdog_ms=60001 watchdog_ms=abc bogus=1 garbage "" \
        idle_ms=999 initial_window=65536 initial_window=-1; do
        refused config "$bad" || { ktap_diag "accepted '$bad'"; return 1; }
    done
    test_config_defaults || { ktap_diag "config changed: $(cat "$PROC/config")"; return 1; }
}

# idle_ms reaches the cores: a keep-alive connection left idle is closed by the core
# after about a second once idle_ms=1000 (the default would keep it for a minute).
test_config_tunes_cores() {
    ghctl config set idle_ms=1000 || return 1
    start=$(date +%s)
    http_get / /tmp/idle.out 15 keep-alive
    closed=$?
    ghctl config set idle_ms=60000 || return 1
    [ $closed = 0 ] || { ktap_diag "the idle connection was still open after 15 s"; return 1; }
    took=$(($(cat /tmp/idle.out.end) - start))
    ktap_diag "closed after about $took s idle"
    grep -q '<h1>GigaHttpd</h1>' /tmp/idle.out || { ktap_diag "no page: $(head -c 200 /tmp/idle.out)"; return 1; }
    [ "$took" -le 10 ]
}

test_stop_start_core() {
    echo "stop-core 2" >"$PROC/control" || return 1
    [ "$(core_field 2 2)" = stopped ] || { ktap_diag "state $(core_field 2 2)"; return 1; }
    a=$(core_field 2 3)
    sleep 1
    [ "$(core_field 2 3)" = "$a" ] || { ktap_diag "stopped core still beats"; return 1; }
    echo "start-core 2" >"$PROC/control" || return 1
    core_alive_within 2 5
}

test_bad_control_writes() {
    for bad in "stop-core 0" "stop-core 9" "start-core 3" "explode 1" "stop-core" ""; do
        refused control "$bad" || { ktap_diag "accepted '$bad'"; return 1; }
    done
    for cpu in 1 2 3; do
        [ "$(core_field $cpu 2)" = running ] || { ktap_diag "core $cpu: $(core_field $cpu 2)"; return 1; }
    done
}

# A long watchdog_ms leaves a hung core alone; a short one restarts it: the write took.
test_watchdog_follows_config() {
    echo watchdog_ms=60000 >"$PROC/config" && echo "inject-hang 3" >"$PROC/control" || return 1
    sleep 3
    [ "$(core_field 3 4)" = 0 ] || { ktap_diag "restarted despite watchdog_ms=60000"; return 1; }
    a=$(core_field 3 3)
    sleep 1
    [ "$(core_field 3 3)" = "$a" ] || { ktap_diag "hung core still beats"; return 1; }
    echo watchdog_ms=600 >"$PROC/config" || return 1
    restarted_within 3 10 || return 1
    new_kmsg | grep -q "watchdog: CPU 3 heartbeat stuck" || { ktap_diag "no dmesg report"; return 1; }
    core_alive_within 3 5
}

# The core that owns the data NIC is restarted by the watchdog and keeps receiving.
test_nic_core_restart() {
    echo "inject-hang 1" >"$PROC/control" || return 1
    restarted_within 1 10 && core_alive_within 1 5 || return 1
    rx=$(rx_packets $DATA_MAC)
    i=0
    while [ $i -lt 10 ]; do
        sleep 1
        [ "$(rx_packets $DATA_MAC)" -gt "$rx" ] && return 0
        i=$((i + 1))
    done
    ktap_diag "no frame after the restart: $(cat "$PROC/nics")"
    return 1
}

# A request that hangs its core (GET /hang with the hook armed) is blamed by the
# watchdog: the restarted core answers that connection 500 instead of running the
# request again, and serves the next one. The request goes out through the management
# NIC to the host's forwarded port of the data NIC (QEMU's 10.0.2.2 is the host).
test_watchdog_quarantines_request() {
    before=$(core_field 1 4)
    echo watchdog_ms=600 >"$PROC/config" && echo "inject-hang-on-request 1" >"$PROC/control" || return 1
    new_kmsg >/dev/null
    http_get /hang /tmp/hang.out 60 || { ktap_diag "no answer to /hang: $(head -c 300 /tmp/hang.out)"; return 1; }
    head -n 1 /tmp/hang.out | grep -q '^HTTP/1.1 500 ' ||
        { ktap_diag "/hang answered: $(head -c 300 /tmp/hang.out)"; return 1; }
    [ "$(core_field 1 4)" -gt "$before" ] || { ktap_diag "no restart: $(grep '^1 ' "$PROC/cpus")"; return 1; }
    new_kmsg | grep -q "watchdog: CPU 1 was handling a segment from .* to port 80; that request is refused" ||
        { ktap_diag "no quarantine report in dmesg"; return 1; }
    [ "$(core_field 1 11)" -ge 1 ] || { ktap_diag "not counted: $(cat "$PROC/cpus")"; return 1; }
    http_get / /tmp/page.out 60 && grep -q '<h1>GigaHttpd</h1>' /tmp/page.out ||
        { ktap_diag "no page after the restart: $(head -c 300 /tmp/page.out)"; return 1; }
}

# A core whose stack overflows faults into the guard page below its stack; the fault is
# taken on the core's fault stack, so the core halts as faulted (no triple fault, which
# would reset the machine), the other cores and Linux go on, and it can start again.
test_stack_overflow_faults_core() {
    echo "inject-stack-overflow 3" >"$PROC/control" || return 1
    # The kernel log scan (gigahttpd_klog.sh) lets through this one fault report only.
    echo 3 >>"$EXPECTED_FAULTS"
    i=0
    while [ "$(core_field 3 2)" != faulted ] && [ $i -lt 5 ]; do sleep 1; i=$((i + 1)); done
    [ "$(core_field 3 2)" = faulted ] || { ktap_diag "core 3: $(grep '^3 ' "$PROC/cpus")"; return 1; }
    # The watchdog's next pass (every 100 ms) reports it.
    sleep 1
    new_kmsg | grep -q "watchdog: CPU 3 faulted: it took an exception" ||
        { ktap_diag "the fault was not reported in dmesg"; return 1; }
    for cpu in 1 2; do
        [ "$(core_field $cpu 2)" = running ] || { ktap_diag "core $cpu: $(core_field $cpu 2)"; return 1; }
    done
    # Halted already: stopping it is refused, and it stays faulted.
    refused control "stop-core 3" && [ "$(core_field 3 2)" = faulted ] ||
        { ktap_diag "stop-core of a faulted core: $(core_field 3 2)"; return 1; }
    echo "start-core 3" >"$PROC/control" || return 1
    core_alive_within 3 5
}

# An NMI (Linux may send them to every CPU) is taken by the core's own handler, which
# counts it and returns to the loop.
test_nmi_absorbed() {
    # One at a time: NMIs that arrive while one is being handled may merge, as on hardware.
    for n in 1 2 3; do
        before=$(core_field 2 5)
        echo "inject-nmi 2" >"$PROC/control" || return 1
        i=0
        while [ "$(core_field 2 5)" -le "$before" ] && [ $i -lt 5 ]; do sleep 1; i=$((i + 1)); done
        [ "$(core_field 2 5)" -eq $((before + 1)) ] || { ktap_diag "NMI $n: $(grep '^2 ' "$PROC/cpus")"; return 1; }
    done
    core_alive_within 2 5
}

# /proc/gigahttpd/counters: every engine counter, its total and each core's value.
test_counters() {
    http_get / /tmp/counted.out 60 && grep -q '<h1>GigaHttpd</h1>' /tmp/counted.out ||
        { ktap_diag "no page: $(head -c 300 /tmp/counted.out)"; return 1; }
    head -1 "$PROC/counters" | grep -Eq '^counter +total +cpu1 +cpu2 +cpu3$' ||
        { ktap_diag "header: $(head -1 "$PROC/counters")"; return 1; }
    # Published each tick: wait for the request to show.
    i=0
    while [ "$(awk '$1 == "http_requests" { print $2 }' "$PROC/counters")" -lt 1 ] && [ $i -lt 5 ]; do
        sleep 1
        i=$((i + 1))
    done
    awk '$1 == "http_requests" && $2 >= 1 && $2 == $3 + $4 + $5 { ok = 1 } END { exit !ok }' \
        "$PROC/counters" || { ktap_diag "$(grep -E '^(counter|http_requests|rx_frames)' "$PROC/counters")"; return 1; }
    for c in rx_frames tcp_retransmits qos_parked_tx tcp_time_wait_recycled; do
        grep -Eq "^$c +[0-9]+ +[0-9]+ +[0-9]+ +[0-9]+$" "$PROC/counters" ||
            { ktap_diag "no line for $c"; return 1; }
    done
    ghctl --json counters | grep -q '{"counter": "rx_frames", "total": [0-9]*, "cpu1": ' ||
        { ktap_diag "$(ghctl --json counters | head -c 300)"; return 1; }
}

test_ghctl() {
    ghctl status | grep -q '^state: running$' || { ktap_diag "ghctl status"; return 1; }
    ghctl --json status | grep -q '"state": "running"' || { ktap_diag "ghctl --json status"; return 1; }
    ghctl --json cpus | grep -q '^\[{"cpu": 1, "state": "running"' || { ktap_diag "$(ghctl --json cpus)"; return 1; }
    ghctl --json nics | grep -q "\"mac\": \"$DATA_MAC\"" || { ktap_diag "$(ghctl --json nics)"; return 1; }
    ghctl --json memory | grep -q '^\[{"cpu": 1, "reserved": 134217728, .*"window_tables": [0-9]' ||
        { ktap_diag "$(ghctl --json memory)"; return 1; }
    ghctl config set watchdog_ms=1500 && [ "$(ghctl config get watchdog_ms)" = 1500 ] || return 1
    ghctl config set watchdog_ms=1 2>/dev/null
    [ $? = 1 ] || { ktap_diag "bad setting not refused with status 1"; return 1; }
    ghctl stop-core x 2>/dev/null
    [ $? = 2 ] || { ktap_diag "bad CPU not a usage error"; return 1; }
    ghctl frobnicate 2>/dev/null
    [ $? = 2 ] || { ktap_diag "unknown command not a usage error"; return 1; }
    ghctl stop-core 2 && [ "$(core_field 2 2)" = stopped ] && ghctl start-core 2 || return 1
    core_alive_within 2 5
}

test_unload() {
    rmmod gigahttpd && no_trace || return 1
    ghctl status 2>/dev/null
    [ $? = 3 ] || { ktap_diag "ghctl without the module did not exit 3"; return 1; }
}

ktap_header
ktap_plan 14
ktap_result "module loads with writable config and control" test_load
ktap_result "config shows the defaults" test_config_defaults
ktap_result "bad config writes fail with EINVAL and change nothing" test_bad_config_writes
ktap_result "a config write reaches the cores: idle_ms closes an idle connection" test_config_tunes_cores
ktap_result "a core can be stopped and started again" test_stop_start_core
ktap_result "bad control writes fail with EINVAL and change nothing" test_bad_control_writes
ktap_result "the watchdog restarts a hung core within the configured time" test_watchdog_follows_config
ktap_result "the NIC's core restarts and keeps receiving" test_nic_core_restart
ktap_result "a request that hangs its core is answered 500 after the restart, not run again" test_watchdog_quarantines_request
ktap_result "a stack overflow halts its core as faulted, not the machine" test_stack_overflow_faults_core
ktap_result "a core takes NMIs and keeps running" test_nmi_absorbed
ktap_result "/proc/gigahttpd/counters lists every engine counter per core with its total" test_counters
ktap_result "ghctl wraps /proc/gigahttpd with exit codes and --json" test_ghctl
ktap_result "rmmod after core restarts restores everything" test_unload
ktap_finish
