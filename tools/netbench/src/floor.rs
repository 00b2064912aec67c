//! The frames alone: the least work any server of this exchange does, with gh_net's own
//! wire routines. Each client frame is taken and checked as GigaHttpd's receive path
//! takes it (`frame::parse_tcp`: addresses, IPv4 and TCP checksums), and each of the three
//! answers is built as GigaHttpd builds it (`frame::TcpOut::emit`), the response copied
//! with its checksum sum known in advance. Nothing else: no connection is remembered
//! (every answer is derived from the segment it answers, with a fixed initial sequence
//! number), no timer runs and the request is not parsed. It is no server anyone should
//! run; it is the floor under the figure, which `tools/bench.sh` prints beside it.

use gh_net::bytes::copy;
use gh_net::checksum;
use gh_net::wire::frame::{self, TcpOut};
use gh_net::wire::ipv4::Address as Ip;
use gh_net::wire::tcp::{Flags, Incoming, SeqNumber};

use crate::client::Target;
use crate::wire::{Wire, HTTP_PORT, SERVER_IP, SERVER_MAC};
use crate::{server_work, Work};

/// The initial sequence number of every connection.
const ISS: SeqNumber = SeqNumber(0x1234_5678);
/// The data network's own address and directed broadcast (a /24, as GigaHttpd's).
const SUBNET_ENDS: [Ip; 2] = [Ip([10, 9, 0, 0]), Ip([10, 9, 0, 255])];
/// The window the answers advertise.
const WINDOW: u16 = 1024;

/// The stateless answerer: the transmit ring and the response it sends.
pub struct Floor {
    wire: Wire,
    response: &'static [u8],
    response_sum: u16,
    /// Requests answered.
    pub served: u64,
}

impl Floor {
    /// Answers every request with `response`.
    pub fn new(response: &'static [u8]) -> Self {
        Self {
            wire: Wire::new(),
            response,
            response_sum: checksum::partial(response),
            served: 0,
        }
    }
}

/// The answer to one frame: flags other than ACK, sequence and acknowledgment numbers,
/// the MSS option, and whether the response goes with it.
struct Answer {
    flags: Flags,
    seq: SeqNumber,
    ack: SeqNumber,
    mss: Option<u16>,
    response: bool,
}

/// Answers the segment in `frame`, if it needs an answer.
#[inline(never)]
fn answer(floor: &mut Floor, frame: &[u8]) {
    let Some(t) = frame::parse_tcp(frame, SERVER_MAC, SERVER_IP, SUBNET_ENDS) else {
        return;
    };
    let seg = &t.segment;
    let (flags, seq, data) = (seg.flags(), seg.seq(), seg.payload());
    let a = if flags.contains(Flags::SYN) {
        Answer {
            flags: Flags::SYN,
            seq: ISS,
            ack: seq.wrapping_add(1),
            mss: Some(1460),
            response: false,
        }
    } else if let Some(ack) = seg.ack() {
        if flags.contains(Flags::FIN) {
            Answer {
                flags: Flags(0),
                seq: ack,
                ack: seq.wrapping_add(1),
                mss: None,
                response: false,
            }
        } else if !data.is_empty() {
            Answer {
                flags: Flags::PSH.with(Flags::FIN),
                seq: ack,
                ack: seq.wrapping_add(data.len() as u32),
                mss: None,
                response: true,
            }
        } else {
            return;
        }
    } else {
        return;
    };
    let out = TcpOut {
        src_mac: SERVER_MAC,
        dst_mac: t.src_mac,
        src_ip: SERVER_IP,
        dst_ip: t.src,
        ident: 0,
        src_port: HTTP_PORT,
        dst_port: seg.src_port(),
        seq: a.seq,
        ack: Some(a.ack),
        flags: a.flags,
        window: WINDOW,
        mss: a.mss,
    };
    let (body, sum): (&[u8], u16) = if a.response {
        floor.served += 1;
        (floor.response, floor.response_sum)
    } else {
        (&[], 0)
    };
    let Some(len) = frame::tcp_frame_len(a.mss.is_some(), body.len()) else {
        return;
    };
    floor.wire.push(len, |buf| {
        out.emit(buf, body.len(), |d| {
            copy(d, body);
            Some(sum)
        })
    });
}

impl Target for Floor {
    fn deliver(&mut self, frame: &[u8], _now_ms: u64, measured: bool) {
        if measured {
            server_work(Work::of_frame(frame), || answer(self, frame));
        } else {
            answer(self, frame);
        }
    }

    fn wire(&mut self) -> &mut Wire {
        &mut self.wire
    }
}
