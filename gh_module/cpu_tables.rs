// SPDX-License-Identifier: GPL-2.0

//! A core's own GDT and TSS, and the stack its fault handlers run on.
//!
//! The TSS's first interrupt stack (IST 1) is where the CPU switches for a double fault,
//! a page fault or a stack fault, whatever the core's stack pointer was: a core that
//! overflows its stack into the guard page (see [`crate::window`]) reaches its fault
//! handler and halts as `faulted`, instead of faulting again while pushing the
//! exception frame and resetting the whole machine with a triple fault.
//!
//! Each core needs its own: `ltr` marks the TSS descriptor busy in the GDT, so the
//! descriptor is rewritten as available before every start of the core.

use kernel::prelude::*;

use crate::pages::Pages;

/// GDT: null, 32-bit code, 64-bit code (0x10), data (0x18), the TSS (0x20, two entries).
/// The code and data selectors match Linux's; accessed bits are preset so the CPU never
/// writes them.
const GDT: [u64; 4] = [
    0,
    0x00cf_9b00_0000_ffff,
    0x00af_9b00_0000_ffff,
    0x00cf_9300_0000_ffff,
];

/// Bytes of the GDT, TSS descriptor included.
const GDT_LEN: usize = (GDT.len() + 2) * 8;

/// Where the TSS lies in the page, after the GDT.
const TSS_AT: usize = GDT_LEN;

/// Size of a 64-bit TSS.
const TSS_LEN: usize = 104;

/// Offset of IST 1 in the TSS.
const TSS_IST1: usize = 36;

/// Offset of the I/O map base in the TSS; pointing it past the TSS means no I/O map.
const TSS_IOMAP_BASE: usize = 102;

/// The selector `ltr` loads.
pub(crate) const TSS_SELECTOR: u16 = (GDT.len() * 8) as u16;

/// The GDT's limit for `lgdt`.
pub(crate) const GDT_LIMIT: u16 = (GDT_LEN - 1) as u16;

/// The interrupt-stack index the fault gates use.
pub(crate) const FAULT_IST: u64 = 1;

/// One page: the GDT and TSS at its start, the fault handlers' stack growing down from
/// its end (they push one exception frame and halt).
pub(crate) struct CpuTables {
    page: Pages,
}

impl CpuTables {
    pub(crate) fn new() -> Result<Self> {
        Ok(Self {
            page: Pages::new(0)?,
        })
    }

    /// The GDT's address for `lgdt`.
    pub(crate) fn gdt(&self) -> u64 {
        self.page.addr() as u64
    }

    /// Writes the GDT with an available TSS descriptor, and the TSS. Called before each
    /// start of the core, while it does not run.
    pub(crate) fn prepare(&self) {
        let tss = (self.page.addr() + TSS_AT) as u64;
        let limit = (TSS_LEN - 1) as u64;
        // 64-bit available TSS (type 9), present, DPL 0.
        let tss_low = (limit & 0xffff)
            | (tss & 0xff_ffff) << 16
            | 0x89 << 40
            | (limit >> 16 & 0xf) << 48
            | (tss >> 24 & 0xff) << 56;
        let tss_high = tss >> 32;
        let ist1 = (self.page.addr() + self.page.len()) as u64;
        let page = self.page.addr() as *mut u8;
        // SAFETY: every write lies in the page this struct owns (GDT_LEN + TSS_LEN bytes
        // at its start); the core that uses it is not running, and nothing else reads it.
        unsafe {
            core::ptr::write_bytes(page, 0, GDT_LEN + TSS_LEN);
            let gdt = page.cast::<u64>();
            for (i, entry) in GDT.iter().enumerate() {
                gdt.add(i).write(*entry);
            }
            gdt.add(GDT.len()).write(tss_low);
            gdt.add(GDT.len() + 1).write(tss_high);
            page.add(TSS_AT + TSS_IST1)
                .cast::<u64>()
                .write_unaligned(ist1);
            page.add(TSS_AT + TSS_IOMAP_BASE)
                .cast::<u16>()
                .write_unaligned(TSS_LEN as u16);
        }
    }
}
