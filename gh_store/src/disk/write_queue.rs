//! The application's choice, per write, of when a block counts as saved:
//! `Wait` returns once the block's commit record is on disk (so the
//! application can acknowledge at once); `Queue` returns at once, and the
//! core's main loop carries queued writes out later with a bounded `pump`,
//! in order, reporting each completion (the application acknowledges then,
//! or never). Recovery treats both alike: a block whose commit record did
//! not reach the disk is not served, torn or otherwise.
//!
//! The queue holds only (address, metadata); the data is read from the
//! block when the write is carried out, so queued writes cost no copy of
//! their data in the meantime.

use super::super::addr::BlockAddr;
use super::device::SectorDevice;
use super::log::{BlockMeta, DiskLog, LogError};

/// Where a write's data is read from when it is carried out.
pub trait BlockSource {
    /// The data of block `addr`: `NotFound` if it is gone (or not in
    /// memory now), `BufferTooSmall` if it cannot be gathered.
    fn block_data(&mut self, addr: BlockAddr) -> Result<&[u8], LogError>;
}

/// When a write counts as done.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Durability {
    /// Return once the block is on disk.
    Wait,
    /// Return at once; `pump` carries the write out later.
    Queue,
}

/// A write carried out, or failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WriteDone {
    /// The block written.
    pub addr: BlockAddr,
    /// `Ok` once the block is on disk.
    pub result: Result<(), LogError>,
}

/// A write waiting its turn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QueuedWrite {
    addr: BlockAddr,
    meta: BlockMeta,
}

/// Queued writes, oldest first, over caller-provided entries (a ring).
pub struct WriteQueue<'q> {
    entries: &'q mut [Option<QueuedWrite>],
    first: usize,
    len: usize,
}

impl<'q> WriteQueue<'q> {
    /// An empty queue holding at most `entries.len()` writes.
    pub fn new(entries: &'q mut [Option<QueuedWrite>]) -> Self {
        entries.fill(None);
        Self {
            entries,
            first: 0,
            len: 0,
        }
    }

    /// Writes waiting.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether no write is waiting.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    fn position(&self, nth: usize) -> Option<usize> {
        nth.checked_add(self.first)?.checked_rem(self.entries.len())
    }

    fn last_queued(&self) -> Option<BlockAddr> {
        let last = self.position(self.len.checked_sub(1)?)?;
        self.entries.get(last)?.map(|w| w.addr)
    }

    /// Writes block `addr` as `durability` asks. `Wait` first carries out
    /// every queued write (disk order is address order), reporting each to
    /// `done`, and returns once `addr` is on disk. `Queue` only checks the
    /// order and queues.
    pub fn submit<D: SectorDevice, S: BlockSource>(
        &mut self,
        log: &mut DiskLog<'_, D>,
        source: &mut S,
        addr: BlockAddr,
        meta: BlockMeta,
        durability: Durability,
        done: impl FnMut(WriteDone),
    ) -> Result<(), LogError> {
        match durability {
            Durability::Queue => self.enqueue(addr, meta),
            Durability::Wait => {
                if self.last_queued().is_some_and(|last| last >= addr) {
                    return Err(LogError::OutOfOrder);
                }
                self.pump(log, source, self.len, done);
                write_one(log, source, addr, meta)
            }
        }
    }

    /// Queues a write of block `addr`; addresses must grow.
    pub fn enqueue(&mut self, addr: BlockAddr, meta: BlockMeta) -> Result<(), LogError> {
        if self.last_queued().is_some_and(|last| last >= addr)
            || meta.next_block.is_some_and(|next| next <= addr)
        {
            return Err(LogError::OutOfOrder);
        }
        if self.len >= self.entries.len() {
            return Err(LogError::QueueFull);
        }
        let at = self.position(self.len).ok_or(LogError::QueueFull)?;
        let entry = self.entries.get_mut(at).ok_or(LogError::QueueFull)?;
        *entry = Some(QueuedWrite { addr, meta });
        self.len += 1;
        Ok(())
    }

    /// Carries out up to `max_writes` queued writes, oldest first, each
    /// reported to `done` and then dropped from the queue whatever its
    /// result. Returns how many were carried out. The main loop calls it
    /// with a small bound so a burst of writes does not stall the network.
    pub fn pump<D: SectorDevice, S: BlockSource>(
        &mut self,
        log: &mut DiskLog<'_, D>,
        source: &mut S,
        max_writes: usize,
        mut done: impl FnMut(WriteDone),
    ) -> usize {
        let mut carried = 0usize;
        while carried < max_writes {
            let Some(write) = self.pop() else {
                break;
            };
            let result = write_one(log, source, write.addr, write.meta);
            done(WriteDone {
                addr: write.addr,
                result,
            });
            carried += 1;
        }
        carried
    }

    fn pop(&mut self) -> Option<QueuedWrite> {
        if self.len == 0 {
            return None;
        }
        let write = self.entries.get_mut(self.first)?.take();
        self.first = self.position(1).unwrap_or(0);
        self.len -= 1;
        write
    }
}

/// Puts block `addr` with the data `source` has for it now.
fn write_one<D: SectorDevice, S: BlockSource>(
    log: &mut DiskLog<'_, D>,
    source: &mut S,
    addr: BlockAddr,
    meta: BlockMeta,
) -> Result<(), LogError> {
    let data = source.block_data(addr)?;
    log.put(addr, data, meta)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    extern crate std;
    use super::super::geometry::Geometry;
    use super::super::test_device::FaultDevice;
    use super::*;
    use std::collections::BTreeMap;
    use std::vec;
    use std::vec::Vec;

    const GEO: Geometry = Geometry {
        block_info_sectors: 2,
        clusters: 12,
    };

    /// Blocks in memory, by index.
    struct Blocks(BTreeMap<BlockAddr, Vec<u8>>);

    impl BlockSource for Blocks {
        fn block_data(&mut self, addr: BlockAddr) -> Result<&[u8], LogError> {
            self.0
                .get(&addr)
                .map(Vec::as_slice)
                .ok_or(LogError::NotFound)
        }
    }

    fn addr(index: u32) -> BlockAddr {
        BlockAddr::new(2, index).unwrap()
    }

    fn blocks(count: u32) -> Blocks {
        Blocks(
            (0..count)
                .map(|i| (addr(i), vec![i as u8; 1_000 + i as usize]))
                .collect(),
        )
    }

    #[test]
    fn queued_writes_land_in_order_when_pumped() {
        let mut dev = FaultDevice::new(GEO.total_sectors());
        let (mut image, mut map) = (vec![0u8; 1_024], vec![0u8; 2]);
        let mut log = DiskLog::format(&mut dev, GEO, &mut image, &mut map).unwrap();
        let mut source = blocks(6);
        let mut entries = [None; 3];
        let mut queue = WriteQueue::new(&mut entries);
        let meta = BlockMeta::default();
        let mut done = Vec::new();
        for i in 0..3 {
            queue
                .submit(
                    &mut log,
                    &mut source,
                    addr(i),
                    meta,
                    Durability::Queue,
                    |d| done.push(d),
                )
                .unwrap();
        }
        assert_eq!(queue.enqueue(addr(3), meta), Err(LogError::QueueFull));
        assert_eq!(log.live_blocks(), 0, "queued writes wait for the pump");
        assert_eq!(queue.pump(&mut log, &mut source, 2, |d| done.push(d)), 2);
        assert_eq!(log.live_blocks(), 2);
        assert_eq!(queue.len(), 1);
        // Waiting carries out what was queued before it, in order.
        queue
            .submit(
                &mut log,
                &mut source,
                addr(4),
                meta,
                Durability::Wait,
                |d| done.push(d),
            )
            .unwrap();
        let order: Vec<_> = done.iter().map(|d| (d.addr.index(), d.result)).collect();
        assert_eq!(order, [(0, Ok(())), (1, Ok(())), (2, Ok(()))]);
        assert!(queue.is_empty());
        let mut out = vec![0u8; 2_000];
        for i in [0, 1, 2, 4] {
            assert_eq!(log.get(addr(i), &mut out), Ok(1_000 + i as usize));
        }
        assert_eq!(queue.pump(&mut log, &mut source, 5, |d| done.push(d)), 0);
    }

    #[test]
    fn order_and_vanished_blocks_are_reported() {
        let mut dev = FaultDevice::new(GEO.total_sectors());
        let (mut image, mut map) = (vec![0u8; 1_024], vec![0u8; 2]);
        let mut log = DiskLog::format(&mut dev, GEO, &mut image, &mut map).unwrap();
        let mut source = blocks(4);
        let mut entries = [None; 4];
        let mut queue = WriteQueue::new(&mut entries);
        let meta = BlockMeta::default();
        queue.enqueue(addr(2), meta).unwrap();
        assert_eq!(queue.enqueue(addr(2), meta), Err(LogError::OutOfOrder));
        let backwards = BlockMeta {
            next_block: Some(addr(1)),
            ..meta
        };
        assert_eq!(queue.enqueue(addr(3), backwards), Err(LogError::OutOfOrder));
        let waited = queue.submit(
            &mut log,
            &mut source,
            addr(1),
            meta,
            Durability::Wait,
            |_| {},
        );
        assert_eq!(waited, Err(LogError::OutOfOrder));
        assert_eq!(queue.len(), 1, "a refused wait leaves the queue alone");
        queue.enqueue(addr(3), meta).unwrap();
        // Block 2 was deleted from memory before its turn.
        source.0.remove(&addr(2));
        let mut done = Vec::new();
        assert_eq!(queue.pump(&mut log, &mut source, 9, |d| done.push(d)), 2);
        assert_eq!(done[0].result, Err(LogError::NotFound));
        assert_eq!(done[1].result, Ok(()));
        // The ring wraps around its entries.
        for i in 4..10 {
            source.0.insert(addr(i), vec![1; 10]);
            queue.enqueue(addr(i), meta).unwrap();
            assert_eq!(queue.pump(&mut log, &mut source, 1, |d| done.push(d)), 1);
        }
        assert!(done[2..].iter().all(|d| d.result == Ok(())));
        assert_eq!(log.live_blocks(), 7);
    }
}
