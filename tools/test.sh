#!/usr/bin/env bash
# GigaHttpd's whole test suite: host checks of the engine crates (rustfmt, clippy,
# cargo test), the kernel module build, and the selftests in a QEMU guest. Installs and
# builds whatever is missing first. Ends with one line "N passed, N failed".
set -uo pipefail
source "$(dirname "$0")/env.sh"
cd "$GH_ROOT"
mkdir -p build

passed=0 failed=0
count() { # count NAME STATUS
    if [ "$2" = 0 ]; then
        passed=$((passed + 1)); echo "PASS: $1"
    else
        failed=$((failed + 1)); echo "FAIL: $1"
    fi
}
finish() {
    echo "timings: $timings"
    echo "$passed passed, $failed failed"
    [ "$failed" = 0 ]
    exit
}
free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
# Adds a tool's own verdict lines to the tally: tally LOG RC PASS_PREFIX FAIL_PREFIX NAME.
# A tool that failed without a failing line still counts one failure.
tally() {
    grep -E "^($3|$4) " "$1"
    p=$(grep -c "^$3 " "$1") f=$(grep -c "^$4 " "$1")
    passed=$((passed + p)) failed=$((failed + f))
    [ "$2" = 0 ] || [ "$f" != 0 ] || { tail -20 "$1"; count "$5 run to completion" 1; }
}
timings=""
phase() { timings="$timings $1=$(($SECONDS - phase_start))s"; phase_start=$SECONDS; }
phase_start=$SECONDS

gh_log "test: setup"
tools/setup.sh || { count "setup" 1; finish; }
phase setup

gh_log "test: guest kernel"
kdir=$(tools/vm/build-kernel.sh) || { count "guest kernel builds" 1; finish; }
phase kernel

gh_log "test: host workspace"
cargo fmt --all -- --check >build/fmt.log 2>&1
rc=$?; [ $rc = 0 ] || cat build/fmt.log
count "cargo fmt --check" $rc
rustfmt --check --config-path "$GH_KSRC/.rustfmt.toml" $(git ls-files 'gh_module/*.rs') >build/rustfmt-module.log 2>&1
rc=$?; [ $rc = 0 ] || cat build/rustfmt-module.log
count "rustfmt --check gh_module (kernel style)" $rc
cargo clippy --workspace --all-targets -- -D warnings >build/clippy.log 2>&1
rc=$?; [ $rc = 0 ] || cat build/clippy.log
count "cargo clippy -D warnings" $rc
cargo test --workspace --no-fail-fast >build/cargo-test.log 2>&1
rc=$?
grep -E '^test .* FAILED$|panicked' build/cargo-test.log
read -r p f < <(sed -n 's/^test result: [a-zA-Z]*\. \([0-9]*\) passed; \([0-9]*\) failed.*/\1 \2/p' \
    build/cargo-test.log | awk '{p += $1; f += $2} END {print p + 0, f + 0}')
echo "cargo test: $p passed, $f failed (exit $rc)"
passed=$((passed + p)) failed=$((failed + f))
[ $rc = 0 ] || [ "$f" != 0 ] || count "cargo test runs to completion" 1
phase host

# Coverage-guided fuzzing of the frame, TCP and HTTP inputs and the disk reader, each for a
# bounded time (GH_FUZZ_SECONDS per target; longer runs: tools/fuzz.sh SECONDS).
gh_log "test: fuzz"
tools/fuzz.sh "${GH_FUZZ_SECONDS:-20}" >build/fuzz.log 2>&1
tally build/fuzz.log $? 'PASS:' 'FAIL:' "fuzzers"
phase fuzz

# The engine against Linux's own clients on a TAP device in a network namespace.
gh_log "test: wire harness"
tools/ghtap/test.sh >build/ghtap.log 2>&1
tally build/ghtap.log $? 'ok' 'not ok' "wire harness"
phase ghtap

# The benchmark's harness checks every connection of both servers; its figures are printed,
# never judged here (full run: tools/bench.sh).
gh_log "test: benchmark smoke run"
tools/bench.sh 100 >build/bench.log 2>&1
rc=$?
sed -n '/instructions\/connection/,/^bytes:/p' build/bench.log
count "benchmark harness: both servers complete every connection" $rc
phase bench

gh_log "test: module"
tools/build-module.sh "$kdir" >build/module.log 2>&1
rc=$?
grep -qiE 'warning|error' build/module.log && rc=1
[ $rc = 0 ] || cat build/module.log
count "gigahttpd.ko builds without warnings" $rc
[ -f gigahttpd.ko ] || finish
# What a core can run, followed from its entry through the module and into the kernel
# image: no panic (it would run Linux's panic path on a CPU Linux no longer runs), and of
# Linux only leaf copies and thunks.
tools/check-no-panic.py gigahttpd.o "$kdir/vmlinux" >build/check-no-panic.log 2>&1
rc=$?
cat build/check-no-panic.log
count "a core's code reaches no panic and no Linux function" $rc
phase module

gh_log "test: guest selftests"
tools/vm/build-initramfs.sh gigahttpd.ko build/initrd-test.gz || { count "initramfs builds" 1; finish; }
tools/vm/run --mode test --kernel "$kdir/arch/x86/boot/bzImage" --initrd build/initrd-test.gz \
    --port "$(free_port)" --port2 "$(free_port)" --timeout 1500 --log build/vm-test.log >build/vm-ktap.log
vm_rc=$?
cat build/vm-ktap.log
p=$(grep -c '^ok ' build/vm-ktap.log) f=$(grep -c '^not ok ' build/vm-ktap.log)
passed=$((passed + p)) failed=$((failed + f))
[ $vm_rc = 0 ] || [ "$f" != 0 ] || count "guest selftests run to completion (see build/vm-test.log)" 1
phase vm
finish
