# Shared settings for GigaHttpd's build and test scripts. Source it; it only sets variables.
#
# Everything built from outside the repository (kernel source, guest kernel, bindgen,
# cargo-fuzz, the fuzzers' build output and corpora) lives under GH_CACHE, so a clean clone
# reuses it and nothing is written into the work tree except ignored build output.

GH_ROOT=${GH_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}
GH_CACHE=${GH_CACHE:-/var/cache/gigahttpd}

# Pinned toolchain: the kernel compiles `core` from RUST_LIB_SRC, so rustc and its library
# source must be the same Debian version. The rustup toolchain on PATH is not used for the
# kernel side.
GH_RUST_DEB_VERSION=1.85.0+dfsg3-1~deb12u3
GH_KERNEL_DEB_VERSION=6.12.117-1~deb12u1
GH_KERNEL_VERSION=6.12.117
GH_BINDGEN_VERSION=0.70.1
# cargo-fuzz drives the fuzz targets (tools/fuzz.sh) with rustup's stable toolchain.
GH_CARGO_FUZZ_VERSION=0.13.2

GH_RUSTC=/usr/bin/rustc
GH_RUST_LIB_SRC=/usr/lib/rustlib/src/rust/library
GH_BINDGEN=$GH_CACHE/bindgen-$GH_BINDGEN_VERSION/bin/bindgen
GH_CARGO_FUZZ=$GH_CACHE/cargo-fuzz-$GH_CARGO_FUZZ_VERSION/bin/cargo-fuzz
GH_KSRC=$GH_CACHE/linux-$GH_KERNEL_VERSION

# Variables every kernel-side make invocation gets.
GH_KMAKE_VARS=(LLVM=1 "RUSTC=$GH_RUSTC" "HOSTRUSTC=$GH_RUSTC" "RUST_LIB_SRC=$GH_RUST_LIB_SRC" "BINDGEN=$GH_BINDGEN")

gh_log() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

# The host workspace and bindgen's build use rustup's cargo; make sure it is on PATH even
# in a stripped environment.
if ! command -v cargo >/dev/null && [ -x "$HOME/.cargo/bin/cargo" ]; then
    PATH=$HOME/.cargo/bin:$PATH
fi
