//! Server-side TCP (RFC 9293) with tiny connection slots and no socket buffers.
//!
//! A connection never buffers data. Received bytes are handed to the application in place
//! and acknowledged only as far as it consumed them; sent bytes are a reference (handle,
//! offset) into application-owned data, re-read on retransmission.

pub mod challenge;
pub mod conn;
pub mod cookie;
pub mod listener;
pub mod pool;
pub mod rto;
pub mod siphash;
pub mod wheel;

use super::wire::field;
use super::wire::ipv4::Address;

pub use conn::{Input, Segment, Sent, State, Tcb, Tx, TxFull, Verdict};

/// The four values that name a connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Flow {
    /// Peer address.
    pub remote_ip: Address,
    /// Peer port.
    pub remote_port: u16,
    /// Our address.
    pub local_ip: Address,
    /// Our port.
    pub local_port: u16,
}

impl Flow {
    /// The flow as bytes, for keyed hashing.
    pub fn bytes(&self) -> [u8; 12] {
        let mut b = [0u8; 12];
        field::set_bytes(&mut b, 0, &self.remote_ip.0);
        field::set_u16(&mut b, 4, self.remote_port);
        field::set_bytes(&mut b, 6, &self.local_ip.0);
        field::set_u16(&mut b, 10, self.local_port);
        b
    }
}

/// Tunables of the TCP layer of one core.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Config {
    /// Largest segment we send or accept (MSS option value).
    pub mss: u16,
    /// Window in the SYN-ACK: small, so a request's first segment fits one frame.
    pub initial_window: u16,
    /// Window advertised once established (data is consumed in place, never queued).
    pub window: u16,
    /// Retransmission timeout bounds.
    pub rto: rto::RtoBounds,
    /// Retransmissions of data or FIN before the connection is reset (at most 63 are
    /// counted: a larger value means 63).
    pub max_retries: u8,
    /// Retransmissions of the SYN-ACK before the half-open connection is dropped (at most
    /// 63, as `max_retries`).
    pub syn_retries: u8,
    /// TIME-WAIT length: short and bounded, the server side rarely needs it.
    pub time_wait_ms: u32,
    /// How long FIN-WAIT-2 waits for the peer's FIN.
    pub fin_wait2_ms: u32,
    /// Idle keep-alive connections are closed after this long.
    pub idle_ms: u32,
}

impl Config {
    /// The longest a connection's timer may run: deadlines are compared as signed 32-bit
    /// distances in milliseconds, so one further ahead would read as already passed.
    pub const MAX_TIMER_MS: u32 = i32::MAX as u32;
}

impl Default for Config {
    fn default() -> Self {
        Config {
            mss: 1460,
            initial_window: 1024,
            window: 65_535,
            rto: rto::RtoBounds::default(),
            max_retries: 8,
            syn_retries: 4,
            time_wait_ms: 1000,
            fin_wait2_ms: 10_000,
            idle_ms: 60_000,
        }
    }
}

/// The data behind response handles, owned by the application: the transmit path copies
/// it straight into the frame, and a retransmission reads it again from there.
pub trait Source {
    /// Length in bytes of the response named by `handle`: at most
    /// [`conn::MAX_RESPONSE_LEN`], or the connection refuses to send it.
    fn len(&self, handle: u32) -> u32;
    /// Writes bytes `off..off + out.len()` of response `handle` into `out`. Called only for
    /// ranges inside `len(handle)`, and must write the same bytes every time. Returns the
    /// written bytes' [`checksum::partial`] sum when the source keeps it, so that the
    /// frame's checksum does not read them again, or `None`.
    ///
    /// [`checksum::partial`]: crate::checksum::partial
    fn fill(&self, handle: u32, off: u32, out: &mut [u8]) -> Option<u16>;
}

#[cfg(test)]
mod conn_tests;
