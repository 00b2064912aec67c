#!/usr/bin/env bash
# The main job: installs and builds whatever is missing, then boots the GigaHttpd guest
# with gigahttpd.ko loaded and a shell on this terminal.
# GH_PORT chooses the host port forwarded to the data NIC (default 8080).
set -euo pipefail
source "$(dirname "$0")/env.sh"
cd "$GH_ROOT"
mkdir -p build

tools/setup.sh
kdir=$(tools/vm/build-kernel.sh)
tools/build-module.sh "$kdir"
tools/vm/build-initramfs.sh gigahttpd.ko build/initrd-run.gz
port=${GH_PORT:-8080}
port2=${GH_PORT2:-8081}
cat <<MSG

GigaHttpd guest: 4 vCPUs, gigahttpd.ko loaded, a shell on this console.
  status:   cat /proc/gigahttpd/status
  the site: open http://127.0.0.1:$port/ (virtio-net) or http://127.0.0.1:$port2/ (e1000)
            on this host: forwarded to the guest's data NICs (10.0.3.15:80), which
            GigaHttpd drives from its own cores (see cat /proc/gigahttpd/nics).
  leave:    poweroff -f in the guest, or Ctrl-A x
MSG
exec tools/vm/run --mode run --port "$port" --port2 "$port2" --kernel "$kdir/arch/x86/boot/bzImage" \
    --initrd build/initrd-run.gz
