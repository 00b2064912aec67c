// SPDX-License-Identifier: GPL-2.0

//! Each GigaHttpd core's memory: reserved from Linux at load as whole pages, 2 MiB
//! blocks where the page allocator has them, and carved into the engine's arrays, so
//! nothing is allocated once cores run. The core sees the blocks one after another in
//! its private window ([`crate::window`]); carving hands out window addresses.

use core::ptr::NonNull;

use kernel::prelude::*;

use crate::pages::Pages;
use crate::window::WINDOW_BASE;

/// The largest block: 2^9 pages, 2 MiB, a huge page's worth.
const HUGE_ORDER: u32 = 9;

/// The memory reserved for one core.
pub(crate) struct CoreMemory {
    blocks: KVec<Pages>,
    bytes: usize,
    /// Where `carve` goes on: a block and an offset in it.
    next: (usize, usize),
    /// Bytes carved, alignment padding included.
    used: usize,
}

impl CoreMemory {
    /// Reserves `bytes` (rounded up to whole pages) from Linux.
    pub(crate) fn reserve(bytes: usize) -> Result<Self> {
        let mut pages_left = bytes.div_ceil(4096);
        let mut blocks = KVec::new();
        let mut order = HUGE_ORDER;
        while pages_left > 0 {
            // Never take more than what is left, nor more than the last order that worked.
            while (1usize << order) > pages_left {
                order -= 1;
            }
            match Pages::try_uninit(order) {
                Ok(block) => {
                    pages_left -= 1 << order;
                    blocks.push(block, GFP_KERNEL)?;
                }
                Err(e) if order == 0 => return Err(e),
                Err(_) => order -= 1,
            }
        }
        Ok(Self {
            blocks,
            bytes: bytes.div_ceil(4096) * 4096,
            next: (0, 0),
            used: 0,
        })
    }

    /// The blocks as the window maps them: physical address and length, in order.
    pub(crate) fn runs(&self) -> impl Iterator<Item = (u64, usize)> + '_ {
        self.blocks.iter().map(|b| (b.phys(), b.len()))
    }

    /// Carves an array of `len` copies of `value` out of the reservation, inside one
    /// block, and returns its address in the core's window: only the core, on its own
    /// page tables, may dereference it. The array is the core's until
    /// [`CoreMemory::reset`] or drop; the memory is never handed out twice before either.
    pub(crate) fn carve<T: Copy>(&mut self, len: usize, value: T) -> Result<NonNull<[T]>> {
        let size = len.checked_mul(core::mem::size_of::<T>()).ok_or(ENOMEM)?;
        let align = core::mem::align_of::<T>();
        let (mut block, mut offset) = self.next;
        // Where block `block` starts in the window.
        let mut window_at: usize = self.blocks.iter().take(block).map(Pages::len).sum();
        while let Some(b) = self.blocks.get(block) {
            // Blocks are page aligned, so aligning the offset aligns the address.
            let start = offset.next_multiple_of(align);
            if start.checked_add(size).is_some_and(|end| end <= b.len()) {
                let first = (b.addr() + start) as *mut T;
                for i in 0..len {
                    // SAFETY: `first..first + len` lies inside block `block`, which this
                    // reservation owns, and no earlier `carve` handed it out (`next` only
                    // moves forward); `T` is `Copy`, so overwriting drops nothing.
                    unsafe { first.add(i).write(value) };
                }
                self.used += start - offset + size;
                self.next = (block, start + size);
                let in_window = (WINDOW_BASE + window_at + start) as *mut T;
                let slice = core::ptr::slice_from_raw_parts_mut(in_window, len);
                return NonNull::new(slice).ok_or(ENOMEM);
            }
            self.used += b.len() - offset;
            window_at += b.len();
            block += 1;
            offset = 0;
        }
        Err(ENOMEM)
    }

    /// Takes back everything carved (the caller's arrays must be gone).
    pub(crate) fn reset(&mut self) {
        self.next = (0, 0);
        self.used = 0;
    }

    /// Bytes carved so far.
    pub(crate) fn used(&self) -> usize {
        self.used
    }

    /// Bytes reserved.
    pub(crate) fn bytes(&self) -> usize {
        self.bytes
    }

    /// Number of physically contiguous blocks, and how many of them are 2 MiB.
    pub(crate) fn blocks(&self) -> (usize, usize) {
        let huge = self
            .blocks
            .iter()
            .filter(|b| b.len() == 4096 << HUGE_ORDER)
            .count();
        (self.blocks.len(), huge)
    }
}
