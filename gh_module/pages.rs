// SPDX-License-Identifier: GPL-2.0

//! Whole pages from the page allocator, freed on drop.

use kernel::prelude::*;

use crate::bindings;

/// `2^order` contiguous, zeroed pages in the direct map.
pub(crate) struct Pages {
    addr: usize,
    order: u32,
}

impl Pages {
    /// Allocates `2^order` zeroed pages.
    pub(crate) fn new(order: u32) -> Result<Self> {
        Self::alloc(order, kernel::bindings::__GFP_ZERO)
    }

    /// Tries to allocate `2^order` pages, not zeroed; fails quietly and early (no
    /// allocation-failure report, no OOM killer), for callers that fall back to smaller
    /// orders or give up.
    pub(crate) fn try_uninit(order: u32) -> Result<Self> {
        let noretry = 1 << kernel::bindings::___GFP_NORETRY_BIT;
        Self::alloc(order, kernel::bindings::__GFP_NOWARN | noretry)
    }

    fn alloc(order: u32, extra: kernel::bindings::gfp_t) -> Result<Self> {
        let gfp = kernel::bindings::GFP_KERNEL | extra;
        // SAFETY: a plain page allocation in process context.
        let addr = unsafe { bindings::get_free_pages_noprof(gfp, order) };
        if addr == 0 {
            return Err(ENOMEM);
        }
        Ok(Self {
            addr: addr as usize,
            order,
        })
    }

    /// Kernel virtual address of the first byte.
    pub(crate) fn addr(&self) -> usize {
        self.addr
    }

    /// Size in bytes.
    pub(crate) fn len(&self) -> usize {
        4096 << self.order
    }

    /// Gives the pages up for good: a device that would not reset may still write them,
    /// so they are never handed back to the allocator.
    pub(crate) fn leak(&mut self) {
        self.addr = 0;
    }

    /// Physical address of the first byte.
    pub(crate) fn phys(&self) -> u64 {
        // SAFETY: `page_offset_base` is set at boot and read-only afterwards.
        let direct_map = unsafe { bindings::page_offset_base } as usize;
        (self.addr - direct_map) as u64
    }
}

impl Drop for Pages {
    fn drop(&mut self) {
        if self.addr == 0 {
            return;
        }
        // SAFETY: these pages were allocated with this order by `new` and are not used
        // after this.
        unsafe { bindings::free_pages(self.addr as _, self.order) };
    }
}
