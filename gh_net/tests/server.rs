//! The joined server: a client's connection through SYN, two keep-alive GETs and a
//! closing GET, every response checked byte for byte.

#![allow(clippy::unwrap_used, clippy::indexing_slicing, missing_docs)]

mod common;

use common::{client_frame, server_segment, Nic, SERVER_IP, SERVER_MAC};
use gh_net::engine::NetConfig;
use gh_net::http::request::Parser;
use gh_net::server::{Server, ServerMemory};
use gh_net::tcp::Tcb;
use gh_net::wire::tcp::Flags;

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
    let (iss, ack, flags, _) = server_segment(&out[0]);
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
            let (s, a, fl, p) = server_segment(f);
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
