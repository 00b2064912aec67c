//! The TAP device and the [`Platform`] that runs GigaHttpd's engine on it.
//!
//! A TAP device is a virtual Ethernet link whose far end is this process: every frame the
//! Linux stack sends out of it is read here, and every frame written here is received by
//! Linux as if it came off a wire. That lets Linux's own TCP and HTTP clients talk to the
//! engine exactly as they would to a GigaHttpd core behind a NIC.

use std::fs::{File, OpenOptions};
use std::io::{self, Read, Write};
use std::os::fd::AsRawFd;
use std::os::unix::fs::OpenOptionsExt;
use std::time::Instant;

use gh_net::engine::Platform;

use crate::loss::Loss;

/// An open TAP device in raw Ethernet mode (no packet-information prefix), non-blocking.
pub struct Tap {
    file: File,
}

impl Tap {
    /// Attaches to (or creates) the TAP device `name`. Test scripts create it beforehand
    /// with `ip tuntap add mode tap` so that its addresses can be set before we start.
    pub fn open(name: &str) -> io::Result<Tap> {
        if name.is_empty() || name.len() >= libc::IFNAMSIZ || name.contains('\0') {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("bad interface name {name:?}"),
            ));
        }
        // Non-blocking, so one poll(2) wakeup drains every queued frame and the loop still
        // gets back to the engine's timers on time.
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .custom_flags(libc::O_NONBLOCK | libc::O_CLOEXEC)
            .open("/dev/net/tun")?;
        // SAFETY: `ifreq` is plain old data for which all-zero bytes are a valid value.
        let mut ifr: libc::ifreq = unsafe { std::mem::zeroed() };
        for (d, s) in ifr.ifr_name.iter_mut().zip(name.bytes()) {
            *d = s as libc::c_char;
        }
        // IFF_NO_PI: frames are bare Ethernet, the same bytes a NIC would deliver.
        ifr.ifr_ifru.ifru_flags = (libc::IFF_TAP | libc::IFF_NO_PI) as libc::c_short;
        // SAFETY: TUNSETIFF reads and writes one `ifreq`, which outlives the call; the file
        // descriptor is open.
        let rc = unsafe { libc::ioctl(file.as_raw_fd(), libc::TUNSETIFF, &mut ifr) };
        if rc < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(Tap { file })
    }

    /// Waits up to `timeout_ms` for a frame to read; true if one is ready.
    pub fn wait(&self, timeout_ms: i32) -> io::Result<bool> {
        let mut pfd = libc::pollfd {
            fd: self.file.as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        };
        // SAFETY: one valid `pollfd`, borrowed for the duration of the call.
        let rc = unsafe { libc::poll(&mut pfd, 1, timeout_ms) };
        if rc < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(rc > 0 && pfd.revents & libc::POLLIN != 0)
    }

    /// Reads one frame; `WouldBlock` when none is queued.
    pub fn read(&self, buf: &mut [u8]) -> io::Result<usize> {
        (&self.file).read(buf)
    }

    /// Writes one frame; the TAP driver takes whole frames or nothing.
    fn write(&self, frame: &[u8]) -> io::Result<usize> {
        (&self.file).write(frame)
    }
}

/// Largest frame the engine may build: the TAP's MTU is 1500, and anything larger would be
/// refused by the driver anyway.
const MAX_FRAME: usize = 65_536;

/// The engine's view of this process: a monotonic clock, a pseudo-random generator seeded
/// from the kernel, and a transmit path into the TAP device.
pub struct TapPlatform<'t> {
    tap: &'t Tap,
    start: Instant,
    rng: u64,
    /// One frame's worth of memory, reused for every transmitted frame.
    frame: Vec<u8>,
    /// Frames the TAP driver refused (the engine sees them as a full TX ring).
    pub tx_errors: u64,
    /// The lossy link's transmit side.
    pub loss: Loss,
}

impl<'t> TapPlatform<'t> {
    /// A platform writing to `tap` through `loss`, its generator seeded with `seed`.
    pub fn new(tap: &'t Tap, seed: u64, loss: Loss) -> TapPlatform<'t> {
        TapPlatform {
            tap,
            start: Instant::now(),
            rng: seed,
            frame: vec![0; MAX_FRAME],
            tx_errors: 0,
            loss,
        }
    }
}

impl Platform for TapPlatform<'_> {
    fn now_ms(&self) -> u64 {
        u64::try_from(self.start.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    fn random(&mut self) -> u64 {
        // SplitMix64: the seed carries the unpredictability; this only spreads it.
        self.rng = self.rng.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.rng;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn transmit(&mut self, len: usize, build: &mut dyn FnMut(&mut [u8])) -> bool {
        let Some(buf) = self.frame.get_mut(..len) else {
            self.tx_errors += 1;
            return false;
        };
        // The builder may leave padding untouched; never leak a previous frame's bytes.
        buf.fill(0);
        build(buf);
        // A lost frame left as far as the engine can tell.
        if self.loss.lose() {
            return true;
        }
        match self.tap.write(buf) {
            Ok(n) if n == len => true,
            _ => {
                self.tx_errors += 1;
                false
            }
        }
    }
}

/// 64 bits from the kernel's random pool, for the engine's keys and our generator.
pub fn kernel_random() -> io::Result<u64> {
    let mut b = [0u8; 8];
    File::open("/dev/urandom")?.read_exact(&mut b)?;
    Ok(u64::from_le_bytes(b))
}
