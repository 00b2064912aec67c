//! Scripted-peer tests of the connection state machine: a test plays the client segment by
//! segment and checks every segment GigaHttpd sends back.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

extern crate std;

use std::vec::Vec;

use super::super::counters::Counters;
use super::super::wire::ipv4::Address;
use super::super::wire::tcp::{Flags, Options, Repr, SeqNumber};
use super::conn::{Input, Segment, Sent, State, Tcb, Tx, TxFull, Verdict, MAX_RESPONSE_LEN};
use super::{Config, Flow, Source};

const LOCAL: Address = Address([192, 0, 2, 1]);
const IRS: u32 = 1000;
const ISS: u32 = 5000;

/// A response's handle is its length.
struct Lens;
impl Source for Lens {
    fn len(&self, handle: u32) -> u32 {
        handle
    }
    fn fill(&self, _: u32, _: u32, out: &mut [u8]) -> Option<u16> {
        out.fill(b'x');
        None
    }
}

#[derive(Default)]
struct Wire {
    sent: Vec<Segment>,
    full: bool,
}

impl Tx for Wire {
    fn transmit(&mut self, flow: &Flow, seg: &Segment, _: &impl Source) -> Sent {
        assert_eq!(flow.local_ip, LOCAL);
        if self.full {
            return Sent::RingFull;
        }
        self.sent.push(*seg);
        Sent::Queued
    }
}

fn flow() -> Flow {
    Flow {
        remote_ip: Address([198, 51, 100, 9]),
        remote_port: 43210,
        local_ip: LOCAL,
        local_port: 80,
    }
}

fn seg(seq: u32, ack: Option<u32>, flags: Flags, payload: &'static [u8]) -> Repr<'static> {
    Repr {
        src_port: 43210,
        dst_port: 80,
        seq: SeqNumber(seq),
        ack: ack.map(SeqNumber),
        flags,
        window: 8192,
        options: Options::default(),
        payload,
    }
}

/// A connection under test with its clock, wire and counters.
struct Harness {
    tcb: Tcb,
    cfg: Config,
    now: u32,
    wire: Wire,
    ctr: Counters,
    /// Bytes the application consumed.
    got: Vec<u8>,
    /// How many bytes of each delivery the application takes (None: all).
    take: Option<usize>,
    freed: bool,
}

impl Harness {
    fn syn(iss: u32, irs: u32) -> Harness {
        let cfg = Config::default();
        let mut syn = seg(irs, None, Flags::SYN, b"");
        syn.options.mss = Some(1400);
        let tcb = Tcb::syn_received(&flow(), &syn, SeqNumber(iss), &cfg);
        Harness {
            tcb,
            cfg,
            now: 10_000,
            wire: Wire::default(),
            ctr: Counters::default(),
            got: Vec::new(),
            take: None,
            freed: false,
        }
    }

    /// SYN, SYN-ACK, ACK.
    fn established() -> Harness {
        Self::established_at(ISS, IRS)
    }

    fn established_at(iss: u32, irs: u32) -> Harness {
        let mut h = Self::syn(iss, irs);
        h.output().unwrap();
        h.wire.sent.clear();
        h.now += 20;
        h.input(seg(
            irs.wrapping_add(1),
            Some(iss.wrapping_add(1)),
            Flags(0),
            b"",
        ));
        assert_eq!(h.tcb.state(), State::Established);
        h
    }

    fn input(&mut self, s: Repr<'static>) -> Option<Segment> {
        let input: Input<'static> = self.tcb.on_segment(&s, self.now, &self.cfg, &mut self.ctr);
        if input.verdict == Verdict::Free {
            self.freed = true;
            return input.reply;
        }
        let taken = self.take.unwrap_or(input.data.len()).min(input.data.len());
        self.got.extend_from_slice(&input.data[..taken]);
        self.tcb.consume(&input, taken, self.now, &self.cfg);
        input.reply
    }

    fn output(&mut self) -> Result<Verdict, TxFull> {
        let v = self.tcb.output(
            self.now,
            &self.cfg,
            LOCAL,
            &Lens,
            &mut self.wire,
            &mut self.ctr,
        );
        if v == Ok(Verdict::Free) {
            self.freed = true;
        }
        v
    }

    /// Input then output; returns what was sent.
    fn exchange(&mut self, s: Repr<'static>) -> Vec<Segment> {
        self.wire.sent.clear();
        self.input(s);
        if !self.freed {
            self.output().unwrap();
        }
        core::mem::take(&mut self.wire.sent)
    }

    /// Advances the clock to the timer and runs it and the output.
    fn fire(&mut self) -> Vec<Segment> {
        self.wire.sent.clear();
        let d = self.tcb.deadline().expect("a timer is running");
        self.now = d;
        if self.tcb.on_timer(self.now, &self.cfg, &mut self.ctr) == Verdict::Free {
            self.freed = true;
            return Vec::new();
        }
        self.output().unwrap();
        core::mem::take(&mut self.wire.sent)
    }

    fn send(&mut self, len: u32) -> Vec<Segment> {
        assert!(self.tcb.send(len, &Lens));
        self.wire.sent.clear();
        self.output().unwrap();
        core::mem::take(&mut self.wire.sent)
    }

    fn rcv(&self) -> u32 {
        self.tcb.rcv_nxt().0
    }
}

fn is_pure_ack(s: &Segment, seq: u32, ack: u32) -> bool {
    s.flags == Flags(0)
        && s.seq == SeqNumber(seq)
        && s.ack == Some(SeqNumber(ack))
        && s.data.is_none()
}

#[test]
fn established_state_is_at_most_64_bytes() {
    std::println!(
        "tcp::Tcb (whole connection slot): {} bytes",
        core::mem::size_of::<Tcb>()
    );
    assert!(core::mem::size_of::<Tcb>() <= 64);
}

#[test]
fn handshake() {
    let mut h = Harness::syn(ISS, IRS);
    assert_eq!(h.tcb.state(), State::SynReceived);
    h.output().unwrap();
    let sa = h.wire.sent[0];
    assert_eq!(sa.flags, Flags::SYN);
    assert_eq!(sa.seq, SeqNumber(ISS));
    assert_eq!(sa.ack, Some(SeqNumber(IRS + 1)));
    assert_eq!(sa.mss, Some(1460));
    assert_eq!(sa.window, 1024, "first window at most 1 KiB");
    assert_eq!(h.tcb.mss(), 1400);
    h.now += 30;
    h.input(seg(IRS + 1, Some(ISS + 1), Flags(0), b""));
    assert_eq!(h.tcb.state(), State::Established);
    assert_eq!(h.ctr.tcp_opened, 1);
    assert_eq!(h.tcb.srtt_ms(), 30, "handshake RTT sampled");
    assert_eq!(h.tcb.snd_wnd(), 8192);
}

#[test]
fn request_in_handshake_ack_is_delivered() {
    let mut h = Harness::syn(ISS, IRS);
    h.output().unwrap();
    let out = h.exchange(seg(
        IRS + 1,
        Some(ISS + 1),
        Flags::PSH,
        b"GET / HTTP/1.1\r\n",
    ));
    assert_eq!(h.got, b"GET / HTTP/1.1\r\n");
    assert!(is_pure_ack(&out[0], ISS + 1, IRS + 17));
}

#[test]
fn lost_syn_ack_is_retransmitted_then_given_up() {
    let mut h = Harness::syn(ISS, IRS);
    h.output().unwrap();
    let first = h.tcb.deadline().unwrap();
    assert_eq!(first, h.now + 1000, "initial RTO 1 s");
    let mut gap = 1000;
    for i in 0..h.cfg.syn_retries {
        let start = h.now;
        let out = h.fire();
        assert_eq!(out.len(), 1, "retry {i}");
        assert_eq!(out[0].flags, Flags::SYN);
        assert_eq!(out[0].seq, SeqNumber(ISS));
        assert_eq!(h.now - start, gap);
        gap *= 2;
    }
    assert!(h.fire().is_empty());
    assert!(h.freed);
    assert_eq!(h.ctr.tcp_retransmits, u64::from(h.cfg.syn_retries));
    assert_eq!(h.ctr.tcp_timeouts, 1);
}

#[test]
fn retransmitted_syn_gets_syn_ack_again() {
    let mut h = Harness::syn(ISS, IRS);
    h.output().unwrap();
    let out = h.exchange(seg(IRS, None, Flags::SYN, b""));
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].flags, Flags::SYN);
    assert_eq!(out[0].seq, SeqNumber(ISS));
}

#[test]
fn bad_handshake_ack_gets_rst() {
    let mut h = Harness::syn(ISS, IRS);
    h.output().unwrap();
    let reply = h
        .input(seg(IRS + 1, Some(ISS + 77), Flags(0), b""))
        .unwrap();
    assert_eq!(reply.flags, Flags::RST);
    assert_eq!(reply.seq, SeqNumber(ISS + 77));
    assert_eq!(h.tcb.state(), State::SynReceived);
}

#[test]
fn partial_consumption_acks_only_what_was_taken() {
    let mut h = Harness::established();
    h.take = Some(4);
    let out = h.exchange(seg(IRS + 1, Some(ISS + 1), Flags::PSH, b"GET /x"));
    assert_eq!(h.got, b"GET ");
    assert!(is_pure_ack(&out[0], ISS + 1, IRS + 5));
    // The peer retransmits the rest; the overlap is trimmed.
    h.take = None;
    h.exchange(seg(IRS + 1, Some(ISS + 1), Flags::PSH, b"GET /x"));
    assert_eq!(h.got, b"GET /x");
    assert_eq!(h.rcv(), IRS + 7);
}

#[test]
fn response_is_segmented_by_mss_and_window() {
    let mut h = Harness::established();
    let out = h.send(3000);
    // Window 8192, MSS 1400: 1400 + 1400 + 200.
    let lens: Vec<u16> = out.iter().map(|s| s.data_len()).collect();
    assert_eq!(lens, [1400, 1400, 200]);
    assert_eq!(out[0].data, Some((3000, 0, 1400)));
    assert_eq!(out[2].data, Some((3000, 2800, 200)));
    assert_eq!(out[2].flags, Flags::PSH);
    assert_eq!(out[0].flags, Flags(0));
    assert_eq!(out[1].seq, SeqNumber(ISS + 1 + 1400));
    // A small window limits what is in flight.
    let mut h = Harness::established();
    let mut s = seg(IRS + 1, Some(ISS + 1), Flags(0), b"");
    s.window = 1000;
    h.exchange(s);
    let out = h.send(3000);
    assert_eq!(out.iter().map(|s| s.data_len()).sum::<u16>(), 1000);
    let mut s = seg(IRS + 1, Some(ISS + 1001), Flags(0), b"");
    s.window = 1000;
    let out = h.exchange(s);
    assert_eq!(out.iter().map(|s| s.data_len()).sum::<u16>(), 1000);
    assert_eq!(out[0].data, Some((3000, 1000, 1000)));
}

/// Sender silly-window avoidance: a window that takes part of a segment gets nothing more
/// while a segment is in flight; with nothing in flight it gets what it takes.
#[test]
fn a_window_that_takes_part_of_a_segment_waits_for_acks() {
    let mut h = Harness::established();
    let ack = |acked: u32, window: u16| {
        let mut s = seg(IRS + 1, Some(ISS + 1 + acked), Flags(0), b"");
        s.window = window;
        s
    };
    h.exchange(ack(0, 2000));
    let out = h.send(5000);
    assert_eq!(out.iter().map(|s| s.data_len()).collect::<Vec<_>>(), [1400]);
    // Acknowledged with the window still 2,000: one full segment more, not 600 bytes.
    let out = h.exchange(ack(1400, 2000));
    assert_eq!(out.iter().map(|s| s.data_len()).collect::<Vec<_>>(), [1400]);
    // Everything in flight acknowledged, the window down to 500: nothing is in flight,
    // so the 500 bytes go.
    let out = h.exchange(ack(2800, 500));
    assert_eq!(out.iter().map(|s| s.data_len()).collect::<Vec<_>>(), [500]);
    // The end of the response goes even when short and others are in flight.
    let out = h.exchange(ack(3300, 65535));
    assert_eq!(
        out.iter().map(|s| s.data_len()).collect::<Vec<_>>(),
        [1400, 300]
    );
}

#[test]
fn next_response_waits_for_the_previous_to_be_acknowledged() {
    let mut h = Harness::established();
    h.send(100);
    assert!(!h.tcb.send(50, &Lens));
    h.exchange(seg(IRS + 1, Some(ISS + 101), Flags(0), b""));
    let out = h.send(50);
    assert_eq!(out[0].seq, SeqNumber(ISS + 101));
    assert_eq!(out[0].data, Some((50, 0, 50)));
}

#[test]
fn loss_is_repaired_by_timeout_go_back_n_with_backoff() {
    let mut h = Harness::established();
    h.send(3000);
    // The first segment arrives, the others are lost.
    h.exchange(seg(IRS + 1, Some(ISS + 1401), Flags(0), b""));
    let rto1 = h.tcb.deadline().unwrap() - h.now;
    let out = h.fire();
    assert_eq!(h.ctr.tcp_retransmits, 1);
    assert_eq!(out[0].seq, SeqNumber(ISS + 1401));
    assert_eq!(out[0].data, Some((3000, 1400, 1400)));
    assert_eq!(
        out.len(),
        1,
        "one segment after a timeout (RFC 5681's loss window)"
    );
    let rto2 = h.tcb.deadline().unwrap() - h.now;
    assert_eq!(rto2, 2 * rto1, "exponential backoff");
    // Its ACK opens the congestion window again: the rest follows.
    let out = h.exchange(seg(IRS + 1, Some(ISS + 2801), Flags(0), b""));
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].data, Some((3000, 2800, 200)));
    // Everything acknowledged: the retransmit timer stops, backoff resets.
    h.exchange(seg(IRS + 1, Some(ISS + 3001), Flags(0), b""));
    assert_eq!(h.tcb.snd_una(), SeqNumber(ISS + 3001));
    assert_eq!(
        h.tcb.deadline().unwrap() - h.now,
        h.cfg.idle_ms,
        "only the idle timer"
    );
}

/// An ACK from a peer with a 65,535-byte window, acknowledging up to `ack`.
fn wide_ack(ack: u32) -> Repr<'static> {
    let mut s = seg(IRS + 1, Some(ack), Flags(0), b"");
    s.window = 65535;
    s
}

/// RFC 5681 with RFC 6928's first window: ten segments, then a segment more per ACK (slow
/// start) up to the threshold a timeout sets at half the flight, then about a segment per
/// window (congestion avoidance); a timeout leaves one segment in flight, and only whole
/// segments go under the congestion window.
#[test]
fn congestion_window_slow_start_avoidance_and_timeout() {
    let mut h = Harness::established();
    h.exchange(wide_ack(ISS + 1));
    let segments = |out: &[Segment]| {
        assert!(out.iter().all(|s| s.data_len() == 1400), "whole segments");
        out.len()
    };
    assert_eq!(
        segments(&h.send(200_000)),
        10,
        "the first window: ten segments"
    );
    // Each ACK of a segment lets two more go.
    let mut acked = 0;
    for _ in 0..2 {
        acked += 1400;
        assert_eq!(segments(&h.exchange(wide_ack(ISS + 1 + acked))), 2);
    }
    // A timeout with 12 segments in flight: the threshold becomes 6, one segment goes.
    assert_eq!(h.tcb.snd_nxt().since(h.tcb.snd_una()), 12 * 1400);
    let out = h.fire();
    assert_eq!(segments(&out), 1);
    assert_eq!(out[0].seq, SeqNumber(ISS + 1 + acked));
    // Slow start up to the threshold, one segment more per ACK of all in flight.
    for window in 2..=6 {
        acked += h.tcb.snd_nxt().since(h.tcb.snd_una());
        assert_eq!(segments(&h.exchange(wide_ack(ISS + 1 + acked))), window);
    }
    // Congestion avoidance: about 1400 * 1400 / cwnd bytes more per ACK (233 at first,
    // fewer as it grows), so the window takes seven ACKs to hold a seventh segment.
    for _ in 0..6 {
        acked += h.tcb.snd_nxt().since(h.tcb.snd_una());
        assert_eq!(segments(&h.exchange(wide_ack(ISS + 1 + acked))), 6);
    }
    acked += h.tcb.snd_nxt().since(h.tcb.snd_una());
    assert_eq!(segments(&h.exchange(wide_ack(ISS + 1 + acked))), 7);
}

/// RFC 5681 section 3.2: the first two duplicate ACKs each let a new segment go (limited
/// transmit, RFC 3042); the third sends the segment it asks for again at once, with the
/// threshold at half the flight without those two; the cumulative ACK that follows
/// resumes new data where it stopped, from a window of the flight plus one segment (RFC
/// 6582).
#[test]
fn three_duplicate_acks_send_the_lost_segment_again() {
    let mut h = Harness::established();
    h.exchange(wide_ack(ISS + 1));
    assert_eq!(h.send(100_000).len(), 10);
    // The first segment is acknowledged: two more go (12 in flight, 1 acknowledged).
    let una = ISS + 1 + 1400;
    assert_eq!(h.exchange(wide_ack(una)).len(), 2);
    let max = h.tcb.snd_nxt();
    // Not duplicates: a window update, a segment with data, an older ACK.
    let mut update = wide_ack(una);
    update.window = 60000;
    h.exchange(update);
    h.exchange(wide_ack(una));
    let mut data = seg(IRS + 1, Some(una), Flags::PSH, b"x");
    data.window = 60000;
    h.exchange(data);
    assert_eq!(h.ctr.tcp_fast_retransmits, 0);
    // Three duplicates (the window is 60000 now): the third resends the lost segment.
    let dup = || {
        let mut d = seg(IRS + 2, Some(una), Flags(0), b"");
        d.window = 60000;
        d
    };
    for k in 0..2 {
        let out = h.exchange(dup());
        assert_eq!(out.len(), 1);
        assert_eq!(
            (out[0].seq, out[0].data_len()),
            (max.wrapping_add(k * 1400), 1400)
        );
    }
    let max = h.tcb.snd_nxt();
    h.now += 150;
    let out = h.exchange(dup());
    assert_eq!(out.len(), 1);
    assert_eq!((out[0].seq, out[0].data_len()), (SeqNumber(una), 1400));
    assert_eq!((h.ctr.tcp_fast_retransmits, h.ctr.tcp_retransmits), (1, 0));
    // The timer starts over with it: a whole timeout (200 ms) for its ACK.
    assert_eq!(h.tcb.deadline().unwrap() - h.now, 200);
    // Another duplicate opens the window by a segment, not yet past the flight.
    assert!(h.exchange(dup()).is_empty());
    assert_eq!(h.ctr.tcp_fast_retransmits, 1);
    // The peer had the rest: its cumulative ACK ends fast recovery and resumes new data
    // from where it stopped, two segments (nothing in flight, threshold 11 * 1400 / 2).
    let mut all = seg(IRS + 2, Some(max.0), Flags(0), b"");
    all.window = 60000;
    let out = h.exchange(all);
    assert_eq!(out.len(), 2);
    assert_eq!(out[0].seq, max);
    assert_eq!(h.tcb.ssthresh(), 11 * 1400 / 2);
}

/// RFC 6582's fast recovery with two segments of ten lost (the first and the fourth):
/// the first two duplicates each let a new segment go (limited transmit); duplicates
/// beyond the third let new data go once the window passes the flight; the partial ACK
/// that the first one's copy brings sends the fourth again at once; the ACK of
/// everything ends recovery with a window of the flight plus one segment.
#[test]
fn fast_recovery_keeps_data_going_and_repairs_each_loss() {
    let mut h = Harness::established();
    h.exchange(wide_ack(ISS + 1));
    let base = ISS + 1;
    let at = |n: u32| SeqNumber(base + n * 1400);
    let starts = |out: &[Segment]| -> Vec<u32> {
        out.iter()
            .filter(|s| s.data_len() > 0)
            .map(|s| (s.seq.0 - base) / 1400)
            .collect()
    };
    let dup = |h: &mut Harness, ack: u32| starts(&h.exchange(wide_ack(at(ack).0)));
    assert_eq!(h.send(100_000).len(), 10);
    // Segments 1 and 2 arrive: limited transmit sends 10 and 11. Segment 4 arrives: the
    // third duplicate sends 0 again alone (threshold 7,000, half the window without 10
    // and 11; window 7,000 + 3 * 1,400, under the flight of 16,800).
    assert_eq!(dup(&mut h, 0), [10]);
    assert_eq!(dup(&mut h, 0), [11]);
    assert_eq!(dup(&mut h, 0), [0]);
    assert_eq!(h.tcb.ssthresh(), 7000);
    // Segments 5 to 11 arrive: each duplicate opens the window by a segment; once it is
    // past the flight, each lets a new segment go.
    let new: Vec<u32> = (5..12).flat_map(|_| dup(&mut h, 0)).collect();
    assert_eq!(new, [12, 13, 14]);
    // The copy of 0 arrives: the peer has up to 3, which goes again at once, and the
    // window (21,000 less the 4,200 acknowledged, plus a segment) lets 15 go too.
    assert_eq!(dup(&mut h, 3), [3, 15]);
    assert_eq!(h.ctr.tcp_fast_retransmits, 2);
    // The copy of 3 arrives, then 12 to 14: all that was in flight at the loss is
    // acknowledged. Recovery ends with the window at the flight (15) plus one segment.
    assert_eq!(dup(&mut h, 15), [16]);
    assert_eq!(h.tcb.snd_nxt(), at(17));
    // No timeout was needed, and duplicates count from scratch again.
    assert_eq!(h.ctr.tcp_retransmits, 0);
    assert_eq!(dup(&mut h, 15), [17]);
    assert_eq!(dup(&mut h, 15), [18]);
    assert_eq!(dup(&mut h, 15).first(), Some(&15));
    assert_eq!(h.ctr.tcp_fast_retransmits, 3);
}

/// Fast recovery after one loss usually ends on an ACK of exactly what was in flight at
/// the loss, while new data sent in recovery is still out: duplicates then count again
/// at once, so a loss among that new data is sent again without waiting for the timeout.
#[test]
fn duplicates_count_again_after_recovery_ends_on_an_exact_ack() {
    let mut h = Harness::established();
    h.exchange(wide_ack(ISS + 1));
    let at = |n: u32| wide_ack(ISS + 1 + n * 1400);
    assert_eq!(h.send(100_000).len(), 10);
    // Segment 0 is lost: limited transmit twice (10, 11), then the fast retransmit, and
    // eight more duplicates that let 12 to 15 go.
    for _ in 0..11 {
        h.exchange(at(0));
    }
    assert_eq!(h.tcb.snd_nxt(), at(16).ack.unwrap());
    // The copy of 0 brings the ACK of everything up to 12, which ends recovery.
    h.exchange(at(12));
    // 12 is lost: three duplicates send it again at once.
    h.exchange(at(12));
    h.exchange(at(12));
    let out = h.exchange(at(12));
    assert_eq!(out.first().map(|s| s.seq), at(12).ack);
    assert_eq!((h.ctr.tcp_fast_retransmits, h.ctr.tcp_retransmits), (2, 0));
}

/// A router's report of a smaller MTU in the middle of fast recovery ends it: what is
/// in flight goes again in smaller segments, from a window no larger than the threshold,
/// not the one the duplicates inflated.
#[test]
fn a_path_mtu_report_ends_fast_recovery() {
    let mut h = Harness::established();
    h.exchange(wide_ack(ISS + 1));
    let base = ISS + 1;
    assert_eq!(h.send(100_000).len(), 10);
    // Limited transmit, fast retransmit, then duplicates enough to inflate the window
    // past the threshold (7,000) and the flight.
    for _ in 0..12 {
        h.exchange(wide_ack(base));
    }
    assert_eq!(h.ctr.tcp_fast_retransmits, 1);
    assert!(h.tcb.snd_nxt().since(SeqNumber(base)) > 12 * 1400);
    assert!(h.tcb.path_mtu(SeqNumber(base + 1400), 1040));
    h.wire.sent.clear();
    h.output().unwrap();
    let out = core::mem::take(&mut h.wire.sent);
    assert_eq!(out[0].seq, SeqNumber(base));
    assert!(out.iter().all(|s| s.data_len() == 1000));
    assert!(out.len() * 1000 <= 7000, "{} segments", out.len());
    assert_eq!(h.tcb.ssthresh(), 7000);
}

/// A challenge ACK the per-core limit holds back (`Tcb::hold_ack`) never takes with it
/// an ACK the connection owed already: here for a request that met a full TX ring.
#[test]
fn a_held_challenge_keeps_an_owed_ack() {
    let mut h = Harness::established();
    h.wire.full = true;
    h.input(seg(
        IRS + 1,
        Some(ISS + 1),
        Flags::PSH,
        b"GET / HTTP/1.1\r\n",
    ));
    assert_eq!(h.output(), Err(TxFull));
    h.wire.full = false;
    // A forged in-window RST while the connection waits for TX room.
    let forged = seg(IRS + 50, None, Flags::RST, b"");
    let input = h.tcb.on_segment(&forged, h.now, &h.cfg, &mut h.ctr);
    assert!(!input.challenge, "the ACK was owed: nothing to hold back");
    h.output().unwrap();
    assert!(h
        .wire
        .sent
        .iter()
        .any(|s| s.ack == Some(SeqNumber(IRS + 17))));
    // With nothing owed, the challenge may be held back.
    let input = h.tcb.on_segment(&forged, h.now, &h.cfg, &mut h.ctr);
    assert!(input.challenge);
    h.tcb.hold_ack();
    h.wire.sent.clear();
    h.output().unwrap();
    assert!(h.wire.sent.is_empty());
    assert_eq!(h.ctr.tcp_challenge_acks, 2);
}

/// A response and the FIN after it must fit half the sequence space, where sequence
/// numbers compare: a longer one is refused rather than never sent.
#[test]
fn responses_longer_than_half_the_sequence_space_are_refused() {
    let mut h = Harness::established();
    assert!(!h.tcb.send(MAX_RESPONSE_LEN + 1, &Lens));
    assert!(!h.tcb.send(u32::MAX, &Lens));
    assert!(h.tcb.send(MAX_RESPONSE_LEN, &Lens));
    h.tcb.close();
    let out = h.exchange(wide_ack(ISS + 1));
    assert_eq!(out.len(), 10);
    assert!(out.iter().all(|s| s.data_len() == 1400));
}

/// Sends `segments` full segments through a FIFO path to a peer that acknowledges every
/// segment cumulatively; the first copies of the segments at the indices `lost` are
/// lost, the timer fires whenever the path runs dry, and once before anything arrives
/// if `late`. Returns how many fast retransmits sent a segment that was never lost.
fn lossy_transfer(h: &mut Harness, segments: u32, lost: &[u32], late: bool) -> u32 {
    use std::collections::{BTreeSet, VecDeque};
    let base = ISS + 1;
    let end = base + segments * 1400;
    let mut path: VecDeque<Segment> = h.send(segments * 1400).into();
    if late {
        path.extend(h.fire());
    }
    let (mut have, mut dropped) = (BTreeSet::new(), BTreeSet::new());
    let (mut next, mut spurious) = (base, 0);
    while h.tcb.snd_una().0 != end {
        let Some(s) = path.pop_front() else {
            path.extend(h.fire());
            continue;
        };
        let index = (s.seq.0 - base) / 1400;
        if s.data_len() == 0 || (lost.contains(&index) && dropped.insert(index)) {
            continue;
        }
        have.insert(s.seq.0);
        while have.contains(&next) {
            next += 1400;
        }
        let fast = h.ctr.tcp_fast_retransmits;
        let out = h.exchange(wide_ack(next));
        let resent = (h.tcb.snd_una().0 - base) / 1400;
        if h.ctr.tcp_fast_retransmits > fast && !dropped.contains(&resent) {
            spurious += 1;
        }
        path.extend(out);
    }
    spurious
}

/// Every pattern of first copies lost among the first ten segments of twenty: each fast
/// retransmit resends a segment that was lost, never one behind the copies the peer
/// acknowledges twice after a go-back (RFC 6582 section 4.2), and the transfer ends.
#[test]
fn fast_retransmits_resend_only_what_was_lost() {
    for pattern in 0u32..1 << 10 {
        let lost: Vec<u32> = (0..10).filter(|i| pattern & 1 << i != 0).collect();
        let mut h = Harness::established();
        h.exchange(wide_ack(ISS + 1));
        assert_eq!(lossy_transfer(&mut h, 20, &lost, false), 0, "lost {lost:?}");
    }
    // Nothing lost, but the ACKs come after the timeout: what goes again is all copies.
    let mut h = Harness::established();
    h.exchange(wide_ack(ISS + 1));
    assert_eq!(lossy_transfer(&mut h, 20, &[], true), 0);
}

/// RFC 5681 section 4.1: a keep-alive connection idle for longer than the timeout sends
/// its next response from the first window again, whether the pause came before the
/// request or before the response; a shorter pause keeps what it grew to.
#[test]
fn the_congestion_window_restarts_after_idle() {
    for (pause, thinking, first_flight) in [(50, 0, 14), (1_500, 0, 10), (10, 1_500, 10)] {
        let mut h = Harness::established();
        h.exchange(wide_ack(ISS + 1));
        // Four segments acknowledged in slow start: the window holds 14.
        let mut acked = 0;
        assert_eq!(h.send(4 * 1400).len(), 4);
        for _ in 0..4 {
            h.now += 10;
            acked += 1400;
            h.exchange(wide_ack(ISS + 1 + acked));
        }
        // The next request comes after the pause (the timeout is 200 ms).
        h.now += pause;
        let mut request = seg(IRS + 1, Some(ISS + 1 + acked), Flags::PSH, b"GET");
        request.window = 65535;
        h.exchange(request);
        h.now += thinking;
        assert_eq!(
            h.send(100_000).len(),
            first_flight,
            "after {pause} ms, then {thinking} ms"
        );
    }
}

/// Karn's algorithm (RFC 6298 section 5): an ACK of data sent again is no sample, so the
/// backed-off timeout stays until a segment sent once is acknowledged.
#[test]
fn a_backed_off_timeout_holds_until_a_new_sample() {
    let mut h = Harness::established();
    // The handshake took 20 ms: a 200 ms timeout (the floor).
    h.send(100);
    let start = h.now;
    assert_eq!(h.tcb.deadline().unwrap() - h.now, 200);
    // The path's delay becomes 1.5 s: the timer fires at 200, 600 and 1,400 ms.
    for at in [200, 600, 1400] {
        assert_eq!(h.fire().len(), 1);
        assert_eq!(h.now - start, at);
    }
    h.now = start + 1500;
    h.exchange(seg(IRS + 1, Some(ISS + 101), Flags(0), b""));
    // The next response waits the backed-off 1.6 s, not 200 ms...
    h.send(100);
    let sent = h.now;
    assert_eq!(h.tcb.deadline().unwrap() - h.now, 1600);
    // ...so its ACK after 1.5 s comes in time, and is a sample: the estimate starts again.
    h.now = sent + 1500;
    h.exchange(seg(IRS + 1, Some(ISS + 201), Flags(0), b""));
    assert_eq!(h.tcb.srtt_ms(), 1500);
    assert_eq!(h.ctr.tcp_retransmits, 3);
}

#[test]
fn too_many_retransmissions_reset_the_connection() {
    let mut h = Harness::established();
    h.send(10);
    for _ in 0..h.cfg.max_retries {
        assert_eq!(h.fire().len(), 1);
    }
    let out = h.fire();
    assert_eq!(out[0].flags, Flags::RST);
    assert!(h.freed);
    assert_eq!(h.ctr.tcp_timeouts, 1);
    assert_eq!(h.ctr.tcp_resets_sent, 1);
}

/// In SYN-RECEIVED, an ACK or a RST follows our SYN, whatever window the peer's SYN
/// offered: the SYN is no data the window could hold back.
#[test]
fn segments_in_syn_received_follow_our_syn_under_a_zero_window() {
    let with_zero_window = || {
        let cfg = Config::default();
        let mut syn = seg(IRS, None, Flags::SYN, b"");
        syn.window = 0;
        let mut h = Harness::syn(ISS, IRS);
        h.tcb = Tcb::syn_received(&flow(), &syn, SeqNumber(ISS), &cfg);
        h.output().unwrap();
        h.wire.sent.clear();
        h
    };
    let mut h = with_zero_window();
    let out = h.exchange(seg(IRS + 1 + 100_000, Some(ISS + 1), Flags(0), b""));
    assert_eq!(out[0].seq, SeqNumber(ISS + 1), "the ACK");
    let mut h = with_zero_window();
    h.tcb.abort();
    h.output().unwrap();
    assert_eq!(h.wire.sent[0].flags, Flags::RST);
    assert_eq!(h.wire.sent[0].seq, SeqNumber(ISS + 1), "the RST");
}

/// A peer that filled our window exactly (with data the application did not take)
/// sends its ACKs from the window's right edge: they are taken, not dropped as out of
/// the window. One byte further is outside.
#[test]
fn a_bare_ack_at_the_right_edge_of_the_window_is_taken() {
    static BIG: [u8; 1460] = [b'q'; 1460];
    let mut h = Harness::established();
    h.send(100);
    h.take = Some(0);
    let mut seq = IRS + 1;
    let mut left = u32::from(h.cfg.window);
    while left > 0 {
        let len = left.min(1460);
        h.exchange(seg(seq, Some(ISS + 1), Flags::PSH, &BIG[..len as usize]));
        seq += len;
        left -= len;
    }
    assert_eq!(h.ctr.drop_tcp_out_of_window, 0);
    h.exchange(seg(seq + 1, Some(ISS + 101), Flags(0), b""));
    assert_eq!(h.ctr.drop_tcp_out_of_window, 1);
    assert_eq!(h.tcb.snd_una(), SeqNumber(ISS + 1));
    h.exchange(seg(seq, Some(ISS + 101), Flags(0), b""));
    assert_eq!(h.tcb.snd_una(), SeqNumber(ISS + 101));
    assert_eq!(h.ctr.drop_tcp_out_of_window, 1);
}

/// A bare ACK past a gap is no drop: its acknowledgment is taken, and only the duplicate
/// ACK asks for the gap. Data past a gap is dropped and counted.
#[test]
fn only_data_past_a_gap_counts_as_out_of_order() {
    let mut h = Harness::established();
    h.send(100);
    let out = h.exchange(seg(IRS + 1 + 5, Some(ISS + 101), Flags(0), b""));
    assert!(is_pure_ack(&out[0], ISS + 101, IRS + 1));
    assert_eq!(h.tcb.snd_una(), SeqNumber(ISS + 101));
    assert_eq!(h.ctr.drop_tcp_out_of_order, 0);
    h.exchange(seg(IRS + 1 + 5, Some(ISS + 101), Flags(0), b"late"));
    assert_eq!(h.ctr.drop_tcp_out_of_order, 1);
}

/// Data after the peer's FIN is ignored, and counted.
#[test]
fn data_after_the_peers_fin_is_ignored_and_counted() {
    let mut h = Harness::established();
    h.exchange(seg(IRS + 1, Some(ISS + 1), Flags::FIN, b""));
    assert_eq!(h.tcb.state(), State::CloseWait);
    let before = h.got.len();
    h.exchange(seg(IRS + 2, Some(ISS + 1), Flags(0), b"late"));
    assert_eq!((h.got.len(), h.ctr.drop_tcp_unexpected), (before, 1));
}

/// A segment without data goes at the end of what the peer's window reaches when that
/// lies before the end of what was sent: a peer that shrank its window to nothing
/// dropped our data, and would take an ACK beyond it as out of window.
#[test]
fn an_ack_under_a_window_shrunk_to_nothing_is_at_its_edge() {
    let mut h = Harness::established();
    h.send(3000);
    let mut shut = seg(IRS + 1, Some(ISS + 1), Flags(0), b"");
    shut.window = 0;
    h.exchange(shut);
    h.fire();
    let mut data = seg(IRS + 1, Some(ISS + 1), Flags(0), b"abc");
    data.window = 0;
    let out = h.exchange(data);
    let ack = out
        .iter()
        .find(|s| s.ack == Some(SeqNumber(IRS + 4)))
        .expect("the data is acknowledged");
    assert_eq!(ack.seq, SeqNumber(ISS + 1));
}

/// After a timeout rewinds what is sent next, the RST that ends the connection and the
/// ACKs sent meanwhile still carry the end of all that was sent: a peer that received it
/// all would drop a segment from before it as out of window.
#[test]
fn segments_without_data_carry_the_end_of_what_was_sent() {
    let mut h = Harness::established();
    let first = h.send(5000);
    assert!(first.len() > 1);
    let end = ISS + 1 + 5000;
    // The first timeout sends the first segment again, not the rest.
    let again = h.fire();
    assert_eq!(again.len(), 1);
    assert_eq!(again[0].seq, SeqNumber(ISS + 1));
    // The peer's data in the meantime is acknowledged from the end.
    let out = h.exchange(seg(IRS + 1, Some(ISS + 1), Flags(0), b"abc"));
    let ack = out.iter().find(|s| s.data.is_none()).expect("an ACK");
    assert!(is_pure_ack(ack, end, IRS + 4), "{ack:?}");
    while !h.freed {
        let out = h.fire();
        if let Some(rst) = out.iter().find(|s| s.flags.contains(Flags::RST)) {
            assert_eq!(rst.seq, SeqNumber(end));
        }
    }
    assert_eq!(h.ctr.tcp_resets_sent, 1);
}

/// The backoff shares a byte with the duplicate-ACK count: a retry limit beyond what it
/// holds is clamped, never left out of reach.
#[test]
fn a_retry_limit_beyond_the_backoff_byte_still_ends_the_connection() {
    let mut h = Harness::established();
    h.cfg.max_retries = u8::MAX;
    h.send(10);
    let mut fired = 0;
    while !h.freed {
        h.fire();
        fired += 1;
        assert!(fired <= 64, "no end");
    }
    assert_eq!(fired, 64, "63 retransmissions, then the reset");
    assert_eq!(h.ctr.tcp_retransmits, 63);
}

#[test]
fn duplicate_segments_are_acked_not_redelivered() {
    let mut h = Harness::established();
    h.exchange(seg(IRS + 1, Some(ISS + 1), Flags(0), b"abc"));
    let out = h.exchange(seg(IRS + 1, Some(ISS + 1), Flags(0), b"abc"));
    assert_eq!(h.got, b"abc");
    assert!(is_pure_ack(&out[0], ISS + 1, IRS + 4));
    assert_eq!(h.ctr.drop_tcp_out_of_window, 1);
}

#[test]
fn reordered_segment_is_dropped_with_duplicate_ack() {
    let mut h = Harness::established();
    let out = h.exchange(seg(IRS + 4, Some(ISS + 1), Flags(0), b"def"));
    assert!(h.got.is_empty());
    assert!(is_pure_ack(&out[0], ISS + 1, IRS + 1));
    h.exchange(seg(IRS + 1, Some(ISS + 1), Flags(0), b"abc"));
    h.exchange(seg(IRS + 4, Some(ISS + 1), Flags(0), b"def"));
    assert_eq!(h.got, b"abcdef");
}

#[test]
fn out_of_window_segments_are_acked_and_counted() {
    let mut h = Harness::established();
    let out = h.exchange(seg(IRS + 1 + 70_000, Some(ISS + 1), Flags(0), b"x"));
    assert!(is_pure_ack(&out[0], ISS + 1, IRS + 1));
    assert_eq!(h.ctr.drop_tcp_out_of_window, 1);
    assert!(h.got.is_empty());
}

#[test]
fn rst_exact_resets() {
    let mut h = Harness::established();
    h.input(seg(IRS + 1, None, Flags::RST, b""));
    assert!(h.freed);
    assert_eq!(h.ctr.tcp_resets_received, 1);
}

#[test]
fn rst_in_window_gets_challenge_ack() {
    let mut h = Harness::established();
    let out = h.exchange(seg(IRS + 100, None, Flags::RST, b""));
    assert!(!h.freed);
    assert!(is_pure_ack(&out[0], ISS + 1, IRS + 1));
    assert_eq!(h.ctr.tcp_challenge_acks, 1);
}

#[test]
fn rst_out_of_window_is_ignored_silently() {
    let mut h = Harness::established();
    let out = h.exchange(seg(IRS + 1 + 100_000, None, Flags::RST, b""));
    assert!(!h.freed);
    assert!(out.is_empty());
    let out = h.exchange(seg(IRS - 5, None, Flags::RST, b""));
    assert!(out.is_empty());
    assert_eq!(h.tcb.state(), State::Established);
}

#[test]
fn syn_on_established_gets_challenge_ack() {
    let mut h = Harness::established();
    let out = h.exchange(seg(IRS + 50, None, Flags::SYN, b""));
    assert_eq!(h.tcb.state(), State::Established);
    assert!(is_pure_ack(&out[0], ISS + 1, IRS + 1));
    assert_eq!(h.ctr.tcp_challenge_acks, 1);
}

#[test]
fn ack_of_unsent_data_gets_challenge_ack() {
    let mut h = Harness::established();
    let out = h.exchange(seg(IRS + 1, Some(ISS + 500), Flags(0), b"abc"));
    assert!(h.got.is_empty(), "segment dropped");
    assert!(is_pure_ack(&out[0], ISS + 1, IRS + 1));
    assert_eq!(h.ctr.tcp_challenge_acks, 1);
}

#[test]
fn zero_window_is_probed_until_it_opens() {
    let mut h = Harness::established();
    let mut s = seg(IRS + 1, Some(ISS + 1), Flags(0), b"");
    s.window = 0;
    h.exchange(s);
    let out = h.send(500);
    assert!(out.is_empty(), "nothing fits a closed window");
    let first = h.tcb.deadline().unwrap() - h.now;
    let probe = h.fire();
    assert_eq!(probe.len(), 1);
    assert!(
        is_pure_ack(&probe[0], ISS, IRS + 1),
        "probe with an old sequence number"
    );
    assert_eq!(h.ctr.tcp_window_probes, 1);
    let second = h.tcb.deadline().unwrap() - h.now;
    assert_eq!(second, 2 * first, "probes back off");
    // The peer answers the probe with an open window: data flows.
    let out = h.exchange(seg(IRS + 1, Some(ISS + 1), Flags(0), b""));
    assert_eq!(out[0].data, Some((500, 0, 500)));
}

#[test]
fn a_window_that_never_opens_ends_the_connection() {
    let mut h = Harness::established();
    let mut s = seg(IRS + 1, Some(ISS + 1), Flags(0), b"");
    s.window = 0;
    h.exchange(s);
    assert!(h.send(500).is_empty());
    let mut probes = 0;
    while !h.freed && probes < 100 {
        let out = h.fire();
        if out.iter().any(|s| s.flags.contains(Flags::RST)) {
            break;
        }
        probes += 1;
        // The peer answers each probe, its window still shut.
        let mut s = seg(IRS + 1, Some(ISS + 1), Flags(0), b"");
        s.window = 0;
        h.exchange(s);
    }
    assert_eq!(probes, usize::from(h.cfg.max_retries));
    assert_eq!(h.ctr.tcp_timeouts, 1);
}

#[test]
fn peer_closes_first() {
    let mut h = Harness::established();
    let out = h.exchange(seg(IRS + 1, Some(ISS + 1), Flags::FIN, b"bye"));
    assert_eq!(h.got, b"bye");
    assert_eq!(h.tcb.state(), State::CloseWait);
    assert!(is_pure_ack(&out[0], ISS + 1, IRS + 5));
    assert!(h.tcb.send(10, &Lens));
    h.tcb.close();
    h.wire.sent.clear();
    h.output().unwrap();
    let out = core::mem::take(&mut h.wire.sent);
    // The FIN rides on the last data segment, after its 10 bytes.
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].data_len(), 10);
    assert_eq!(out[0].seq, SeqNumber(ISS + 1));
    assert_eq!(out[0].flags, Flags::PSH.with(Flags::FIN));
    assert_eq!(h.tcb.state(), State::LastAck);
    h.input(seg(IRS + 5, Some(ISS + 12), Flags(0), b""));
    assert!(h.freed);
    assert_eq!(h.ctr.tcp_closed, 1);
}

#[test]
fn fin_is_not_taken_before_all_data_is() {
    let mut h = Harness::established();
    h.take = Some(1);
    h.exchange(seg(IRS + 1, Some(ISS + 1), Flags::FIN, b"ab"));
    assert_eq!(h.tcb.state(), State::Established);
    assert_eq!(h.rcv(), IRS + 2);
    h.take = None;
    h.exchange(seg(IRS + 1, Some(ISS + 1), Flags::FIN, b"ab"));
    assert_eq!(h.tcb.state(), State::CloseWait);
    assert_eq!(h.rcv(), IRS + 4);
}

#[test]
fn server_closes_first_then_time_wait() {
    let mut h = Harness::established();
    h.tcb.send(20, &Lens);
    h.tcb.close();
    h.wire.sent.clear();
    h.output().unwrap();
    assert_eq!(h.wire.sent.len(), 1, "data and FIN in one segment");
    assert_eq!(h.tcb.state(), State::FinWait1);
    h.exchange(seg(IRS + 1, Some(ISS + 22), Flags(0), b""));
    assert_eq!(h.tcb.state(), State::FinWait2);
    let out = h.exchange(seg(IRS + 1, Some(ISS + 22), Flags::FIN, b""));
    assert!(is_pure_ack(&out[0], ISS + 22, IRS + 2));
    assert_eq!(h.tcb.state(), State::TimeWait);
    // A retransmitted FIN in TIME-WAIT is acknowledged again, and the wait starts over.
    h.now += 700;
    let out = h.exchange(seg(IRS + 1, Some(ISS + 22), Flags::FIN, b""));
    assert!(is_pure_ack(&out[0], ISS + 22, IRS + 2));
    assert_eq!(h.tcb.deadline(), Some(h.now + h.cfg.time_wait_ms));
    // Anything else in TIME-WAIT does not prolong it: data in the window is ignored and
    // counted, and a FIN that is not the peer's own sent again is acknowledged as out of
    // the window.
    h.now += 100;
    assert!(h
        .exchange(seg(IRS + 2, Some(ISS + 22), Flags(0), b"x"))
        .is_empty());
    assert_eq!(h.ctr.drop_tcp_unexpected, 1);
    assert_eq!(h.tcb.deadline(), Some(h.now - 100 + h.cfg.time_wait_ms));
    for far in [IRS.wrapping_add(1 << 30), IRS] {
        let out = h.exchange(seg(far, Some(ISS + 22), Flags::FIN, b""));
        assert!(is_pure_ack(&out[0], ISS + 22, IRS + 2));
        assert_eq!(h.tcb.deadline(), Some(h.now - 100 + h.cfg.time_wait_ms));
    }
    let start = h.now - 100;
    h.fire();
    assert!(h.freed);
    assert_eq!(
        h.now - start,
        h.cfg.time_wait_ms,
        "short, bounded TIME-WAIT"
    );
}

#[test]
fn fin_wait_2_is_bounded() {
    let mut h = Harness::established();
    h.tcb.close();
    h.output().unwrap();
    h.exchange(seg(IRS + 1, Some(ISS + 2), Flags(0), b""));
    assert_eq!(h.tcb.state(), State::FinWait2);
    h.fire();
    assert!(h.freed);
}

#[test]
fn simultaneous_close() {
    let mut h = Harness::established();
    h.tcb.close();
    h.output().unwrap();
    assert_eq!(h.tcb.state(), State::FinWait1);
    // The peer's FIN crosses ours: it has not seen our FIN yet.
    let out = h.exchange(seg(IRS + 1, Some(ISS + 1), Flags::FIN, b""));
    assert_eq!(h.tcb.state(), State::Closing);
    assert!(is_pure_ack(&out[0], ISS + 2, IRS + 2));
    h.exchange(seg(IRS + 2, Some(ISS + 2), Flags(0), b""));
    assert_eq!(h.tcb.state(), State::TimeWait);
}

#[test]
fn full_tx_ring_loses_nothing() {
    let mut h = Harness::established();
    h.tcb.send(100, &Lens);
    h.wire.full = true;
    assert_eq!(h.output(), Err(TxFull));
    assert_eq!(h.tcb.snd_nxt(), SeqNumber(ISS + 1));
    h.wire.full = false;
    h.output().unwrap();
    assert_eq!(h.wire.sent.last().unwrap().data, Some((100, 0, 100)));
}

#[test]
fn idle_connection_is_closed() {
    let mut h = Harness::established();
    let out = h.fire();
    assert_eq!(out[0].flags, Flags::FIN);
    assert_eq!(h.tcb.state(), State::FinWait1);
}

#[test]
fn sequence_numbers_wrap() {
    let mut h = Harness::established_at(u32::MAX - 100, u32::MAX - 2);
    let out = h.exchange(seg(u32::MAX - 1, Some(u32::MAX - 99), Flags(0), b"hello"));
    assert_eq!(h.got, b"hello");
    assert!(is_pure_ack(&out[0], u32::MAX - 99, 3));
    let out = h.send(1000);
    assert_eq!(out[0].seq, SeqNumber(u32::MAX - 99));
    h.exchange(seg(3, Some(900), Flags(0), b""));
    assert_eq!(h.tcb.snd_una(), SeqNumber(900));
}

#[test]
fn arbitrary_segments_never_panic() {
    let mut x: u64 = 99;
    // xorshift: every bit of a draw varies (a power-of-two LCG's low bits do not).
    let mut next = || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        (x >> 32) as u32
    };
    // How many segments came without ACK, without FIN, and how often a timer ran.
    let (mut no_ack, mut no_fin, mut timers) = (0, 0, 0);
    for _ in 0..200 {
        let mut h = Harness::established();
        h.send(5000);
        for _ in 0..50 {
            let r = next();
            let seq = IRS.wrapping_add(next() % 3000).wrapping_sub(1000);
            let ack = (r & 1 == 0).then(|| ISS.wrapping_add(next() % 7000));
            let flags = Flags((next() & 0x1f) as u8);
            no_ack += usize::from(ack.is_none());
            no_fin += usize::from(!flags.contains(Flags::FIN));
            let payload: &'static [u8] = if r & 2 == 0 { b"" } else { b"data" };
            let mut s = seg(seq, ack, flags, payload);
            s.window = (next() % 3) as u16 * 1000;
            h.input(s);
            if h.freed {
                break;
            }
            if next() % 4 == 0 {
                timers += 1;
                if let Some(d) = h.tcb.deadline() {
                    h.now = d;
                    if h.tcb.on_timer(h.now, &h.cfg, &mut h.ctr) == Verdict::Free {
                        break;
                    }
                }
            }
            if h.output() == Ok(Verdict::Free) {
                break;
            }
            assert!(h.tcb.snd_una().le(h.tcb.snd_nxt()));
        }
    }
    assert!(
        no_ack > 1000 && no_fin > 1000 && timers > 500,
        "the draws vary: {no_ack} without ACK, {no_fin} without FIN, {timers} timer runs"
    );
}

#[test]
fn fin_goes_alone_when_the_window_has_no_room_for_it() {
    let mut h = Harness::established();
    let mut s = seg(IRS + 1, Some(ISS + 1), Flags(0), b"");
    s.window = 20;
    h.exchange(s);
    assert!(h.tcb.send(20, &Lens));
    h.tcb.close();
    h.wire.sent.clear();
    h.output().unwrap();
    let out = core::mem::take(&mut h.wire.sent);
    // The data fills the window exactly: the FIN does not ride on it.
    assert_eq!(out[0].data_len(), 20);
    assert_eq!(out[0].flags, Flags::PSH);
    assert_eq!(out[1].flags, Flags::FIN);
    assert_eq!(out[1].seq, SeqNumber(ISS + 21));
}

#[test]
fn lost_fin_after_acknowledged_data_is_resent_alone() {
    let mut h = Harness::established();
    h.send(10);
    h.tcb.close();
    h.wire.sent.clear();
    h.output().unwrap();
    // Data went out without the FIN (it was sent before close); the FIN follows.
    let out = core::mem::take(&mut h.wire.sent);
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].flags, Flags::FIN);
    // The peer acknowledges the data only: the retransmission is the FIN alone.
    h.exchange(seg(IRS + 1, Some(ISS + 11), Flags(0), b""));
    let out = h.fire();
    assert_eq!(out.len(), 1);
    assert_eq!(
        (out[0].flags, out[0].seq),
        (Flags::FIN, SeqNumber(ISS + 11))
    );
    assert!(out[0].data.is_none());
    h.exchange(seg(IRS + 1, Some(ISS + 12), Flags(0), b""));
    assert_eq!(h.tcb.state(), State::FinWait2);
}

#[test]
fn retransmission_of_data_carries_the_fin_again() {
    let mut h = Harness::established();
    assert!(h.tcb.send(10, &Lens));
    h.tcb.close();
    h.wire.sent.clear();
    h.output().unwrap();
    h.wire.sent.clear();
    let out = h.fire();
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].seq, SeqNumber(ISS + 1));
    assert_eq!(out[0].data_len(), 10);
    assert_eq!(out[0].flags, Flags::PSH.with(Flags::FIN));
    h.exchange(seg(IRS + 1, Some(ISS + 12), Flags(0), b""));
    assert_eq!(h.tcb.state(), State::FinWait2);
}

/// A source that counts how often TCP asks for the response's length.
struct Counting {
    len: core::cell::Cell<u32>,
    asked: core::cell::Cell<u32>,
}

impl Source for Counting {
    fn len(&self, _: u32) -> u32 {
        self.asked.set(self.asked.get() + 1);
        self.len.get()
    }
    fn fill(&self, _: u32, _: u32, out: &mut [u8]) -> Option<u16> {
        out.fill(b'y');
        None
    }
}

#[test]
fn response_length_is_asked_at_send_and_when_data_goes_out() {
    let mut h = Harness::established();
    let src = Counting {
        len: core::cell::Cell::new(3000),
        asked: core::cell::Cell::new(0),
    };
    assert!(h.tcb.can_send());
    assert!(h.tcb.send(7, &src));
    assert_eq!(src.asked.get(), 1);
    assert!(!h.tcb.can_send());
    let out = |h: &mut Harness| {
        h.wire.sent.clear();
        let v = h
            .tcb
            .output(h.now, &h.cfg, LOCAL, &src, &mut h.wire, &mut h.ctr);
        assert_eq!(v, Ok(Verdict::Keep));
        core::mem::take(&mut h.wire.sent)
    };
    let sent = out(&mut h);
    let data: Vec<_> = sent.iter().map(|s| s.data).collect();
    assert_eq!(
        data,
        [
            Some((7, 0, 1400)),
            Some((7, 1400, 1400)),
            Some((7, 2800, 200))
        ]
    );
    assert_eq!(src.asked.get(), 2, "once more, for the segments' offsets");
    // Segments and timers in between ask nothing.
    let ack = seg(IRS + 1, Some(ISS + 1401), Flags(0), b"");
    let input = h.tcb.on_segment(&ack, h.now, &h.cfg, &mut h.ctr);
    h.tcb.consume(&input, 0, h.now, &h.cfg);
    assert!(out(&mut h).is_empty());
    assert_eq!(src.asked.get(), 2);
    // A retransmission asks again, and its offsets are the same.
    h.now = h.tcb.deadline().unwrap();
    assert_eq!(h.tcb.on_timer(h.now, &h.cfg, &mut h.ctr), Verdict::Keep);
    let sent = out(&mut h);
    assert_eq!(sent[0].data, Some((7, 1400, 1400)));
    assert_eq!(src.asked.get(), 3);
    // The end was fixed at `send`: a later answer does not move it.
    src.len.set(10);
    let ack = seg(IRS + 1, Some(ISS + 3001), Flags(0), b"");
    let input = h.tcb.on_segment(&ack, h.now, &h.cfg, &mut h.ctr);
    h.tcb.consume(&input, 0, h.now, &h.cfg);
    assert!(h.tcb.can_send());
    assert!(h.tcb.send(8, &src));
    let sent = out(&mut h);
    assert_eq!(sent[0].seq, SeqNumber(ISS + 3001));
    assert_eq!(sent[0].data, Some((8, 0, 10)));
}

/// The listener skips `output` after input when `nothing_to_send` says so: an output
/// there must send nothing and change nothing, timer included, whatever came in and
/// whatever the application did on it.
#[test]
fn nothing_to_send_means_output_changes_nothing() {
    let mut x: u32 = 7;
    let mut next = || {
        x = x.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
        x >> 8
    };
    let mut skipped = 0;
    for round in 0..300 {
        let mut h = Harness::established();
        if round % 3 == 0 {
            h.send(next() % 4000);
        }
        for _ in 0..40 {
            let r = next();
            let seq = IRS.wrapping_add(1 + next() % 200);
            let ack = (r & 1 == 0).then(|| ISS.wrapping_add(next() % 5000));
            let flags = Flags((next() & 0x1f) as u8);
            let payload: &'static [u8] = if r & 2 == 0 { b"" } else { b"data" };
            let mut s = seg(seq, ack, flags, payload);
            s.window = (next() % 3) as u16 * 1000;
            h.input(s);
            if h.freed {
                break;
            }
            match next() % 8 {
                0 => {
                    let _ = h.tcb.send(next() % 3000, &Lens);
                }
                1 => h.tcb.close(),
                _ => {}
            }
            h.wire.sent.clear();
            if h.tcb.nothing_to_send() {
                skipped += 1;
                let before = h.tcb;
                assert_eq!(h.output(), Ok(Verdict::Keep));
                assert!(h.wire.sent.is_empty());
                assert_eq!(h.tcb, before);
            } else if h.output() == Ok(Verdict::Free) {
                break;
            }
            if next() % 4 == 0 {
                if let Some(d) = h.tcb.deadline() {
                    h.now = d;
                    if h.tcb.on_timer(h.now, &h.cfg, &mut h.ctr) == Verdict::Free {
                        break;
                    }
                    if h.output() == Ok(Verdict::Free) {
                        break;
                    }
                }
            }
        }
    }
    assert!(skipped > 100, "only {skipped} quiet inputs");
}

#[test]
fn ack_far_below_snd_una_gets_challenge_ack_and_its_data_is_dropped() {
    // RFC 5961 section 5: an ACK more than MAX.SND.WND below SND.UNA is a blind guess.
    let mut h = Harness::established();
    let out = h.exchange(seg(
        IRS + 1,
        Some((ISS + 1).wrapping_sub(70_000)),
        Flags::PSH,
        b"GET /evil",
    ));
    assert!(h.got.is_empty(), "segment dropped");
    assert!(is_pure_ack(&out[0], ISS + 1, IRS + 1));
    assert_eq!(h.ctr.tcp_challenge_acks, 1);
    // An old ACK within the window's reach is a duplicate: its data is taken.
    let out = h.exchange(seg(
        IRS + 1,
        Some((ISS + 1).wrapping_sub(60_000)),
        Flags::PSH,
        b"GET /",
    ));
    assert_eq!(h.got, b"GET /");
    assert!(is_pure_ack(&out[0], ISS + 1, IRS + 6));
    assert_eq!(h.ctr.tcp_challenge_acks, 1);
}

#[test]
fn a_window_shut_under_data_in_flight_is_probed_not_reset() {
    let mut h = Harness::established();
    assert_eq!(h.send(500).len(), 1);
    // The peer shrinks its window to nothing without taking the data.
    let mut s = seg(IRS + 1, Some(ISS + 1), Flags(0), b"");
    s.window = 0;
    h.exchange(s);
    let out = h.fire();
    assert_eq!(out.len(), 1);
    assert!(is_pure_ack(&out[0], ISS, IRS + 1), "a probe: {:?}", out[0]);
    assert_eq!(h.ctr.tcp_window_probes, 1);
    // The window opens: the data goes again.
    let out = h.exchange(seg(IRS + 1, Some(ISS + 1), Flags(0), b""));
    assert_eq!(out[0].data, Some((500, 0, 500)));
    assert!(!h.freed);
}

/// A peer that shuts and opens its window again and again without taking any data is
/// reset after `max_retries` timeouts, as one that never answers is.
#[test]
fn a_window_that_flaps_without_taking_data_ends_the_connection() {
    let mut h = Harness::established();
    assert_eq!(h.send(500).len(), 1);
    let mut timeouts = 0;
    while !h.freed && timeouts < 100 {
        let mut shut = seg(IRS + 1, Some(ISS + 1), Flags(0), b"");
        shut.window = 0;
        h.exchange(shut);
        let out = h.fire();
        if out.iter().any(|s| s.flags.contains(Flags::RST)) {
            break;
        }
        timeouts += 1;
        // Open again: the data goes again, and is not taken.
        let out = h.exchange(seg(IRS + 1, Some(ISS + 1), Flags(0), b""));
        assert!(out
            .iter()
            .all(|s| s.data.is_none_or(|(_, off, _)| off == 0)));
    }
    assert_eq!(timeouts, usize::from(h.cfg.max_retries));
    assert_eq!(h.ctr.tcp_timeouts, 1);
}

#[test]
fn a_new_syn_in_syn_received_returns_to_listen() {
    let mut h = Harness::syn(ISS, IRS);
    h.output().unwrap();
    // In the window but not the SYN retransmitted: the peer started over.
    h.input(seg(IRS + 10, None, Flags::SYN, b""));
    assert!(h.freed);
    assert_eq!(h.ctr.tcp_challenge_acks, 0);
}

#[test]
fn syn_received_answers_an_unacceptable_segment_with_an_ack() {
    let mut h = Harness::syn(ISS, IRS);
    h.output().unwrap();
    let out = h.exchange(seg(IRS + 1 + 5000, Some(ISS + 1), Flags(0), b"x"));
    assert_eq!(out.len(), 1);
    assert!(is_pure_ack(&out[0], ISS + 1, IRS + 1));
    assert_eq!(out[0].window, 1024);
    // Nothing is owed once the handshake completes.
    let out = h.exchange(seg(IRS + 1, Some(ISS + 1), Flags(0), b""));
    assert_eq!(h.tcb.state(), State::Established);
    assert!(out.is_empty(), "{out:?}");
}

#[test]
fn a_syn_ack_sent_again_for_a_retransmitted_syn_is_not_timed() {
    // Karn: the handshake's ACK may answer either SYN-ACK.
    let mut h = Harness::syn(ISS, IRS);
    h.output().unwrap();
    h.now += 1500;
    h.exchange(seg(IRS, None, Flags::SYN, b""));
    h.now += 20;
    h.input(seg(IRS + 1, Some(ISS + 1), Flags(0), b""));
    assert_eq!(h.tcb.state(), State::Established);
    assert_eq!(h.tcb.srtt_ms(), 0, "no sample from either SYN-ACK");
    // The ACK of the first one, 200 ms after the second: not a 200 ms sample either,
    // which would make every later response time out before its ACK.
    let mut h = Harness::syn(ISS, IRS);
    h.output().unwrap();
    h.now += 1000;
    h.exchange(seg(IRS, None, Flags::SYN, b""));
    h.now += 200;
    h.input(seg(IRS + 1, Some(ISS + 1), Flags(0), b""));
    assert_eq!(h.tcb.srtt_ms(), 0);
}

// Randomized transfers through a lossy, reordering path.
#[path = "sim_tests.rs"]
mod sim;

/// FIN-WAIT-2 after our close lasts at most `fin_wait2_ms` from when our FIN was
/// acknowledged, whatever the peer sends short of its own FIN.
#[test]
fn fin_wait_2_is_not_prolonged_by_the_peer() {
    let mut h = Harness::established();
    h.tcb.close();
    h.output().unwrap();
    h.exchange(seg(IRS + 1, Some(ISS + 2), Flags(0), b""));
    assert_eq!(h.tcb.state(), State::FinWait2);
    let end = h.now.wrapping_add(h.cfg.fin_wait2_ms);
    assert_eq!(h.tcb.deadline(), Some(end));
    // The peer sends a bare ACK, then data, every 4 s.
    for k in 0..2 {
        h.now += 4_000;
        let data: &'static [u8] = if k == 0 { b"" } else { b"x" };
        h.exchange(seg(IRS + 1 + k, Some(ISS + 2), Flags(0), data));
        assert_eq!(h.tcb.deadline(), Some(end));
    }
    assert!(h.fire().is_empty());
    assert!(h.freed);
    assert_eq!((h.now, h.tcb.state()), (end, State::Closed));
}
