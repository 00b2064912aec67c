#!/bin/sh
# Load selftest: with the module loaded, the host (tools/vm/run) sends 1,000 requests over
# one keep-alive connection and 200 concurrent connections through the virtio-net data
# NIC once it sees GH-LOAD-READY; the cores must answer all of them. Prints KTAP.
cd "$(dirname "$0")" || exit 1
. ./lib.sh

nic_column() { awk -v mac="$1" -v col="$2" '$2 == mac { print $col }' "$PROC/nics"; }

test_load() {
    insmod "$MODULE" || return 1
    echo "GH-LOAD-READY"
    before=$(nic_column $DATA_MAC 14)
    i=0
    while [ $(($(nic_column $DATA_MAC 14) - before)) -lt 1200 ] && [ $i -lt 240 ]; do
        sleep 1
        i=$((i + 1))
    done
    served=$(($(nic_column $DATA_MAC 14) - before))
    ktap_diag "served $served requests in about $i s"
    # Then until the load has drained: the count grows by at most the host's background
    # request a second, three seconds running (a minute at most).
    quiet=0 i=0
    while [ $quiet -lt 3 ] && [ $i -lt 60 ]; do
        last=$(nic_column $DATA_MAC 14)
        sleep 1
        if [ $(($(nic_column $DATA_MAC 14) - last)) -le 2 ]; then quiet=$((quiet + 1)); else quiet=0; fi
        i=$((i + 1))
    done
    ktap_diag "$(cat "$PROC/nics")"
    ktap_diag "$(cat "$PROC/cpus")"
    # The cores' own records agree: requests and packets counted per core.
    core_requests=$(awk 'NR > 1 { n += $9 } END { print n + 0 }' "$PROC/cpus")
    core_packets=$(awk 'NR > 1 { n += $7 } END { print n + 0 }' "$PROC/cpus")
    # Every core is still in its main loop: none faulted or stopped under the load.
    not_running=$(awk 'NR > 1 && $2 != "running" { print $1 ": " $2 }' "$PROC/cpus")
    [ -z "$not_running" ] || ktap_diag "cores not running: $not_running"
    echo "GH-LOAD-DONE"
    rmmod gigahttpd && no_trace && [ $served -ge 1200 ] && [ "$core_requests" -ge 1200 ] &&
        [ "$core_packets" -ge 1200 ] && [ -z "$not_running" ]
}

ktap_header
ktap_plan 1
ktap_result "the cores answer 1,000 keep-alive requests and 200 concurrent connections" test_load
ktap_finish
