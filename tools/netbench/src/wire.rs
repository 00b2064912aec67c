//! The in-memory link between the client and a server: the server's transmit ring, and
//! the addresses both ends use.

use gh_net::wire::ethernet::Address as Mac;
use gh_net::wire::ipv4::Address as Ip;

/// The server's hardware address.
pub const SERVER_MAC: Mac = Mac([2, 0, 0, 0, 0, 1]);
/// The client's hardware address.
pub const CLIENT_MAC: Mac = Mac([2, 0, 0, 0, 0, 2]);
/// The server's address.
pub const SERVER_IP: Ip = Ip([10, 9, 0, 1]);
/// The client's address.
pub const CLIENT_IP: Ip = Ip([10, 9, 0, 2]);
/// The port the servers listen on.
pub const HTTP_PORT: u16 = 80;
/// Length of the Ethernet, IPv4 and TCP headers of a frame without options.
pub const HEADERS_LEN: usize = 14 + 20 + 20;
/// Where a frame's TCP flags byte is (no IPv4 options).
pub const TCP_FLAGS_AT: usize = 14 + 20 + 13;

/// Largest frame a buffer holds (an Ethernet frame of 1500-byte MTU, rounded up).
pub const FRAME_CAP: usize = 1536;
/// Frames one server turn may send before the ring is full.
const RING: usize = 16;

/// A transmit ring of preallocated buffers, as a NIC has: sending a frame writes it in
/// place and allocates nothing, so what the server side is charged for is the stack's
/// own work plus a few instructions of bookkeeping here, the same for both stacks.
pub struct Wire {
    bufs: Box<[[u8; FRAME_CAP]; RING]>,
    lens: [usize; RING],
    count: usize,
}

impl Default for Wire {
    fn default() -> Self {
        Self::new()
    }
}

impl Wire {
    /// An empty ring.
    pub fn new() -> Self {
        Self {
            bufs: Box::new([[0; FRAME_CAP]; RING]),
            lens: [0; RING],
            count: 0,
        }
    }

    /// True if no more frames fit.
    pub fn is_full(&self) -> bool {
        self.count == RING
    }

    /// Queues one frame of `len` bytes written by `build` (the buffer is not cleared
    /// first, as a NIC's is not); `None` if the ring is full or the frame too long.
    pub fn push<R>(&mut self, len: usize, build: impl FnOnce(&mut [u8]) -> R) -> Option<R> {
        let i = self.count;
        let buf = self.bufs.get_mut(i)?.get_mut(..len)?;
        let r = build(buf);
        *self.lens.get_mut(i)? = len;
        self.count += 1;
        Some(r)
    }

    /// Frames sent since the last [`Wire::clear`], oldest first.
    pub fn frames(&self) -> impl Iterator<Item = &[u8]> {
        self.bufs
            .iter()
            .zip(self.lens)
            .take(self.count)
            .map(|(b, len)| &b[..len])
    }

    /// Forgets the frames (the client has read them).
    pub fn clear(&mut self) {
        self.count = 0;
    }
}
