//! Behaviour of the disk log without power cuts.
#![allow(clippy::unwrap_used, clippy::indexing_slicing)]

extern crate std;

use super::super::addr::BlockAddr;
use super::device::{MemDevice, SECTOR_SIZE};
use super::geometry::Geometry;
use super::log::{BlockMeta, DiskLog, LogError};
use super::test_device::FaultDevice;
use std::vec;
use std::vec::Vec;

const GEO: Geometry = Geometry {
    block_info_sectors: 2,
    clusters: 12,
};

fn addr(index: u32) -> BlockAddr {
    BlockAddr::new(7, index).unwrap()
}

fn pattern(seed: u32, len: usize) -> Vec<u8> {
    (0..len)
        .map(|i| (i as u32).wrapping_mul(31).wrapping_add(seed * 7) as u8)
        .collect()
}

fn memory() -> (Vec<u8>, Vec<u8>) {
    (
        vec![0u8; GEO.block_info_image_len()],
        vec![0u8; GEO.cluster_map_len()],
    )
}

#[test]
fn put_get_delete_and_recover() {
    let mut dev = FaultDevice::new(GEO.total_sectors());
    let (mut image, mut map) = memory();
    let sizes = [0usize, 1, 511, 512, 10_240, 10_241, 25_000];
    {
        let mut log = DiskLog::format(&mut dev, GEO, &mut image, &mut map).unwrap();
        for (i, &len) in sizes.iter().enumerate() {
            log.put(
                addr(i as u32),
                &pattern(i as u32, len),
                BlockMeta::default(),
            )
            .unwrap();
        }
        assert_eq!(log.free_clusters(), 12 - 9);
        let mut out = vec![0u8; 30_000];
        for (i, &len) in sizes.iter().enumerate() {
            assert_eq!(log.get(addr(i as u32), &mut out), Ok(len));
            assert_eq!(&out[..len], &pattern(i as u32, len)[..]);
        }
        assert_eq!(log.delete(addr(5)), Ok(true));
        assert_eq!(log.delete(addr(5)), Ok(false));
        assert_eq!(log.get(addr(5), &mut out), Err(LogError::NotFound));
        assert_eq!(log.free_clusters(), 12 - 7);
        let mut small = [0u8; 10];
        assert_eq!(log.get(addr(6), &mut small), Err(LogError::BufferTooSmall));
    }
    let (mut image2, mut map2) = memory();
    let (mut log, report) = DiskLog::recover(&mut dev, GEO, &mut image2, &mut map2).unwrap();
    assert_eq!(report.live_blocks, 6);
    assert_eq!(report.corrupt_records, 0);
    assert_eq!(report.dropped_blocks, 0);
    assert_eq!(log.free_clusters(), 12 - 7);
    let mut out = vec![0u8; 30_000];
    for (i, &len) in sizes.iter().enumerate() {
        let got = log.get(addr(i as u32), &mut out);
        if i == 5 {
            assert_eq!(got, Err(LogError::NotFound));
        } else {
            assert_eq!(got, Ok(len));
            assert_eq!(&out[..len], &pattern(i as u32, len)[..]);
        }
    }
}

#[test]
fn refuses_bad_requests() {
    let mut dev = FaultDevice::new(GEO.total_sectors());
    let (mut image, mut map) = memory();
    let mut log = DiskLog::format(&mut dev, GEO, &mut image, &mut map).unwrap();
    log.put(addr(5), b"x", BlockMeta::default()).unwrap();
    assert_eq!(
        log.put(addr(5), b"y", BlockMeta::default()),
        Err(LogError::OutOfOrder)
    );
    assert_eq!(
        log.put(addr(6), &vec![0u8; 12 * 10_240], BlockMeta::default()),
        Err(LogError::Full)
    );
    assert_eq!(
        log.put(addr(6), &vec![0u8; (4 << 20) + 1], BlockMeta::default()),
        Err(LogError::TooLarge)
    );
    let (mut small_image, mut small_map) = (vec![0u8; 100], vec![0u8; 2]);
    let mut dev2 = FaultDevice::new(GEO.total_sectors());
    assert!(matches!(
        DiskLog::format(&mut dev2, GEO, &mut small_image, &mut small_map),
        Err(LogError::TooSmall)
    ));
    let mut tiny = FaultDevice::new(10);
    let (mut i3, mut m3) = memory();
    assert!(matches!(
        DiskLog::format(&mut tiny, GEO, &mut i3, &mut m3),
        Err(LogError::TooSmall)
    ));
}

#[test]
fn unformatted_or_other_geometry_refused() {
    let mut dev = FaultDevice::new(GEO.total_sectors());
    let (mut image, mut map) = memory();
    assert!(matches!(
        DiskLog::recover(&mut dev, GEO, &mut image, &mut map),
        Err(LogError::NotFormatted)
    ));
    DiskLog::format(&mut dev, GEO, &mut image, &mut map).unwrap();
    let other = Geometry {
        block_info_sectors: 1,
        clusters: 12,
    };
    assert!(matches!(
        DiskLog::recover(&mut dev, other, &mut image, &mut map),
        Err(LogError::NotFormatted)
    ));
}

#[test]
fn ring_wraps_and_area_compacts() {
    let mut dev = FaultDevice::new(GEO.total_sectors());
    let (mut image, mut map) = memory();
    let mut log = DiskLog::format(&mut dev, GEO, &mut image, &mut map).unwrap();
    let mut out = vec![0u8; 25_000];
    // 40 blocks of 2-3 clusters through a 12-cluster ring and an 8-slot area.
    for i in 0..40u32 {
        if i >= 3 {
            assert_eq!(log.delete(addr(i - 3)), Ok(true));
        }
        let len = 15_000 + (i as usize % 3) * 3_000;
        log.put(addr(i), &pattern(i, len), BlockMeta::default())
            .unwrap();
        assert_eq!(log.get(addr(i), &mut out), Ok(len));
        assert_eq!(&out[..len], &pattern(i, len)[..]);
    }
    assert_eq!(log.live_blocks(), 3);
}

#[test]
fn corrupted_data_or_record_is_never_served() {
    let mut bytes = vec![0u8; GEO.total_sectors() as usize * SECTOR_SIZE];
    let (mut image, mut map) = memory();
    {
        let mut log =
            DiskLog::format(MemDevice::new(&mut bytes), GEO, &mut image, &mut map).unwrap();
        for i in 0..4u32 {
            log.put(addr(i), &pattern(i, 3_000), BlockMeta::default())
                .unwrap();
        }
    }
    // Flip a data byte of the first cluster (block 0) and a byte of block
    // 2's block-info record (slot 2 of the area at sector 2).
    let data_start = GEO.cluster_sector(0) as usize * SECTOR_SIZE;
    bytes[data_start + 100] ^= 0x01;
    bytes[2 * SECTOR_SIZE + 2 * 128 + 40] ^= 0x80;
    let (mut log, report) =
        DiskLog::recover(MemDevice::new(&mut bytes), GEO, &mut image, &mut map).unwrap();
    assert_eq!(report.corrupt_records, 1);
    assert_eq!(report.live_blocks, 3);
    let mut out = vec![0u8; 3_000];
    assert_eq!(log.get(addr(0), &mut out), Err(LogError::Corrupt));
    assert_eq!(log.get(addr(2), &mut out), Err(LogError::NotFound));
    assert_eq!(log.get(addr(3), &mut out), Ok(3_000));
    assert_eq!(out, pattern(3, 3_000));
}

#[test]
fn garbage_region_never_panics() {
    // Deterministic junk over every area, with valid headers so recovery
    // has to read it all.
    let mut dev = FaultDevice::new(GEO.total_sectors());
    let (mut image, mut map) = memory();
    DiskLog::format(&mut dev, GEO, &mut image, &mut map).unwrap();
    let mut state = 0x1234_5678_9abc_def0u64;
    for byte in dev.bytes[2 * SECTOR_SIZE..].iter_mut() {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        *byte = state as u8;
    }
    let (mut log, report) = DiskLog::recover(&mut dev, GEO, &mut image, &mut map).unwrap();
    assert_eq!(report.live_blocks, 0);
    assert_eq!(report.corrupt_records, GEO.block_info_capacity());
    log.put(addr(1), b"fresh", BlockMeta::default()).unwrap();
    let mut out = [0u8; 5];
    assert_eq!(log.get(addr(1), &mut out), Ok(5));
}

#[test]
fn random_corruption_never_serves_wrong_data() {
    let mut clean = FaultDevice::new(GEO.total_sectors());
    let (mut image, mut map) = memory();
    let lens = [0usize, 700, 10_240, 15_000, 4_000];
    {
        let mut log = DiskLog::format(&mut clean, GEO, &mut image, &mut map).unwrap();
        for (i, &len) in lens.iter().enumerate() {
            log.put(
                addr(i as u32),
                &pattern(i as u32, len),
                BlockMeta::default(),
            )
            .unwrap();
        }
        log.delete(addr(1)).unwrap();
    }
    let mut state = 0x0bad_5eed_u64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let mut recovered = 0;
    for _ in 0..300 {
        let mut dev = FaultDevice::from_bytes(clean.bytes.clone());
        // Corrupt 1-4 bytes anywhere in the metadata or data.
        for _ in 0..(next() % 4 + 1) {
            let at = (next() % dev.bytes.len() as u64) as usize;
            dev.bytes[at] ^= (next() % 255 + 1) as u8;
        }
        let Ok((mut log, _)) = DiskLog::recover(&mut dev, GEO, &mut image, &mut map) else {
            continue;
        };
        recovered += 1;
        let mut out = vec![0u8; 20_000];
        for (i, &len) in lens.iter().enumerate() {
            if let Ok(n) = log.get(addr(i as u32), &mut out) {
                assert_ne!(i, 1, "deleted block came back");
                assert_eq!(n, len);
                assert_eq!(&out[..n], &pattern(i as u32, len)[..]);
            }
        }
    }
    assert!(recovered > 200);
}

#[test]
fn runs_on_a_host_file() {
    use super::test_device::FileDevice;
    let path =
        std::env::temp_dir().join(std::format!("gh_store_region_{}.img", std::process::id()));
    let open = || {
        let file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .unwrap();
        file.set_len(GEO.total_sectors() * SECTOR_SIZE as u64)
            .unwrap();
        FileDevice {
            file,
            sectors: GEO.total_sectors(),
        }
    };
    let (mut image, mut map) = memory();
    {
        let mut log = DiskLog::format(open(), GEO, &mut image, &mut map).unwrap();
        log.put(addr(1), &pattern(1, 12_345), BlockMeta::default())
            .unwrap();
    }
    let (mut log, report) = DiskLog::recover(open(), GEO, &mut image, &mut map).unwrap();
    assert_eq!(report.live_blocks, 1);
    let mut out = vec![0u8; 12_345];
    assert_eq!(log.get(addr(1), &mut out), Ok(12_345));
    assert_eq!(out, pattern(1, 12_345));
    std::fs::remove_file(&path).unwrap();
}

#[test]
fn kind_source_machine_and_header_fields_survive_recovery() {
    use super::super::block_kind::BlockKind;
    let mut dev = FaultDevice::new(GEO.total_sectors());
    let (mut image, mut map) = memory();
    let meta = BlockMeta {
        created: 77,
        permissions: 0b11,
        owner: 0x1_0000_0000,
        next_block: None,
        kind: BlockKind::PACKAGE,
        source_machine: 3,
    };
    {
        let mut log = DiskLog::format(&mut dev, GEO, &mut image, &mut map).unwrap();
        log.put(addr(1), b"listing", meta).unwrap();
    }
    let (log, _) = DiskLog::recover(&mut dev, GEO, &mut image, &mut map).unwrap();
    let info = log.lookup(addr(1)).unwrap().unwrap();
    assert_eq!(
        (info.kind, info.source_machine, info.created, info.owner),
        (BlockKind::PACKAGE, 3, 77, 0x1_0000_0000)
    );
    assert_eq!(info.permissions, 0b11);
}
