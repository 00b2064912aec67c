// SPDX-License-Identifier: GPL-2.0

//! Taking CPUs from Linux, running and supervising GigaHttpd cores on them, and giving the
//! CPUs back.
//!
//! [`Cores::take`] holds each chosen CPU (a hotplug state that refuses it to every
//! bring-up path, [`crate::hotplug`]), offlines it with `remove_cpu`, disables CPU hotplug
//! (so nobody onlines them, and no Linux bring-up uses the trampoline meanwhile), and starts
//! each CPU in [`crate::gh_core`] through Linux's trampoline with INIT/SIPI. While they
//! run, cores can be stopped and started again, and the watchdog restarts a core whose
//! heartbeat stands still. Dropping [`Cores`] stops every core, resets it with INIT,
//! re-enables hotplug and hands the CPU back with `add_cpu`; only then is the cores'
//! memory freed.

use core::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use kernel::prelude::*;

use crate::apic::Apic;
use crate::bindings;
use crate::cpu_tables::CpuTables;
use crate::gh_core::{
    entry_address, gh_boot_args, gh_idt, BootArgs, CoreSetup, CoreShared, CoreState, STACK_BYTES,
};
use crate::gh_net::site::Page;
use crate::gh_proc::cpuset::CpuSet;
use crate::gh_proc::pci::PciAddr;
use crate::hotplug::HotplugGuard;
use crate::ksym::Kallsyms;
use crate::memory::CoreMemory;
use crate::nic::{DataNic, Driver};
use crate::pages::Pages;
use crate::server_mem::ServerArrays;
use crate::trampoline::Trampoline;
use crate::window::Window;

/// Stack of a core: 4 pages.
const STACK_ORDER: u32 = 2;
const _: () = assert!(4096 << STACK_ORDER == STACK_BYTES);
/// How long a core may take to report in after its STARTUP IPIs (generous: a guest
/// under emulation boots a core far more slowly than a machine).
const BOOT_TIMEOUT_MS: u32 = 8000;
/// How long a core may take to acknowledge a stop request.
const STOP_TIMEOUT_MS: u32 = 800;

/// One CPU taken from Linux.
pub(crate) struct Core {
    cpu: u32,
    apic_id: u32,
    offline: bool,
    started: bool,
    shared: KBox<CoreShared>,
    /// The stack's pages, which the core reaches only through its own page tables.
    _stack: Pages,
    /// The stack's top as the core's page tables map it (above a guard page).
    stack_top: usize,
    /// The core's GDT and TSS.
    tables: CpuTables,
    pgd: Pages,
    /// The core's private window over `memory`, in `pgd` only.
    window: Window,
    memory: CoreMemory,
    /// The core's NIC: its address and MAC for `/proc`, and the driver, which belongs to
    /// the core (through `shared`) from its start until it has stopped.
    nic: Option<(PciAddr, [u8; 6])>,
    nic_driver: *mut Driver,
    server_arrays: *mut ServerArrays,
    /// Watchdog bookkeeping: the heartbeat last seen, when it last changed, restarts,
    /// and whether the core's present fault has been reported.
    seen_heartbeat: AtomicU64,
    seen_at_ms: AtomicU64,
    restarts: AtomicU64,
    fault_reported: AtomicBool,
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

    /// The memory reserved for the core.
    pub(crate) fn memory(&self) -> &CoreMemory {
        &self.memory
    }

    /// The core's private window.
    pub(crate) fn window(&self) -> &Window {
        &self.window
    }

    /// Connection slots of the core's server.
    pub(crate) fn connections(&self) -> usize {
        // SAFETY: the arrays' box lives until the core drops; only their lengths are read.
        unsafe { self.server_arrays.as_ref() }.map_or(0, |a| a.connections())
    }

    /// Times the watchdog restarted this core.
    pub(crate) fn restarts(&self) -> u64 {
        self.restarts.load(Ordering::Relaxed)
    }

    fn boot_args(&self, trampoline: &Trampoline) -> BootArgs {
        BootArgs::new(
            self.stack_top as u64,
            self.pgd.phys(),
            &*self.shared as *const CoreShared as u64,
            trampoline.lock() as u64,
            self.tables.gdt(),
        )
    }
}

impl Drop for Core {
    fn drop(&mut self) {
        // SAFETY: `Cores::drop` has stopped and reset the core before its `Core` drops;
        // the pointers came from `KBox::into_raw` in `Cores::take`.
        unsafe {
            if !self.nic_driver.is_null() {
                drop(KBox::from_raw(self.nic_driver));
            }
            if !self.server_arrays.is_null() {
                drop(KBox::from_raw(self.server_arrays));
            }
        }
    }
}

/// What every core serves: the data address, the gateway, the HTTP port and the pages of
/// the built-in site.
pub(crate) struct Serve {
    pub(crate) ip: [u8; 4],
    pub(crate) prefix_len: u8,
    pub(crate) gateway: [u8; 4],
    pub(crate) port: u16,
    pub(crate) pages: &'static [Page<'static>],
}

/// The CPUs GigaHttpd has taken.
pub(crate) struct Cores {
    cores: KVec<Core>,
    // Read by the cores through their setup (raw pointers); held until they have stopped.
    _serve: Serve,
    apic: Apic,
    trampoline: Trampoline,
    /// Keeps Linux from starting the CPUs held (dropped after `drop` gave them back).
    hotplug: HotplugGuard,
    hotplug_disabled: bool,
    /// Held while a core is stopped, started or restarted, so those never overlap.
    busy: AtomicBool,
}

// SAFETY: the raw pointers inside are kernel statics (trampoline) and NIC drivers that
// only their cores use; `&Cores` reads atomics and serializes core control with `busy`.
unsafe impl Send for Cores {}
// SAFETY: as above.
unsafe impl Sync for Cores {}

impl Cores {
    /// Takes every CPU in `cpus` from Linux and starts GigaHttpd on it, with
    /// `mem_bytes` reserved for each; the i-th core drives the i-th NIC of `nics`.
    pub(crate) fn take(
        cpus: &CpuSet,
        nics: KVec<DataNic>,
        mem_bytes: usize,
        serve: Serve,
    ) -> Result<Self> {
        // `init` has checked that there are no more NICs than CPUs, and that the machine
        // is supported (`unsupported_machine`), before taking anything.
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
            let mut memory = CoreMemory::reserve(mem_bytes).inspect_err(|_| {
                pr_err!("cannot reserve {} MiB for CPU {}\n", mem_bytes >> 20, cpu);
            })?;
            let mut window = Window::map(&pgd, memory.runs()).inspect_err(|_| {
                pr_err!("CPU {}: cannot map its data window\n", cpu);
            })?;
            let stack = Pages::new(STACK_ORDER)?;
            let stack_top = window.map_stack(&pgd, stack.phys(), stack.len())?;
            let tables = CpuTables::new()?;
            let server_arrays =
                ServerArrays::carve(&mut memory, serve.pages).inspect_err(|_| {
                    pr_err!("CPU {}: its memory cannot hold the server's arrays\n", cpu);
                })?;
            let server_arrays = KBox::new(server_arrays, GFP_KERNEL)?;
            let nic = nics.next();
            // SAFETY: plain reads of values Linux set at boot, the wall clock and the TSC.
            let (tsc_per_ms, unix_seconds, tsc_now, seed) = unsafe {
                (
                    u64::from(bindings::tsc_khz),
                    u64::try_from(bindings::ktime_get_real_seconds()).unwrap_or(0),
                    core::arch::x86_64::_rdtsc(),
                    [
                        bindings::get_random_u64(),
                        bindings::get_random_u64(),
                        bindings::get_random_u64(),
                        bindings::get_random_u64(),
                    ],
                )
            };
            // From here the NIC and the arrays are owned by `core` (raw, lent to the CPU).
            let (nic_info, nic_driver) = match nic {
                Some(n) => (Some((n.addr, n.mac)), KBox::into_raw(n.driver)),
                None => (None, core::ptr::null_mut()),
            };
            let server_arrays = KBox::into_raw(server_arrays);
            let core = Core {
                cpu,
                apic_id,
                offline: false,
                started: false,
                shared: KBox::new(
                    CoreShared::new(CoreSetup {
                        nic: nic_driver,
                        server: server_arrays,
                        mac: nic_info.map_or([0; 6], |n| n.1),
                        ip: serve.ip,
                        prefix_len: serve.prefix_len,
                        gateway: serve.gateway,
                        port: [serve.port],
                        pages: serve.pages,
                        unix_seconds,
                        unix_at_ms: tsc_now.checked_div(tsc_per_ms).unwrap_or(0),
                        tsc_per_ms,
                        seed,
                    }),
                    GFP_KERNEL,
                )
                .inspect_err(|_| {
                    // SAFETY: just made by `into_raw` above and not lent to anyone.
                    unsafe {
                        if !nic_driver.is_null() {
                            drop(KBox::from_raw(nic_driver));
                        }
                        drop(KBox::from_raw(server_arrays));
                    }
                })?,
                _stack: stack,
                stack_top,
                tables,
                pgd,
                window,
                memory,
                nic: nic_info,
                nic_driver,
                server_arrays,
                seen_heartbeat: AtomicU64::new(0),
                seen_at_ms: AtomicU64::new(0),
                restarts: AtomicU64::new(0),
                fault_reported: AtomicBool::new(false),
            };
            cores.push(core, GFP_KERNEL)?;
        }
        // From here on, dropping `taken` undoes whatever was done.
        let mut taken = Cores {
            cores,
            _serve: serve,
            apic,
            trampoline,
            hotplug: HotplugGuard::register()?,
            hotplug_disabled: false,
            busy: AtomicBool::new(false),
        };

        for core in taken.cores.iter_mut() {
            // Held first: from its going offline on, Linux may not start it again.
            taken.hotplug.hold(core.cpu)?;
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
        for i in 0..taken.cores.len() {
            if let Some(core) = taken.cores.get_mut(i) {
                core.started = true;
            }
            if let Some(core) = taken.cores.get(i) {
                taken.boot(core)?;
            }
        }
        Ok(taken)
    }

    /// The taken cores, in CPU order.
    pub(crate) fn iter(&self) -> impl Iterator<Item = &Core> {
        self.cores.iter()
    }

    /// How many cores were taken.
    pub(crate) fn len(&self) -> usize {
        self.cores.len()
    }

    /// The `i`-th core in CPU order.
    pub(crate) fn get(&self, i: usize) -> Option<&Core> {
        self.cores.get(i)
    }

    /// Starts `core` (again) in GigaHttpd's entry and waits until it runs its loop.
    fn boot(&self, core: &Core) -> Result {
        // A faulted core halts on its own GDT and TSS: it is put in INIT before they are
        // written again (an NMI meanwhile would return through them).
        if core.shared.state() == CoreState::Faulted {
            self.reset(core);
        }
        core.shared.prepare_boot();
        core.tables.prepare();
        let _redirect = self.trampoline.redirect(entry_address());
        // SAFETY: cores start one at a time (callers hold `busy` or run before any control).
        unsafe { gh_boot_args.set(core.boot_args(&self.trampoline)) };
        self.apic.start(core.apic_id, self.trampoline.vector());
        let started = wait_for(BOOT_TIMEOUT_MS, || {
            core.shared.state() != CoreState::Booting
        });
        // A core that faulted on its way in did not start either.
        if !started || core.shared.state() != CoreState::Running {
            pr_err!("CPU {} did not start GigaHttpd\n", core.cpu);
            self.reset(core);
            return Err(EIO);
        }
        Ok(())
    }

    /// Stops `core` at once with INIT, whatever it runs, and clears the trampoline lock
    /// in case it was inside the trampoline.
    fn reset(&self, core: &Core) {
        self.apic.send_init(core.apic_id);
        // SAFETY: the lock is a static of the kernel; hotplug is disabled, so nobody else
        // is in the trampoline.
        unsafe { core::ptr::write_volatile(self.trampoline.lock(), 0) };
        core.shared.mark_stopped();
    }

    /// Asks `core` to stop, waits for it, and resets it.
    fn stop(&self, core: &Core) {
        core.shared.request_stop();
        let stopped = wait_for(STOP_TIMEOUT_MS, || {
            matches!(core.shared.state(), CoreState::Stopped | CoreState::Faulted)
        });
        if !stopped {
            pr_warn!("CPU {} did not stop; resetting it\n", core.cpu);
        }
        self.reset(core);
    }

    fn find(&self, cpu: u32) -> Result<&Core> {
        self.cores.iter().find(|c| c.cpu == cpu).ok_or_else(|| {
            pr_info!("control: refused: CPU {} is not GigaHttpd's\n", cpu);
            EINVAL
        })
    }

    /// Runs `f` on the core on `cpu` if it is running (what the test hooks act on),
    /// holding the control lock: a watchdog restart is never under way meanwhile.
    fn with_running(&self, cpu: u32, f: impl FnOnce(&Core)) -> Result {
        let core = self.find(cpu)?;
        self.exclusive(|| {
            if core.shared.state() != CoreState::Running {
                pr_info!("control: refused: CPU {} is not running\n", cpu);
                return Err(EINVAL);
            }
            f(core);
            Ok(())
        })?
    }

    /// Runs `f` while holding the control lock, waiting up to a second for it.
    fn exclusive<R>(&self, f: impl FnOnce() -> R) -> Result<R> {
        let taken = wait_for(1000, || {
            self.busy
                .compare_exchange(false, true, Ordering::Acquire, Ordering::Relaxed)
                .is_ok()
        });
        if !taken {
            pr_info!("control: refused: busy with another request\n");
            return Err(EBUSY);
        }
        let result = f();
        self.busy.store(false, Ordering::Release);
        Ok(result)
    }

    /// Stops the core on `cpu`; the CPU stays GigaHttpd's.
    pub(crate) fn stop_core(&self, cpu: u32) -> Result {
        let core = self.find(cpu)?;
        self.exclusive(|| {
            // A faulted core is halted already, and stays `faulted` until started again
            // (the watchdog reports it once from that state).
            match core.shared.state() {
                CoreState::Stopped => {
                    pr_info!("control: refused: CPU {} is already stopped\n", cpu);
                    return Err(EINVAL);
                }
                CoreState::Faulted => {
                    pr_info!(
                        "control: refused: CPU {} is faulted; start-core starts it\n",
                        cpu
                    );
                    return Err(EINVAL);
                }
                _ => {}
            }
            self.stop(core);
            pr_info!("CPU {} stopped\n", cpu);
            Ok(())
        })?
    }

    /// Starts the stopped core on `cpu` again.
    pub(crate) fn start_core(&self, cpu: u32) -> Result {
        let core = self.find(cpu)?;
        self.exclusive(|| {
            if !matches!(core.shared.state(), CoreState::Stopped | CoreState::Faulted) {
                pr_info!("control: refused: CPU {} is running; stop it first\n", cpu);
                return Err(EINVAL);
            }
            self.boot(core)?;
            pr_info!("CPU {} started\n", cpu);
            Ok(())
        })?
    }

    /// Makes the core on `cpu` hang (test hook for the watchdog).
    pub(crate) fn inject_hang(&self, cpu: u32) -> Result {
        self.with_running(cpu, |core| core.shared.inject_hang())
    }

    /// Notes a changed live setting with `note` and hands it to every core, one writer
    /// at a time (the control lock), so that what is noted is what the cores run.
    pub(crate) fn set_setting(&self, index: usize, value: u32, note: impl FnOnce()) -> Result {
        self.exclusive(|| {
            note();
            for core in self.cores.iter() {
                core.shared.set_setting(index, value);
            }
        })
    }

    /// Makes the core on `cpu` hang inside its next request (test hook for the watchdog's
    /// quarantine).
    pub(crate) fn inject_hang_on_request(&self, cpu: u32) -> Result {
        self.with_running(cpu, |core| core.shared.inject_hang_on_request())
    }

    /// Makes the core on `cpu` overflow its stack (test hook for the fault stack).
    pub(crate) fn inject_stack_overflow(&self, cpu: u32) -> Result {
        self.with_running(cpu, |core| core.shared.inject_stack_overflow())
    }

    /// Sends an NMI to the core on `cpu` (test hook for its NMI handler).
    pub(crate) fn inject_nmi(&self, cpu: u32) -> Result {
        self.with_running(cpu, |core| self.apic.send_nmi(core.apic_id))
    }

    /// Resets every core with INIT, for a reboot: nothing of GigaHttpd runs afterwards.
    /// The CPUs are not given back; Linux is going away.
    pub(crate) fn halt_all(&self) {
        let halt = || {
            for core in self.cores.iter().filter(|c| c.started) {
                self.reset(core);
            }
        };
        if self.exclusive(halt).is_err() {
            // A watchdog restart still holds the control lock: Linux is going away, and
            // no core may run into the next kernel, so they are reset all the same.
            halt();
        }
        pr_info!("reboot: GigaHttpd cores stopped\n");
    }

    /// Prints what the cores reported since the last call (worker on CPU 0).
    pub(crate) fn print_reports(&self) {
        for core in self.cores.iter() {
            while let Some(report) = core.shared.reports().pop() {
                pr_info!("CPU {}: {}\n", core.cpu, report);
            }
        }
    }

    /// One watchdog pass at time `now_ms`: a running core whose heartbeat has not moved
    /// for `timeout_ms` is reported and restarted, and a core that took an exception
    /// (which halts it as `faulted`, silently: it cannot print) is reported once. Skipped
    /// while a control command runs.
    pub(crate) fn watchdog(&self, now_ms: u64, timeout_ms: u64) {
        if self
            .busy
            .compare_exchange(false, true, Ordering::Acquire, Ordering::Relaxed)
            .is_err()
        {
            return;
        }
        for core in self.cores.iter() {
            let heartbeat = core.shared.heartbeat();
            let faulted = core.shared.state() == CoreState::Faulted;
            // Reported once per fault: the flag follows the state.
            if faulted && !core.fault_reported.load(Ordering::Relaxed) {
                pr_err!(
                    "watchdog: CPU {} faulted: it took an exception at heartbeat {} and \
                     halted; `start-core {}` starts it again\n",
                    core.cpu,
                    heartbeat,
                    core.cpu
                );
            }
            core.fault_reported.store(faulted, Ordering::Relaxed);
            if core.shared.state() != CoreState::Running
                || heartbeat != core.seen_heartbeat.load(Ordering::Relaxed)
            {
                core.seen_heartbeat.store(heartbeat, Ordering::Relaxed);
                core.seen_at_ms.store(now_ms, Ordering::Relaxed);
                continue;
            }
            let still_for = now_ms.saturating_sub(core.seen_at_ms.load(Ordering::Relaxed));
            if still_for < timeout_ms {
                continue;
            }
            pr_err!(
                "watchdog: CPU {} heartbeat stuck at {} for {} ms; restarting the core\n",
                core.cpu,
                heartbeat,
                still_for
            );
            self.reset(core);
            // Read once the core is held by INIT: the flow and its stream end are of one
            // frame.
            let (flow, stream_end) = core.shared.working_on();
            if flow != 0 {
                // The frame it was handling is what hung it: its flow is answered with an
                // error from now on, and not run again.
                core.shared.quarantine_next_run((flow, stream_end));
                let ip = ((flow >> 32) as u32).to_be_bytes();
                pr_err!(
                    "watchdog: CPU {} was handling a segment from {}.{}.{}.{}:{} to port {}; \
                     that request is refused and not run again\n",
                    core.cpu,
                    ip[0],
                    ip[1],
                    ip[2],
                    ip[3],
                    (flow >> 16) & 0xffff,
                    flow & 0xffff
                );
            }
            core.restarts.fetch_add(1, Ordering::Relaxed);
            match self.boot(core) {
                Ok(()) => pr_info!("watchdog: CPU {} restarted\n", core.cpu),
                Err(_) => pr_err!(
                    "watchdog: CPU {} did not restart; it stays stopped\n",
                    core.cpu
                ),
            }
            core.seen_at_ms.store(now_ms, Ordering::Relaxed);
        }
        self.busy.store(false, Ordering::Release);
    }
}

impl Drop for Cores {
    fn drop(&mut self) {
        for core in self.cores.iter().filter(|c| c.started) {
            core.shared.request_stop();
        }
        for core in self.cores.iter().filter(|c| c.started) {
            // Whatever it was doing, after this it waits for a STARTUP IPI.
            self.stop(core);
        }
        if self.hotplug_disabled {
            // SAFETY: paired with `cpu_hotplug_disable` in `take`.
            unsafe { bindings::cpu_hotplug_enable() };
        }
        for core in self.cores.iter() {
            self.hotplug.release(core.cpu);
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
    // By the clock, not by counting sleeps: a 1 ms sleep lasts at least a jiffy.
    let deadline = kernel::time::Ktime::ktime_get().to_ms() + i64::from(ms);
    loop {
        if done() {
            return true;
        }
        if kernel::time::Ktime::ktime_get().to_ms() > deadline {
            return false;
        }
        // SAFETY: process context.
        unsafe { bindings::msleep(1) };
    }
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

/// What this machine has that GigaHttpd cores cannot run with yet, if anything.
pub(crate) fn unsupported_machine() -> Option<&'static str> {
    // SAFETY: CPUID leaves 7 and 0x8000_0000 exist on every x86_64 CPU Linux 6.12 runs on.
    let leaf7 = unsafe { core::arch::x86_64::__cpuid_count(7, 0) };
    if leaf7.edx & (1 << 20) != 0 {
        // Linux then enforces it: calling `kallsyms_lookup_name` through a pointer faults.
        return Some("indirect branch tracking");
    }
    // X86_FEATURE_CALL_DEPTH (word 11, bit 19): with `retbleed=stuff` every return of
    // module code goes through a thunk that counts call depth in a per-CPU variable,
    // which on a core (its GS base is the core's shared record) is some other memory.
    // SAFETY: `boot_cpu_data` is written during boot and only read afterwards; the union
    // holds the capability words (its other member only aligns them).
    let word11 = unsafe {
        let caps = core::ptr::addr_of!(bindings::boot_cpu_data.__bindgen_anon_2.x86_capability);
        (*caps).get(11).copied().unwrap_or(0)
    };
    if word11 & (1 << 19) != 0 {
        return Some("return call-depth tracking (retbleed=stuff)");
    }
    let (cr3, cr4): (u64, u64);
    // SAFETY: reading CR3 and CR4 has no side effects.
    unsafe {
        core::arch::asm!("mov {}, cr3", out(reg) cr3, options(nomem, nostack));
        core::arch::asm!("mov {}, cr4", out(reg) cr4, options(nomem, nostack));
    }
    if cr4 & (1 << 12) != 0 {
        // The cores' page tables have four levels.
        return Some("5-level paging");
    }
    // AMD memory encryption (SME, or an SEV guest): Linux's page tables, and its CR3,
    // carry the encryption bit, which the cores' tables do not.
    // SAFETY: as above.
    let max_extended = unsafe { core::arch::x86_64::__cpuid(0x8000_0000) }.eax;
    if max_extended >= 0x8000_001f {
        // SAFETY: the leaf exists (checked just above).
        let sme = unsafe { core::arch::x86_64::__cpuid(0x8000_001f) };
        let c_bit = sme.ebx & 0x3f;
        if sme.eax & 3 != 0 && cr3 & (1 << c_bit) != 0 {
            return Some("memory encryption (SME/SEV)");
        }
    }
    None
}
