#!/bin/sh
# Lifecycle selftests of gigahttpd.ko: load, CPU takeover, /proc/gigahttpd, parameter
# validation, unload and CPU return, repeated load/unload, and a clean kernel log.
# Prints KTAP. Run as root in a guest with CPUs 0-N online (N >= 1); GH_MODULE names
# the module file.
cd "$(dirname "$0")" || exit 1
. ./lib.sh

mem_available_kib() { awk '$1 == "MemAvailable:" { print $2 }' /proc/meminfo; }
AVAIL_BEFORE=$(mem_available_kib)

test_load_defaults() {
    insmod "$MODULE" && [ -r "$PROC/status" ] && new_kmsg | grep -q 'gigahttpd: loaded'
}

# Each core has mem_mib (default 128) MiB reserved, in whole blocks, gone from Linux.
test_memory_reserved() {
    cores=$(awk 'NR > 1' "$PROC/memory" | wc -l)
    [ "$cores" = "$(cpu_numbers "$(field gh_cpus)" | wc -l)" ] || { ktap_diag "$(cat "$PROC/memory")"; return 1; }
    # The server's arrays are carved from it: some bytes used, at least 1,024 connections;
    # the core's private window over it takes at least two page tables.
    awk 'NR > 1 && ($2 != 134217728 || $3 < 1 || $3 > $2 || $4 < 1 || $5 > $4 || $6 < 1024 || $7 < 1 || $8 < 2) { bad = 1 } END { exit bad }' "$PROC/memory" ||
        { ktap_diag "$(cat "$PROC/memory")"; return 1; }
    drop=$((AVAIL_BEFORE - $(mem_available_kib)))
    [ $drop -ge $((cores * 128 * 1024 * 9 / 10)) ] || { ktap_diag "MemAvailable fell only $drop KiB"; return 1; }
}

test_status_fields() {
    for f in version state uptime_s param.cpus param.nics param.mem_mib param.ip param.gateway \
        param.port gh_cpus online_cpus; do
        grep -q "^$f: ." "$PROC/status" || { ktap_diag "no field $f"; return 1; }
    done
    expect_field state running && expect_field online_cpus 0 &&
        expect_field gh_cpus "$(cpus_but_zero "$ONLINE")" && expect_field param.cpus default &&
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

# The CPU numbers of a list such as 1-3 or 2.
cpu_numbers() {
    case "$1" in
    *-*) seq "${1%-*}" "${1#*-}" ;;
    *) echo "$1" ;;
    esac
}

test_cpus_offline() {
    # The hotplug state that refuses them to every bring-up path, SMT control included.
    grep -q 'gigahttpd:held' /sys/devices/system/cpu/hotplug/states ||
        { ktap_diag "no gigahttpd:held hotplug state"; return 1; }
    for cpu in $(cpu_numbers "$(field gh_cpus)"); do
        [ "$(cat /sys/devices/system/cpu/cpu$cpu/online)" = 0 ] ||
            { ktap_diag "CPU $cpu is online in Linux"; return 1; }
        if echo 1 2>/dev/null >"/sys/devices/system/cpu/cpu$cpu/online"; then
            ktap_diag "Linux could online CPU $cpu while GigaHttpd holds it"
            return 1
        fi
    done
}

# Prints "cpu:heartbeat" for every core in state running.
running_heartbeats() { awk 'NR > 1 && $2 == "running" { print $1 ":" $3 }' "$PROC/cpus"; }

test_cores_run() {
    want=$(cpu_numbers "$(field gh_cpus)" | wc -l)
    first=$(running_heartbeats)
    [ "$(echo "$first" | wc -l)" = "$want" ] || { ktap_diag "cores: $first"; return 1; }
    sleep 1
    second=$(running_heartbeats)
    [ "$(echo "$second" | wc -l)" = "$want" ] || { ktap_diag "a second later: $second"; return 1; }
    for line in $second; do
        cpu=${line%%:*} now=${line#*:}
        before=$(echo "$first" | sed -n "s/^$cpu://p")
        [ "$now" -gt "$before" ] || { ktap_diag "CPU $cpu heartbeat stuck at $now"; return 1; }
    done
}

# The virtio-net NIC goes to the first core, the e1000 to the second.
test_data_nics_taken() {
    [ -n "$(netdev_with_mac $MGMT_MAC)" ] || { ktap_diag "management NIC gone"; return 1; }
    cpu=1
    for mac in $DATA_MACS; do
        [ -z "$(netdev_with_mac "$mac")" ] || { ktap_diag "NIC $mac still in Linux"; return 1; }
        awk -v mac="$mac" -v cpu=$cpu 'NR > 1 && $2 == mac && $3 == cpu { found = 1 } END { exit !found }' \
            "$PROC/nics" || { ktap_diag "$(cat "$PROC/nics")"; return 1; }
        cpu=$((cpu + 1))
    done
}

# The host sends a request a second through each data NIC's forwarded port; the first
# frames of each (ARP requests) must reach GigaHttpd's drivers.
test_data_nics_receive() {
    for mac in $DATA_MACS; do
        i=0
        while [ "$(rx_packets "$mac")" -eq 0 ] && [ $i -lt 15 ]; do sleep 1; i=$((i + 1)); done
        [ "$(rx_packets "$mac")" -gt 0 ] || { ktap_diag "no frame on $mac: $(cat "$PROC/nics")"; return 1; }
    done
}

test_mgmt_nic_works() {
    ping -c 1 -w 15 10.0.2.2 >/dev/null || { ktap_diag "no reply from 10.0.2.2 on the management NIC"; return 1; }
}

test_unload() {
    rmmod gigahttpd && no_trace || return 1
    for cpu in $(cpu_numbers "$(cpus_but_zero "$ONLINE")"); do
        taskset -c "$cpu" true || { ktap_diag "Linux cannot run a task on CPU $cpu"; return 1; }
    done
}

# nics column $2 of the data NIC with MAC $1.
nic_column() { awk -v mac="$1" -v col="$2" '$2 == mac { print $col }' "$PROC/nics"; }

# The engine on each data NIC's core serves the host's requests (one a second through
# each forwarded port): HTTP requests are answered and the replies leave through the NIC.
test_data_nics_serve() {
    for mac in $DATA_MACS; do
        i=0
        while [ "$(nic_column "$mac" 14)" -eq 0 ] && [ $i -lt 20 ]; do sleep 1; i=$((i + 1)); done
        [ "$(nic_column "$mac" 14)" -gt 0 ] && [ "$(nic_column "$mac" 7)" -gt 0 ] ||
            { ktap_diag "$(cat "$PROC/nics")"; return 1; }
    done
}

# Each core with a NIC says through its report ring (printed by the worker on CPU 0) that
# it serves, with how many connection slots.
test_cores_report() {
    new_kmsg >/dev/null
    n=$(grep -c 'gigahttpd: CPU [0-9]*: serving HTTP on [0-9.]*:[0-9]* with [0-9]* connection slots' "$KLOG")
    [ "$n" -ge 2 ] || { ktap_diag "$(grep 'gigahttpd: CPU' "$KLOG" | tail -5)"; return 1; }
}

# After rmmod the data NICs are Linux's again and carry Linux's own traffic. A NIC's link
# may take a few seconds to come up, so ping keeps trying for up to 15 s.
test_data_nics_returned() {
    for mac in $DATA_MACS; do
        dev=$(netdev_with_mac "$mac")
        [ -n "$dev" ] || { ktap_diag "NIC $mac did not come back"; return 1; }
        ip link set "$dev" up && ip addr add 10.0.3.15/24 dev "$dev" || return 1
        ok=0
        ping -c 1 -w 15 10.0.3.2 >/dev/null || { ktap_diag "no reply from 10.0.3.2 on $dev"; ok=1; }
        ip addr flush dev "$dev"
        ip link set "$dev" down
        [ $ok = 0 ] || return 1
    done
}

test_params_applied() {
    insmod "$MODULE" cpus=1 nics=0000:00:04.0 port=8080 ip=192.168.5.9/16 gateway=192.168.0.1 mem_mib=64 || return 1
    ok=0
    expect_field param.cpus 1 && expect_field gh_cpus 1 && expect_field param.port 8080 &&
        [ "$(cat /sys/devices/system/cpu/cpu1/online)" = 0 ] &&
        [ "$(cat /sys/devices/system/cpu/cpu2/online)" = 1 ] &&
        expect_field param.ip 192.168.5.9/16 && expect_field param.gateway 192.168.0.1 &&
        expect_field param.mem_mib 64 &&
        [ "$(cat /sys/module/gigahttpd/parameters/port)" = 8080 ] || ok=1
    rmmod gigahttpd && no_trace && return $ok
}

test_bad_params() {
    for arg in cpus=0 cpus=1,0 cpus=7 cpus=63-64 cpus=x cpus=2-1 cpus= mem_mib=8 \
        nics=00:04 nics=0000:00:1f.0 nics=0000:00:03.0 \
        mem_mib=65537 mem_mib=12ab mem_mib=65536 ip=10.0.3.15 ip=300.1.1.1/24 ip=10.0.3.15/33 \
        ip=10.0.3.15/32 ip=10.0.3.255/24 ip=10.0.3.0/24 ip=127.0.0.5/8 ip=224.0.0.9/24 \
        gateway=10.9.9.9 gateway=10.0.3 gateway=10.0.3.255 gateway=10.0.3.0 \
        port=0 port=65536 port=-1; do
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
    for p in cpus nics mem_mib ip gateway port; do
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
        grep -q '^state: running$' "$PROC/status" || { ktap_diag "bad status in cycle $i"; return 1; }
        http_get / /tmp/cycle.out 30 && grep -q '<h1>GigaHttpd</h1>' /tmp/cycle.out ||
            { ktap_diag "no page in cycle $i: $(head -c 200 /tmp/cycle.out)"; return 1; }
        rmmod gigahttpd || { ktap_diag "rmmod failed in cycle $i"; return 1; }
        i=$((i + 1))
    done
    no_trace
}

ktap_header
ktap_plan 17
ktap_result "module loads with default parameters" test_load_defaults
ktap_result "status shows every field" test_status_fields
ktap_result "taken CPUs are offline to Linux and cannot be onlined" test_cpus_offline
ktap_result "every taken core runs its main loop" test_cores_run
ktap_result "each core's memory is reserved from Linux" test_memory_reserved
ktap_result "the data NICs (virtio-net, e1000) are taken from Linux, one per core" test_data_nics_taken
ktap_result "the data NICs receive the host's traffic" test_data_nics_receive
ktap_result "the data NICs' cores answer HTTP requests" test_data_nics_serve
ktap_result "the serving cores report to Linux through their rings" test_cores_report
ktap_result "the management NIC keeps working" test_mgmt_nic_works
ktap_result "rmmod removes everything and Linux runs tasks on every CPU again" test_unload
ktap_result "the data NICs work in Linux again after rmmod" test_data_nics_returned
ktap_result "parameters are applied" test_params_applied
ktap_result "invalid parameters fail insmod and leave no trace" test_bad_params
ktap_result "modinfo describes every parameter" test_modinfo
ktap_result "status reads race safely with rmmod" test_read_during_unload
ktap_result "20 load/request/unload cycles (take and return CPUs and NICs) leave no trace" test_cycles
ktap_finish
