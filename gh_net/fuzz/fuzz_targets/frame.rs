//! Arbitrary frames into a whole server (`Server::receive`), with the clock moving and
//! `Server::tick` run between frames. Whatever arrives, the engine must not panic and
//! every frame it transmits must be a well-formed Ethernet frame (ARP, or IPv4 with valid
//! checksums: see `check_sent`), and the connections never outnumber the pool's slots.
//!
//! Input: a sequence of records, each a 3-byte header then the frame bytes.
//! - bytes 0-1 (big endian): bits 0-10 the frame length (cut short at the end of the
//!   input); bit 15 rewrites the frame's IPv4/TCP/ICMP checksums so that mutated headers
//!   reach the code behind the checksum checks; bit 14 makes the TX ring full while this
//!   frame is handled.
//! - byte 2: clock advance before the frame, `(b & 31) << (2 * (b >> 5))` milliseconds
//!   (up to about eight minutes, so timers of every length expire).

#![no_main]

use gh_net_fuzz::{check_sent, fix_checksums, new_server, Nic, ServerMem, POOL_SLOTS};
use libfuzzer_sys::fuzz_target;

/// Frames handled per input: enough for a connection's life, few enough to stay fast.
const MAX_FRAMES: usize = 64;

fuzz_target!(|data: &[u8]| {
    let mut mem = ServerMem::default();
    let mut server = new_server(&mut mem, 0);
    let mut nic = Nic::default();
    let mut rest = data;
    for _ in 0..MAX_FRAMES {
        let [hi, lo, clock, tail @ ..] = rest else {
            break;
        };
        let word = u16::from_be_bytes([*hi, *lo]);
        let len = usize::from(word & 0x07ff).min(tail.len());
        let mut frame = tail[..len].to_vec();
        rest = &tail[len..];
        if word & 0x8000 != 0 {
            fix_checksums(&mut frame);
        }
        nic.now += u64::from(clock & 31) << (2 * (clock >> 5));
        nic.tx_full = word & 0x4000 != 0;
        server.receive(&frame, &mut nic);
        server.tick(&mut nic);
        for f in nic.sent.drain(..) {
            check_sent(&f);
        }
        assert!(
            server.connections() <= POOL_SLOTS,
            "more connections than slots"
        );
    }
});
