// SPDX-License-Identifier: GPL-2.0

//! Module-local bindings for kernel headers that `kernel::bindings` does not cover
//! (procfs, seq_file, module parameters, the CPU masks), generated at build time by
//! Kbuild with the kernel's bindgen and C flags.

#![allow(
    non_camel_case_types,
    non_upper_case_globals,
    non_snake_case,
    dead_code,
    unsafe_op_in_unsafe_fn,
    improper_ctypes,
    missing_docs,
    unreachable_pub,
    clippy::all,
    clippy::undocumented_unsafe_blocks
)]

include!("bindings_generated.rs");
