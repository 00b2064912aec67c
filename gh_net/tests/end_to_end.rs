//! One short HTTP connection through the whole engine, frame by frame: ARP, ping, the
//! handshake, a GET parsed in place, the response sent from application memory, FIN both
//! ways and the TIME-WAIT timer.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    missing_docs
)]

mod common;

use common::{client_frame, server_segment, Nic, SERVER_IP, SERVER_MAC};
use gh_net::counters::Counters;
use gh_net::engine::{NetConfig, Network, Received, Sent};
use gh_net::http::request::{Event, Limits, Parser};
use gh_net::http::response::{write_head, ResponseHead};
use gh_net::http::Status;
use gh_net::qos::WaitList;
use gh_net::tcp::listener::{App, Listener};
use gh_net::tcp::pool::Pool;
use gh_net::tcp::siphash::Key;
use gh_net::tcp::wheel::Wheel;
use gh_net::tcp::{Config, Flow, Segment, Source, Tcb, Tx};
use gh_net::wire::tcp::Flags;

/// Serves one fixed page; the response (head and body) lives in application memory.
struct Site {
    page: Vec<u8>,
    parsers: Vec<Parser>,
    ready: Vec<Option<bool>>,
}

impl Source for Site {
    fn len(&self, _: u32) -> u32 {
        self.page.len() as u32
    }
    fn fill(&self, _: u32, off: u32, out: &mut [u8]) -> Option<u16> {
        let off = off as usize;
        out.copy_from_slice(&self.page[off..off + out.len()]);
        None
    }
}

impl App for Site {
    fn on_data(&mut self, slot: usize, data: &[u8]) -> usize {
        let mut keep = None;
        let progress = self.parsers[slot]
            .feed(data, &Limits::default(), &mut |e| {
                if let Event::Head(h) = e {
                    keep = Some(h.keep_alive);
                }
            })
            .expect("valid request");
        if progress.complete {
            self.ready[slot] = keep;
        }
        progress.consumed
    }
    fn on_ready(&mut self, slot: usize, tcb: &mut Tcb) {
        if let Some(keep_alive) = self.ready[slot] {
            if tcb.send(0, &*self) {
                self.ready[slot] = None;
                if !keep_alive {
                    tcb.close();
                }
            }
        }
    }
    fn on_closed(&mut self, slot: usize) {
        self.parsers[slot] = Parser::new();
    }
    fn settled(&self, slot: usize) -> bool {
        self.ready[slot].is_none()
    }
}

/// The TCP layer's transmit path: frames built by the network layer, data copied once
/// from the site's memory into the frame.
struct FrameTx<'a> {
    net: &'a mut Network,
    nic: &'a mut Nic,
    ctr: Counters,
}

impl Tx for FrameTx<'_> {
    fn transmit(&mut self, flow: &Flow, seg: &Segment, src: &impl Source) -> Sent {
        let (handle, off, len) = seg.data.unwrap_or((0, 0, 0));
        self.net.send_tcp(
            self.nic,
            flow,
            seg,
            usize::from(len),
            &mut |out| {
                src.fill(handle, off, out);
            },
            &mut self.ctr,
        )
    }
}

#[test]
fn one_short_http_connection() {
    let mut head = [0u8; 256];
    let body = b"Hello from GigaHttpd\n";
    let n = write_head(
        &mut head,
        &ResponseHead {
            status: Status::OK,
            date: 1_700_000_000,
            content_length: body.len() as u64,
            content_type: Some("text/plain"),
            etag: Some(b"\"1\""),
            allow: None,
            keep_alive: false,
            minor_version: 1,
        },
    )
    .unwrap();
    let mut page = head[..n].to_vec();
    page.extend_from_slice(body);
    let mut site = Site {
        page: page.clone(),
        parsers: vec![Parser::new(); 4],
        ready: vec![None; 4],
    };

    let mut slots = [Tcb::EMPTY; 4];
    let mut table = [0u32; 8];
    let mut heads = [0; 64];
    let pool = Pool::new(&mut slots, &mut table, Key([5, 6])).unwrap();
    let wheel = Wheel::new(&mut heads, 10, 0).unwrap();
    let ports = [80u16];
    let mut waits = [0u32; 4];
    let mut listener = Listener::new(
        pool,
        wheel,
        Config::default(),
        SERVER_IP,
        &ports,
        Key([7, 8]),
        Key([9, 10]),
        16,
        WaitList::new(&mut waits),
    );
    let mut net = Network::new(NetConfig {
        mac: SERVER_MAC,
        ip: SERVER_IP,
        prefix_len: 24,
        gateway: None,
    });
    let mut nic = Nic::default();
    let mut ctr = Counters::default();

    // The client's frames, in order; each is received and the server's answers collected.
    let mut step =
        |frame: &[u8], now: u64, site: &mut Site, listener: &mut Listener<'_>| -> Vec<Vec<u8>> {
            nic.now = now;
            nic.sent.clear();
            if let Received::Tcp { src, segment, .. } = net.receive(frame, &mut nic, &mut ctr) {
                let mut tx = FrameTx {
                    net: &mut net,
                    nic: &mut nic,
                    ctr: Counters::default(),
                };
                listener.on_segment(src, &segment, now, site, &mut tx, &mut ctr);
            }
            std::mem::take(&mut nic.sent)
        };

    let out = step(
        &client_frame(7000, None, Flags::SYN, b""),
        100,
        &mut site,
        &mut listener,
    );
    assert_eq!(out.len(), 1);
    let (iss, ack, flags, _) = server_segment(&out[0]);
    assert_eq!((ack, flags), (Some(7001), Flags::SYN));

    let req = b"GET / HTTP/1.1\r\nHost: gh\r\nConnection: close\r\n\r\n";
    let out = step(
        &client_frame(7001, Some(iss + 1), Flags::PSH, req),
        110,
        &mut site,
        &mut listener,
    );
    let rcv = 7001 + req.len() as u32;
    let mut got = Vec::new();
    let mut fin_seq = None;
    for f in &out {
        let (seq, ack, flags, payload) = server_segment(f);
        assert_eq!(ack, Some(rcv));
        if flags.contains(Flags::FIN) {
            // The FIN's sequence number follows the segment's data (it may ride on it).
            fin_seq = Some(seq + payload.len() as u32);
        }
        got.extend_from_slice(&payload);
    }
    assert_eq!(got, page, "the response, byte for byte");
    let fin_seq = fin_seq.expect("Connection: close ends with FIN");
    assert_eq!(fin_seq, iss + 1 + page.len() as u32);

    let out = step(
        &client_frame(rcv, Some(fin_seq + 1), Flags::FIN, b""),
        120,
        &mut site,
        &mut listener,
    );
    let (_, ack, flags, _) = server_segment(&out[0]);
    assert_eq!((ack, flags), (Some(rcv + 1), Flags(0)));
    assert_eq!(listener.pool.used(), 1, "TIME-WAIT");

    let mut tx = FrameTx {
        net: &mut net,
        nic: &mut nic,
        ctr: Counters::default(),
    };
    listener.on_timers(120 + 1000, &mut site, &mut tx, &mut ctr);
    assert_eq!(listener.pool.used(), 0);
    assert_eq!(ctr.tcp_opened, 1);
    assert_eq!(
        ctr.drop_tcp_checksum + ctr.drop_tcp_malformed + ctr.drop_tcp_out_of_window,
        0
    );
}
