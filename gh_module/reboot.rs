// SPDX-License-Identifier: GPL-2.0

//! Stopping GigaHttpd's cores when Linux reboots, halts, powers off or kexecs: the taken
//! CPUs run module code Linux knows nothing of, and a kexec'd kernel would otherwise
//! find them still running in memory it reuses.

use core::ffi::c_void;

use kernel::ffi::{c_int, c_ulong};
use kernel::prelude::*;

use crate::bindings;
use crate::takeover::Cores;

/// A registered reboot notifier; dropping it unregisters it.
pub(crate) struct RebootGuard(KBox<Notifier>);

#[repr(C)]
struct Notifier {
    // First, so the callback can find the whole struct from the block's address.
    block: bindings::notifier_block,
    cores: *const Cores,
}

// SAFETY: the notifier only reads `cores`, which is `Sync`.
unsafe impl Send for RebootGuard {}
// SAFETY: as above.
unsafe impl Sync for RebootGuard {}

impl RebootGuard {
    /// Registers a notifier that resets every core of `cores` on reboot.
    ///
    /// # Safety
    ///
    /// `cores` must stay valid until the returned guard is dropped.
    pub(crate) unsafe fn register(cores: *const Cores) -> Result<Self> {
        let mut notifier = KBox::new(
            Notifier {
                block: bindings::notifier_block {
                    notifier_call: Some(on_reboot),
                    ..Default::default()
                },
                cores,
            },
            GFP_KERNEL,
        )?;
        // SAFETY: the block lives in the box until `drop` unregisters it.
        let rc = unsafe { bindings::register_reboot_notifier(&mut notifier.block) };
        if rc != 0 {
            return Err(Error::from_errno(rc));
        }
        Ok(Self(notifier))
    }
}

impl Drop for RebootGuard {
    fn drop(&mut self) {
        // SAFETY: registered in `register`; after this returns no callback runs.
        unsafe { bindings::unregister_reboot_notifier(&mut self.0.block) };
    }
}

unsafe extern "C" fn on_reboot(
    block: *mut bindings::notifier_block,
    _action: c_ulong,
    _data: *mut c_void,
) -> c_int {
    // SAFETY: `block` is the first field of a live `Notifier` (see `register`), whose
    // `cores` outlives the registration.
    let cores = unsafe { &*(*block.cast::<Notifier>()).cores };
    cores.halt_all();
    0
}
