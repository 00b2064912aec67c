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
}

/// Adds to a counter that only the calling core writes: a plain load and store, no lock.
pub(crate) fn bump(counter: &AtomicU64, by: u64) {
    counter.store(
        counter.load(Ordering::Relaxed).wrapping_add(by),
        Ordering::Relaxed,
    );
}

/// Sends one frame of the given length, written by the builder straight into a transmit
/// buffer; false (and nothing built) when the transmit ring is full.
pub(crate) type SendFrame<'a> = dyn FnMut(usize, &mut dyn FnMut(&mut [u8])) -> bool + 'a;

/// Counts a received frame, hands it to `handle`, and sends each reply it makes with
/// `send`, counting it as sent or dropped. Returns how many replies were sent.
pub(crate) fn deliver(
    stats: &NicStats,
    frame: &[u8],
    handle: &mut dyn FnMut(&[u8], &mut SendFrame<'_>),
    send: &mut SendFrame<'_>,
) -> usize {
    bump(&stats.rx_packets, 1);
    bump(&stats.rx_bytes, frame.len() as u64);
    let mut sent = 0;
    handle(frame, &mut |len, build| {
        let ok = send(len, build);
        count_sent(stats, ok, len);
        sent += usize::from(ok);
        ok
    });
    sent
}

/// Counts a frame as sent, or as dropped for want of a transmit buffer.
pub(crate) fn count_sent(stats: &NicStats, ok: bool, len: usize) {
    if ok {
        bump(&stats.tx_packets, 1);
        bump(&stats.tx_bytes, len as u64);
    } else {
        bump(&stats.tx_drops, 1);
    }
}
