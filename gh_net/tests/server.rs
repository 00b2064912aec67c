//! The joined server and its built-in site, driven frame by frame: keep-alive, pipelining,
//! 304, 404, HEAD, POST bodies split over segments, errors that close, and the task pool's
//! 503, every response checked byte for byte.

#![allow(clippy::unwrap_used, clippy::indexing_slicing, missing_docs)]

mod common;

use common::{client_frame_from, frame_of, server_segment, Nic, SERVER_IP, SERVER_MAC};
use gh_net::counters::Counters;
use gh_net::engine::NetConfig;
use gh_net::owned::{OwnedMemory, Sizes};
use gh_net::quarantine::StreamEnd;
use gh_net::server::Server;
use gh_net::site::Page;
use gh_net::wire::ethernet::{self, Address as Mac, EtherType};
use gh_net::wire::icmp;
use gh_net::wire::ipv4::{self, Address as Ip, Protocol};
use gh_net::wire::tcp::Flags;

const DATE: u64 = 784_111_777;
const DATE_TEXT: &str = "Sun, 06 Nov 1994 08:49:37 GMT";
const PAGES: [Page<'static>; 2] = [
    Page {
        path: "/",
        content_type: "text/html",
        body: b"<h1>GigaHttpd</h1>\n",
    },
    Page {
        path: "/about",
        content_type: "text/plain",
        body: b"about\n",
    },
];

/// Owned memory for a server with `slots` connections and `tasks` echo tasks, serving
/// its pages.
struct Memory(OwnedMemory, &'static [Page<'static>]);

impl Memory {
    fn new(slots: usize, tasks: usize) -> Self {
        Self::serving(slots, tasks, &PAGES)
    }

    fn serving(slots: usize, tasks: usize, pages: &'static [Page<'static>]) -> Self {
        let sizes = Sizes {
            slots,
            timers: 64,
            waits: 16,
            tasks,
            pipeline: 16,
        };
        Memory(OwnedMemory::new(&sizes, pages), pages)
    }

    fn server(&mut self) -> Server<'_> {
        self.server_via(None)
    }

    fn server_via(&mut self, gateway: Option<Ip>) -> Server<'_> {
        static PORT: [u16; 1] = [80];
        Server::new(
            self.0.memory(),
            NetConfig {
                mac: SERVER_MAC,
                ip: SERVER_IP,
                prefix_len: 24,
                gateway,
            },
            &PORT,
            self.1,
            DATE,
            [1, 2, 3, 4],
            0,
        )
        .unwrap()
    }
}

/// One client connection, acknowledging everything the server sends.
struct Client {
    port: u16,
    seq: u32,
    their: u32,
    fin: bool,
}

impl Client {
    fn connect(server: &mut Server<'_>, nic: &mut Nic, port: u16) -> Client {
        let out = exchange(
            server,
            nic,
            client_frame_from(port, 100, None, Flags::SYN, b""),
        );
        let (iss, ack, flags, _) = server_segment(&out[0]);
        assert_eq!((ack, flags), (Some(101), Flags::SYN));
        let c = Client {
            port,
            seq: 101,
            their: iss + 1,
            fin: false,
        };
        assert!(exchange(server, nic, c.frame(Flags(0), b"")).is_empty());
        c
    }

    fn frame(&self, flags: Flags, payload: &[u8]) -> Vec<u8> {
        client_frame_from(self.port, self.seq, Some(self.their), flags, payload)
    }

    /// Sends `data` in one segment; returns the response bytes it brought, after
    /// acknowledging them (which may release more).
    fn send(&mut self, server: &mut Server<'_>, nic: &mut Nic, data: &[u8]) -> Vec<u8> {
        let out = exchange(server, nic, self.frame(Flags::PSH, data));
        self.seq += data.len() as u32;
        self.read(server, nic, out)
    }

    /// Takes the response bytes of `out`, the server's frames, acknowledging them until
    /// the server sends nothing more.
    fn read(&mut self, server: &mut Server<'_>, nic: &mut Nic, mut out: Vec<Vec<u8>>) -> Vec<u8> {
        let mut got = Vec::new();
        while !out.is_empty() {
            for f in &out {
                let (s, _, fl, p) = server_segment(f);
                if !p.is_empty() {
                    assert_eq!(s, self.their, "in order");
                    self.their += p.len() as u32;
                    got.extend_from_slice(&p);
                }
                if fl.contains(Flags::FIN) {
                    self.their += 1;
                    self.fin = true;
                }
            }
            out = exchange(server, nic, self.frame(Flags(0), b""));
        }
        got
    }
}

/// What a connection came to: the response bytes, whether the server closed, and the
/// server's tasks and request counts.
#[derive(Debug, PartialEq, Eq)]
struct Outcome {
    bytes: String,
    fin: bool,
    tasks_busy: usize,
    requests: u64,
    rejected: u64,
}

impl Client {
    /// Delivers `data`, sending again what the server left unacknowledged (a request
    /// past the pipeline's bound), and reads and acknowledges the responses as they come.
    fn deliver(&mut self, server: &mut Server<'_>, nic: &mut Nic, data: &[u8], got: &mut Vec<u8>) {
        let end = self.seq.wrapping_add(data.len() as u32);
        for _ in 0..50 {
            if self.seq == end || self.fin {
                return;
            }
            let off = data.len() - end.wrapping_sub(self.seq) as usize;
            let out = exchange(server, nic, self.frame(Flags::PSH, &data[off..]));
            for f in &out {
                if let (_, Some(a), _, _) = server_segment(f) {
                    if a.wrapping_sub(self.seq) as i32 > 0 {
                        self.seq = a;
                    }
                }
            }
            got.extend(self.read(server, nic, out));
        }
        panic!("the server never took {}", show(data));
    }
}

/// `pieces` sent one segment each on a new connection to a new server.
fn outcome(pieces: &[&[u8]]) -> Outcome {
    let mut mem = Memory::new(8, 2);
    let mut server = mem.server();
    let mut nic = Nic::default();
    let mut c = Client::connect(&mut server, &mut nic, 50000);
    let mut got = Vec::new();
    for p in pieces {
        c.deliver(&mut server, &mut nic, p, &mut got);
    }
    Outcome {
        // A 100 Continue depends on where the head ends; nothing else may.
        bytes: show(&got).replace("HTTP/1.1 100 Continue\r\n\r\n", ""),
        fin: c.fin,
        tasks_busy: server.tasks_busy(),
        requests: server.counters.http_requests,
        rejected: server.counters.http_rejected,
    }
}

fn exchange(server: &mut Server<'_>, nic: &mut Nic, frame: Vec<u8>) -> Vec<Vec<u8>> {
    nic.now += 1;
    server.receive(&frame, nic);
    std::mem::take(&mut nic.sent)
}

fn etag(body: &[u8]) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in body {
        h = (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3);
    }
    format!("\"{h:016x}\"")
}

fn ok(page: &Page<'_>, ending: &str, body: bool) -> Vec<u8> {
    let mut r = format!(
        "HTTP/1.1 200 OK\r\nDate: {DATE_TEXT}\r\nServer: GigaHttpd\r\nContent-Length: {}\r\n\
         Content-Type: {}\r\nETag: {}\r\n{ending}\r\n",
        page.body.len(),
        page.content_type,
        etag(page.body)
    )
    .into_bytes();
    if body {
        r.extend_from_slice(page.body);
    }
    r
}

fn text(status: &str, extra: &str, ending: &str) -> Vec<u8> {
    let body = format!("{status}\n");
    format!(
        "HTTP/1.1 {status}\r\nDate: {DATE_TEXT}\r\nServer: GigaHttpd\r\nContent-Length: {}\r\n\
         Content-Type: text/plain\r\n{extra}{ending}\r\n{body}",
        body.len()
    )
    .into_bytes()
}

fn show(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// The head of a `POST /echo` of three bytes.
const ECHO_HEAD: &[u8] = b"POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\n";

/// A client from `port` whose `POST /echo` head holds the only task of the pool.
fn hold_the_only_task(server: &mut Server<'_>, nic: &mut Nic, port: u16) -> Client {
    let mut c = Client::connect(server, nic, port);
    assert!(c.send(server, nic, ECHO_HEAD).is_empty());
    assert_eq!(server.tasks_busy(), 1);
    c
}

/// The answer to a `POST /echo` with every task busy.
fn busy_503() -> Vec<u8> {
    text("503 Service Unavailable", "", "Connection: close\r\n")
}

/// Asserts that `r` ends with `POST /echo`'s answer to the body `abc`.
fn assert_echoed_abc(r: &[u8]) {
    let r = show(r);
    assert!(r.ends_with("\r\n3 e71fa2190541574b\n"), "{r}");
}

#[test]
fn keep_alive_site() {
    let mut mem = Memory::new(8, 2);
    let mut server = mem.server();
    let mut nic = Nic::default();
    let mut c = Client::connect(&mut server, &mut nic, 50000);
    let r = c.send(&mut server, &mut nic, b"GET / HTTP/1.1\r\nHost: a\r\n\r\n");
    assert_eq!(show(&r), show(&ok(&PAGES[0], "", true)));
    let r = c.send(
        &mut server,
        &mut nic,
        b"HEAD /about?x=1 HTTP/1.1\r\nHost: a\r\n\r\n",
    );
    assert_eq!(show(&r), show(&ok(&PAGES[1], "", false)));
    // The absolute form, as a proxy would send it, names the same page.
    let r = c.send(
        &mut server,
        &mut nic,
        b"GET http://a/about HTTP/1.1\r\nHost: a\r\n\r\n",
    );
    assert_eq!(show(&r), show(&ok(&PAGES[1], "", true)));
    let r = c.send(
        &mut server,
        &mut nic,
        b"GET /nope HTTP/1.1\r\nHost: a\r\n\r\n",
    );
    assert_eq!(show(&r), show(&text("404 Not Found", "", "")));
    let req = format!(
        "GET / HTTP/1.1\r\nHost: a\r\nIf-None-Match: \"x\", {}\r\n\r\n",
        etag(PAGES[0].body)
    );
    let r = c.send(&mut server, &mut nic, req.as_bytes());
    let want = format!(
        "HTTP/1.1 304 Not Modified\r\nDate: {DATE_TEXT}\r\nServer: GigaHttpd\r\nETag: {}\r\n\r\n",
        etag(PAGES[0].body)
    );
    assert_eq!(show(&r), want);
    // Lines of If-None-Match make one list: the tag on the second line matches, and two
    // halves of the tag on two lines do not.
    let req = format!(
        "GET / HTTP/1.1\r\nHost: a\r\nIf-None-Match: \"x\"\r\nIf-None-Match: {}\r\n\r\n",
        etag(PAGES[0].body)
    );
    let r = c.send(&mut server, &mut nic, req.as_bytes());
    assert_eq!(show(&r), want);
    let tag = etag(PAGES[0].body);
    let (front, back) = tag.split_at(9);
    let req = format!(
        "GET / HTTP/1.1\r\nHost: a\r\nIf-None-Match: {front}\r\nIf-None-Match: {back}\r\n\r\n"
    );
    let r = c.send(&mut server, &mut nic, req.as_bytes());
    assert_eq!(show(&r), show(&ok(&PAGES[0], "", true)));
    // A POST body over three segments, hashed as it streams by.
    let mut r = c.send(
        &mut server,
        &mut nic,
        b"POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 6\r\n\r\nfo",
    );
    assert!(r.is_empty());
    r.extend(c.send(&mut server, &mut nic, b"ob"));
    r.extend(c.send(&mut server, &mut nic, b"ar"));
    let want = format!(
        "HTTP/1.1 200 OK\r\nDate: {DATE_TEXT}\r\nServer: GigaHttpd\r\nContent-Length: 19\r\n\
         Content-Type: text/plain\r\n\r\n6 85944171f73967e8\n"
    );
    assert_eq!(show(&r), want);
    assert_eq!(
        server.tasks_busy(),
        0,
        "the answer was acknowledged: its task is free"
    );
    // Two pipelined requests in one segment, answered in order.
    let r = c.send(
        &mut server,
        &mut nic,
        b"GET /about HTTP/1.1\r\nHost: a\r\n\r\nGET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n",
    );
    let mut want = ok(&PAGES[1], "", true);
    want.extend(ok(&PAGES[0], "Connection: keep-alive\r\n", true));
    assert_eq!(show(&r), show(&want));
    let r = c.send(
        &mut server,
        &mut nic,
        b"POST /about HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\n\r\nx",
    );
    assert_eq!(
        show(&r),
        show(&text("405 Method Not Allowed", "Allow: GET, HEAD\r\n", ""))
    );
    assert!(!c.fin);
    let r = c.send(
        &mut server,
        &mut nic,
        b"GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n",
    );
    assert_eq!(
        show(&r),
        show(&ok(&PAGES[0], "Connection: close\r\n", true))
    );
    assert!(c.fin, "Connection: close ends with our FIN");
    let k = server.counters;
    assert_eq!(
        (
            k.tcp_opened,
            k.http_requests,
            k.http_not_found,
            k.http_not_modified
        ),
        (1, 12, 1, 2)
    );
}

#[test]
fn malformed_requests_get_their_status_then_close() {
    let mut mem = Memory::new(16, 2);
    let mut server = mem.server();
    let mut nic = Nic::default();
    let cases: [(&[u8], &str, &str); 12] = [
        (
            b"GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
            "400 Bad Request",
            "",
        ),
        // A 405's Allow names what the target takes: a page, the echo task, anything.
        (
            b"PUT / HTTP/1.1\r\nHost: a\r\n\r\n",
            "405 Method Not Allowed",
            "Allow: GET, HEAD\r\n",
        ),
        (
            b"DELETE /echo HTTP/1.1\r\nHost: a\r\n\r\n",
            "405 Method Not Allowed",
            "Allow: POST\r\n",
        ),
        (
            b"OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n",
            "405 Method Not Allowed",
            "Allow: GET, HEAD, POST\r\n",
        ),
        (
            b"PUT /nope HTTP/1.1\r\nHost: a\r\n\r\n",
            "404 Not Found",
            "",
        ),
        // The absolute form names the same paths.
        (
            b"PUT http://a/nope HTTP/1.1\r\nHost: a\r\n\r\n",
            "404 Not Found",
            "",
        ),
        (
            b"PUT http://a/ HTTP/1.1\r\nHost: a\r\n\r\n",
            "405 Method Not Allowed",
            "Allow: GET, HEAD\r\n",
        ),
        (
            b"CONNECT a:443 HTTP/1.1\r\nHost: a\r\n\r\n",
            "405 Method Not Allowed",
            "Allow: GET, HEAD, POST\r\n",
        ),
        (
            b"BREW / HTTP/1.1\r\nHost: a\r\n\r\n",
            "501 Not Implemented",
            "",
        ),
        (
            b"GET / HTTP/2.0\r\n\r\n",
            "505 HTTP Version Not Supported",
            "",
        ),
        (
            b"POST /echo HTTP/1.1\r\nHost: a\r\n\r\n",
            "411 Length Required",
            "",
        ),
        (
            b"POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 99999999\r\n\r\n",
            "413 Content Too Large",
            "",
        ),
    ];
    for (i, (req, status, extra)) in cases.into_iter().enumerate() {
        let mut c = Client::connect(&mut server, &mut nic, 40000 + i as u16);
        let r = c.send(&mut server, &mut nic, req);
        assert_eq!(
            show(&r),
            show(&text(status, extra, "Connection: close\r\n")),
            "{status}"
        );
        assert!(c.fin, "{status} closes");
        // Whatever follows on the closing connection is ignored.
        assert!(c
            .send(&mut server, &mut nic, b"GET / HTTP/1.1\r\nHost: a\r\n\r\n")
            .is_empty());
    }
    // An error answer to HEAD has no body either.
    let mut c = Client::connect(&mut server, &mut nic, 40100);
    let r = c.send(&mut server, &mut nic, b"HEAD / HTTP/1.1\r\n\r\n");
    let mut want = text("400 Bad Request", "", "Connection: close\r\n");
    want.truncate(want.len() - "400 Bad Request\n".len());
    assert_eq!(show(&r), show(&want));
    assert!(c.fin);
    assert_eq!(server.counters.http_rejected, 13);
}

#[test]
fn echo_tasks_are_bounded_503_past_the_pool() {
    let mut mem = Memory::new(8, 1);
    let mut server = mem.server();
    let mut nic = Nic::default();
    let mut a = hold_the_only_task(&mut server, &mut nic, 41000);
    let mut b = Client::connect(&mut server, &mut nic, 41001);
    // The refusal closes the connection: it comes at once, without waiting for the body,
    // which is then read and dropped.
    let r = b.send(&mut server, &mut nic, ECHO_HEAD);
    assert_eq!(show(&r), show(&busy_503()));
    assert!(b.fin);
    assert!(b.send(&mut server, &mut nic, b"abc").is_empty());
    let r = a.send(&mut server, &mut nic, b"abc");
    assert_echoed_abc(&r);
    assert_eq!(server.tasks_busy(), 0);
    assert_eq!(server.counters.qos_refused_503, 1);
}

/// A task goes back to the pool as soon as its answer is acknowledged, also when that
/// answer closed the connection (HTTP/1.0, `Connection: close`): not when the slot is
/// freed after FIN-WAIT and TIME-WAIT.
#[test]
fn a_closing_answer_frees_its_task_once_acknowledged() {
    let mut mem = Memory::new(8, 1);
    let mut server = mem.server();
    let mut nic = Nic::default();
    for (k, request) in [
        &b"POST /echo HTTP/1.1\r\nHost: a\r\nConnection: close\r\nContent-Length: 3\r\n\r\nabc"[..],
        b"POST /echo HTTP/1.0\r\nContent-Length: 3\r\n\r\nabc",
    ]
    .into_iter()
    .enumerate()
    {
        let mut c = Client::connect(&mut server, &mut nic, 43000 + k as u16);
        let r = c.send(&mut server, &mut nic, request);
        assert!(show(&r).starts_with("HTTP/1.1 200 OK\r\n"), "{}", show(&r));
        assert!(c.fin, "the answer closes");
        assert_eq!(
            server.connections(),
            1 + k,
            "our FIN is acknowledged, theirs not sent"
        );
        assert_eq!(
            server.tasks_busy(),
            0,
            "request {k}: the task is free again"
        );
    }
}

#[test]
fn pipelined_requests_are_all_taken_and_answered_in_order() {
    let mut mem = Memory::new(8, 2);
    let mut server = mem.server();
    let mut nic = Nic::default();
    let mut c = Client::connect(&mut server, &mut nic, 42000);
    let one = "GET /about HTTP/1.1\r\nHost: a\r\n\r\n";
    let many = [one; 8].concat() + "GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n";
    let out = exchange(&mut server, &mut nic, c.frame(Flags::PSH, many.as_bytes()));
    let (_, ack, _, _) = server_segment(out.last().unwrap());
    assert_eq!(
        ack,
        Some(c.seq + many.len() as u32),
        "every pipelined request is taken at once"
    );
    c.seq += many.len() as u32;
    // Acknowledging each response releases the next.
    let mut got = Vec::new();
    let mut out = out;
    while !out.is_empty() {
        for f in &out {
            let (s, _, fl, p) = server_segment(f);
            if !p.is_empty() {
                assert_eq!(s, c.their);
                c.their += p.len() as u32;
                got.extend_from_slice(&p);
            }
            if fl.contains(Flags::FIN) {
                c.their += 1;
                c.fin = true;
            }
        }
        out = exchange(&mut server, &mut nic, c.frame(Flags(0), b""));
    }
    let mut want = Vec::new();
    for _ in 0..8 {
        want.extend(ok(&PAGES[1], "", true));
    }
    want.extend(ok(&PAGES[0], "Connection: close\r\n", true));
    assert_eq!(show(&got), show(&want));
    assert!(c.fin);
    assert_eq!(server.counters.http_requests, 9);
}

#[test]
fn a_peer_that_closes_is_answered_with_our_fin() {
    let mut mem = Memory::new(8, 2);
    let mut server = mem.server();
    let mut nic = Nic::default();
    let mut c = Client::connect(&mut server, &mut nic, 43000);
    let r = c.send(&mut server, &mut nic, b"GET / HTTP/1.1\r\nHost: a\r\n\r\n");
    assert_eq!(show(&r), show(&ok(&PAGES[0], "", true)));
    // The client closes its idle keep-alive connection: the server closes too, at once.
    let out = exchange(&mut server, &mut nic, c.frame(Flags::FIN, b""));
    c.seq += 1;
    assert!(
        out.iter().any(|f| server_segment(f).2.contains(Flags::FIN)),
        "our FIN follows the peer's"
    );
    assert_eq!(server.connections(), 1, "until our FIN is acknowledged");
    c.their += 1;
    exchange(&mut server, &mut nic, c.frame(Flags(0), b""));
    assert_eq!(server.connections(), 0);
}

/// A core restarted after a request stopped it answers that request's flow with 500 and
/// a FIN, never running it again, and serves a new connection from the same port.
#[test]
fn a_quarantined_flow_is_refused_not_run() {
    let mut mem = Memory::new(8, 2);
    let mut nic = Nic::default();
    let request = b"GET / HTTP/1.1\r\nHost: a\r\n\r\n";
    let c = {
        let mut first_run = mem.server();
        Client::connect(&mut first_run, &mut nic, 50000)
        // The request that stops the core never comes back from `receive`: the first run
        // ends here, with the connection established and nothing sent on it but the
        // SYN-ACK, as the core says (`Platform::serving`) before it handles the request.
    };
    let mut server = mem.server();
    server.quarantine(
        gh_net::quarantine::flow_key(common::CLIENT_IP, 50000, 80),
        StreamEnd::At(c.their),
        nic.now,
    );
    assert_eq!(server.quarantined(nic.now), 1);
    for _ in 0..2 {
        // The client retransmits; each copy is answered the same way.
        let out = exchange(&mut server, &mut nic, c.frame(Flags::PSH, request));
        assert_eq!(out.len(), 1);
        let (seq, ack, flags, payload) = server_segment(&out[0]);
        assert_eq!((seq, ack), (c.their, Some(c.seq + request.len() as u32)));
        assert!(flags.contains(Flags::FIN), "{flags:?}");
        assert_eq!(show(&payload), show(gh_net::quarantine::RESPONSE));
    }
    let fin = client_frame_from(
        50000,
        c.seq + request.len() as u32,
        Some(c.their + gh_net::quarantine::RESPONSE.len() as u32 + 1),
        Flags::FIN,
        b"",
    );
    let out = exchange(&mut server, &mut nic, fin);
    let (_, ack, flags, payload) = server_segment(&out[0]);
    assert_eq!(
        (ack, flags, payload.len()),
        (Some(c.seq + request.len() as u32 + 1), Flags(0), 0)
    );
    assert_eq!(server.counters.http_quarantined, 2);
    assert_eq!(server.counters.http_requests, 0);
    assert_eq!(server.connections(), 0);
    // A new connection from the same port ends the quarantine and is served.
    let mut c = Client::connect(&mut server, &mut nic, 50000);
    assert_eq!(server.quarantined(nic.now), 0);
    let r = c.send(&mut server, &mut nic, request);
    assert_eq!(show(&r), show(&ok(&PAGES[0], "", true)));
}

/// The 500 of a quarantined flow takes the sequence numbers the peer acknowledges next:
/// where the peer had not received all that the old run sent (here the response ahead of
/// a pipelined request), or a response was still to be sent, it would take the place of
/// those bytes, so the flow is reset. A lone FIN after the request that stopped the core
/// gets the 500 too, not an ACK of the request.
#[test]
fn a_quarantined_flow_is_reset_where_a_500_would_overwrite_a_response() {
    let mut mem = Memory::new(8, 2);
    let mut nic = Nic::default();
    let request = b"GET / HTTP/1.1\r\nHost: a\r\n\r\n";
    let flow = gh_net::quarantine::flow_key(common::CLIENT_IP, 50000, 80);
    let (c, pipelined, stream_end) = {
        let mut first_run = mem.server();
        let mut c = Client::connect(&mut first_run, &mut nic, 50000);
        // The first response is sent, and lost; the client pipelines its next request,
        // which stops the core.
        assert_eq!(
            exchange(&mut first_run, &mut nic, c.frame(Flags::PSH, request)).len(),
            1
        );
        c.seq += request.len() as u32;
        nic.serving = None;
        let pipelined = c.frame(Flags::PSH, request);
        exchange(&mut first_run, &mut nic, pipelined.clone());
        (c, pipelined, nic.serving.unwrap())
    };
    assert!(
        matches!(stream_end, StreamEnd::At(end) if end > c.their),
        "the response went out: {stream_end:?}"
    );
    let mut server = mem.server();
    server.quarantine(flow, stream_end, nic.now);
    let out = exchange(&mut server, &mut nic, pipelined);
    let (seq, ack, flags, payload) = server_segment(&out[0]);
    assert_eq!(
        (seq, ack, flags, payload.len()),
        (c.their, None, Flags::RST, 0)
    );
    assert_eq!(server.counters.http_quarantined, 1);
    // A lone FIN after a request that stopped the core, where the stream ended at the
    // peer's acknowledgment: the 500 and our FIN, acknowledging the peer's.
    let mut server = mem.server();
    server.quarantine(flow, StreamEnd::At(c.their), nic.now);
    let fin = c.frame(Flags::FIN, b"");
    let out = exchange(&mut server, &mut nic, fin);
    let (seq, ack, flags, payload) = server_segment(&out[0]);
    assert_eq!((seq, ack), (c.their, Some(c.seq + 1)));
    assert!(flags.contains(Flags::FIN), "{flags:?}");
    assert_eq!(show(&payload), show(gh_net::quarantine::RESPONSE));
    assert_eq!(server.counters.http_quarantined, 1);
    // A response queued behind the one being sent: the stream is not settled, whatever
    // the client acknowledges.
    let (flow, c, third, stream_end) = {
        let mut first_run = mem.server();
        let mut c = Client::connect(&mut first_run, &mut nic, 50001);
        let two = b"GET /about HTTP/1.1\r\nHost: a\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n";
        let out = exchange(&mut first_run, &mut nic, c.frame(Flags::PSH, two));
        c.seq += two.len() as u32;
        let (_, _, _, first) = server_segment(&out[0]);
        c.their += first.len() as u32;
        nic.serving = None;
        let third = c.frame(Flags::PSH, request);
        exchange(&mut first_run, &mut nic, third.clone());
        let flow = gh_net::quarantine::flow_key(common::CLIENT_IP, 50001, 80);
        (flow, c, third, nic.serving.unwrap())
    };
    assert_eq!(stream_end, StreamEnd::Unsettled);
    let mut server = mem.server();
    server.quarantine(flow, stream_end, nic.now);
    let out = exchange(&mut server, &mut nic, third);
    let (seq, _, flags, _) = server_segment(&out[0]);
    assert_eq!((seq, flags), (c.their, Flags::RST));
}

/// The network layer reads the server's clock too: after the platform's clock steps
/// back, the gateway is still asked for every second, not once the clock has come back.
#[test]
fn arp_goes_on_after_the_clock_steps_back() {
    let mut mem = Memory::new(8, 2);
    let mut server = mem.server_via(Some(Ip([10, 9, 0, 254])));
    let mut nic = Nic {
        now: 100_005,
        ..Nic::default()
    };
    server.tick(&mut nic);
    assert_eq!(server.counters.arp_requests_sent, 1);
    nic.now = 50_000;
    for _ in 0..500 {
        nic.now += 10;
        server.tick(&mut nic);
    }
    assert!(
        server.counters.arp_requests_sent >= 5,
        "{} requests in 5 s",
        server.counters.arp_requests_sent
    );
}

/// Live tuning: the SYN-ACK offers the window set, and an idle connection closes after
/// the idle time set (not before).
#[test]
fn tuned_window_and_idle_time_apply() {
    let mut mem = Memory::new(8, 2);
    let mut server = mem.server();
    let mut nic = Nic::default();
    server.set_initial_window(512);
    server.set_idle_ms(1000);
    let out = exchange(
        &mut server,
        &mut nic,
        client_frame_from(50000, 100, None, Flags::SYN, b""),
    );
    assert_eq!(u16::from_be_bytes([out[0][48], out[0][49]]), 512);
    let (iss, _, _, _) = server_segment(&out[0]);
    let mut c = Client {
        port: 50000,
        seq: 101,
        their: iss + 1,
        fin: false,
    };
    assert!(exchange(&mut server, &mut nic, c.frame(Flags(0), b"")).is_empty());
    let r = c.send(&mut server, &mut nic, b"GET / HTTP/1.1\r\nHost: a\r\n\r\n");
    assert_eq!(show(&r), show(&ok(&PAGES[0], "", true)));
    let idle_from = nic.now;
    let mut closed_at = None;
    while nic.now < idle_from + 3000 && closed_at.is_none() {
        nic.now += 10;
        server.tick(&mut nic);
        if std::mem::take(&mut nic.sent)
            .iter()
            .any(|f| server_segment(f).2.contains(Flags::FIN))
        {
            closed_at = Some(nic.now - idle_from);
        }
    }
    let Some(closed_at) = closed_at else {
        panic!("the idle connection was not closed")
    };
    assert!(
        (1000..1100).contains(&closed_at),
        "closed after {closed_at} ms"
    );
}

/// A segment whose next hop is not known (a peer beyond the link while the gateway has not
/// answered) is lost, not parked as if the TX ring were full: it is sent again on its
/// timer, and the slot is freed when the handshake gives up.
#[test]
fn a_segment_with_no_next_hop_is_lost_not_parked() {
    let mut mem = Memory::new(8, 2);
    let mut server = mem.server_via(Some(Ip([10, 9, 0, 254])));
    let mut nic = Nic::default();
    let far = (Mac([2, 0, 0, 0, 0, 0x77]), Ip([198, 51, 100, 99]), 40000);
    let out = exchange(
        &mut server,
        &mut nic,
        frame_of(far, 100, None, Flags::SYN, b""),
    );
    assert!(out.is_empty());
    assert_eq!(server.counters.tx_no_route, 1);
    assert_eq!((server.connections(), server.parked()), (1, 0));
    // A RST that found no next hop was not sent, and is not counted as sent.
    let stray = (far.0, far.1, 40001);
    let out = exchange(
        &mut server,
        &mut nic,
        frame_of(stray, 100, Some(5000), Flags(0), b""),
    );
    assert!(out.is_empty());
    assert_eq!(server.counters.tx_no_route, 2);
    assert_eq!(server.counters.tcp_resets_sent, 0);
    // A client on the link is served meanwhile.
    let mut c = Client::connect(&mut server, &mut nic, 50000);
    let r = c.send(&mut server, &mut nic, b"GET / HTTP/1.1\r\nHost: a\r\n\r\n");
    assert_eq!(show(&r), show(&ok(&PAGES[0], "", true)));
    let start = nic.now;
    while server.connections() > 1 && nic.now < start + 600_000 {
        nic.now += 10;
        server.tick(&mut nic);
        nic.sent.clear();
    }
    assert_eq!(server.connections(), 1, "the far handshake gave up");
    assert!(
        server.counters.tx_no_route > 2,
        "its SYN-ACK was sent again"
    );
    assert_eq!(server.parked(), 0);
}

/// A request refused for want of room in its connection's queue is left unacknowledged
/// and counted only once taken: a bad one is not counted again at each retransmission.
#[test]
fn a_refused_request_is_counted_once_taken() {
    use gh_net::site::pipeline::PER_CONNECTION;
    let mut mem = Memory::new(8, 1);
    let mut server = mem.server();
    let mut nic = Nic::default();
    let mut c = Client::connect(&mut server, &mut nic, 44000);
    let get = b"GET / HTTP/1.1\r\nHost: a\r\n\r\n";
    let bad = b"GET / HTTP/1.1\r\nHost a\r\n\r\n";
    // One answered, PER_CONNECTION waiting: the bad request finds no room.
    let taken = get.repeat(1 + PER_CONNECTION);
    let mut data = taken.clone();
    data.extend_from_slice(bad);
    let first = exchange(&mut server, &mut nic, c.frame(Flags::PSH, &data));
    let (_, ack, _, _) = server_segment(first.last().unwrap());
    assert_eq!(
        ack,
        Some(c.seq + taken.len() as u32),
        "the bad request is not acknowledged"
    );
    // Sent again while the responses ahead are still unread: still refused.
    let again = exchange(&mut server, &mut nic, c.frame(Flags::PSH, &data));
    assert!(again.iter().all(|f| server_segment(f).3.is_empty()));
    assert_eq!(server.counters.http_rejected, 0, "refused, not taken");
    assert_eq!(server.counters.qos_deferred_pipeline, 2, "deferred twice");
    // The responses read, it is sent again and taken: answered, and counted once.
    c.seq += taken.len() as u32;
    let r = c.read(&mut server, &mut nic, first);
    assert_eq!(
        show(&r),
        show(&ok(&PAGES[0], "", true).repeat(1 + PER_CONNECTION))
    );
    assert_eq!(server.counters.http_requests, 1 + PER_CONNECTION as u64);
    assert_eq!(server.counters.http_rejected, 0);
    let r = c.send(&mut server, &mut nic, bad);
    assert!(
        show(&r).starts_with("HTTP/1.1 400 Bad Request\r\n"),
        "{}",
        show(&r)
    );
    assert_eq!(server.counters.http_rejected, 1);
}

/// A peer that finishes sending inside a request's body is answered with our FIN at once,
/// after the answers ahead of it, and the request's task is freed: the body can never be
/// complete.
#[test]
fn a_fin_inside_a_body_closes_and_frees_the_task() {
    let mut mem = Memory::new(8, 1);
    let mut server = mem.server();
    let mut nic = Nic::default();
    for (port, ahead) in [
        (45000, &b""[..]),
        (45001, b"GET / HTTP/1.1\r\nHost: a\r\n\r\n"),
    ] {
        let mut c = Client::connect(&mut server, &mut nic, port);
        let mut data = ahead.to_vec();
        let post: &[u8] = if ahead.is_empty() { b"/echo" } else { b"/" };
        data.extend_from_slice(b"POST ");
        data.extend_from_slice(post);
        data.extend_from_slice(b" HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\nabc");
        let out = exchange(
            &mut server,
            &mut nic,
            c.frame(Flags::PSH.with(Flags::FIN), &data),
        );
        c.seq += data.len() as u32 + 1;
        let r = c.read(&mut server, &mut nic, out);
        let want = if ahead.is_empty() {
            Vec::new()
        } else {
            ok(&PAGES[0], "", true)
        };
        assert_eq!(show(&r), show(&want));
        assert!(c.fin, "our FIN follows theirs");
        assert_eq!(server.tasks_busy(), 0);
        assert_eq!(server.connections(), 0, "both FINs acknowledged");
    }
}

/// RFC 9110 section 10.1.1: a client that waits with `Expect: 100-continue` is sent a
/// 100 (Continue) at once and the response once its body is in, or, with responses
/// ahead of its own, as soon as they have gone; one that sends its body with the head gets
/// no 100, nor does an HTTP/1.0 client.
#[test]
fn a_client_waiting_for_100_continue_gets_it() {
    const CONTINUE: &str = "HTTP/1.1 100 Continue\r\n\r\n";
    let mut mem = Memory::new(8, 1);
    let mut server = mem.server();
    let mut nic = Nic::default();
    let mut c = Client::connect(&mut server, &mut nic, 46000);
    let echo = |r: &[u8]| {
        let r = show(r);
        r.starts_with("HTTP/1.1 200 OK\r\n") && r.ends_with("\r\n3 e71fa2190541574b\n")
    };
    let head =
        "POST /echo HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\n";
    let r = c.send(&mut server, &mut nic, head.as_bytes());
    assert_eq!(show(&r), CONTINUE);
    let r = c.send(&mut server, &mut nic, b"abc");
    assert!(echo(&r), "{}", show(&r));
    assert_eq!(server.tasks_busy(), 0);
    // The body with the head: no 100.
    let r = c.send(&mut server, &mut nic, format!("{head}abc").as_bytes());
    assert!(echo(&r), "{}", show(&r));
    // A response decided by the head alone is also sent once the body is read, after the
    // 100 (the connection stays usable).
    let missing =
        "POST /missing HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\n";
    let r = c.send(&mut server, &mut nic, missing.as_bytes());
    assert_eq!(show(&r), CONTINUE);
    let r = c.send(&mut server, &mut nic, b"abc");
    assert!(
        show(&r).starts_with("HTTP/1.1 404 Not Found\r\n"),
        "{}",
        show(&r)
    );
    // Behind another response: the 100 follows it.
    let get = "GET / HTTP/1.1\r\nHost: a\r\n\r\n";
    let r = c.send(&mut server, &mut nic, format!("{get}{missing}").as_bytes());
    assert_eq!(
        show(&r),
        show(&ok(&PAGES[0], "", true)) + CONTINUE,
        "the GET's answer, then the 100"
    );
    let r = c.send(&mut server, &mut nic, b"abc");
    assert!(
        show(&r).starts_with("HTTP/1.1 404 Not Found\r\n"),
        "{}",
        show(&r)
    );
    // The peer's FIN with the head: the body can never come, so no 100, and our FIN at
    // once.
    let mut d = Client::connect(&mut server, &mut nic, 46001);
    let out = exchange(
        &mut server,
        &mut nic,
        d.frame(Flags::PSH.with(Flags::FIN), head.as_bytes()),
    );
    d.seq += head.len() as u32 + 1;
    let r = d.read(&mut server, &mut nic, out);
    assert!(r.is_empty(), "{}", show(&r));
    assert!(d.fin, "our FIN follows theirs");
    // HTTP/1.0: ignored.
    let old = "POST /echo HTTP/1.0\r\nConnection: keep-alive\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\n";
    let r = c.send(&mut server, &mut nic, old.as_bytes());
    assert!(r.is_empty(), "{}", show(&r));
    let r = c.send(&mut server, &mut nic, b"abc");
    assert_echoed_abc(&r);
    assert_eq!(server.tasks_busy(), 0);
}

/// RFC 9110 section 13.1.1: `If-Match` lets a request through only with the page's own
/// strong ETag or `*`; otherwise 412, unless the request would fail anyway (404, 405).
#[test]
fn if_match_preconditions() {
    let mut mem = Memory::new(16, 2);
    let mut server = mem.server();
    let mut nic = Nic::default();
    let mut c = Client::connect(&mut server, &mut nic, 48000);
    let tag = etag(PAGES[0].body);
    let failed = || text("412 Precondition Failed", "", "");
    for (fields, want) in [
        (format!("If-Match: {tag}"), ok(&PAGES[0], "", true)),
        (format!("If-Match: \"x\", {tag}"), ok(&PAGES[0], "", true)),
        (format!("If-Match: \"x\"\r\nIf-Match: {tag}"), ok(&PAGES[0], "", true)),
        ("If-Match: *".to_string(), ok(&PAGES[0], "", true)),
        ("If-Match: \"x\"".to_string(), failed()),
        (format!("If-Match: W/{tag}"), failed()),
        ("If-Match:".to_string(), failed()),
        (format!("If-Match: {}", etag(PAGES[1].body)), failed()),
        // If-Match holds, then If-None-Match decides.
        (
            format!("If-Match: *\r\nIf-None-Match: {tag}"),
            format!(
                "HTTP/1.1 304 Not Modified\r\nDate: {DATE_TEXT}\r\nServer: GigaHttpd\r\nETag: {tag}\r\n\r\n"
            )
            .into_bytes(),
        ),
        (format!("If-None-Match: {tag}\r\nIf-Match: \"x\""), failed()),
    ] {
        let req = format!("GET / HTTP/1.1\r\nHost: a\r\n{fields}\r\n\r\n");
        let r = c.send(&mut server, &mut nic, req.as_bytes());
        assert_eq!(show(&r), show(&want), "{fields}");
    }
    // HEAD: the 412's head alone.
    let r = c.send(
        &mut server,
        &mut nic,
        b"HEAD / HTTP/1.1\r\nHost: a\r\nIf-Match: \"x\"\r\n\r\n",
    );
    let head = show(&failed());
    assert_eq!(
        show(&r),
        head[..head.len() - "412 Precondition Failed\n".len()]
    );
    // The echo task has no representation: even `*` fails, and its body is read past.
    let r = c.send(
        &mut server,
        &mut nic,
        b"POST /echo HTTP/1.1\r\nHost: a\r\nIf-Match: *\r\nContent-Length: 3\r\n\r\nabc",
    );
    assert_eq!(show(&r), show(&failed()));
    assert_eq!(server.tasks_busy(), 0);
    // Failures come first.
    let r = c.send(
        &mut server,
        &mut nic,
        b"GET /nope HTTP/1.1\r\nHost: a\r\nIf-Match: \"x\"\r\n\r\n",
    );
    assert_eq!(show(&r), show(&text("404 Not Found", "", "")));
    let r = c.send(
        &mut server,
        &mut nic,
        b"POST / HTTP/1.1\r\nHost: a\r\nIf-Match: \"x\"\r\nContent-Length: 1\r\n\r\nx",
    );
    assert_eq!(
        show(&r),
        show(&text("405 Method Not Allowed", "Allow: GET, HEAD\r\n", ""))
    );
    assert!(!c.fin, "a 412 keeps the connection");
}

#[test]
fn chunked_bodies_stream_to_the_task() {
    let mut mem = Memory::new(16, 2);
    let mut server = mem.server();
    let mut nic = Nic::default();
    let mut c = Client::connect(&mut server, &mut nic, 47000);
    let head = "POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n";
    // `abc` in two chunks, split over segments inside the framing and the data, with an
    // extension and a trailer: the task hashes the decoded bytes alone.
    let r = c.send(&mut server, &mut nic, format!("{head}2;x=y\r").as_bytes());
    assert!(r.is_empty(), "{}", show(&r));
    let mut r = c.send(&mut server, &mut nic, b"\nab\r\n1\r\nc");
    assert!(r.is_empty(), "{}", show(&r));
    r.extend(c.send(&mut server, &mut nic, b"\r\n0\r\nT: 1\r\n\r\n"));
    let want = format!(
        "HTTP/1.1 200 OK\r\nDate: {DATE_TEXT}\r\nServer: GigaHttpd\r\nContent-Length: 19\r\n\
         Content-Type: text/plain\r\n\r\n3 e71fa2190541574b\n"
    );
    assert_eq!(show(&r), want);
    assert_eq!(server.tasks_busy(), 0);
    // With `Expect: 100-continue`, the 100 comes first; a request pipelined after the
    // body is answered after it.
    let expect = "POST /echo HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nTransfer-Encoding: chunked\r\n\r\n";
    let r = c.send(&mut server, &mut nic, expect.as_bytes());
    assert_eq!(show(&r), "HTTP/1.1 100 Continue\r\n\r\n");
    let r = c.send(
        &mut server,
        &mut nic,
        b"3\r\nabc\r\n0\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n",
    );
    let mut both = want.into_bytes();
    both.extend(ok(&PAGES[0], "", true));
    assert_eq!(show(&r), show(&both));
    assert_eq!(server.tasks_busy(), 0);
    // A framing error inside the body: 400 in place of the answer, the task freed and
    // the connection closed.
    let r = c.send(
        &mut server,
        &mut nic,
        format!("{head}3\r\nabcX\r\n").as_bytes(),
    );
    assert_eq!(
        show(&r),
        show(&text("400 Bad Request", "", "Connection: close\r\n"))
    );
    assert!(c.fin);
    assert_eq!(server.tasks_busy(), 0);
}

/// A router's "fragmentation needed" report (RFC 1191) about `segment`, one of the
/// server's frames, giving `mtu` for the next hop.
fn too_big(segment: &[u8], mtu: u16) -> Vec<u8> {
    // The quoted datagram: its IPv4 header and the first eight bytes of its TCP header.
    let original = &segment[14..14 + 28];
    let message = icmp::Repr::FragmentationNeeded { mtu, original };
    let mut f = vec![0u8; 14 + 20 + message.buffer_len()];
    ethernet::Repr {
        src: common::CLIENT_MAC,
        dst: SERVER_MAC,
        ethertype: EtherType::Ipv4,
    }
    .emit(&mut f)
    .unwrap();
    ipv4::Repr {
        src: Ip([10, 9, 0, 254]),
        dst: SERVER_IP,
        protocol: Protocol::Icmp,
        payload_len: message.buffer_len() as u16,
        ttl: 64,
    }
    .emit(&mut f[14..], 7)
    .unwrap();
    message.emit(&mut f[34..]).unwrap();
    f
}

/// Every TCP segment leaves with Don't Fragment set, so a router's report that one was
/// too big must shrink the connection's segments, and what was lost goes again at once;
/// a report for nothing in flight is dropped and counted.
#[test]
fn a_router_too_big_report_shrinks_the_segments() {
    static BIG: [Page<'static>; 1] = [Page {
        path: "/big",
        content_type: "text/plain",
        body: &[b'x'; 5000],
    }];
    let mut mem = Memory::serving(8, 2, &BIG);
    let mut server = mem.server();
    let mut nic = Nic::default();
    let mut c = Client::connect(&mut server, &mut nic, 50000);
    let request = b"GET /big HTTP/1.1\r\nHost: a\r\n\r\n";
    let out = exchange(&mut server, &mut nic, c.frame(Flags::PSH, request));
    c.seq += request.len() as u32;
    // The peer's window (65,535) takes the whole response at once, in full segments.
    let sizes: Vec<usize> = out.iter().map(|f| server_segment(f).3.len()).collect();
    assert!(sizes.len() > 3 && sizes[0] == 1460, "{sizes:?}");
    assert!(out
        .iter()
        .all(|f| ipv4::Packet::new_unchecked(&f[14..]).dont_fragment()));

    // Reports the server must not believe: a sequence number not in flight, and a
    // connection it does not have.
    let (first_seq, ..) = server_segment(&out[0]);
    let mut stale = out[1].clone();
    stale[38..42].copy_from_slice(&first_seq.wrapping_sub(1000).to_be_bytes());
    let mut stranger = out[1].clone();
    stranger[36..38].copy_from_slice(&50001u16.to_be_bytes());
    for report in [too_big(&stale, 1000), too_big(&stranger, 1000)] {
        assert!(exchange(&mut server, &mut nic, report).is_empty());
    }
    assert_eq!(server.counters.drop_icmp, 2);
    assert_eq!(server.counters.tcp_path_mtu_reductions, 0);

    // The second segment was too big for a 1,000-byte hop: everything from the first
    // unacknowledged byte goes again at once, in segments of at most 960 bytes.
    let again = exchange(&mut server, &mut nic, too_big(&out[1], 1000));
    assert_eq!(server.counters.tcp_path_mtu_reductions, 1);
    assert_eq!(server.counters.drop_icmp, 2);
    let (seq, ..) = server_segment(&again[0]);
    assert_eq!(
        seq, first_seq,
        "sent again from the first unacknowledged byte"
    );
    let sizes: Vec<usize> = again.iter().map(|f| server_segment(f).3.len()).collect();
    assert!(
        sizes.iter().all(|&n| n <= 960) && sizes[0] == 960,
        "{sizes:?}"
    );
    assert!(again.iter().all(|f| f.len() <= 14 + 1000));

    // A later report for a larger MTU does not grow them again, nor does a report below
    // 576 bytes shrink them past 536.
    assert!(exchange(&mut server, &mut nic, too_big(&again[0], 1400)).is_empty());
    assert_eq!(server.counters.drop_icmp, 3);
    let small = exchange(&mut server, &mut nic, too_big(&again[0], 300));
    let sizes: Vec<usize> = small.iter().map(|f| server_segment(f).3.len()).collect();
    assert_eq!(sizes[0], 536, "{sizes:?}");
    assert_eq!(server.counters.tcp_path_mtu_reductions, 2);

    // The whole page arrives, in order, in the smaller segments.
    let got = c.read(&mut server, &mut nic, small);
    let text = show(&got);
    assert!(text.starts_with("HTTP/1.1 200 OK\r\n"), "{text}");
    assert!(got.ends_with(&[b'x'; 5000]));
}

/// The platform's clock steps back 50 s: the server goes on from the time it had, so the
/// SYN-ACK of a connection opened just then is sent again after its timeout, not once
/// the clock has come back to where it was.
#[test]
fn a_clock_that_steps_back_does_not_stop_the_timers() {
    let mut mem = Memory::new(8, 1);
    let mut server = mem.server();
    let mut nic = Nic {
        now: 100_005,
        ..Nic::default()
    };
    server.tick(&mut nic);
    nic.now = 50_000;
    let syn = client_frame_from(47000, 100, None, Flags::SYN, b"");
    let first = exchange(&mut server, &mut nic, syn);
    assert_eq!(first.len(), 1);
    let mut again = Vec::new();
    while again.is_empty() && nic.now < 52_000 {
        nic.now += 10;
        server.tick(&mut nic);
        again = std::mem::take(&mut nic.sent);
    }
    // The first SYN-ACK timeout is 1 s, on the wheel's 10 ms ticks.
    assert_eq!(again.len(), 1);
    assert_eq!(
        server_segment(&again[0]),
        server_segment(&first[0]),
        "the SYN-ACK, sent again"
    );
    assert!((51_001..=51_011).contains(&nic.now), "at {}", nic.now);
    assert_eq!(server.counters.tcp_retransmits, 1);
}

/// A client that waits for a 100 (Continue) before sending a megabyte is refused at once
/// when no task is free: no 100 invites the body the 503 does not need, and what the
/// client sends of it all the same meets no RST.
#[test]
fn a_refused_upload_is_answered_before_its_body_and_not_invited() {
    let mut mem = Memory::new(8, 1);
    let mut server = mem.server();
    let mut nic = Nic::default();
    let _a = hold_the_only_task(&mut server, &mut nic, 47000);
    let mut b = Client::connect(&mut server, &mut nic, 47001);
    let big = b"POST /echo HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\n\
        Content-Length: 1000000\r\n\r\n";
    let r = b.send(&mut server, &mut nic, big);
    assert_eq!(show(&r), show(&busy_503()));
    assert!(b.fin);
    let out = exchange(&mut server, &mut nic, b.frame(Flags::PSH, &[b'x'; 1000]));
    assert_eq!(out.len(), 1);
    let (_, ack, flags, payload) = server_segment(&out[0]);
    assert_eq!((flags, payload.len()), (Flags(0), 0), "an ACK, no RST");
    assert_eq!(ack, Some(b.seq + 1000));
    assert_eq!(server.counters.qos_refused_503, 1);
    // A POST to a page with `Connection: close` is answered 405 before its body too;
    // with keep-alive the body is read first, to find the next request.
    let mut c = Client::connect(&mut server, &mut nic, 47002);
    let post = b"POST /about HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\
        Content-Length: 5\r\n\r\n";
    let r = c.send(&mut server, &mut nic, post);
    assert!(show(&r).starts_with("HTTP/1.1 405 "), "{}", show(&r));
    let mut d = Client::connect(&mut server, &mut nic, 47003);
    let post = b"POST /about HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\n";
    assert!(d.send(&mut server, &mut nic, post).is_empty());
    let r = d.send(&mut server, &mut nic, b"abcde");
    assert!(show(&r).starts_with("HTTP/1.1 405 "), "{}", show(&r));
    assert!(!d.fin);
}

/// A task's answer is named by its index in a 2,048-entry field: a site with more tasks
/// than that is refused, not run with two tasks behind one name.
#[test]
fn more_tasks_than_answers_can_name_are_refused() {
    let mut too_many = Memory::new(4, gh_net::site::MAX_TASKS + 1);
    let cfg = NetConfig {
        mac: SERVER_MAC,
        ip: SERVER_IP,
        prefix_len: 24,
        gateway: None,
    };
    let server = Server::new(too_many.0.memory(), cfg, &[80], &PAGES, DATE, [1; 4], 0);
    assert!(server.is_none());
    // The last task that can be named answers its own body.
    let mut mem = Memory::new(4, gh_net::site::MAX_TASKS);
    let mut server = mem.server();
    let mut nic = Nic::default();
    let mut c = Client::connect(&mut server, &mut nic, 52000);
    let post = b"POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nabc";
    for _ in 0..=gh_net::site::MAX_TASKS {
        let r = c.send(&mut server, &mut nic, post);
        assert_echoed_abc(&r);
        assert_eq!(server.tasks_busy(), 0);
    }
}

/// Request sequences cut in two at every byte: the answers, the close, the tasks and the
/// counts are those of the sequence sent whole. The parser keeps only its place between
/// segments, in bodies, chunk framing, pipelines and errors alike.
#[test]
fn a_split_anywhere_changes_nothing() {
    let tag = etag(PAGES[0].body);
    let cases = [
        "POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nabcGET / HTTP/1.1\r\nHost: a\r\n\r\n".to_string(),
        "POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n2;x=y\r\nab\r\n\
         1\r\nc\r\n0\r\nT: 1\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n".to_string(),
        "GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\n\r\nGET GET /about HTTP/1.1\r\nHost: a\r\n\r\n".to_string(),
        "GET / HTTP/1.1\r\nHost: a\r\n\r\nPOST /echo HTTP/1.1\r\nHost: a\r\n\
         Transfer-Encoding: chunked\r\n\r\n3\r\nabX\r\n".to_string(),
        "POST /echo HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\n\
         abcGET / HTTP/1.1\r\nHost: a\r\n\r\n".to_string(),
        "POST /nope HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n1\r\na\r\n0\r\n\r\n\
         GET / HTTP/1.1\r\nHost: a\r\n\r\n".to_string(),
        "GET / HTTP/1.0\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n".to_string(),
        format!("GET / HTTP/1.1\r\nHost: a\r\nIf-None-Match: \"x\", {tag}\r\n\r\n\
                 GET http://a/about?x HTTP/1.1\r\nHost: a\r\nIf-Match: {tag}x\r\n\r\n"),
        "PUT /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\n\r\nx".to_string(),
        "HEAD /nope HTTP/1.1\r\nHost: a\r\n\r\nOPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n".to_string(),
    ];
    for case in &cases {
        let input = case.as_bytes();
        let whole = outcome(&[input]);
        assert!(whole.requests > 0, "{case:?}");
        for cut in 1..input.len() {
            let (a, b) = input.split_at(cut);
            assert_eq!(outcome(&[a, b]), whole, "{case:?} cut at {cut}");
        }
    }
}

/// The counters that moved between two snapshots, frames in and out aside.
fn moved(before: &Counters, after: &Counters) -> Vec<(&'static str, u64)> {
    Counters::NAMES
        .iter()
        .zip(before.values().iter().zip(after.values()))
        .filter(|(n, (b, a))| **b != *a && !matches!(**n, "rx_frames" | "tx_frames"))
        .map(|(n, (b, a))| (*n, a - b))
        .collect()
}

/// Every segment TCP takes no data from, or answers with nothing, moves a counter, and
/// only the one that says why.
#[test]
fn every_segment_ignored_is_counted_once() {
    let mut mem = Memory::new(8, 2);
    let mut server = mem.server();
    let mut nic = Nic::default();
    let c = Client::connect(&mut server, &mut nic, 52000);
    let mut check = |server: &mut Server<'_>, frame: Vec<u8>, answers: usize, want| {
        let before = server.counters;
        let out = exchange(server, &mut nic, frame);
        assert_eq!(out.len(), answers);
        assert_eq!(moved(&before, &server.counters), want);
    };
    let get = b"GET / HTTP/1.1\r\nHost: a\r\n\r\n";
    // Past a gap: not kept, and a duplicate ACK asks for the gap.
    let gap = client_frame_from(c.port, c.seq + 5, Some(c.their), Flags::PSH, get);
    check(&mut server, gap, 1, vec![("drop_tcp_out_of_order", 1)]);
    // A RST far outside the window: ignored (RFC 5961 section 3.2).
    let far = client_frame_from(c.port, c.seq + 1_000_000, None, Flags::RST, b"");
    check(&mut server, far, 0, vec![("drop_tcp_out_of_window", 1)]);
    // Data without ACK on a connection (RFC 9293 section 3.10.7.4).
    let no_ack = client_frame_from(c.port, c.seq, None, Flags::PSH, get);
    check(&mut server, no_ack, 0, vec![("drop_tcp_unexpected", 1)]);
    // For no connection: a RST, and a segment with none of SYN, ACK and RST.
    let stray_rst = client_frame_from(53000, 7, None, Flags::RST, b"");
    check(&mut server, stray_rst, 0, vec![("drop_tcp_unexpected", 1)]);
    let stray = client_frame_from(53000, 7, None, Flags::PSH, get);
    check(&mut server, stray, 0, vec![("drop_tcp_unexpected", 1)]);
    // A half-open connection: the peer's SYN sent again gets the SYN-ACK again; a new
    // SYN makes it forgotten.
    let syn = client_frame_from(54000, 100, None, Flags::SYN, b"");
    check(&mut server, syn.clone(), 1, vec![]);
    assert_eq!(server.connections(), 2);
    check(&mut server, syn, 1, vec![("tcp_retransmits", 1)]);
    let new_syn = client_frame_from(54000, 105, None, Flags::SYN, b"");
    check(&mut server, new_syn, 0, vec![("drop_tcp_unexpected", 1)]);
    assert_eq!(server.connections(), 1);
}

/// A good request with no room to queue its answer is deferred like a bad one: left
/// unacknowledged and counted as deferred, not as a request.
#[test]
fn a_request_with_no_room_is_deferred_and_counted() {
    use gh_net::site::pipeline::PER_CONNECTION;
    let mut mem = Memory::new(8, 1);
    let mut server = mem.server();
    let mut nic = Nic::default();
    let c = Client::connect(&mut server, &mut nic, 45000);
    let get = b"GET / HTTP/1.1\r\nHost: a\r\n\r\n";
    let out = exchange(
        &mut server,
        &mut nic,
        c.frame(Flags::PSH, &get.repeat(2 + PER_CONNECTION)),
    );
    let (_, ack, _, _) = server_segment(out.last().unwrap());
    let taken = get.len() * (1 + PER_CONNECTION);
    assert_eq!(ack, Some(c.seq + taken as u32), "the last is not taken");
    assert_eq!(server.counters.http_requests, 1 + PER_CONNECTION as u64);
    assert_eq!(server.counters.qos_deferred_pipeline, 1);
}

/// An idle time past what the connection timers can hold is held to their limit: the
/// connection stays open, rather than the deadline reading as passed and closing it at
/// the next tick.
#[test]
fn an_idle_time_past_the_timers_limit_is_held_to_it() {
    for idle in [u32::MAX, 3_000_000_000, (1 << 31) + 5000] {
        let mut mem = Memory::new(8, 2);
        let mut server = mem.server();
        let mut nic = Nic::default();
        server.set_idle_ms(idle);
        let mut c = Client::connect(&mut server, &mut nic, 50000);
        c.send(&mut server, &mut nic, b"GET / HTTP/1.1\r\nHost: a\r\n\r\n");
        let from = nic.now;
        while nic.now < from + 3000 {
            nic.now += 10;
            server.tick(&mut nic);
            let sent = std::mem::take(&mut nic.sent);
            assert!(
                sent.iter()
                    .all(|f| !server_segment(f).2.contains(Flags::FIN)),
                "idle {idle}: closed after {} ms",
                nic.now - from
            );
        }
        assert_eq!(server.connections(), 1);
    }
}
