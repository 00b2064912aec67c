//! The block-device interface a core's disk region is reached through.
//!
//! On the host it is a file or memory; in the module, the guest's data disk.

/// Size of one sector, the unit of every transfer and of write atomicity.
pub const SECTOR_SIZE: usize = 512;

/// A device failure; the request did not (fully) happen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeviceError {
    /// The sector range lies outside the device.
    OutOfRange,
    /// The device reported an I/O error (or lost power).
    Io,
    /// The device did not complete the request in time.
    Timeout,
}

/// Sector-granular storage. A write that returns `Ok` is durable; a failed
/// write may have landed any prefix of its sectors, each sector whole.
pub trait SectorDevice {
    /// Number of sectors on the device.
    fn sector_count(&self) -> u64;
    /// Reads `buf.len() / 512` sectors starting at `first`.
    fn read(&mut self, first: u64, buf: &mut [u8]) -> Result<(), DeviceError>;
    /// Writes `buf.len() / 512` sectors starting at `first`, durably.
    fn write(&mut self, first: u64, buf: &[u8]) -> Result<(), DeviceError>;
}

impl<T: SectorDevice + ?Sized> SectorDevice for &mut T {
    fn sector_count(&self) -> u64 {
        (**self).sector_count()
    }

    fn read(&mut self, first: u64, buf: &mut [u8]) -> Result<(), DeviceError> {
        (**self).read(first, buf)
    }

    fn write(&mut self, first: u64, buf: &[u8]) -> Result<(), DeviceError> {
        (**self).write(first, buf)
    }
}

/// A device in caller-provided memory (host tests, RAM-backed regions).
pub struct MemDevice<'a> {
    bytes: &'a mut [u8],
}

impl<'a> MemDevice<'a> {
    /// A device over `bytes`; a trailing partial sector is unused.
    pub fn new(bytes: &'a mut [u8]) -> Self {
        Self { bytes }
    }

    fn range(&self, first: u64, len: usize) -> Result<core::ops::Range<usize>, DeviceError> {
        if len % SECTOR_SIZE != 0 {
            return Err(DeviceError::OutOfRange);
        }
        let start = usize::try_from(first)
            .ok()
            .and_then(|s| s.checked_mul(SECTOR_SIZE))
            .ok_or(DeviceError::OutOfRange)?;
        let end = start.checked_add(len).ok_or(DeviceError::OutOfRange)?;
        let usable = self.bytes.len() - self.bytes.len() % SECTOR_SIZE;
        if end > usable {
            return Err(DeviceError::OutOfRange);
        }
        Ok(start..end)
    }
}

impl SectorDevice for MemDevice<'_> {
    fn sector_count(&self) -> u64 {
        (self.bytes.len() / SECTOR_SIZE) as u64
    }

    fn read(&mut self, first: u64, buf: &mut [u8]) -> Result<(), DeviceError> {
        let range = self.range(first, buf.len())?;
        let src = self.bytes.get(range).ok_or(DeviceError::OutOfRange)?;
        buf.copy_from_slice(src);
        Ok(())
    }

    fn write(&mut self, first: u64, buf: &[u8]) -> Result<(), DeviceError> {
        let range = self.range(first, buf.len())?;
        let dst = self.bytes.get_mut(range).ok_or(DeviceError::OutOfRange)?;
        dst.copy_from_slice(buf);
        Ok(())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    #[test]
    fn reads_back_writes_and_checks_bounds() {
        let mut mem = [0u8; SECTOR_SIZE * 4 + 100];
        let mut dev = MemDevice::new(&mut mem);
        assert_eq!(dev.sector_count(), 4);
        let data = [7u8; SECTOR_SIZE * 2];
        dev.write(2, &data).unwrap();
        let mut back = [0u8; SECTOR_SIZE * 2];
        dev.read(2, &mut back).unwrap();
        assert_eq!(back, data);
        assert_eq!(dev.write(3, &data), Err(DeviceError::OutOfRange));
        assert_eq!(dev.read(u64::MAX, &mut back), Err(DeviceError::OutOfRange));
        assert_eq!(dev.write(0, &[0u8; 100]), Err(DeviceError::OutOfRange));
    }
}
