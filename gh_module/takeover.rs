// SPDX-License-Identifier: GPL-2.0

//! Taking CPUs from Linux and giving them back.
//!
//! [`Cores::take`] offlines each chosen CPU with `remove_cpu`, disables CPU hotplug (so
//! nobody onlines them, and no Linux bring-up uses the trampoline meanwhile), and starts
//! each CPU in [`crate::gh_core`] through Linux's trampoline with INIT/SIPI. Dropping
//! [`Cores`] stops every core, resets it with INIT, re-enables hotplug and hands the CPU
//! back with `add_cpu`; only then is the cores' memory freed.

use kernel::prelude::*;

use crate::apic::Apic;
use crate::bindings;
use crate::gh_core::{entry_address, gh_boot_args, gh_idt, BootArgs, CoreShared, CoreState};
use crate::gh_proc::cpuset::CpuSet;
use crate::gh_proc::pci::PciAddr;
use crate::ksym::Kallsyms;
use crate::nic::DataNic;
use crate::pages::Pages;
use crate::trampoline::Trampoline;
use crate::virtio_net::VirtioNet;

/// Stack of a core: 4 pages.
const STACK_ORDER: u32 = 2;
/// How long a core may take to report in after its STARTUP IPIs.
const BOOT_TIMEOUT_MS: u32 = 2000;
/// How long a core may take to acknowledge a stop request.
const STOP_TIMEOUT_MS: u32 = 200;

/// One CPU taken from Linux.
pub(crate) struct Core {
    cpu: u32,
    apic_id: u32,
    offline: bool,
    started: bool,
    shared: KBox<CoreShared>,
    stack: Pages,
    pgd: Pages,
    /// The core's NIC: its address and MAC for `/proc`, and the driver, which belongs to
    /// the core (through `shared`) from its start until it has stopped.
    nic: Option<(PciAddr, [u8; 6])>,
    nic_driver: *mut VirtioNet,
}

impl Core {
    /// Linux's number for this CPU.
    pub(crate) fn cpu(&self) -> u32 {
        self.cpu
    }

    /// What the core publishes.
    pub(crate) fn shared(&self) -> &CoreShared {
        &self.shared
    }

    /// The core's NIC: PCI address and MAC.
    pub(crate) fn nic(&self) -> Option<(PciAddr, [u8; 6])> {
        self.nic
    }
}

impl Drop for Core {
    fn drop(&mut self) {
        if !self.nic_driver.is_null() {
            // SAFETY: `Cores::drop` has stopped and reset the core before its `Core` drops;
            // the pointer came from `KBox::into_raw` in `Cores::take`.
            drop(unsafe { KBox::from_raw(self.nic_driver) });
        }
    }
}

/// The CPUs GigaHttpd has taken.
pub(crate) struct Cores {
    cores: KVec<Core>,
    apic: Apic,
    trampoline_lock: *mut u32,
    hotplug_disabled: bool,
}

// SAFETY: the raw pointer is the trampoline lock, a static of the kernel.
unsafe impl Send for Cores {}
// SAFETY: `&Cores` only reads the cores' shared records, which are atomics.
unsafe impl Sync for Cores {}

impl Cores {
    /// Takes every CPU in `cpus` from Linux and starts GigaHttpd on it; the i-th core
    /// drives the i-th NIC of `nics`.
    pub(crate) fn take(cpus: &CpuSet, nics: KVec<DataNic>) -> Result<Self> {
        if nics.len() > cpus.len() {
            pr_err!(
                "{} data NICs but only {} GigaHttpd CPUs\n",
                nics.len(),
                cpus.len()
            );
            return Err(EINVAL);
        }
        if cpu_enforces_ibt() {
            pr_err!("CPUs with indirect branch tracking are not supported yet\n");
            return Err(ENODEV);
        }
        let syms = Kallsyms::new()?;
        let trampoline = Trampoline::find(&syms)?;
        let apic = Apic::get()?;

        let mut cores = KVec::new();
        let mut nics = nics.into_iter();
        for cpu in cpus.iter() {
            let cpu = cpu as u32;
            let apic_id = apic.apic_id(cpu).ok_or(ENODEV)?;
            let pgd = Pages::new(0)?;
            share_kernel_half(&pgd);
            // Owned by `core` from here, so freed on any error below.
            let mut core = Core {
                cpu,
                apic_id,
                offline: false,
                started: false,
                shared: KBox::new(CoreShared::new(), GFP_KERNEL)?,
                stack: Pages::new(STACK_ORDER)?,
                pgd,
                nic: None,
                nic_driver: core::ptr::null_mut(),
            };
            if let Some(nic) = nics.next() {
                core.nic = Some((nic.addr, nic.mac));
                core.nic_driver = KBox::into_raw(nic.driver);
                core.shared.give_nic(core.nic_driver);
            }
            cores.push(core, GFP_KERNEL)?;
        }
        // From here on, dropping `taken` undoes whatever was done.
        let mut taken = Cores {
            cores,
            apic,
            trampoline_lock: trampoline.lock(),
            hotplug_disabled: false,
        };

        for core in taken.cores.iter_mut() {
            // SAFETY: `remove_cpu` takes any CPU number and fails for ones it cannot offline.
            let rc = unsafe { bindings::remove_cpu(core.cpu) };
            if rc != 0 {
                pr_err!(
                    "cannot take CPU {} from Linux: remove_cpu returned {}\n",
                    core.cpu,
                    rc
                );
                return Err(Error::from_errno(rc));
            }
            core.offline = true;
        }
        // SAFETY: paired with `cpu_hotplug_enable` in `drop`.
        unsafe { bindings::cpu_hotplug_disable() };
        taken.hotplug_disabled = true;

        // SAFETY: no core runs yet.
        unsafe { gh_idt.fill() };
        let _redirect = trampoline.redirect(entry_address());
        for core in taken.cores.iter_mut() {
            let args = BootArgs {
                stack_top: (core.stack.addr() + core.stack.len()) as u64,
                cr3: core.pgd.phys(),
                shared: &*core.shared as *const CoreShared as u64,
                trampoline_lock: taken.trampoline_lock as u64,
            };
            // SAFETY: cores start one at a time: the previous one has reported in.
            unsafe { gh_boot_args.set(args) };
            core.started = true;
            taken.apic.start(core.apic_id, trampoline.vector());
            if !wait_for(BOOT_TIMEOUT_MS, || {
                core.shared.state() != CoreState::Booting
            }) {
                pr_err!("CPU {} did not start GigaHttpd\n", core.cpu);
                return Err(EIO);
            }
        }
        Ok(taken)
    }

    /// The taken cores, in CPU order.
    pub(crate) fn iter(&self) -> impl Iterator<Item = &Core> {
        self.cores.iter()
    }
}

impl Drop for Cores {
    fn drop(&mut self) {
        for core in self.cores.iter().filter(|c| c.started) {
            core.shared.request_stop();
        }
        for core in self.cores.iter().filter(|c| c.started) {
            let stopped = wait_for(STOP_TIMEOUT_MS, || {
                matches!(core.shared.state(), CoreState::Stopped | CoreState::Faulted)
            });
            if !stopped {
                pr_warn!("CPU {} did not stop; resetting it\n", core.cpu);
            }
            // Whatever it was doing, INIT leaves it waiting for a STARTUP IPI.
            self.apic.send_init(core.apic_id);
        }
        if self.hotplug_disabled {
            // A core reset inside the trampoline never released its lock; nobody else
            // is in the trampoline while hotplug is disabled.
            // SAFETY: the lock is a static of the kernel.
            unsafe { core::ptr::write_volatile(self.trampoline_lock, 0) };
            // SAFETY: paired with `cpu_hotplug_disable` in `take`.
            unsafe { bindings::cpu_hotplug_enable() };
        }
        for core in self.cores.iter().filter(|c| c.offline) {
            // SAFETY: the CPU was offlined by `take` and is in a state Linux can start.
            let rc = unsafe { bindings::add_cpu(core.cpu) };
            if rc != 0 {
                pr_err!(
                    "could not give CPU {} back to Linux: add_cpu returned {}\n",
                    core.cpu,
                    rc
                );
            }
        }
    }
}

/// Waits up to `ms` milliseconds, sleeping, for `done`.
fn wait_for(ms: u32, done: impl Fn() -> bool) -> bool {
    for _ in 0..ms {
        if done() {
            return true;
        }
        // SAFETY: process context.
        unsafe { bindings::msleep(1) };
    }
    done()
}

/// Copies the kernel half of Linux's top-level page table into `pgd`: kernel text,
/// module text and data, the direct map. The user half stays empty for GigaHttpd.
fn share_kernel_half(pgd: &Pages) {
    let cr3: u64;
    // SAFETY: reading CR3 has no side effects.
    unsafe { core::arch::asm!("mov {}, cr3", out(reg) cr3, options(nomem, nostack)) };
    // SAFETY: `page_offset_base` is set at boot and read-only afterwards.
    let direct_map = unsafe { bindings::page_offset_base } as usize;
    let linux_pgd = (direct_map + (cr3 & 0x000f_ffff_ffff_f000) as usize) as *const u64;
    let ours = pgd.addr() as *mut u64;
    for i in 256..512 {
        // SAFETY: both are 4 KiB page tables of 512 entries mapped in the direct map; the
        // kernel half of Linux's table never changes after boot.
        unsafe { ours.add(i).write(linux_pgd.add(i).read()) };
    }
}

/// Whether the CPU has indirect branch tracking, which Linux then enforces: calling
/// `kallsyms_lookup_name` through a pointer would fault.
fn cpu_enforces_ibt() -> bool {
    // SAFETY: CPUID leaf 7 exists on every x86_64 CPU Linux 6.12 runs on.
    let leaf7 = unsafe { core::arch::x86_64::__cpuid_count(7, 0) };
    leaf7.edx & (1 << 20) != 0
}
