//! One core's address space: its window of block addresses, the blocks in
//! it, and a memory budget enforced by evicting blocks already on disk.
//!
//! Eviction takes the oldest, least accessed block that is saved on disk and
//! not being sent. A read of an evicted block answers `Parked`: the caller
//! queues the request and asks the disk for the data, then `restore`s it.
//!
//! Every read, write and delete names its `Caller` and is checked against
//! the block's permissions first (see `authorize`).

use super::addr::{AddrError, BlockAddr, CPU_BITS, INDEX_BITS};
use super::authorize::Caller;
use super::block::{Block, BlockError, BlockHeader};
use super::block_kind::BlockKind;
use super::page_pool::{PagePool, PAGE_SIZE};
use super::permissions::Operation;

mod chain;
mod disk_source;
#[cfg(test)]
mod space_rules_tests;
#[cfg(test)]
mod test_memory;

pub use disk_source::SpaceSource;

/// Highest CPU number.
const MAX_CPU: u32 = (1 << CPU_BITS) - 1;
/// Highest block index of a window.
const MAX_INDEX: u32 = (1 << INDEX_BITS) - 1;
/// The CPU number whose window belongs to the system.
const SYSTEM_CPU: u32 = 0;

/// Memory a core's blocks may hold unless configured otherwise: the
/// design gives each CPU 1 GiB.
pub const DEFAULT_BUDGET_BYTES: u64 = 1 << 30;

/// Pages a budget of `bytes` allows (whole pages, rounded down).
pub fn budget_pages(bytes: u64) -> usize {
    usize::try_from(bytes / PAGE_SIZE as u64).unwrap_or(usize::MAX)
}

/// What a new block starts with besides its address and time.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct NewBlock {
    /// What it holds.
    pub kind: BlockKind,
    /// Owner's data address (0: the system).
    pub owner: u64,
    /// Permission word.
    pub permissions: u64,
    /// Read, modify and delete authorization-function addresses.
    pub authorizers: [u64; 3],
    /// Machine it was copied from (0: made here).
    pub source_machine: u16,
}

/// Where a block's data is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Residency {
    /// In memory pages.
    Resident,
    /// Only on disk; pages given back.
    Evicted,
}

/// A block and where its data is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Slot {
    /// The block.
    pub block: Block,
    /// Where its data is.
    pub residency: Residency,
}

/// One line of a block listing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BlockSummary {
    /// The block.
    pub addr: BlockAddr,
    /// Bytes of data.
    pub length: u32,
    /// What it holds.
    pub kind: BlockKind,
    /// In memory now.
    pub resident: bool,
    /// Creation time.
    pub created: u64,
    /// Accesses so far.
    pub access_count: u64,
}

/// Answer to a lookup.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lookup<'s> {
    /// In memory, ready to send.
    Resident(&'s Block),
    /// On disk only: park the request until `restore` brings it back.
    Parked,
    /// No such block.
    NotFound,
    /// The block's permissions refuse this caller.
    Denied,
}

/// Why an address-space operation failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SpaceError {
    /// The address is not in this core's window, or malformed.
    Addr(AddrError),
    /// The address belongs to another core.
    NotMine,
    /// No such block.
    NotFound,
    /// Every index of the window (or every slot) is used.
    WindowFull,
    /// Not enough pages even after eviction: park the writer and retry
    /// when pages are freed.
    MustPark,
    /// Past the block's 4 MiB.
    OutOfBlock,
    /// The block is evicted; restore it first.
    NotResident,
    /// A chain's continuation block is missing, or the chain loops.
    BrokenChain,
    /// The block's permissions refuse this caller.
    Denied,
    /// CPU number 0's window is the system's: no core's data goes there.
    SystemWindow,
}

impl From<BlockError> for SpaceError {
    fn from(error: BlockError) -> Self {
        match error {
            BlockError::OutOfBlock => Self::OutOfBlock,
            BlockError::OutOfPages => Self::MustPark,
        }
    }
}

/// A core's blocks over caller-provided slots (slot `i` = block index `i`).
pub struct AddressSpace<'a> {
    cpu: u32,
    slots: &'a mut [Option<Slot>],
    next_index: u32,
    budget_pages: usize,
    used_pages: usize,
    evictions: u64,
}

impl<'a> AddressSpace<'a> {
    /// An empty space for core `cpu` that may hold `budget_pages` pages
    /// (see `budget_pages` and `DEFAULT_BUDGET_BYTES`). CPU number 0's
    /// window is the system's and is refused here.
    pub fn new(
        cpu: u32,
        slots: &'a mut [Option<Slot>],
        budget_pages: usize,
    ) -> Result<Self, SpaceError> {
        if cpu == SYSTEM_CPU {
            return Err(SpaceError::SystemWindow);
        }
        Self::any_window(cpu, slots, budget_pages)
    }

    /// The system's own space, CPU number 0's window (system users'
    /// records and GH's own data).
    pub fn system(slots: &'a mut [Option<Slot>], budget_pages: usize) -> Result<Self, SpaceError> {
        Self::any_window(SYSTEM_CPU, slots, budget_pages)
    }

    fn any_window(
        cpu: u32,
        slots: &'a mut [Option<Slot>],
        budget_pages: usize,
    ) -> Result<Self, SpaceError> {
        if cpu > MAX_CPU {
            return Err(SpaceError::Addr(AddrError::OutOfRange));
        }
        slots.fill(None);
        Ok(Self {
            cpu,
            slots,
            next_index: 0,
            budget_pages,
            used_pages: 0,
            evictions: 0,
        })
    }

    /// Pages held by resident blocks.
    pub fn used_pages(&self) -> usize {
        self.used_pages
    }

    /// Pages the blocks may hold.
    pub fn budget(&self) -> usize {
        self.budget_pages
    }

    /// Changes the budget while running, evicting saved blocks at once if
    /// the space is now over it; returns pages freed. Blocks not yet on
    /// disk stay, so the space may remain over a lowered budget until they
    /// are saved (writers park meanwhile).
    pub fn set_budget(&mut self, pool: &mut PagePool<'_>, budget_pages: usize) -> usize {
        self.budget_pages = budget_pages;
        self.make_room(pool, 0, None)
    }

    /// Blocks evicted so far.
    pub fn evictions(&self) -> u64 {
        self.evictions
    }

    fn slot_index(&self, addr: BlockAddr) -> Result<usize, SpaceError> {
        if addr.cpu() != self.cpu {
            return Err(SpaceError::NotMine);
        }
        Ok(addr.index() as usize)
    }

    /// A block and where its data is, without counting an access or
    /// checking permissions: for the engine (disk writes, listings).
    pub(crate) fn slot(&self, addr: BlockAddr) -> Result<&Slot, SpaceError> {
        let index = self.slot_index(addr)?;
        self.slots
            .get(index)
            .and_then(Option::as_ref)
            .ok_or(SpaceError::NotFound)
    }

    fn slot_mut(&mut self, addr: BlockAddr) -> Result<&mut Slot, SpaceError> {
        let index = self.slot_index(addr)?;
        self.slots
            .get_mut(index)
            .and_then(Option::as_mut)
            .ok_or(SpaceError::NotFound)
    }

    /// A new empty data block owned by the system at the next unused index
    /// (indexes are not reused).
    pub fn create(&mut self, now: u64) -> Result<BlockAddr, SpaceError> {
        self.create_with(now, NewBlock::default())
    }

    /// A new empty block described by `new` at the next unused index.
    pub fn create_with(&mut self, now: u64, new: NewBlock) -> Result<BlockAddr, SpaceError> {
        if self.next_index > MAX_INDEX {
            return Err(SpaceError::WindowFull);
        }
        let addr = BlockAddr::new(self.cpu, self.next_index).map_err(SpaceError::Addr)?;
        let slot = self
            .slots
            .get_mut(self.next_index as usize)
            .ok_or(SpaceError::WindowFull)?;
        let mut header = BlockHeader::new(addr, now);
        header.kind = new.kind;
        header.owner = new.owner;
        header.permissions = new.permissions;
        header.authorizers = new.authorizers;
        header.source_machine = new.source_machine;
        *slot = Some(Slot {
            block: Block::new(header),
            residency: Residency::Resident,
        });
        self.next_index += 1;
        Ok(addr)
    }

    /// Refuses `caller` unless the block's permissions allow `operation`.
    fn check(
        &self,
        addr: BlockAddr,
        caller: Caller<'_>,
        operation: Operation,
    ) -> Result<(), SpaceError> {
        if caller.may(&self.slot(addr)?.block.header, operation) {
            Ok(())
        } else {
            Err(SpaceError::Denied)
        }
    }

    /// Writes into a resident block for `caller`, evicting others first if
    /// the budget would be passed.
    pub fn write(
        &mut self,
        pool: &mut PagePool<'_>,
        addr: BlockAddr,
        offset: u32,
        data: &[u8],
        caller: Caller<'_>,
    ) -> Result<(), SpaceError> {
        self.check(addr, caller, Operation::Modify)?;
        self.fill(pool, addr, offset, data)
    }

    /// Sets a block's permission word and authorization functions, which
    /// is changing the block.
    pub fn set_permissions(
        &mut self,
        addr: BlockAddr,
        permissions: u64,
        authorizers: [u64; 3],
        caller: Caller<'_>,
    ) -> Result<(), SpaceError> {
        self.check(addr, caller, Operation::Modify)?;
        let header = &mut self.slot_mut(addr)?.block.header;
        header.permissions = permissions;
        header.authorizers = authorizers;
        Ok(())
    }

    /// `write` without the permission check: for data the engine itself
    /// puts in (restored from disk, chain continuations already checked).
    fn fill(
        &mut self,
        pool: &mut PagePool<'_>,
        addr: BlockAddr,
        offset: u32,
        data: &[u8],
    ) -> Result<(), SpaceError> {
        let slot = self.slot_mut(addr)?;
        if slot.residency != Residency::Resident {
            return Err(SpaceError::NotResident);
        }
        // Worst case: every page the range touches plus the page table.
        let first = offset as usize / PAGE_SIZE;
        let end = (offset as usize).saturating_add(data.len());
        let needed = end.div_ceil(PAGE_SIZE).saturating_sub(first) + 1;
        self.make_room(pool, needed, Some(addr));
        if self.used_pages.saturating_add(needed) > self.budget_pages {
            return Err(SpaceError::MustPark);
        }
        let before = pool.free_pages();
        let result = self.slot_mut(addr)?.block.write(pool, offset, data);
        self.used_pages += before.saturating_sub(pool.free_pages());
        result.map_err(SpaceError::from)
    }

    /// Seals a block's checksum and marks it valid.
    pub fn seal(&mut self, pool: &PagePool<'_>, addr: BlockAddr) -> Result<(), SpaceError> {
        self.slot_mut(addr)?.block.seal(pool);
        Ok(())
    }

    /// Records that the block is on disk from `cluster`: it may be evicted.
    pub fn mark_saved(&mut self, addr: BlockAddr, cluster: u32) -> Result<(), SpaceError> {
        self.slot_mut(addr)?.block.header.disk_cluster = Some(cluster);
        Ok(())
    }

    /// Marks a connection starting (`true`) or ending sending the block.
    pub fn set_sending(&mut self, addr: BlockAddr, starting: bool) -> Result<(), SpaceError> {
        let header = &mut self.slot_mut(addr)?.block.header;
        header.senders = if starting {
            header.senders.saturating_add(1)
        } else {
            header.senders.saturating_sub(1)
        };
        Ok(())
    }

    /// Looks a block up for serving to `caller`, counting the access.
    pub fn access(&mut self, addr: BlockAddr, now: u64, caller: Caller<'_>) -> Lookup<'_> {
        match self.check(addr, caller, Operation::Read) {
            Ok(()) => {}
            Err(SpaceError::Denied) => return Lookup::Denied,
            Err(_) => return Lookup::NotFound,
        }
        let Ok(slot) = self.slot_mut(addr) else {
            return Lookup::NotFound;
        };
        slot.block.header.last_access = now;
        slot.block.header.access_count = slot.block.header.access_count.saturating_add(1);
        match slot.residency {
            Residency::Resident => Lookup::Resident(&slot.block),
            Residency::Evicted => Lookup::Parked,
        }
    }

    /// Evicts until `needed` more pages fit the budget or nothing more can
    /// go; never evicts `keep`. Returns pages freed.
    fn make_room(
        &mut self,
        pool: &mut PagePool<'_>,
        needed: usize,
        keep: Option<BlockAddr>,
    ) -> usize {
        let mut freed = 0;
        while self.used_pages.saturating_add(needed) > self.budget_pages {
            let Some(victim) = self.pick_victim(keep) else {
                break;
            };
            let Some(slot) = self.slots.get_mut(victim).and_then(Option::as_mut) else {
                break;
            };
            let pages = slot.block.release_pages(pool);
            slot.residency = Residency::Evicted;
            self.used_pages = self.used_pages.saturating_sub(pages);
            self.evictions += 1;
            freed += pages;
        }
        freed
    }

    /// The oldest, then least accessed, resident block that is saved on
    /// disk and not being sent.
    fn pick_victim(&self, keep: Option<BlockAddr>) -> Option<usize> {
        self.slots
            .iter()
            .enumerate()
            .filter_map(|(i, s)| s.as_ref().map(|s| (i, s)))
            .filter(|(_, s)| {
                let h = &s.block.header;
                s.residency == Residency::Resident
                    && h.valid
                    && h.disk_cluster.is_some()
                    && h.senders == 0
                    && Some(h.addr) != keep
            })
            .min_by_key(|(_, s)| (s.block.header.last_access, s.block.header.access_count))
            .map(|(i, _)| i)
    }

    /// Brings an evicted block's data back from what the disk returned.
    pub fn restore(
        &mut self,
        pool: &mut PagePool<'_>,
        addr: BlockAddr,
        data: &[u8],
    ) -> Result<(), SpaceError> {
        let slot = self.slot_mut(addr)?;
        if slot.residency == Residency::Resident {
            return Ok(());
        }
        slot.residency = Residency::Resident;
        slot.block.header.length = 0;
        let result = self.fill(pool, addr, 0, data);
        if result.is_err() {
            // Stay evicted: the parked readers wait for more pages.
            let slot = self.slot_mut(addr)?;
            let pages = slot.block.release_pages(pool);
            slot.residency = Residency::Evicted;
            self.used_pages = self.used_pages.saturating_sub(pages);
        }
        result
    }

    /// Lists blocks with index at or after `from`, in index order, into
    /// `out`; returns how many were written and the index to continue from
    /// (`None` once the window has no more).
    pub fn list_page(&self, from: u32, out: &mut [BlockSummary]) -> (usize, Option<u32>) {
        let mut written = 0;
        let start = from as usize;
        let live = self
            .slots
            .iter()
            .enumerate()
            .skip(start)
            .filter_map(|(i, s)| s.as_ref().map(|s| (i, s)));
        for (index, slot) in live {
            let Some(entry) = out.get_mut(written) else {
                return (written, u32::try_from(index).ok());
            };
            let header = &slot.block.header;
            *entry = BlockSummary {
                addr: header.addr,
                kind: header.kind,
                length: header.length,
                resident: slot.residency == Residency::Resident,
                created: header.created,
                access_count: header.access_count,
            };
            written += 1;
        }
        (written, None)
    }

    /// Deletes a block for `caller`, and every continuation of it if it
    /// heads a chain, freeing their pages; their indexes are not reused.
    pub fn delete(
        &mut self,
        pool: &mut PagePool<'_>,
        addr: BlockAddr,
        caller: Caller<'_>,
    ) -> Result<(), SpaceError> {
        self.check(addr, caller, Operation::Delete)?;
        let mut next = self.take_block(pool, addr)?;
        // Each step empties a slot, so the walk ends even if the chain loops.
        while let Some(continuation) = next {
            next = self.take_block(pool, continuation).ok().flatten();
        }
        Ok(())
    }

    /// Empties `addr`'s slot and frees its pages; returns its continuation.
    fn take_block(
        &mut self,
        pool: &mut PagePool<'_>,
        addr: BlockAddr,
    ) -> Result<Option<BlockAddr>, SpaceError> {
        let index = self.slot_index(addr)?;
        let slot = self
            .slots
            .get_mut(index)
            .ok_or(SpaceError::NotFound)?
            .take()
            .ok_or(SpaceError::NotFound)?;
        let mut block = slot.block;
        let pages = block.release_pages(pool);
        self.used_pages = self.used_pages.saturating_sub(pages);
        Ok(block.header.next_block)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    extern crate std;
    use super::test_memory::memory;
    use super::*;
    use std::vec::Vec;

    /// A saved one-page block (2 pages with its table) written at `now`.
    fn saved_block(
        space: &mut AddressSpace<'_>,
        pool: &mut PagePool<'_>,
        now: u64,
        fill: u8,
    ) -> BlockAddr {
        let addr = space.create(now).unwrap();
        space
            .write(pool, addr, 0, &[fill; 100], Caller::SYSTEM)
            .unwrap();
        space.seal(pool, addr).unwrap();
        space.mark_saved(addr, 0).unwrap();
        addr
    }

    #[test]
    fn addresses_come_from_this_cores_window() {
        let mut m = memory(4, 3);
        let mut space = AddressSpace::new(5, &mut m.slots, 4).unwrap();
        let a = space.create(0).unwrap();
        let b = space.create(0).unwrap();
        assert_eq!((a.cpu(), a.index()), (5, 0));
        assert_eq!((b.cpu(), b.index()), (5, 1));
        let mut pool = PagePool::new(&mut m.pages, &mut m.free, &mut m.bits).unwrap();
        let other = BlockAddr::new(6, 0).unwrap();
        assert_eq!(
            space.write(&mut pool, other, 0, b"x", Caller::SYSTEM),
            Err(SpaceError::NotMine)
        );
        assert_eq!(space.access(other, 1, Caller::SYSTEM), Lookup::NotFound);
        space.delete(&mut pool, a, Caller::SYSTEM).unwrap();
        assert_eq!(
            space.delete(&mut pool, a, Caller::SYSTEM),
            Err(SpaceError::NotFound)
        );
        // Indexes are not reused after a delete.
        assert_eq!(space.create(0).unwrap().index(), 2);
        assert_eq!(space.create(0), Err(SpaceError::WindowFull));
        assert!(AddressSpace::new(MAX_CPU + 1, &mut [], 1).is_err());
    }

    #[test]
    fn budget_evicts_oldest_least_accessed_saved_block() {
        let mut m = memory(16, 8);
        let mut pool = PagePool::new(&mut m.pages, &mut m.free, &mut m.bits).unwrap();
        let mut space = AddressSpace::new(1, &mut m.slots, 6).unwrap();
        let old = saved_block(&mut space, &mut pool, 10, 1);
        let busy_old = saved_block(&mut space, &mut pool, 10, 2);
        let new = saved_block(&mut space, &mut pool, 20, 3);
        assert_eq!(space.used_pages(), 6);
        let _ = space.access(busy_old, 10, Caller::SYSTEM);
        // A fourth block needs 2 pages: the least accessed of the oldest goes.
        let fourth = saved_block(&mut space, &mut pool, 30, 4);
        assert_eq!(space.evictions(), 1);
        assert_eq!(space.access(old, 40, Caller::SYSTEM), Lookup::Parked);
        assert!(matches!(
            space.access(busy_old, 40, Caller::SYSTEM),
            Lookup::Resident(_)
        ));
        assert!(matches!(
            space.access(new, 40, Caller::SYSTEM),
            Lookup::Resident(_)
        ));
        assert!(matches!(
            space.access(fourth, 40, Caller::SYSTEM),
            Lookup::Resident(_)
        ));
        assert!(space.used_pages() <= 6);
        assert_eq!(pool.free_pages(), 16 - space.used_pages());
    }

    #[test]
    fn unsaved_or_sending_blocks_stay_and_writer_parks() {
        let mut m = memory(16, 8);
        let mut pool = PagePool::new(&mut m.pages, &mut m.free, &mut m.bits).unwrap();
        let mut space = AddressSpace::new(1, &mut m.slots, 4).unwrap();
        let unsaved = space.create(0).unwrap();
        space
            .write(&mut pool, unsaved, 0, b"dirty", Caller::SYSTEM)
            .unwrap();
        let sending = saved_block(&mut space, &mut pool, 0, 9);
        space.set_sending(sending, true).unwrap();
        let third = space.create(5).unwrap();
        assert_eq!(
            space.write(&mut pool, third, 0, b"x", Caller::SYSTEM),
            Err(SpaceError::MustPark)
        );
        assert_eq!(space.evictions(), 0);
        // Once the connection finishes, the saved block can make room.
        space.set_sending(sending, false).unwrap();
        space
            .write(&mut pool, third, 0, b"x", Caller::SYSTEM)
            .unwrap();
        assert_eq!(space.access(sending, 6, Caller::SYSTEM), Lookup::Parked);
        assert!(matches!(
            space.access(unsaved, 6, Caller::SYSTEM),
            Lookup::Resident(_)
        ));
    }

    #[test]
    fn listing_pages_through_a_core() {
        let mut m = memory(16, 8);
        let mut pool = PagePool::new(&mut m.pages, &mut m.free, &mut m.bits).unwrap();
        let mut space = AddressSpace::new(3, &mut m.slots, 16).unwrap();
        let addrs: Vec<_> = (0..5).map(|t| space.create(t).unwrap()).collect();
        space
            .write(&mut pool, addrs[1], 0, b"abc", Caller::SYSTEM)
            .unwrap();
        space.delete(&mut pool, addrs[2], Caller::SYSTEM).unwrap();
        let blank = BlockSummary {
            addr: addrs[0],
            kind: BlockKind::DATA,
            length: 0,
            resident: false,
            created: 0,
            access_count: 0,
        };
        let mut page = [blank; 2];
        let (n, next) = space.list_page(0, &mut page);
        assert_eq!((n, next), (2, Some(3)));
        assert_eq!((page[0].addr, page[1].addr), (addrs[0], addrs[1]));
        assert_eq!(page[1].length, 3);
        assert!(page[1].resident);
        let (n, next) = space.list_page(3, &mut page);
        assert_eq!((n, next), (2, None));
        assert_eq!((page[0].addr, page[1].addr), (addrs[3], addrs[4]));
        assert_eq!(space.list_page(100, &mut page), (0, None));
        assert_eq!(space.list_page(0, &mut []), (0, Some(0)));
    }

    #[test]
    fn parked_block_restored_from_disk_data() {
        let mut m = memory(16, 8);
        let mut pool = PagePool::new(&mut m.pages, &mut m.free, &mut m.bits).unwrap();
        let mut space = AddressSpace::new(2, &mut m.slots, 4).unwrap();
        let a = saved_block(&mut space, &mut pool, 1, 0x11);
        let b = saved_block(&mut space, &mut pool, 2, 0x22);
        let c = saved_block(&mut space, &mut pool, 3, 0x33);
        assert_eq!(space.access(a, 4, Caller::SYSTEM), Lookup::Parked);
        let write_to_evicted = space.write(&mut pool, a, 0, b"x", Caller::SYSTEM);
        assert_eq!(write_to_evicted, Err(SpaceError::NotResident));
        // The disk gave the data back: `a` returns, pushing out `b`.
        space.restore(&mut pool, a, &[0x11; 100]).unwrap();
        match space.access(a, 5, Caller::SYSTEM) {
            Lookup::Resident(block) => {
                let mut out = [0u8; 100];
                assert_eq!(block.read(&pool, 0, &mut out), 100);
                assert_eq!(out, [0x11; 100]);
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(space.access(b, 6, Caller::SYSTEM), Lookup::Parked);
        assert!(matches!(
            space.access(c, 6, Caller::SYSTEM),
            Lookup::Resident(_)
        ));
        space.delete(&mut pool, a, Caller::SYSTEM).unwrap();
        space.delete(&mut pool, b, Caller::SYSTEM).unwrap();
        space.delete(&mut pool, c, Caller::SYSTEM).unwrap();
        assert_eq!(space.used_pages(), 0);
        assert_eq!(pool.free_pages(), 16);
    }
}
