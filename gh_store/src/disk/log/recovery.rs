//! Recovery: rebuilding a core's disk log from what is on the disk after a
//! restart or a power cut. Nothing read is trusted before it checks out.

use super::super::block_info::{BlockInfo, FLAG_VALID};
use super::super::device::{SectorDevice, SECTOR_SIZE};
use super::super::geometry::{Geometry, CLUSTER_SIZE, RECORDS_PER_SECTOR};
use super::super::header::RegionHeader;
use super::super::record::{RecordError, RECORD_LEN};
use super::super::table::BlockInfoTable;
use super::{checked_memory, DiskLog, LogError, RecoveryReport};

impl<'m, D: SectorDevice> DiskLog<'m, D> {
    /// Rebuilds the index from `device`; corrupt records are counted and
    /// left out, never trusted.
    pub fn recover(
        mut device: D,
        geometry: Geometry,
        image: &'m mut [u8],
        cluster_map: &'m mut [u8],
    ) -> Result<(Self, RecoveryReport), LogError> {
        let (image, cluster_map) = checked_memory(&geometry, image, cluster_map)?;
        if device.sector_count() < geometry.total_sectors() {
            return Err(LogError::TooSmall);
        }
        let (header, header_slot, header_sequence) = read_best_header(&mut device)?;
        if header.block_info_sectors != geometry.block_info_sectors
            || header.clusters != geometry.clusters
        {
            return Err(LogError::NotFormatted);
        }
        for (index, chunk) in image.chunks_mut(SECTOR_SIZE).enumerate() {
            device.read(
                geometry.block_info_sector(index * RECORDS_PER_SECTOR),
                chunk,
            )?;
        }
        cluster_map.fill(0);
        let mut log = Self {
            device,
            geometry,
            image,
            used: 0,
            cluster_map,
            cluster_top: header.cluster_top,
            free_clusters: geometry.clusters,
            sequence: header_sequence,
            next_header_slot: 1 - header_slot,
            stopped: false,
        };
        let mut report = RecoveryReport::default();
        let disk_top = log.normalize_image(&mut report);
        log.rebuild_cluster_map(&mut report)?;
        log.drop_broken_chains(&mut report)?;
        let mut table = BlockInfoTable::new(&mut *log.image, log.used);
        table.compact()?;
        log.used = table.used();
        if let Some(tail) = log.image.get_mut(log.used * RECORD_LEN..) {
            tail.fill(0);
        }
        report.live_blocks = log.used;
        // Make the disk match memory: rewrite the area up to its old top,
        // in ascending order so every record always survives somewhere.
        let last = disk_top.max(log.used);
        log.write_block_info_sectors(0, last)?;
        log.write_header()?;
        Ok((log, report))
    }

    /// Keeps one record per address (the newest), in address order, and
    /// returns one past the highest non-empty slot found on disk.
    fn normalize_image(&mut self, report: &mut RecoveryReport) -> usize {
        let capacity = self.geometry.block_info_capacity();
        let mut kept = 0usize;
        let mut disk_top = 0usize;
        for slot in 0..capacity {
            let start = slot * RECORD_LEN;
            let decoded = match self.image.get(start..start + RECORD_LEN) {
                Some(bytes) => BlockInfo::decode(bytes),
                None => break,
            };
            let (info, sequence) = match decoded {
                Ok(found) => found,
                Err(RecordError::Empty) => continue,
                Err(_) => {
                    disk_top = slot + 1;
                    report.corrupt_records += 1;
                    continue;
                }
            };
            disk_top = slot + 1;
            self.sequence = self.sequence.max(sequence);
            let table = BlockInfoTable::new(&*self.image, kept);
            let existing = table.find(info.addr).ok().flatten();
            let last_addr = kept.checked_sub(1).and_then(|l| table.get(l).ok());
            let target = match existing {
                Some(at) => {
                    let older = self
                        .image
                        .get(at * RECORD_LEN..(at + 1) * RECORD_LEN)
                        .and_then(|b| BlockInfo::decode(b).ok())
                        .is_none_or(|(_, s)| s < sequence);
                    if !older {
                        continue;
                    }
                    at
                }
                None if last_addr.is_some_and(|l| l.addr > info.addr) => {
                    // Out of order and not a duplicate: cannot be trusted.
                    report.corrupt_records += 1;
                    continue;
                }
                None => {
                    kept += 1;
                    kept - 1
                }
            };
            if target != slot {
                self.image
                    .copy_within(start..start + RECORD_LEN, target * RECORD_LEN);
            }
        }
        if let Some(tail) = self.image.get_mut(kept * RECORD_LEN..) {
            tail.fill(0);
        }
        self.used = kept;
        disk_top
    }

    /// Marks the clusters of every live block whose chain checks out; drops
    /// (marks deleted in memory) the others. Places the ring's top after the
    /// newest block.
    fn rebuild_cluster_map(&mut self, report: &mut RecoveryReport) -> Result<(), LogError> {
        let mut newest: Option<(u64, u32)> = None;
        for slot in 0..self.used {
            let start = slot * RECORD_LEN;
            let Some(bytes) = self.image.get(start..start + RECORD_LEN) else {
                break;
            };
            let Ok((mut info, sequence)) = BlockInfo::decode(bytes) else {
                continue;
            };
            if !info.is_valid() {
                continue;
            }
            match self.claim_chain(&info) {
                Ok(last) => {
                    if let Some(last) = last {
                        if newest.is_none_or(|(s, _)| s < sequence) {
                            newest = Some((sequence, last));
                        }
                    }
                }
                Err(LogError::Device(e)) => return Err(LogError::Device(e)),
                Err(_) => {
                    report.dropped_blocks += 1;
                    info.flags &= !FLAG_VALID;
                    if let Some(bytes) = self.image.get_mut(start..start + RECORD_LEN) {
                        info.encode(bytes, sequence)
                            .map_err(|_| LogError::Corrupt)?;
                    }
                }
            }
        }
        if let Some((_, last)) = newest {
            self.cluster_top = (last + 1) % self.geometry.clusters;
        }
        Ok(())
    }

    /// Follows `info`'s chain, checking each cluster-info record, and claims its clusters.
    /// A cluster met twice (a loop, or one another block holds) makes the block corrupt;
    /// then what it claimed is given back. Returns the last cluster, if any.
    fn claim_chain(&mut self, info: &BlockInfo) -> Result<Option<u32>, LogError> {
        let mut claimed = 0u32;
        let result = self.walk_and_claim(info, &mut claimed);
        if result.is_err() {
            self.release_chain(info.first_cluster, claimed)?;
        }
        result
    }

    fn walk_and_claim(
        &mut self,
        info: &BlockInfo,
        claimed: &mut u32,
    ) -> Result<Option<u32>, LogError> {
        let mut remaining = info.length;
        let mut cluster = info.first_cluster;
        let mut last = None;
        while remaining > 0 {
            if cluster >= self.geometry.clusters || self.cluster_in_use(cluster) {
                return Err(LogError::Corrupt);
            }
            let record = self.read_cluster_info(cluster)?;
            let expected = remaining.min(CLUSTER_SIZE as u64);
            if record.owner != info.addr || u64::from(record.used_bytes) != expected {
                return Err(LogError::Corrupt);
            }
            self.set_cluster(cluster, true);
            self.free_clusters = self.free_clusters.saturating_sub(1);
            *claimed += 1;
            remaining -= expected;
            last = Some(cluster);
            cluster = record.next;
        }
        Ok(last)
    }

    /// Gives back the first `count` clusters of the chain at `first` (claimed, so valid
    /// and distinct).
    pub(super) fn release_chain(&mut self, first: u32, count: u32) -> Result<(), LogError> {
        let mut cluster = first;
        for i in 0..count {
            self.set_cluster(cluster, false);
            self.free_clusters = self.free_clusters.saturating_add(1);
            if i + 1 < count {
                cluster = self.read_cluster_info(cluster)?.next;
            }
        }
        Ok(())
    }
}

/// The valid header with the highest sequence: (header, slot, sequence).
fn read_best_header<D: SectorDevice>(device: &mut D) -> Result<(RegionHeader, u64, u64), LogError> {
    let mut best: Option<(RegionHeader, u64, u64)> = None;
    for slot in 0..2u64 {
        let mut buf = [0u8; SECTOR_SIZE];
        device.read(slot, &mut buf)?;
        if let Ok((header, sequence)) = RegionHeader::decode(&buf) {
            if best.is_none_or(|(_, _, s)| s < sequence) {
                best = Some((header, slot, sequence));
            }
        }
    }
    best.ok_or(LogError::NotFormatted)
}
