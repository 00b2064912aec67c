//! Randomized transfers of one connection through a simulated path to a simulated peer.
//!
//! Each seed draws a scenario: data and ACK loss, jitter that reorders segments, the
//! path's delay, the peer's MSS and window, a peer application that reads slowly (the
//! window closes and the persist timer probes it), delayed ACKs, one to four responses on
//! a kept-alive connection with think time between them, the FIN on the last data segment
//! or alone, an initial sequence number just short of wraparound, and a route change to a
//! smaller MTU whose router drops what no longer fits and reports it. Every step checks
//! that the connection
//!
//! - sends no data beyond the right edge of a window the peer advertised;
//! - has a timer running while anything is in flight;
//! - keeps its congestion window at one segment or more, its slow-start threshold at two;
//! - never resets;
//! - on a FIFO path (no jitter, ACK loss or route change), where the duplicate ACKs are
//!   exact, resends in fast recovery only bytes the peer lacks;
//!
//! and every transfer ends, all responses acknowledged and the connection in FIN-WAIT-2,
//! within bounds of simulated time and steps. `SIM_SEED=n` runs seed `n` alone.

use super::super::super::counters::bump;
use super::*;
use std::collections::BTreeMap;
use std::fmt;

const SEEDS: u64 = 500;

/// A seed that has not finished within these has stalled.
const MAX_STEPS: u32 = 1_000_000;
const MAX_MS: u32 = 3_600_000;

/// IPv4 and TCP headers without options.
const HEADERS: u32 = 40;

/// How often the peer's application reads, ms.
const READ_EVERY: u32 = 10;

/// The peer's delayed-ACK timer, ms.
const ACK_DELAY: u32 = 40;

/// The peer announces a reopened window once it holds a full-size segment again (receiver
/// silly-window avoidance).
const FULL_SEGMENT: u32 = 1400;

/// splitmix64: every seed, 0 included, starts its own stream.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u32 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        ((z ^ (z >> 31)) >> 32) as u32
    }

    /// A number below `n`, or 0 if `n` is 0.
    fn below(&mut self, n: u32) -> u32 {
        self.next() % n.max(1)
    }

    fn chance(&mut self, per_mille: u32) -> bool {
        self.below(1000) < per_mille
    }

    fn pick<T: Copy>(&mut self, from: &[T]) -> T {
        from[self.below(from.len() as u32) as usize]
    }
}

/// The path and the peer a seed draws.
#[derive(Clone, Copy, Debug)]
struct Scenario {
    /// Per mille of the segments sent that the path loses.
    data_loss: u32,
    /// Per mille of the peer's ACKs that the path loses.
    ack_loss: u32,
    /// Up to this many ms added to a crossing: segments overtake one another.
    jitter: u32,
    /// One crossing of the path, ms.
    delay: u32,
    /// The MSS option of the peer's SYN.
    mss: u16,
    /// The peer's receive buffer: its window when empty.
    window: u16,
    /// Bytes the peer's application reads every `READ_EVERY` ms; 0: all, on arrival.
    read_rate: u32,
    /// The peer acknowledges every second segment, or after `ACK_DELAY`.
    delayed_acks: bool,
    /// Responses on the connection, one after another.
    responses: u32,
    /// A response is 1 to this many bytes.
    max_response: u32,
    /// Up to this many ms from a response's last ACK to the next response.
    think: u32,
    /// The server closes with its last response (the FIN rides on its last segment)
    /// rather than once it is acknowledged (the FIN goes alone).
    close_with_last: bool,
    /// When the route changes to one with a smaller MTU, ms into the transfer.
    route_change: Option<u32>,
    /// The connection's initial sequence number, near wraparound in some seeds.
    iss: u32,
}

impl Scenario {
    fn draw(rng: &mut Rng) -> Scenario {
        Scenario {
            data_loss: rng.pick(&[0, 10, 30, 80, 150]),
            ack_loss: rng.pick(&[0, 0, 10, 50]),
            jitter: rng.pick(&[0, 0, 5, 30]),
            delay: 10 + rng.below(100),
            mss: rng.pick(&[1400, 1400, 1460, 536, 100, 64]),
            window: rng.pick(&[65_535, 65_535, 32_768, 8192, 5000, 2800, 1400, 1000, 300]),
            read_rate: rng.pick(&[0, 0, 100, 1000, 5000]),
            delayed_acks: rng.chance(500),
            responses: 1 + rng.below(4),
            max_response: rng.pick(&[2000, 20_000, 200_000]),
            think: rng.pick(&[0, 0, 500, 3000]),
            close_with_last: rng.chance(500),
            route_change: rng.chance(200).then(|| rng.below(1000)),
            iss: if rng.chance(300) {
                u32::MAX - rng.below(100_000)
            } else {
                ISS
            },
        }
    }

    /// Segments and ACKs arrive in the order sent, and every ACK arrives.
    fn fifo(&self) -> bool {
        self.jitter == 0 && self.ack_loss == 0 && self.route_change.is_none()
    }
}

/// Positions are offsets from the connection's ISS: the first data byte is 1.
#[derive(Clone, Copy, Debug)]
enum Event {
    /// A segment reaches the peer.
    Segment { at: u32, len: u16, fin: bool },
    /// The peer's ACK reaches the connection.
    Ack { ack: u32, window: u16 },
    /// The application hands the connection its next response.
    Respond,
    /// A router's report that the segment at `at` did not fit its next hop's MTU.
    TooBig { at: u32, mtu: u16 },
    /// The peer's application reads.
    Read,
    /// The peer's delayed-ACK timer runs out.
    DelayedAck,
    /// The path's MTU drops.
    RouteChange,
}

/// The receiving end: what arrived, what its application has not read yet, its ACKs.
struct Peer {
    /// The next offset expected.
    rcv_nxt: u32,
    /// What arrived beyond a gap: start and end offsets.
    beyond_gap: BTreeMap<u32, u32>,
    /// The FIN's offset, once it arrived.
    fin: Option<u32>,
    /// Its receive buffer, and the bytes in it the application has not read.
    buffer: u32,
    unread: u32,
    /// Segments received since the last ACK.
    unacked: u32,
    /// When the delayed ACK goes, if one is due.
    ack_due: Option<u32>,
}

impl Peer {
    fn new(buffer: u16) -> Peer {
        Peer {
            rcv_nxt: 1,
            beyond_gap: BTreeMap::new(),
            fin: None,
            buffer: u32::from(buffer),
            unread: 0,
            unacked: 0,
            ack_due: None,
        }
    }

    fn window(&self) -> u16 {
        (self.buffer - self.unread) as u16
    }

    /// True if every byte of `start..end` arrived.
    fn holds(&self, start: u32, end: u32) -> bool {
        let mut covered = start.max(self.rcv_nxt);
        for (&a, &b) in &self.beyond_gap {
            if a > covered {
                break;
            }
            covered = covered.max(b);
        }
        end <= covered
    }

    /// Takes a segment; returns the bytes it made contiguous.
    fn receive(&mut self, at: u32, len: u16, fin: bool) -> u32 {
        let end = at + u32::from(len);
        if len > 0 && end > self.rcv_nxt {
            let known = self.beyond_gap.entry(at).or_insert(end);
            *known = (*known).max(end);
        }
        if fin {
            self.fin = Some(end);
        }
        let before = self.rcv_nxt;
        while let Some((&start, &end)) = self.beyond_gap.first_key_value() {
            if start > self.rcv_nxt {
                break;
            }
            self.beyond_gap.pop_first();
            self.rcv_nxt = self.rcv_nxt.max(end);
        }
        let filled = self.rcv_nxt - before;
        if self.fin == Some(self.rcv_nxt) {
            self.rcv_nxt += 1;
        }
        filled
    }
}

/// One connection, its path and its peer, run event by event.
struct Sim {
    seed: u64,
    scenario: Scenario,
    rng: Rng,
    h: Harness,
    peer: Peer,
    /// Pending events by time, then by order of scheduling.
    events: BTreeMap<(u32, u64), Event>,
    scheduled: u64,
    path_mtu: u16,
    /// One past the highest offset sent, to tell a retransmission.
    sent_end: u32,
    /// The furthest right edge of a window the connection was told.
    right_edge: u32,
    /// Responses not yet handed to the connection, and the bytes of those that were.
    responses_left: u32,
    response_bytes: u32,
    /// When the handshake completed.
    start: u32,
}

impl fmt::Display for Sim {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ms = self.h.now - self.start;
        write!(f, "seed {} at {ms} ms ({:?})", self.seed, self.scenario)
    }
}

impl Sim {
    fn new(seed: u64) -> Sim {
        let mut rng = Rng(seed);
        let scenario = Scenario::draw(&mut rng);
        let mut h = Harness::syn(scenario.iss, IRS);
        // Long think times and slow readers are not idle clients, and with 15% loss a
        // segment may be lost more than the usual 8 times in a row.
        h.cfg.idle_ms = 10_000_000;
        h.cfg.max_retries = 15;
        let mut syn = seg(IRS, None, Flags::SYN, b"");
        syn.options.mss = Some(scenario.mss);
        h.tcb = Tcb::syn_received(&flow(), &syn, SeqNumber(scenario.iss), &h.cfg);
        h.output().unwrap();
        h.wire.sent.clear();
        h.now += 20;
        let mut ack = seg(IRS + 1, Some(scenario.iss.wrapping_add(1)), Flags(0), b"");
        ack.window = scenario.window;
        h.input(ack);
        assert_eq!(h.tcb.state(), State::Established, "seed {seed}");
        let mut sim = Sim {
            seed,
            scenario,
            rng,
            peer: Peer::new(scenario.window),
            events: BTreeMap::new(),
            scheduled: 0,
            path_mtu: 1500,
            sent_end: 1,
            right_edge: 1 + u32::from(scenario.window),
            responses_left: scenario.responses,
            response_bytes: 0,
            start: h.now,
            h,
        };
        sim.schedule(0, Event::Respond);
        if scenario.read_rate > 0 {
            sim.schedule(READ_EVERY, Event::Read);
        }
        if let Some(after) = scenario.route_change {
            sim.schedule(after, Event::RouteChange);
        }
        sim
    }

    fn offset(&self, seq: SeqNumber) -> u32 {
        seq.since(SeqNumber(self.scenario.iss))
    }

    fn schedule(&mut self, after: u32, event: Event) {
        self.events
            .insert((self.h.now + after, self.scheduled), event);
        self.scheduled += 1;
    }

    /// A crossing of the path: its delay and jitter.
    fn crossing(&mut self) -> u32 {
        self.scenario.delay + self.rng.below(self.scenario.jitter)
    }

    fn finished(&self) -> bool {
        self.responses_left == 0 && self.h.tcb.state() == State::FinWait2
    }

    /// Runs the transfer to its end; returns the connection's counters.
    fn run(mut self) -> Counters {
        let mut steps = 0;
        while !self.finished() {
            steps += 1;
            assert!(steps <= MAX_STEPS, "{self}: unfinished after {steps} steps");
            assert!(self.h.now - self.start <= MAX_MS, "{self}: unfinished");
            assert!(!self.h.freed, "{self}: freed in {:?}", self.h.tcb.state());
            let in_flight = self.h.tcb.snd_una() != self.h.tcb.snd_max();
            let timer = self.h.tcb.deadline();
            assert!(!in_flight || timer.is_some(), "{self}: in flight, no timer");
            let fast_retransmits = self.h.ctr.tcp_fast_retransmits;
            self.h.wire.sent.clear();
            let next = self.events.first_key_value().map(|(&(t, _), _)| t);
            if let Some(deadline) = timer.filter(|&d| next.is_none_or(|t| d < t)) {
                self.h.now = deadline;
                let verdict = self.h.tcb.on_timer(deadline, &self.h.cfg, &mut self.h.ctr);
                if verdict == Verdict::Free {
                    self.h.freed = true;
                    continue;
                }
                self.h.output().unwrap();
            } else {
                let Some(((time, _), event)) = self.events.pop_first() else {
                    panic!("{self}: stalled, with no timer and nothing on the way");
                };
                self.h.now = time;
                self.handle(event);
            }
            self.check_windows();
            let fast = self.h.ctr.tcp_fast_retransmits != fast_retransmits;
            self.transmit(fast);
        }
        let end = 1 + self.response_bytes + 1;
        assert_eq!(self.peer.rcv_nxt, end, "{self}: the peer lacks data or FIN");
        self.h.ctr
    }

    fn handle(&mut self, event: Event) {
        match event {
            Event::Segment { at, len, fin } => self.arrive(at, len, fin),
            Event::Ack { ack, window } => {
                self.right_edge = self.right_edge.max(ack + u32::from(window));
                let was_idle = self.h.tcb.can_send();
                let seq = SeqNumber(self.scenario.iss).wrapping_add(ack);
                let mut s = seg(IRS + 1, Some(seq.0), Flags(0), b"");
                s.window = window;
                self.h.input(s);
                if self.h.freed {
                    return;
                }
                if !was_idle && self.h.tcb.can_send() {
                    // The response is acknowledged in full.
                    if self.responses_left > 0 {
                        let think = self.rng.below(self.scenario.think);
                        self.schedule(think, Event::Respond);
                    } else if !self.scenario.close_with_last {
                        self.h.tcb.close();
                    }
                }
                self.h.output().unwrap();
            }
            Event::Respond => {
                let len = 1 + self.rng.below(self.scenario.max_response);
                assert!(self.h.tcb.send(len, &Lens), "{self}: response refused");
                self.response_bytes += len;
                self.responses_left -= 1;
                if self.responses_left == 0 && self.scenario.close_with_last {
                    self.h.tcb.close();
                }
                self.h.output().unwrap();
            }
            Event::TooBig { at, mtu } => {
                let seq = SeqNumber(self.scenario.iss).wrapping_add(at);
                if self.h.tcb.path_mtu(seq, mtu) {
                    bump(&mut self.h.ctr.tcp_path_mtu_reductions);
                    self.h.output().unwrap();
                }
            }
            Event::Read => {
                let before = u32::from(self.peer.window());
                self.peer.unread -= self.peer.unread.min(self.scenario.read_rate);
                let after = u32::from(self.peer.window());
                let segment = FULL_SEGMENT.min(self.peer.buffer);
                if before < segment && after >= segment {
                    self.peer_acks();
                }
                self.schedule(READ_EVERY, Event::Read);
            }
            Event::DelayedAck => {
                if self.peer.ack_due == Some(self.h.now) {
                    self.peer_acks();
                }
            }
            Event::RouteChange => self.path_mtu = 1040,
        }
    }

    /// A segment reaches the peer, unless it no longer fits the path: the router at the
    /// far end drops it and reports its MTU.
    fn arrive(&mut self, at: u32, len: u16, fin: bool) {
        if u32::from(len) + HEADERS > u32::from(self.path_mtu) {
            let mtu = self.path_mtu;
            self.schedule(self.scenario.delay, Event::TooBig { at, mtu });
            return;
        }
        if len == 0 && !fin {
            // An ACK or a window probe: only a probe, an old sequence number, is answered.
            if at < self.peer.rcv_nxt {
                self.peer_acks();
            }
            return;
        }
        let had_gap = !self.peer.beyond_gap.is_empty();
        let filled = self.peer.receive(at, len, fin);
        if self.scenario.read_rate > 0 {
            self.peer.unread += filled;
        }
        self.peer.unacked += 1;
        // A delayed ACK waits only for in-order data and not past a second segment.
        let in_order = filled > 0 && !had_gap && self.peer.beyond_gap.is_empty();
        if !self.scenario.delayed_acks || !in_order || fin || self.peer.unacked >= 2 {
            self.peer_acks();
        } else if self.peer.ack_due.is_none() {
            self.peer.ack_due = Some(self.h.now + ACK_DELAY);
            self.schedule(ACK_DELAY, Event::DelayedAck);
        }
    }

    /// The peer acknowledges all it has, with its window, unless the path loses the ACK.
    fn peer_acks(&mut self) {
        self.peer.unacked = 0;
        self.peer.ack_due = None;
        if self.rng.chance(self.scenario.ack_loss) {
            return;
        }
        let (ack, window) = (self.peer.rcv_nxt, self.peer.window());
        let after = self.crossing();
        self.schedule(after, Event::Ack { ack, window });
    }

    fn check_windows(&self) {
        let tcb = &self.h.tcb;
        let (cwnd, ssthresh, mss) = (tcb.cwnd(), tcb.ssthresh(), tcb.mss());
        assert!(
            cwnd >= mss,
            "{self}: cwnd {cwnd} below one segment of {mss}"
        );
        let two_segments = (2 * u32::from(mss)).min(u32::from(u16::MAX));
        assert!(
            u32::from(ssthresh) >= two_segments,
            "{self}: ssthresh {ssthresh} below two segments of {mss}"
        );
    }

    /// Checks what the connection sent in this step and puts it on the path. `fast`: the
    /// step was a fast or partial-ACK retransmission.
    fn transmit(&mut self, fast: bool) {
        for s in core::mem::take(&mut self.h.wire.sent) {
            assert!(!s.flags.contains(Flags::RST), "{self}: reset");
            let (at, len) = (self.offset(s.seq), s.data_len());
            let fin = s.flags.contains(Flags::FIN);
            let end = at + u32::from(len);
            if len > 0 {
                let edge = self.right_edge;
                assert!(end <= edge, "{self}: sent {at}..{end} past the edge {edge}");
                let resent = at < self.sent_end;
                let exact_acks = fast && self.scenario.fifo();
                assert!(
                    !(exact_acks && resent && self.peer.holds(at, end)),
                    "{self}: fast recovery resent {at}..{end}, which the peer holds"
                );
            }
            self.sent_end = self.sent_end.max(end + u32::from(fin));
            if !self.rng.chance(self.scenario.data_loss) {
                let after = self.crossing();
                self.schedule(after, Event::Segment { at, len, fin });
            }
        }
    }
}

#[test]
fn random_transfers_through_a_lossy_path_end_and_keep_the_invariants() {
    let only = std::env::var("SIM_SEED").ok();
    let only = only.map(|s| s.parse::<u64>().expect("SIM_SEED is a number"));
    let seeds = only.map_or(0..SEEDS, |s| s..s + 1);
    let (mut all, mut fifo) = (Counters::default(), Counters::default());
    for seed in seeds {
        let sim = Sim::new(seed);
        let fifo_path = sim.scenario.fifo();
        let counters = sim.run();
        all.accumulate(&counters);
        if fifo_path {
            fifo.accumulate(&counters);
        }
    }
    if only.is_none() {
        // The seeds reach what the checks are about, or a change of the simulation that
        // stops reaching it shows.
        for (what, n) in [
            ("timeouts", all.tcp_retransmits),
            ("fast retransmissions", all.tcp_fast_retransmits),
            (
                "fast retransmissions on a FIFO path",
                fifo.tcp_fast_retransmits,
            ),
            ("window probes", all.tcp_window_probes),
            ("path MTU reductions", all.tcp_path_mtu_reductions),
        ] {
            assert!(n > 0, "no {what}");
        }
    }
}
