//! What the integration tests share: addresses, a recording NIC, and frames to and from
//! the server.

#![allow(dead_code, clippy::unwrap_used, clippy::indexing_slicing, missing_docs)]

use gh_net::engine::Platform;
use gh_net::quarantine::StreamEnd;
use gh_net::wire::ethernet::{self, Address as Mac, EtherType};
use gh_net::wire::ipv4::{self, Address as Ip, Protocol};
use gh_net::wire::tcp::{self, Flags, Options, SeqNumber};

pub const SERVER_MAC: Mac = Mac([2, 0, 0, 0, 0, 1]);
pub const CLIENT_MAC: Mac = Mac([2, 0, 0, 0, 0, 2]);
pub const SERVER_IP: Ip = Ip([10, 9, 0, 1]);
pub const CLIENT_IP: Ip = Ip([10, 9, 0, 2]);

#[derive(Default)]
pub struct Nic {
    pub now: u64,
    pub sent: Vec<Vec<u8>>,
    /// What the engine last said of the connection it was serving (`Platform::serving`).
    pub serving: Option<StreamEnd>,
}

impl Platform for Nic {
    fn now_ms(&self) -> u64 {
        self.now
    }
    fn random(&mut self) -> u64 {
        0x1234_5678
    }
    fn serving(&mut self, stream_end: Option<u32>) {
        self.serving = Some(stream_end.map_or(StreamEnd::Unsettled, StreamEnd::At));
    }
    fn transmit(&mut self, len: usize, build: &mut dyn FnMut(&mut [u8])) -> bool {
        let mut buf = vec![0u8; len];
        build(&mut buf);
        self.sent.push(buf);
        true
    }
}

pub fn client_frame(seq: u32, ack: Option<u32>, flags: Flags, payload: &[u8]) -> Vec<u8> {
    client_frame_from(51000, seq, ack, flags, payload)
}

/// A frame from the client's port `port`.
pub fn client_frame_from(
    port: u16,
    seq: u32,
    ack: Option<u32>,
    flags: Flags,
    payload: &[u8],
) -> Vec<u8> {
    frame_of((CLIENT_MAC, CLIENT_IP, port), seq, ack, flags, payload)
}

/// A frame from port `port` of `ip`, sent by the station `mac`.
pub fn frame_of(
    (mac, ip, port): (Mac, Ip, u16),
    seq: u32,
    ack: Option<u32>,
    flags: Flags,
    payload: &[u8],
) -> Vec<u8> {
    let seg = tcp::Repr {
        src_port: port,
        dst_port: 80,
        seq: SeqNumber(seq),
        ack: ack.map(SeqNumber),
        flags,
        window: 65535,
        options: Options {
            mss: flags.contains(Flags::SYN).then_some(1460),
            ..Options::default()
        },
        payload,
    };
    let tcp_len = seg.buffer_len();
    let mut f = vec![0u8; 14 + 20 + tcp_len];
    ethernet::Repr {
        src: mac,
        dst: SERVER_MAC,
        ethertype: EtherType::Ipv4,
    }
    .emit(&mut f)
    .unwrap();
    ipv4::Repr {
        src: ip,
        dst: SERVER_IP,
        protocol: Protocol::Tcp,
        payload_len: tcp_len as u16,
        ttl: 64,
    }
    .emit(&mut f[14..], 9)
    .unwrap();
    seg.emit(&mut f[34..], ip, SERVER_IP).unwrap();
    f
}

/// Parses a frame the server sent: (seq, ack, flags, payload).
pub fn server_segment(frame: &[u8]) -> (u32, Option<u32>, Flags, Vec<u8>) {
    let eth = ethernet::Frame::new_checked(frame).unwrap();
    assert_eq!((eth.dst(), eth.src()), (CLIENT_MAC, SERVER_MAC));
    let ip = ipv4::Packet::new_checked(&frame[14..]).unwrap();
    let ipr = ipv4::Repr::parse(&ip).unwrap();
    assert_eq!((ipr.src, ipr.dst), (SERVER_IP, CLIENT_IP));
    let t = tcp::Packet::new_checked(ip.payload()).unwrap();
    let r = tcp::Repr::parse(&t, SERVER_IP, CLIENT_IP).unwrap();
    (r.seq.0, r.ack.map(|a| a.0), r.flags, r.payload.to_vec())
}
