#!/usr/bin/env bash
# Installs everything GigaHttpd needs to build gigahttpd.ko and boot it in a QEMU guest:
# Debian packages (pinned Rust-for-Linux compiler and its library source, kernel source,
# clang/LLVM, QEMU, busybox, valgrind for tools/bench.sh, ab/ping/tcpdump for
# tools/ghtap/test.sh), bindgen and cargo-fuzz from crates.io, and the unpacked kernel
# source.
# Idempotent and non-interactive; writes nothing into the repository.
set -euo pipefail
source "$(dirname "$0")/env.sh"

start=$SECONDS
packages=(
    "rustc-web=$GH_RUST_DEB_VERSION" "rust-web-src=$GH_RUST_DEB_VERSION"
    "libstd-rust-web-dev=$GH_RUST_DEB_VERSION" "libstd-rust-web-1.85=$GH_RUST_DEB_VERSION"
    "linux-source-6.12=$GH_KERNEL_DEB_VERSION"
    clang lld llvm libclang-14-dev flex bison bc libelf-dev libssl-dev cpio xz-utils make
    busybox-static qemu-system-x86 curl python3 iproute2 kmod valgrind binutils
    apache2-utils iputils-ping tcpdump
)

installed() {
    local p name want
    for p in "${packages[@]}"; do
        name=${p%%=*}
        want=${p#*=}
        have=$(dpkg-query -W -f='${Status} ${Version}' "$name" 2>/dev/null || true)
        case "$have" in
            "install ok installed"*) ;;
            *) return 1 ;;
        esac
        if [ "$want" != "$p" ] && [ "${have##* }" != "$want" ]; then return 1; fi
    done
}

if ! installed; then
    gh_log "setup: installing Debian packages"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q >/dev/null
    apt-get install -y -q --no-install-recommends --allow-downgrades "${packages[@]}" >/dev/null
fi
gh_log "setup: packages ready ($((SECONDS - start)) s)"

mkdir -p "$GH_CACHE"
if ! [ -x "$GH_BINDGEN" ]; then
    gh_log "setup: installing bindgen-cli $GH_BINDGEN_VERSION"
    t=$SECONDS
    cargo install --locked --quiet bindgen-cli --version "$GH_BINDGEN_VERSION" \
        --root "$GH_CACHE/bindgen-$GH_BINDGEN_VERSION"
    gh_log "setup: bindgen built ($((SECONDS - t)) s)"
fi

if ! [ -x "$GH_CARGO_FUZZ" ]; then
    gh_log "setup: installing cargo-fuzz $GH_CARGO_FUZZ_VERSION"
    t=$SECONDS
    cargo install --locked --quiet cargo-fuzz --version "$GH_CARGO_FUZZ_VERSION" \
        --root "$GH_CACHE/cargo-fuzz-$GH_CARGO_FUZZ_VERSION"
    gh_log "setup: cargo-fuzz built ($((SECONDS - t)) s)"
fi

if ! [ -f "$GH_KSRC/.gh-unpacked" ]; then
    gh_log "setup: unpacking kernel source $GH_KERNEL_VERSION"
    rm -rf "$GH_KSRC" "$GH_KSRC.tmp"
    mkdir -p "$GH_KSRC.tmp"
    tar -C "$GH_KSRC.tmp" --strip-components=1 -xf /usr/src/linux-source-6.12.tar.xz
    touch "$GH_KSRC.tmp/.gh-unpacked"
    mv "$GH_KSRC.tmp" "$GH_KSRC"
fi

out=$(make -s -C "$GH_KSRC" "${GH_KMAKE_VARS[@]}" rustavailable 2>&1) || {
    echo "$out" >&2
    echo "setup: the kernel does not accept this Rust toolchain" >&2
    exit 1
}
gh_log "setup: $out (total $((SECONDS - start)) s)"
