#!/usr/bin/env bash
# GigaHttpd's wire test: runs the network engine (ghtap, gh_net's Server on a TAP device)
# in a network namespace of its own and points Linux's own clients at it: ping and ARP,
# curl, ab (keep-alive and not), and tools/ghtap/clients.py (http.client, pipelining,
# malformed requests, the /echo task pool's 503, 10,000 concurrent connections). Every
# response is checked byte for byte. Prints KTAP-style lines, the engine's counters, and
# "ghtap: N passed, N failed"; exits non-zero if anything failed. Must run as root.
#
#   tools/ghtap/test.sh [--pcap FILE]
#
# --pcap records the TAP's traffic (first 256 bytes of each frame) with tcpdump, to look
# at a failure afterwards. GHTAP_BIN=PATH runs that ghtap instead of building one.
# Logs and the generated pages are kept in build/ghtap/.
set -uo pipefail
source "$(dirname "$0")/../env.sh"

if [ "$(id -u)" != 0 ]; then
    echo "ghtap: test.sh must run as root (network namespaces and TAP devices)" >&2
    exit 2
fi
pcap=""
while [ $# -gt 0 ]; do
    case $1 in
        --pcap) pcap=$(realpath -m "${2:?--pcap needs a file}"); shift 2 ;;
        *) echo "usage: $0 [--pcap FILE]" >&2; exit 2 ;;
    esac
done

cd "$GH_ROOT"
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$GH_CACHE/ghtap-target}
export CARGO_BUILD_JOBS=${CARGO_BUILD_JOBS:-1}
out=$GH_ROOT/build/ghtap
mkdir -p "$out/pages" "$out/tmp"
rm -f "$out"/ab-*.log "$out"/clients-*.log
clients=$GH_ROOT/tools/ghtap/clients.py

# The namespace is ours alone: its name is unique, and it and everything in it go at exit.
ns=ghtap-$$-$RANDOM
tap=ghtap0
server=10.77.0.2
client=10.77.0.1
mac=02:00:00:77:00:02
port=80
# 10,000 concurrent connections, plus headroom for ones still in TIME-WAIT.
slots=12000
concurrent=10000
# POST /echo bodies in progress at once; one more gets 503.
tasks=32

n=0 passed=0 failed=0
start=$SECONDS
result() { # result STATUS DESCRIPTION [DETAIL]
    n=$((n + 1))
    if [ "$1" = 0 ]; then
        passed=$((passed + 1))
        echo "ok $n - $2"
    else
        failed=$((failed + 1))
        echo "not ok $n - $2"
        if [ -n "${3:-}" ]; then printf '%s\n' "$3" | head -20 | sed 's/^/# /'; fi
    fi
}
nsx() { ip netns exec "$ns" "$@"; }

ghtap_pid="" tcpdump_pid=""
stop() { # stop PID SIGNAL: signals one of our background processes, waits up to 5 s
    local pid=$1
    kill -0 "$pid" 2>/dev/null || return 0
    kill "-$2" "$pid"
    for _ in $(seq 50); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    kill -0 "$pid" 2>/dev/null && kill -KILL "$pid"
    wait "$pid" 2>/dev/null
}
cleanup() {
    [ -n "$ghtap_pid" ] && stop "$ghtap_pid" TERM
    [ -n "$tcpdump_pid" ] && stop "$tcpdump_pid" INT
    ip netns exec "$ns" ip link del "$tap" 2>/dev/null
    ip netns del "$ns" 2>/dev/null
    ip netns del "$ns-far" 2>/dev/null
}
trap cleanup EXIT
trap 'exit 130' INT TERM

finish() {
    if [ -s "$out/ghtap.out" ]; then
        echo "# ghtap's counters at exit:"
        awk '/^ghtap counters:/ {n = NR} {line[NR] = $0}
             END {for (i = n; i <= NR; i++) print "#   " line[i]}' "$out/ghtap.out"
    fi
    [ -n "$pcap" ] && echo "# capture: $pcap"
    echo "# $((SECONDS - start)) s; logs in $out"
    echo "1..$n"
    echo "ghtap: $passed passed, $failed failed"
    [ "$failed" = 0 ]
    exit
}

echo "KTAP version 1"

# ---- build and pages -------------------------------------------------------------------
if [ -n "${GHTAP_BIN:-}" ]; then
    bin=$GHTAP_BIN
else
    (cd tools/ghtap && timeout 900 cargo build --release --locked) >"$out/build.log" 2>&1
    rc=$?
    result $rc "ghtap builds" "$(tail -20 "$out/build.log")"
    [ $rc = 0 ] || finish
    bin=$CARGO_TARGET_DIR/release/ghtap
fi

pages=$out/pages
cat >"$pages/index.html" <<'EOF'
<!DOCTYPE html>
<html><head><title>GigaHttpd</title></head>
<body><p>Served by gh_net over a TAP device.</p></body></html>
EOF
# ~100 KB holding every byte value, so a mangled byte anywhere shows.
python3 -c 'import sys; sys.stdout.buffer.write(bytes(range(256)) * 400)' >"$pages/bytes.bin"
# 3 MB: many windows' worth, so flow control and retransmission matter.
head -c 3145728 /dev/urandom >"$pages/big.bin"
page_args=(
    --page "/=$pages/index.html:text/html"
    --page "/index.html=$pages/index.html:text/html"
    --page "/bytes.bin=$pages/bytes.bin:application/octet-stream"
    --page "/big.bin=$pages/big.bin:application/octet-stream"
)
declare -A page_file=(
    [/]=index.html [/index.html]=index.html [/bytes.bin]=bytes.bin [/big.bin]=big.bin
)

# ---- namespace, TAP, server ------------------------------------------------------------
ip netns add "$ns" || { result 1 "network namespace $ns"; finish; }
nsx ip link set lo up
# No IPv6 chatter (router solicitations, MLD) on the wire: the engine speaks IPv4 only.
nsx sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
# Room for 10,000 client ports at once plus those in TIME-WAIT from ab.
nsx sysctl -qw net.ipv4.ip_local_port_range="10000 65000"
nsx ip tuntap add dev "$tap" mode tap &&
    nsx ip link set "$tap" txqueuelen 20000 &&
    nsx ip addr add "$client/24" dev "$tap" &&
    nsx ip link set "$tap" up
result $? "TAP $tap with $client/24 in namespace $ns"

# Background processes are started by `ip netns exec` directly (not through a shell
# function), so that $! is the process itself once `ip` has exec'd it and signals reach it.
if [ -n "$pcap" ]; then
    ip netns exec "$ns" tcpdump -i "$tap" -s 256 -U -Z root -w "$pcap" 2>"$out/tcpdump.log" &
    tcpdump_pid=$!
    sleep 1
fi

start_ghtap() { # start_ghtap SLOTS [ARGS...]: serves the pages, its report in $out/ghtap.out
    local slots=$1
    shift
    : >"$out/ghtap.out"
    ip netns exec "$ns" "$bin" --tap "$tap" --mac "$mac" --ip "$server" --port "$port" \
        --slots "$slots" --tasks "$tasks" "$@" "${page_args[@]}" >"$out/ghtap.out" \
        2>"$out/ghtap.err" &
    ghtap_pid=$!
    for _ in $(seq 50); do
        grep -q '^ghtap: serving' "$out/ghtap.err" && break
        kill -0 "$ghtap_pid" 2>/dev/null || break
        sleep 0.1
    done
    grep -q '^ghtap: serving' "$out/ghtap.err"
    result $? "ghtap serves $server:$port with $slots slots and $tasks tasks $*" \
        "$(cat "$out/ghtap.err")"
    kill -0 "$ghtap_pid" 2>/dev/null || finish
}
stop_ghtap() { # stop_ghtap: SIGTERM, then checks that it printed its report and exited 0
    local rc=""
    kill -TERM "$ghtap_pid"
    for _ in $(seq 50); do
        kill -0 "$ghtap_pid" 2>/dev/null || { wait "$ghtap_pid"; rc=$?; break; }
        sleep 0.1
    done
    [ -n "$rc" ] || stop "$ghtap_pid" KILL
    ghtap_pid=""
    [ "$rc" = 0 ]
    result $? "ghtap exits 0 on SIGTERM (exit ${rc:-none within 5 s})" "$(tail -5 "$out/ghtap.err")"
}
counter() { awk -v k="$1" '$1 == k {v = $2} END {print v}' "$out/ghtap.out"; }
start_ghtap "$slots"

# ---- link and network layer -----------------------------------------------------------
o=$(timeout 20 ip netns exec "$ns" ping -c 3 -i 0.2 -W 2 "$server" 2>&1)
echo "$o" | grep -q ' 3 received'
result $? "ping $server: 3 of 3 echo requests answered" "$o"
o=$(nsx ip neigh show "$server" dev "$tap")
echo "$o" | grep -qE "lladdr $mac (REACHABLE|STALE|DELAY|PROBE)"
result $? "ARP: $server resolves to $mac ($o)" "$o"

# ---- curl ------------------------------------------------------------------------------
tmp=$out/tmp
url=http://$server:$port
curl_() { timeout 60 ip netns exec "$ns" curl -sS --max-time 40 "$@"; }
header_of() { sed -n "s/^$1: *//Ip" "$2" | tr -d '\r' | head -1; }

for path in / /index.html /bytes.bin /big.bin; do
    f=$pages/${page_file[$path]}
    rm -f "$tmp/body" "$tmp/head"
    code=$(curl_ -o "$tmp/body" -D "$tmp/head" -w '%{http_code}' "$url$path" 2>"$tmp/err")
    [ "$code" = 200 ] && cmp -s "$tmp/body" "$f" &&
        [ "$(header_of Content-Length "$tmp/head")" = "$(stat -c %s "$f")" ]
    result $? "curl GET $path: 200 and the file's $(stat -c %s "$f") bytes" \
        "code $code; $(cat "$tmp/err"; cmp "$tmp/body" "$f" 2>&1; cat "$tmp/head")"
done

# curl reads no body after HEAD or 304 whatever comes: that none is sent is checked over
# raw sockets (clients.py's http and pipeline groups).
code=$(curl_ -I -o "$tmp/head" -w '%{http_code}' "$url/bytes.bin" 2>"$tmp/err")
[ "$code" = 200 ] && [ "$(header_of Content-Length "$tmp/head")" = 102400 ] &&
    [ "$(header_of Content-Type "$tmp/head")" = application/octet-stream ]
result $? "curl HEAD /bytes.bin: 200, Content-Length 102400" \
    "$code; $(cat "$tmp/err" "$tmp/head")"

curl_ -o /dev/null -D "$tmp/head" "$url/bytes.bin" 2>"$tmp/err"
etag=$(header_of ETag "$tmp/head")
[[ "$etag" =~ ^\"[0-9a-f]{16}\"$ ]]
result $? "curl GET /bytes.bin carries an ETag ($etag)" "$(cat "$tmp/err" "$tmp/head")"
code=$(curl_ -o "$tmp/body" -D "$tmp/head" -H "If-None-Match: $etag" \
    -w '%{http_code}' "$url/bytes.bin" 2>"$tmp/err")
[ "$code" = 304 ] && [ "$(header_of ETag "$tmp/head")" = "$etag" ]
result $? "curl If-None-Match: $etag: 304, same ETag" \
    "$code; $(cat "$tmp/err" "$tmp/head")"

code=$(curl_ -o "$tmp/body" -w '%{http_code}' "$url/no/such/page" 2>"$tmp/err")
[ "$code" = 404 ] && [ "$(cat "$tmp/body")" = "404 Not Found" ] &&
    [ "$(stat -c %s "$tmp/body")" = 14 ]
result $? "curl GET unknown path: 404 with body \"404 Not Found\\n\"" \
    "$code; $(cat "$tmp/err" "$tmp/body")"

rm -f "$tmp"/ka*
o=$(curl_ -w '%{http_code} %{num_connects}\n' -o "$tmp/ka1" "$url/" -o "$tmp/ka2" "$url/bytes.bin" \
    -o "$tmp/ka3" "$url/big.bin" -o "$tmp/ka4" "$url/index.html" 2>"$tmp/err")
[ "$(echo $o)" = "200 1 200 0 200 0 200 0" ] && cmp -s "$tmp/ka1" "$pages/index.html" &&
    cmp -s "$tmp/ka2" "$pages/bytes.bin" && cmp -s "$tmp/ka3" "$pages/big.bin" &&
    cmp -s "$tmp/ka4" "$pages/index.html"
result $? "curl: 4 URLs over one keep-alive connection (one connect), every body intact" \
    "status and connects: $(echo $o); $(cat "$tmp/err")"

want=$(python3 "$clients" fnv "$pages/bytes.bin")
o=$(curl_ -H 'Expect:' --data-binary "@$pages/bytes.bin" "$url/echo" 2>&1)
[ "$o" = "$want" ]
result $? "curl POST /echo 100 KB: \"$want\"" "got: $o"
o=$(curl_ -H 'Expect:' -H 'Transfer-Encoding: chunked' --data-binary "@$pages/bytes.bin" \
    "$url/echo" 2>&1)
[ "$o" = "$want" ]
result $? "curl POST /echo 100 KB in the chunked transfer coding: \"$want\"" "got: $o"
# curl waits for the 100 (Continue) before it sends the body (30 s at most here).
o=$(curl_ -v --expect100-timeout 30 --data-binary "@$pages/index.html" \
    -H 'Expect: 100-continue' "$url/echo" 2>"$tmp/err")
want=$(python3 "$clients" fnv "$pages/index.html")
[ "$o" = "$want" ] && grep -q '^< HTTP/1.1 100 Continue' "$tmp/err"
result $? "curl POST /echo with Expect: 100-continue: a 100 (Continue), then the answer" \
    "got: $o, want $want; $(grep '^[<>]' "$tmp/err")"

code=$(curl_ --http1.0 -o "$tmp/body" -D "$tmp/head" -w '%{http_code}' "$url/bytes.bin" \
    2>"$tmp/err")
[ "$code" = 200 ] && cmp -s "$tmp/body" "$pages/bytes.bin" &&
    [ "$(header_of Connection "$tmp/head")" = close ]
result $? "curl --http1.0 GET /bytes.bin: 200, intact, Connection: close" \
    "$code; $(cat "$tmp/err" "$tmp/head")"

# ---- a narrower path (path MTU discovery) -----------------------------------------------
# A client in a second namespace, behind a Linux router (this namespace) whose link to it
# takes 1,200-byte packets: the client's SYN offers a 1,460-byte MSS, so the engine's
# first full segments (sent with Don't Fragment) are too big for that link, and the
# router answers them with "fragmentation needed" (RFC 1191). The transfer completes
# only if the engine shrinks its segments.
far_ns=$ns-far
far=10.78.0.2
ip netns add "$far_ns" &&
    ip link add ghv0 netns "$ns" type veth peer name ghv1 netns "$far_ns" &&
    nsx ip addr add 10.78.0.1/24 dev ghv0 && nsx ip link set ghv0 mtu 1200 up &&
    ip netns exec "$far_ns" ip link set lo up &&
    ip netns exec "$far_ns" ip addr add "$far/24" dev ghv1 &&
    ip netns exec "$far_ns" ip link set ghv1 up &&
    ip netns exec "$far_ns" ip route add default via 10.78.0.1 &&
    nsx sysctl -qw net.ipv4.ip_forward=1 "net.ipv4.conf.$tap.proxy_arp=1"
result $? "a client $far behind a router with a 1,200-byte link (namespace $far_ns)"
mtu_before=$(kill -USR1 "$ghtap_pid"; sleep 0.5; counter tcp_path_mtu_reductions)
rm -f "$tmp/body"
code=$(timeout 60 ip netns exec "$far_ns" curl -sS --max-time 40 -o "$tmp/body" \
    -w '%{http_code}' "$url/big.bin" 2>"$tmp/err")
mtu_after=$(kill -USR1 "$ghtap_pid"; sleep 0.5; counter tcp_path_mtu_reductions)
[ "$code" = 200 ] && cmp -s "$tmp/body" "$pages/big.bin" &&
    [ "${mtu_after:-0}" -gt "${mtu_before:-0}" ]
result $? "curl GET /big.bin across the narrower link: 200, intact, the segments shrunk\
 (tcp_path_mtu_reductions $mtu_before -> $mtu_after)" \
    "code $code; $(cat "$tmp/err"; cmp "$tmp/body" "$pages/big.bin" 2>&1)"
ip netns del "$far_ns"

# ---- Python clients --------------------------------------------------------------------
py_group() { # py_group SECONDS GROUP [ARGS...]
    local secs=$1 group=$2 rc line
    shift 2
    timeout "$secs" ip netns exec "$ns" python3 "$clients" --host "$server" --port "$port" \
        "${page_args[@]}" "$@" "$group" >"$out/clients-$group.log" 2>&1
    rc=$?
    while IFS= read -r line; do
        case $line in
            "ok - "*) result 0 "${line#ok - }" ;;
            "not ok - "*" # "*) line=${line#not ok - }; result 1 "${line%% # *}" "${line#* # }" ;;
            "not ok - "*) result 1 "${line#not ok - }" ;;
        esac
    done <"$out/clients-$group.log"
    if [ $rc = 124 ]; then
        result 1 "clients.py $group finished within $secs s"
    elif [ $rc != 0 ] && ! grep -q '^not ok' "$out/clients-$group.log"; then
        result 1 "clients.py $group exited $rc" "$(tail -5 "$out/clients-$group.log")"
    fi
}
py_group 120 http
py_group 120 pipeline
py_group 120 malformed
py_group 60 tasks --tasks "$tasks"

# ---- ab --------------------------------------------------------------------------------
# ab judges a response by its status and its length alone (against the first one's), so
# the bodies' sizes are checked against the page's file: every request's body, whole.
ab_run() { # ab_run DESCRIPTION REQUESTS KEEPALIVE_EXPECTED PATH ARGS...
    local desc=$1 total=$2 ka=$3 path=$4 log=$out/ab-$n.log rc complete fails non2xx kareq rate
    local size doclen body
    shift 4
    size=$(stat -c %s "$pages/${page_file[$path]}")
    timeout 120 ip netns exec "$ns" ab -s 30 "$@" "$url$path" >"$log" 2>&1
    rc=$?
    complete=$(sed -n 's/^Complete requests: *//p' "$log")
    fails=$(sed -n 's/^Failed requests: *//p' "$log")
    non2xx=$(sed -n 's/^Non-2xx responses: *//p' "$log")
    kareq=$(sed -n 's/^Keep-Alive requests: *//p' "$log")
    doclen=$(sed -n 's/^Document Length: *\([0-9]*\) bytes.*/\1/p' "$log")
    body=$(sed -n 's/^HTML transferred: *\([0-9]*\) bytes.*/\1/p' "$log")
    rate=$(sed -n 's/^Requests per second: *\([0-9.]*\).*/\1/p' "$log")
    [ $rc = 0 ] && [ "$complete" = "$total" ] && [ "$fails" = 0 ] && [ "${non2xx:-0}" = 0 ] &&
        [ "${kareq:-0}" = "$ka" ] && [ "$doclen" = "$size" ] && [ "$body" = $((total * size)) ]
    result $? "ab $desc: ${complete:-?} complete, ${fails:-?} failed, ${non2xx:-0} non-2xx,\
 ${kareq:-0} keep-alive, ${body:-?} body bytes for $total x $size (${rate:-?} requests/s)" \
        "exit $rc; $(grep -E 'Failed|Non-2xx|Length|transferred|Exceptions|Keep-Alive|apr_|Time taken' "$log")"
}
ab_run "-k -n 5000 -c 50 /" 5000 5000 / -k -n 5000 -c 50
ab_run "-k -n 500 -c 10 /bytes.bin" 500 500 /bytes.bin -k -n 500 -c 10
ab_run "-n 2000 -c 20 / (no keep-alive)" 2000 0 / -n 2000 -c 20

# ---- many connections at once ----------------------------------------------------------
py_group 150 concurrent --connections "$concurrent" --deadline 120

# ---- the engine afterwards -------------------------------------------------------------
# Every client has closed; after TIME-WAIT (1 s in the engine) no slot may stay in use.
all_closed() { # all_closed RUN: no connection and no task left in the running ghtap
    local in_use="" tasks_used
    for _ in $(seq 30); do
        kill -USR1 "$ghtap_pid" 2>/dev/null
        sleep 0.5
        in_use=$(awk '/^connections_in_use/ {v = $2} END {print v}' "$out/ghtap.out")
        [ "$in_use" = 0 ] && break
    done
    [ "$in_use" = 0 ]
    result $? "$1: all connections closed within 15 s of the last client (in use: $in_use)"
    tasks_used=$(awk '/^tasks_in_use/ {v = $2} END {print v}' "$out/ghtap.out")
    [ "$tasks_used" = 0 ]
    result $? "$1: every /echo task back in its pool (in use: $tasks_used)"
}
all_closed "main run"

stop_ghtap
peak=$(counter peak_connections)
[ "${peak:-0}" -ge "$concurrent" ]
result $? "the engine held $concurrent connections at once (peak $peak)"
no_wire_errors() { # no_wire_errors RUN: the report of a ghtap run counts no bad frame
    local bad="" c
    for c in drop_ipv4_checksum drop_tcp_checksum drop_tcp_malformed drop_ipv4_malformed \
        tap_tx_errors; do
        [ "$(counter $c)" = 0 ] || bad="$bad $c=$(counter $c)"
    done
    [ -z "$bad" ]
    result $? "$1: no checksum, malformed-frame or TAP write errors" "$bad"
}
no_wire_errors "main run"
cp "$out/ghtap.out" "$out/ghtap-main.out"

# ---- a pool full of TIME-WAIT ------------------------------------------------------------
# With 64 slots, short connections fill the pool with TIME-WAIT (1 s) at once; each new
# one takes the slot of the TIME-WAIT that ends first, so none waits for a slot.
small=64
start_ghtap "$small"
ab_run "-n 1000 -c 4 / with $small slots (no keep-alive)" 1000 0 / -n 1000 -c 4
all_closed "$small slots"
stop_ghtap
no_wire_errors "$small slots"
recycled=$(counter tcp_time_wait_recycled) parked=$(counter qos_parked_pool)
[ "${recycled:-0}" -gt 0 ] && [ "${parked:-1}" = 0 ]
result $? "a full pool recycled TIME-WAIT slots ($recycled) and no connection waited for a slot\
 (qos_parked_pool $parked)"

# ---- a lossy link ----------------------------------------------------------------------
# ghtap drops 2% of the frames each way: the engine's retransmissions (at the timeout,
# going back with the congestion window cut, Karn; or at once, after three duplicate ACKs
# or a partial ACK in fast recovery) and Linux's own still bring every byte over.
start_ghtap "$slots" --loss 2
fetches=()
for i in 1 2 3 4 5 6; do fetches+=(-o "$tmp/lossy$i" "$url/bytes.bin"); done
rm -f "$tmp"/lossy*
curl_ "${fetches[@]}" 2>"$tmp/err"
rc=$?
for i in 1 2 3 4 5 6; do cmp -s "$tmp/lossy$i" "$pages/bytes.bin" || rc=1; done
result $rc "lossy link: curl GET /bytes.bin six times over one connection, every body intact" \
    "$(cat "$tmp/err")"
want=$(python3 "$clients" fnv "$pages/bytes.bin")
o=$(curl_ -H 'Expect:' --data-binary "@$pages/bytes.bin" "$url/echo" 2>&1)
[ "$o" = "$want" ]
result $? "lossy link: curl POST /echo 100 KB: \"$want\"" "got: $o"
all_closed "lossy link"
stop_ghtap
lost=$(( $(counter lost_rx) + $(counter lost_tx) )) resent=$(counter tcp_retransmits)
fast=$(counter tcp_fast_retransmits)
[ "$lost" -gt 0 ] && [ $(( ${resent:-0} + ${fast:-0} )) -gt 0 ]
result $? "lossy link: $lost frames lost; the engine sent segments again $resent times at\
 the timeout and $fast times at once (duplicate or partial ACKs)"
finish
