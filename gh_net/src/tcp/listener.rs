//! The TCP front of one core: demultiplexes segments to connections, opens connections
//! from SYNs (or from SYN cookies when the half-open table is full), answers strays with
//! RST, and runs the connections' timers.

use super::super::counters::{bump, Counters};
use super::super::qos::WaitList;
use super::super::wire::ipv4::Address;
use super::super::wire::tcp::{Flags, Incoming, SeqNumber};
use super::challenge::ChallengeLimit;
use super::conn::{Segment, Sent, State, Tcb, Tx, Verdict};
use super::cookie::CookieJar;
use super::pool::Pool;
use super::siphash::{self, Key};
use super::wheel::Wheel;
use super::{Config, Flow, Source};

/// The application above TCP (GigaHttpd: the HTTP layer).
pub trait App: Source {
    /// New in-order bytes of connection `slot`; returns how many it consumed.
    fn on_data(&mut self, slot: usize, data: &[u8]) -> usize;
    /// After input on `slot`: the place to start a response or close.
    fn on_ready(&mut self, slot: usize, tcb: &mut Tcb);
    /// Connection `slot` is gone.
    fn on_closed(&mut self, slot: usize);
    /// True if `slot` has no response waiting to be handed to TCP for requests before
    /// the one being received (what the connection's stream owes is all in TCP's hands).
    fn settled(&self, slot: usize) -> bool;
}

/// Everything the TCP layer of one core owns.
#[derive(Debug)]
pub struct Listener<'a> {
    /// Connection slots.
    pub pool: Pool<'a>,
    /// Their timers.
    pub wheel: Wheel<'a>,
    /// Tunables.
    pub cfg: Config,
    local_ip: Address,
    ports: &'a [u16],
    cookies: CookieJar,
    isn_key: Key,
    /// Challenge ACKs left this second (RFC 5961 section 7).
    challenges: ChallengeLimit,
    half_open: usize,
    max_half_open: usize,
    tx_wait: WaitList<'a>,
}

/// The source of segments that carry no data (RSTs to strays).
struct NoData;

impl Source for NoData {
    fn len(&self, _: u32) -> u32 {
        0
    }
    fn fill(&self, _: u32, _: u32, _: &mut [u8]) -> Option<u16> {
        None
    }
}

/// Sends a segment that is never sent again (a RST, a SYN-ACK with a cookie), counting it
/// in the counter `sent` names, or, with the TX ring full, in `tx_full_drops` (one with
/// no next hop is counted in `tx_no_route` by the transmit path).
fn send_once<T: Tx>(
    tx: &mut T,
    flow: &Flow,
    seg: &Segment,
    src: &impl Source,
    ctr: &mut Counters,
    sent: impl FnOnce(&mut Counters) -> &mut u64,
) {
    match tx.transmit(flow, seg, src) {
        Sent::Queued => bump(sent(ctr)),
        Sent::NoRoute => {}
        Sent::RingFull => bump(&mut ctr.tx_full_drops),
    }
}

/// `Tcb::waits` bit: parked until the TX ring has room.
const WAIT_TX: u8 = 1;
/// `Tcb::waits` bit: response data waits for the peer's window.
const WAIT_WINDOW: u8 = 2;

/// Buckets and slots the search for a TIME-WAIT slot to recycle may look at: bounded, so
/// that a pool full of other connections costs each new one the same small work.
const RECYCLE_SEARCH: usize = 512;

impl<'a> Listener<'a> {
    /// A listener for `ports` on `local_ip`; at most `max_half_open` SYN-RECEIVED slots,
    /// beyond which SYN cookies answer. Keys come from the platform's randomness;
    /// connections that meet a full TX ring wait on `tx_wait`.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        pool: Pool<'a>,
        wheel: Wheel<'a>,
        cfg: Config,
        local_ip: Address,
        ports: &'a [u16],
        cookie_key: Key,
        isn_key: Key,
        max_half_open: usize,
        tx_wait: WaitList<'a>,
    ) -> Listener<'a> {
        Listener {
            pool,
            wheel,
            cfg,
            local_ip,
            ports,
            cookies: CookieJar::new(cookie_key),
            isn_key,
            challenges: ChallengeLimit::new(),
            half_open: 0,
            max_half_open,
            tx_wait,
        }
    }

    /// Connections in SYN-RECEIVED.
    pub fn half_open(&self) -> usize {
        self.half_open
    }

    fn flow<'s>(&self, remote_ip: Address, seg: &impl Incoming<'s>) -> Flow {
        Flow {
            remote_ip,
            remote_port: seg.src_port(),
            local_ip: self.local_ip,
            local_port: seg.dst_port(),
        }
    }

    /// RFC 6528 initial sequence number: a clock plus a keyed hash of the flow.
    fn isn(&self, flow: &Flow, now_ms: u64) -> SeqNumber {
        let h = siphash::hash12(&self.isn_key, &flow.bytes()) as u32;
        SeqNumber(h.wrapping_add((now_ms as u32).wrapping_mul(250)))
    }

    /// A router's report that the segment at `seq` of a connection was too big for its
    /// next hop's `mtu` (RFC 1191): the connection's segments shrink and what it has in
    /// flight goes again. A report for no connection or for nothing in flight is
    /// dropped and counted.
    #[allow(clippy::too_many_arguments)]
    pub fn on_too_big<A: App, T: Tx>(
        &mut self,
        remote_ip: Address,
        remote_port: u16,
        local_port: u16,
        seq: SeqNumber,
        mtu: u16,
        now_ms: u64,
        app: &mut A,
        tx: &mut T,
        ctr: &mut Counters,
    ) {
        let i = self.pool.find(remote_ip, remote_port, local_port);
        let Some(i) = i.filter(|&i| self.pool.get_mut(i).is_some_and(|t| t.path_mtu(seq, mtu)))
        else {
            bump(&mut ctr.drop_icmp);
            return;
        };
        bump(&mut ctr.tcp_path_mtu_reductions);
        self.output(i, now_ms as u32, app, tx, ctr);
    }

    /// Handles one valid segment from `remote_ip`.
    pub fn on_segment<'s, A: App, T: Tx>(
        &mut self,
        remote_ip: Address,
        seg: &impl Incoming<'s>,
        now_ms: u64,
        app: &mut A,
        tx: &mut T,
        ctr: &mut Counters,
    ) {
        let now = now_ms as u32;
        let flags = seg.flags();
        // The first sequence number of a connection that replaces one in TIME-WAIT.
        let mut after_time_wait = None;
        if let Some(i) = self.pool.find(remote_ip, seg.src_port(), seg.dst_port()) {
            // A new SYN beyond all that an old incarnation in TIME-WAIT received starts a
            // new connection at once (RFC 9293 section 3.10.7.4, RFC 6191) instead of
            // making the peer reset and retry; not while SYNs are answered with cookies,
            // whose sequence numbers could not lie beyond the old incarnation's (RFC 1122
            // section 4.2.2.13): TIME-WAIT then answers it as any other SYN.
            let reopens = flags.contains(Flags::SYN)
                && !flags.contains(Flags::RST)
                && seg.ack().is_none()
                && self.half_open < self.max_half_open
                && self
                    .pool
                    .get(i)
                    .is_some_and(|t| t.state() == State::TimeWait && t.rcv_nxt().lt(seg.seq()));
            if !reopens {
                self.on_connection(i, seg, now, app, tx, ctr);
                return;
            }
            // Its first sequence number lies beyond every one the old incarnation used
            // and the peer's window of them (RFC 1122 section 4.2.2.13; Linux's choice),
            // so none of the old segments can be taken for the new connection's.
            after_time_wait = self
                .pool
                .get(i)
                .map(|t| t.snd_nxt().wrapping_add(u32::from(u16::MAX) + 2));
            bump(&mut ctr.tcp_closed);
            self.free(i, app);
        }
        // Built only here: a segment of a known connection does without it.
        let flow = self.flow(remote_ip, seg);
        if flags.contains(Flags::RST) {
            // Never answered (RFC 9293 section 3.10.7.1).
            bump(&mut ctr.drop_tcp_unexpected);
            return;
        }
        if !self.ports.contains(&flow.local_port) {
            bump(&mut ctr.tcp_no_listener);
            self.reset(&flow, seg, tx, ctr);
            return;
        }
        if flags.contains(Flags::SYN) && seg.ack().is_none() {
            if self.half_open >= self.max_half_open || self.pool.used() >= self.pool.capacity() {
                let mss = seg.mss().unwrap_or(536);
                let cookie = self.cookies.make(&flow, seg.seq(), mss, now_ms);
                let syn_ack = Segment {
                    seq: cookie,
                    ack: Some(seg.seq().wrapping_add(1)),
                    flags: Flags::SYN,
                    window: self.cfg.initial_window,
                    mss: Some(self.cfg.mss),
                    data: None,
                };
                send_once(tx, &flow, &syn_ack, &*app, ctr, |c| {
                    &mut c.tcp_syn_cookies_sent
                });
                return;
            }
            let iss = after_time_wait.unwrap_or_else(|| self.isn(&flow, now_ms));
            let tcb = Tcb::syn_received(&flow, seg, iss, &self.cfg);
            if let Some(i) = self.pool.insert(tcb) {
                self.half_open += 1;
                self.output(i, now, app, tx, ctr);
            }
            return;
        }
        if flags.contains(Flags::SYN) {
            // A SYN that acknowledges something: any ACK is bad in LISTEN (RFC 9293
            // section 3.10.7.2).
            self.reset(&flow, seg, tx, ctr);
            return;
        }
        if let Some(ack) = seg.ack() {
            if !self.cookies.active(now_ms) {
                // No cookie is out: a stray (a late duplicate, or for a connection gone).
                self.reset(&flow, seg, tx, ctr);
                return;
            }
            let irs = seg.seq().wrapping_add(u32::MAX);
            let cookie = ack.wrapping_add(u32::MAX);
            match self.cookies.check(&flow, irs, cookie, now_ms) {
                Some(mss) => {
                    if self.pool.used() >= self.pool.capacity() {
                        self.recycle_time_wait(app, ctr);
                    }
                    let tcb = Tcb::from_cookie(&flow, seg, mss, &self.cfg, now);
                    match self.pool.insert(tcb) {
                        Some(i) => {
                            bump(&mut ctr.tcp_syn_cookies_accepted);
                            bump(&mut ctr.tcp_opened);
                            self.wheel.rearm(self.pool.slots_mut(), i);
                            self.on_connection(i, seg, now, app, tx, ctr);
                        }
                        None => {
                            // Every slot is taken. The handshake's state lives in the
                            // peer (the cookie), so the connection waits there at no cost
                            // to us: unacknowledged, the peer sends again and is let in
                            // once a slot is free, or refused when its cookie expires.
                            bump(&mut ctr.tcp_pool_full);
                            bump(&mut ctr.qos_parked_pool);
                        }
                    }
                }
                None => {
                    bump(&mut ctr.tcp_syn_cookies_rejected);
                    // Reset, as any segment for no connection: among these are the
                    // segments of connections refused for want of TX room, which count
                    // on it (`qos_refused_rst`). A later segment of a first flight
                    // whose first waits in the peer for a slot is reset too, as Linux
                    // does; the peer then tries afresh.
                    self.reset(&flow, seg, tx, ctr);
                }
            }
        } else {
            // None of SYN, ACK and RST: dropped (RFC 9293 section 3.10.7.2).
            bump(&mut ctr.drop_tcp_unexpected);
        }
    }

    /// RST for a segment that belongs to no connection (RFC 9293 section 3.10.7.1).
    fn reset<'s, T: Tx>(
        &self,
        flow: &Flow,
        seg: &impl Incoming<'s>,
        tx: &mut T,
        ctr: &mut Counters,
    ) {
        let rst = match seg.ack() {
            Some(ack) => Segment {
                seq: ack,
                ack: None,
                flags: Flags::RST,
                window: 0,
                mss: None,
                data: None,
            },
            None => Segment {
                seq: SeqNumber(0),
                ack: Some(seg.seq().wrapping_add(seg.seq_len())),
                flags: Flags::RST,
                window: 0,
                mss: None,
                data: None,
            },
        };
        send_once(tx, flow, &rst, &NoData, ctr, |c| &mut c.tcp_resets_sent);
    }

    fn on_connection<'s, A: App, T: Tx>(
        &mut self,
        i: usize,
        seg: &impl Incoming<'s>,
        now: u32,
        app: &mut A,
        tx: &mut T,
        ctr: &mut Counters,
    ) {
        let (cfg, local_ip) = (self.cfg, self.local_ip);
        let Some(tcb) = self.pool.get_mut(i) else {
            return;
        };
        let was_half_open = tcb.state() == State::SynReceived;
        tx.serving(tcb.stream_end().filter(|_| app.settled(i)));
        let input = tcb.on_segment(seg, now, &cfg, ctr);
        if input.challenge && !self.challenges.allow(now, &self.isn_key) {
            tcb.hold_ack();
            bump(&mut ctr.tcp_challenge_acks_limited);
        }
        if let Some(reply) = input.reply {
            send_once(tx, &tcb.flow(local_ip), &reply, &*app, ctr, |c| {
                &mut c.tcp_resets_sent
            });
        }
        if was_half_open && (input.verdict == Verdict::Free || tcb.state() != State::SynReceived) {
            self.half_open = self.half_open.saturating_sub(1);
        }
        if input.verdict == Verdict::Free {
            self.free(i, app);
            return;
        }
        if !input.data.is_empty() {
            // What the segment acknowledged may free the application to take its data.
            app.on_ready(i, tcb);
        }
        // Pipelined requests: after each complete one the application may start its
        // response, then it goes on with the rest of the segment.
        let mut taken = 0;
        while let Some(rest) = input.data.get(taken..).filter(|r| !r.is_empty()) {
            let n = app.on_data(i, rest);
            if n == 0 {
                break;
            }
            taken += n;
            if taken < input.data.len() {
                app.on_ready(i, tcb);
            }
        }
        tcb.consume(&input, taken, now, &cfg);
        app.on_ready(i, tcb);
        if tcb.waits == 0 && tcb.nothing_to_send() {
            // `on_segment` and `consume` have chosen the timer; it only needs filing.
            self.wheel.refile(self.pool.slots_mut(), i);
            return;
        }
        self.output(i, now, app, tx, ctr);
    }

    /// Every slot is taken: ends the connection in TIME-WAIT whose timer fires first, if
    /// one is found within a bounded search, so that a new connection takes its slot at
    /// once instead of waiting up to the TIME-WAIT's length (as Linux does past
    /// `tcp_max_tw_buckets`). A late duplicate of the old connection then meets no
    /// connection and is answered with a RST.
    fn recycle_time_wait<A: App>(&mut self, app: &mut A, ctr: &mut Counters) {
        let old = self
            .wheel
            .first_due(self.pool.slots(), RECYCLE_SEARCH, |t| {
                t.state() == State::TimeWait
            });
        if let Some(i) = old {
            bump(&mut ctr.tcp_time_wait_recycled);
            bump(&mut ctr.tcp_closed);
            self.free(i, app);
        }
    }

    fn free<A: App>(&mut self, i: usize, app: &mut A) {
        if self.pool.get(i).is_some_and(|t| t.waits & WAIT_TX != 0) {
            // Ended while waiting for TX room: its place goes to the others.
            self.tx_wait.remove(i as u32);
        }
        self.pool.release(i, &mut self.wheel);
        app.on_closed(i);
    }

    /// Sends what connection `i` has to send and re-files its timer; false if the TX
    /// ring was full (the connection then waits on the TX wait list, or was refused).
    pub fn output<A: App, T: Tx>(
        &mut self,
        i: usize,
        now: u32,
        app: &mut A,
        tx: &mut T,
        ctr: &mut Counters,
    ) -> bool {
        let (cfg, local_ip) = (self.cfg, self.local_ip);
        let Some(tcb) = self.pool.get_mut(i) else {
            return true;
        };
        let was_half_open = tcb.state() == State::SynReceived;
        match tcb.output(now, &cfg, local_ip, app, tx, ctr) {
            Ok(Verdict::Free) => {
                if was_half_open {
                    self.half_open = self.half_open.saturating_sub(1);
                }
                self.free(i, app);
                true
            }
            Ok(Verdict::Keep) => {
                // A closed peer window parks the response on the persist timer, which
                // probes until the window opens (bounded by the retry limit).
                if tcb.window_blocked() {
                    if tcb.waits & WAIT_WINDOW == 0 {
                        tcb.waits |= WAIT_WINDOW;
                        bump(&mut ctr.qos_parked_window);
                    }
                } else {
                    tcb.waits &= !WAIT_WINDOW;
                }
                if tcb.waits & WAIT_TX != 0 {
                    // Its output went between ticks (a segment of its own found room):
                    // it waits no more, and leaves its place to a newcomer.
                    tcb.waits &= !WAIT_TX;
                    self.tx_wait.leave(i as u32);
                }
                self.wheel.refile(self.pool.slots_mut(), i);
                true
            }
            Err(_) => {
                // Nothing was lost: the connection waits for TX room, unless too many wait.
                // One already waiting keeps its place (see `resume_tx`).
                if tcb.waits & WAIT_TX == 0 {
                    if self.tx_wait.park(i as u32).is_err() {
                        bump(&mut ctr.qos_refused_rst);
                        if was_half_open {
                            self.half_open = self.half_open.saturating_sub(1);
                        }
                        // No RST can leave a full ring now; the peer's next segment finds
                        // no connection and gets one.
                        self.free(i, app);
                        return false;
                    }
                    tcb.waits |= WAIT_TX;
                    bump(&mut ctr.qos_parked_tx);
                }
                self.wheel.refile(self.pool.slots_mut(), i);
                false
            }
        }
    }

    /// Connections waiting for TX room.
    pub fn tx_waiting(&self) -> usize {
        self.tx_wait.len()
    }

    /// The TX ring has room again: resumes waiting connections in order until it fills.
    pub fn resume_tx<A: App, T: Tx>(
        &mut self,
        now_ms: u64,
        app: &mut A,
        tx: &mut T,
        ctr: &mut Counters,
    ) {
        for _ in 0..self.tx_wait.len() {
            let Some(slot) = self.tx_wait.first() else {
                return;
            };
            // Sent or ended, it is off the list (`output`, `free`); with the ring still
            // full it keeps its place at the head, parked and counted once.
            if !self.output(slot as usize, now_ms as u32, app, tx, ctr) {
                return;
            }
        }
    }

    /// Runs every timer due at `now_ms`.
    pub fn on_timers<A: App, T: Tx>(
        &mut self,
        now_ms: u64,
        app: &mut A,
        tx: &mut T,
        ctr: &mut Counters,
    ) {
        let now = now_ms as u32;
        self.wheel.advance(now_ms);
        let cfg = self.cfg;
        // Each slot fires at most once per call; the bound keeps a bad clock from looping.
        for _ in 0..self.pool.capacity().saturating_mul(2).saturating_add(1) {
            let Some(i) = self.wheel.pop_expired(self.pool.slots_mut()) else {
                return;
            };
            let Some(tcb) = self.pool.get_mut(i) else {
                continue;
            };
            let was_half_open = tcb.state() == State::SynReceived;
            if tcb.on_timer(now, &cfg, ctr) == Verdict::Free {
                if was_half_open {
                    self.half_open = self.half_open.saturating_sub(1);
                }
                self.free(i, app);
                continue;
            }
            self.output(i, now, app, tx, ctr);
        }
    }
}

// Randomized runs, the listener's books checked after every event.
#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
#[path = "listener_sim_tests.rs"]
mod sim;

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    extern crate std;
    use super::super::super::wire::tcp::{Options, Repr};
    use super::super::challenge;
    use super::super::wheel::Link;
    use super::*;
    use std::vec::Vec;

    const LOCAL: Address = Address([192, 0, 2, 1]);
    const PEER: Address = Address([198, 51, 100, 7]);

    /// Answers each request with a 5-byte response (handle = length), then closes.
    #[derive(Default)]
    struct OneShot {
        got: Vec<u8>,
        answered: bool,
        closed: usize,
    }

    impl Source for OneShot {
        fn len(&self, handle: u32) -> u32 {
            handle
        }
        fn fill(&self, _: u32, _: u32, out: &mut [u8]) -> Option<u16> {
            out.fill(b'x');
            None
        }
    }

    impl App for OneShot {
        fn on_data(&mut self, _: usize, data: &[u8]) -> usize {
            self.got.extend_from_slice(data);
            data.len()
        }
        fn on_ready(&mut self, _: usize, tcb: &mut Tcb) {
            if !self.answered && self.got.ends_with(b"\r\n\r\n") && tcb.send(5, &*self) {
                self.answered = true;
                tcb.close();
            }
        }
        fn on_closed(&mut self, _: usize) {
            self.closed += 1;
        }
        fn settled(&self, _: usize) -> bool {
            true
        }
    }

    #[derive(Default)]
    struct Wire(Vec<Segment>, bool);

    /// A test's peer side: what the application saw, what went on the wire, and the
    /// counters.
    #[derive(Default)]
    struct Side {
        app: OneShot,
        wire: Wire,
        ctr: Counters,
    }

    impl Side {
        /// `seg` from `from`, at `now`.
        fn send(&mut self, l: &mut Listener<'_>, from: Address, seg: &Repr<'_>, now: u64) {
            l.on_segment(from, seg, now, &mut self.app, &mut self.wire, &mut self.ctr);
        }

        /// A connection from `PEER` (port 80, first sequence number 100) that asked for
        /// a page and closed after its answer (5 bytes and our FIN): it is left in
        /// TIME-WAIT at 1020 ms. Returns our first sequence number and the peer's next;
        /// the wire is left empty.
        fn leave_in_time_wait(&mut self, l: &mut Listener<'_>) -> (u32, u32) {
            self.send(l, PEER, &seg(100, None, Flags::SYN, 80, b""), 1000);
            let iss = self.wire.0.pop().unwrap().seq.0;
            let req: &'static [u8] = b"GET / HTTP/1.1\r\nHost: h\r\n\r\n";
            self.send(l, PEER, &seg(101, Some(iss + 1), Flags::PSH, 80, req), 1010);
            let rcv = 101 + req.len() as u32;
            self.send(l, PEER, &seg(rcv, Some(iss + 7), Flags::FIN, 80, b""), 1020);
            self.wire.0.clear();
            (iss, rcv)
        }
    }
    impl Tx for Wire {
        fn transmit(&mut self, flow: &Flow, seg: &Segment, _: &impl Source) -> Sent {
            assert_eq!(flow.local_ip, LOCAL);
            if self.1 {
                return Sent::RingFull;
            }
            self.0.push(*seg);
            Sent::Queued
        }
    }

    #[test]
    fn full_tx_ring_parks_then_refuses_past_the_bound() {
        let mut mem = Mem::new();
        let mut l = mem.listener(4);
        let mut s = Side::default();
        s.wire.1 = true;
        s.send(&mut l, PEER, &seg(100, None, Flags::SYN, 80, b""), 0);
        assert_eq!((l.tx_waiting(), s.ctr.qos_parked_tx), (1, 1));
        // Another SYN meets the full ring too, but the wait list (bound 1) is full.
        let other = Address([198, 51, 100, 8]);
        s.send(&mut l, other, &seg(300, None, Flags::SYN, 80, b""), 0);
        assert_eq!(
            (s.ctr.qos_refused_rst, l.pool.used(), l.half_open()),
            (1, 1, 1)
        );
        // Room again: the parked connection's SYN-ACK goes out.
        s.wire.1 = false;
        l.resume_tx(5, &mut s.app, &mut s.wire, &mut s.ctr);
        assert_eq!(l.tx_waiting(), 0);
        assert_eq!(s.wire.0.len(), 1);
        assert_eq!(s.wire.0[0].flags, Flags::SYN);
        assert_eq!(s.wire.0[0].ack, Some(SeqNumber(101)));
    }

    #[test]
    fn waiters_keep_their_order_are_counted_once_and_leave_when_they_end() {
        let mut mem = Mem::new();
        mem.wait_bound = 2;
        let mut l = mem.listener(4);
        let mut s = Side::default();
        s.wire.1 = true;
        let (first, second, third) = (
            Address([198, 51, 100, 1]),
            Address([198, 51, 100, 2]),
            Address([198, 51, 100, 3]),
        );
        for peer in [first, second] {
            let syn = seg(100, None, Flags::SYN, 80, b"");
            s.send(&mut l, peer, &syn, 0);
        }
        // Ticks with the ring still full: nobody moves, nobody is counted again.
        for now in [10, 20, 30] {
            l.resume_tx(now, &mut s.app, &mut s.wire, &mut s.ctr);
        }
        assert_eq!((l.tx_waiting(), s.ctr.qos_parked_tx), (2, 2));
        // The first waiter's peer gives up: it leaves the list, and a newcomer may wait.
        s.send(&mut l, first, &seg(101, None, Flags::RST, 80, b""), 40);
        assert_eq!((l.tx_waiting(), l.half_open()), (1, 1));
        let syn = seg(100, None, Flags::SYN, 80, b"");
        s.send(&mut l, third, &syn, 50);
        assert_eq!((l.tx_waiting(), s.ctr.qos_refused_rst), (2, 0));
        // Room again: the SYN-ACKs leave in the order their connections came.
        s.wire.1 = false;
        l.resume_tx(60, &mut s.app, &mut s.wire, &mut s.ctr);
        assert_eq!(l.tx_waiting(), 0);
        let sent: Vec<u32> = s.wire.0.iter().map(|s| s.ack.unwrap().0).collect();
        assert_eq!(sent, [101, 101]);
        assert_eq!(s.ctr.qos_parked_tx, 3);
    }

    fn seg(
        seq: u32,
        ack: Option<u32>,
        flags: Flags,
        dst_port: u16,
        payload: &'static [u8],
    ) -> Repr<'static> {
        Repr {
            src_port: 50000,
            dst_port,
            seq: SeqNumber(seq),
            ack: ack.map(SeqNumber),
            flags,
            window: 4096,
            options: Options {
                mss: flags.contains(Flags::SYN).then_some(1460),
                ..Options::default()
            },
            payload,
        }
    }

    struct Mem {
        slots: [Tcb; 4],
        table: [u32; 8],
        heads: [Link; 64],
        waits: [u32; 2],
        /// How many of `waits` the TX wait list may use.
        wait_bound: usize,
    }

    impl Mem {
        fn new() -> Mem {
            Mem {
                slots: [Tcb::EMPTY; 4],
                table: [0; 8],
                heads: [0; 64],
                waits: [0; 2],
                wait_bound: 1,
            }
        }
        fn listener(&mut self, max_half_open: usize) -> Listener<'_> {
            let pool = Pool::new(&mut self.slots, &mut self.table, Key([1, 1])).unwrap();
            let wheel = Wheel::new(&mut self.heads, 10, 0).unwrap();
            let wait = WaitList::new(&mut self.waits[..self.wait_bound]);
            Listener::new(
                pool,
                wheel,
                Config::default(),
                LOCAL,
                &[80],
                Key([2, 2]),
                Key([3, 3]),
                max_half_open,
                wait,
            )
        }
    }

    /// RFC 6298 section 5.7: a handshake whose SYN-ACK timed out starts its data with a
    /// timeout of 3 s, not the initial 1 s (Karn's rule leaves it without a sample). One
    /// that did not time out has its handshake's sample: 1100 + 4 * 550.
    #[test]
    fn data_after_a_handshake_timeout_waits_three_seconds() {
        for (retried, deadline) in [(false, 1100 + 3300), (true, 1100 + 3000)] {
            let mut mem = Mem::new();
            let mut l = mem.listener(2);
            let mut s = Side::default();
            s.send(&mut l, PEER, &seg(100, None, Flags::SYN, 80, b""), 0);
            let iss = s.wire.0[0].seq.0;
            if retried {
                l.on_timers(1000, &mut s.app, &mut s.wire, &mut s.ctr);
                assert_eq!(s.wire.0.len(), 2, "the SYN-ACK again");
            }
            let req: &'static [u8] = b"GET / HTTP/1.1\r\nHost: h\r\n\r\n";
            let data = seg(101, Some(iss + 1), Flags::PSH, 80, req);
            s.send(&mut l, PEER, &data, 1100);
            assert!(s.wire.0.last().unwrap().data.is_some(), "the response");
            assert_eq!(
                l.pool.get(0).unwrap().deadline(),
                Some(deadline),
                "retried: {retried}"
            );
        }
    }

    /// RFC 5961 section 7: forged in-window RSTs and SYNs get challenge ACKs up to the
    /// core's budget for the second, then none, and again in the next second.
    #[test]
    fn challenge_acks_are_limited_per_second() {
        let mut mem = Mem::new();
        let mut l = mem.listener(2);
        let mut s = Side::default();
        s.send(&mut l, PEER, &seg(100, None, Flags::SYN, 80, b""), 0);
        let iss = s.wire.0[0].seq.0;
        s.send(
            &mut l,
            PEER,
            &seg(101, Some(iss + 1), Flags(0), 80, b""),
            10,
        );
        let per_second = challenge::PER_SECOND;
        for second in [1u32, 2] {
            s.wire.0.clear();
            for k in 0..2 * per_second {
                let forged = if k % 2 == 0 {
                    seg(102, None, Flags::RST, 80, b"")
                } else {
                    seg(103, None, Flags::SYN, 80, b"")
                };
                let now = second * 1000 + k % 1000;
                l.on_segment(
                    PEER,
                    &forged,
                    u64::from(now),
                    &mut s.app,
                    &mut s.wire,
                    &mut s.ctr,
                );
            }
            let sent = s.wire.0.len() as u32;
            assert!(
                (per_second / 2..per_second * 3 / 2).contains(&sent),
                "{sent}"
            );
            assert!(s
                .wire
                .0
                .iter()
                .all(|s| s.flags == Flags(0) && s.ack == Some(SeqNumber(101))));
            assert_eq!(l.pool.get(0).unwrap().state(), State::Established);
        }
        assert_eq!(s.ctr.tcp_challenge_acks, u64::from(4 * per_second));
        let sent = s.ctr.tcp_challenge_acks - s.ctr.tcp_challenge_acks_limited;
        assert!(sent >= u64::from(per_second) && sent < u64::from(3 * per_second));
    }

    #[test]
    fn whole_short_connection() {
        let mut mem = Mem::new();
        let mut l = mem.listener(2);
        let mut s = Side::default();
        s.send(&mut l, PEER, &seg(100, None, Flags::SYN, 80, b""), 1000);
        let sa = s.wire.0.pop().unwrap();
        assert_eq!(sa.flags, Flags::SYN);
        assert_eq!(l.half_open(), 1);
        let iss = sa.seq.0;
        let req: &'static [u8] = b"GET / HTTP/1.1\r\nHost: h\r\n\r\n";
        s.send(
            &mut l,
            PEER,
            &seg(101, Some(iss + 1), Flags::PSH, 80, req),
            1010,
        );
        assert_eq!(l.half_open(), 0);
        assert_eq!(s.app.got, req);
        let out = core::mem::take(&mut s.wire.0);
        assert_eq!(out[0].data, Some((5, 0, 5)));
        assert_eq!(out[0].ack, Some(SeqNumber(101 + req.len() as u32)));
        // The FIN rides on the response's last segment.
        assert_eq!(out[0].flags, Flags::PSH.with(Flags::FIN));
        assert_eq!(out.len(), 1);
        let rcv = 101 + req.len() as u32;
        s.send(
            &mut l,
            PEER,
            &seg(rcv, Some(iss + 7), Flags::FIN, 80, b""),
            1020,
        );
        assert_eq!(l.pool.used(), 1, "TIME-WAIT");
        l.on_timers(1020 + 999, &mut s.app, &mut s.wire, &mut s.ctr);
        assert_eq!(l.pool.used(), 1);
        l.on_timers(1020 + 1000, &mut s.app, &mut s.wire, &mut s.ctr);
        assert_eq!(l.pool.used(), 0);
        assert_eq!(s.app.closed, 1);
        assert_eq!((s.ctr.tcp_opened, s.ctr.tcp_resets_sent), (1, 0));
    }

    #[test]
    fn a_new_syn_reopens_a_connection_in_time_wait() {
        let mut mem = Mem::new();
        let mut l = mem.listener(2);
        let mut s = Side::default();
        let (iss, rcv) = s.leave_in_time_wait(&mut l);
        // An old duplicate SYN is only acknowledged; a newer one opens a new connection.
        s.send(&mut l, PEER, &seg(100, None, Flags::SYN, 80, b""), 1030);
        assert_eq!(s.wire.0.pop().unwrap().flags, Flags(0));
        // A SYN with RST set reopens nothing.
        let syn_rst = seg(rcv + 1000, None, Flags::SYN.with(Flags::RST), 80, b"");
        s.send(&mut l, PEER, &syn_rst, 1035);
        assert_eq!((l.pool.used(), s.app.closed), (1, 0));
        let again = seg(rcv + 1000, None, Flags::SYN, 80, b"");
        s.send(&mut l, PEER, &again, 1040);
        let sa = s.wire.0.pop().unwrap();
        assert_eq!(sa.flags, Flags::SYN);
        assert_eq!(sa.ack, Some(SeqNumber(rcv + 1001)));
        // Its sequence numbers start beyond the old connection's (which ended at iss + 7)
        // and the peer's window of them.
        assert_eq!(sa.seq, SeqNumber(iss.wrapping_add(7 + 65537)));
        assert_eq!(
            (
                l.pool.used(),
                s.app.closed,
                s.ctr.tcp_opened,
                s.ctr.tcp_closed
            ),
            (1, 1, 1, 1)
        );
    }

    /// While SYNs are answered with cookies, a connection in TIME-WAIT is not reopened:
    /// a cookie's sequence numbers could not start beyond the old incarnation's.
    #[test]
    fn time_wait_is_not_reopened_while_cookies_are_out() {
        let mut mem = Mem::new();
        let mut l = mem.listener(1);
        let mut s = Side::default();
        let (iss, rcv) = s.leave_in_time_wait(&mut l);
        // Another peer's handshake fills the half-open table.
        let other = Address([198, 51, 100, 8]);
        s.send(&mut l, other, &seg(5, None, Flags::SYN, 80, b""), 1025);
        s.wire.0.clear();
        s.send(
            &mut l,
            PEER,
            &seg(rcv + 1000, None, Flags::SYN, 80, b""),
            1030,
        );
        let answer = s.wire.0.pop().unwrap();
        assert_eq!(answer.flags, Flags(0), "TIME-WAIT's ACK, not a SYN-ACK");
        assert_eq!(answer.seq, SeqNumber(iss + 7));
        assert_eq!((l.pool.used(), s.ctr.tcp_syn_cookies_sent), (2, 0));
    }

    #[test]
    fn closed_port_gets_rst() {
        let mut mem = Mem::new();
        let mut l = mem.listener(2);
        let mut s = Side::default();
        s.send(&mut l, PEER, &seg(100, None, Flags::SYN, 81, b""), 0);
        let rst = s.wire.0.pop().unwrap();
        assert_eq!(rst.flags, Flags::RST);
        assert_eq!(rst.ack, Some(SeqNumber(101)));
        s.send(&mut l, PEER, &seg(100, Some(777), Flags(0), 81, b"x"), 0);
        let rst = s.wire.0.pop().unwrap();
        assert_eq!((rst.seq, rst.ack), (SeqNumber(777), None));
        s.send(&mut l, PEER, &seg(100, None, Flags::RST, 81, b""), 0);
        assert!(s.wire.0.is_empty(), "never RST a RST");
        assert_eq!(s.ctr.tcp_no_listener, 2);
        // A RST the full TX ring cannot take is not retried, but counted.
        s.wire.1 = true;
        s.send(&mut l, PEER, &seg(100, None, Flags::SYN, 81, b""), 0);
        assert_eq!((s.ctr.tcp_resets_sent, s.ctr.tx_full_drops), (2, 1));
    }

    #[test]
    fn a_syn_that_acknowledges_something_gets_rst() {
        let mut mem = Mem::new();
        let mut l = mem.listener(2);
        let mut s = Side::default();
        let syn_ack = seg(100, Some(777), Flags::SYN, 80, b"");
        s.send(&mut l, PEER, &syn_ack, 0);
        let rst = s.wire.0.pop().unwrap();
        assert_eq!(
            (rst.flags, rst.seq, rst.ack),
            (Flags::RST, SeqNumber(777), None)
        );
        assert_eq!(l.pool.used(), 0);
    }

    #[test]
    fn an_ack_for_no_connection_gets_rst_and_is_no_bad_cookie_while_none_is_out() {
        let mut mem = Mem::new();
        let mut l = mem.listener(2);
        let mut s = Side::default();
        let stray = seg(100, Some(777), Flags(0), 80, b"");
        s.send(&mut l, PEER, &stray, 1000);
        let rst = s.wire.0.pop().unwrap();
        assert_eq!((rst.flags, rst.seq), (Flags::RST, SeqNumber(777)));
        assert_eq!(
            (s.ctr.tcp_resets_sent, s.ctr.tcp_syn_cookies_rejected),
            (1, 0)
        );
        assert_eq!(l.pool.used(), 0);
    }

    #[test]
    fn syn_cookies_when_half_open_table_is_full() {
        let mut mem = Mem::new();
        let mut l = mem.listener(0);
        let mut s = Side::default();
        s.send(&mut l, PEER, &seg(100, None, Flags::SYN, 80, b""), 5000);
        assert_eq!(l.pool.used(), 0, "no state for a cookie SYN");
        let sa = s.wire.0.pop().unwrap();
        assert_eq!(s.ctr.tcp_syn_cookies_sent, 1);
        // A forged ACK is refused.
        s.send(
            &mut l,
            PEER,
            &seg(101, Some(sa.seq.0 + 2), Flags(0), 80, b""),
            5010,
        );
        assert_eq!(s.wire.0.pop().unwrap().flags, Flags::RST);
        assert_eq!(s.ctr.tcp_syn_cookies_rejected, 1);
        // The genuine one opens the connection, and its data is delivered.
        let req: &'static [u8] = b"GET / HTTP/1.0\r\n\r\n";
        s.send(
            &mut l,
            PEER,
            &seg(101, Some(sa.seq.0 + 1), Flags::PSH, 80, req),
            5010,
        );
        assert_eq!(s.ctr.tcp_syn_cookies_accepted, 1);
        assert_eq!(l.pool.used(), 1);
        assert_eq!(s.app.got, req);
        assert_eq!(s.wire.0[0].data, Some((5, 0, 5)));
        assert_eq!(s.wire.0[0].seq, SeqNumber(sa.seq.0 + 1));
    }

    /// Takes all four slots with half-open connections from ports 1 to 4.
    fn fill_pool(l: &mut Listener<'_>, s: &mut Side) {
        for port in 1..=4 {
            let syn = Repr {
                src_port: port,
                ..seg(100, None, Flags::SYN, 80, b"")
            };
            s.send(l, PEER, &syn, 0);
        }
        assert_eq!(l.pool.used(), 4);
    }

    /// A SYN to the full pool, answered with a cookie; returns the segment that completes
    /// the handshake and carries a request.
    fn request_with_cookie(l: &mut Listener<'_>, s: &mut Side) -> Repr<'static> {
        s.wire.0.clear();
        s.send(l, PEER, &seg(100, None, Flags::SYN, 80, b""), 10);
        let sa = s.wire.0.pop().unwrap();
        assert_eq!(
            s.ctr.tcp_syn_cookies_sent, 1,
            "a full pool answers with a cookie"
        );
        seg(
            101,
            Some(sa.seq.0 + 1),
            Flags::PSH,
            80,
            b"GET / HTTP/1.0\r\n\r\n",
        )
    }

    /// A connection refused for want of TX room is reset at the peer's next segment, also
    /// while SYN cookies are out: its data carries no cookie and fails the check.
    #[test]
    fn a_refused_connection_is_reset_while_cookies_are_out() {
        let mut mem = Mem::new();
        mem.wait_bound = 0;
        let mut l = mem.listener(1);
        let mut s = Side::default();
        s.send(&mut l, PEER, &seg(100, None, Flags::SYN, 80, b""), 0);
        let iss = s.wire.0.pop().unwrap().seq.0;
        s.send(&mut l, PEER, &seg(101, Some(iss + 1), Flags(0), 80, b""), 5);
        // Another peer's handshake fills the half-open table; a third gets a cookie.
        s.send(
            &mut l,
            Address([198, 51, 100, 8]),
            &seg(5, None, Flags::SYN, 80, b""),
            6,
        );
        s.send(
            &mut l,
            Address([198, 51, 100, 9]),
            &seg(5, None, Flags::SYN, 80, b""),
            7,
        );
        assert_eq!(s.ctr.tcp_syn_cookies_sent, 1);
        // The connection is refused for want of TX room (the wait list holds none).
        s.wire.1 = true;
        let req = seg(
            101,
            Some(iss + 1),
            Flags::PSH,
            80,
            b"GET / HTTP/1.1\r\n\r\n",
        );
        s.send(&mut l, PEER, &req, 20);
        assert_eq!(s.ctr.qos_refused_rst, 1);
        s.wire.1 = false;
        s.wire.0.clear();
        s.send(&mut l, PEER, &req, 300);
        assert_eq!(s.wire.0.pop().map(|r| r.flags), Some(Flags::RST));
    }

    /// A waiter whose own segment found TX room between ticks waits no more: its place
    /// goes to the next connection that meets a full ring, which is parked, not refused.
    #[test]
    fn a_waiter_that_has_sent_leaves_its_place() {
        let mut mem = Mem::new();
        let mut l = mem.listener(4);
        let mut s = Side::default();
        let a = seg(100, None, Flags::SYN, 80, b"");
        s.wire.1 = true;
        s.send(&mut l, PEER, &a, 0);
        assert_eq!(l.tx_waiting(), 1);
        // Its SYN sent again finds room: the SYN-ACK leaves, the first to.
        s.wire.1 = false;
        s.send(&mut l, PEER, &a, 3);
        assert_eq!((s.wire.0.len(), l.tx_waiting()), (1, 0));
        assert_eq!(s.ctr.tcp_retransmits, 0, "no SYN-ACK had left before");
        // Sent again for the SYN sent again twice while the ring is full: once.
        s.wire.1 = true;
        s.send(&mut l, PEER, &a, 4);
        s.send(&mut l, PEER, &a, 4);
        assert_eq!(s.ctr.tcp_retransmits, 1);
        s.wire.1 = false;
        l.resume_tx(4, &mut s.app, &mut s.wire, &mut s.ctr);
        assert_eq!((s.wire.0.len(), l.tx_waiting()), (2, 0));
        s.wire.1 = true;
        let b = Repr {
            src_port: 2,
            ..seg(500, None, Flags::SYN, 80, b"")
        };
        s.send(&mut l, PEER, &b, 5);
        assert_eq!(
            (s.ctr.qos_refused_rst, l.pool.used(), l.tx_waiting()),
            (0, 2, 1)
        );
    }

    #[test]
    fn a_later_segment_of_a_parked_first_flight_is_reset() {
        let mut mem = Mem::new();
        let mut l = mem.listener(4);
        let mut s = Side::default();
        fill_pool(&mut l, &mut s);
        let open = request_with_cookie(&mut l, &mut s);
        s.send(&mut l, PEER, &open, 20);
        assert_eq!(s.ctr.qos_parked_pool, 1);
        let next = seg(
            open.seq.0 + open.payload.len() as u32,
            open.ack.map(|a| a.0),
            Flags::PSH,
            80,
            b"more",
        );
        s.send(&mut l, PEER, &next, 21);
        assert_eq!(s.wire.0.pop().map(|r| r.flags), Some(Flags::RST));
        assert_eq!(
            (s.ctr.tcp_syn_cookies_rejected, s.ctr.tcp_resets_sent),
            (1, 1)
        );
    }

    #[test]
    fn full_pool_parks_the_handshake_in_the_peer_until_a_slot_frees() {
        let mut mem = Mem::new();
        let mut l = mem.listener(4);
        let mut s = Side::default();
        fill_pool(&mut l, &mut s);
        let open = request_with_cookie(&mut l, &mut s);
        let req = open.payload;
        s.send(&mut l, PEER, &open, 20);
        assert!(
            s.wire.0.is_empty(),
            "no RST, no ACK: the peer will send again"
        );
        assert_eq!((s.ctr.qos_parked_pool, l.pool.used()), (1, 4));
        assert!(s.app.got.is_empty());
        // A slot frees (its peer resets), and the peer's retransmission gets in.
        let rst = Repr {
            src_port: 1,
            ..seg(101, None, Flags::RST, 80, b"")
        };
        s.send(&mut l, PEER, &rst, 30);
        assert_eq!(l.pool.used(), 3);
        s.send(&mut l, PEER, &open, 1000);
        assert_eq!(l.pool.used(), 4);
        assert_eq!(s.app.got, req);
        assert_eq!(s.ctr.tcp_syn_cookies_accepted, 1);
    }

    #[test]
    fn a_full_pool_recycles_the_time_wait_that_ends_first() {
        let mut mem = Mem::new();
        let mut l = mem.listener(4);
        let mut s = Side::default();
        fill_pool(&mut l, &mut s);
        // Every slot in TIME-WAIT, the one of port 3 ending first.
        for port in 1..=4u16 {
            let i = l.pool.find(PEER, port, 80).unwrap();
            let ends = if port == 3 { 500 } else { 900 };
            l.pool.get_mut(i).unwrap().time_wait_for_test(ends);
            l.wheel.rearm(l.pool.slots_mut(), i);
        }
        let open = request_with_cookie(&mut l, &mut s);
        s.send(&mut l, PEER, &open, 20);
        assert_eq!(s.app.got, open.payload, "the new connection got in at once");
        assert_eq!(
            (
                s.ctr.tcp_time_wait_recycled,
                s.ctr.tcp_closed,
                s.app.closed,
                l.pool.used()
            ),
            (1, 1, 1, 4)
        );
        assert!(
            l.pool.find(PEER, 3, 80).is_none(),
            "port 3's TIME-WAIT ended"
        );
        assert!(l.pool.find(PEER, 50000, 80).is_some());
        assert_eq!(s.ctr.qos_parked_pool, 0);
    }

    #[test]
    fn closed_peer_window_parks_the_response() {
        let mut mem = Mem::new();
        let mut l = mem.listener(2);
        let mut s = Side::default();
        s.send(&mut l, PEER, &seg(100, None, Flags::SYN, 80, b""), 0);
        let iss = s.wire.0.pop().unwrap().seq.0;
        let req = Repr {
            window: 0,
            ..seg(
                101,
                Some(iss + 1),
                Flags::PSH,
                80,
                b"GET / HTTP/1.0\r\n\r\n",
            )
        };
        s.send(&mut l, PEER, &req, 10);
        assert!(
            s.wire.0.iter().all(|s| s.data.is_none()),
            "nothing sent into a closed window"
        );
        assert_eq!(s.ctr.qos_parked_window, 1);
        // The window opens: the response leaves.
        let update = seg(119, Some(iss + 1), Flags(0), 80, b"");
        s.send(&mut l, PEER, &update, 20);
        assert!(s.wire.0.iter().any(|s| s.data == Some((5, 0, 5))));
        assert_eq!(s.ctr.qos_parked_window, 1);
    }

    #[test]
    fn unanswered_syn_ack_is_retried_then_freed() {
        let mut mem = Mem::new();
        let mut l = mem.listener(2);
        let mut s = Side::default();
        s.send(&mut l, PEER, &seg(100, None, Flags::SYN, 80, b""), 0);
        let mut now = 0;
        while l.pool.used() > 0 && now < 200_000 {
            now += 10;
            l.on_timers(now, &mut s.app, &mut s.wire, &mut s.ctr);
        }
        assert_eq!(l.pool.used(), 0);
        assert_eq!(l.half_open(), 0);
        assert_eq!(s.wire.0.len(), 1 + usize::from(l.cfg.syn_retries));
        assert_eq!(now, 1000 + 2000 + 4000 + 8000 + 16000);
    }
}
