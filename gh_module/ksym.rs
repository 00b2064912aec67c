// SPDX-License-Identifier: GPL-2.0

//! Addresses of kernel symbols that are not exported to modules.
//!
//! `kallsyms_lookup_name` itself is not exported; a kprobe registered on it reports its
//! address, and the probe is removed at once. Only symbols the CPU takeover needs are
//! looked up, and each use checks what it finds before trusting it.

use kernel::ffi::{c_char, c_ulong};
use kernel::prelude::*;

use crate::bindings;

type LookupFn = unsafe extern "C" fn(*const c_char) -> c_ulong;

/// The kernel's own symbol table.
pub(crate) struct Kallsyms {
    lookup: LookupFn,
}

impl Kallsyms {
    /// Finds `kallsyms_lookup_name` (needs CONFIG_KPROBES and CONFIG_KALLSYMS).
    pub(crate) fn new() -> Result<Self> {
        let mut probe = bindings::kprobe {
            symbol_name: kernel::c_str!("kallsyms_lookup_name").as_char_ptr(),
            ..Default::default()
        };
        // SAFETY: `probe` is a zeroed kprobe with only a symbol name set; it stays in place
        // until it is unregistered below.
        let rc = unsafe { bindings::register_kprobe(&mut probe) };
        if rc < 0 {
            pr_err!(
                "cannot find kallsyms_lookup_name: register_kprobe returned {}\n",
                rc
            );
            return Err(Error::from_errno(rc));
        }
        let addr = probe.addr as usize;
        // SAFETY: the probe was registered above and is unregistered exactly once.
        unsafe { bindings::unregister_kprobe(&mut probe) };
        // kprobes place the probe after an ENDBR instruction; the function starts before it.
        // SAFETY: `addr` is inside kernel text, which is mapped; the 4 bytes before a
        // function entry found by kprobes are kernel text or padding.
        let before = unsafe { core::ptr::read_unaligned((addr - 4) as *const u32) };
        let start = if before == ENDBR64 { addr - 4 } else { addr };
        // SAFETY: `start` is the entry of `kallsyms_lookup_name`, which has this signature.
        let lookup = unsafe { core::mem::transmute::<usize, LookupFn>(start) };
        Ok(Self { lookup })
    }

    /// The address of `name`, if the kernel has such a symbol.
    pub(crate) fn address(&self, name: &CStr) -> Option<usize> {
        // SAFETY: `name` is NUL-terminated; the lookup only reads the symbol table.
        let addr = unsafe { (self.lookup)(name.as_char_ptr()) };
        (addr != 0).then_some(addr as usize)
    }
}

/// `endbr64`, as it sits in memory.
const ENDBR64: u32 = 0xfa1e_0ff3;
