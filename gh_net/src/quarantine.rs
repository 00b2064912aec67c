//! Connections whose request stopped a core.
//!
//! When a core's heartbeat stops while it handles a frame, Linux restarts the core and
//! hands the new run that frame's flow, and where the flow's byte stream stood if the
//! core had said ([`StreamEnd`], from [`super::engine::Platform::serving`]). The flow's segments are then
//! answered here, without the connection's state: a request (or the peer's FIN after
//! one) gets `500` and a FIN, and the peer's FIN after those its ACK; nothing of the flow
//! reaches the application again, so a retransmitted request cannot stop the core a
//! second time. The 500 takes the sequence numbers the peer acknowledges next, so it goes
//! only where the stream ended with nothing more owed: where the peer had not received
//! all the old run sent, or responses ahead of a pipelined request were still to be sent,
//! its bytes would take the place of theirs, and the flow is reset instead. A new SYN or a RST from the peer ends the
//! quarantine, and so does time.

use super::wire::ipv4::Address as Ip;
use super::wire::tcp::{Flags, Incoming, SeqNumber};

/// Flows held at once; a new one replaces the oldest.
pub const CAPACITY: usize = 8;

/// How long a flow stays quarantined: longer than a client retries a request.
pub const HOLD_MS: u64 = 120_000;

/// What a quarantined request is answered with.
pub const RESPONSE: &[u8] = b"HTTP/1.1 500 Internal Server Error\r\n\
Server: GigaHttpd\r\n\
Content-Type: text/plain\r\n\
Content-Length: 59\r\n\
Connection: close\r\n\
\r\n\
This request stopped a GigaHttpd core; it is not run again\n";

/// A flow as one word: the peer's address and port and our port. Never 0 for a real
/// flow (ports are never 0), so 0 can mean "none".
pub fn flow_key(remote_ip: Ip, remote_port: u16, local_port: u16) -> u64 {
    u64::from(u32::from_be_bytes(remote_ip.0)) << 32
        | u64::from(remote_port) << 16
        | u64::from(local_port)
}

/// The flow of a received frame if it is TCP in IPv4, read from the headers alone
/// (nothing is verified: this only names what the core is working on).
pub fn frame_flow(frame: &[u8]) -> Option<u64> {
    if frame.get(12..14)? != [0x08, 0x00] {
        return None;
    }
    let ip = frame.get(14..)?;
    let (&version_ihl, _) = ip.split_first()?;
    if version_ihl >> 4 != 4 || *ip.get(9)? != 6 {
        return None;
    }
    let src: [u8; 4] = ip.get(12..16)?.try_into().ok()?;
    let tcp = ip.get(usize::from(version_ihl & 0xf) * 4..)?;
    let port = |at: usize| Some(u16::from_be_bytes(tcp.get(at..at + 2)?.try_into().ok()?));
    Some(flow_key(Ip(src), port(0)?, port(2)?))
}

/// What to send back to a quarantined flow's segment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Answer {
    /// Not quarantined: the segment goes on to the listener.
    Pass,
    /// Quarantined, and nothing to send.
    Drop,
    /// Send [`RESPONSE`] with FIN.
    Refuse {
        /// Our sequence number: what the peer acknowledged.
        seq: u32,
        /// The end of what the peer sent.
        ack: u32,
    },
    /// Acknowledge the peer's FIN (after our answer and FIN).
    AckFin {
        /// Our sequence number: what the peer acknowledged.
        seq: u32,
        /// The end of what the peer sent, its FIN included.
        ack: u32,
    },
    /// Reset the flow: no answer can be placed after what it was sent.
    Reset {
        /// Our sequence number: what the peer acknowledged.
        seq: u32,
    },
}

/// Where a quarantined flow's byte stream stood when the core took its frame up
/// ([`super::engine::Platform::serving`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum StreamEnd {
    /// Not said (the core stopped before the engine found the connection): the answer
    /// goes where the peer acknowledges.
    #[default]
    Unknown,
    /// Everything owed was sent, up to here: the answer goes only here.
    At(u32),
    /// Responses were still to be sent: no answer can be placed, the flow is reset.
    Unsettled,
}

impl StreamEnd {
    /// True if an answer may start at `seq`.
    fn admits(self, seq: u32) -> bool {
        match self {
            StreamEnd::Unknown => true,
            StreamEnd::At(end) => end == seq,
            StreamEnd::Unsettled => false,
        }
    }
}

/// One quarantined flow.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Held {
    /// The flow's [`flow_key`], 0 for a free entry.
    flow: u64,
    /// When it is released (platform ms).
    until: u64,
    /// Where the old run's byte stream on the flow stood.
    stream_end: StreamEnd,
    /// Where our answer and its FIN end, once sent.
    answered_end: Option<u32>,
}

/// The quarantined flows and when each is released.
#[derive(Default)]
pub struct Quarantine {
    flows: [Held; CAPACITY],
    /// Entries in `flows` that hold a flow: every received segment asks whether there
    /// are any, so the answer is one load rather than a walk of the table.
    held: u8,
}

impl Quarantine {
    /// Quarantines `flow` (a [`flow_key`]), whose byte stream stood at `stream_end`, until
    /// `now_ms + HOLD_MS`.
    pub fn add(&mut self, flow: u64, stream_end: StreamEnd, now_ms: u64) {
        if flow == 0 {
            return;
        }
        let until = now_ms.saturating_add(HOLD_MS);
        let slot = match self.flows.iter().position(|e| e.flow == flow) {
            Some(i) => i,
            // Free slots have `until` 0, so they are the oldest.
            None => (0..CAPACITY)
                .min_by_key(|&i| self.flows.get(i).map_or(0, |e| e.until))
                .unwrap_or(0),
        };
        if let Some(entry) = self.flows.get_mut(slot) {
            if entry.flow == 0 {
                self.held += 1;
            }
            *entry = Held {
                flow,
                until,
                stream_end,
                answered_end: None,
            };
        }
    }

    /// Flows quarantined now.
    pub fn len(&self, now_ms: u64) -> usize {
        self.flows
            .iter()
            .filter(|e| e.flow != 0 && e.until > now_ms)
            .count()
    }

    /// Whether no flow is quarantined, expired ones included (the receive path's check).
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.held == 0
    }

    /// Decides what `seg` from the quarantined-or-not `flow` gets, releasing the flow on
    /// a SYN, a RST or expiry.
    pub fn answer<'a>(&mut self, flow: u64, seg: &impl Incoming<'a>, now_ms: u64) -> Answer {
        let Some(entry) = self.flows.iter_mut().find(|e| e.flow == flow && flow != 0) else {
            return Answer::Pass;
        };
        if entry.until <= now_ms || seg.flags().contains(Flags::SYN) {
            *entry = Held::default();
            self.held = self.held.saturating_sub(1);
            return Answer::Pass;
        }
        if seg.flags().contains(Flags::RST) {
            *entry = Held::default();
            self.held = self.held.saturating_sub(1);
            return Answer::Drop;
        }
        // Without an ACK there is no sequence number to answer at.
        let Some(SeqNumber(seq)) = seg.ack() else {
            return Answer::Drop;
        };
        let (data, fin) = (!seg.payload().is_empty(), seg.flags().contains(Flags::FIN));
        if !data && !fin {
            return Answer::Drop;
        }
        let ack = seg
            .seq()
            .0
            .wrapping_add(seg.payload().len() as u32)
            .wrapping_add(u32::from(fin));
        if entry.answered_end == Some(seq) {
            // The peer has our answer and FIN: its FIN closes; data after them cannot be.
            return match data {
                false => Answer::AckFin { seq, ack },
                true => Answer::Reset { seq },
            };
        }
        if !entry.stream_end.admits(seq) {
            return Answer::Reset { seq };
        }
        entry.answered_end = Some(seq.wrapping_add(RESPONSE.len() as u32 + 1));
        Answer::Refuse { seq, ack }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::super::wire::tcp::{Options, Repr, SeqNumber};
    use super::*;

    fn seg(flags: Flags, ack: Option<u32>, payload: &[u8]) -> Repr<'_> {
        Repr {
            src_port: 40000,
            dst_port: 80,
            seq: SeqNumber(1000),
            ack: ack.map(SeqNumber),
            flags,
            window: 1000,
            options: Options::default(),
            payload,
        }
    }

    const PEER: Ip = Ip([10, 0, 3, 2]);

    #[test]
    fn response_length_matches_its_header() {
        let text = core::str::from_utf8(RESPONSE).unwrap();
        let (head, body) = text.split_once("\r\n\r\n").unwrap();
        assert!(head.contains("\r\nContent-Length: 59\r\n"));
        assert_eq!(body.len(), 59);
    }

    #[test]
    fn frame_flow_names_the_tcp_flow() {
        let mut frame = [0u8; 54];
        frame[12..14].copy_from_slice(&[0x08, 0x00]);
        frame[14] = 0x45;
        frame[23] = 6;
        frame[26..30].copy_from_slice(&PEER.0);
        frame[34..36].copy_from_slice(&40000u16.to_be_bytes());
        frame[36..38].copy_from_slice(&80u16.to_be_bytes());
        assert_eq!(frame_flow(&frame), Some(flow_key(PEER, 40000, 80)));
        frame[23] = 17;
        assert_eq!(frame_flow(&frame), None, "UDP");
        frame[23] = 6;
        assert_eq!(frame_flow(&frame[..36]), None, "truncated ports");
        frame[12] = 0x86;
        assert_eq!(frame_flow(&frame), None, "not IPv4");
        assert_eq!(frame_flow(&[]), None);
    }

    #[test]
    fn a_quarantined_request_is_refused_and_its_fin_acknowledged() {
        let mut q = Quarantine::default();
        let flow = flow_key(PEER, 40000, 80);
        assert_eq!(
            q.answer(flow, &seg(Flags::PSH, Some(7), b"GET /"), 0),
            Answer::Pass
        );
        q.add(flow, StreamEnd::Unknown, 0);
        assert_eq!(q.len(0), 1);
        assert_eq!(
            q.answer(flow, &seg(Flags::PSH, Some(7), b"GET /"), 10),
            Answer::Refuse { seq: 7, ack: 1005 }
        );
        // A retransmission gets the same answer: the request never runs.
        assert_eq!(
            q.answer(flow, &seg(Flags::PSH, Some(7), b"GET /"), 20),
            Answer::Refuse { seq: 7, ack: 1005 }
        );
        // Once the peer has our answer and FIN: its ACK needs nothing, its FIN an ACK, and
        // data after them a RST.
        let answered = 7 + RESPONSE.len() as u32 + 1;
        assert_eq!(
            q.answer(flow, &seg(Flags(0), Some(answered), b""), 30),
            Answer::Drop
        );
        assert_eq!(
            q.answer(flow, &seg(Flags::FIN, Some(answered), b""), 40),
            Answer::AckFin {
                seq: answered,
                ack: 1001
            }
        );
        assert_eq!(
            q.answer(flow, &seg(Flags::PSH, Some(answered), b"x"), 45),
            Answer::Reset { seq: answered }
        );
        assert_eq!(q.answer(flow, &seg(Flags(0), None, b"x"), 50), Answer::Drop);
        let other = flow_key(PEER, 40001, 80);
        assert_eq!(
            q.answer(other, &seg(Flags::PSH, Some(7), b"GET /"), 60),
            Answer::Pass
        );
    }

    #[test]
    fn the_answer_goes_only_where_the_old_stream_ended() {
        let mut q = Quarantine::default();
        let flow = flow_key(PEER, 40000, 80);
        q.add(flow, StreamEnd::At(500), 0);
        // The peer has not received all the old run sent: a 500 would overwrite it.
        assert_eq!(
            q.answer(flow, &seg(Flags::PSH, Some(400), b"GET /"), 1),
            Answer::Reset { seq: 400 }
        );
        assert_eq!(
            q.answer(flow, &seg(Flags::FIN, Some(400), b""), 2),
            Answer::Reset { seq: 400 }
        );
        // It has all of it: the 500 follows. A lone FIN gets it too (its request was
        // never answered), acknowledged with the FIN.
        assert_eq!(
            q.answer(flow, &seg(Flags::FIN, Some(500), b""), 3),
            Answer::Refuse {
                seq: 500,
                ack: 1001
            }
        );
        assert_eq!(
            q.answer(flow, &seg(Flags::PSH, Some(500), b"GET /"), 4),
            Answer::Refuse {
                seq: 500,
                ack: 1005
            }
        );
        // Responses were still to be sent: wherever the peer stands, the flow is reset.
        q.add(flow, StreamEnd::Unsettled, 5);
        assert_eq!(
            q.answer(flow, &seg(Flags::PSH, Some(500), b"GET /"), 6),
            Answer::Reset { seq: 500 }
        );
    }

    #[test]
    fn syn_rst_and_time_release_a_flow() {
        let mut q = Quarantine::default();
        let flow = flow_key(PEER, 40000, 80);
        q.add(flow, StreamEnd::Unknown, 0);
        assert_eq!(q.answer(flow, &seg(Flags::RST, None, b""), 1), Answer::Drop);
        assert_eq!(
            q.answer(flow, &seg(Flags::PSH, Some(7), b"x"), 2),
            Answer::Pass
        );
        q.add(flow, StreamEnd::Unknown, 0);
        assert_eq!(q.answer(flow, &seg(Flags::SYN, None, b""), 3), Answer::Pass);
        assert!(q.is_empty());
        q.add(flow, StreamEnd::Unknown, 0);
        assert_eq!(q.len(HOLD_MS), 0);
        assert_eq!(
            q.answer(flow, &seg(Flags::PSH, Some(7), b"x"), HOLD_MS),
            Answer::Pass
        );
        assert!(q.is_empty());
    }

    #[test]
    fn the_held_count_follows_the_table() {
        let mut q = Quarantine::default();
        let mut x = 0x9e37_79b9_7f4a_7c15u64;
        for now in 0..5000u64 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let flow = flow_key(PEER, 1000 + (x % 12) as u16, 80);
            let flags = [Flags::SYN, Flags::RST, Flags::PSH, Flags::FIN][(x >> 8) as usize % 4];
            if x >> 20 & 1 == 0 {
                q.add(flow, StreamEnd::Unknown, now * 40);
            } else {
                q.answer(flow, &seg(flags, Some(7), b"x"), now * 40);
            }
            assert_eq!(q.is_empty(), q.flows.iter().all(|e| e.flow == 0), "{now}");
        }
    }

    #[test]
    fn a_full_quarantine_replaces_its_oldest_flow() {
        let mut q = Quarantine::default();
        for port in 0..CAPACITY as u16 {
            q.add(
                flow_key(PEER, 1000 + port, 80),
                StreamEnd::Unknown,
                u64::from(port),
            );
        }
        q.add(0, StreamEnd::Unknown, 100);
        assert_eq!(q.len(100), CAPACITY);
        let newest = flow_key(PEER, 2000, 80);
        q.add(newest, StreamEnd::Unknown, 100);
        assert_eq!(q.len(100), CAPACITY);
        let data = seg(Flags::PSH, Some(1), b"x");
        assert_eq!(q.answer(flow_key(PEER, 1000, 80), &data, 101), Answer::Pass);
        assert_ne!(q.answer(flow_key(PEER, 1001, 80), &data, 101), Answer::Pass);
        assert_ne!(q.answer(newest, &data, 101), Answer::Pass);
    }
}
