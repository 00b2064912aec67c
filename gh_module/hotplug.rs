// SPDX-License-Identifier: GPL-2.0

//! Keeping Linux from starting a CPU GigaHttpd holds. `cpu_hotplug_disable()` stops the
//! sysfs `online` files, but not every path that brings CPUs up (turning SMT control back
//! on starts every present offline CPU), nor the moment between `remove_cpu` and that
//! call. A CPU hotplug state in the bring-up's prepare stage refuses the CPUs held here:
//! Linux then gives up starting them, and never sends them INIT while a core runs there.

use core::sync::atomic::{AtomicU64, Ordering};

use kernel::ffi::{c_int, c_uint};
use kernel::prelude::*;

use crate::bindings;

/// CPUs held, one bit each: as many as the largest `NR_CPUS` x86-64 allows.
static HELD: [AtomicU64; 128] = [const { AtomicU64::new(0) }; 128];

/// A registered hotplug state that refuses held CPUs; dropping it removes the state.
pub(crate) struct HotplugGuard {
    state: c_int,
}

impl HotplugGuard {
    /// Registers the state (for CPUs brought up from now on; none is called now).
    pub(crate) fn register() -> Result<Self> {
        // SAFETY: the name is a static C string; the callback is a plain function that
        // reads only `HELD`; no callback runs for CPUs already up (`invoke` false).
        let state = unsafe {
            bindings::__cpuhp_setup_state(
                bindings::cpuhp_state_CPUHP_BP_PREPARE_DYN,
                kernel::c_str!("gigahttpd:held").as_char_ptr(),
                false,
                Some(refuse_held),
                None,
                false,
            )
        };
        if state < 0 {
            return Err(Error::from_errno(state));
        }
        Ok(Self { state })
    }

    /// From now on Linux cannot start `cpu`.
    pub(crate) fn hold(&self, cpu: u32) -> Result {
        let (word, bit) = slot(cpu).ok_or(EINVAL)?;
        word.fetch_or(bit, Ordering::SeqCst);
        Ok(())
    }

    /// Linux may start `cpu` again.
    pub(crate) fn release(&self, cpu: u32) {
        if let Some((word, bit)) = slot(cpu) {
            word.fetch_and(!bit, Ordering::SeqCst);
        }
    }
}

impl Drop for HotplugGuard {
    fn drop(&mut self) {
        // SAFETY: the state was set up by `register`; no teardown callback to invoke.
        unsafe { bindings::__cpuhp_remove_state(self.state as bindings::cpuhp_state, false) };
    }
}

/// The word and bit of `cpu` in `HELD`.
fn slot(cpu: u32) -> Option<(&'static AtomicU64, u64)> {
    let word = HELD.get(usize::try_from(cpu / 64).ok()?)?;
    Some((word, 1 << (cpu % 64)))
}

/// The prepare-stage callback for a CPU Linux is starting: refused if held.
unsafe extern "C" fn refuse_held(cpu: c_uint) -> c_int {
    match slot(cpu) {
        Some((word, bit)) if word.load(Ordering::SeqCst) & bit != 0 => {
            pr_warn!("CPU {} is GigaHttpd's: Linux may not start it\n", cpu);
            EBUSY.to_errno()
        }
        _ => 0,
    }
}
