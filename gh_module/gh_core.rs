// SPDX-License-Identifier: GPL-2.0

//! The code a GigaHttpd core runs once Linux has let go of it.
//!
//! The trampoline jumps to `gh_core_entry` in long mode, on Linux's trampoline page
//! tables, stack and GDT and with no IDT. The entry moves the core onto its own stack, GDT,
//! IDT and page tables, points GS at the core's shared record, releases the trampoline
//! lock and enters [`gh_core_main`], which never returns and never calls into Linux.
//! Linux and the core talk only through [`CoreShared`].

use core::cell::UnsafeCell;
use core::sync::atomic::{AtomicU32, AtomicU64, Ordering};

use crate::cpu_tables::{FAULT_IST, GDT_LIMIT, TSS_SELECTOR};
use crate::gh_net::counters::Counters;
use crate::gh_net::engine::{NetConfig, Platform};
use crate::gh_net::quarantine::{self, StreamEnd};
use crate::gh_net::server::Server;
use crate::gh_net::site::Page;
use crate::gh_net::wire::{ethernet, ipv4};
use crate::gh_proc::config;
use crate::gh_proc::reports::{Report, Ring};
use crate::gh_proc::seqcount::SeqRecord;
use crate::nic::Driver;
use crate::nic_stats::{NicStats, SendFrame};
use crate::server_mem::ServerArrays;

/// What a core is doing, as published in [`CoreShared::state`].
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
#[repr(u32)]
pub(crate) enum CoreState {
    /// Started by Linux, not yet in its main loop.
    Booting = 0,
    /// In its main loop.
    Running = 1,
    /// Left its main loop on request and halted.
    Stopped = 2,
    /// Took an exception and halted.
    Faulted = 3,
}

impl CoreState {
    /// The word `/proc/gigahttpd/cpus` shows.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Self::Booting => "booting",
            Self::Running => "running",
            Self::Stopped => "stopped",
            Self::Faulted => "faulted",
        }
    }

    fn from_u32(value: u32) -> Self {
        match value {
            1 => Self::Running,
            2 => Self::Stopped,
            3 => Self::Faulted,
            _ => Self::Booting,
        }
    }
}

/// The record a core shares with Linux: written by one side, read by the other.
/// The exception stubs reach `state` and `nmis` through GS at fixed offsets.
#[repr(C)]
pub(crate) struct CoreShared {
    state: AtomicU32,
    stop: AtomicU32,
    /// Test hook: the core stops beating, as if a task it runs were stuck.
    hang: AtomicU32,
    /// NMIs the core took (and returned from); counted by the NMI stub through GS.
    nmis: AtomicU32,
    heartbeat: AtomicU64,
    /// Test hook: the core runs its stack pointer into the guard page.
    overflow: AtomicU32,
    /// Test hook: the core stops beating inside the next `GET /hang` it handles.
    hang_on_request: AtomicU32,
    /// The flow ([`quarantine::flow_key`]) of the frame the core is handling, 0 between
    /// frames: what the watchdog blames when the heartbeat stops.
    working_on: AtomicU64,
    /// Where that flow's byte stream stood when the engine took the frame up
    /// (`Platform::serving`), as [`encode_end`] writes it; 0 if not said.
    stream_end: AtomicU64,
    /// A flow the next run of the core quarantines, set by the watchdog; 0 for none.
    quarantine: AtomicU64,
    /// Its `stream_end`.
    quarantine_end: AtomicU64,
    /// Live settings the core applies (`/proc/gigahttpd/config`), by `config` index.
    settings: [AtomicU32; config::COUNT],
    /// The core's NIC, if it has one: set before the core starts, owned by the core
    /// while it runs, taken back by Linux after it stopped.
    nic_stats: NicStats,
    /// What the core needs to serve: written by Linux before the core starts, only read
    /// afterwards.
    setup: UnsafeCell<CoreSetup>,
    /// The engine's counters, published by the core after each poll.
    engine: EngineStats,
    /// Every counter of the engine, published with `engine`.
    counters: CounterStats,
    /// What the core tells Linux; the worker on CPU 0 prints it.
    reports: Ring,
}

/// What a core serves with, owned by Linux and lent to the core while it runs.
pub(crate) struct CoreSetup {
    pub(crate) nic: *mut Driver,
    pub(crate) server: *mut ServerArrays,
    pub(crate) mac: [u8; 6],
    pub(crate) ip: [u8; 4],
    /// The data network's prefix length.
    pub(crate) prefix_len: u8,
    pub(crate) gateway: [u8; 4],
    pub(crate) port: [u16; 1],
    /// The built-in site's pages.
    pub(crate) pages: &'static [Page<'static>],
    /// The wall clock, Unix seconds, at `unix_at_ms` of the core's clock.
    pub(crate) unix_seconds: u64,
    pub(crate) unix_at_ms: u64,
    /// TSC ticks per millisecond (Linux's `tsc_khz`).
    pub(crate) tsc_per_ms: u64,
    pub(crate) seed: [u64; 4],
}

/// The engine counters `/proc` shows, copied from the core's server.
#[derive(Clone, Copy, Default)]
pub(crate) struct EngineView {
    pub(crate) arp_replies: u64,
    pub(crate) echo_replies: u64,
    pub(crate) tcp_resets: u64,
    pub(crate) http_requests: u64,
    pub(crate) dropped: u64,
    pub(crate) rx_frames: u64,
    pub(crate) connections: u64,
    pub(crate) parked: u64,
    /// Thousandths of the last timer period spent handling frames and timers.
    pub(crate) busy_permille: u64,
    /// Requests of a quarantined flow refused (500, or RST).
    pub(crate) quarantined: u64,
}

/// Every counter of the core's engine (`gh_net::counters::Counters`, in declaration
/// order), published as one record after each timer tick.
#[derive(Default)]
pub(crate) struct CounterStats(SeqRecord<{ Counters::COUNT }>);

impl CounterStats {
    fn publish(&self, counters: &Counters) {
        self.0.write(&counters.values());
    }

    /// The last published values; all zero while the core is in the middle of publishing
    /// (only a core reset at that instant stays there).
    pub(crate) fn read(&self) -> [u64; Counters::COUNT] {
        self.0.read().unwrap_or([0; Counters::COUNT])
    }
}

/// How many words an [`EngineView`] takes.
const ENGINE_WORDS: usize = 10;

/// The core's [`EngineView`], published as one record after each timer tick, so a
/// reader never mixes two ticks.
#[derive(Default)]
pub(crate) struct EngineStats(SeqRecord<ENGINE_WORDS>);

impl EngineStats {
    fn publish(&self, server: &Server<'_>, busy_permille: u64) {
        let c = &server.counters;
        self.0.write(&[
            c.arp_replies_sent,
            c.icmp_echo_replies,
            c.tcp_resets_sent,
            c.http_requests,
            c.dropped(),
            c.rx_frames,
            server.connections() as u64,
            server.parked() as u64,
            busy_permille,
            c.http_quarantined,
        ]);
    }

    /// The last published counters; all zero while the core is in the middle of
    /// publishing (only a core reset at that instant stays there).
    pub(crate) fn read(&self) -> EngineView {
        let Some(
            [arp_replies, echo_replies, tcp_resets, http_requests, dropped, rx_frames, connections, parked, busy_permille, quarantined],
        ) = self.0.read()
        else {
            return EngineView::default();
        };
        EngineView {
            arp_replies,
            echo_replies,
            tcp_resets,
            http_requests,
            dropped,
            rx_frames,
            connections,
            parked,
            busy_permille,
            quarantined,
        }
    }
}

// SAFETY: `setup` is written only through `&mut self` before the core starts and read
// afterwards; everything else is atomic.
unsafe impl Sync for CoreShared {}

impl CoreShared {
    pub(crate) fn new(setup: CoreSetup) -> Self {
        Self {
            state: AtomicU32::new(CoreState::Booting as u32),
            stop: AtomicU32::new(0),
            hang: AtomicU32::new(0),
            nmis: AtomicU32::new(0),
            heartbeat: AtomicU64::new(0),
            overflow: AtomicU32::new(0),
            hang_on_request: AtomicU32::new(0),
            working_on: AtomicU64::new(0),
            stream_end: AtomicU64::new(0),
            quarantine: AtomicU64::new(0),
            quarantine_end: AtomicU64::new(0),
            settings: config::defaults().map(AtomicU32::new),
            nic_stats: NicStats::default(),
            setup: UnsafeCell::new(setup),
            engine: EngineStats::default(),
            counters: CounterStats::default(),
            reports: Ring::new(),
        }
    }

    /// The core's reports to Linux.
    pub(crate) fn reports(&self) -> &Ring {
        &self.reports
    }

    /// The engine's counters.
    pub(crate) fn engine_stats(&self) -> &EngineStats {
        &self.engine
    }

    /// Every counter of the engine.
    pub(crate) fn counters(&self) -> &CounterStats {
        &self.counters
    }

    pub(crate) fn nic_stats(&self) -> &NicStats {
        &self.nic_stats
    }

    pub(crate) fn state(&self) -> CoreState {
        CoreState::from_u32(self.state.load(Ordering::Acquire))
    }

    pub(crate) fn heartbeat(&self) -> u64 {
        self.heartbeat.load(Ordering::Relaxed)
    }

    pub(crate) fn nmis(&self) -> u32 {
        self.nmis.load(Ordering::Relaxed)
    }

    /// Asks the core to leave its main loop and halt.
    pub(crate) fn request_stop(&self) {
        self.stop.store(1, Ordering::Release);
    }

    /// Makes the core spin without a heartbeat (test hook for the watchdog).
    pub(crate) fn inject_hang(&self) {
        self.hang.store(1, Ordering::Release);
    }

    /// Makes the core spin without a heartbeat inside the next `GET /hang` request it
    /// handles (test hook for the watchdog's quarantine).
    pub(crate) fn inject_hang_on_request(&self) {
        self.hang_on_request.store(1, Ordering::Release);
    }

    /// Makes the core overflow its stack (test hook for the fault stack).
    pub(crate) fn inject_stack_overflow(&self) {
        self.overflow.store(1, Ordering::Release);
    }

    /// The flow of the frame the core is handling now, 0 if none, with where its byte
    /// stream had reached (encoded, 0 if not said).
    pub(crate) fn working_on(&self) -> (u64, u64) {
        (
            self.working_on.load(Ordering::Relaxed),
            self.stream_end.load(Ordering::Relaxed),
        )
    }

    /// Has the core's next run answer `flow` with an error instead of running it;
    /// `stream_end` as [`CoreShared::working_on`] gave it.
    pub(crate) fn quarantine_next_run(&self, (flow, stream_end): (u64, u64)) {
        self.quarantine_end.store(stream_end, Ordering::Relaxed);
        self.quarantine.store(flow, Ordering::Release);
    }

    /// Sets a live setting; the core applies it within a timer tick.
    pub(crate) fn set_setting(&self, index: usize, value: u32) {
        if let Some(setting) = self.settings.get(index) {
            setting.store(value, Ordering::Relaxed);
        }
    }

    fn setting(&self, index: usize) -> u32 {
        self.settings
            .get(index)
            .map_or(0, |s| s.load(Ordering::Relaxed))
    }

    /// Records that Linux reset the core with INIT: it runs nothing now.
    pub(crate) fn mark_stopped(&self) {
        self.state
            .store(CoreState::Stopped as u32, Ordering::Release);
    }

    /// Clears the requests of a previous run before the core is started again.
    pub(crate) fn prepare_boot(&self) {
        self.stop.store(0, Ordering::Relaxed);
        self.hang.store(0, Ordering::Relaxed);
        self.hang_on_request.store(0, Ordering::Relaxed);
        self.overflow.store(0, Ordering::Relaxed);
        self.working_on.store(0, Ordering::Relaxed);
        self.stream_end.store(0, Ordering::Relaxed);
        self.state
            .store(CoreState::Booting as u32, Ordering::Release);
    }
}

// The offsets the exception stubs use.
const _: () = assert!(core::mem::offset_of!(CoreShared, state) == 0);
const _: () = assert!(core::mem::offset_of!(CoreShared, nmis) == 12);

/// What the entry code needs to know about the core being started; written by Linux
/// before each STARTUP IPI, one core at a time. Field offsets are used by the entry code;
/// the GDT and IDT limits sit just before their bases, as `lgdt` and `lidt` read them.
#[repr(C)]
pub(crate) struct BootArgs {
    /// Top of the core's stack, as the core's page tables map it.
    pub(crate) stack_top: u64,
    /// Physical address of the core's top-level page table.
    pub(crate) cr3: u64,
    /// The core's `CoreShared`.
    pub(crate) shared: u64,
    /// The trampoline's lock, released once the core no longer uses the trampoline.
    pub(crate) trampoline_lock: u64,
    pub(crate) gdt_pad: [u16; 3],
    pub(crate) gdt_limit: u16,
    /// The core's own GDT (`crate::cpu_tables`).
    pub(crate) gdt: u64,
    pub(crate) idt_pad: [u16; 3],
    pub(crate) idt_limit: u16,
    pub(crate) idt: u64,
}

// The offsets the entry code uses.
const _: () = assert!(core::mem::offset_of!(BootArgs, stack_top) == 0);
const _: () = assert!(core::mem::offset_of!(BootArgs, cr3) == 8);
const _: () = assert!(core::mem::offset_of!(BootArgs, shared) == 16);
const _: () = assert!(core::mem::offset_of!(BootArgs, trampoline_lock) == 24);
const _: () = assert!(core::mem::offset_of!(BootArgs, gdt_limit) == 38);
const _: () = assert!(core::mem::offset_of!(BootArgs, gdt) == 40);
const _: () = assert!(core::mem::offset_of!(BootArgs, idt_limit) == 54);
const _: () = assert!(core::mem::offset_of!(BootArgs, idt) == 56);

impl BootArgs {
    /// Arguments for a core with these stack, tables, record and trampoline lock.
    pub(crate) fn new(
        stack_top: u64,
        cr3: u64,
        shared: u64,
        trampoline_lock: u64,
        gdt: u64,
    ) -> Self {
        Self {
            stack_top,
            cr3,
            shared,
            trampoline_lock,
            gdt_pad: [0; 3],
            gdt_limit: GDT_LIMIT,
            gdt,
            idt_pad: [0; 3],
            idt_limit: (core::mem::size_of::<Idt>() - 1) as u16,
            idt: gh_idt.0.get() as u64,
        }
    }
}

/// The boot arguments of the core being started.
#[repr(transparent)]
pub(crate) struct BootSlot(UnsafeCell<BootArgs>);

// SAFETY: Linux writes the slot only while no core is between its STARTUP IPI and
// reporting `Running` (cores start one at a time); the core only reads it in that window.
unsafe impl Sync for BootSlot {}

impl BootSlot {
    /// Sets the arguments for the next core to start.
    ///
    /// # Safety
    ///
    /// No core may be starting (between its STARTUP IPI and reporting `Running`).
    pub(crate) unsafe fn set(&self, args: BootArgs) {
        // SAFETY: per the function's contract nobody reads the slot concurrently.
        unsafe { *self.0.get() = args };
    }
}

#[no_mangle]
pub(crate) static gh_boot_args: BootSlot = BootSlot(UnsafeCell::new(BootArgs {
    stack_top: 0,
    cr3: 0,
    shared: 0,
    trampoline_lock: 0,
    gdt_pad: [0; 3],
    gdt_limit: 0,
    gdt: 0,
    idt_pad: [0; 3],
    idt_limit: 0,
    idt: 0,
}));

const KERNEL_CS: u64 = 0x10;

/// Exception vectors whose handler runs on the fault stack.
const DOUBLE_FAULT: usize = 8;
const STACK_FAULT: usize = 12;
const PAGE_FAULT: usize = 14;
const MACHINE_CHECK: usize = 18;

/// The IDT all GigaHttpd cores share: NMIs return at once, a machine check the core can
/// go on from returns too, every other vector halts the core as `Faulted`. Interrupts stay
/// masked, so only NMIs and exceptions arrive. Double, stack and page faults and machine
/// checks switch to the core's fault stack (IST), so they are handled even when the
/// core's own stack is what failed.
#[repr(C, align(16))]
pub(crate) struct Idt(UnsafeCell<[u64; 512]>);

// SAFETY: written once by `Idt::fill` before any core starts, read-only afterwards.
unsafe impl Sync for Idt {}

#[no_mangle]
pub(crate) static gh_idt: Idt = Idt(UnsafeCell::new([0; 512]));

extern "C" {
    fn gh_core_entry();
    fn gh_core_nmi();
    fn gh_core_machine_check();
    fn gh_core_fault();
}

impl Idt {
    /// Fills every gate.
    ///
    /// # Safety
    ///
    /// No GigaHttpd core may be running.
    pub(crate) unsafe fn fill(&self) {
        // SAFETY: per the contract no core reads the table now.
        let gates = unsafe { &mut *self.0.get() };
        for (vector, gate) in gates.chunks_exact_mut(2).enumerate() {
            let handler = match vector {
                2 => gh_core_nmi,
                MACHINE_CHECK => gh_core_machine_check,
                _ => gh_core_fault,
            };
            let ist = match vector {
                DOUBLE_FAULT | STACK_FAULT | PAGE_FAULT | MACHINE_CHECK => FAULT_IST,
                _ => 0,
            };
            let offset = handler as usize as u64;
            // 64-bit interrupt gate: present, DPL 0, type 0xE.
            let low = (offset & 0xffff)
                | (KERNEL_CS << 16)
                | ((0x8e00 | ist) << 32)
                | ((offset >> 16) & 0xffff) << 48;
            if let [lo, hi] = gate {
                *lo = low;
                *hi = offset >> 32;
            }
        }
    }
}

/// Where the trampoline jumps to.
pub(crate) fn entry_address() -> u64 {
    gh_core_entry as usize as u64
}

// The entry and the exception stubs. AT&T syntax; offsets into `BootArgs` are checked
// above. The entry loads the core's GDT and TSS from the boot arguments (static data,
// mapped on the trampoline's page tables and on the core's), sets GS to the core's
// `CoreShared` so the stubs can use it, and only then loads the IDT (an NMI taken before
// finds GS set). It switches to the core's page tables, flushes the trampoline's global
// translations by turning CR4.PGE off and on (as Linux's own bring-up does), enables
// machine checks (CR4.MCE: without it a machine check shuts the CPU down, and with it
// Linux would too on a CPU it still ran), then moves to the core's stack, which only its
// tables map. The CS selector keeps the trampoline's 64-bit code
// descriptor, which equals entry 0x10 of the core's GDT, so an `iretq` reloading it finds
// the same segment.
core::arch::global_asm!(
    r#"
    .pushsection .text

    // The start of an exception stub: entered by the CPU, not by a call, so objtool is
    // told there is nothing to unwind past it.
    .macro exception_entry name
    .balign 16
    .globl \name
    .type \name, @notype
\name:
.L\name\()_start:
    .pushsection .discard.unwind_hints
    .long .L\name\()_start - .
    .short 0
    .byte 0, 1, 0
    .balign 4
    .popsection
    endbr64
    .endm

    .balign 16
    .globl gh_core_entry
    .type gh_core_entry, @function
gh_core_entry:
    endbr64
    cli
    lgdt gh_boot_args+38(%rip)
    movl $0x18, %eax
    movl %eax, %ds
    movl %eax, %es
    movl %eax, %ss
    xorl %eax, %eax
    movl %eax, %fs
    movl %eax, %gs
    movl ${tss}, %eax
    ltr %ax
    movq gh_boot_args+16(%rip), %rax
    movq %rax, %rdx
    shrq $32, %rdx
    movl $0xc0000101, %ecx
    wrmsr
    lidt gh_boot_args+54(%rip)
    movq gh_boot_args+8(%rip), %rax
    movq %rax, %cr3
    movq %cr4, %rax
    orq $0x40, %rax
    movq %rax, %rdx
    andq $-129, %rdx
    movq %rdx, %cr4
    movq %rax, %cr4
    movq gh_boot_args+0(%rip), %rsp
    movq gh_boot_args+24(%rip), %rax
    movl $0, (%rax)
    movq gh_boot_args+16(%rip), %rdi
    jmp gh_core_main
    .size gh_core_entry, . - gh_core_entry

    exception_entry gh_core_nmi
    lock incl %gs:12
    iretq
    .size gh_core_nmi, . - gh_core_nmi

    // A machine check: if the interrupted code may go on (IA32_MCG_STATUS.RIPV), the
    // check is over (MCIP cleared) and the core returns; otherwise it halts as faulted.
    // Linux's own handler logs the banks; the core cannot, and leaves them as they are.
    exception_entry gh_core_machine_check
    pushq %rax
    pushq %rcx
    pushq %rdx
    movl $0x17a, %ecx
    rdmsr
    testl $1, %eax
    jz gh_core_fault
    xorl %eax, %eax
    xorl %edx, %edx
    wrmsr
    popq %rdx
    popq %rcx
    popq %rax
    iretq
    .size gh_core_machine_check, . - gh_core_machine_check

    exception_entry gh_core_fault
    movl $3, %gs:0
2:
    cli
    hlt
    jmp 2b
    .size gh_core_fault, . - gh_core_fault
    .popsection
    "#,
    tss = const TSS_SELECTOR,
    options(att_syntax)
);

/// A core's main loop: runs until Linux asks it to stop, then halts for good (Linux
/// resets it with INIT). Calls nothing outside this function.
#[no_mangle]
extern "C" fn gh_core_main(shared: &'static CoreShared) -> ! {
    // SAFETY: Linux wrote the setup before starting this core and does not change it, nor
    // touch the NIC or the server's arrays, until the core has stopped.
    let setup = unsafe { &*shared.setup.get() };
    // SAFETY: as above; null means no NIC (or no server memory).
    let (mut nic, arrays) = unsafe { (setup.nic.as_mut(), setup.server.as_mut()) };
    let mut clock = Clock::new(setup);
    let now = clock.now_ms();
    let unix_seconds = setup.unix_seconds + now.saturating_sub(setup.unix_at_ms) / 1000;
    let slots = arrays.as_ref().map_or(0, |a| a.connections());
    let mut server = arrays.and_then(|a| {
        Server::new(
            a.memory(),
            NetConfig {
                mac: ethernet::Address(setup.mac),
                ip: ipv4::Address(setup.ip),
                prefix_len: setup.prefix_len,
                gateway: Some(ipv4::Address(setup.gateway)),
            },
            &setup.port,
            setup.pages,
            unix_seconds,
            setup.seed,
            now,
        )
    });
    let quarantined = shared.quarantine.swap(0, Ordering::AcqRel);
    if let (Some(server), true) = (server.as_mut(), quarantined != 0) {
        let end = shared.quarantine_end.swap(0, Ordering::Relaxed);
        server.quarantine(quarantined, decode_end(end), now);
    }
    let mut tuning = Tuning::default();
    let mut next_tick = 0;
    if server.is_some() {
        shared.reports.push(Report::Serving {
            ip: setup.ip,
            port: setup.port[0],
            connections: slots as u64,
        });
    } else if nic.is_some() {
        shared.reports.push(Report::NoServer);
    }
    // The previous run may have been stopped anywhere in the driver (INIT from the
    // watchdog or after a stop that timed out, or an exception): take the rings up where
    // the device sees them.
    if let Some(nic) = nic.as_deref_mut() {
        nic.resync();
    }
    // Pool-full reports: the count last reported, and when (at most one a second).
    let (mut pool_full_told, mut pool_full_at) = (0u64, 0u64);
    shared
        .state
        .store(CoreState::Running as u32, Ordering::Release);
    // TSC cycles spent on frames and timers, and when the current period began.
    let (mut busy, mut period_start) = (0u64, tsc());
    while shared.stop.load(Ordering::Acquire) == 0 {
        shared.heartbeat.fetch_add(1, Ordering::Relaxed);
        if let (Some(nic), Some(server)) = (nic.as_deref_mut(), server.as_mut()) {
            let stats = &shared.nic_stats;
            let (start, mut frames) = (tsc(), 0u32);
            nic.poll(stats, &mut |frame, reply| {
                frames += 1;
                shared.working_on.store(
                    quarantine::frame_flow(frame).unwrap_or(0),
                    Ordering::Relaxed,
                );
                shared.stream_end.store(0, Ordering::Relaxed);
                // The test hook stops the core where a request would: once the engine
                // has found the connection and said where its stream stands.
                let hang =
                    shared.hang_on_request.load(Ordering::Relaxed) != 0 && requests_hang(frame);
                server.receive(
                    frame,
                    &mut CorePlatform {
                        clock: &mut clock,
                        send: reply,
                        stream_end: &shared.stream_end,
                        hang,
                    },
                );
                if hang {
                    spin_forever();
                }
            });
            if frames > 0 {
                shared.working_on.store(0, Ordering::Relaxed);
                busy += tsc().wrapping_sub(start);
            }
            if clock.now_ms() >= next_tick {
                next_tick = clock.now_ms() + TICK_MS;
                let start = tsc();
                tuning.apply(shared, server);
                server.tick(&mut CorePlatform {
                    clock: &mut clock,
                    send: &mut |len, build| nic.send(stats, len, build),
                    stream_end: &shared.stream_end,
                    hang: false,
                });
                let now = tsc();
                busy += now.wrapping_sub(start);
                let period = now.wrapping_sub(period_start).max(1);
                shared
                    .engine
                    .publish(server, busy.saturating_mul(1000) / period);
                shared.counters.publish(&server.counters);
                let pool_full = server.counters.tcp_pool_full;
                let now_ms = clock.now_ms();
                if pool_full > pool_full_told && now_ms >= pool_full_at + 1000 {
                    shared.reports.push(Report::PoolFull { total: pool_full });
                    (pool_full_told, pool_full_at) = (pool_full, now_ms);
                }
                (busy, period_start) = (0, now);
            }
        }
        if shared.hang.load(Ordering::Relaxed) != 0 {
            spin_forever();
        }
        if shared.overflow.load(Ordering::Relaxed) != 0 {
            overflow_stack();
        }
        core::hint::spin_loop();
    }
    shared
        .state
        .store(CoreState::Stopped as u32, Ordering::Release);
    loop {
        // SAFETY: halting with interrupts masked is what a stopped core does; only INIT
        // (or an NMI, which returns here) wakes it.
        unsafe { core::arch::asm!("cli", "hlt", options(nomem, nostack)) };
    }
}

/// The live settings a core's server runs with, as last applied.
#[derive(Default)]
struct Tuning {
    initial_window: u32,
    idle_ms: u32,
}

impl Tuning {
    /// Hands the server the settings Linux changed since the last call (all of them on
    /// the first call).
    fn apply(&mut self, shared: &CoreShared, server: &mut Server<'_>) {
        let window = shared.setting(config::INITIAL_WINDOW);
        if window != self.initial_window {
            self.initial_window = window;
            server.set_initial_window(u16::try_from(window).unwrap_or(u16::MAX));
        }
        let idle_ms = shared.setting(config::IDLE_MS);
        if idle_ms != self.idle_ms {
            self.idle_ms = idle_ms;
            server.set_idle_ms(idle_ms);
        }
    }
}

/// What a stuck task looks like from outside: busy, no heartbeat, deaf to stop.
fn spin_forever() -> ! {
    loop {
        core::hint::spin_loop();
    }
}

/// Bytes of a core's stack.
pub(crate) const STACK_BYTES: usize = 16 * 1024;

/// Moves the stack pointer a whole stack down, past the stack's bottom into the guard
/// page, and pushes: what a runaway recursion does (test hook for the fault stack).
fn overflow_stack() -> ! {
    // SAFETY: this faults on purpose: the push's page fault switches to the fault stack
    // (IST), whose handler marks the core faulted and halts it; nothing returns here.
    unsafe {
        core::arch::asm!(
            "sub rsp, {bytes}",
            "push rax",
            "ud2",
            bytes = const STACK_BYTES,
            options(noreturn)
        )
    }
}

/// The request the hang-on-request hook waits for: a stand-in for a task that never ends.
const HANG_REQUEST: &[u8] = b"GET /hang ";

/// Whether `frame` is an IPv4 TCP segment whose data starts with [`HANG_REQUEST`].
fn requests_hang(frame: &[u8]) -> bool {
    let Some(&version_ihl) = frame.get(14) else {
        return false;
    };
    let tcp = 14 + usize::from(version_ihl & 0xf) * 4;
    let Some(&offset) = frame.get(tcp + 12) else {
        return false;
    };
    let data = tcp + usize::from(offset >> 4) * 4;
    quarantine::frame_flow(frame).is_some()
        && frame
            .get(data..data + HANG_REQUEST.len())
            .is_some_and(|d| d == HANG_REQUEST)
}

/// The time-stamp counter.
fn tsc() -> u64 {
    // SAFETY: RDTSC has no side effects.
    unsafe { core::arch::x86_64::_rdtsc() }
}

/// How often timers run and counters are published.
const TICK_MS: u64 = 10;

/// Time from the TSC and randomness from a generator seeded by Linux.
struct Clock {
    tsc_per_ms: u64,
    rng: u64,
}

impl Clock {
    fn new(setup: &CoreSetup) -> Self {
        Self {
            tsc_per_ms: setup.tsc_per_ms.max(1),
            rng: setup.seed[0] | 1,
        }
    }

    fn now_ms(&self) -> u64 {
        tsc().checked_div(self.tsc_per_ms).unwrap_or(0)
    }

    fn random(&mut self) -> u64 {
        // xorshift64: not for secrets (those come from Linux's seed), only for jitter.
        self.rng ^= self.rng << 13;
        self.rng ^= self.rng >> 7;
        self.rng ^= self.rng << 17;
        self.rng
    }
}

/// The engine's view of the core: its clock and the NIC's transmit ring, where the engine
/// builds each frame in place.
struct CorePlatform<'a, 's> {
    clock: &'a mut Clock,
    send: &'a mut SendFrame<'s>,
    /// [`CoreShared::stream_end`].
    stream_end: &'a AtomicU64,
    /// Test hook: stop the core once the engine has said where the stream stands.
    hang: bool,
}

/// A stream end as `CoreShared::stream_end` keeps it: 0 is not said, `1 << 32 | end` an
/// end, `2 << 32` a stream still owing responses.
fn encode_end(stream_end: Option<u32>) -> u64 {
    stream_end.map_or(2 << 32, |end| 1 << 32 | u64::from(end))
}

/// The stream end [`encode_end`] wrote.
fn decode_end(encoded: u64) -> StreamEnd {
    match encoded >> 32 {
        1 => StreamEnd::At(encoded as u32),
        2 => StreamEnd::Unsettled,
        _ => StreamEnd::Unknown,
    }
}

impl Platform for CorePlatform<'_, '_> {
    fn now_ms(&self) -> u64 {
        self.clock.now_ms()
    }

    fn random(&mut self) -> u64 {
        self.clock.random()
    }

    fn serving(&mut self, stream_end: Option<u32>) {
        self.stream_end
            .store(encode_end(stream_end), Ordering::Relaxed);
        if self.hang {
            spin_forever();
        }
    }

    fn transmit(&mut self, len: usize, build: &mut dyn FnMut(&mut [u8])) -> bool {
        (self.send)(len, build)
    }
}
