// SPDX-License-Identifier: GPL-2.0

//! Starting and resetting other CPUs through the local APIC.
//!
//! Linux's APIC driver (the exported `apic` ops table) does the register access, so xAPIC
//! and x2APIC need no code of their own here; this module adds the INIT/SIPI sequence that
//! Linux keeps static in `smpboot.c`.

use kernel::prelude::*;

use crate::bindings;

/// What `cpu_present_to_apicid` returns for an unknown CPU (`asm/apicdef.h`, 64-bit).
const BAD_APICID: u32 = 0xffff;

/// The local APIC driver Linux chose at boot.
pub(crate) struct Apic(&'static bindings::apic);

impl Apic {
    /// The APIC driver, if CPUs on this machine are started with INIT/SIPI.
    pub(crate) fn get() -> Result<Self> {
        // SAFETY: `apic` is set during boot, before modules load, and never freed.
        let ops = unsafe { bindings::apic };
        // SAFETY: non-null, it points at a static ops table.
        let ops = unsafe { ops.as_ref() }.ok_or(ENODEV)?;
        if ops.wakeup_secondary_cpu.is_some() || ops.wakeup_secondary_cpu_64.is_some() {
            pr_err!("this machine starts CPUs without INIT/SIPI; not supported\n");
            return Err(ENODEV);
        }
        if ops.icr_write.is_none() || ops.cpu_present_to_apicid.is_none() {
            return Err(ENODEV);
        }
        Ok(Self(ops))
    }

    /// The APIC ID of Linux CPU `cpu`.
    pub(crate) fn apic_id(&self, cpu: u32) -> Option<u32> {
        let to_apicid = self.0.cpu_present_to_apicid?;
        // SAFETY: the callback takes any CPU number and returns BAD_APICID for unknown ones.
        let id = unsafe { to_apicid(cpu as i32) };
        (id != BAD_APICID).then_some(id)
    }

    fn icr(&self, low: u32, apic_id: u32) {
        if let Some(icr_write) = self.0.icr_write {
            // SAFETY: the driver's ICR write sends one IPI; it disables interrupts around
            // the two xAPIC register writes itself.
            unsafe { icr_write(low, apic_id) };
        }
        if let Some(wait) = self.0.safe_wait_icr_idle {
            // SAFETY: polls the delivery status bit with a bounded loop.
            unsafe { wait() };
        }
    }

    fn clear_esr(&self) {
        if let (Some(write), Some(read)) = (self.0.write, self.0.read) {
            // SAFETY: writing then reading the error status register clears it.
            unsafe {
                write(bindings::APIC_ESR, 0);
                read(bindings::APIC_ESR);
            }
        }
    }

    /// Puts the CPU into wait-for-SIPI: it stops whatever it runs, at once.
    pub(crate) fn send_init(&self, apic_id: u32) {
        self.clear_esr();
        self.icr(
            bindings::APIC_INT_LEVELTRIG | bindings::APIC_INT_ASSERT | bindings::APIC_DM_INIT,
            apic_id,
        );
        // SAFETY: sleeping is allowed here: module init/exit run in process context.
        unsafe { bindings::msleep(10) };
        self.icr(
            bindings::APIC_INT_LEVELTRIG | bindings::APIC_DM_INIT,
            apic_id,
        );
    }

    /// Sends a non-maskable interrupt.
    pub(crate) fn send_nmi(&self, apic_id: u32) {
        self.icr(bindings::APIC_DM_NMI, apic_id);
    }

    /// INIT, then two STARTUP IPIs: the CPU starts in real mode at `vector << 12`.
    pub(crate) fn start(&self, apic_id: u32, vector: u8) {
        self.send_init(apic_id);
        for _ in 0..2 {
            self.clear_esr();
            self.icr(bindings::APIC_DM_STARTUP | u32::from(vector), apic_id);
            // SAFETY: a busy wait; 300 + 200 us is the conservative gap Linux uses.
            unsafe { bindings::__udelay(500) };
        }
    }
}
