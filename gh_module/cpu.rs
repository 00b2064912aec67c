// SPDX-License-Identifier: GPL-2.0

//! What Linux says about its CPUs.

use crate::bindings;
use crate::gh_proc::cpuset::{CpuSet, MAX_CPUS};

/// The CPUs Linux has online now (a snapshot: hotplug may change it right after).
pub(crate) fn online() -> CpuSet {
    // SAFETY: `nr_cpu_ids` is set at boot and read-only afterwards.
    let nr_cpu_ids = unsafe { bindings::nr_cpu_ids } as usize;
    // SAFETY: `__cpu_online_mask` is a static bitmap; Linux's own `cpu_online()` reads it
    // without a lock, word by word, as this does.
    let words = unsafe { &(*core::ptr::addr_of!(bindings::__cpu_online_mask)).bits };
    let mut set = CpuSet::new();
    for cpu in 0..nr_cpu_ids.min(MAX_CPUS) {
        let Some(word) = words.get(cpu / 64) else {
            break;
        };
        // SAFETY: a plain aligned read of a word hotplug updates atomically.
        let word = unsafe { core::ptr::read_volatile(word) };
        if word & (1 << (cpu % 64)) != 0 {
            set.insert(cpu);
        }
    }
    set
}
