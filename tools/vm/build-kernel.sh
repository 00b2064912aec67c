#!/usr/bin/env bash
# Builds the guest kernel out of tree into GH_CACHE/kernel/<key>, where the key hashes the
# kernel version, the rustc version, the config fragment and this script. A build whose key
# already has a finished tree is reused. Prints the build directory on stdout.
set -euo pipefail
source "$(dirname "$0")/../env.sh"

fragment=$GH_ROOT/tools/vm/guest.config
rustc_version=$("$GH_RUSTC" --version)
key=$( { echo "$GH_KERNEL_VERSION"; echo "$rustc_version"; cat "$fragment" "${BASH_SOURCE[0]}"; } |
    sha256sum | cut -c1-16)
out=$GH_CACHE/kernel/$GH_KERNEL_VERSION-$key

if [ -f "$out/.gh-built" ]; then
    gh_log "kernel: cached build $out"
    echo "$out"
    exit 0
fi

[ -f "$GH_KSRC/.gh-unpacked" ] || { echo "kernel source missing: run tools/setup.sh" >&2; exit 1; }
# Builds for other keys are removed: one guest kernel is ~400 MB.
rm -rf "$GH_CACHE/kernel"
mkdir -p "$out"
start=$SECONDS
kmake() { make -s -C "$GH_KSRC" O="$out" "${GH_KMAKE_VARS[@]}" "$@"; }

gh_log "kernel: configuring $out"
kmake tinyconfig >/dev/null
"$GH_KSRC/scripts/kconfig/merge_config.sh" -m -O "$out" "$out/.config" "$fragment" >/dev/null
kmake olddefconfig >/dev/null
missing=0
while IFS= read -r line; do
    case "$line" in CONFIG_*=*) ;; *) continue ;; esac
    grep -qx "$line" "$out/.config" || { echo "kernel: config lost $line" >&2; missing=1; }
done <"$fragment"
[ "$missing" = 0 ] || exit 1

gh_log "kernel: building bzImage and modules_prepare (about 10 minutes on 2 cores)"
kmake -j"$(nproc)" bzImage modules_prepare
# Module.symvers, needed by out-of-tree modules, is written by the modules step.
kmake -j"$(nproc)" modules
touch "$out/.gh-built"
gh_log "kernel: built in $((SECONDS - start)) s"
echo "$out"
