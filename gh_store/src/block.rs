//! A data block: a 4 MiB address unit backed by 4 KiB pages only as far as
//! its data goes.
//!
//! The block's page table is itself one pool page: 1024 little-endian u32
//! entries, entry `i` mapping bytes `i*4096..` (0 = unmapped, else page+1).

use super::addr::{BlockAddr, BLOCK_SIZE};
use super::block_kind::BlockKind;
use super::checksum::Crc32c;
use super::page_pool::{PageId, PagePool, PAGE_SIZE};

/// Pages one block can map.
pub const PAGES_PER_BLOCK: usize = BLOCK_SIZE as usize / PAGE_SIZE;
const ENTRY_LEN: usize = 4;

/// The header every block carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BlockHeader {
    /// The block's own address.
    pub addr: BlockAddr,
    /// What the block holds.
    pub kind: BlockKind,
    /// Bytes of data.
    pub length: u32,
    /// Live (not deleted, fully written).
    pub valid: bool,
    /// Creation time.
    pub created: u64,
    /// Last access time.
    pub last_access: u64,
    /// Accesses since creation.
    pub access_count: u64,
    /// CRC32C of the data, set by `seal`.
    pub checksum: u32,
    /// Permission word.
    pub permissions: u64,
    /// Addresses of the read, modify and delete authorization functions.
    pub authorizers: [u64; 3],
    /// Owner's data address.
    pub owner: u64,
    /// Continuation block for data over 4 MiB.
    pub next_block: Option<BlockAddr>,
    /// First cluster on disk once saved.
    pub disk_cluster: Option<u32>,
    /// Connections currently sending this block (their list is the network
    /// layer's; a block with senders is never evicted).
    pub senders: u32,
    /// Machine the block was copied from (0: made here).
    pub source_machine: u16,
}

impl BlockHeader {
    /// A fresh, empty, not yet valid header.
    pub fn new(addr: BlockAddr, now: u64) -> Self {
        Self {
            addr,
            kind: BlockKind::DATA,
            length: 0,
            valid: false,
            created: now,
            last_access: now,
            access_count: 0,
            checksum: 0,
            permissions: 0,
            authorizers: [0; 3],
            owner: 0,
            next_block: None,
            disk_cluster: None,
            senders: 0,
            source_machine: 0,
        }
    }
}

/// Why a block operation failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BlockError {
    /// The range passes the block's 4 MiB.
    OutOfBlock,
    /// The page pool is empty: park the request until pages free up.
    OutOfPages,
}

/// A block's header and its page mapping.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Block {
    /// The header.
    pub header: BlockHeader,
    table: Option<PageId>,
}

impl Block {
    /// An empty block holding no pages.
    pub fn new(header: BlockHeader) -> Self {
        Self {
            header,
            table: None,
        }
    }

    fn entry(&self, pool: &PagePool<'_>, index: usize) -> Option<PageId> {
        let table = pool.page(self.table?)?;
        let start = index.checked_mul(ENTRY_LEN)?;
        let bytes = table.get(start..start.checked_add(ENTRY_LEN)?)?;
        let raw = u32::from_le_bytes([
            *bytes.first()?,
            *bytes.get(1)?,
            *bytes.get(2)?,
            *bytes.get(3)?,
        ]);
        pool.id(raw.checked_sub(1)?)
    }

    fn set_entry(&self, pool: &mut PagePool<'_>, index: usize, page: Option<PageId>) {
        let raw = page.map_or(0, |p| p.get().saturating_add(1));
        let Some(table) = self.table.and_then(|t| pool.page_mut(t)) else {
            return;
        };
        let start = index.saturating_mul(ENTRY_LEN);
        if let Some(bytes) = table.get_mut(start..start.saturating_add(ENTRY_LEN)) {
            bytes.copy_from_slice(&raw.to_le_bytes());
        }
    }

    /// The page holding page-index `index`, mapping one if needed.
    fn map(&mut self, pool: &mut PagePool<'_>, index: usize) -> Result<PageId, BlockError> {
        if self.table.is_none() {
            self.table = Some(pool.alloc().ok_or(BlockError::OutOfPages)?);
        }
        if let Some(page) = self.entry(pool, index) {
            return Ok(page);
        }
        let page = pool.alloc().ok_or(BlockError::OutOfPages)?;
        self.set_entry(pool, index, Some(page));
        Ok(page)
    }

    /// Copies `data` to `offset`, mapping pages as needed; the length grows
    /// to cover it. On `OutOfPages` the pages already mapped stay mapped.
    pub fn write(
        &mut self,
        pool: &mut PagePool<'_>,
        offset: u32,
        data: &[u8],
    ) -> Result<(), BlockError> {
        let end = (offset as usize)
            .checked_add(data.len())
            .filter(|&end| end as u64 <= BLOCK_SIZE)
            .ok_or(BlockError::OutOfBlock)?;
        let mut position = offset as usize;
        let mut rest = data;
        while !rest.is_empty() {
            let page = self.map(pool, position / PAGE_SIZE)?;
            let within = position % PAGE_SIZE;
            let take = rest.len().min(PAGE_SIZE - within);
            let (now, later) = rest.split_at(take);
            let bytes = pool.page_mut(page).ok_or(BlockError::OutOfPages)?;
            if let Some(dst) = bytes.get_mut(within..within + take) {
                dst.copy_from_slice(now);
            }
            position += take;
            rest = later;
        }
        self.header.length = self.header.length.max(end as u32);
        Ok(())
    }

    /// The bytes from `offset` to the end of its page (or of the data),
    /// without copying: what a TX descriptor points at. Unmapped holes
    /// inside the length read as `None`.
    pub fn bytes_at<'p>(&self, pool: &'p PagePool<'_>, offset: u32) -> Option<&'p [u8]> {
        if offset >= self.header.length {
            return None;
        }
        let offset = offset as usize;
        let page = pool.page(self.entry(pool, offset / PAGE_SIZE)?)?;
        let within = offset % PAGE_SIZE;
        let end = (self.header.length as usize - offset + within).min(PAGE_SIZE);
        page.get(within..end)
    }

    /// Copies data from `offset` into `out`; returns bytes copied. Holes
    /// read as zeros.
    pub fn read(&self, pool: &PagePool<'_>, offset: u32, out: &mut [u8]) -> usize {
        let length = self.header.length as usize;
        let mut position = offset as usize;
        let mut copied = 0usize;
        while position < length && copied < out.len() {
            let within = position % PAGE_SIZE;
            let take = (PAGE_SIZE - within)
                .min(length - position)
                .min(out.len() - copied);
            let Some(dst) = out.get_mut(copied..copied + take) else {
                break;
            };
            let page = self
                .entry(pool, position / PAGE_SIZE)
                .and_then(|p| pool.page(p));
            match page.and_then(|p| p.get(within..within + take)) {
                Some(src) => dst.copy_from_slice(src),
                None => dst.fill(0),
            }
            position += take;
            copied += take;
        }
        copied
    }

    /// Computes the data checksum into the header and marks the block valid.
    pub fn seal(&mut self, pool: &PagePool<'_>) {
        let mut crc = Crc32c::new();
        let mut chunk = [0u8; 256];
        let mut offset = 0u32;
        while offset < self.header.length {
            let n = self.read(pool, offset, &mut chunk);
            if n == 0 {
                break;
            }
            crc.update(chunk.get(..n).unwrap_or(&[]));
            offset = offset.saturating_add(n as u32);
        }
        self.header.checksum = crc.finish();
        self.header.valid = true;
    }

    /// Pages held, page table included.
    pub fn resident_pages(&self, pool: &PagePool<'_>) -> usize {
        match self.table {
            None => 0,
            Some(_) => {
                1 + (0..PAGES_PER_BLOCK)
                    .filter(|&i| self.entry(pool, i).is_some())
                    .count()
            }
        }
    }

    /// Gives every page back to the pool (delete or eviction); the header
    /// stays. Returns pages freed.
    pub fn release_pages(&mut self, pool: &mut PagePool<'_>) -> usize {
        let Some(table) = self.table else {
            return 0;
        };
        let mut freed = 0;
        for index in 0..PAGES_PER_BLOCK {
            if let Some(page) = self.entry(pool, index) {
                self.set_entry(pool, index, None);
                if pool.release(page) {
                    freed += 1;
                }
            }
        }
        if pool.release(table) {
            freed += 1;
        }
        self.table = None;
        freed
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    extern crate std;
    use super::super::checksum::crc32c;
    use super::*;
    use std::vec;
    use std::vec::Vec;

    fn with_pool(pages: usize, test: impl FnOnce(&mut PagePool<'_>)) {
        let mut memory = vec![[0u8; PAGE_SIZE]; pages];
        let mut free = vec![0u32; pages];
        let mut bits = vec![0u8; pages.div_ceil(8)];
        let mut pool = PagePool::new(&mut memory, &mut free, &mut bits).unwrap();
        test(&mut pool);
    }

    fn block() -> Block {
        Block::new(BlockHeader::new(BlockAddr::new(4, 2).unwrap(), 100))
    }

    #[test]
    fn pages_only_as_far_as_data_goes() {
        with_pool(16, |pool| {
            let mut b = block();
            b.write(pool, 0, &[]).unwrap();
            assert_eq!(b.resident_pages(pool), 0);
            b.write(pool, 0, b"hi").unwrap();
            assert_eq!(b.resident_pages(pool), 2, "table + one data page");
            let data: Vec<u8> = (0..10_000u32).map(|i| i as u8).collect();
            b.write(pool, 0, &data).unwrap();
            assert_eq!(b.resident_pages(pool), 4);
            assert_eq!(b.header.length, 10_000);
            let mut out = vec![0u8; 10_000];
            assert_eq!(b.read(pool, 0, &mut out), 10_000);
            assert_eq!(out, data);
            b.seal(pool);
            assert!(b.header.valid);
            assert_eq!(b.header.checksum, crc32c(&data));
            assert_eq!(b.release_pages(pool), 4);
            assert_eq!(pool.free_pages(), 16);
            assert_eq!(b.release_pages(pool), 0);
        });
    }

    #[test]
    fn sparse_end_of_block_and_bounds() {
        with_pool(4, |pool| {
            let mut b = block();
            let last = (BLOCK_SIZE - 1) as u32;
            b.write(pool, last, b"z").unwrap();
            assert_eq!(b.header.length, last + 1);
            assert_eq!(b.resident_pages(pool), 2);
            assert_eq!(b.bytes_at(pool, last), Some(&b"z"[..]));
            // A hole reads as zeros but has no page to point at.
            assert_eq!(b.bytes_at(pool, 0), None);
            let mut out = [9u8; 3];
            assert_eq!(b.read(pool, 5, &mut out), 3);
            assert_eq!(out, [0, 0, 0]);
            assert_eq!(b.write(pool, last, b"zz"), Err(BlockError::OutOfBlock));
            assert_eq!(b.write(pool, u32::MAX, b"z"), Err(BlockError::OutOfBlock));
            assert_eq!(b.bytes_at(pool, last + 1), None);
        });
    }

    #[test]
    fn out_of_pages_is_reported_and_recoverable() {
        with_pool(3, |pool| {
            let mut b = block();
            let data = vec![7u8; 3 * PAGE_SIZE];
            assert_eq!(b.write(pool, 0, &data), Err(BlockError::OutOfPages));
            assert_eq!(pool.free_pages(), 0);
            assert_eq!(b.release_pages(pool), 3);
            b.write(pool, 0, &data[..2 * PAGE_SIZE]).unwrap();
        });
    }

    #[test]
    fn zero_copy_view_stops_at_page_or_data_end() {
        with_pool(8, |pool| {
            let mut b = block();
            let data: Vec<u8> = (0..5_000u32).map(|i| (i % 251) as u8).collect();
            b.write(pool, 0, &data).unwrap();
            assert_eq!(b.bytes_at(pool, 10).unwrap(), &data[10..4096]);
            assert_eq!(b.bytes_at(pool, 4096).unwrap(), &data[4096..]);
            assert_eq!(b.bytes_at(pool, 4999).unwrap(), &data[4999..]);
        });
    }
}
