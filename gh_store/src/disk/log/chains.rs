//! Chains of blocks (data over 4 MiB) on disk: each block is its own record
//! whose `next_block` names its continuation. A chain is served whole or
//! not at all, so recovery drops every block of a chain that is not
//! complete, and deleting a chain deletes its head first.

use super::super::super::addr::BlockAddr;
use super::super::block_info::{BlockInfo, FLAG_VALID};
use super::super::device::SectorDevice;
use super::super::geometry::CLUSTER_SIZE;
use super::super::record::RECORD_LEN;
use super::{DiskLog, LogError, RecoveryReport};

impl<'m, D: SectorDevice> DiskLog<'m, D> {
    /// The record in `slot` of the in-memory area, with its sequence.
    fn record_at(&self, slot: usize) -> Option<(BlockInfo, u64)> {
        let start = slot.checked_mul(RECORD_LEN)?;
        let bytes = self.image.get(start..start.checked_add(RECORD_LEN)?)?;
        BlockInfo::decode(bytes).ok()
    }

    /// Recovery's chain check, after every live block's clusters are
    /// claimed. First, ascending, a continuation of a deleted or dropped
    /// block is dropped (the drop carries down the chain); then, descending,
    /// a block whose continuation is missing, dropped or not after it is
    /// dropped (the drop carries up to the head). Links that only go
    /// forward cannot loop.
    pub(super) fn drop_broken_chains(
        &mut self,
        report: &mut RecoveryReport,
    ) -> Result<(), LogError> {
        for slot in 0..self.used {
            let Some((info, _)) = self.record_at(slot) else {
                continue;
            };
            let forward = info.next_block.filter(|&next| next > info.addr);
            if let (false, Some(next)) = (info.is_valid(), forward) {
                if let Some(next_slot) = self.live_slot(next)? {
                    self.drop_chain_block(next_slot, report)?;
                }
            }
        }
        for slot in (0..self.used).rev() {
            let Some((info, _)) = self.record_at(slot) else {
                continue;
            };
            let Some(next) = info.next_block.filter(|_| info.is_valid()) else {
                continue;
            };
            if next <= info.addr || self.live_slot(next)?.is_none() {
                self.drop_chain_block(slot, report)?;
            }
        }
        Ok(())
    }

    /// The slot of `addr` if it is live.
    fn live_slot(&self, addr: BlockAddr) -> Result<Option<usize>, LogError> {
        let table = super::BlockInfoTable::new(&*self.image, self.used);
        let Some(slot) = table.find(addr)? else {
            return Ok(None);
        };
        Ok(table.get(slot)?.is_valid().then_some(slot))
    }

    /// Marks the live block in `slot` deleted in memory and gives back the
    /// clusters recovery claimed for it.
    fn drop_chain_block(
        &mut self,
        slot: usize,
        report: &mut RecoveryReport,
    ) -> Result<(), LogError> {
        let (mut info, sequence) = self.record_at(slot).ok_or(LogError::Corrupt)?;
        info.flags &= !FLAG_VALID;
        let start = slot * RECORD_LEN;
        let bytes = self
            .image
            .get_mut(start..start + RECORD_LEN)
            .ok_or(LogError::Corrupt)?;
        info.encode(bytes, sequence)
            .map_err(|_| LogError::Corrupt)?;
        let clusters = u32::try_from(info.length.div_ceil(CLUSTER_SIZE as u64))
            .map_err(|_| LogError::Corrupt)?;
        self.release_chain(info.first_cluster, clusters)?;
        report.broken_chains += 1;
        Ok(())
    }

    /// Deletes the chain headed by `head`, head first, so that a power cut
    /// part way leaves a chain recovery drops whole; returns how many
    /// blocks were live.
    pub fn delete_chain(&mut self, head: BlockAddr) -> Result<usize, LogError> {
        let mut next = Some(head);
        let mut deleted = 0usize;
        // Links only go forward, so the walk ends; the bound is a guard.
        for _ in 0..self.used {
            let Some(addr) = next else {
                break;
            };
            let Some(info) = self.lookup(addr)? else {
                break;
            };
            self.delete(addr)?;
            deleted += 1;
            next = info.next_block.filter(|&n| n > addr);
        }
        Ok(deleted)
    }
}
