#!/usr/bin/env bash
# Runs GigaHttpd's coverage-guided fuzz targets, each for a bounded time, one after the
# other, one libFuzzer job each: gh_net's `frame`, `tcp` and `http` (gh_net/fuzz) and
# gh_store's `disk` (gh_store/fuzz). Prints one line per target,
#   PASS: fuzz NAME (RUNS runs)
#   FAIL: fuzz NAME: CRASH-INPUT-PATH (or the log to read)
# and exits non-zero if any failed.
#
# Usage: tools/fuzz.sh [SECONDS_PER_TARGET]    (default 20)
#
# cargo-fuzz (installed by tools/setup.sh) runs on rustup's stable toolchain: with
# `--sanitizer none` it passes only stable codegen flags (SanitizerCoverage through
# `-Cpasses=sancov-module` and `-Cllvm-args`), so no nightly compiler is needed. The engine
# crates contain no `unsafe`, so AddressSanitizer would only slow the runs; overflow checks
# and debug assertions stay on. GH_FUZZ_SANITIZER=address builds with it all the same:
# `-Zsanitizer` is unstable, so that build sets RUSTC_BOOTSTRAP=1, and the runtime comes
# with the stable toolchain. Build output, the growing corpora and libFuzzer's logs live
# under GH_CACHE; the committed seeds (corpus/NAME/seed-*, from each fuzz crate's
# `cargo run --example seeds`) are read, never written. A crash input stays in the fuzz
# crate's artifacts/NAME/ (git-ignored) for `cargo fuzz run ... NAME PATH` to replay.
set -uo pipefail
source "$(dirname "$0")/env.sh"

seconds=${1:-20}
case $seconds in
    '' | *[!0-9]* | 0)
        echo "usage: tools/fuzz.sh [SECONDS_PER_TARGET]" >&2
        exit 2
        ;;
esac

# The machine is shared: one compiler job, one fuzzing process.
export CARGO_BUILD_JOBS=1
sanitizer=${GH_FUZZ_SANITIZER:-none}
[ "$sanitizer" = none ] || export RUSTC_BOOTSTRAP=1
target_dir=$GH_CACHE/fuzz-target
work=$GH_CACHE/fuzz-work
mkdir -p "$work"

# crate:target, in the order they run.
targets=(gh_net:frame gh_net:tcp gh_net:http gh_store:disk)

failed=0
fail() { # fail NAME WHY
    echo "FAIL: fuzz $1: $2"
    failed=$((failed + 1))
}

if ! [ -x "$GH_CARGO_FUZZ" ]; then
    for t in "${targets[@]}"; do
        fail "${t#*:}" "cargo-fuzz $GH_CARGO_FUZZ_VERSION is not installed (run tools/setup.sh)"
    done
    exit 1
fi
PATH=$(dirname "$GH_CARGO_FUZZ"):$PATH
gh_log "fuzz: $(rustc --version), cargo-fuzz $GH_CARGO_FUZZ_VERSION," \
    "sanitizer $sanitizer, $seconds s per target"

start=$SECONDS
declare -A built
for crate in gh_net gh_store; do
    t=$SECONDS
    log=$work/$crate-build.log
    if (cd "$work" && cargo fuzz build --fuzz-dir "$GH_ROOT/$crate/fuzz" \
        --sanitizer "$sanitizer" --target-dir "$target_dir") >"$log" 2>&1; then
        built[$crate]=1
        gh_log "fuzz: $crate/fuzz built ($((SECONDS - t)) s)"
    else
        tail -20 "$log" >&2
    fi
done

for t in "${targets[@]}"; do
    crate=${t%%:*} name=${t#*:}
    fuzz_dir=$GH_ROOT/$crate/fuzz
    if [ -z "${built[$crate]:-}" ]; then
        fail "$name" "$crate/fuzz does not build, see $work/$crate-build.log"
        continue
    fi
    # libFuzzer's job mode writes fuzz-0.log into the current directory: keep it here.
    run=$work/run-$name
    mkdir -p "$run" "$work/corpus/$name"
    rm -f "$run"/fuzz-*.log
    log=$work/$name.log
    (cd "$run" && cargo fuzz run --fuzz-dir "$fuzz_dir" --sanitizer "$sanitizer" \
        --target-dir "$target_dir" "$name" "$work/corpus/$name" "$fuzz_dir/corpus/$name" -- \
        -max_total_time="$seconds" -jobs=1 -timeout=10 -print_final_stats=1) >"$log" 2>&1
    rc=$?
    runs=$(sed -n 's/^stat::number_of_executed_units: *\([0-9]*\).*/\1/p' "$log" | tail -1)
    if [ $rc = 0 ] && [ "${runs:-0}" -gt 0 ]; then
        echo "PASS: fuzz $name ($runs runs)"
        continue
    fi
    crash=$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$log" | tail -1)
    if [ -n "$crash" ]; then
        grep -m1 -A2 'panicked at' "$log" >&2
        fail "$name" "$crash"
    else
        tail -20 "$log" >&2
        fail "$name" "no result (exit $rc), see $log"
    fi
done

gh_log "fuzz: $((${#targets[@]} - failed)) of ${#targets[@]} targets passed" \
    "($((SECONDS - start)) s)"
[ "$failed" = 0 ]
