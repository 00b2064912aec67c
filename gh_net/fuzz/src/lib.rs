//! What GigaHttpd's network fuzz targets share: a recording NIC, the one place a
//! [`Server`] is built, frame builders for clients, and the checks every frame the
//! server sends must pass.
//!
//! The harness may panic on its own values (that is how libFuzzer learns of a failure);
//! it never unwraps a value that came from the engine without saying why it must hold.

use gh_net::checksum;
use gh_net::engine::{NetConfig, Platform};
use gh_net::owned::{OwnedMemory, Sizes};
use gh_net::server::Server;
use gh_net::site::Page;
use gh_net::wire::arp;
use gh_net::wire::ethernet::{self, Address as Mac, EtherType};
use gh_net::wire::icmp;
use gh_net::wire::ipv4::{self, Address as Ip, Protocol};
use gh_net::wire::tcp;

/// The server's hardware address.
pub const SERVER_MAC: Mac = Mac([2, 0, 0, 0, 0, 1]);
/// The server's IPv4 address.
pub const SERVER_IP: Ip = Ip([10, 9, 0, 1]);
/// The gateway: set so that the network layer's ARP resolution runs too.
pub const GATEWAY_IP: Ip = Ip([10, 9, 0, 254]);
/// The port the server listens on.
pub const HTTP_PORT: u16 = 80;
/// Connection slots: few, so that a short input fills the pool and reaches SYN cookies.
pub const POOL_SLOTS: usize = 4;
/// Largest TCP payload the server may put in one segment (its MSS).
pub const SERVER_MSS: usize = 1460;

/// A NIC that records every frame the server builds, with a clock the harness moves and
/// a TX ring the harness can declare full.
#[derive(Default)]
pub struct Nic {
    /// Platform time in milliseconds.
    pub now: u64,
    /// Frames transmitted since the harness last took them.
    pub sent: Vec<Vec<u8>>,
    /// While true, `transmit` refuses like a full TX ring.
    pub tx_full: bool,
}

impl Platform for Nic {
    fn now_ms(&self) -> u64 {
        self.now
    }

    fn random(&mut self) -> u64 {
        // Fixed, so a crash input replays the same way.
        0x5eed_0f9a_1e00
    }

    fn transmit(&mut self, len: usize, build: &mut dyn FnMut(&mut [u8])) -> bool {
        if self.tx_full {
            return false;
        }
        let mut buf = vec![0u8; len];
        build(&mut buf);
        self.sent.push(buf);
        true
    }
}

/// A page body longer than three segments, so its responses are split and limited by
/// the peer's window.
static BIG_BODY: [u8; 4000] = {
    let mut body = [0u8; 4000];
    let mut i = 0;
    while i < body.len() {
        body[i] = b'a' + (i % 26) as u8;
        i += 1;
    }
    body
};

/// The pages of the built-in site; `/echo` (POST) is the site's own task.
pub static PAGES: [Page<'static>; 2] = [
    Page {
        path: "/",
        content_type: "text/html",
        body: b"<h1>GigaHttpd</h1>\n",
    },
    Page {
        path: "/big",
        content_type: "text/plain",
        body: &BIG_BODY,
    },
];

/// The date the site starts at (Unix seconds).
pub const START_DATE: u64 = 1_700_000_000;

/// The ETag the site gives `page`: FNV-1a of its body, in quotes, so that inputs can
/// carry a matching `If-None-Match`.
pub fn etag(page: &Page<'_>) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in page.body {
        h = (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3);
    }
    format!("\"{h:016x}\"")
}

/// Memory for one server: everything [`Server::new`] borrows, and its port.
pub struct ServerMem {
    arrays: OwnedMemory,
    port: [u16; 1],
}

impl Default for ServerMem {
    fn default() -> Self {
        let sizes = Sizes {
            slots: POOL_SLOTS,
            timers: 64,
            waits: POOL_SLOTS,
            // Fewer tasks than slots, so that `/echo` also meets a busy pool (503).
            tasks: 2,
            // Short, so that pipelined requests also meet a full queue.
            pipeline: 4,
        };
        ServerMem {
            arrays: OwnedMemory::new(&sizes, &PAGES),
            port: [HTTP_PORT],
        }
    }
}

/// Builds the server every network target drives, at time `now_ms`.
///
/// The only place that knows `Server::new`'s signature: when the server's API changes,
/// this function (and [`ServerMem`]) is what follows it.
pub fn new_server(mem: &mut ServerMem, now_ms: u64) -> Server<'_> {
    let server = Server::new(
        mem.arrays.memory(),
        NetConfig {
            mac: SERVER_MAC,
            ip: SERVER_IP,
            prefix_len: 24,
            gateway: Some(GATEWAY_IP),
        },
        &mem.port,
        &PAGES,
        START_DATE,
        [1, 2, 3, 4],
        now_ms,
    );
    // The memory above is sized as `Server::new` documents, so it cannot refuse it.
    server.unwrap_or_else(|| panic!("harness memory rejected by Server::new"))
}

/// The counters of `server` that are not zero, for failure messages: they tell what
/// the engine did with the input.
pub fn counters(server: &Server<'_>) -> String {
    let mut out = String::new();
    server.counters.for_each(&mut |name, v| {
        if v != 0 {
            out += &format!("{name}={v} ");
        }
    });
    out
}

/// One client machine on the server's link.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Host {
    /// Its hardware address.
    pub mac: Mac,
    /// Its IPv4 address.
    pub ip: Ip,
}

/// The clients the targets speak for; the server learns each one's hardware address
/// from its frames.
pub const HOSTS: [Host; 3] = [
    Host {
        mac: Mac([2, 0, 0, 0, 0, 2]),
        ip: Ip([10, 9, 0, 2]),
    },
    Host {
        mac: Mac([2, 0, 0, 0, 0, 3]),
        ip: Ip([10, 9, 0, 3]),
    },
    Host {
        mac: Mac([2, 0, 0, 0, 0, 4]),
        ip: Ip([10, 9, 0, 4]),
    },
];

/// A complete, correctly checksummed Ethernet/IPv4/TCP frame from `host` to the server.
pub fn tcp_frame(host: &Host, seg: &tcp::Repr<'_>) -> Vec<u8> {
    let tcp_len = seg.buffer_len();
    let mut f = vec![0u8; ethernet::HEADER_LEN + ipv4::HEADER_LEN + tcp_len];
    let ip_len = u16::try_from(tcp_len).unwrap_or_else(|_| panic!("harness segment too long"));
    let eth = ethernet::Repr {
        src: host.mac,
        dst: SERVER_MAC,
        ethertype: EtherType::Ipv4,
    };
    let ip = ipv4::Repr {
        src: host.ip,
        dst: SERVER_IP,
        protocol: Protocol::Tcp,
        payload_len: ip_len,
        ttl: 64,
    };
    // The buffer is sized from the same lengths the emitters check against.
    let ok = eth.emit(&mut f).is_ok()
        && ip.emit(&mut f[ethernet::HEADER_LEN..], 1).is_ok()
        && seg
            .emit(
                &mut f[ethernet::HEADER_LEN + ipv4::HEADER_LEN..],
                host.ip,
                SERVER_IP,
            )
            .is_ok();
    assert!(ok, "harness frame did not fit its buffer");
    f
}

/// An ARP request for the server's address from `host`.
pub fn arp_request(host: &Host) -> Vec<u8> {
    let mut f = vec![0u8; ethernet::HEADER_LEN + arp::PACKET_LEN];
    let ok = ethernet::Repr {
        src: host.mac,
        dst: Mac::BROADCAST,
        ethertype: EtherType::Arp,
    }
    .emit(&mut f)
    .is_ok()
        && arp::Repr {
            operation: arp::Operation::Request,
            source_hw: host.mac,
            source_ip: host.ip,
            target_hw: Mac([0; 6]),
            target_ip: SERVER_IP,
        }
        .emit(&mut f[ethernet::HEADER_LEN..])
        .is_ok();
    assert!(ok, "harness frame did not fit its buffer");
    f
}

/// An ICMP echo request from `host` to the server.
pub fn ping(host: &Host, data: &[u8]) -> Vec<u8> {
    let msg = icmp::Repr::EchoRequest {
        ident: 7,
        seq: 1,
        data,
    };
    let icmp_len = msg.buffer_len();
    let mut f = vec![0u8; ethernet::HEADER_LEN + ipv4::HEADER_LEN + icmp_len];
    let ip_len = u16::try_from(icmp_len).unwrap_or_else(|_| panic!("harness ping too long"));
    let ok = ethernet::Repr {
        src: host.mac,
        dst: SERVER_MAC,
        ethertype: EtherType::Ipv4,
    }
    .emit(&mut f)
    .is_ok()
        && ipv4::Repr {
            src: host.ip,
            dst: SERVER_IP,
            protocol: Protocol::Icmp,
            payload_len: ip_len,
            ttl: 64,
        }
        .emit(&mut f[ethernet::HEADER_LEN..], 2)
        .is_ok()
        && msg
            .emit(&mut f[ethernet::HEADER_LEN + ipv4::HEADER_LEN..])
            .is_ok();
    assert!(ok, "harness frame did not fit its buffer");
    f
}

/// Rewrites the IPv4 header checksum and the TCP or ICMP checksum of `frame` so that a
/// mutated frame gets past the checksum checks into the code behind them. Frames too
/// short or too inconsistent to locate the fields are left alone.
pub fn fix_checksums(frame: &mut [u8]) {
    const ETH: usize = ethernet::HEADER_LEN;
    if frame.len() < ETH + ipv4::HEADER_LEN || frame[12..14] != [0x08, 0x00] {
        return;
    }
    let ihl = usize::from(frame[ETH] & 0x0f) * 4;
    if ihl < ipv4::HEADER_LEN || frame.len() < ETH + ihl {
        return;
    }
    frame[ETH + 10..ETH + 12].fill(0);
    let sum = checksum::of(&frame[ETH..ETH + ihl]);
    frame[ETH + 10..ETH + 12].copy_from_slice(&sum.to_be_bytes());
    let total = usize::from(u16::from_be_bytes([frame[ETH + 2], frame[ETH + 3]]));
    if total < ihl || frame.len() < ETH + total {
        return;
    }
    let body = ETH + ihl..ETH + total;
    let (src, dst) = (
        [
            frame[ETH + 12],
            frame[ETH + 13],
            frame[ETH + 14],
            frame[ETH + 15],
        ],
        [
            frame[ETH + 16],
            frame[ETH + 17],
            frame[ETH + 18],
            frame[ETH + 19],
        ],
    );
    match frame[ETH + 9] {
        6 if body.len() >= tcp::HEADER_LEN => {
            let at = body.start + 16;
            frame[at..at + 2].fill(0);
            let len = (body.len()) as u16;
            let sum = checksum::pseudo_header(src, dst, 6, len);
            let sum = checksum::finish(checksum::add(sum, &frame[body]));
            frame[at..at + 2].copy_from_slice(&sum.to_be_bytes());
        }
        1 if body.len() >= icmp::HEADER_LEN => {
            let at = body.start + 2;
            frame[at..at + 2].fill(0);
            let sum = checksum::of(&frame[body]);
            frame[at..at + 2].copy_from_slice(&sum.to_be_bytes());
        }
        _ => {}
    }
}

/// A frame the server sent, parsed and checked by [`check_sent`].
#[derive(Debug)]
pub enum Sent<'a> {
    /// An ARP request or reply.
    Arp(arp::Repr),
    /// An ICMP echo reply to `dst`.
    Icmp {
        /// Destination address.
        dst: Ip,
    },
    /// A TCP segment to `dst` (hardware address `dst_mac`).
    Tcp {
        /// Destination hardware address.
        dst_mac: Mac,
        /// Destination address.
        dst: Ip,
        /// The segment.
        seg: tcp::Repr<'a>,
    },
}

/// Parses a frame the server transmitted and panics unless it is a well-formed frame from
/// the server: ARP, or IPv4 with a valid header checksum carrying an ICMP echo reply or a
/// TCP segment whose checksum verifies, with no bytes after the IPv4 packet and no TCP
/// segment larger than the server's MSS.
pub fn check_sent(frame: &[u8]) -> Sent<'_> {
    let eth = ethernet::Frame::new_checked(frame)
        .unwrap_or_else(|e| panic!("sent frame is not Ethernet ({e:?}): {frame:02x?}"));
    assert_eq!(eth.src(), SERVER_MAC, "sent frame has a foreign source MAC");
    let payload = &frame[ethernet::HEADER_LEN..];
    match eth.ethertype() {
        EtherType::Arp => {
            let repr = arp::Packet::new_checked(payload)
                .and_then(|p| arp::Repr::parse(&p))
                .unwrap_or_else(|e| panic!("sent ARP does not parse ({e:?}): {frame:02x?}"));
            assert_eq!(
                (repr.source_hw, repr.source_ip),
                (SERVER_MAC, SERVER_IP),
                "ARP speaks for another host"
            );
            Sent::Arp(repr)
        }
        EtherType::Ipv4 => {
            let packet = ipv4::Packet::new_checked(payload)
                .unwrap_or_else(|e| panic!("sent IPv4 does not parse ({e:?}): {frame:02x?}"));
            let ip = ipv4::Repr::parse(&packet)
                .unwrap_or_else(|e| panic!("sent IPv4 is invalid ({e:?}): {frame:02x?}"));
            assert_eq!(ip.src, SERVER_IP, "sent IPv4 has a foreign source");
            assert_eq!(
                usize::from(packet.total_len()),
                payload.len(),
                "sent frame has bytes after its IPv4 packet"
            );
            // Sliced from the frame itself, so the parsed segment can outlive `packet`.
            let body = &payload[packet.header_len()..payload.len()];
            match ip.protocol {
                Protocol::Tcp => {
                    let seg = tcp::Packet::new_checked(body)
                        .and_then(|t| tcp::Repr::parse(&t, ip.src, ip.dst))
                        .unwrap_or_else(|e| {
                            panic!("sent TCP segment is invalid ({e:?}): {frame:02x?}")
                        });
                    assert!(
                        seg.payload.len() <= SERVER_MSS,
                        "sent segment of {} bytes exceeds the MSS",
                        seg.payload.len()
                    );
                    Sent::Tcp {
                        dst_mac: eth.dst(),
                        dst: ip.dst,
                        seg,
                    }
                }
                Protocol::Icmp => {
                    let msg = icmp::Packet::new_checked(body)
                        .and_then(|m| icmp::Repr::parse(&m))
                        .unwrap_or_else(|e| panic!("sent ICMP is invalid ({e:?}): {frame:02x?}"));
                    assert!(
                        matches!(msg, icmp::Repr::EchoReply { .. }),
                        "the server sent an ICMP message other than an echo reply"
                    );
                    Sent::Icmp { dst: ip.dst }
                }
                Protocol::Unknown(p) => panic!("sent IPv4 carries protocol {p}"),
            }
        }
        EtherType::Unknown(t) => panic!("sent frame has EtherType {t:#06x}"),
    }
}

/// The bytes a server sent on one connection, in stream order. Checks what TCP promises
/// the client: the stream never skips ahead, a retransmission repeats the bytes first
/// sent (the site must write the same bytes every time), and it starts with a response.
#[derive(Clone, Debug, Default)]
pub struct Stream {
    /// Every byte sent so far.
    pub bytes: Vec<u8>,
}

impl Stream {
    /// Appends `data` sent at stream offset `at`.
    pub fn record(&mut self, at: usize, data: &[u8]) {
        assert!(
            at <= self.bytes.len(),
            "server skipped stream bytes: segment at {at}, only {} sent before",
            self.bytes.len()
        );
        let overlap = data.len().min(self.bytes.len() - at);
        let (again, first) = (&data[..overlap], &self.bytes[at..at + overlap]);
        assert!(
            again == first,
            "retransmitted bytes differ from the first transmission at offset {at}:\n{}\n{}",
            String::from_utf8_lossy(again),
            String::from_utf8_lossy(first)
        );
        self.bytes.extend_from_slice(&data[overlap..]);
        let start = b"HTTP/1.1 ";
        let n = self.bytes.len().min(start.len());
        assert_eq!(
            &self.bytes[..n],
            &start[..n],
            "the stream does not start with a response"
        );
    }
}
