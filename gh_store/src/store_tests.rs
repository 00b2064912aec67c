//! The pieces together: a block is written in memory, logged to disk,
//! evicted under memory pressure, parked on read, read back from disk and
//! served again — also after a restart.
#![allow(clippy::unwrap_used, clippy::indexing_slicing)]

extern crate std;

use super::authorize::Caller;
use super::block::Block;
use super::disk::device::{MemDevice, SECTOR_SIZE};
use super::disk::geometry::Geometry;
use super::disk::log::{BlockMeta, DiskLog};
use super::page_pool::{PagePool, PAGE_SIZE};
use super::space::{AddressSpace, Lookup, Slot};
use std::vec;
use std::vec::Vec;

const GEO: Geometry = Geometry {
    block_info_sectors: 4,
    clusters: 16,
};

fn block_bytes(block: &Block, pool: &PagePool<'_>) -> Vec<u8> {
    let mut out = vec![0u8; block.header.length as usize];
    let n = block.read(pool, 0, &mut out);
    out.truncate(n);
    out
}

#[test]
fn evicted_block_parks_then_comes_back_from_disk() {
    let mut disk = vec![0u8; GEO.total_sectors() as usize * SECTOR_SIZE];
    let (mut image, mut map) = (
        vec![0u8; GEO.block_info_image_len()],
        vec![0u8; GEO.cluster_map_len()],
    );
    let mut pages = vec![[0u8; PAGE_SIZE]; 32];
    let (mut free, mut bits) = (vec![0u32; 32], vec![0u8; 4]);
    let mut slots: Vec<Option<Slot>> = vec![None; 8];
    let mut pool = PagePool::new(&mut pages, &mut free, &mut bits).unwrap();
    // Room for two 3-page blocks (2 data pages + table) only.
    let mut space = AddressSpace::new(4, &mut slots, 6).unwrap();
    let contents: Vec<Vec<u8>> = (0..3u8)
        .map(|i| (0..6_000u32).map(|b| (b as u8) ^ i).collect())
        .collect();
    let mut addrs = Vec::new();
    {
        let mut log =
            DiskLog::format(MemDevice::new(&mut disk), GEO, &mut image, &mut map).unwrap();
        for (i, data) in contents.iter().enumerate() {
            let addr = space.create(i as u64).unwrap();
            space
                .write(&mut pool, addr, 0, data, Caller::SYSTEM)
                .unwrap();
            space.seal(&pool, addr).unwrap();
            log.put(addr, data, BlockMeta::default()).unwrap();
            let cluster = log.lookup(addr).unwrap().unwrap().first_cluster;
            space.mark_saved(addr, cluster).unwrap();
            addrs.push(addr);
        }
        // The third block pushed the first (oldest) out.
        assert_eq!(space.access(addrs[0], 10, Caller::SYSTEM), Lookup::Parked);
        let mut buffer = vec![0u8; 6_000];
        let n = log.get(addrs[0], &mut buffer).unwrap();
        space.restore(&mut pool, addrs[0], &buffer[..n]).unwrap();
        match space.access(addrs[0], 11, Caller::SYSTEM) {
            Lookup::Resident(block) => assert_eq!(block_bytes(block, &pool), contents[0]),
            other => panic!("{other:?}"),
        }
        assert_eq!(space.access(addrs[1], 12, Caller::SYSTEM), Lookup::Parked);
    }
    // After a restart every block is still on disk.
    let (mut log, report) =
        DiskLog::recover(MemDevice::new(&mut disk), GEO, &mut image, &mut map).unwrap();
    assert_eq!(report.live_blocks, 3);
    let mut buffer = vec![0u8; 6_000];
    for (addr, data) in addrs.iter().zip(&contents) {
        assert_eq!(log.get(*addr, &mut buffer), Ok(6_000));
        assert_eq!(&buffer, data);
    }
}

#[test]
fn a_chain_over_4_mib_is_logged_block_by_block_and_read_back() {
    const CHAIN_GEO: Geometry = Geometry {
        block_info_sectors: 1,
        clusters: 420,
    };
    let mut disk = vec![0u8; CHAIN_GEO.total_sectors() as usize * SECTOR_SIZE];
    let (mut image, mut map) = (
        vec![0u8; CHAIN_GEO.block_info_image_len()],
        vec![0u8; CHAIN_GEO.cluster_map_len()],
    );
    let mut pages = vec![[0u8; PAGE_SIZE]; 1_100];
    let (mut free, mut bits) = (vec![0u32; 1_100], vec![0u8; 138]);
    let mut slots: Vec<Option<Slot>> = vec![None; 4];
    let mut pool = PagePool::new(&mut pages, &mut free, &mut bits).unwrap();
    let mut space = AddressSpace::new(4, &mut slots, 1_100).unwrap();
    let contents: Vec<u8> = (0..(4 << 20) + 5_000u32).map(|i| (i % 249) as u8).collect();
    let head = space.create(1).unwrap();
    space
        .append(&mut pool, head, &contents, 1, Caller::SYSTEM)
        .unwrap();
    space.seal_chain(&pool, head).unwrap();
    {
        let mut log =
            DiskLog::format(MemDevice::new(&mut disk), CHAIN_GEO, &mut image, &mut map).unwrap();
        let mut next = Some(head);
        while let Some(addr) = next {
            let block = &space.slot(addr).unwrap().block;
            let meta = BlockMeta {
                next_block: block.header.next_block,
                ..BlockMeta::default()
            };
            log.put(addr, &block_bytes(block, &pool), meta).unwrap();
            next = block.header.next_block;
        }
    }
    let (mut log, report) =
        DiskLog::recover(MemDevice::new(&mut disk), CHAIN_GEO, &mut image, &mut map).unwrap();
    assert_eq!((report.live_blocks, report.broken_chains), (2, 0));
    let mut read_back = Vec::new();
    let mut buffer = vec![0u8; 4 << 20];
    let mut next = Some(head);
    while let Some(addr) = next {
        let n = log.get(addr, &mut buffer).unwrap();
        read_back.extend_from_slice(&buffer[..n]);
        next = log.lookup(addr).unwrap().unwrap().next_block;
    }
    assert!(read_back == contents, "chain read back differs");
}

#[test]
fn queued_writes_read_the_blocks_pages_when_pumped() {
    use super::disk::log::LogError;
    use super::disk::write_queue::{Durability, WriteQueue};
    use super::space::SpaceSource;
    let mut disk = vec![0u8; GEO.total_sectors() as usize * SECTOR_SIZE];
    let (mut image, mut map) = (
        vec![0u8; GEO.block_info_image_len()],
        vec![0u8; GEO.cluster_map_len()],
    );
    let mut pages = vec![[0u8; PAGE_SIZE]; 16];
    let (mut free, mut bits) = (vec![0u32; 16], vec![0u8; 2]);
    let mut slots: Vec<Option<Slot>> = vec![None; 4];
    let mut pool = PagePool::new(&mut pages, &mut free, &mut bits).unwrap();
    let mut space = AddressSpace::new(4, &mut slots, 16).unwrap();
    let mut log = DiskLog::format(MemDevice::new(&mut disk), GEO, &mut image, &mut map).unwrap();
    let mut entries = [None; 2];
    let mut queue = WriteQueue::new(&mut entries);
    let small = space.create(1).unwrap();
    space
        .write(&mut pool, small, 0, b"queued", Caller::SYSTEM)
        .unwrap();
    let large = space.create(2).unwrap();
    space
        .write(&mut pool, large, 0, &[7u8; 5_000], Caller::SYSTEM)
        .unwrap();
    let mut scratch = vec![0u8; 4_096];
    let mut done = Vec::new();
    for addr in [small, large] {
        let mut source = SpaceSource::new(&space, &pool, &mut scratch);
        let meta = BlockMeta::default();
        queue
            .submit(&mut log, &mut source, addr, meta, Durability::Queue, |_| {})
            .unwrap();
    }
    // Changed after queueing: the pump writes what the pages hold then.
    space
        .write(&mut pool, small, 0, b"Q", Caller::SYSTEM)
        .unwrap();
    let mut source = SpaceSource::new(&space, &pool, &mut scratch);
    assert_eq!(queue.pump(&mut log, &mut source, 8, |d| done.push(d)), 2);
    assert_eq!(done[0].result, Ok(()));
    assert_eq!(done[1].result, Err(LogError::BufferTooSmall));
    let mut out = [0u8; 6];
    assert_eq!(log.get(small, &mut out), Ok(6));
    assert_eq!(&out, b"Queued");
    assert_eq!(log.get(large, &mut out), Err(LogError::NotFound));
}
