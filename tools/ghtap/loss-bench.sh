#!/usr/bin/env bash
# How fast the engine moves a large page over a lossy, slow link: ghtap serves a random
# page on a TAP device in a network namespace this script creates, dropping a share of
# the frames each way (`ghtap --loss`), with a delay added on the client's side if asked
# (`tc netem`, when the kernel has it), and curl fetches it several times. Every body is compared byte for byte.
# Prints each fetch's time, their median and mean, and the engine's loss counters.
#
# Usage: tools/ghtap/loss-bench.sh [--loss PERCENT] [--delay MS] [--runs N] [--size MB]
#        (defaults: 1% loss, no delay, 10 runs, 3 MB; every fetch is bounded at 60 s)
# GHTAP_BIN=path compares another build of ghtap (for example one built at an older
# commit) on the same link. Needs root (namespaces and TAP devices), and tc for a delay.
set -uo pipefail
source "$(dirname "$0")/../env.sh"

loss=1 delay=0 runs=10 size=3
while [ $# -gt 0 ]; do
    case $1 in
        --loss) loss=${2:?}; shift 2 ;;
        --delay) delay=${2:?}; shift 2 ;;
        --runs) runs=${2:?}; shift 2 ;;
        --size) size=${2:?}; shift 2 ;;
        *) echo "usage: $0 [--loss PERCENT] [--delay MS] [--runs N] [--size MB]" >&2; exit 2 ;;
    esac
done
for v in "$loss" "$delay" "$runs" "$size"; do
    case $v in '' | *[!0-9]*) echo "loss-bench: numbers only" >&2; exit 2 ;; esac
done
[ "$(id -u)" = 0 ] || { echo "loss-bench: must run as root" >&2; exit 2; }
[ "$delay" = 0 ] || command -v tc >/dev/null || { echo "loss-bench: tc missing" >&2; exit 2; }

cd "$GH_ROOT"
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$GH_CACHE/ghtap-target}
export CARGO_BUILD_JOBS=${CARGO_BUILD_JOBS:-1}
out=$GH_ROOT/build/loss-bench
mkdir -p "$out"
bin=${GHTAP_BIN:-}
if [ -z "$bin" ]; then
    (cd tools/ghtap && cargo build --release --locked --quiet) >"$out/build.log" 2>&1 ||
        { cat "$out/build.log" >&2; exit 1; }
    bin=$CARGO_TARGET_DIR/release/ghtap
fi

ns=ghloss-$$ tap=ghloss0 server=10.79.0.2 client=10.79.0.1 mac=02:00:00:79:00:02
pid=""
cleanup() {
    [ -n "$pid" ] && kill -TERM "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
    ip netns del "$ns" 2>/dev/null
}
trap cleanup EXIT
trap 'exit 130' INT TERM

head -c $((size * 1048576)) /dev/urandom >"$out/page.bin"
nsx() { ip netns exec "$ns" "$@"; }
ip netns add "$ns" &&
    nsx ip link set lo up &&
    nsx sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1 &&
    nsx ip tuntap add dev "$tap" mode tap &&
    nsx ip link set "$tap" txqueuelen 20000 &&
    nsx ip addr add "$client/24" dev "$tap" &&
    nsx ip link set "$tap" up || { echo "loss-bench: namespace setup failed" >&2; exit 1; }
if [ "$delay" != 0 ]; then
    nsx tc qdisc add dev "$tap" root netem delay "${delay}ms" limit 100000 ||
        { echo "loss-bench: no delay without netem (sch_netem) in this kernel" >&2; exit 1; }
fi
ip netns exec "$ns" "$bin" --tap "$tap" --mac "$mac" --ip "$server" --port 80 --slots 64 \
    --tasks 4 --loss "$loss" --page "/page.bin=$out/page.bin:application/octet-stream" \
    >"$out/ghtap.out" 2>"$out/ghtap.err" &
pid=$!
for _ in $(seq 50); do
    grep -q '^ghtap: serving' "$out/ghtap.err" && break
    sleep 0.1
done
grep -q '^ghtap: serving' "$out/ghtap.err" || { cat "$out/ghtap.err" >&2; exit 1; }
nsx ping -c 1 -W 2 "$server" >/dev/null

echo "loss-bench: ${size} MB page, ${loss}% of the frames lost each way, +${delay} ms, $runs fetches"
times=() bad=0
for _ in $(seq "$runs"); do
    rm -f "$out/body"
    t=$(nsx curl -sS --max-time 60 -o "$out/body" -w '%{time_total}' "http://$server/page.bin")
    if cmp -s "$out/body" "$out/page.bin"; then
        times+=("$t")
    else
        bad=$((bad + 1))
    fi
done
kill -TERM "$pid" && wait "$pid"
pid=""
echo "times (s): ${times[*]}"
printf '%s\n' "${times[@]}" | sort -n | awk -v bad="$bad" '
    { t[NR] = $1; sum += $1 }
    END {
        if (NR == 0) { print "no fetch arrived whole"; exit 1 }
        m = (NR % 2) ? t[(NR + 1) / 2] : (t[NR / 2] + t[NR / 2 + 1]) / 2
        printf "median %.3f s, mean %.3f s, %d fetches whole, %d not\n", m, sum / NR, NR, bad
    }'
awk '$1 ~ /^(lost_rx|lost_tx|tcp_retransmits|tcp_fast_retransmits|tcp_timeouts)$/ {
    printf "%s %s  ", $1, $2 } END { print "" }' "$out/ghtap.out"
[ "$bad" = 0 ]
