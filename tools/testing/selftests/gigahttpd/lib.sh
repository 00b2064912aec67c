#!/bin/sh
# Shared by GigaHttpd's selftest programs: where things are and how to look at them.
. ./ktap.sh

MODULE=${GH_MODULE:-/gigahttpd.ko}
PROC=/proc/gigahttpd
KLOG=/tmp/gigahttpd-dmesg.log
# CPUs whose core a test made fault on purpose, a line each: the kernel log scan lets
# through that many fault reports and no more.
EXPECTED_FAULTS=/tmp/gigahttpd-expected-faults

# Kernel messages are drained into KLOG as the tests go, so each step can look at the
# messages it caused and the last test can scan the whole log.
new_kmsg() {
    dmesg -c >/tmp/gigahttpd-dmesg.new
    cat /tmp/gigahttpd-dmesg.new >>"$KLOG"
    cat /tmp/gigahttpd-dmesg.new
}
new_kmsg >/dev/null

ONLINE=$(cat /sys/devices/system/cpu/online)
# The guest's NICs, by MAC (tools/vm/run): the management NIC stays with Linux, the data
# NICs (virtio-net, then e1000) are GigaHttpd's while it is loaded.
MGMT_MAC=52:54:00:12:34:01
DATA_MAC=52:54:00:12:34:02
E1000_MAC=52:54:00:12:34:03
DATA_MACS="$DATA_MAC $E1000_MAC"

# The Linux network interface with MAC $1, if any.
netdev_with_mac() {
    for dev in /sys/class/net/*; do
        [ "$(cat "$dev/address")" = "$1" ] && echo "${dev##*/}"
    done
}

# Nothing of the module is left, and Linux has all its CPUs back.
no_trace() {
    ! [ -e "$PROC" ] && ! [ -e /sys/module/gigahttpd ] && ! grep -q '^gigahttpd ' /proc/modules &&
        ! grep -q 'gigahttpd:held' /sys/devices/system/cpu/hotplug/states &&
        [ "$(cat /sys/devices/system/cpu/online)" = "$ONLINE" ] && [ -n "$(netdev_with_mac $DATA_MAC)" ] &&
        [ -n "$(netdev_with_mac $E1000_MAC)" ]
}
field() { sed -n "s/^$1: //p" "$PROC/status"; }
expect_field() {
    got=$(field "$1")
    [ "$got" = "$2" ] || { ktap_diag "$1: got '$got', want '$2'"; return 1; }
}


# Frames received so far by the data NIC with MAC $1.
rx_packets() { awk -v mac="$1" '$2 == mac { print $4 }' "$PROC/nics"; }

# The host's port forwarded to the virtio-net data NIC (tools/vm/run puts it on the kernel
# command line); the guest reaches it as 10.0.2.2 through the management NIC.
host_port() {
    local p
    p=$(sed -n 's/.*gh\.port=\([0-9]*\).*/\1/p' /proc/cmdline)
    [ -n "$p" ] || { ktap_diag "no gh.port on the kernel command line"; return 1; }
    echo "$p"
}
# http_get PATH OUT SECONDS [CONNECTION]: one request through the host's forwarded port;
# the response goes to OUT. Succeeds when the server closed the connection within
# SECONDS (the request keeps stdin open, so only the server's close ends nc).
http_get() {
    local port waited
    port=$(host_port) || return 1
    rm -f "$2.end"
    { printf 'GET %s HTTP/1.1\r\nHost: t\r\nConnection: %s\r\n\r\n' "$1" "${4:-close}"; sleep "$3"; } |
        { nc 10.0.2.2 "$port" >"$2"; date +%s >"$2.end"; } &
    waited=0
    while ! [ -s "$2.end" ] && [ $waited -lt "$3" ]; do sleep 1; waited=$((waited + 1)); done
    [ -s "$2.end" ]
}
