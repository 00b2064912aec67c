// SPDX-License-Identifier: GPL-2.0

//! Borrowing Linux's real-mode trampoline to start a CPU in GigaHttpd's code.
//!
//! A STARTUP IPI starts a CPU in real mode in the first MiB, which Linux 6.12 keeps
//! entirely reserved, so no page there can be allocated. Linux's own trampoline already
//! takes a CPU from real mode to long mode and then jumps to `trampoline_header->start`
//! (normally `secondary_startup_64`). GigaHttpd points `start` at its own entry while it
//! starts its cores, with CPU hotplug disabled so no Linux bring-up runs meanwhile, and
//! restores it afterwards.

use kernel::prelude::*;

use crate::bindings;
use crate::ksym::Kallsyms;

/// Linux's SMP trampoline, checked to be the one this module knows.
pub(crate) struct Trampoline {
    header: *mut bindings::trampoline_header,
    lock: *mut u32,
    linux_start: u64,
    vector: u8,
}

// SAFETY: the pointers are kernel statics; writes to the header happen only with CPU
// hotplug disabled and one core starting at a time (see `Cores`).
unsafe impl Send for Trampoline {}
// SAFETY: as above.
unsafe impl Sync for Trampoline {}

impl Trampoline {
    /// Finds the trampoline and checks that it is in the expected state.
    pub(crate) fn find(syms: &Kallsyms) -> Result<Self> {
        let missing = |name| {
            pr_err!(
                "kernel symbol {} not found (needs CONFIG_KALLSYMS_ALL)\n",
                name
            );
            ENOENT
        };
        let rmh_var = syms
            .address(kernel::c_str!("real_mode_header"))
            .ok_or_else(|| missing("real_mode_header"))?;
        let lock_var = syms
            .address(kernel::c_str!("trampoline_lock"))
            .ok_or_else(|| missing("trampoline_lock"))?;
        let linux_start = syms
            .address(kernel::c_str!("secondary_startup_64"))
            .ok_or_else(|| missing("secondary_startup_64"))? as u64;

        // SAFETY: both symbols are pointer variables in the kernel's data, set at boot.
        let (rmh, lock) = unsafe {
            (
                *(rmh_var as *const *const bindings::real_mode_header),
                *(lock_var as *const *mut u32),
            )
        };
        // SAFETY: `real_mode_header` points at the header of the real-mode blob, which
        // Linux keeps mapped for the life of the system.
        let rmh = unsafe { rmh.as_ref() }.ok_or(ENODEV)?;
        // SAFETY: `page_offset_base` is set at boot and read-only afterwards.
        let direct_map = unsafe { bindings::page_offset_base } as usize;
        let header =
            (direct_map + rmh.trampoline_header as usize) as *mut bindings::trampoline_header;
        // SAFETY: the header is in the blob's writable data, mapped in the direct map.
        let start = unsafe { core::ptr::read_volatile(core::ptr::addr_of!((*header).start)) };
        // SAFETY: only the address of the field is taken.
        let header_lock = unsafe { core::ptr::addr_of_mut!((*header).lock) };
        if start != linux_start || lock != header_lock {
            pr_err!("Linux's CPU trampoline is not in the expected state\n");
            return Err(ENODEV);
        }
        let vector = rmh.trampoline_start >> 12;
        if rmh.trampoline_start & 0xfff != 0 || vector > 0xff {
            return Err(ENODEV);
        }
        Ok(Self {
            header,
            lock,
            linux_start,
            vector: vector as u8,
        })
    }

    /// The STARTUP IPI vector that enters the trampoline.
    pub(crate) fn vector(&self) -> u8 {
        self.vector
    }

    /// The lock the trampoline takes on entry; whoever enters must release it.
    pub(crate) fn lock(&self) -> *mut u32 {
        self.lock
    }

    /// Makes CPUs started through the trampoline jump to `entry` until the returned
    /// guard is dropped. The caller has CPU hotplug disabled for that time.
    pub(crate) fn redirect(&self, entry: u64) -> Redirect<'_> {
        self.set_start(entry);
        Redirect(self)
    }

    fn set_start(&self, start: u64) {
        // SAFETY: the header is mapped and writable (see `find`); with hotplug disabled no
        // CPU is reading it while this runs.
        unsafe { core::ptr::write_volatile(core::ptr::addr_of_mut!((*self.header).start), start) };
    }
}

/// While alive, the trampoline enters GigaHttpd; dropping it gives it back to Linux.
pub(crate) struct Redirect<'a>(&'a Trampoline);

impl Drop for Redirect<'_> {
    fn drop(&mut self) {
        self.0.set_start(self.0.linux_start);
    }
}
