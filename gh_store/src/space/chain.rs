//! Data longer than one block's 4 MiB: a chain of blocks in one core's
//! window, each linked to the next by its header's `next_block`.
//!
//! Chain offset `o` lives in the chain's block number `o / 4 MiB` at
//! `o % 4 MiB`, so every block but the last is a full 4 MiB long (unwritten
//! parts are holes that read as zeros and hold no pages). Continuations come
//! from this core's window like any block, so a chain is bounded by the
//! window's slots. To persist a chain, put each block as its own record with
//! its `next_block`, head first (addresses only grow on disk).

use super::super::addr::{BlockAddr, BLOCK_SIZE, OFFSET_BITS};
use super::super::authorize::Caller;
use super::super::page_pool::PagePool;
use super::super::permissions::Operation;
use super::{AddressSpace, NewBlock, Residency, SpaceError, MAX_INDEX};

/// What walking a chain to its end found.
struct ChainEnd {
    blocks: usize,
    last: BlockAddr,
    length: u64,
}

/// Index of the chain block holding chain offset `offset`.
fn block_number(offset: u64) -> Result<usize, SpaceError> {
    usize::try_from(offset >> OFFSET_BITS).map_err(|_| SpaceError::WindowFull)
}

/// Offset within its block of chain offset `offset`.
fn within_block(offset: u64) -> u32 {
    (offset % BLOCK_SIZE) as u32
}

impl AddressSpace<'_> {
    /// Walks from `head` to the chain's last block. A missing continuation,
    /// or more steps than there are slots (a loop), is `BrokenChain`.
    fn walk_chain(&self, head: BlockAddr) -> Result<ChainEnd, SpaceError> {
        let mut end = ChainEnd {
            blocks: 0,
            last: head,
            length: 0,
        };
        loop {
            let slot = match self.slot(end.last) {
                Ok(slot) => slot,
                Err(error) if end.blocks == 0 => return Err(error),
                Err(_) => return Err(SpaceError::BrokenChain),
            };
            end.blocks += 1;
            end.length = end
                .length
                .saturating_add(u64::from(slot.block.header.length));
            match slot.block.header.next_block {
                None => return Ok(end),
                Some(next) if end.blocks < self.slots.len() => end.last = next,
                Some(_) => return Err(SpaceError::BrokenChain),
            }
        }
    }

    /// The chain's block number `number` (0: the head), if the chain has it.
    fn chain_block(&self, head: BlockAddr, number: usize) -> Result<Option<BlockAddr>, SpaceError> {
        let mut addr = head;
        for step in 0..number {
            if step >= self.slots.len() {
                return Err(SpaceError::BrokenChain);
            }
            match self.slot(addr)?.block.header.next_block {
                Some(next) => addr = next,
                None => return Ok(None),
            }
        }
        self.slot(addr).map_err(|_| SpaceError::BrokenChain)?;
        Ok(Some(addr))
    }

    /// Bytes of data in the chain headed by `head` (a lone block is a
    /// chain of one).
    pub fn chain_length(&self, head: BlockAddr) -> Result<u64, SpaceError> {
        Ok(self.walk_chain(head)?.length)
    }

    /// Blocks in the chain headed by `head`.
    pub fn chain_blocks(&self, head: BlockAddr) -> Result<usize, SpaceError> {
        Ok(self.walk_chain(head)?.blocks)
    }

    /// The block and in-block offset holding chain offset `offset`: where
    /// a sender starts its zero-copy view. Past the chain's last block is
    /// `OutOfBlock`.
    pub fn locate(&self, head: BlockAddr, offset: u64) -> Result<(BlockAddr, u32), SpaceError> {
        let addr = self
            .chain_block(head, block_number(offset)?)?
            .ok_or(SpaceError::OutOfBlock)?;
        Ok((addr, within_block(offset)))
    }

    /// Copies chain data from `offset` into `out`, across block edges;
    /// returns bytes copied (fewer at the chain's end). An evicted block on
    /// the way is `NotResident`: restore it (see `locate`) and read again.
    /// The head's permissions decide for the whole chain.
    pub fn read(
        &self,
        pool: &PagePool<'_>,
        head: BlockAddr,
        offset: u64,
        out: &mut [u8],
        caller: Caller<'_>,
    ) -> Result<usize, SpaceError> {
        self.check(head, caller, Operation::Read)?;
        let Some(mut addr) = self.chain_block(head, block_number(offset)?)? else {
            return Ok(0);
        };
        let mut position = offset;
        let mut copied = 0usize;
        while let Some(dst) = out.get_mut(copied..).filter(|d| !d.is_empty()) {
            let slot = self.slot(addr).map_err(|_| SpaceError::BrokenChain)?;
            if slot.residency != Residency::Resident {
                return Err(SpaceError::NotResident);
            }
            let n = slot.block.read(pool, within_block(position), dst);
            copied += n;
            position = position.saturating_add(n as u64);
            // Only a full block leads on; a shorter one is the chain's end.
            match slot.block.header.next_block {
                Some(next) if within_block(position) == 0 && n > 0 => addr = next,
                _ => break,
            }
        }
        Ok(copied)
    }

    /// Writes `data` at chain offset `offset`, adding continuation blocks
    /// (created at `now`) as it crosses each 4 MiB edge. Refused with
    /// `WindowFull` before anything changes if the window has too few free
    /// slots. On `MustPark` part of the data may be written: retry the
    /// whole write once pages are free. An empty write changes nothing.
    /// The head's permissions decide for the whole chain; continuations
    /// take the head's kind, owner and permissions.
    pub fn write_chained(
        &mut self,
        pool: &mut PagePool<'_>,
        head: BlockAddr,
        offset: u64,
        data: &[u8],
        now: u64,
        caller: Caller<'_>,
    ) -> Result<(), SpaceError> {
        self.check(head, caller, Operation::Modify)?;
        if data.is_empty() {
            return Ok(());
        }
        let end = offset
            .checked_add(data.len() as u64)
            .ok_or(SpaceError::WindowFull)?;
        let chain = self.walk_chain(head)?;
        let needed = block_number(end - 1)?.saturating_add(1);
        let missing = needed.saturating_sub(chain.blocks);
        if missing > self.free_indexes() {
            return Err(SpaceError::WindowFull);
        }
        let mut last = chain.last;
        for _ in 0..missing {
            last = self.add_continuation(pool, last, now)?;
        }
        let mut addr = self
            .chain_block(head, block_number(offset)?)?
            .ok_or(SpaceError::BrokenChain)?;
        let mut position = offset;
        let mut rest = data;
        loop {
            let within = within_block(position);
            let room = (BLOCK_SIZE - u64::from(within)) as usize;
            let (part, later) = rest.split_at(rest.len().min(room));
            self.fill(pool, addr, within, part)?;
            if later.is_empty() {
                return Ok(());
            }
            position = position.saturating_add(part.len() as u64);
            rest = later;
            addr = self
                .slot(addr)?
                .block
                .header
                .next_block
                .ok_or(SpaceError::BrokenChain)?;
        }
    }

    /// Appends `data` at the end of the chain headed by `head`.
    pub fn append(
        &mut self,
        pool: &mut PagePool<'_>,
        head: BlockAddr,
        data: &[u8],
        now: u64,
        caller: Caller<'_>,
    ) -> Result<(), SpaceError> {
        let length = self.chain_length(head)?;
        self.write_chained(pool, head, length, data, now, caller)
    }

    /// Seals every block of the chain (each has its own checksum, as each
    /// is its own record on disk).
    pub fn seal_chain(&mut self, pool: &PagePool<'_>, head: BlockAddr) -> Result<(), SpaceError> {
        let blocks = self.walk_chain(head)?.blocks;
        let mut addr = head;
        for _ in 0..blocks {
            let block = &mut self.slot_mut(addr)?.block;
            block.seal(pool);
            match block.header.next_block {
                Some(next) => addr = next,
                None => break,
            }
        }
        Ok(())
    }

    /// Indexes of the window not yet handed out that have a slot.
    fn free_indexes(&self) -> usize {
        let limit = self.slots.len().min(MAX_INDEX as usize + 1);
        limit.saturating_sub(self.next_index as usize)
    }

    /// Fills `last` out to 4 MiB (a hole, no pages) and links a new empty
    /// block after it; returns the new block. `last` changed, so its disk
    /// copy (if any) is stale and it may no longer be evicted.
    fn add_continuation(
        &mut self,
        pool: &mut PagePool<'_>,
        last: BlockAddr,
        now: u64,
    ) -> Result<BlockAddr, SpaceError> {
        let slot = self.slot(last)?;
        if slot.residency != Residency::Resident {
            return Err(SpaceError::NotResident);
        }
        let previous = slot.block.header;
        let next = self.create_with(
            now,
            NewBlock {
                kind: previous.kind,
                owner: previous.owner,
                permissions: previous.permissions,
                authorizers: previous.authorizers,
                source_machine: previous.source_machine,
            },
        )?;
        let slot = self.slot_mut(last)?;
        slot.block.write(pool, BLOCK_SIZE as u32, &[])?;
        slot.block.header.next_block = Some(next);
        slot.block.header.disk_cluster = None;
        Ok(next)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    extern crate std;
    use super::super::test_memory::memory;
    use super::*;
    use std::vec;
    use std::vec::Vec;

    const MIB: usize = 1 << 20;

    fn pattern(len: usize) -> Vec<u8> {
        (0..len)
            .map(|i| (i % 251) as u8 ^ (i >> 20) as u8)
            .collect()
    }

    #[test]
    fn data_over_4_mib_chains_blocks_and_reads_across_them() {
        let mut m = memory(2_400, 4);
        let mut pool = PagePool::new(&mut m.pages, &mut m.free, &mut m.bits).unwrap();
        let mut space = AddressSpace::new(3, &mut m.slots, 2_400).unwrap();
        let head = space.create(1).unwrap();
        let data = pattern(9 * MIB + 1_000);
        for piece in [
            &data[..3 * MIB + 7],
            &data[3 * MIB + 7..7 * MIB + 7],
            &data[7 * MIB + 7..],
        ] {
            space
                .append(&mut pool, head, piece, 2, Caller::SYSTEM)
                .unwrap();
        }
        assert_eq!(space.chain_blocks(head), Ok(3));
        assert_eq!(space.chain_length(head), Ok(data.len() as u64));
        let second = space.slot(head).unwrap().block.header.next_block.unwrap();
        let third = space.slot(second).unwrap().block.header.next_block.unwrap();
        assert_eq!((second.index(), third.index()), (1, 2));
        assert_eq!(
            space.slot(second).unwrap().block.header.length,
            4 * MIB as u32
        );
        assert_eq!(space.slot(third).unwrap().block.header.next_block, None);
        let mut whole = vec![0u8; data.len() + 10];
        assert_eq!(
            space.read(&pool, head, 0, &mut whole, Caller::SYSTEM),
            Ok(data.len())
        );
        assert!(whole[..data.len()] == data[..]);
        for offset in [0, 4 * MIB - 3, 4 * MIB, 8 * MIB - 1, 9 * MIB + 999] {
            let mut out = [0u8; 5];
            let n = space
                .read(&pool, head, offset as u64, &mut out, Caller::SYSTEM)
                .unwrap();
            let expected = &data[offset..(offset + 5).min(data.len())];
            assert_eq!(&out[..n], expected, "at {offset}");
        }
        assert_eq!(
            space.read(&pool, head, data.len() as u64, &mut whole, Caller::SYSTEM),
            Ok(0)
        );
        assert_eq!(
            space.read(&pool, head, 20 * MIB as u64, &mut whole, Caller::SYSTEM),
            Ok(0)
        );
        assert_eq!(space.locate(head, 4 * MIB as u64 + 9), Ok((second, 9)));
        assert_eq!(space.locate(head, 9 * MIB as u64), Ok((third, MIB as u32)));
        assert_eq!(
            space.locate(head, 12 * MIB as u64),
            Err(SpaceError::OutOfBlock)
        );
        // Overwrite across an edge.
        space
            .write_chained(
                &mut pool,
                head,
                4 * MIB as u64 - 2,
                b"abcd",
                3,
                Caller::SYSTEM,
            )
            .unwrap();
        let mut out = [0u8; 6];
        space
            .read(&pool, head, 4 * MIB as u64 - 3, &mut out, Caller::SYSTEM)
            .unwrap();
        assert_eq!(&out[1..5], b"abcd");
        assert_eq!((out[0], out[5]), (data[4 * MIB - 3], data[4 * MIB + 2]));
        space.seal_chain(&pool, head).unwrap();
        for addr in [head, second, third] {
            assert!(space.slot(addr).unwrap().block.header.valid);
        }
    }

    #[test]
    fn a_write_past_the_end_leaves_holes_without_pages() {
        let mut m = memory(8, 4);
        let mut pool = PagePool::new(&mut m.pages, &mut m.free, &mut m.bits).unwrap();
        let mut space = AddressSpace::new(3, &mut m.slots, 8).unwrap();
        let head = space.create(1).unwrap();
        let far = 8 * MIB as u64 + 10;
        space
            .write_chained(&mut pool, head, far, b"tail", 2, Caller::SYSTEM)
            .unwrap();
        assert_eq!(space.chain_blocks(head), Ok(3));
        assert_eq!(space.chain_length(head), Ok(far + 4));
        assert_eq!(space.used_pages(), 2, "one data page and its table");
        let mut out = [9u8; 16];
        assert_eq!(
            space.read(&pool, head, far - 10, &mut out, Caller::SYSTEM),
            Ok(14)
        );
        assert_eq!(&out[..14], b"\0\0\0\0\0\0\0\0\0\0tail");
        let mut hole = [9u8; 4];
        space
            .read(&pool, head, 4 * MIB as u64, &mut hole, Caller::SYSTEM)
            .unwrap();
        assert_eq!(hole, [0; 4]);
        assert_eq!(
            space.write_chained(&mut pool, head, 0, &[], 3, Caller::SYSTEM),
            Ok(())
        );
        assert_eq!(space.chain_length(head), Ok(far + 4));
    }

    #[test]
    fn a_chain_is_bounded_by_the_windows_slots() {
        let mut m = memory(8, 2);
        let mut pool = PagePool::new(&mut m.pages, &mut m.free, &mut m.bits).unwrap();
        let mut space = AddressSpace::new(3, &mut m.slots, 8).unwrap();
        let head = space.create(1).unwrap();
        space
            .write(&mut pool, head, 0, b"x", Caller::SYSTEM)
            .unwrap();
        let result = space.write_chained(&mut pool, head, 8 * MIB as u64, b"y", 2, Caller::SYSTEM);
        assert_eq!(result, Err(SpaceError::WindowFull));
        // Nothing changed: no block added, the head not padded.
        assert_eq!(space.chain_blocks(head), Ok(1));
        assert_eq!(space.chain_length(head), Ok(1));
        assert_eq!(
            space.write_chained(&mut pool, head, u64::MAX, b"y", 2, Caller::SYSTEM),
            Err(SpaceError::WindowFull)
        );
        space
            .write_chained(&mut pool, head, 4 * MIB as u64, b"y", 2, Caller::SYSTEM)
            .unwrap();
        assert_eq!(space.chain_blocks(head), Ok(2));
        let other = BlockAddr::new(4, 0).unwrap();
        assert_eq!(
            space.append(&mut pool, other, b"z", 2, Caller::SYSTEM),
            Err(SpaceError::NotMine)
        );
    }

    #[test]
    fn deleting_a_chain_frees_every_block() {
        let mut m = memory(16, 8);
        let mut pool = PagePool::new(&mut m.pages, &mut m.free, &mut m.bits).unwrap();
        let mut space = AddressSpace::new(3, &mut m.slots, 16).unwrap();
        let head = space.create(1).unwrap();
        for n in 0..3u64 {
            space
                .write_chained(
                    &mut pool,
                    head,
                    n * 4 * MIB as u64 + 5,
                    b"data",
                    2,
                    Caller::SYSTEM,
                )
                .unwrap();
        }
        let lone = space.create(3).unwrap();
        space
            .write(&mut pool, lone, 0, b"stay", Caller::SYSTEM)
            .unwrap();
        assert_eq!(space.used_pages(), 8);
        space.delete(&mut pool, head, Caller::SYSTEM).unwrap();
        assert_eq!(space.used_pages(), 2);
        assert_eq!(pool.free_pages(), 14);
        for index in 0..3 {
            let addr = BlockAddr::new(3, index).unwrap();
            assert_eq!(
                space.slot(addr).err(),
                Some(SpaceError::NotFound),
                "{index}"
            );
        }
        assert!(space.slot(lone).is_ok());
        // The chain's addresses stay unused.
        assert_eq!(space.create(4).unwrap().index(), 4);
    }

    #[test]
    fn broken_or_looping_chains_are_reported() {
        let mut m = memory(16, 8);
        let mut pool = PagePool::new(&mut m.pages, &mut m.free, &mut m.bits).unwrap();
        let mut space = AddressSpace::new(3, &mut m.slots, 16).unwrap();
        let head = space.create(1).unwrap();
        space
            .write_chained(&mut pool, head, 8 * MIB as u64, b"z", 2, Caller::SYSTEM)
            .unwrap();
        let second = space.locate(head, 4 * MIB as u64).unwrap().0;
        // Deleting a middle block takes the rest of the chain with it.
        space.delete(&mut pool, second, Caller::SYSTEM).unwrap();
        assert_eq!(space.chain_length(head), Err(SpaceError::BrokenChain));
        let mut out = [0u8; 8];
        assert_eq!(
            space.read(&pool, head, 4 * MIB as u64, &mut out, Caller::SYSTEM),
            Err(SpaceError::BrokenChain)
        );
        assert_eq!(
            space.append(&mut pool, head, b"x", 3, Caller::SYSTEM),
            Err(SpaceError::BrokenChain)
        );
        // A chain that loops back to its head.
        space.slot_mut(head).unwrap().block.header.next_block = Some(head);
        assert_eq!(space.chain_blocks(head), Err(SpaceError::BrokenChain));
        assert_eq!(
            space.locate(head, 100 * MIB as u64),
            Err(SpaceError::BrokenChain)
        );
        space.delete(&mut pool, head, Caller::SYSTEM).unwrap();
        assert_eq!(space.used_pages(), 0);
    }

    #[test]
    fn an_evicted_continuation_parks_the_read() {
        let mut m = memory(16, 8);
        let mut pool = PagePool::new(&mut m.pages, &mut m.free, &mut m.bits).unwrap();
        let mut space = AddressSpace::new(3, &mut m.slots, 4).unwrap();
        let head = space.create(1).unwrap();
        space
            .write_chained(
                &mut pool,
                head,
                4 * MIB as u64 - 1,
                b"ab",
                1,
                Caller::SYSTEM,
            )
            .unwrap();
        space.seal_chain(&pool, head).unwrap();
        let (second, _) = space.locate(head, 4 * MIB as u64).unwrap();
        space.mark_saved(second, 0).unwrap();
        space.set_sending(head, true).unwrap();
        // Another block needs room: only the saved continuation may go.
        let other = space.create(5).unwrap();
        space
            .write(&mut pool, other, 0, b"x", Caller::SYSTEM)
            .unwrap();
        let mut out = [0u8; 2];
        assert_eq!(
            space.read(&pool, head, 4 * MIB as u64 - 1, &mut out, Caller::SYSTEM),
            Err(SpaceError::NotResident)
        );
        space.restore(&mut pool, second, b"b").unwrap_err();
        space.delete(&mut pool, other, Caller::SYSTEM).unwrap();
        space.restore(&mut pool, second, b"b").unwrap();
        assert_eq!(
            space.read(&pool, head, 4 * MIB as u64 - 1, &mut out, Caller::SYSTEM),
            Ok(2)
        );
        assert_eq!(&out, b"ab");
    }
}
