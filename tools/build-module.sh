#!/usr/bin/env bash
# Builds gigahttpd.ko against a kernel build tree: KDIR, or by default the guest kernel
# (built first if it is not cached). Usage: tools/build-module.sh [KDIR]
set -euo pipefail
source "$(dirname "$0")/env.sh"

kdir=${1:-${KDIR:-}}
if [ -z "$kdir" ]; then
    kdir=$("$GH_ROOT/tools/vm/build-kernel.sh")
fi
start=$SECONDS
make -s -C "$kdir" M="$GH_ROOT" "${GH_KMAKE_VARS[@]}" -j"$(nproc)" modules
gh_log "module: $GH_ROOT/gigahttpd.ko built against $kdir ($((SECONDS - start)) s)"
