//! What a taken core tells Linux: short reports through a lock-free single-producer,
//! single-consumer ring in the core's shared record. The core never calls into Linux; the
//! worker on CPU 0 drains each ring and prints the reports in the kernel log.
//!
//! Every slot is four atomic words, so neither side needs `unsafe`: the producer fills a
//! slot and publishes it with a release store of `head`; the consumer reads it after an
//! acquire load of `head`, then frees it with a release store of `tail`.

use core::fmt;
use core::sync::atomic::{AtomicU32, AtomicU64, Ordering};

/// Reports a ring holds; more before the worker drains them are dropped and counted.
pub const SLOTS: usize = 32;

/// One report.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Report {
    /// The core's main loop serves HTTP on `ip`:`port` with `connections` slots.
    Serving {
        /// IPv4 address, network order.
        ip: [u8; 4],
        /// TCP port.
        port: u16,
        /// Connection slots.
        connections: u64,
    },
    /// The core has a NIC but no server (its arrays were refused).
    NoServer,
    /// SYNs met a full connection pool: `total` so far.
    PoolFull {
        /// Times so far.
        total: u64,
    },
}

impl Report {
    fn encode(self) -> [u64; 4] {
        match self {
            Report::Serving {
                ip,
                port,
                connections,
            } => [
                1,
                u64::from(u32::from_be_bytes(ip)),
                port.into(),
                connections,
            ],
            Report::NoServer => [2, 0, 0, 0],
            Report::PoolFull { total } => [3, total, 0, 0],
        }
    }

    fn decode(w: [u64; 4]) -> Option<Report> {
        match w[0] {
            1 => Some(Report::Serving {
                ip: (w[1] as u32).to_be_bytes(),
                port: w[2] as u16,
                connections: w[3],
            }),
            2 => Some(Report::NoServer),
            3 => Some(Report::PoolFull { total: w[1] }),
            _ => None,
        }
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Report::Serving {
                ip: [a, b, c, d],
                port,
                connections,
            } => write!(
                f,
                "serving HTTP on {a}.{b}.{c}.{d}:{port} with {connections} connection slots"
            ),
            Report::NoServer => write!(f, "has a NIC but no server memory; not serving"),
            Report::PoolFull { total } => {
                write!(
                    f,
                    "connection pool full; SYNs answered with cookies ({total} so far)"
                )
            }
        }
    }
}

/// The ring of one core.
#[derive(Debug)]
pub struct Ring {
    /// Next slot the producer fills (only the core writes it).
    head: AtomicU32,
    /// Next slot the consumer reads (only Linux writes it).
    tail: AtomicU32,
    /// Reports dropped because the ring was full.
    lost: AtomicU32,
    slots: [[AtomicU64; 4]; SLOTS],
}

impl Default for Ring {
    fn default() -> Self {
        Self::new()
    }
}

impl Ring {
    /// An empty ring.
    pub const fn new() -> Ring {
        Ring {
            head: AtomicU32::new(0),
            tail: AtomicU32::new(0),
            lost: AtomicU32::new(0),
            slots: [const { [const { AtomicU64::new(0) }; 4] }; SLOTS],
        }
    }

    /// Producer side: queues `r`; false (and counted) if the ring is full.
    pub fn push(&self, r: Report) -> bool {
        let head = self.head.load(Ordering::Relaxed);
        let tail = self.tail.load(Ordering::Acquire);
        if head.wrapping_sub(tail) as usize >= SLOTS {
            self.lost.fetch_add(1, Ordering::Relaxed);
            return false;
        }
        let Some(slot) = self.slots.get(head as usize % SLOTS) else {
            return false;
        };
        for (word, value) in slot.iter().zip(r.encode()) {
            word.store(value, Ordering::Relaxed);
        }
        self.head.store(head.wrapping_add(1), Ordering::Release);
        true
    }

    /// Consumer side: the oldest report, if any.
    pub fn pop(&self) -> Option<Report> {
        let tail = self.tail.load(Ordering::Relaxed);
        if self.head.load(Ordering::Acquire) == tail {
            return None;
        }
        let slot = self.slots.get(tail as usize % SLOTS)?;
        let mut words = [0u64; 4];
        for (w, word) in words.iter_mut().zip(slot) {
            *w = word.load(Ordering::Relaxed);
        }
        self.tail.store(tail.wrapping_add(1), Ordering::Release);
        Report::decode(words)
    }

    /// Reports dropped because the ring was full.
    pub fn lost(&self) -> u32 {
        self.lost.load(Ordering::Relaxed)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    extern crate std;
    use super::*;
    use std::format;
    use std::sync::Arc;
    use std::vec::Vec;

    #[test]
    fn reports_round_trip_and_read_well() {
        let ring = Ring::new();
        let serving = Report::Serving {
            ip: [10, 0, 3, 15],
            port: 80,
            connections: 32768,
        };
        assert!(ring.push(serving) && ring.push(Report::PoolFull { total: 3 }));
        assert_eq!(ring.pop(), Some(serving));
        assert_eq!(
            format!("{serving}"),
            "serving HTTP on 10.0.3.15:80 with 32768 connection slots"
        );
        assert_eq!(ring.pop(), Some(Report::PoolFull { total: 3 }));
        assert_eq!(ring.pop(), None);
    }

    #[test]
    fn a_full_ring_drops_and_counts() {
        let ring = Ring::new();
        for i in 0..SLOTS as u64 {
            assert!(ring.push(Report::PoolFull { total: i }));
        }
        assert!(!ring.push(Report::NoServer));
        assert_eq!(ring.lost(), 1);
        assert_eq!(ring.pop(), Some(Report::PoolFull { total: 0 }));
        assert!(ring.push(Report::NoServer));
    }

    #[test]
    fn one_producer_one_consumer_in_order() {
        let ring = Arc::new(Ring::new());
        let producer = {
            let ring = Arc::clone(&ring);
            std::thread::spawn(move || {
                let mut total = 0;
                while total < 10_000 {
                    if ring.push(Report::PoolFull { total }) {
                        total += 1;
                    }
                }
            })
        };
        let mut got = Vec::new();
        while got.len() < 10_000 {
            if let Some(Report::PoolFull { total }) = ring.pop() {
                got.push(total);
            }
        }
        producer.join().unwrap();
        assert!(got.iter().enumerate().all(|(i, &t)| t == i as u64));
    }
}
