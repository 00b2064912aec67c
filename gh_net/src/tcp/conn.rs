//! One connection's state machine (RFC 9293 section 3.10, server side) in one small slot.

use super::super::counters::{bump, Counters};
use super::super::wire::ipv4::Address;
use super::super::wire::tcp::{Flags, Incoming, SeqNumber};
use super::rto::RttEstimator;
use super::wheel::Link;
use super::{Config, Flow, Source};

/// The largest window a peer can advertise without window scaling (which GigaHttpd does
/// not offer): RFC 5961's MAX.SND.WND bound.
const MAX_WINDOW: u32 = 65_535;

/// Connection states a server passes through (LISTEN is the listener table, CLOSED a free slot).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum State {
    /// Free slot.
    Closed,
    /// SYN received, SYN-ACK sent or about to be.
    SynReceived,
    /// Handshake done.
    Established,
    /// Our FIN sent or queued, peer still open.
    FinWait1,
    /// Our FIN acknowledged, waiting for the peer's.
    FinWait2,
    /// Both FINs crossed; ours not yet acknowledged.
    Closing,
    /// Both sides closed; lingering to absorb retransmissions.
    TimeWait,
    /// Peer closed first; we may still send.
    CloseWait,
    /// Peer closed, our FIN sent, waiting for its ACK.
    LastAck,
}

/// The smallest segment size a router's report may lower a connection to: what fits the
/// 576-byte datagram every IPv4 host accepts (RFC 791, RFC 1122 section 3.3.3).
pub const MIN_MSS: u16 = 536;

/// IPv4 and TCP headers without options, what an MTU holds beyond a segment's data.
const IP_TCP_HEADERS: u16 = 40;

mod flag {
    /// An ACK must go out at the next output.
    pub const ACK_NOW: u8 = 1;
    /// The application closed: FIN follows the data.
    pub const FIN_QUEUED: u8 = 2;
    /// `handle` names a response.
    pub const HAS_RESP: u8 = 4;
    /// An RTT measurement is running (`rtt_ahead`, `rtt_start`).
    pub const TIMING: u8 = 8;
    /// Reset the connection at the next output.
    pub const RST_NOW: u8 = 16;
    /// Send a zero-window probe at the next output.
    pub const PROBE_NOW: u8 = 32;
    /// Timer kind, two bits.
    pub const TIMER_SHIFT: u8 = 6;
    pub const TIMER_MASK: u8 = 3 << TIMER_SHIFT;
}

/// What the single timer of a connection is waiting for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Timer {
    Off = 0,
    Retransmit = 1,
    Persist = 2,
    /// Idle, FIN-WAIT-2 or TIME-WAIT expiry, depending on the state.
    Linger = 3,
}

/// A segment for the transmit path to build: header fields plus, for data, a reference
/// into the response instead of bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Segment {
    /// Sequence number.
    pub seq: SeqNumber,
    /// Acknowledgment number (ACK flag) if any.
    pub ack: Option<SeqNumber>,
    /// Flags other than ACK.
    pub flags: Flags,
    /// Window to advertise.
    pub window: u16,
    /// MSS option (SYN-ACK only).
    pub mss: Option<u16>,
    /// Response handle, offset within it and length of the data, if any.
    pub data: Option<(u32, u32, u16)>,
}

impl Segment {
    /// Data length.
    pub fn data_len(&self) -> u16 {
        self.data.map_or(0, |d| d.2)
    }
}

/// The result of processing input or a timer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// The slot stays in use.
    Keep,
    /// The connection is gone; the slot must be freed.
    Free,
}

/// What the transmit path did with one segment (or frame).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Sent {
    /// Queued on the TX ring.
    Queued,
    /// Not sent: the hardware address of its next hop is not known (the network layer
    /// asks for it). Lost as on the wire: TCP sends data again on its timer.
    NoRoute,
    /// Not sent: the TX ring is full. A connection waits (it keeps its state and retries
    /// at its next output).
    RingFull,
}

/// Transmit path of segments.
pub trait Tx {
    /// Builds and queues one segment for `flow`; its data, if any, comes from `src`.
    fn transmit(&mut self, flow: &Flow, seg: &Segment, src: &impl Source) -> Sent;

    /// A segment of a connection is about to be handled whose byte stream ends at
    /// `Some(end)`, or is not settled (see [`super::super::engine::Platform::serving`]).
    #[inline(always)]
    fn serving(&mut self, _stream_end: Option<SeqNumber>) {}
}

/// What a segment brought for the application.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Input<'a> {
    /// Whether the slot stays in use.
    pub verdict: Verdict,
    /// A segment to send at once outside any connection state (RST to a bad handshake ACK).
    pub reply: Option<Segment>,
    /// New in-order bytes, in place in the received frame.
    pub data: &'a [u8],
    /// The peer's FIN follows `data`.
    pub fin: bool,
    /// The ACK asked for is a challenge (RFC 5961), which the listener may hold back
    /// ([`Tcb::hold_ack`]) past its limit.
    pub challenge: bool,
}

impl Input<'_> {
    fn keep() -> Self {
        Input {
            verdict: Verdict::Keep,
            reply: None,
            data: &[],
            fin: false,
            challenge: false,
        }
    }
}

/// The TX ring is full; output stopped without losing anything.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TxFull;

/// A connection: everything GigaHttpd keeps per TCP connection (the local address is
/// the core's, passed in).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Tcb {
    remote_ip: u32,
    snd_una: SeqNumber,
    snd_nxt: SeqNumber,
    /// Highest sequence number sent (snd_nxt goes back on retransmission).
    snd_max: SeqNumber,
    rcv_nxt: SeqNumber,
    /// One past the current response's last byte in sequence space (where the next one
    /// starts): its length is asked of the application once, in `send`, rather than on
    /// every test of the send queue.
    resp_end: SeqNumber,
    /// The current response's handle (valid with `HAS_RESP`).
    handle: u32,
    /// Timer expiry, milliseconds of the platform clock modulo 2^32.
    deadline: u32,
    /// Timing-wheel links (slot index + 1, 0 for none), owned by the wheel: a linked slot
    /// is changed through its methods, never overwritten whole.
    pub(super) next: Link,
    /// See `next`.
    pub(super) prev: Link,
    /// The wheel tick (low 16 bits) of the bucket the slot is linked in, owned by the
    /// wheel: a later deadline leaves the slot there (see `Wheel::refile`).
    pub(super) filed: u16,
    remote_port: u16,
    local_port: u16,
    snd_wnd: u16,
    mss: u16,
    /// Congestion window (RFC 5681), bytes: what may be in flight besides the peer's
    /// window. Whole at 16 bits: without window scaling no window is larger.
    cwnd: u16,
    /// Slow-start threshold (RFC 5681), bytes.
    ssthresh: u16,
    rtt_start: u16,
    /// Bytes from `snd_una` to the end of the segment being timed (with `TIMING`).
    rtt_ahead: u16,
    /// One more than the bytes from `snd_una` to the highest sequence number sent when a
    /// loss was last found (RFC 6582's `recover`), 0 once the peer acknowledges beyond it
    /// or fast recovery ends: until then, after a timeout or a path-MTU report, duplicate
    /// ACKs may be for copies sent again, which the peer already had, and are not
    /// counted; in fast recovery they are, and its partial ACKs are told by it.
    recover_ahead: u16,
    rtt: RttEstimator,
    state: State,
    flags: u8,
    retries: Retries,
    /// Wait lists this slot is parked on, one bit each (owned by the listener).
    pub(super) waits: u8,
}

/// Consecutive timeouts without progress (retransmission or persist: the backoff) and
/// duplicate ACKs in a row, in the one byte the slot has for both.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Retries(u8);

impl Retries {
    /// Largest backoff kept; retry limits are clamped to it.
    const MAX_BACKOFF: u8 = 0x3f;
    const DUPACK_SHIFT: u32 = 6;

    fn backoff(self) -> u8 {
        self.0 & Self::MAX_BACKOFF
    }

    fn set_backoff(&mut self, n: u8) {
        self.0 = (self.0 & !Self::MAX_BACKOFF) | n.min(Self::MAX_BACKOFF);
    }

    /// One more timeout.
    fn back_off(&mut self) {
        self.set_backoff(self.backoff().saturating_add(1));
    }

    /// Duplicate ACKs in a row, up to [`DUPACK_THRESHOLD`].
    fn dupacks(self) -> u8 {
        self.0 >> Self::DUPACK_SHIFT
    }

    fn set_dupacks(&mut self, n: u8) {
        self.0 = self.backoff() | (n.min(DUPACK_THRESHOLD) << Self::DUPACK_SHIFT);
    }
}

/// [`bump`] out of line, for counts on paths a connection seldom takes: kept out of
/// the segment path that [`Tcb::on_segment`] inlines into the listener, where their
/// code cost registers on every segment.
#[cold]
#[inline(never)]
fn count_cold(c: &mut u64) {
    bump(c);
}

/// Duplicate ACKs that mean a segment was lost (RFC 5681 section 3.2).
const DUPACK_THRESHOLD: u8 = 3;

/// The longest response [`Tcb::send`] takes: sequence numbers compare within half their
/// space, which must hold the response and the FIN after it.
pub const MAX_RESPONSE_LEN: u32 = (1 << 31) - 2;

/// `v`, or the largest `u16` if it is larger.
#[inline(always)]
fn clamp16(v: u32) -> u16 {
    v.min(u32::from(u16::MAX)) as u16
}

/// The first congestion window for segments of `mss` bytes (RFC 6928): ten segments, at
/// most 14,600 bytes unless that is less than two.
fn initial_window(mss: u16) -> u16 {
    let mss = u32::from(mss);
    clamp16((10 * mss).min(14_600.max(2 * mss)))
}

/// True if `a` is at or after `b` on the wrapping millisecond clock.
fn time_reached(now: u32, deadline: u32) -> bool {
    (now.wrapping_sub(deadline) as i32) >= 0
}

impl Default for Tcb {
    fn default() -> Self {
        Self::EMPTY
    }
}

impl Tcb {
    /// A free slot.
    pub const EMPTY: Tcb = Tcb {
        remote_ip: 0,
        snd_una: SeqNumber(0),
        snd_nxt: SeqNumber(0),
        snd_max: SeqNumber(0),
        rcv_nxt: SeqNumber(0),
        resp_end: SeqNumber(0),
        handle: 0,
        deadline: 0,
        next: 0,
        prev: 0,
        filed: 0,
        remote_port: 0,
        local_port: 0,
        snd_wnd: 0,
        cwnd: 0,
        ssthresh: 0,
        mss: 0,
        rtt_start: 0,
        rtt_ahead: 0,
        recover_ahead: 0,
        rtt: RttEstimator::new(),
        state: State::Closed,
        flags: 0,
        retries: Retries(0),
        waits: 0,
    };

    /// Passive open from a SYN: SYN-RECEIVED, the SYN-ACK goes out at the next output.
    pub fn syn_received<'a>(
        flow: &Flow,
        syn: &impl Incoming<'a>,
        iss: SeqNumber,
        cfg: &Config,
    ) -> Tcb {
        let peer_mss = syn.mss().unwrap_or(536).max(64);
        let mss = peer_mss.min(cfg.mss);
        Tcb {
            remote_ip: flow.remote_ip.to_u32(),
            remote_port: flow.remote_port,
            local_port: flow.local_port,
            snd_una: iss,
            snd_nxt: iss,
            snd_max: iss,
            rcv_nxt: syn.seq().wrapping_add(1),
            resp_end: iss.wrapping_add(1),
            snd_wnd: syn.window(),
            mss,
            cwnd: initial_window(mss),
            ssthresh: u16::MAX,
            state: State::SynReceived,
            ..Tcb::EMPTY
        }
    }

    /// A connection completed by a valid SYN cookie in `ack` (ESTABLISHED at once).
    pub fn from_cookie<'a>(
        flow: &Flow,
        ack: &impl Incoming<'a>,
        mss: u16,
        cfg: &Config,
        now: u32,
    ) -> Tcb {
        let iss = ack.ack().unwrap_or_default().wrapping_add(u32::MAX); // ack - 1
        let mss = mss.min(cfg.mss);
        let mut t = Tcb {
            remote_ip: flow.remote_ip.to_u32(),
            remote_port: flow.remote_port,
            local_port: flow.local_port,
            snd_una: iss.wrapping_add(1),
            snd_nxt: iss.wrapping_add(1),
            snd_max: iss.wrapping_add(1),
            rcv_nxt: ack.seq(),
            resp_end: iss.wrapping_add(1),
            snd_wnd: ack.window(),
            mss,
            cwnd: initial_window(mss),
            ssthresh: u16::MAX,
            state: State::Established,
            ..Tcb::EMPTY
        };
        t.rearm(now, cfg, false, true, false);
        t
    }

    /// Connection state.
    pub fn state(&self) -> State {
        self.state
    }

    /// The flow, given our address.
    pub fn flow(&self, local_ip: Address) -> Flow {
        Flow {
            remote_ip: Address(self.remote_ip.to_be_bytes()),
            remote_port: self.remote_port,
            local_ip,
            local_port: self.local_port,
        }
    }

    /// True if this slot belongs to the connection from `ip:port` to our `local_port`.
    pub fn matches(&self, ip: Address, port: u16, local_port: u16) -> bool {
        self.state != State::Closed
            && self.remote_ip == ip.to_u32()
            && self.remote_port == port
            && self.local_port == local_port
    }

    /// Next sequence number expected from the peer.
    pub fn rcv_nxt(&self) -> SeqNumber {
        self.rcv_nxt
    }

    /// Oldest unacknowledged sequence number.
    pub fn snd_una(&self) -> SeqNumber {
        self.snd_una
    }

    /// Next sequence number to send.
    pub fn snd_nxt(&self) -> SeqNumber {
        self.snd_nxt
    }

    /// Peer's window.
    pub fn snd_wnd(&self) -> u16 {
        self.snd_wnd
    }

    /// Segment size used towards the peer.
    pub fn mss(&self) -> u16 {
        self.mss
    }

    /// When the timer fires, if it is running.
    pub fn deadline(&self) -> Option<u32> {
        (self.timer() != Timer::Off).then_some(self.deadline)
    }

    /// True if the timer's deadline will not move again unless the peer sends its FIN
    /// again: TIME-WAIT's lasts until it expires, or until a new SYN or a RST ends the
    /// connection. Such a slot is filed in its deadline's bucket at once.
    #[inline]
    pub fn deadline_is_final(&self) -> bool {
        self.state == State::TimeWait
    }

    /// Sets a linger timer at `deadline`, as a state change would.
    #[cfg(test)]
    pub(super) fn set_linger_for_test(&mut self, deadline: u32) {
        self.set_timer(Timer::Linger, deadline);
    }

    /// Enters TIME-WAIT with its timer at `deadline`.
    #[cfg(test)]
    pub(super) fn time_wait_for_test(&mut self, deadline: u32) {
        self.state = State::TimeWait;
        self.set_timer(Timer::Linger, deadline);
    }

    /// Stops the timer, as a state change would.
    #[cfg(test)]
    pub(super) fn stop_timer_for_test(&mut self) {
        self.set_timer(Timer::Off, 0);
    }

    /// The slow-start threshold, bytes.
    #[cfg(test)]
    pub(super) fn ssthresh(&self) -> u16 {
        self.ssthresh
    }

    /// The congestion window, bytes.
    #[cfg(test)]
    pub(super) fn cwnd(&self) -> u16 {
        self.cwnd
    }

    /// One past the highest sequence number sent.
    pub fn snd_max(&self) -> SeqNumber {
        self.snd_max
    }

    /// Where the byte stream ends, if every byte of the current response has been sent
    /// at least once; `None` while some wait.
    pub fn stream_end(&self) -> Option<SeqNumber> {
        (!self.snd_max.lt(self.resp_end)).then_some(self.snd_max)
    }

    /// Smoothed RTT in ms (0 before a sample).
    pub fn srtt_ms(&self) -> u32 {
        self.rtt.srtt_ms()
    }

    fn has(&self, f: u8) -> bool {
        self.flags & f != 0
    }

    fn timer(&self) -> Timer {
        match (self.flags & flag::TIMER_MASK) >> flag::TIMER_SHIFT {
            1 => Timer::Retransmit,
            2 => Timer::Persist,
            3 => Timer::Linger,
            _ => Timer::Off,
        }
    }

    fn set_timer(&mut self, t: Timer, deadline: u32) {
        self.flags = (self.flags & !flag::TIMER_MASK) | ((t as u8) << flag::TIMER_SHIFT);
        self.deadline = deadline;
    }

    fn rcv_wnd(&self, cfg: &Config) -> u32 {
        u32::from(if self.state == State::SynReceived {
            cfg.initial_window
        } else {
            cfg.window
        })
    }

    /// True if the response has been sent and acknowledged in full: a new one may start.
    /// `src` is not read: the response's end is kept from `send`.
    pub fn can_send(&self) -> bool {
        self.idle()
    }

    /// True if every byte of the response sent has been acknowledged, in any state: its
    /// resources may go, also when our FIN followed it (a closing response).
    pub fn response_acked(&self) -> bool {
        !self.snd_una.lt(self.resp_end)
    }

    #[inline]
    fn idle(&self) -> bool {
        matches!(self.state, State::Established | State::CloseWait)
            && !self.has(flag::FIN_QUEUED)
            && self.snd_una == self.resp_end
    }

    /// Starts sending the response `handle` (its bytes come from the application at output).
    /// Refused until the previous response is fully acknowledged, and for a response longer
    /// than [`MAX_RESPONSE_LEN`].
    pub fn send(&mut self, handle: u32, src: &impl Source) -> bool {
        let len = src.len(handle);
        if !self.idle() || len > MAX_RESPONSE_LEN {
            return false;
        }
        self.resp_end = self.resp_end.wrapping_add(len);
        self.handle = handle;
        self.flags |= flag::HAS_RESP;
        true
    }

    /// Closes our side: FIN after the response data.
    pub fn close(&mut self) {
        match self.state {
            State::Established => self.state = State::FinWait1,
            State::CloseWait => self.state = State::LastAck,
            State::SynReceived => {
                self.abort();
                return;
            }
            _ => return,
        }
        self.flags |= flag::FIN_QUEUED;
    }

    /// The challenge ACK the last segment asked for ([`Input::challenge`]) is not sent.
    pub fn hold_ack(&mut self) {
        self.flags &= !flag::ACK_NOW;
    }

    /// Asks for a challenge ACK (RFC 5961). The listener may hold it back past its limit,
    /// unless an ACK was owed already (for data or a FIN that waited for TX room).
    #[cold]
    fn challenge<'a>(&mut self, ctr: &mut Counters) -> Input<'a> {
        bump(&mut ctr.tcp_challenge_acks);
        let owed = self.has(flag::ACK_NOW);
        self.flags |= flag::ACK_NOW;
        Input {
            challenge: !owed,
            ..Input::keep()
        }
    }

    /// Resets the connection at the next output.
    pub fn abort(&mut self) {
        self.flags |= flag::RST_NOW;
    }

    /// Processes one segment for this connection (RFC 9293 section 3.10.7.4, with the
    /// RFC 5961 mitigations), except the acceptance of its data and FIN: those go to the
    /// application first, and [`Tcb::consume`] then acknowledges what it took.
    #[inline]
    pub fn on_segment<'a>(
        &mut self,
        seg: &impl Incoming<'a>,
        now: u32,
        cfg: &Config,
        ctr: &mut Counters,
    ) -> Input<'a> {
        let keep = Input::keep();
        // Read once: the segment's header may be read in place, byte-swapped per read.
        let (seq, flags) = (seg.seq(), seg.flags());
        let seg_len = seg.seq_len();
        let rcv_wnd = self.rcv_wnd(cfg);

        // A retransmitted SYN means our SYN-ACK was lost: send it again.
        if self.state == State::SynReceived
            && flags.contains(Flags::SYN)
            && !flags.contains(Flags::RST)
            && seq.wrapping_add(1) == self.rcv_nxt
        {
            // Karn: the SYN-ACK is sent again, so its ACK times nothing. (If the last
            // has not left yet, for a full TX ring, there is nothing more to send.)
            if self.snd_nxt != self.snd_una {
                bump(&mut ctr.tcp_retransmits);
            }
            self.snd_nxt = self.snd_una;
            self.flags &= !flag::TIMING;
            return keep;
        }

        let acceptable = if seg_len == 0 {
            // RFC 9293's test, with the window's right edge itself admitted (as Linux and
            // the BSDs do): a peer that filled the window exactly sends its ACKs from
            // there. With no window, only RCV.NXT.
            seq.since(self.rcv_nxt) <= rcv_wnd
        } else {
            rcv_wnd > 0
                && (seq.in_window(self.rcv_nxt, rcv_wnd)
                    || seq
                        .wrapping_add(seg_len - 1)
                        .in_window(self.rcv_nxt, rcv_wnd))
        };
        if !acceptable {
            bump(&mut ctr.drop_tcp_out_of_window);
            if !flags.contains(Flags::RST) {
                self.flags |= flag::ACK_NOW;
                // In TIME-WAIT, the peer's FIN sent again (our last ACK was lost) is
                // acknowledged and the wait starts over (RFC 9293 section 3.10.7.4); a
                // FIN anywhere else is no such retransmission, and cannot prolong it.
                if self.state == State::TimeWait
                    && flags.contains(Flags::FIN)
                    && seq.wrapping_add(seg_len) == self.rcv_nxt
                {
                    self.enter_time_wait(now, cfg);
                }
            }
            return keep;
        }

        if flags.contains(Flags::RST) {
            // RFC 5961 section 3: only an exact RST resets; an in-window one is challenged.
            if seq == self.rcv_nxt {
                bump(&mut ctr.tcp_resets_received);
                self.state = State::Closed;
                return Input {
                    verdict: Verdict::Free,
                    ..keep
                };
            }
            return self.challenge(ctr);
        }

        if flags.contains(Flags::SYN) {
            if self.state == State::SynReceived {
                // A passive open goes back to LISTEN (RFC 9293 section 3.10.7.4): the
                // peer started over, and its next SYN opens a connection afresh.
                bump(&mut ctr.drop_tcp_unexpected);
                self.state = State::Closed;
                return Input {
                    verdict: Verdict::Free,
                    ..keep
                };
            }
            // RFC 5961 section 4: a SYN in a synchronized state gets a challenge ACK.
            return self.challenge(ctr);
        }

        let Some(ack) = seg.ack() else {
            bump(&mut ctr.drop_tcp_unexpected);
            return keep;
        };

        if self.state == State::SynReceived {
            if self.snd_una.lt(ack) && ack.le(self.snd_max) {
                self.state = State::Established;
                bump(&mut ctr.tcp_opened);
                if self.retries.backoff() > 0 {
                    // 3 s rather than the backed-off timeout (RFC 6298 section 5.7).
                    self.rtt.after_handshake_timeout();
                    self.retries.set_backoff(0);
                }
            } else {
                // Counted by whoever sends it.
                let rst = Segment {
                    seq: ack,
                    ack: None,
                    flags: Flags::RST,
                    window: 0,
                    mss: None,
                    data: None,
                };
                return Input {
                    reply: Some(rst),
                    ..keep
                };
            }
        }

        // RFC 5961 section 5: acknowledging what was never sent, or what lies more than
        // the largest window (MAX.SND.WND, at most 65,535 without scaling) below
        // SND.UNA, is how a blind attacker's guess looks: the segment is dropped.
        if self.snd_max.lt(ack) || ack.lt(SeqNumber(self.snd_una.0.wrapping_sub(MAX_WINDOW))) {
            return self.challenge(ctr);
        }
        let mut new_ack = false;
        // The retransmission timer starts over: new data was acknowledged, or a lost
        // segment goes again.
        let mut restart = false;
        if self.snd_una.le(ack) {
            if self.snd_una.lt(ack) {
                // `rtt_ahead` and `recover_ahead` are measured from `snd_una`: what is
                // acknowledged comes off them (both are at most a window).
                let acked = ack.since(self.snd_una);
                let timed = self.has(flag::TIMING);
                if timed && acked >= u32::from(self.rtt_ahead) {
                    let rtt = (now as u16).wrapping_sub(self.rtt_start);
                    self.rtt.sample(u32::from(rtt));
                    self.flags &= !flag::TIMING;
                } else {
                    if timed {
                        // Less than `rtt_ahead`, a u16.
                        self.rtt_ahead -= acked as u16;
                    }
                    if self.retries.backoff() > 0 {
                        // Progress ends the count of retries, not the backed-off timeout.
                        self.rtt
                            .hold(self.rtt.rto_ms(&cfg.rto, self.retries.backoff()));
                    }
                }
                let recovering = self.in_fast_recovery();
                if self.recover_ahead != 0 {
                    self.recover_ahead = u32::from(self.recover_ahead).saturating_sub(acked) as u16;
                }
                self.snd_una = ack;
                self.retries = Retries(0);
                if recovering {
                    self.recovery_ack(acked, ctr);
                } else {
                    self.grow_cwnd(acked);
                }
                if self.snd_nxt.lt(self.snd_una) {
                    self.snd_nxt = self.snd_una;
                }
                if self.has(flag::HAS_RESP) && self.resp_end.le(self.snd_una) {
                    // Acknowledged in full: the handle is never read again, so the
                    // application may forget what it named.
                    self.flags &= !flag::HAS_RESP;
                }
                new_ack = true;
                restart = true;
            }
            // Judged before the window is taken: a duplicate leaves it as it was.
            let duplicate = !new_ack && seg_len == 0 && self.is_duplicate(ack, seg.window());
            // Window updates stand in for SND.WL1/WL2: from a segment that acknowledges
            // something new, or one not older than what we took (data we left
            // unacknowledged puts the peer's later segments ahead of RCV.NXT).
            if new_ack || self.rcv_nxt.le(seq) {
                // Probes answered by an opening window start their count over; data
                // in flight keeps its count until the peer takes some of it, so a peer
                // that shuts and opens its window and takes nothing cannot hold the
                // connection (and its response) for ever.
                if self.snd_wnd == 0 && seg.window() > 0 && self.snd_max == self.snd_una {
                    self.retries.set_backoff(0);
                }
                self.snd_wnd = seg.window();
            }
            if duplicate {
                restart = self.duplicate_ack(ctr);
            }
            if self.has(flag::FIN_QUEUED) && self.snd_una == self.resp_end.wrapping_add(1) {
                match self.state {
                    State::FinWait1 => self.state = State::FinWait2,
                    State::Closing => self.enter_time_wait(now, cfg),
                    State::LastAck => {
                        bump(&mut ctr.tcp_closed);
                        self.state = State::Closed;
                        return Input {
                            verdict: Verdict::Free,
                            ..keep
                        };
                    }
                    _ => {}
                }
            }
        }

        let mut input = keep;
        if matches!(
            self.state,
            State::Established | State::FinWait1 | State::FinWait2
        ) {
            if self.rcv_nxt.lt(seq) {
                // Out of order: nothing is queued, the duplicate ACK asks for the gap.
                // A bare ACK lost nothing (its acknowledgment was taken above).
                if seg_len > 0 {
                    count_cold(&mut ctr.drop_tcp_out_of_order);
                }
                self.flags |= flag::ACK_NOW;
            } else {
                let skip = self.rcv_nxt.since(seq) as usize;
                input.data = seg.payload().get(skip..).unwrap_or(&[]);
                input.fin = flags.contains(Flags::FIN);
            }
        } else if seg_len > 0 {
            // Data or a FIN after the peer's FIN: the text is ignored (RFC 9293 section
            // 3.10.7.4, seventh and eighth steps).
            count_cold(&mut ctr.drop_tcp_unexpected);
        }
        let blocked = self.blocked();
        self.rearm(now, cfg, restart, true, blocked);
        input
    }

    /// RFC 5681 section 4.1, with the idle timer of `linger` ms running: it was set when
    /// the peer last spoke, after our last send (nothing is in flight), so its start
    /// bounds how long nothing was sent. Checked when the peer speaks again and when new
    /// data goes, as either may come long after the other. A spell longer than the timer
    /// can only come of `idle_ms` lowered since it was set, and is not trusted.
    #[inline(always)]
    fn after_idle(&mut self, now: u32, linger: u32, cfg: &Config) {
        let idle = now.wrapping_sub(self.deadline.wrapping_sub(linger));
        if idle >= cfg.rto.min_ms && idle <= linger {
            self.restart_after_idle(idle, cfg);
        }
    }

    /// RFC 5681 section 4.1: after nothing was sent for `idle` ms, longer than the
    /// retransmission timeout, the congestion window starts over from the first window,
    /// so that a keep-alive connection's next response is not a burst at the rate it grew
    /// to. Out of line: most segments come sooner.
    #[cold]
    #[inline(never)]
    fn restart_after_idle(&mut self, idle: u32, cfg: &Config) {
        if idle > self.rtt.rto_ms(&cfg.rto, 0) {
            self.cwnd = self.cwnd.min(initial_window(self.mss));
        }
    }

    /// Acknowledges `taken` bytes of `input.data` and, if all were taken, its FIN.
    #[inline]
    pub fn consume(&mut self, input: &Input<'_>, taken: usize, now: u32, cfg: &Config) {
        let taken = taken.min(input.data.len());
        self.rcv_nxt = self.rcv_nxt.wrapping_add(taken as u32);
        if !input.data.is_empty() {
            self.flags |= flag::ACK_NOW;
        }
        if input.fin && taken == input.data.len() {
            self.rcv_nxt = self.rcv_nxt.wrapping_add(1);
            self.flags |= flag::ACK_NOW;
            match self.state {
                State::Established => self.state = State::CloseWait,
                State::FinWait1 => self.state = State::Closing,
                State::FinWait2 => self.enter_time_wait(now, cfg),
                _ => {}
            }
            // Taking data alone changes nothing the timer depends on (`on_segment` has
            // just chosen it); a FIN changes the state.
            let blocked = self.blocked();
            self.rearm(now, cfg, false, false, blocked);
        }
    }

    fn enter_time_wait(&mut self, now: u32, cfg: &Config) {
        self.state = State::TimeWait;
        self.set_timer(Timer::Linger, now.wrapping_add(cfg.time_wait_ms));
    }

    /// Chooses the timer for the current state. `restart` restarts a running retransmit
    /// timer (new data was acknowledged), `activity` the idle timer (the peer spoke), and
    /// `blocked` says data waits behind a closed peer window.
    #[inline(always)]
    fn rearm(&mut self, now: u32, cfg: &Config, restart: bool, activity: bool, blocked: bool) {
        // The timeout is computed only where a timer is (re)started: most calls keep one.
        let rto = |t: &Tcb| now.wrapping_add(t.rtt.rto_ms(&cfg.rto, t.retries.backoff()));
        let in_flight = self.snd_una != self.snd_max;
        match self.state {
            State::Closed => self.set_timer(Timer::Off, 0),
            State::TimeWait => {
                if self.timer() != Timer::Linger {
                    self.set_timer(Timer::Linger, now.wrapping_add(cfg.time_wait_ms));
                }
            }
            _ if in_flight => {
                if restart || self.timer() != Timer::Retransmit {
                    self.set_timer(Timer::Retransmit, rto(self));
                }
            }
            _ if blocked => {
                if self.timer() != Timer::Persist {
                    self.set_timer(Timer::Persist, rto(self));
                }
            }
            // FIN-WAIT-2 lasts at most its limit from when our FIN was acknowledged: a peer
            // that keeps talking without closing does not hold the slot longer.
            State::FinWait2 => {
                if self.timer() != Timer::Linger {
                    self.set_timer(Timer::Linger, now.wrapping_add(cfg.fin_wait2_ms));
                }
            }
            State::Established | State::CloseWait => {
                let timer = self.timer();
                if timer != Timer::Linger || activity {
                    if timer == Timer::Linger {
                        // The peer speaks after an idle spell.
                        self.after_idle(now, cfg.idle_ms, cfg);
                    }
                    self.set_timer(Timer::Linger, now.wrapping_add(cfg.idle_ms));
                }
            }
            _ => self.set_timer(Timer::Off, 0),
        }
    }

    /// A router could not forward the segment at `seq` in one piece and reported its next
    /// hop's MTU (RFC 1191): later segments are cut to fit, and what is in flight goes
    /// again at once (a segment was lost) instead of at the retransmission timeout. True
    /// if something changed, to be followed by [`Tcb::output`]; a report for a sequence
    /// number not in flight is ignored, so a forged one must guess it (RFC 5927 section
    /// 7.2), and the segment size never goes below [`MIN_MSS`] nor up.
    pub fn path_mtu(&mut self, seq: SeqNumber, mtu: u16) -> bool {
        let sending = self.may_send();
        let in_flight = self.snd_una.le(seq) && seq.lt(self.snd_max);
        let mss = mtu.saturating_sub(IP_TCP_HEADERS).max(MIN_MSS);
        if !sending || !in_flight || mss >= self.mss {
            return false;
        }
        self.mss = mss;
        if self.in_fast_recovery() {
            // Recovery ends here: its window, inflated by duplicates, is deflated first.
            self.cwnd = self.cwnd.min(self.ssthresh);
        }
        // Go back N, as on a timeout.
        self.resend_all();
        true
    }

    /// Runs the timer if it is due. Follow with [`Tcb::output`]. Inline: the listener's
    /// timer loop, generic over the application, is compiled in the core's crate.
    #[inline]
    pub fn on_timer(&mut self, now: u32, cfg: &Config, ctr: &mut Counters) -> Verdict {
        let timer = self.timer();
        if timer == Timer::Off || !time_reached(now, self.deadline) {
            return Verdict::Keep;
        }
        self.set_timer(Timer::Off, 0);
        match timer {
            Timer::Retransmit => {
                let limit = if self.state == State::SynReceived {
                    cfg.syn_retries
                } else {
                    cfg.max_retries
                };
                if self.retries.backoff() >= limit.min(Retries::MAX_BACKOFF) {
                    bump(&mut ctr.tcp_timeouts);
                    if self.state == State::SynReceived {
                        self.state = State::Closed;
                        return Verdict::Free;
                    }
                    self.abort();
                    return Verdict::Keep;
                }
                // RFC 5681 section 3.1: a loss; after the first timeout of a series the
                // threshold stays as it was. A SYN-ACK sent again only leaves the first
                // window at one segment (RFC 6928 section 2).
                let first = self.retries.backoff() == 0 && self.state != State::SynReceived;
                self.go_back(first);
                self.retries.back_off();
                bump(&mut ctr.tcp_retransmits);
                if self.snd_wnd == 0 {
                    // The window shrank to nothing under data in flight: nothing can be
                    // resent, so a probe asks for the window (RFC 9293 section 3.8.6.1).
                    self.flags |= flag::PROBE_NOW;
                }
            }
            Timer::Persist => {
                // Only an opening window resets the count: a peer that keeps its window
                // shut, or answers no probe, cannot hold the slot for ever.
                if self.retries.backoff() >= cfg.max_retries.min(Retries::MAX_BACKOFF) {
                    bump(&mut ctr.tcp_timeouts);
                    self.abort();
                    return Verdict::Keep;
                }
                self.retries.back_off();
                self.flags |= flag::PROBE_NOW;
            }
            Timer::Linger => match self.state {
                State::TimeWait | State::FinWait2 => {
                    bump(&mut ctr.tcp_closed);
                    self.state = State::Closed;
                    return Verdict::Free;
                }
                _ => self.close(),
            },
            Timer::Off => {}
        }
        Verdict::Keep
    }

    fn segment(&self, seq: SeqNumber, flags: Flags, window: u16) -> Segment {
        Segment {
            seq,
            ack: Some(self.rcv_nxt),
            flags,
            window,
            mss: None,
            data: None,
        }
    }

    /// Sends what the state calls for: SYN-ACK, data within the peer's window, FIN,
    /// probes, ACKs, or a reset. Stops at a full TX ring without losing anything.
    pub fn output(
        &mut self,
        now: u32,
        cfg: &Config,
        local_ip: Address,
        src: &impl Source,
        tx: &mut impl Tx,
        ctr: &mut Counters,
    ) -> Result<Verdict, TxFull> {
        let flow = self.flow(local_ip);
        if self.has(flag::RST_NOW) {
            let rst = Segment {
                seq: self.acceptable_seq(),
                ack: Some(self.rcv_nxt),
                flags: Flags::RST,
                window: 0,
                mss: None,
                data: None,
            };
            match tx.transmit(&flow, &rst, src) {
                Sent::Queued => bump(&mut ctr.tcp_resets_sent),
                // Lost (and counted in `tx_no_route`): the peer's next segment meets no
                // connection and is answered with a RST then.
                Sent::NoRoute => {}
                Sent::RingFull => return Err(TxFull),
            }
            self.state = State::Closed;
            return Ok(Verdict::Free);
        }
        match self.state {
            State::Closed => return Ok(Verdict::Free),
            State::SynReceived => {
                if self.snd_nxt == self.snd_una {
                    let syn_ack = Segment {
                        mss: Some(cfg.mss),
                        ..self.segment(self.snd_una, Flags::SYN, cfg.initial_window)
                    };
                    if tx.transmit(&flow, &syn_ack, src) == Sent::RingFull {
                        return Err(TxFull);
                    }
                    // Only the first SYN-ACK is timed (Karn): one sent again, for the
                    // peer's own SYN sent again, may be answered by the first one's ACK.
                    if self.snd_max == self.snd_una && !self.has(flag::TIMING) {
                        self.start_timing(self.snd_una.wrapping_add(1), now);
                    }
                    self.snd_nxt = self.snd_una.wrapping_add(1);
                    self.snd_max = self.snd_nxt;
                    self.flags &= !flag::ACK_NOW;
                } else {
                    // An unacceptable segment, or a challenge: answered with an ACK
                    // (RFC 9293 section 3.10.7.4) while the SYN-ACK waits for its own.
                    self.ack_if_asked(&flow, cfg.initial_window, src, tx)?;
                }
                self.rearm(now, cfg, false, false, false);
                return Ok(Verdict::Keep);
            }
            _ => {}
        }

        let end = self.resp_end;
        // The response's start, for the offsets of its segments: its length is asked for
        // only when there is data to send.
        let mut start = end;
        if self.snd_nxt.lt(end) && self.has(flag::HAS_RESP) {
            start = end.wrapping_add(src.len(self.handle).wrapping_neg());
            // New data, perhaps long after the peer last spoke.
            if self.snd_una == self.snd_max
                && self.timer() == Timer::Linger
                && matches!(self.state, State::Established | State::CloseWait)
            {
                self.after_idle(now, cfg.idle_ms, cfg);
            }
        }
        // What the peer takes and the network is trusted with (RFC 5681).
        let mss = u32::from(self.mss).max(1);
        let cwnd = self.whole_cwnd(mss) + self.limited_transmit(mss);
        let wnd_end = self.snd_una.wrapping_add(u32::from(self.snd_wnd).min(cwnd));
        while self.snd_nxt.lt(end) && self.snd_nxt.lt(wnd_end) {
            let room = wnd_end.since(self.snd_nxt).min(end.since(self.snd_nxt));
            let len = room.min(mss) as u16;
            let push = self.snd_nxt.wrapping_add(u32::from(len)) == end;
            // Sender silly-window avoidance (RFC 9293 section 3.8.6.2.1): a segment cut
            // short by the peer's window, not the response's end, waits while others
            // are in flight, whose ACKs will open the window further.
            if len < self.mss && !push && self.snd_nxt != self.snd_una {
                break;
            }
            // The FIN rides on the last data segment when the peer's window has room for
            // it too (RFC 9293: FIN takes the sequence number after the data), saving a
            // frame; otherwise it follows alone below.
            let with_fin = push && self.has(flag::FIN_QUEUED) && end.lt(wnd_end);
            let flags = match (push, with_fin) {
                (true, true) => Flags::PSH.with(Flags::FIN),
                (true, false) => Flags::PSH,
                _ => Flags(0),
            };
            let offset = self.snd_nxt.since(start);
            let seg = Segment {
                data: Some((self.handle, offset, len)),
                ..self.segment(self.snd_nxt, flags, cfg.window)
            };
            if tx.transmit(&flow, &seg, src) == Sent::RingFull {
                return Err(TxFull);
            }
            let new_end = self.snd_nxt.wrapping_add(u32::from(len));
            if self.snd_nxt == self.snd_max && !self.has(flag::TIMING) {
                self.start_timing(new_end, now);
            }
            self.advance_nxt(new_end.wrapping_add(u32::from(with_fin)));
            if self.in_fast_recovery() {
                // The segment the peer lacks went again; the rest of the flight it has.
                self.snd_nxt = self.snd_max;
            }
        }
        let fin_pending = self.has(flag::FIN_QUEUED) && self.snd_nxt == end;
        if fin_pending {
            let fin = self.segment(end, Flags::FIN, cfg.window);
            if tx.transmit(&flow, &fin, src) == Sent::RingFull {
                return Err(TxFull);
            }
            self.advance_nxt(end.wrapping_add(1));
        }
        if self.has(flag::PROBE_NOW) {
            // A zero-window probe: an old sequence number makes the peer answer with its
            // current window without any data being committed.
            let probe = self.segment(self.snd_una.wrapping_add(u32::MAX), Flags(0), cfg.window);
            match tx.transmit(&flow, &probe, src) {
                Sent::Queued => bump(&mut ctr.tcp_window_probes),
                Sent::NoRoute => {}
                Sent::RingFull => return Err(TxFull),
            }
            self.flags &= !(flag::PROBE_NOW | flag::ACK_NOW);
        }
        self.ack_if_asked(&flow, cfg.window, src, tx)?;
        let blocked = self.blocked();
        self.rearm(now, cfg, false, false, blocked);
        Ok(Verdict::Keep)
    }

    /// The sequence number of a segment without data (an ACK, a RST): the end of all
    /// that was sent (RFC 9293's SND.NXT, which a go-back's rewound `snd_nxt` is not: a
    /// peer that received it all would drop a segment from before it), but no further
    /// than the peer's window reaches, which a peer that shrank its window and dropped
    /// our data would take as out of window (Linux's `tcp_acceptable_seq`). Our SYN is
    /// no data: in SYN-RECEIVED the window has nothing to say.
    #[inline(always)]
    fn acceptable_seq(&self) -> SeqNumber {
        let wnd_end = self.snd_una.wrapping_add(u32::from(self.snd_wnd));
        if self.snd_max.le(wnd_end) || self.state == State::SynReceived {
            self.snd_max
        } else {
            wnd_end
        }
    }

    /// Sends the ACK a segment asked for (`ACK_NOW`), advertising `window`.
    #[inline(always)]
    fn ack_if_asked(
        &mut self,
        flow: &Flow,
        window: u16,
        src: &impl Source,
        tx: &mut impl Tx,
    ) -> Result<(), TxFull> {
        if self.has(flag::ACK_NOW) {
            let ack = self.segment(self.acceptable_seq(), Flags(0), window);
            if tx.transmit(flow, &ack, src) == Sent::RingFull {
                return Err(TxFull);
            }
            self.flags &= !flag::ACK_NOW;
        }
        Ok(())
    }

    /// True if [`Tcb::output`] would send nothing and leave the timer as the last input
    /// chose it: the handshake is done, no flag asks for a segment, and neither data nor
    /// the FIN waits. The listener then only files the timer (the handshake's ACK, a
    /// peer's bare ACK).
    #[inline]
    pub fn nothing_to_send(&self) -> bool {
        let end = self.resp_end;
        let asked = self.has(flag::ACK_NOW | flag::RST_NOW | flag::PROBE_NOW);
        let fin_waits = self.has(flag::FIN_QUEUED) && self.snd_nxt == end;
        !asked
            && !matches!(self.state, State::Closed | State::SynReceived)
            && !self.snd_nxt.lt(end)
            && !fin_waits
    }

    /// Data waits behind a closed peer window (the persist timer's case).
    /// True while response data waits behind the peer's closed window.
    pub fn window_blocked(&self) -> bool {
        self.blocked()
    }

    fn blocked(&self) -> bool {
        self.snd_wnd == 0 && self.snd_nxt.lt(self.resp_end)
    }

    /// A retransmission timeout: from the oldest unacknowledged byte, what is in flight
    /// goes again from a window of one segment (Karn: none of it is timed), with the
    /// slow-start threshold at half the flight if `halve` (RFC 5681 section 3.1).
    fn go_back(&mut self, halve: bool) {
        if halve {
            self.halve_threshold(self.snd_max.since(self.snd_una));
        }
        self.cwnd = self.mss;
        self.resend_all();
    }

    /// A loss: the slow-start threshold becomes half of `flight`, at least two segments
    /// (RFC 5681 equation 4), and is returned.
    fn halve_threshold(&mut self, flight: u32) -> u32 {
        self.ssthresh = clamp16((flight / 2).max(2 * u32::from(self.mss)));
        u32::from(self.ssthresh)
    }

    /// Sending starts again from the oldest unacknowledged byte, and none of what is in
    /// flight is timed (Karn). After a timeout or a path-MTU report all of it goes again,
    /// so duplicate ACKs are not counted until the peer acknowledges beyond it (RFC 6582
    /// section 4.2, an ACK must cover more than `recover`), as the peer may have had
    /// copies; in fast recovery only the missing segment goes, and they are.
    fn resend_all(&mut self) {
        self.snd_nxt = self.snd_una;
        self.flags &= !flag::TIMING;
        self.retries.set_dupacks(0);
        let recover = self.snd_max.since(self.snd_una).saturating_add(1);
        self.recover_ahead = clamp16(recover);
    }

    /// True in the states that may have data or a FIN in flight after the handshake.
    fn may_send(&self) -> bool {
        matches!(
            self.state,
            State::Established
                | State::CloseWait
                | State::FinWait1
                | State::Closing
                | State::LastAck
        )
    }

    /// True if an ACK of `ack` without data, advertising `window`, is a duplicate
    /// acknowledgment (RFC 5681 section 2): data is in flight and it acknowledges nothing
    /// new, nor changes the window. Not after a timeout until all that was in flight then
    /// is acknowledged (copies sent again bring ACKs the peer already gave), nor for a
    /// closed window (the peer is full, not missing a segment). In fast recovery, where
    /// only the missing segment goes again, each one is a segment that left the network.
    fn is_duplicate(&self, ack: SeqNumber, window: u16) -> bool {
        ack == self.snd_una
            && window == self.snd_wnd
            && window != 0
            && self.snd_una != self.snd_max
            && (self.recover_ahead == 0 || self.in_fast_recovery())
            && self.may_send()
    }

    /// The congestion window in whole segments of `mss` (at least 1) bytes, at least one:
    /// a window grown by part of a segment sends no small segment.
    #[inline(always)]
    fn whole_cwnd(&self, mss: u32) -> u32 {
        (u32::from(self.cwnd) / mss * mss).max(mss)
    }

    /// Limited transmit (RFC 3042, RFC 5681 section 3.2): the first and the second
    /// duplicate ACK each let one new segment go beyond the congestion window, so that a
    /// small window still brings the three duplicates a loss needs.
    #[inline(always)]
    fn limited_transmit(&self, mss: u32) -> u32 {
        match self.retries.dupacks() {
            n if n < DUPACK_THRESHOLD => u32::from(n) * mss,
            _ => 0,
        }
    }

    /// True between the third duplicate ACK and the ACK of all that was in flight then
    /// (RFC 6582's NewReno fast recovery): the duplicate count stays at the threshold.
    #[inline(always)]
    fn in_fast_recovery(&self) -> bool {
        self.retries.dupacks() == DUPACK_THRESHOLD
    }

    /// One more duplicate ACK. The third means the segment at `snd_una` was lost: it goes
    /// again at once rather than at the timeout (fast retransmit, RFC 5681 section 3.2),
    /// and fast recovery begins (RFC 6582 section 3.2): the threshold at half the flight,
    /// the window at the threshold plus the three segments the duplicates say have left,
    /// and one segment more for each duplicate after, so new data keeps going while the
    /// loss is repaired. True when the retransmission timer starts over.
    #[cold]
    fn duplicate_ack(&mut self, ctr: &mut Counters) -> bool {
        let mss = u32::from(self.mss).max(1);
        if self.in_fast_recovery() {
            self.cwnd = clamp16(u32::from(self.cwnd) + mss);
            return false;
        }
        let n = self.retries.dupacks() + 1;
        if n != DUPACK_THRESHOLD {
            self.retries.set_dupacks(n);
            return false;
        }
        // The flight without what limited transmit added, which the congestion window
        // (in whole segments) bounds (RFC 5681 section 3.2, step 2).
        let flight = self.snd_max.since(self.snd_una);
        let half = self.halve_threshold(flight.min(self.whole_cwnd(mss)));
        self.cwnd = clamp16(half + 3 * mss);
        // Sends from the lost segment, and marks the flight (`recover`) as a timeout does.
        self.resend_all();
        self.retries.set_dupacks(n);
        bump(&mut ctr.tcp_fast_retransmits);
        true
    }

    /// New data acknowledged in fast recovery (RFC 6582 section 3.2). Short of all that
    /// was in flight at the loss (a partial ACK), the next segment the peer lacks goes
    /// again at once, and the window gives back what was acknowledged but keeps a segment
    /// for it; the ACK of all of it ends recovery with the window at the threshold, or
    /// at the flight plus one segment if that is less.
    #[cold]
    fn recovery_ack(&mut self, acked: u32, ctr: &mut Counters) {
        let (cwnd, mss) = (u32::from(self.cwnd), u32::from(self.mss));
        // `recover_ahead` is one more than what was in flight: 1 is all of it acknowledged.
        if self.recover_ahead > 1 {
            let back = if acked >= mss { mss } else { 0 };
            let deflated = (cwnd.saturating_sub(acked) + back).max(mss);
            self.cwnd = clamp16(deflated);
            self.snd_nxt = self.snd_una;
            self.retries.set_dupacks(DUPACK_THRESHOLD);
            bump(&mut ctr.tcp_fast_retransmits);
        } else {
            let flight = self.snd_max.since(self.snd_una);
            self.cwnd = clamp16((flight.max(mss) + mss).min(u32::from(self.ssthresh)));
            // Only the missing segments went again, and all are acknowledged: no copies
            // are left to bring duplicates, which count again from the next ACK.
            self.recover_ahead = 0;
        }
    }

    /// Opens the congestion window for `acked` newly acknowledged bytes (RFC 5681 section
    /// 3.1): by up to a segment per ACK in slow start, by about a segment per window in
    /// congestion avoidance.
    #[inline]
    fn grow_cwnd(&mut self, acked: u32) {
        let (cwnd, mss) = (u32::from(self.cwnd), u32::from(self.mss));
        let more = if self.cwnd < self.ssthresh {
            acked.min(mss)
        } else {
            (mss * mss / cwnd.max(1)).max(1)
        };
        self.cwnd = clamp16(cwnd + more);
    }

    /// Times the segment ending at `until`, at most a window past `snd_una`.
    fn start_timing(&mut self, until: SeqNumber, now: u32) {
        self.flags |= flag::TIMING;
        self.rtt_ahead = clamp16(until.since(self.snd_una));
        self.rtt_start = now as u16;
    }

    fn advance_nxt(&mut self, to: SeqNumber) {
        self.snd_nxt = to;
        if self.snd_max.lt(to) {
            self.snd_max = to;
        }
        self.flags &= !flag::ACK_NOW;
    }
}
