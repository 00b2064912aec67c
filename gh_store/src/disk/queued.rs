//! The submit/complete form of a block device (what a polled virtio-blk
//! driver offers) and an adapter that drives one request at a time through
//! it, so the disk log can run on such a device.

use super::device::{DeviceError, SectorDevice, SECTOR_SIZE};

/// A finished request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Completion {
    /// The tag given at submission.
    pub tag: u32,
    /// Whether it succeeded (a write is durable once it reports `Ok`).
    pub result: Result<(), DeviceError>,
}

/// A device that takes requests and reports their completion later.
pub trait QueuedDevice {
    /// Number of sectors.
    fn sector_count(&self) -> u64;
    /// Queues a durable write of `data` (whole sectors) at `first`; the
    /// device copies `data` into its own buffers before returning.
    fn submit_write(&mut self, tag: u32, first: u64, data: &[u8]) -> Result<(), DeviceError>;
    /// Queues a read of `sectors` sectors at `first`.
    fn submit_read(&mut self, tag: u32, first: u64, sectors: u32) -> Result<(), DeviceError>;
    /// The next finished request, if any.
    fn poll(&mut self) -> Option<Completion>;
    /// Copies out the data of the completed read `tag`.
    fn take_read(&mut self, tag: u32, out: &mut [u8]) -> Result<(), DeviceError>;
}

/// Runs one request at a time on a queued device, polling at most
/// `max_polls` times for each before giving up with `Timeout`.
pub struct OneAtATime<Q: QueuedDevice> {
    device: Q,
    next_tag: u32,
    max_polls: u32,
}

impl<Q: QueuedDevice> OneAtATime<Q> {
    /// Wraps `device`.
    pub fn new(device: Q, max_polls: u32) -> Self {
        Self {
            device,
            next_tag: 0,
            max_polls,
        }
    }

    fn wait(&mut self, tag: u32) -> Result<(), DeviceError> {
        for _ in 0..self.max_polls {
            match self.device.poll() {
                Some(done) if done.tag == tag => return done.result,
                // A stray completion belongs to nobody here: ignore it.
                Some(_) | None => {}
            }
        }
        Err(DeviceError::Timeout)
    }

    fn tag(&mut self) -> u32 {
        self.next_tag = self.next_tag.wrapping_add(1);
        self.next_tag
    }
}

impl<Q: QueuedDevice> SectorDevice for OneAtATime<Q> {
    fn sector_count(&self) -> u64 {
        self.device.sector_count()
    }

    fn read(&mut self, first: u64, buf: &mut [u8]) -> Result<(), DeviceError> {
        let sectors =
            u32::try_from(buf.len() / SECTOR_SIZE).map_err(|_| DeviceError::OutOfRange)?;
        let tag = self.tag();
        self.device.submit_read(tag, first, sectors)?;
        self.wait(tag)?;
        self.device.take_read(tag, buf)
    }

    fn write(&mut self, first: u64, buf: &[u8]) -> Result<(), DeviceError> {
        let tag = self.tag();
        self.device.submit_write(tag, first, buf)?;
        self.wait(tag)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    extern crate std;
    use super::super::super::addr::BlockAddr;
    use super::super::geometry::Geometry;
    use super::super::log::{BlockMeta, DiskLog};
    use super::*;
    use std::collections::VecDeque;
    use std::vec;
    use std::vec::Vec;

    /// Completes each request `delay` polls after submission, in order.
    struct SlowDisk {
        bytes: Vec<u8>,
        queue: VecDeque<(u32, u32, Result<(), DeviceError>)>,
        reads: Vec<(u32, Vec<u8>)>,
        delay: u32,
        stuck: bool,
    }

    impl QueuedDevice for SlowDisk {
        fn sector_count(&self) -> u64 {
            (self.bytes.len() / SECTOR_SIZE) as u64
        }

        fn submit_write(&mut self, tag: u32, first: u64, data: &[u8]) -> Result<(), DeviceError> {
            let start = first as usize * SECTOR_SIZE;
            let end = start + data.len();
            let result = if end <= self.bytes.len() {
                self.bytes[start..end].copy_from_slice(data);
                Ok(())
            } else {
                Err(DeviceError::OutOfRange)
            };
            self.queue.push_back((tag, self.delay, result));
            Ok(())
        }

        fn submit_read(&mut self, tag: u32, first: u64, sectors: u32) -> Result<(), DeviceError> {
            let start = first as usize * SECTOR_SIZE;
            let end = start + sectors as usize * SECTOR_SIZE;
            let result = match self.bytes.get(start..end) {
                Some(data) => {
                    self.reads.push((tag, data.to_vec()));
                    Ok(())
                }
                None => Err(DeviceError::OutOfRange),
            };
            self.queue.push_back((tag, self.delay, result));
            Ok(())
        }

        fn poll(&mut self) -> Option<Completion> {
            if self.stuck {
                return None;
            }
            let front = self.queue.front_mut()?;
            if front.1 > 0 {
                front.1 -= 1;
                return None;
            }
            let (tag, _, result) = self.queue.pop_front()?;
            Some(Completion { tag, result })
        }

        fn take_read(&mut self, tag: u32, out: &mut [u8]) -> Result<(), DeviceError> {
            let at = self.reads.iter().position(|(t, _)| *t == tag);
            let (_, data) = self.reads.remove(at.ok_or(DeviceError::Io)?);
            out.copy_from_slice(&data);
            Ok(())
        }
    }

    const GEO: Geometry = Geometry {
        block_info_sectors: 1,
        clusters: 4,
    };

    fn disk(delay: u32) -> SlowDisk {
        SlowDisk {
            bytes: vec![0; GEO.total_sectors() as usize * SECTOR_SIZE],
            queue: VecDeque::new(),
            reads: Vec::new(),
            delay,
            stuck: false,
        }
    }

    #[test]
    fn disk_log_runs_over_submit_and_poll() {
        let mut dev = OneAtATime::new(disk(3), 10);
        let (mut image, mut map) = (vec![0u8; 512], vec![0u8; 1]);
        let a = BlockAddr::new(1, 1).unwrap();
        let data: Vec<u8> = (0..15_000u32).map(|i| (i % 253) as u8).collect();
        {
            let mut log = DiskLog::format(&mut dev, GEO, &mut image, &mut map).unwrap();
            log.put(a, &data, BlockMeta::default()).unwrap();
        }
        let (mut log, report) = DiskLog::recover(&mut dev, GEO, &mut image, &mut map).unwrap();
        assert_eq!(report.live_blocks, 1);
        let mut out = vec![0u8; 15_000];
        assert_eq!(log.get(a, &mut out), Ok(15_000));
        assert_eq!(out, data);
    }

    #[test]
    fn a_device_that_never_answers_times_out() {
        let mut slow = disk(0);
        slow.stuck = true;
        let mut dev = OneAtATime::new(slow, 5);
        assert_eq!(dev.write(0, &[0u8; 512]), Err(DeviceError::Timeout));
        let mut late = OneAtATime::new(disk(20), 5);
        let mut buf = [0u8; 512];
        assert_eq!(late.read(0, &mut buf), Err(DeviceError::Timeout));
        assert_eq!(late.write(10_000, &[0u8; 512]), Err(DeviceError::Timeout));
    }
}
