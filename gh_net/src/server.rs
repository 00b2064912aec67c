//! The engine of one core, joined: network layer, TCP listener and the built-in site
//! (see [`super::site`]).
//!
//! All state lives in [`ServerMemory`], which the caller provides; nothing allocates.

use super::counters::Counters;
use super::engine::{NetConfig, Network, Platform, Received, Sent};
use super::qos::WaitList;
use super::quarantine::{self, Answer, Quarantine};
use super::site::echo::Task;
use super::site::pipeline::Queued;
use super::site::replies::Reply;
use super::site::{Exchange, Page, Site, SiteMemory};
use super::tcp::listener::Listener;
use super::tcp::pool::Pool;
use super::tcp::siphash::Key;
use super::tcp::wheel::{Link, Wheel};
use super::tcp::{Config, Flow, Segment, Source, Tcb, Tx};
use super::wire::tcp::{Flags, Incoming, SeqNumber};

/// Timer wheel granularity.
const TICK_MS: u32 = 10;

/// The memory a [`Server`] runs in, provided by the caller.
pub struct ServerMemory<'a> {
    /// Connection slots (initialised by the pool).
    pub slots: &'a mut [Tcb],
    /// The pool's lookup table: a power of two longer than `slots`.
    pub table: &'a mut [u32],
    /// Timer wheel buckets.
    pub timers: &'a mut [Link],
    /// The TX wait list's ring.
    pub waits: &'a mut [u32],
    /// Per slot: the site's state of the connection's exchange.
    pub exchanges: &'a mut [Exchange],
    /// The site's prepared responses: `site::replies::table_len(pages)` entries.
    pub replies: &'a mut [Reply],
    /// Their head templates: `site::replies::arena_len(pages)` bytes.
    pub arena: &'a mut [u8],
    /// The echo task pool.
    pub tasks: &'a mut [Task],
    /// Responses of pipelined requests waiting their turn (shared by all connections).
    pub pipeline: &'a mut [Queued],
}

/// The TCP layer's transmit path: frames built by the network layer, response bytes
/// copied once, from where the site keeps them into the frame.
struct FrameTx<'n, 'p, P: Platform> {
    net: &'n mut Network,
    platform: &'p mut P,
    /// Frames sent, added to the counters once the listener is done.
    sent: u64,
}

impl<P: Platform> Tx for FrameTx<'_, '_, P> {
    /// A segment with no known next hop is lost, as on the wire, rather than parked: TCP
    /// sends it again on its timer, by when the neighbour may have answered.
    fn transmit(&mut self, flow: &Flow, seg: &Segment, src: &impl Source) -> Sent {
        let (handle, off, len) = seg.data.unwrap_or((0, 0, 0));
        let sent = self
            .net
            .send_tcp_with(self.platform, flow, seg, usize::from(len), |out| {
                // Segments without data have no response to read (nor a date to format).
                if out.is_empty() {
                    None
                } else {
                    src.fill(handle, off, out)
                }
            });
        if sent == Sent::Queued {
            self.sent += 1;
        }
        sent
    }

    #[inline(always)]
    fn serving(&mut self, stream_end: Option<SeqNumber>) {
        self.platform.serving(stream_end.map(|s| s.0));
    }
}

/// The platform as the engine's layers see it: its clock is the server's
/// ([`Server::clock`]), so the network layer's timers (ARP) and TCP's read the same time.
struct Clocked<'p, P: Platform> {
    platform: &'p mut P,
    now: u64,
}

impl<P: Platform> Platform for Clocked<'_, P> {
    #[inline(always)]
    fn now_ms(&self) -> u64 {
        self.now
    }

    #[inline(always)]
    fn random(&mut self) -> u64 {
        self.platform.random()
    }

    #[inline(always)]
    fn serving(&mut self, stream_end: Option<u32>) {
        self.platform.serving(stream_end);
    }

    #[inline(always)]
    fn transmit(&mut self, len: usize, build: &mut dyn FnMut(&mut [u8])) -> bool {
        self.platform.transmit(len, build)
    }
}

/// One core's HTTP server.
pub struct Server<'a> {
    net: Network,
    listener: Listener<'a>,
    site: Site<'a>,
    quarantine: Quarantine,
    /// The engine's time at the last frame or tick: the platform's clock plus
    /// `clock_offset` (see [`Server::clock`]).
    now_ms: u64,
    /// How far the platform's clock has stepped back, in all.
    clock_offset: u64,
    /// What the engine counted.
    pub counters: Counters,
}

impl<'a> Server<'a> {
    /// A server on `cfg`'s address serving `pages` on `port`. `unix_seconds` is the date
    /// at `now_ms` of the platform clock; `seed` keys SYN cookies and ISNs.
    pub fn new(
        mem: ServerMemory<'a>,
        cfg: NetConfig,
        port: &'a [u16; 1],
        pages: &'a [Page<'a>],
        unix_seconds: u64,
        seed: [u64; 4],
        now_ms: u64,
    ) -> Option<Self> {
        let ServerMemory {
            slots,
            table,
            timers,
            waits,
            exchanges,
            replies,
            arena,
            tasks,
            pipeline,
        } = mem;
        if exchanges.len() < slots.len() {
            return None;
        }
        let max_half_open = slots.len() / 2;
        let [a, b, c, d] = seed;
        let pool = Pool::new(slots, table, Key([a, b]))?;
        let wheel = Wheel::new(timers, TICK_MS, now_ms)?;
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
        let site = Site::new(
            pages,
            SiteMemory {
                replies,
                arena,
                exchanges,
                tasks,
                pipeline,
            },
            unix_seconds,
            now_ms,
        )?;
        Some(Self {
            net: Network::new(cfg),
            listener,
            site,
            quarantine: Quarantine::default(),
            now_ms,
            clock_offset: 0,
            counters: Counters::default(),
        })
    }

    /// The engine's time: the platform's clock, which should never go back. If it does,
    /// the step is added to an offset, so the engine's time stays where it was and goes
    /// on from there at the platform's pace: connections' deadlines and the timer wheel
    /// keep reading one clock, and no timer waits for the platform's to come back.
    #[inline]
    fn clock<P: Platform>(&mut self, p: &P) -> u64 {
        let t = p.now_ms().saturating_add(self.clock_offset);
        if t < self.now_ms {
            self.clock_offset = self.clock_offset.saturating_add(self.now_ms - t);
        } else {
            self.now_ms = t;
        }
        self.now_ms
    }

    /// Handles one received frame; replies go out through `p`.
    pub fn receive<P: Platform>(&mut self, frame: &[u8], p: &mut P) {
        let now = self.clock(p);
        let p = &mut Clocked { platform: p, now };
        match self.net.receive(frame, p, &mut self.counters) {
            Received::Tcp { src, segment, .. } => {
                if !self.quarantine.is_empty() && self.answer_quarantined(src, &segment, now, p) {
                    return;
                }
                self.with_tcp(p, now, |listener, site, tx, ctr| {
                    listener.on_segment(src, &segment, now, site, tx, ctr)
                });
            }
            Received::TooBig {
                remote,
                remote_port,
                local_port,
                seq,
                mtu,
            } => self.too_big((remote, remote_port, local_port), seq, mtu, now, p),
            Received::Done => {}
        }
    }

    /// A router's report that a segment of connection `(remote, remote_port, local_port)`
    /// was too big for its next hop. Rare: kept out of the receive path's code.
    #[cold]
    #[inline(never)]
    fn too_big<P: Platform>(
        &mut self,
        (remote, remote_port, local_port): (super::wire::ipv4::Address, u16, u16),
        seq: SeqNumber,
        mtu: u16,
        now: u64,
        p: &mut P,
    ) {
        self.with_tcp(p, now, |listener, site, tx, ctr| {
            listener.on_too_big(
                remote,
                remote_port,
                local_port,
                seq,
                mtu,
                now,
                site,
                tx,
                ctr,
            )
        });
    }

    /// Answers every later segment of `flow` (a [`quarantine::flow_key`]) without running
    /// it: the request the flow carried stopped this core's previous run, whose byte
    /// stream on the flow stood at `stream_end` ([`Platform::serving`]).
    pub fn quarantine(&mut self, flow: u64, stream_end: quarantine::StreamEnd, now_ms: u64) {
        self.quarantine.add(flow, stream_end, now_ms);
    }

    /// Flows quarantined now.
    pub fn quarantined(&self, now_ms: u64) -> usize {
        self.quarantine.len(now_ms)
    }

    /// Answers `segment` if its flow is quarantined; `false` sends it on to the listener.
    fn answer_quarantined<P: Platform>(
        &mut self,
        src: super::wire::ipv4::Address,
        segment: &super::wire::tcp::InPlace<'_>,
        now: u64,
        p: &mut P,
    ) -> bool {
        let (src_port, dst_port) = (segment.src_port(), segment.dst_port());
        let key = quarantine::flow_key(src, src_port, dst_port);
        let (seq, ack, flags, data) = match self.quarantine.answer(key, segment, now) {
            Answer::Pass => return false,
            Answer::Drop => return true,
            Answer::Refuse { seq, ack } => (
                seq,
                Some(SeqNumber(ack)),
                Flags::FIN.with(Flags::PSH),
                quarantine::RESPONSE,
            ),
            Answer::AckFin { seq, ack } => (seq, Some(SeqNumber(ack)), Flags(0), &[][..]),
            Answer::Reset { seq } => (seq, None, Flags::RST, &[][..]),
        };
        let flow = Flow {
            remote_ip: src,
            remote_port: src_port,
            local_ip: self.net.config().ip,
            local_port: dst_port,
        };
        let seg = Segment {
            seq: SeqNumber(seq),
            ack,
            flags,
            window: if ack.is_some() { 1024 } else { 0 },
            mss: None,
            data: None,
        };
        let mut fill = |out: &mut [u8]| {
            if let Some(bytes) = data.get(..out.len()) {
                super::bytes::copy(out, bytes);
            }
        };
        let sent = self
            .net
            .send_tcp(p, &flow, &seg, data.len(), &mut fill, &mut self.counters);
        match sent {
            Sent::Queued => {
                if !data.is_empty() || flags.contains(Flags::RST) {
                    super::counters::bump(&mut self.counters.http_quarantined);
                }
                if flags.contains(Flags::RST) {
                    super::counters::bump(&mut self.counters.tcp_resets_sent);
                }
            }
            Sent::RingFull => super::counters::bump(&mut self.counters.tx_full_drops),
            Sent::NoRoute => {}
        }
        true
    }

    /// Runs expired timers (retransmissions, TIME-WAIT, idle connections) and the
    /// network layer's periodic work.
    pub fn tick<P: Platform>(&mut self, p: &mut P) {
        let now = self.clock(p);
        let p = &mut Clocked { platform: p, now };
        self.net.poll(p, &mut self.counters);
        self.with_tcp(p, now, |listener, site, tx, ctr| {
            // Connections parked on a full TX ring try again first, in order.
            listener.resume_tx(now, site, tx, ctr);
            listener.on_timers(now, site, tx, ctr)
        });
    }

    /// Runs `f` on the listener with a transmit path into `p`, then adds in what the
    /// transmit path and the site counted (two fields, not a whole `Counters` per call).
    fn with_tcp<P: Platform>(
        &mut self,
        p: &mut P,
        now: u64,
        f: impl FnOnce(&mut Listener<'a>, &mut Site<'a>, &mut FrameTx<'_, '_, P>, &mut Counters),
    ) {
        let Self {
            net,
            listener,
            site,
            counters,
            ..
        } = self;
        site.set_now(now);
        let mut tx = FrameTx {
            net,
            platform: p,
            sent: 0,
        };
        f(listener, site, &mut tx, counters);
        counters.tx_frames = counters.tx_frames.wrapping_add(tx.sent);
        net.resolve_lost(p, counters);
        let s = site.counters;
        // Copied only when they moved: the site counts nothing else without counting a
        // request, a rejection or a deferral.
        if counters.http_requests == s.requests
            && counters.http_rejected == s.rejected
            && counters.qos_deferred_pipeline == s.deferred
        {
            return;
        }
        counters.qos_deferred_pipeline = s.deferred;
        counters.http_requests = s.requests;
        counters.http_rejected = s.rejected;
        counters.http_not_modified = s.not_modified;
        counters.http_not_found = s.not_found;
        counters.qos_refused_503 = s.refused_503;
    }

    /// Sets the window a SYN-ACK offers, for connections opened from now on.
    pub fn set_initial_window(&mut self, bytes: u16) {
        self.listener.cfg.initial_window = bytes;
    }

    /// Sets how long an established connection may stay idle, from each connection's
    /// next activity on: from 1 ms to [`MAX_TIMER_MS`] (about 24.8 days), to which a
    /// value outside is held.
    ///
    /// [`MAX_TIMER_MS`]: super::tcp::Config::MAX_TIMER_MS
    pub fn set_idle_ms(&mut self, ms: u32) {
        self.listener.cfg.idle_ms = ms.clamp(1, super::tcp::Config::MAX_TIMER_MS);
    }

    /// Connections in use.
    pub fn connections(&self) -> usize {
        self.listener.pool.used()
    }

    /// Connections parked now, waiting for room in the TX ring.
    pub fn parked(&self) -> usize {
        self.listener.tx_waiting()
    }

    /// Echo tasks in use.
    pub fn tasks_busy(&self) -> usize {
        self.site.tasks_busy()
    }
}
