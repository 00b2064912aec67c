#!/usr/bin/env bash
# Builds the guest initramfs from busybox-static: /init, the module, the selftests.
# Usage: tools/vm/build-initramfs.sh MODULE.ko OUTPUT.cpio.gz
set -euo pipefail
source "$(dirname "$0")/../env.sh"

module=$1
output=$2
root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT

mkdir -p "$root"/{bin,sbin,proc,sys,dev,tmp,etc,root,selftests}
cp /bin/busybox "$root/bin/busybox"
for applet in $(/bin/busybox --list); do
    [ "$applet" = busybox ] || ln -s busybox "$root/bin/$applet"
done
install -m 0755 "$GH_ROOT/tools/vm/init" "$root/init"
install -m 0755 "$GH_ROOT/tools/ghctl/ghctl" "$root/bin/ghctl"
install -m 0644 "$module" "$root/gigahttpd.ko"
cp -r "$GH_ROOT/tools/testing/selftests/gigahttpd" "$root/selftests/"
echo "root:x:0:0:root:/root:/bin/sh" >"$root/etc/passwd"

(cd "$root" && find . -print0 | cpio --null -o -H newc --quiet) | gzip -1 >"$output"
gh_log "initramfs: $output ($(du -k "$output" | cut -f1) KiB)"
