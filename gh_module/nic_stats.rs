// SPDX-License-Identifier: GPL-2.0

//! Counters of a data NIC, written only by the core that owns it and read by `/proc`
//! without locks.

use core::sync::atomic::{AtomicU64, Ordering};

/// Per-NIC counters.
#[derive(Default)]
pub(crate) struct NicStats {
    pub(crate) rx_packets: AtomicU64,
    pub(crate) rx_bytes: AtomicU64,
    pub(crate) rx_drops: AtomicU64,
    pub(crate) tx_packets: AtomicU64,
    pub(crate) tx_bytes: AtomicU64,
    pub(crate) tx_drops: AtomicU64,
    pub(crate) arp_replies: AtomicU64,
    pub(crate) echo_replies: AtomicU64,
    pub(crate) tcp_resets: AtomicU64,
    /// Frames the engine did not answer: for another host, not handled, or malformed.
    pub(crate) rx_ignored: AtomicU64,
}

/// Adds to a counter that only the calling core writes: a plain load and store, no lock.
pub(crate) fn bump(counter: &AtomicU64, by: u64) {
    counter.store(
        counter.load(Ordering::Relaxed).wrapping_add(by),
        Ordering::Relaxed,
    );
}

/// Counts a received frame, hands it to `handle`, and sends each reply it makes with
/// `send`, counting it as sent or dropped. Returns how many replies were sent.
pub(crate) fn deliver(
    stats: &NicStats,
    frame: &[u8],
    handle: &mut dyn FnMut(&[u8], &mut dyn FnMut(&[u8])),
    send: &mut dyn FnMut(&[u8]) -> bool,
) -> usize {
    bump(&stats.rx_packets, 1);
    bump(&stats.rx_bytes, frame.len() as u64);
    let mut sent = 0;
    handle(frame, &mut |reply: &[u8]| {
        if send(reply) {
            bump(&stats.tx_packets, 1);
            bump(&stats.tx_bytes, reply.len() as u64);
            sent += 1;
        } else {
            bump(&stats.tx_drops, 1);
        }
    });
    sent
}
