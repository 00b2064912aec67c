// SPDX-License-Identifier: GPL-2.0

//! Each GigaHttpd core's memory: reserved from Linux at load as whole pages, 2 MiB
//! blocks where the page allocator has them, so nothing is allocated once cores run.

use kernel::prelude::*;

use crate::pages::Pages;

/// The largest block: 2^9 pages, 2 MiB, a huge page's worth.
const HUGE_ORDER: u32 = 9;

/// The memory reserved for one core.
pub(crate) struct CoreMemory {
    blocks: KVec<Pages>,
    bytes: usize,
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
        })
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
