//! One core's disk log: blocks written append-only around the cluster ring,
//! indexed by the sorted block-info area, and rebuilt from disk after a crash.
//!
//! Write order for a block: data clusters, then their cluster-info records,
//! then the block-info record. The block-info write is the commit point: a
//! `put` returns `Ok` only after it is on disk, and recovery trusts a block
//! only if its record checks out and its cluster chain does too.

use super::super::addr::{BlockAddr, BLOCK_SIZE};
use super::super::block_kind::BlockKind;
use super::super::checksum::{crc32c, Crc32c};
use super::block_info::{BlockInfo, FLAG_VALID};
use super::cluster_info::{ClusterInfo, END_OF_CHAIN};
use super::device::{DeviceError, SectorDevice, SECTOR_SIZE};
use super::geometry::{Geometry, CLUSTER_SIZE, RECORDS_PER_SECTOR};
use super::header::RegionHeader;
use super::record::RECORD_LEN;
use super::table::{BlockInfoTable, TableError};

mod chains;
mod recovery;

/// Why a log operation failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogError {
    /// The device failed; the log must be recovered before further use.
    Device(DeviceError),
    /// An earlier device failure stopped the log.
    Stopped,
    /// No valid header, or one for another geometry.
    NotFormatted,
    /// The device or the caller's memory is too small for the geometry.
    TooSmall,
    /// No free cluster or block-info slot.
    Full,
    /// Data over one block's 4 MiB.
    TooLarge,
    /// Block addresses must be appended in increasing order, and a
    /// continuation block must come after the block it continues.
    OutOfOrder,
    /// No live block at that address.
    NotFound,
    /// The caller's buffer cannot hold the block.
    BufferTooSmall,
    /// The block's records or data fail their checks; it is not served.
    Corrupt,
    /// The write queue has no free entry: wait for this write instead, or
    /// park the request until `pump` has made room.
    QueueFull,
}

impl From<DeviceError> for LogError {
    fn from(error: DeviceError) -> Self {
        Self::Device(error)
    }
}

impl From<TableError> for LogError {
    fn from(error: TableError) -> Self {
        match error {
            TableError::Full => Self::Full,
            TableError::OutOfOrder => Self::OutOfOrder,
            TableError::Corrupt { .. } => Self::Corrupt,
        }
    }
}

/// What recovery found.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RecoveryReport {
    /// Live blocks now indexed.
    pub live_blocks: usize,
    /// Block-info records that failed their checks (torn or corrupted).
    pub corrupt_records: usize,
    /// Blocks whose record was good but whose cluster chain was not.
    pub dropped_blocks: usize,
    /// Blocks of chains (data over 4 MiB) dropped whole because a block of
    /// the chain was missing, dropped, deleted or linked backwards.
    pub broken_chains: usize,
}

/// Metadata stored with a block besides its data.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BlockMeta {
    /// Creation time.
    pub created: u64,
    /// Permission word.
    pub permissions: u64,
    /// Owner's data address.
    pub owner: u64,
    /// Continuation block.
    pub next_block: Option<BlockAddr>,
    /// What the block holds.
    pub kind: BlockKind,
    /// Machine the block was copied from (0: made here).
    pub source_machine: u16,
}

/// A core's disk log over a device and caller-provided memory.
pub struct DiskLog<'m, D: SectorDevice> {
    device: D,
    geometry: Geometry,
    image: &'m mut [u8],
    used: usize,
    cluster_map: &'m mut [u8],
    cluster_top: u32,
    free_clusters: u32,
    sequence: u64,
    next_header_slot: u64,
    stopped: bool,
}

fn checked_memory<'m>(
    geometry: &Geometry,
    image: &'m mut [u8],
    cluster_map: &'m mut [u8],
) -> Result<(&'m mut [u8], &'m mut [u8]), LogError> {
    let image = image
        .get_mut(..geometry.block_info_image_len())
        .ok_or(LogError::TooSmall)?;
    let cluster_map = cluster_map
        .get_mut(..geometry.cluster_map_len())
        .ok_or(LogError::TooSmall)?;
    if geometry.clusters == 0 || geometry.block_info_sectors == 0 {
        return Err(LogError::TooSmall);
    }
    Ok((image, cluster_map))
}

impl<'m, D: SectorDevice> DiskLog<'m, D> {
    /// Writes an empty region onto `device`.
    pub fn format(
        mut device: D,
        geometry: Geometry,
        image: &'m mut [u8],
        cluster_map: &'m mut [u8],
    ) -> Result<Self, LogError> {
        let (image, cluster_map) = checked_memory(&geometry, image, cluster_map)?;
        if device.sector_count() < geometry.total_sectors() {
            return Err(LogError::TooSmall);
        }
        let zero = [0u8; SECTOR_SIZE];
        // Headers first: a half-formatted region must not look formatted.
        for sector in 0..geometry.cluster_sector(0) {
            device.write(sector, &zero)?;
        }
        image.fill(0);
        cluster_map.fill(0);
        let mut log = Self {
            device,
            geometry,
            image,
            used: 0,
            cluster_map,
            cluster_top: 0,
            free_clusters: geometry.clusters,
            sequence: 0,
            next_header_slot: 0,
            stopped: false,
        };
        log.write_header()?;
        Ok(log)
    }

    fn read_cluster_info(&mut self, cluster: u32) -> Result<ClusterInfo, LogError> {
        let (sector, index) = self.geometry.cluster_info_location(cluster);
        let mut buf = [0u8; SECTOR_SIZE];
        self.device.read(sector, &mut buf)?;
        let bytes = buf
            .get(index * RECORD_LEN..(index + 1) * RECORD_LEN)
            .ok_or(LogError::Corrupt)?;
        ClusterInfo::decode(bytes)
            .map(|(info, _)| info)
            .map_err(|_| LogError::Corrupt)
    }

    fn cluster_in_use(&self, cluster: u32) -> bool {
        let byte = self.cluster_map.get((cluster / 8) as usize).copied();
        byte.is_some_and(|b| b & (1 << (cluster % 8)) != 0)
    }

    fn set_cluster(&mut self, cluster: u32, used: bool) {
        if let Some(byte) = self.cluster_map.get_mut((cluster / 8) as usize) {
            if used {
                *byte |= 1 << (cluster % 8);
            } else {
                *byte &= !(1 << (cluster % 8));
            }
        }
    }

    /// First free cluster at or after `from` going around the ring.
    fn next_free(&self, from: u32) -> Option<u32> {
        let n = self.geometry.clusters;
        (0..n)
            .map(|step| (from % n + step) % n)
            .find(|&c| !self.cluster_in_use(c))
    }

    fn next_sequence(&mut self) -> u64 {
        self.sequence = self.sequence.saturating_add(1);
        self.sequence
    }

    fn check_running(&self) -> Result<(), LogError> {
        if self.stopped {
            Err(LogError::Stopped)
        } else {
            Ok(())
        }
    }

    /// Runs a device write; any failure stops the log until recovery.
    fn device_write(&mut self, sector: u64, buf: &[u8]) -> Result<(), LogError> {
        self.device.write(sector, buf).map_err(|e| {
            self.stopped = true;
            LogError::Device(e)
        })
    }

    fn write_header(&mut self) -> Result<(), LogError> {
        let header = RegionHeader {
            block_info_sectors: self.geometry.block_info_sectors,
            clusters: self.geometry.clusters,
            cluster_top: self.cluster_top,
            free_clusters: self.free_clusters,
            block_info_top: self.used as u32,
        };
        let mut buf = [0u8; SECTOR_SIZE];
        let sequence = self.next_sequence();
        header
            .encode(&mut buf, sequence)
            .map_err(|_| LogError::Corrupt)?;
        let slot = self.next_header_slot;
        self.device_write(slot, &buf)?;
        self.next_header_slot = 1 - slot;
        Ok(())
    }

    /// Writes the block-info sectors holding slots `from..to` from memory.
    fn write_block_info_sectors(&mut self, from: usize, to: usize) -> Result<(), LogError> {
        let first = from / RECORDS_PER_SECTOR;
        let end = to.div_ceil(RECORDS_PER_SECTOR);
        for index in first..end {
            let start = index * SECTOR_SIZE;
            let mut buf = [0u8; SECTOR_SIZE];
            let src = self
                .image
                .get(start..start + SECTOR_SIZE)
                .ok_or(LogError::Corrupt)?;
            buf.copy_from_slice(src);
            let sector = self.geometry.block_info_sector(index * RECORDS_PER_SECTOR);
            self.device_write(sector, &buf)?;
        }
        Ok(())
    }

    /// Live blocks indexed.
    pub fn live_blocks(&self) -> usize {
        let table = BlockInfoTable::new(&*self.image, self.used);
        (0..self.used)
            .filter(|&s| table.get(s).is_ok_and(|i| i.is_valid()))
            .count()
    }

    /// Clusters not owned by a live block.
    pub fn free_clusters(&self) -> u32 {
        self.free_clusters
    }

    /// The highest block address ever stored (live or deleted) still indexed.
    pub fn last_addr(&self) -> Option<BlockAddr> {
        let table = BlockInfoTable::new(&*self.image, self.used);
        let last = self.used.checked_sub(1)?;
        table.get(last).ok().map(|i| i.addr)
    }

    /// The block-info of a live block.
    pub fn lookup(&self, addr: BlockAddr) -> Result<Option<BlockInfo>, LogError> {
        let table = BlockInfoTable::new(&*self.image, self.used);
        Ok(table.lookup(addr)?)
    }

    /// Stores `data` as block `addr` (greater than every stored address);
    /// returns once every record is on disk. A chain is stored head first,
    /// each block with its `next_block`; recovery serves it only once its
    /// last block is on disk.
    pub fn put(&mut self, addr: BlockAddr, data: &[u8], meta: BlockMeta) -> Result<(), LogError> {
        self.check_running()?;
        let length = data.len() as u64;
        if length > BLOCK_SIZE {
            return Err(LogError::TooLarge);
        }
        if self.last_addr().is_some_and(|last| last >= addr)
            || meta.next_block.is_some_and(|next| next <= addr)
        {
            return Err(LogError::OutOfOrder);
        }
        let needed = data.len().div_ceil(CLUSTER_SIZE) as u32;
        if needed > self.free_clusters {
            return Err(LogError::Full);
        }
        if self.used >= self.geometry.block_info_capacity() {
            self.compact_area()?;
            if self.used >= self.geometry.block_info_capacity() {
                return Err(LogError::Full);
            }
        }
        let first_cluster = self.write_clusters(addr, data)?;
        let info = BlockInfo {
            addr,
            length,
            first_cluster,
            flags: FLAG_VALID,
            created: meta.created,
            permissions: meta.permissions,
            owner: meta.owner,
            next_block: meta.next_block,
            data_crc: crc32c(data),
            kind: meta.kind,
            source_machine: meta.source_machine,
        };
        let sequence = self.next_sequence();
        let slot = {
            let mut table = BlockInfoTable::new(&mut *self.image, self.used);
            let slot = table.append(&info, sequence)?;
            self.used = table.used();
            slot
        };
        self.write_block_info_sectors(slot, slot + 1)
    }

    /// Writes `data` into free clusters from the ring's top, each followed
    /// by its cluster-info record; returns the first cluster.
    fn write_clusters(&mut self, addr: BlockAddr, data: &[u8]) -> Result<u32, LogError> {
        let mut chunks = data.chunks(CLUSTER_SIZE).peekable();
        let Some(first) = self.next_free(self.cluster_top) else {
            return if data.is_empty() {
                Ok(END_OF_CHAIN)
            } else {
                Err(LogError::Full)
            };
        };
        if data.is_empty() {
            return Ok(END_OF_CHAIN);
        }
        let mut cluster = first;
        while let Some(chunk) = chunks.next() {
            // Claim before looking for the next one so it is not chosen twice.
            self.set_cluster(cluster, true);
            self.free_clusters = self.free_clusters.saturating_sub(1);
            let next = match chunks.peek() {
                Some(_) => self.next_free(cluster + 1).ok_or(LogError::Full)?,
                None => END_OF_CHAIN,
            };
            self.write_cluster_data(cluster, chunk)?;
            let info = ClusterInfo {
                owner: addr,
                next,
                used_bytes: chunk.len() as u32,
            };
            self.write_cluster_info(cluster, &info)?;
            self.cluster_top = (cluster + 1) % self.geometry.clusters;
            cluster = next;
        }
        Ok(first)
    }

    fn write_cluster_data(&mut self, cluster: u32, chunk: &[u8]) -> Result<(), LogError> {
        let sector = self.geometry.cluster_sector(cluster);
        let whole = chunk.len() - chunk.len() % SECTOR_SIZE;
        let (body, tail) = chunk.split_at(whole);
        if !body.is_empty() {
            self.device_write(sector, body)?;
        }
        if !tail.is_empty() {
            let mut buf = [0u8; SECTOR_SIZE];
            if let Some(dst) = buf.get_mut(..tail.len()) {
                dst.copy_from_slice(tail);
            }
            self.device_write(sector + (whole / SECTOR_SIZE) as u64, &buf)?;
        }
        Ok(())
    }

    fn write_cluster_info(&mut self, cluster: u32, info: &ClusterInfo) -> Result<(), LogError> {
        let (sector, index) = self.geometry.cluster_info_location(cluster);
        let mut buf = [0u8; SECTOR_SIZE];
        self.device.read(sector, &mut buf)?;
        let sequence = self.next_sequence();
        let bytes = buf
            .get_mut(index * RECORD_LEN..(index + 1) * RECORD_LEN)
            .ok_or(LogError::Corrupt)?;
        info.encode(bytes, sequence)
            .map_err(|_| LogError::Corrupt)?;
        self.device_write(sector, &buf)
    }

    /// Squeezes deleted records out of the block-info area, in memory and
    /// then on disk in ascending order.
    fn compact_area(&mut self) -> Result<(), LogError> {
        let old_used = self.used;
        let mut table = BlockInfoTable::new(&mut *self.image, self.used);
        table.compact()?;
        self.used = table.used();
        self.write_block_info_sectors(0, old_used)
    }

    /// Reads block `addr` into `out`; returns its length. The data is
    /// served only if its checksum matches.
    pub fn get(&mut self, addr: BlockAddr, out: &mut [u8]) -> Result<usize, LogError> {
        let info = self.lookup(addr)?.ok_or(LogError::NotFound)?;
        let length = usize::try_from(info.length).map_err(|_| LogError::Corrupt)?;
        let out = out.get_mut(..length).ok_or(LogError::BufferTooSmall)?;
        let mut cluster = info.first_cluster;
        let mut crc = Crc32c::new();
        for chunk in out.chunks_mut(CLUSTER_SIZE) {
            let record = self.read_cluster_info(cluster)?;
            if record.owner != info.addr || record.used_bytes as usize != chunk.len() {
                return Err(LogError::Corrupt);
            }
            self.read_cluster_data(cluster, chunk)?;
            crc.update(chunk);
            cluster = record.next;
        }
        if crc.finish() != info.data_crc {
            return Err(LogError::Corrupt);
        }
        Ok(length)
    }

    fn read_cluster_data(&mut self, cluster: u32, chunk: &mut [u8]) -> Result<(), LogError> {
        if cluster >= self.geometry.clusters {
            return Err(LogError::Corrupt);
        }
        let sector = self.geometry.cluster_sector(cluster);
        let whole = chunk.len() - chunk.len() % SECTOR_SIZE;
        let (body, tail) = chunk.split_at_mut(whole);
        if !body.is_empty() {
            self.device.read(sector, body)?;
        }
        if !tail.is_empty() {
            let mut buf = [0u8; SECTOR_SIZE];
            self.device
                .read(sector + (whole / SECTOR_SIZE) as u64, &mut buf)?;
            let src = buf.get(..tail.len()).ok_or(LogError::Corrupt)?;
            tail.copy_from_slice(src);
        }
        Ok(())
    }

    /// Deletes block `addr`; returns whether it was live. Its clusters are
    /// reused only after the deletion is on disk.
    pub fn delete(&mut self, addr: BlockAddr) -> Result<bool, LogError> {
        self.check_running()?;
        let Some(info) = self.lookup(addr)? else {
            return Ok(false);
        };
        let sequence = self.next_sequence();
        let slot = {
            let mut table = BlockInfoTable::new(&mut *self.image, self.used);
            let slot = table.find(addr)?.ok_or(LogError::NotFound)?;
            table.delete(addr, sequence)?;
            slot
        };
        self.write_block_info_sectors(slot, slot + 1)?;
        let mut cluster = info.first_cluster;
        let mut remaining = info.length;
        while remaining > 0 && cluster < self.geometry.clusters {
            let next = self.read_cluster_info(cluster).map(|c| c.next);
            if self.cluster_in_use(cluster) {
                self.set_cluster(cluster, false);
                self.free_clusters = self.free_clusters.saturating_add(1);
            }
            remaining = remaining.saturating_sub(CLUSTER_SIZE as u64);
            match next {
                Ok(next) => cluster = next,
                Err(_) => break,
            }
        }
        Ok(true)
    }
}
