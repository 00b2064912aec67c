//! GigaHttpd's side: `gh_net::server::Server` over in-memory frames, driven the way a
//! core's main loop drives it (gh_module/gh_core.rs): every received frame goes to
//! `receive`, and `tick` runs whenever `TICK_MS` of the clock have passed. The site
//! serves one page; its responses carry a `Date` that follows the clock.

use std::mem::size_of;

use gh_net::engine::{NetConfig, Platform};
use gh_net::owned::{OwnedMemory, Sizes};
use gh_net::server::Server;
use gh_net::site::{Exchange, Page};
use gh_net::tcp::Tcb;

use crate::client::Target;
use crate::wire::{Wire, HTTP_PORT, SERVER_IP, SERVER_MAC};
use crate::{server_work, Work};

/// Connection slots (a core has up to 32,768; gh_module/server_mem.rs).
const CONNECTIONS: usize = 1024;
/// Timer ticks, as a core's loop runs them.
const TICK_MS: u64 = 10;
/// Echo tasks, as a core has (the site's `POST /echo` pool, unused by this exchange).
const TASKS: usize = 64;
/// The site's date at the start of the clock (Unix seconds).
const UNIX_SECONDS: u64 = 1_700_000_000;

/// The site: one page at `/` with a 100-byte body.
pub static PAGES: [Page<'static>; 1] = [Page {
    path: "/",
    content_type: "text/plain",
    body: b"GigaHttpd netbench: a page of one hundred bytes, served whole in one segment \
        to every client.......\n",
}];

/// The port list the server listens on.
static PORTS: [u16; 1] = [HTTP_PORT];

/// The arrays a GigaHttpd server runs in, sized as a core's.
pub struct Memory(OwnedMemory);

impl Memory {
    /// Arrays for [`CONNECTIONS`] slots as a core has them: a lookup table twice as
    /// long, 256 timer buckets, a 256-entry TX wait ring, the echo tasks, a pipeline
    /// queue, and the site's prepared responses for [`PAGES`].
    pub fn new() -> Self {
        let sizes = Sizes {
            slots: CONNECTIONS,
            timers: 256,
            waits: 256,
            tasks: TASKS,
            pipeline: CONNECTIONS,
        };
        Memory(OwnedMemory::new(&sizes, &PAGES))
    }

    /// What one connection costs, item by item: its slot, its HTTP state, and its share
    /// of the lookup table.
    pub fn per_connection(&self) -> Vec<(String, usize)> {
        let (tcb, exchange) = (size_of::<Tcb>(), size_of::<Exchange>());
        vec![
            ("gh_net::tcp::Tcb (connection slot)".into(), tcb),
            ("gh_net::site::Exchange (HTTP state)".into(), exchange),
            (
                "pool lookup table share".into(),
                self.0.bytes_per_connection() - tcb - exchange,
            ),
        ]
    }

    /// Bytes per core that do not grow with connections: timer buckets, TX wait ring,
    /// prepared responses, echo tasks and the pipeline queue.
    pub fn per_core(&self) -> usize {
        self.0.bytes_per_server()
    }
}

/// Builds the server: the single place that knows `Server::new`'s signature.
fn new_server(mem: &mut Memory, now_ms: u64) -> Server<'_> {
    Server::new(
        mem.0.memory(),
        NetConfig {
            mac: SERVER_MAC,
            ip: SERVER_IP,
            prefix_len: 24,
            gateway: None,
        },
        &PORTS,
        &PAGES,
        UNIX_SECONDS,
        [1, 2, 3, 4],
        now_ms,
    )
    .expect("gh_net::server::Server::new refused the memory")
}

/// The NIC and clock of the core.
struct Nic {
    now_ms: u64,
    rng: u64,
    wire: Wire,
}

impl Platform for Nic {
    fn now_ms(&self) -> u64 {
        self.now_ms
    }

    fn random(&mut self) -> u64 {
        // xorshift64: the engine asks only for keys and sequence numbers.
        self.rng ^= self.rng << 13;
        self.rng ^= self.rng >> 7;
        self.rng ^= self.rng << 17;
        self.rng
    }

    fn transmit(&mut self, len: usize, build: &mut dyn FnMut(&mut [u8])) -> bool {
        self.wire.push(len, build).is_some()
    }
}

/// A GigaHttpd server under test.
pub struct Gh<'a> {
    server: Server<'a>,
    nic: Nic,
    next_tick: u64,
    /// Timer ticks run.
    pub ticks: u64,
}

impl<'a> Gh<'a> {
    /// A server in `mem`, started at `now_ms`.
    pub fn new(mem: &'a mut Memory, now_ms: u64) -> Self {
        Self {
            server: new_server(mem, now_ms),
            nic: Nic {
                now_ms,
                rng: 0x2545_f491_4f6c_dd1d,
                wire: Wire::new(),
            },
            next_tick: now_ms + TICK_MS,
            ticks: 0,
        }
    }

    /// Checks the engine's own counters against what the client completed.
    pub fn check(&self, connections: u64) {
        let c = &self.server.counters;
        assert_eq!(c.tcp_opened, connections, "GigaHttpd: connections opened");
        assert_eq!(c.http_requests, connections, "GigaHttpd: requests answered");
        assert_eq!(c.http_rejected, 0, "GigaHttpd: requests rejected");
        assert!(
            self.server.connections() < CONNECTIONS,
            "GigaHttpd: every slot in use"
        );
    }

    /// Connections holding a slot now (TIME-WAIT included).
    pub fn slots_in_use(&self) -> usize {
        self.server.connections()
    }
}

/// The server's work for one received frame.
#[inline(never)]
fn receive(server: &mut Server<'_>, frame: &[u8], nic: &mut Nic) {
    server.receive(frame, nic);
}

/// The server's timer work: expired timers (TIME-WAIT, retransmissions) and the network
/// layer's periodic work.
#[inline(never)]
fn tick(server: &mut Server<'_>, nic: &mut Nic) {
    server.tick(nic);
}

impl Target for Gh<'_> {
    fn deliver(&mut self, frame: &[u8], now_ms: u64, measured: bool) {
        let Self {
            server,
            nic,
            next_tick,
            ticks,
            ..
        } = self;
        nic.now_ms = now_ms;
        if measured {
            server_work(Work::of_frame(frame), || receive(server, frame, nic));
        } else {
            receive(server, frame, nic);
        }
        if now_ms >= *next_tick {
            *next_tick = now_ms + TICK_MS;
            *ticks += 1;
            if measured {
                server_work(Work::Timers, || tick(server, nic));
            } else {
                tick(server, nic);
            }
        }
    }

    fn wire(&mut self) -> &mut Wire {
        &mut self.nic.wire
    }
}
