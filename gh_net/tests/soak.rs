//! The joined server under random clients: they connect, send pieces of requests (good,
//! bad, pipelined, with bodies, closing, waiting for 100 Continue), acknowledge or not,
//! send again, close, reset and vanish, while time passes. Whatever they did, every
//! resource comes back: once they are gone and the server's timers have run out, no
//! connection, echo task or parked connection is left, and nothing panicked on the way.

#![allow(clippy::unwrap_used, clippy::indexing_slicing, missing_docs)]

mod common;

use common::{frame_of, Nic, CLIENT_IP, CLIENT_MAC, SERVER_IP, SERVER_MAC};
use gh_net::counters::Counters;
use gh_net::engine::NetConfig;
use gh_net::owned::{OwnedMemory, Sizes};
use gh_net::server::Server;
use gh_net::site::Page;
use gh_net::wire::ethernet::Address as Mac;
use gh_net::wire::ipv4::Address as Ip;
use gh_net::wire::tcp::Flags;

const PAGES: [Page<'static>; 1] = [Page {
    path: "/",
    content_type: "text/html",
    body: b"<h1>GigaHttpd</h1>\n",
}];

/// What the clients send, in pieces of any size.
const REQUESTS: &[&[u8]] = &[
    b"GET / HTTP/1.1\r\nHost: a\r\n\r\n",
    b"HEAD / HTTP/1.1\r\nHost: a\r\n\r\n",
    b"GET /missing HTTP/1.1\r\nHost: a\r\n\r\n",
    b"GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n",
    b"GET / HTTP/1.0\r\n\r\n",
    b"POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello",
    b"POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 300\r\n\r\n",
    b"POST /echo HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\n",
    b"POST /echo HTTP/1.0\r\nContent-Length: 2\r\n\r\nhi",
    b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\n\r\nbody",
    b"GET / HTTP/1.1\r\nHost a\r\n\r\n",
    b"BREW / HTTP/1.1\r\n\r\n",
    b"GET / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n",
    b"POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3;e\r\nabc\r\n0\r\n\r\n",
    b"POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabcd\r\n",
    b"GET / HTTP/1.1\r\nHost: a\r\nIf-None-Match: *\r\n\r\n",
    b"\r\n",
];

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
}

/// One client: a TCP peer that keeps what it sent, so it can send it again from what the
/// server acknowledged.
struct Peer {
    /// Its station, address and port.
    addr: (Mac, Ip, u16),
    open: bool,
    /// Its initial sequence number + 1: the sequence number of `out[0]`.
    base: u32,
    out: Vec<u8>,
    fin_sent: bool,
    /// Next sequence number expected from the server, once it answered the SYN.
    their: Option<u32>,
    /// What the server acknowledged last.
    acked: u32,
    /// The rest of the request being sent.
    pending: Vec<u8>,
}

impl Peer {
    fn next_seq(&self) -> u32 {
        self.base
            .wrapping_add(self.out.len() as u32)
            .wrapping_add(u32::from(self.fin_sent))
    }

    fn frame(&self, seq: u32, flags: Flags, payload: &[u8]) -> Vec<u8> {
        frame_of(self.addr, seq, self.their, flags, payload)
    }

    /// Takes a frame the server sent to this peer.
    fn take(&mut self, seq: u32, ack: Option<u32>, flags: Flags, len: usize) {
        if flags.contains(Flags::RST) {
            self.open = false;
            return;
        }
        if let Some(a) = ack {
            self.acked = a;
        }
        if flags.contains(Flags::SYN) {
            self.their = Some(seq.wrapping_add(1));
            return;
        }
        if self.their == Some(seq) {
            let fin = u32::from(flags.contains(Flags::FIN));
            self.their = Some(seq.wrapping_add(len as u32).wrapping_add(fin));
        }
    }
}

fn dst_port(frame: &[u8]) -> u16 {
    u16::from_be_bytes([frame[36], frame[37]])
}

/// One run of `steps` client actions; returns what the server counted.
fn run(seed: u64, steps: usize) -> Counters {
    // Odd seeds have two clients beyond the link, behind a gateway that never answers
    // ARP: nothing the server sends them can leave.
    let far = seed % 2 == 1;
    let mut rng = Rng(seed | 1);
    let sizes = Sizes {
        slots: 6,
        timers: 64,
        waits: 4,
        tasks: 2,
        pipeline: 8,
    };
    let mut mem = OwnedMemory::new(&sizes, &PAGES);
    static PORT: [u16; 1] = [80];
    let cfg = NetConfig {
        mac: SERVER_MAC,
        ip: SERVER_IP,
        prefix_len: 24,
        gateway: far.then_some(Ip([10, 9, 0, 254])),
    };
    let mut server = Server::new(
        mem.memory(),
        cfg,
        &PORT,
        &PAGES,
        1_000_000,
        [seed, 2, 3, 4],
        0,
    )
    .unwrap();
    server.set_idle_ms(5_000);
    let mut nic = Nic::default();
    let mut peers: Vec<Peer> = (0..8u16)
        .map(|k| Peer {
            addr: match k {
                6 | 7 if far => (
                    Mac([2, 0, 0, 0, 0, 0x77]),
                    Ip([198, 51, 100, k as u8]),
                    40000 + k,
                ),
                _ => (CLIENT_MAC, CLIENT_IP, 40000 + k),
            },
            open: false,
            base: 0,
            out: Vec::new(),
            fin_sent: false,
            their: None,
            acked: 0,
            pending: Vec::new(),
        })
        .collect();
    let mut next_tick = 10;
    for _ in 0..steps {
        nic.now += rng.below(40) as u64;
        while nic.now >= next_tick {
            server.tick(&mut nic);
            next_tick += 10;
        }
        let p = &mut peers[rng.below(8)];
        let frame = if !p.open {
            // A new connection from this port (its old one may linger in the server).
            p.base = rng.next() as u32;
            p.out.clear();
            p.pending.clear();
            (p.open, p.fin_sent, p.their) = (true, false, None);
            let isn = p.base;
            p.base = p.base.wrapping_add(1);
            frame_of(p.addr, isn, None, Flags::SYN, b"")
        } else {
            match rng.below(10) {
                0..=3 if !p.fin_sent => {
                    // Whole requests, one after the other, in pieces of any size.
                    if p.pending.is_empty() {
                        p.pending = REQUESTS[rng.below(REQUESTS.len())].to_vec();
                    }
                    let piece: Vec<u8> =
                        p.pending.drain(..1 + rng.below(p.pending.len())).collect();
                    let seq = p.next_seq();
                    p.out.extend_from_slice(&piece);
                    p.frame(seq, Flags::PSH, &piece)
                }
                4 | 5 => p.frame(p.next_seq(), Flags(0), b""),
                6 => {
                    // Again from what the server acknowledged (its refusals included).
                    let from = p.acked.wrapping_sub(p.base) as usize;
                    let rest = p.out.get(from..).unwrap_or(&[]);
                    let piece = &rest[..rest.len().min(1 + rng.below(600))];
                    p.frame(p.acked, Flags::PSH, piece)
                }
                7 if !p.fin_sent => {
                    let seq = p.next_seq();
                    p.fin_sent = true;
                    p.frame(seq, Flags::FIN, b"")
                }
                8 if rng.chance(30) => {
                    p.open = false;
                    p.frame(p.next_seq(), Flags::RST, b"")
                }
                9 if rng.chance(20) => {
                    // Gone without a word.
                    p.open = false;
                    continue;
                }
                _ => p.frame(p.next_seq(), Flags(0), b""),
            }
        };
        nic.now += 1;
        server.receive(&frame, &mut nic);
        for f in std::mem::take(&mut nic.sent) {
            let port = dst_port(&f);
            if let Some(p) = peers.iter_mut().find(|p| p.addr.2 == port && p.open) {
                let (seq, ack, flags, payload) = common::server_segment(&f);
                p.take(seq, ack, flags, payload.len());
            }
        }
        assert!(server.connections() <= sizes.slots, "seed {seed}");
        assert!(server.tasks_busy() <= sizes.tasks, "seed {seed}");
    }
    // Every client vanishes; the server's timers end what is left (idle 5 s, FIN and
    // retransmission retries, TIME-WAIT).
    let end = nic.now + 600_000;
    while nic.now < end && server.connections() > 0 {
        nic.now += 10;
        server.tick(&mut nic);
        nic.sent.clear();
    }
    assert_eq!(
        (server.connections(), server.tasks_busy(), server.parked()),
        (0, 0, 0),
        "seed {seed}: connections, tasks and parked connections left"
    );
    server.counters
}

#[test]
fn every_resource_comes_back() {
    let mut all = Counters::default();
    for seed in 1..=300u64 {
        all.accumulate(&run(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15), 400));
    }
    // What the runs went through, so that a change of the clients that stops reaching
    // the server's corners shows.
    let mut seen = String::new();
    all.for_each(&mut |name, v| {
        if v > 0 {
            seen += &format!(" {name}={v}");
        }
    });
    eprintln!("soak:{seen}");
    for (what, v) in [
        ("requests", all.http_requests),
        ("rejections", all.http_rejected),
        ("503s", all.qos_refused_503),
        ("resets received", all.tcp_resets_received),
        ("retransmissions", all.tcp_retransmits),
        ("TIME-WAITs recycled", all.tcp_time_wait_recycled),
        ("segments lost for want of a next hop", all.tx_no_route),
    ] {
        assert!(v > 0, "no {what}");
    }
}
