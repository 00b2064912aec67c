//! The block-info area: 128-byte block-info records kept sorted by block
//! address, found by binary search.
//!
//! Deleted blocks leave their record in place with the valid flag cleared (a
//! hole); compaction squeezes the holes out when the area is full.

use super::super::addr::BlockAddr;
use super::block_info::{BlockInfo, BLOCK_INFO_LEN};
use super::record::RecordError;

/// Why a table operation failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TableError {
    /// The record at this slot cannot be trusted.
    Corrupt {
        /// Slot index of the bad record.
        slot: usize,
        /// What is wrong with it.
        error: RecordError,
    },
    /// The area has no free slot even after compaction.
    Full,
    /// Appends must keep addresses strictly increasing.
    OutOfOrder,
}

/// A view of the block-info area: `used` records in `area`, sorted.
pub struct BlockInfoTable<T: AsRef<[u8]>> {
    area: T,
    used: usize,
}

impl<T: AsRef<[u8]>> BlockInfoTable<T> {
    /// Wraps an area holding `used` records; `used` is clamped to capacity.
    pub fn new(area: T, used: usize) -> Self {
        let capacity = area.as_ref().len() / BLOCK_INFO_LEN;
        Self {
            area,
            used: used.min(capacity),
        }
    }

    /// Records the area can hold.
    pub fn capacity(&self) -> usize {
        self.area.as_ref().len() / BLOCK_INFO_LEN
    }

    /// Records in use, holes included (the area's top).
    pub fn used(&self) -> usize {
        self.used
    }

    fn slot(&self, slot: usize) -> &[u8] {
        let start = slot.saturating_mul(BLOCK_INFO_LEN);
        self.area
            .as_ref()
            .get(start..start.saturating_add(BLOCK_INFO_LEN))
            .unwrap_or(&[])
    }
    /// Decodes the record in `slot`.
    pub fn get(&self, slot: usize) -> Result<BlockInfo, TableError> {
        if slot >= self.used {
            return Err(TableError::Corrupt {
                slot,
                error: RecordError::Truncated,
            });
        }
        BlockInfo::decode(self.slot(slot))
            .map(|(info, _)| info)
            .map_err(|error| TableError::Corrupt { slot, error })
    }

    /// Finds the slot holding `addr` (live or hole) by binary search.
    pub fn find(&self, addr: BlockAddr) -> Result<Option<usize>, TableError> {
        let (mut low, mut high) = (0usize, self.used);
        while low < high {
            let mid = low + (high - low) / 2;
            let info = self.get(mid)?;
            match info.addr.cmp(&addr) {
                core::cmp::Ordering::Equal => return Ok(Some(mid)),
                core::cmp::Ordering::Less => low = mid + 1,
                core::cmp::Ordering::Greater => high = mid,
            }
        }
        Ok(None)
    }

    /// The live block-info for `addr`, if any.
    pub fn lookup(&self, addr: BlockAddr) -> Result<Option<BlockInfo>, TableError> {
        match self.find(addr)? {
            Some(slot) => {
                let info = self.get(slot)?;
                Ok(info.is_valid().then_some(info))
            }
            None => Ok(None),
        }
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> BlockInfoTable<T> {
    fn slot_mut(&mut self, slot: usize) -> &mut [u8] {
        let start = slot.saturating_mul(BLOCK_INFO_LEN);
        self.area
            .as_mut()
            .get_mut(start..start.saturating_add(BLOCK_INFO_LEN))
            .unwrap_or(&mut [])
    }

    /// Appends `info` (its address must exceed every stored one), compacting
    /// first if the area is full. Returns the slot written.
    pub fn append(&mut self, info: &BlockInfo, sequence: u64) -> Result<usize, TableError> {
        if let Some(last) = self.used.checked_sub(1) {
            if self.get(last)?.addr >= info.addr {
                return Err(TableError::OutOfOrder);
            }
        }
        if self.used >= self.capacity() {
            self.compact()?;
        }
        if self.used >= self.capacity() {
            return Err(TableError::Full);
        }
        let slot = self.used;
        info.encode(self.slot_mut(slot), sequence)
            .map_err(|error| TableError::Corrupt { slot, error })?;
        self.used += 1;
        Ok(slot)
    }

    /// Marks `addr` deleted in place; returns whether it was live.
    pub fn delete(&mut self, addr: BlockAddr, sequence: u64) -> Result<bool, TableError> {
        let Some(slot) = self.find(addr)? else {
            return Ok(false);
        };
        let mut info = self.get(slot)?;
        if !info.is_valid() {
            return Ok(false);
        }
        info.flags &= !super::block_info::FLAG_VALID;
        info.encode(self.slot_mut(slot), sequence)
            .map_err(|error| TableError::Corrupt { slot, error })?;
        Ok(true)
    }

    /// Slides live records down over the holes, keeping their order, and
    /// zeroes the freed tail. Returns how many slots were freed.
    pub fn compact(&mut self) -> Result<usize, TableError> {
        let mut kept = 0usize;
        for slot in 0..self.used {
            if !self.get(slot)?.is_valid() {
                continue;
            }
            if kept != slot {
                let from = slot * BLOCK_INFO_LEN;
                let to = kept * BLOCK_INFO_LEN;
                self.area
                    .as_mut()
                    .copy_within(from..from.saturating_add(BLOCK_INFO_LEN), to);
            }
            kept += 1;
        }
        let freed = self.used - kept;
        let tail_start = kept.saturating_mul(BLOCK_INFO_LEN);
        let tail_end = self.used.saturating_mul(BLOCK_INFO_LEN);
        if let Some(tail) = self.area.as_mut().get_mut(tail_start..tail_end) {
            tail.fill(0);
        }
        self.used = kept;
        Ok(freed)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::super::block_info::FLAG_VALID;
    use super::*;

    fn info(index: u32) -> BlockInfo {
        BlockInfo {
            addr: BlockAddr::new(5, index).unwrap(),
            length: u64::from(index),
            first_cluster: index,
            flags: FLAG_VALID,
            created: 0,
            permissions: 0,
            owner: 0,
            next_block: None,
            data_crc: 0,
            kind: super::super::super::block_kind::BlockKind::DATA,
            source_machine: 0,
        }
    }

    #[test]
    fn append_find_lookup() {
        let mut area = [0u8; BLOCK_INFO_LEN * 16];
        let mut table = BlockInfoTable::new(&mut area, 0);
        for i in 0..16u32 {
            assert_eq!(table.append(&info(i * 3), u64::from(i)), Ok(i as usize));
        }
        for i in 0..48u32 {
            let addr = BlockAddr::new(5, i).unwrap();
            let found = table.lookup(addr).unwrap();
            if i % 3 == 0 {
                assert_eq!(found, Some(info(i)));
            } else {
                assert_eq!(found, None);
            }
        }
        assert_eq!(table.append(&info(100), 99), Err(TableError::Full));
    }

    #[test]
    fn out_of_order_append_refused() {
        let mut area = [0u8; BLOCK_INFO_LEN * 4];
        let mut table = BlockInfoTable::new(&mut area, 0);
        table.append(&info(5), 1).unwrap();
        assert_eq!(table.append(&info(5), 2), Err(TableError::OutOfOrder));
        assert_eq!(table.append(&info(4), 2), Err(TableError::OutOfOrder));
    }

    #[test]
    fn delete_then_compact_on_full() {
        let mut area = [0u8; BLOCK_INFO_LEN * 8];
        let mut table = BlockInfoTable::new(&mut area, 0);
        for i in 0..8u32 {
            table.append(&info(i), 1).unwrap();
        }
        for i in [1u32, 4, 6] {
            let addr = BlockAddr::new(5, i).unwrap();
            assert_eq!(table.delete(addr, 2), Ok(true));
            assert_eq!(table.delete(addr, 3), Ok(false));
            assert_eq!(table.lookup(addr), Ok(None));
        }
        // Full: the append compacts the three holes away first.
        assert_eq!(table.append(&info(20), 4), Ok(5));
        assert_eq!(table.used(), 6);
        for i in [0u32, 2, 3, 5, 7, 20] {
            let addr = BlockAddr::new(5, i).unwrap();
            assert_eq!(table.lookup(addr), Ok(Some(info(i))));
        }
        for i in [1u32, 4, 6] {
            assert_eq!(table.find(BlockAddr::new(5, i).unwrap()), Ok(None));
        }
        assert!(area[BLOCK_INFO_LEN * 6..].iter().all(|&b| b == 0));
    }

    #[test]
    fn corrupt_record_reported_not_trusted() {
        let mut area = [0u8; BLOCK_INFO_LEN * 8];
        {
            let mut table = BlockInfoTable::new(&mut area, 0);
            for i in 0..8u32 {
                table.append(&info(i), 1).unwrap();
            }
        }
        area[3 * BLOCK_INFO_LEN + 20] ^= 0x40;
        let table = BlockInfoTable::new(&mut area, 8);
        let err = table.lookup(BlockAddr::new(5, 3).unwrap());
        assert_eq!(
            err,
            Err(TableError::Corrupt {
                slot: 3,
                error: RecordError::BadChecksum
            })
        );
    }

    #[test]
    fn used_clamped_to_capacity() {
        let mut area = [0u8; BLOCK_INFO_LEN * 2 + 5];
        let table = BlockInfoTable::new(&mut area, 1000);
        assert_eq!(table.capacity(), 2);
        assert_eq!(table.used(), 2);
    }
}
