//! What the disk-format fuzz target and its seed generator share: the region geometries
//! the target recovers, how an input becomes a region, and resealing.
//!
//! Every on-disk record is sealed with a CRC32C, so a byte the fuzzer changes almost
//! always makes the record "corrupt" and recovery stops looking at it. Resealing
//! recomputes the checksum of every record that carries a known kind tag, so that the
//! fuzzer can also hand recovery records that check out but say impossible things.

use gh_store::checksum::crc32c;
use gh_store::disk::device::SECTOR_SIZE;
use gh_store::disk::geometry::Geometry;
use gh_store::disk::record::RECORD_LEN;

/// The geometries an input can be recovered as: small, so that a whole region fits in an
/// input, but with several block-info sectors and a cluster ring that wraps.
pub const GEOMETRIES: [Geometry; 2] = [
    Geometry {
        block_info_sectors: 2,
        clusters: 4,
    },
    Geometry {
        block_info_sectors: 1,
        clusters: 2,
    },
];

/// Bit of the control byte: reseal the records of the image.
pub const RESEAL: u8 = 1;
/// Bit of the control byte: recover with the second geometry.
pub const SECOND_GEOMETRY: u8 = 2;

/// The region an input describes and the geometry to recover it with.
///
/// Byte 0 is the control byte (`RESEAL`, `SECOND_GEOMETRY`, and bits 2-3 for the target's
/// own use); the rest is the start of the region, which is padded with zeros (a region
/// never written) or cut to the geometry's size.
pub fn region(data: &[u8]) -> Option<(Geometry, Vec<u8>)> {
    let (&control, image) = data.split_first()?;
    let geometry = GEOMETRIES[usize::from(control & SECOND_GEOMETRY != 0)];
    let len = usize::try_from(geometry.total_sectors()).ok()? * SECTOR_SIZE;
    let mut disk = vec![0u8; len];
    let n = image.len().min(len);
    disk[..n].copy_from_slice(&image[..n]);
    if control & RESEAL != 0 {
        reseal(&mut disk, &geometry);
    }
    Some((geometry, disk))
}

/// Recomputes the checksum of every record in the metadata sectors (headers, block-info
/// and cluster-info areas) whose kind tag is one GigaHttpd writes.
pub fn reseal(disk: &mut [u8], geometry: &Geometry) {
    let meta = usize::try_from(geometry.cluster_sector(0)).unwrap_or(0) * SECTOR_SIZE;
    let end = meta.min(disk.len());
    for record in disk[..end].chunks_exact_mut(RECORD_LEN) {
        if matches!(&record[4..8], b"GHBI" | b"GHCI" | b"GHRH") {
            let crc = crc32c(&record[4..]);
            record[..4].copy_from_slice(&crc.to_le_bytes());
        }
    }
}

/// The byte range of the block-info area in a region.
pub fn block_info_area(geometry: &Geometry) -> core::ops::Range<usize> {
    let start = usize::try_from(geometry.block_info_sector(0)).unwrap_or(0) * SECTOR_SIZE;
    start..start + geometry.block_info_image_len()
}
