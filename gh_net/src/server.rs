//! The engine of one core, joined: network layer, TCP listener and a built-in HTTP
//! application that serves one fixed response (head and body prepared by the caller)
//! to every well-formed request, with keep-alive.
//!
//! All state lives in [`ServerMemory`], which the caller provides; nothing allocates.

use super::counters::Counters;
use super::engine::{NetConfig, Network, Platform, Received};
use super::http::request::{Event, Limits, Parser};
use super::qos::WaitList;
use super::tcp::listener::{App, Listener};
use super::tcp::pool::Pool;
use super::tcp::siphash::Key;
use super::tcp::wheel::Wheel;
use super::tcp::{Config, Flow, Segment, Source, Tcb, Tx};

/// Timer wheel granularity.
const TICK_MS: u32 = 10;

/// The memory a [`Server`] runs in, provided by the caller. `table` must be a power of
/// two longer than `slots`; `parsers` and `ready` have one entry per slot.
pub struct ServerMemory<'a> {
    /// Connection slots (initialised by the pool).
    pub slots: &'a mut [Tcb],
    /// The pool's lookup table.
    pub table: &'a mut [u32],
    /// Timer wheel buckets.
    pub heads: &'a mut [u32],
    /// The TX wait list's ring.
    pub waits: &'a mut [u32],
    /// Per slot: the HTTP parser.
    pub parsers: &'a mut [Parser],
    /// Per slot: a complete request is waiting for its response (and whether to keep the
    /// connection open afterwards).
    pub ready: &'a mut [Option<bool>],
}

/// The built-in application: one response for every request.
struct Site<'a> {
    response: &'a [u8],
    parsers: &'a mut [Parser],
    ready: &'a mut [Option<bool>],
    /// Complete requests seen, good or bad.
    requests: u64,
    /// Malformed requests.
    rejected: u64,
}

impl Source for Site<'_> {
    fn len(&self, _handle: u32) -> u32 {
        u32::try_from(self.response.len()).unwrap_or(0)
    }
}

impl App for Site<'_> {
    fn on_data(&mut self, slot: usize, data: &[u8]) -> usize {
        let (Some(parser), Some(ready)) = (self.parsers.get_mut(slot), self.ready.get_mut(slot))
        else {
            return 0;
        };
        if ready.is_some() {
            // One request at a time: the next waits until this response is sent.
            return 0;
        }
        let mut keep = None;
        match parser.feed(data, &Limits::default(), &mut |e| {
            if let Event::Head(h) = e {
                keep = Some(h.keep_alive);
            }
        }) {
            Ok(progress) => {
                if progress.complete {
                    self.requests += 1;
                    *ready = Some(keep.unwrap_or(false));
                    *parser = Parser::new();
                }
                progress.consumed
            }
            // A malformed request gets no page: the connection is answered like a close.
            Err(_) => {
                self.requests += 1;
                self.rejected += 1;
                *ready = Some(false);
                *parser = Parser::new();
                data.len()
            }
        }
    }

    fn on_ready(&mut self, slot: usize, tcb: &mut Tcb) {
        let Some(keep_alive) = self.ready.get(slot).copied().flatten() else {
            return;
        };
        if tcb.send(0, &*self) {
            if let Some(r) = self.ready.get_mut(slot) {
                *r = None;
            }
            if !keep_alive {
                tcb.close();
            }
        }
    }

    fn on_closed(&mut self, slot: usize) {
        if let Some(p) = self.parsers.get_mut(slot) {
            *p = Parser::new();
        }
        if let Some(r) = self.ready.get_mut(slot) {
            *r = None;
        }
    }
}

/// The TCP layer's transmit path: frames built by the network layer, data copied once
/// from the response.
struct FrameTx<'n, 'p, P: Platform> {
    net: &'n mut Network,
    platform: &'p mut P,
    response: &'n [u8],
    ctr: &'n mut Counters,
}

impl<P: Platform> Tx for FrameTx<'_, '_, P> {
    fn transmit(&mut self, flow: &Flow, seg: &Segment) -> bool {
        let payload = match seg.data {
            Some((_, off, len)) => {
                let start = off as usize;
                match self
                    .response
                    .get(start..start.saturating_add(usize::from(len)))
                {
                    Some(p) => p,
                    None => return false,
                }
            }
            None => &[],
        };
        self.net
            .send_tcp(self.platform, flow, seg, payload, self.ctr)
    }
}

/// One core's HTTP server.
pub struct Server<'a> {
    net: Network,
    listener: Listener<'a>,
    site: Site<'a>,
    /// What the engine counted.
    pub counters: Counters,
}

impl<'a> Server<'a> {
    /// A server on `cfg`'s address answering every request on `port` with `response`
    /// (a complete HTTP response: head and body). `seed` keys SYN cookies and ISNs.
    pub fn new(
        mem: ServerMemory<'a>,
        cfg: NetConfig,
        port: &'a [u16; 1],
        response: &'a [u8],
        seed: [u64; 4],
        now_ms: u64,
    ) -> Option<Self> {
        let ServerMemory {
            slots,
            table,
            heads,
            waits,
            parsers,
            ready,
        } = mem;
        if parsers.len() < slots.len() || ready.len() < slots.len() {
            return None;
        }
        parsers.fill(Parser::new());
        ready.fill(None);
        let max_half_open = slots.len() / 2;
        let [a, b, c, d] = seed;
        let pool = Pool::new(slots, table, Key([a, b]))?;
        let wheel = Wheel::new(heads, TICK_MS, now_ms)?;
        let listener = Listener::new(
            pool,
            wheel,
            Config::default(),
            cfg.ip,
            port,
            Key([c, d]),
            Key([a ^ d, b ^ c]),
            max_half_open,
            WaitList::new(waits),
        );
        Some(Self {
            net: Network::new(cfg),
            listener,
            site: Site {
                response,
                parsers,
                ready,
                requests: 0,
                rejected: 0,
            },
            counters: Counters::default(),
        })
    }

    /// Handles one received frame; replies go out through `p`.
    pub fn receive<P: Platform>(&mut self, frame: &[u8], p: &mut P) {
        let now = p.now_ms();
        if let Received::Tcp { src, segment, .. } = self.net.receive(frame, p, &mut self.counters) {
            self.with_tcp(p, |listener, site, tx, ctr| {
                listener.on_segment(src, &segment, now, site, tx, ctr)
            });
        }
    }

    /// Runs expired timers (retransmissions, TIME-WAIT, idle connections) and the
    /// network layer's periodic work.
    pub fn tick<P: Platform>(&mut self, p: &mut P) {
        let now = p.now_ms();
        self.net.poll(p, &mut self.counters);
        self.with_tcp(p, |listener, site, tx, ctr| {
            listener.on_timers(now, site, tx, ctr)
        });
    }

    /// Runs `f` on the listener with a transmit path into `p`, then folds in what the
    /// transmit path and the application counted.
    fn with_tcp<P: Platform>(
        &mut self,
        p: &mut P,
        f: impl FnOnce(&mut Listener<'a>, &mut Site<'a>, &mut FrameTx<'_, '_, P>, &mut Counters),
    ) {
        let Self {
            net,
            listener,
            site,
            counters,
        } = self;
        let mut side = Counters::default();
        let mut tx = FrameTx {
            net,
            platform: p,
            response: site.response,
            ctr: &mut side,
        };
        f(listener, site, &mut tx, counters);
        counters.accumulate(&side);
        counters.http_requests = site.requests;
        counters.http_rejected = site.rejected;
    }

    /// Connections in use.
    pub fn connections(&self) -> usize {
        self.listener.pool.used()
    }
}
