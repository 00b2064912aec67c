#!/usr/bin/env bash
# The engine benchmark (Documentation/benchmark.md): instructions per complete short HTTP
# connection through gh_net's Server in memory, counted by callgrind, beside smoltcp
# doing the same exchange in the same harness (tools/netbench), and bytes per established
# connection for both.
#
# Usage: tools/bench.sh [N]   N measured connections per server (default 1000); a small
#                             N (e.g. 50) is a quick smoke run.
# Outputs stay in build/netbench/ (callgrind profiles, logs).
set -uo pipefail
source "$(dirname "$0")/env.sh"
cd "$GH_ROOT"

n=${1:-1000}
case "$n" in
    '' | *[!0-9]* | 0) echo "usage: tools/bench.sh [N]  (N > 0 connections)" >&2; exit 2 ;;
esac
command -v valgrind >/dev/null || { echo "bench: valgrind missing; run tools/setup.sh" >&2; exit 1; }

export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$GH_CACHE/netbench-target}
export CARGO_BUILD_JOBS=${CARGO_BUILD_JOBS:-1}
out=$GH_ROOT/build/netbench
mkdir -p "$out"

gh_log "bench: building tools/netbench (release, debug info)"
start=$SECONDS
cargo build --release --locked --quiet --manifest-path tools/netbench/Cargo.toml \
    >"$out/build.log" 2>&1 || { cat "$out/build.log" >&2; exit 1; }
gh_log "bench: built ($((SECONDS - start)) s)"
bin=$CARGO_TARGET_DIR/release/netbench

# Natively first: both servers complete every connection (the client panics otherwise).
"$bin" check "$n" >"$out/check.log" 2>&1 || {
    cat "$out/check.log" >&2
    echo "bench: a server failed the exchange" >&2
    exit 1
}
"$bin" sizes >"$out/sizes.log" 2>&1 || { cat "$out/sizes.log" >&2; exit 1; }

# Instructions counted by callgrind only while the function TOGGLE is on the stack, in
# a run of the harness with ARGS; the profile is kept as build/netbench/callgrind.NAME.out.
declare -A ir
count_ir() { # count_ir NAME TOGGLE ARGS...
    local name=$1 toggle=$2
    shift 2
    valgrind --tool=callgrind --collect-atstart=no --toggle-collect="$toggle*" \
        --callgrind-out-file="$out/callgrind.$name.out" "$bin" "$@" \
        >"$out/run.$name.log" 2>"$out/valgrind.$name.log" || {
        cat "$out/run.$name.log" "$out/valgrind.$name.log" >&2
        echo "bench: callgrind run of $name failed" >&2
        exit 1
    }
    ir[$name]=$(awk '/^totals:/ { print $2; exit }' "$out/callgrind.$name.out")
    [ -n "${ir[$name]}" ] || { echo "bench: no totals in $out/callgrind.$name.out" >&2; exit 1; }
}

# Each server's work for each delivered frame and each timer tick of the measured
# connections (netbench::server_side). `floor` is the frames alone: parsed, checked and
# answered with gh_net's wire routines and nothing else.
for s in gh smoltcp floor; do
    gh_log "bench: callgrind, $s, $n connections"
    count_ir "$s" netbench::server_side run "$s" "$n"
done
# The HTTP parser alone, the same request, counted apart; then httparse on it.
for p in parser httparse; do
    gh_log "bench: callgrind, $p alone, $n requests"
    count_ir "$p" "netbench::${p}_side" parse "$n"
done

bytes_gh=$(awk '$1 == "bytes" && $2 == "gh" { print $3 }' "$out/sizes.log")
bytes_smol=$(awk '$1 == "bytes" && $2 == "smoltcp" { print $3 }' "$out/sizes.log")
smol_version=$(awk '/^name = "smoltcp"/ { getline; gsub(/[^0-9.]/, ""); print }' tools/netbench/Cargo.lock)

echo
sed -n '1p' "$out/check.log"
grep -E '^(GigaHttpd|smoltcp):' "$out/check.log"
echo
awk -v n="$n" -v ig="${ir[gh]}" -v is="${ir[smoltcp]}" -v bg="$bytes_gh" -v bs="$bytes_smol" \
    -v sv="$smol_version" 'BEGIN {
    printf "%-24s %22s %26s\n", "", "instructions/connection", "bytes/established conn."
    printf "%-24s %22.0f %26d\n", "GigaHttpd (gh_net)", ig / n, bg
    printf "%-24s %22.0f %26d\n", "smoltcp " sv, is / n, bs
    printf "%-24s %21.2fx %25.2fx\n", "smoltcp / GigaHttpd", is / ig, bs / bg
    printf "targets: GigaHttpd <= 1500 instructions/connection (%s), >= 3x fewer than smoltcp (%s)\n",
        (ig / n <= 1500 ? "met" : "not met"), (is / ig >= 3 ? "met" : "not met")
}'
grep -E '^  smoltcp with buffers cut' "$out/sizes.log" | sed 's/^  /bytes: /'
httparse_version=$(awk '/^name = "httparse"/ { getline; gsub(/[^0-9.]/, ""); print }' tools/netbench/Cargo.lock)
awk -v n="$n" -v ip="${ir[parser]}" -v ih="${ir[httparse]}" -v hv="$httparse_version" \
    -v fl="${ir[floor]}" 'BEGIN {
    printf "GigaHttpd'"'"'s HTTP parser alone, measured apart (Parser::feed_routing, this request): %.0f\n", ip / n
    printf "httparse %s (no SIMD, as in a kernel packet path), the same request: %.0f\n", hv, ih / n
    printf "the frames alone (parsed, checked and answered with gh_net'"'"'s wire routines; no state, timers or HTTP): %.0f\n", fl / n
    printf "the frames alone and the HTTP parser: %.0f\n", (fl + ip) / n
}'

# Where GigaHttpd's instructions go. callgrind_annotate lists a function once per source
# file its inlined code came from: self costs are summed over those entries, and a
# function's inclusive cost is its largest entry (the others are parts of it).
profile() { # profile FILE INCLUSIVE(yes|no)
    callgrind_annotate --inclusive="$2" --threshold=100 --auto=no "$1" 2>/dev/null |
        awk -v n="$n" -v incl="$2" '
        /file:function/ { on = 1; next }
        on && /^ *[0-9,]+ +\(/ {
            ir = $1; gsub(",", "", ir); ir += 0
            f = $0; sub(/^ *[0-9,]+ +\( *[0-9.]+%\) +/, "", f)
            sub(/ \[[^]]*\]$/, "", f); sub(/^[^:]*:/, "", f)
            if (incl == "yes") { if (ir > cost[f]) cost[f] = ir } else cost[f] += ir
        }
        END { for (f in cost) printf "%10.0f  %s\n", cost[f] / n, f }' |
        sort -rn
}
echo
echo "instructions per connection by what the server was handed (including callees):"
for s in gh smoltcp floor; do
    profile "$out/callgrind.$s.out" yes >"$out/parts.$s"
done
awk '
    FNR == 1 { file++ }
    $2 ~ /^netbench::(syn|handshake_ack|request|fin|timers)$/ {
        k = $2; sub(/^netbench::/, "", k); cost[file, k] = $1
    }
    END {
        printf "%-24s %10s %10s %10s %13s\n", "", "GigaHttpd", "smoltcp", "smoltcp/GH", "frames alone"
        split("syn handshake_ack request fin timers", ks, " ")
        for (i = 1; i <= 5; i++) {
            k = ks[i]; g = cost[1, k] + 0; m = cost[2, k] + 0; f = cost[3, k] + 0
            printf "%-24s %10d %10d %10s %13d\n", k, g, m, (g > 0 && m > 0 ? sprintf("%.2fx", m / g) : "-"), f
        }
    }' "$out/parts.gh" "$out/parts.smoltcp" "$out/parts.floor"
echo
echo "GigaHttpd, instructions per connection, top functions (self):"
profile "$out/callgrind.gh.out" no | head -n 15
echo "GigaHttpd, instructions per connection, parts (including callees):"
profile "$out/callgrind.gh.out" yes | grep -E '  (netbench::gh::(receive|tick)|gh_net::engine::Network::send_tcp(_with)?|gh_net::wire::frame::[a-z_:]*|gh_net::tcp::listener::Listener::(on_connection|output)|.*Site as gh_net::tcp::listener::App>::on_data|.*Site as gh_net::tcp::Source>::fill|gh_net::wire::tcp::Repr::parse|gh_net::tcp::pool::Pool::find|gh_net::tcp::siphash::hash|gh_net::http::date::format)$'
echo "(profiles: $out/callgrind.{gh,smoltcp,floor,parser,httparse}.out; callgrind_annotate FILE)"
