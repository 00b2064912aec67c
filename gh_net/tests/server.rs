//! The joined server: a client's connection through SYN, two keep-alive GETs and a
//! closing GET, every response checked byte for byte.

#![allow(clippy::unwrap_used, clippy::indexing_slicing, missing_docs)]

use gh_net::engine::{NetConfig, Platform};
use gh_net::http::request::Parser;
use gh_net::server::{Server, ServerMemory};
use gh_net::tcp::Tcb;
use gh_net::wire::ethernet::{self, Address as Mac, EtherType};
use gh_net::wire::ipv4::{self, Address as Ip, Protocol};
use gh_net::wire::tcp::{self, Flags, Options, SeqNumber};

const SERVER_MAC: Mac = Mac([2, 0, 0, 0, 0, 1]);
const CLIENT_MAC: Mac = Mac([2, 0, 0, 0, 0, 2]);
const SERVER_IP: Ip = Ip([10, 9, 0, 1]);
const CLIENT_IP: Ip = Ip([10, 9, 0, 2]);

#[derive(Default)]
struct Nic {
    now: u64,
    sent: Vec<Vec<u8>>,
}

impl Platform for Nic {
    fn now_ms(&self) -> u64 {
        self.now
    }
    fn random(&mut self) -> u64 {
        7
    }
    fn transmit(&mut self, len: usize, build: &mut dyn FnMut(&mut [u8])) -> bool {
        let mut buf = vec![0u8; len];
        build(&mut buf);
        self.sent.push(buf);
        true
    }
}

fn client_frame(seq: u32, ack: Option<u32>, flags: Flags, payload: &[u8]) -> Vec<u8> {
    let seg = tcp::Repr {
        src_port: 51000,
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
        src: CLIENT_MAC,
        dst: SERVER_MAC,
        ethertype: EtherType::Ipv4,
    }
    .emit(&mut f)
    .unwrap();
    ipv4::Repr {
        src: CLIENT_IP,
        dst: SERVER_IP,
        protocol: Protocol::Tcp,
        payload_len: tcp_len as u16,
        ttl: 64,
    }
    .emit(&mut f[14..], 9)
    .unwrap();
    seg.emit(&mut f[34..], CLIENT_IP, SERVER_IP).unwrap();
    f
}

/// (seq, ack, flags, payload) of a frame the server sent.
fn parse(frame: &[u8]) -> (u32, Option<u32>, Flags, Vec<u8>) {
    let ip = ipv4::Packet::new_checked(&frame[14..]).unwrap();
    let t = tcp::Packet::new_checked(ip.payload()).unwrap();
    let r = tcp::Repr::parse(&t, SERVER_IP, CLIENT_IP).unwrap();
    (r.seq.0, r.ack.map(|a| a.0), r.flags, r.payload.to_vec())
}

#[test]
fn serves_keep_alive_then_close() {
    let response = b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nhi\n".to_vec();
    let (mut slots, mut table, mut heads, mut waits) = (
        vec![Tcb::EMPTY; 64],
        vec![0u32; 128],
        vec![0u32; 64],
        vec![0u32; 16],
    );
    let (mut parsers, mut ready) = (vec![Parser::new(); 64], vec![None; 64]);
    let port = [80u16];
    let mut server = Server::new(
        ServerMemory {
            slots: &mut slots,
            table: &mut table,
            heads: &mut heads,
            waits: &mut waits,
            parsers: &mut parsers,
            ready: &mut ready,
        },
        NetConfig {
            mac: SERVER_MAC,
            ip: SERVER_IP,
            gateway: None,
        },
        &port,
        &response,
        [1, 2, 3, 4],
        0,
    )
    .unwrap();
    let mut nic = Nic::default();
    let send = |server: &mut Server<'_>, nic: &mut Nic, frame: Vec<u8>, now: u64| {
        nic.now = now;
        nic.sent.clear();
        server.receive(&frame, nic);
        std::mem::take(&mut nic.sent)
    };

    let out = send(
        &mut server,
        &mut nic,
        client_frame(100, None, Flags::SYN, b""),
        1,
    );
    let (iss, ack, flags, _) = parse(&out[0]);
    assert_eq!((ack, flags), (Some(101), Flags::SYN));
    let mut seq = 101;
    let mut their = iss + 1;
    for (i, req) in [
        &b"GET / HTTP/1.1\r\nHost: a\r\n\r\n"[..],
        &b"GET /x HTTP/1.1\r\nHost: a\r\n\r\n"[..],
        &b"GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n"[..],
    ]
    .into_iter()
    .enumerate()
    {
        let out = send(
            &mut server,
            &mut nic,
            client_frame(seq, Some(their), Flags::PSH, req),
            10 + i as u64,
        );
        seq += req.len() as u32;
        let mut got = Vec::new();
        let mut fin = false;
        for f in &out {
            let (s, a, fl, p) = parse(f);
            assert_eq!(a, Some(seq));
            if !p.is_empty() {
                assert_eq!(s, their + got.len() as u32);
            }
            fin |= fl.contains(Flags::FIN);
            got.extend_from_slice(&p);
        }
        assert_eq!(got, response, "response {i}");
        their += got.len() as u32;
        // The client acknowledges the response, so the next request can be answered.
        send(
            &mut server,
            &mut nic,
            client_frame(seq, Some(their + u32::from(fin)), Flags(0), b""),
            20 + i as u64,
        );
        assert_eq!(fin, i == 2, "only Connection: close ends with FIN");
    }
    assert_eq!(server.counters.tcp_opened, 1);
    assert_eq!(server.counters.http_requests, 3);
}
