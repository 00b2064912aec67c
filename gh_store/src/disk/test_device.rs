//! A memory device for tests that can lose power in the middle of a write.
#![allow(clippy::indexing_slicing)]

extern crate std;

use super::device::{DeviceError, SectorDevice, SECTOR_SIZE};
use std::vec;
use std::vec::Vec;

/// Cuts power during write number `at_write` (counting from 0), after only
/// `landed_sectors` of its sectors reached the medium; later writes fail.
#[derive(Clone, Copy, Debug)]
pub struct PowerCut {
    pub at_write: usize,
    pub landed_sectors: usize,
}

pub struct FaultDevice {
    pub bytes: Vec<u8>,
    pub writes: usize,
    /// Sector count of each write, in order (to enumerate tear points).
    pub write_sizes: Vec<usize>,
    pub cut: Option<PowerCut>,
    pub dead: bool,
}

impl FaultDevice {
    pub fn new(sectors: u64) -> Self {
        Self::from_bytes(vec![0u8; sectors as usize * SECTOR_SIZE])
    }

    pub fn from_bytes(bytes: Vec<u8>) -> Self {
        Self {
            bytes,
            writes: 0,
            write_sizes: Vec::new(),
            cut: None,
            dead: false,
        }
    }

    fn range(&self, first: u64, len: usize) -> Result<core::ops::Range<usize>, DeviceError> {
        let start = first as usize * SECTOR_SIZE;
        if len % SECTOR_SIZE != 0 || start + len > self.bytes.len() {
            return Err(DeviceError::OutOfRange);
        }
        Ok(start..start + len)
    }
}

impl SectorDevice for FaultDevice {
    fn sector_count(&self) -> u64 {
        (self.bytes.len() / SECTOR_SIZE) as u64
    }

    fn read(&mut self, first: u64, buf: &mut [u8]) -> Result<(), DeviceError> {
        let range = self.range(first, buf.len())?;
        buf.copy_from_slice(&self.bytes[range]);
        Ok(())
    }

    fn write(&mut self, first: u64, buf: &[u8]) -> Result<(), DeviceError> {
        let range = self.range(first, buf.len())?;
        if self.dead {
            return Err(DeviceError::Io);
        }
        let number = self.writes;
        self.writes += 1;
        self.write_sizes.push(buf.len() / SECTOR_SIZE);
        if let Some(cut) = self.cut {
            if cut.at_write == number {
                let landed = (cut.landed_sectors * SECTOR_SIZE).min(buf.len());
                self.bytes[range.start..range.start + landed].copy_from_slice(&buf[..landed]);
                self.dead = true;
                return Err(DeviceError::Io);
            }
        }
        self.bytes[range].copy_from_slice(buf);
        Ok(())
    }
}

/// A region in a host file, as `tools/` and host tests use it.
pub struct FileDevice {
    pub file: std::fs::File,
    pub sectors: u64,
}

impl SectorDevice for FileDevice {
    fn sector_count(&self) -> u64 {
        self.sectors
    }

    fn read(&mut self, first: u64, buf: &mut [u8]) -> Result<(), DeviceError> {
        use std::os::unix::fs::FileExt;
        if first + (buf.len() / SECTOR_SIZE) as u64 > self.sectors {
            return Err(DeviceError::OutOfRange);
        }
        self.file
            .read_exact_at(buf, first * SECTOR_SIZE as u64)
            .map_err(|_| DeviceError::Io)
    }

    fn write(&mut self, first: u64, buf: &[u8]) -> Result<(), DeviceError> {
        use std::os::unix::fs::FileExt;
        if first + (buf.len() / SECTOR_SIZE) as u64 > self.sectors {
            return Err(DeviceError::OutOfRange);
        }
        self.file
            .write_all_at(buf, first * SECTOR_SIZE as u64)
            .and_then(|()| self.file.sync_data())
            .map_err(|_| DeviceError::Io)
    }
}
