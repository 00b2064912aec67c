//! Randomized runs of a small listener: peers open, talk, close, reset and vanish; the TX
//! ring fills and empties; segments grow too big for the path; the clock jumps. After
//! every event the listener's books must agree with its slots: the half-open count, the
//! TX wait list and its flags, the lookup table, and the timer wheel, with no live
//! connection left that nothing will ever wake.

extern crate std;

use super::super::super::wire::tcp::{Options, Repr};
use super::super::wheel::Link;
use super::*;
use std::collections::HashMap;
use std::vec::Vec;

const LOCAL: Address = Address([192, 0, 2, 1]);
const PEER: Address = Address([198, 51, 100, 7]);
/// Peers' ports: more than the pool has slots, so SYN cookies and refusals come too.
const PORTS: u64 = 10;

/// Answers each request (an empty line ends it) with 3,000 bytes, closing after it if
/// `close_after`.
#[derive(Default)]
struct Site {
    got: HashMap<usize, Vec<u8>>,
    close_after: bool,
}

impl Source for Site {
    fn len(&self, handle: u32) -> u32 {
        handle
    }
    fn fill(&self, _: u32, _: u32, out: &mut [u8]) -> Option<u16> {
        out.fill(b'x');
        None
    }
}

impl App for Site {
    fn on_data(&mut self, slot: usize, data: &[u8]) -> usize {
        self.got.entry(slot).or_default().extend_from_slice(data);
        data.len()
    }
    fn on_ready(&mut self, slot: usize, tcb: &mut Tcb) {
        let asked = self
            .got
            .get(&slot)
            .is_some_and(|g| g.ends_with(b"\r\n\r\n"));
        if asked && tcb.can_send() && tcb.send(3000, &*self) {
            self.got.remove(&slot);
            if self.close_after {
                tcb.close();
            }
        }
    }
    fn on_closed(&mut self, slot: usize) {
        self.got.remove(&slot);
    }
    fn settled(&self, _: usize) -> bool {
        true
    }
}

/// The TX ring: what was sent, by peer port, and whether it is full now.
#[derive(Default)]
struct Ring {
    sent: Vec<(u16, Segment)>,
    full: bool,
}

impl Tx for Ring {
    fn transmit(&mut self, flow: &Flow, seg: &Segment, _: &impl Source) -> Sent {
        if self.full {
            return Sent::RingFull;
        }
        self.sent.push((flow.remote_port, *seg));
        Sent::Queued
    }
}

fn segment(port: u16, seq: u32, ack: Option<u32>, flags: Flags, window: u16) -> Repr<'static> {
    Repr {
        src_port: port,
        dst_port: 80,
        seq: SeqNumber(seq),
        ack: ack.map(SeqNumber),
        flags,
        window,
        options: Options {
            mss: flags.contains(Flags::SYN).then_some(1460),
            ..Options::default()
        },
        payload: b"",
    }
}

/// The listener's books against its slots.
fn check(l: &Listener<'_>, step: u32) {
    let slots = l.pool.slots();
    let half_open = slots.iter().filter(|t| t.state() == State::SynReceived);
    assert_eq!(
        l.half_open,
        half_open.count(),
        "half-open count, step {step}"
    );
    let live = slots.iter().filter(|t| t.state() != State::Closed).count();
    assert_eq!(l.pool.used(), live, "slots in use, step {step}");
    let waiting: Vec<u32> = l.tx_wait.iter().collect();
    for (i, t) in slots.iter().enumerate() {
        let listed = waiting.iter().filter(|&&w| w as usize == i).count();
        assert!(listed <= 1, "slot {i} twice on the TX list, step {step}");
        let flagged = t.waits & WAIT_TX != 0;
        assert_eq!(
            flagged,
            listed == 1,
            "slot {i}: TX flag and list, step {step}"
        );
        if t.state() == State::Closed {
            assert_eq!(
                (t.prev, listed),
                (0, 0),
                "free slot {i} linked, step {step}"
            );
            continue;
        }
        let f = t.flow(LOCAL);
        let found = l.pool.find(f.remote_ip, f.remote_port, f.local_port);
        assert_eq!(
            found,
            Some(i),
            "slot {i} not found by its flow, step {step}"
        );
        assert!(
            t.deadline().is_some() || flagged,
            "slot {i} ({:?}) has no timer and waits for nothing, step {step}",
            t.state()
        );
        if t.deadline().is_some() {
            assert_ne!(t.prev, 0, "slot {i}: a timer off the wheel, step {step}");
        }
    }
}

/// One run of 20,000 random events from `start_ms`.
fn run(seed: u64, close_after: bool, start_ms: u64) {
    let mut slots = [Tcb::EMPTY; 6];
    let mut table = [0u32; 16];
    let mut heads: [Link; 16] = [0; 16];
    let mut waits = [0u32; 3];
    let cfg = Config {
        idle_ms: 3000,
        fin_wait2_ms: 2000,
        ..Config::default()
    };
    let mut l = Listener::new(
        Pool::new(&mut slots, &mut table, Key([1, 1])).unwrap(),
        Wheel::new(&mut heads, 10, start_ms).unwrap(),
        cfg,
        LOCAL,
        &[80],
        Key([2, 2]),
        Key([3, 3]),
        3,
        WaitList::new(&mut waits),
    );
    let mut site = Site {
        close_after,
        ..Site::default()
    };
    let (mut ring, mut ctr) = (Ring::default(), Counters::default());
    let mut x = seed | 1;
    let mut rnd = move |n: u64| {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        (x >> 11) % n
    };
    let mut now = start_ms;
    // Per peer port, the last SYN-ACK's sequence number and the peer's ISN it answered.
    let mut syn_acks: HashMap<u16, (u32, u32)> = HashMap::new();
    for step in 0..20_000u32 {
        let port = 1 + rnd(PORTS) as u16;
        let tcb = l
            .pool
            .find(PEER, port, 80)
            .and_then(|i| l.pool.get(i))
            .copied();
        let window = if rnd(8) == 0 { 0 } else { 4096 };
        let mut seg = None;
        match (rnd(14), tcb) {
            (0 | 1, _) => {
                let isn = 1000 + rnd(1_000_000) as u32;
                seg = Some(segment(port, isn, None, Flags::SYN, 4096));
            }
            (2..=4, Some(t)) => {
                let ack = match rnd(3) {
                    0 => t.snd_una().0.wrapping_add(rnd(3000) as u32),
                    _ => t.snd_nxt().0,
                };
                let mut s = segment(port, t.rcv_nxt().0, Some(ack), Flags(0), window);
                if rnd(2) == 0 {
                    s.payload = b"GET / HTTP/1.1\r\n\r\n";
                }
                seg = Some(s);
            }
            // The handshake's ACK to a SYN-ACK with a cookie, with a request.
            (2..=4, None) => {
                if let Some(&(sa, isn)) = syn_acks.get(&port) {
                    let mut s = segment(port, isn + 1, Some(sa + 1), Flags(0), window);
                    s.payload = b"GET / HTTP/1.1\r\n\r\n";
                    seg = Some(s);
                }
            }
            (5, Some(t)) => {
                let fin = Flags::FIN;
                seg = Some(segment(
                    port,
                    t.rcv_nxt().0,
                    Some(t.snd_nxt().0),
                    fin,
                    window,
                ));
            }
            (6, Some(t)) => seg = Some(segment(port, t.rcv_nxt().0, None, Flags::RST, 0)),
            (7, _) => ring.full = !ring.full,
            (8..=10, _) => {
                let far = rnd(10) == 0;
                now += 1 + rnd(if far { 5000 } else { 300 });
                l.resume_tx(now, &mut site, &mut ring, &mut ctr);
                l.on_timers(now, &mut site, &mut ring, &mut ctr);
            }
            // The peer's SYN again.
            (11, Some(t)) => {
                let isn = t.rcv_nxt().0.wrapping_sub(1);
                seg = Some(segment(port, isn, None, Flags::SYN, 4096));
            }
            (12, Some(t)) => {
                let una = t.snd_una();
                l.on_too_big(
                    PEER, port, 80, una, 600, now, &mut site, &mut ring, &mut ctr,
                );
            }
            (13, Some(t)) => {
                let (seq, una) = (t.rcv_nxt().0, t.snd_una().0);
                seg = Some(segment(port, seq, Some(una), Flags(0), 65535));
            }
            _ => {}
        }
        if let Some(s) = seg {
            l.on_segment(PEER, &s, now, &mut site, &mut ring, &mut ctr);
        }
        for (p, s) in ring.sent.drain(..) {
            if let (true, Some(ack)) = (s.flags.contains(Flags::SYN), s.ack) {
                syn_acks.insert(p, (s.seq.0, ack.0.wrapping_sub(1)));
            }
        }
        check(&l, step);
    }
}

#[test]
fn the_books_agree_with_the_slots_after_every_event() {
    for seed in 1..20u64 {
        let seed = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15);
        run(seed, seed % 2 == 0, 0);
        // Across the 32-bit wrap of the connections' millisecond deadlines (49.7 days).
        run(seed, seed % 2 == 1, (1 << 32) - 3_000_000);
    }
}
