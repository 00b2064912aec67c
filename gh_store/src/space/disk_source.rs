//! A block's data for the disk log, gathered from its pages into one
//! caller-provided buffer: the log writes clusters from contiguous data.

use super::super::addr::BlockAddr;
use super::super::disk::log::LogError;
use super::super::disk::write_queue::BlockSource;
use super::super::page_pool::PagePool;
use super::{AddressSpace, Residency};

/// Reads blocks of `space` when the write queue carries their writes out.
pub struct SpaceSource<'s, 'a, 'p> {
    space: &'s AddressSpace<'a>,
    pool: &'s PagePool<'p>,
    scratch: &'s mut [u8],
}

impl<'s, 'a, 'p> SpaceSource<'s, 'a, 'p> {
    /// A source gathering into `scratch`, which must hold the largest block
    /// written (at most 4 MiB).
    pub fn new(space: &'s AddressSpace<'a>, pool: &'s PagePool<'p>, scratch: &'s mut [u8]) -> Self {
        Self {
            space,
            pool,
            scratch,
        }
    }
}

impl BlockSource for SpaceSource<'_, '_, '_> {
    fn block_data(&mut self, addr: BlockAddr) -> Result<&[u8], LogError> {
        let slot = self.space.slot(addr).map_err(|_| LogError::NotFound)?;
        if slot.residency != Residency::Resident {
            return Err(LogError::NotFound);
        }
        let length = slot.block.header.length as usize;
        let out = self
            .scratch
            .get_mut(..length)
            .ok_or(LogError::BufferTooSmall)?;
        let copied = slot.block.read(self.pool, 0, out);
        out.get(..copied).ok_or(LogError::BufferTooSmall)
    }
}
