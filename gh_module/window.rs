// SPDX-License-Identifier: GPL-2.0

//! A core's private mappings, in that core's own page tables and in no others: its data
//! window, the core's reserved memory mapped from [`WINDOW_BASE`], where the core reaches
//! its arrays (Linux prepares them through the direct map before the core starts); and
//! its stack at [`STACK_BASE`] above an unmapped guard page, so an overflow faults
//! instead of running over other memory.
//!
//! Both sit in the lower half, which GigaHttpd's tables leave to them (they share only
//! Linux's kernel half), one top-level entry each. Their pages are supervisor-only,
//! writable and never executable; 2 MiB blocks get 2 MiB pages.

use kernel::prelude::*;

use crate::pages::Pages;

/// Where every core sees its window: top-level entry 32, 16 TiB.
pub(crate) const WINDOW_BASE: usize = 32 << 39;

/// How much one window can map: one top-level entry's 512 GiB.
pub(crate) const WINDOW_LIMIT: usize = 1 << 39;

/// The guard page under every core's stack: top-level entry 33. The stack follows it.
pub(crate) const STACK_BASE: usize = 33 << 39;

const PRESENT: u64 = 1;
const WRITABLE: u64 = 1 << 1;
const ACCESSED: u64 = 1 << 5;
const DIRTY: u64 = 1 << 6;
const HUGE: u64 = 1 << 7;
const NO_EXECUTE: u64 = 1 << 63;
const ADDRESS: u64 = 0x000f_ffff_ffff_f000;

/// Flags of a table entry that points to the next table.
const TABLE: u64 = PRESENT | WRITABLE | ACCESSED;
/// Flags of a data page (accessed and dirty preset: the CPU has nothing to write back).
const DATA: u64 = PRESENT | WRITABLE | ACCESSED | DIRTY | NO_EXECUTE;

const SMALL: usize = 4096;
const LARGE: usize = 2 << 20;

/// The page tables of one core's private mappings, freed on drop (after the core
/// stopped).
pub(crate) struct Window {
    tables: KVec<Pages>,
}

impl Window {
    /// Maps `runs` (physical address and length of each physically contiguous piece of
    /// the core's memory, in carving order) one after another from [`WINDOW_BASE`] in
    /// the top-level table `pgd`.
    pub(crate) fn map(pgd: &Pages, runs: impl Iterator<Item = (u64, usize)>) -> Result<Self> {
        let mut window = Self {
            tables: KVec::new(),
        };
        let mut at = 0usize;
        for (phys, len) in runs {
            let mut done = 0;
            while done < len {
                let (page_phys, offset) = (phys + done as u64, at + done);
                let size = if offset % LARGE == 0
                    && page_phys % LARGE as u64 == 0
                    && len - done >= LARGE
                {
                    LARGE
                } else {
                    SMALL
                };
                if offset + size > WINDOW_LIMIT {
                    return Err(ENOMEM);
                }
                window.map_page(pgd, WINDOW_BASE + offset, page_phys, size)?;
                done += size;
            }
            at += len;
        }
        Ok(window)
    }

    /// Maps the stack of `len` bytes at physical `phys` just above the guard page at
    /// [`STACK_BASE`]; returns the stack's top as the core sees it.
    pub(crate) fn map_stack(&mut self, pgd: &Pages, phys: u64, len: usize) -> Result<usize> {
        let bottom = STACK_BASE + SMALL;
        for page in (0..len).step_by(SMALL) {
            self.map_page(pgd, bottom + page, phys + page as u64, SMALL)?;
        }
        Ok(bottom + len)
    }

    /// Maps one page of `size` (4 KiB or 2 MiB) at `virt`.
    fn map_page(&mut self, pgd: &Pages, virt: usize, phys: u64, size: usize) -> Result {
        let pdpt = self.next_table(pgd.addr(), (virt >> 39) & 511)?;
        let pd = self.next_table(pdpt, (virt >> 30) & 511)?;
        if size == LARGE {
            write_entry(pd, (virt >> 21) & 511, phys | DATA | HUGE);
            return Ok(());
        }
        let pt = self.next_table(pd, (virt >> 21) & 511)?;
        write_entry(pt, (virt >> 12) & 511, phys | DATA);
        Ok(())
    }

    /// The table entry `index` of `table` points to, made (zeroed) if it is empty.
    /// Returns the next table's direct-map address.
    fn next_table(&mut self, table: usize, index: usize) -> Result<usize> {
        let entry = read_entry(table, index);
        if entry & PRESENT != 0 {
            // SAFETY: `page_offset_base` is set at boot and read-only afterwards.
            let direct_map = unsafe { crate::bindings::page_offset_base } as usize;
            return Ok(direct_map + (entry & ADDRESS) as usize);
        }
        let next = Pages::new(0)?;
        let (addr, phys) = (next.addr(), next.phys());
        // Kept before it is linked, so a table in use is never freed early.
        self.tables.push(next, GFP_KERNEL)?;
        write_entry(table, index, phys | TABLE);
        Ok(addr)
    }

    /// Page-table pages used.
    pub(crate) fn tables(&self) -> usize {
        self.tables.len()
    }
}

fn read_entry(table: usize, index: usize) -> u64 {
    // SAFETY: `table` is a page table page of 512 entries in the direct map, owned by
    // this window or the core's top-level table; `index` < 512. The core is not running.
    unsafe { (table as *const u64).add(index & 511).read() }
}

fn write_entry(table: usize, index: usize, value: u64) {
    // SAFETY: as in `read_entry`; nothing walks these tables until the core starts.
    unsafe { (table as *mut u64).add(index & 511).write(value) }
}
