//! The built-in application: a site of fixed pages and one task, enough for a core to be
//! a real web server before the data-block store is joined to it.
//!
//! - `GET`/`HEAD` of a page: 200 with an ETag, 304 when `If-None-Match` matches it, 412
//!   when an `If-Match` does not.
//! - `POST /echo` with a body (Content-Length or chunked): 200 with the body's length and
//!   FNV-1a hash; the body streams through a task from a bounded pool (503 when none is
//!   free); 412 with any `If-Match`.
//! - Any other path: 404; a method the resource does not take: 405 with `Allow`.
//! - A malformed request: its 4xx/5xx, then the connection closes.
//!
//! Per connection the site keeps an [`Exchange`]: the parser's state, a path matcher, two
//! ETag matchers and the response being sent; no request or response bytes. Responses of
//! pipelined requests wait behind it in a shared [`pipeline`] pool.

pub mod assembled;
pub mod echo;
pub mod path;
pub mod pipeline;
pub mod replies;

use super::http::date;
use super::http::request::{Event, Header, Limits, Parser, RequestHead};
use super::http::response::{self, EtagMatcher};
use super::http::{Method, Status};
use super::tcp::conn::State;
use super::tcp::listener::App;
use super::tcp::{Source, Tcb};
use assembled::Assembled;
use echo::{Phase, Task, Tasks};
use path::{PathMatch, Routes};
use pipeline::{Pipeline, Queued};
use replies::{Conn, Fixed, Handle, Replies, Reply, FIXED};

/// One page of the site.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Page<'a> {
    /// Absolute path, e.g. `/index.html`.
    pub path: &'a str,
    /// `Content-Type` value.
    pub content_type: &'a str,
    /// The bytes served.
    pub body: &'a [u8],
}

/// The path of the echo task.
const ECHO: &[u8] = b"/echo";

/// The most echo tasks a site takes: a task's answer is named by its index in the same
/// field of a [`Handle`] as a prepared response's.
pub const MAX_TASKS: usize = replies::MAX_REPLIES;

/// What the site keeps per connection.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Exchange {
    parser: Parser,
    path: PathMatch,
    /// `If-None-Match` against the routed page's ETag.
    etag: EtagMatcher,
    /// `If-Match` against it.
    if_match: EtagMatcher,
    /// The first response of the connection's queue (decided at the end of its request's
    /// head, without its date): the one being sent, or next.
    reply: u32,
    /// The rest of the queue in the pipeline pool (link, 0 for none).
    more: u16,
    /// `HAS_REPLY`, `READY`, `SENT`, `PARSING`, `CLOSING`, `HAS_TASK`, `CONTINUE_DUE`.
    flags: u8,
}

/// `reply` holds a response.
const HAS_REPLY: u8 = 1;
/// Its request is complete: it may be sent.
const READY: u8 = 2;
/// It is being sent; it leaves the queue once acknowledged in full.
const SENT: u8 = 4;
/// The last response of the queue belongs to the request being parsed.
const PARSING: u8 = 8;
/// A response that closes the connection is queued: further input is ignored.
const CLOSING: u8 = 16;
/// The task named by `reply` belongs to this connection (a task's answer is always
/// first in its queue).
const HAS_TASK: u8 = 32;
/// The client of `reply`'s request waits for a 100 (Continue) before it sends the body.
/// Once sent, TCP holds the response back until the 100 is acknowledged (`Tcb::send`).
const CONTINUE_DUE: u8 = 64;

impl Exchange {
    fn has(&self, f: u8) -> bool {
        self.flags & f != 0
    }

    /// The task this connection holds, which it gives up.
    fn take_task(&mut self) -> Option<usize> {
        let task = self.has(HAS_TASK).then(|| Handle(self.reply).index());
        self.flags &= !HAS_TASK;
        task
    }
}

/// What the site counted.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SiteCounters {
    /// Complete requests, good or bad.
    pub requests: u64,
    /// Malformed requests (4xx/5xx from the parser).
    pub rejected: u64,
    /// 304 answers.
    pub not_modified: u64,
    /// 404 answers.
    pub not_found: u64,
    /// 503 answers: no task was free.
    pub refused_503: u64,
    /// Requests left for the peer to send again: no room to queue their answers.
    pub deferred: u64,
}

/// The memory a [`Site`] runs in.
pub struct SiteMemory<'a> {
    /// Prepared responses: [`replies::table_len`] entries.
    pub replies: &'a mut [Reply],
    /// Their head templates and the assembled responses: [`replies::arena_len`] bytes.
    pub arena: &'a mut [u8],
    /// One per connection slot.
    pub exchanges: &'a mut [Exchange],
    /// The echo task pool.
    pub tasks: &'a mut [Task],
    /// Responses of pipelined requests waiting their turn.
    pub pipeline: &'a mut [Queued],
}

/// The built-in application.
pub struct Site<'a> {
    pages: &'a [Page<'a>],
    replies: Replies<'a>,
    /// The routable paths by hash.
    routes: Routes<'a>,
    /// Responses kept whole for the second their date names.
    assembled: Assembled<'a>,
    exchanges: &'a mut [Exchange],
    tasks: Tasks<'a>,
    pipeline: Pipeline<'a>,
    limits: Limits,
    /// Unix seconds at `base_ms` of the platform clock.
    base_unix: u64,
    base_ms: u64,
    now_ms: u64,
    /// The date of responses started this second (retransmissions of older ones format
    /// theirs again).
    date: date::Cache,
    /// What the site counted.
    pub counters: SiteCounters,
}

impl<'a> Site<'a> {
    /// A site serving `pages`; `unix_seconds` is the date at `now_ms` of the platform clock.
    /// `None` if the memory does not fit: too small, or more than [`MAX_TASKS`] tasks.
    pub fn new(
        pages: &'a [Page<'a>],
        mem: SiteMemory<'a>,
        unix_seconds: u64,
        now_ms: u64,
    ) -> Option<Site<'a>> {
        let SiteMemory {
            replies,
            arena,
            exchanges,
            tasks,
            pipeline,
        } = mem;
        if tasks.len() > MAX_TASKS {
            return None;
        }
        exchanges.fill(Exchange::default());
        // The arena ends with the route table, then the assembled responses.
        let (arena, kept) =
            arena.split_at_mut_checked(arena.len().checked_sub(assembled::BYTES)?)?;
        let routes_at = arena.len().checked_sub(path::routes_len(pages.len() + 1))?;
        let (arena, routes) = arena.split_at_mut_checked(routes_at)?;
        Some(Site {
            pages,
            replies: Replies::build(pages, replies, arena)?,
            routes: Routes::build(routes, &|i| Site::path(pages, i))?,
            assembled: Assembled::new(kept)?,
            exchanges,
            tasks: Tasks::new(tasks),
            pipeline: Pipeline::new(pipeline),
            limits: Limits::default(),
            base_unix: unix_seconds,
            base_ms: now_ms,
            now_ms,
            date: date::Cache::new(unix_seconds),
            counters: SiteCounters::default(),
        })
    }

    /// Moves the site's clock to `now_ms` of the platform clock.
    pub fn set_now(&mut self, now_ms: u64) {
        self.now_ms = now_ms;
    }

    /// The date now, in Unix seconds.
    pub fn now_unix(&self) -> u64 {
        self.base_unix
            .saturating_add(self.now_ms.saturating_sub(self.base_ms) / 1000)
    }

    /// The routable path `i`: the pages, then the echo task.
    fn path(pages: &'a [Page<'a>], i: usize) -> Option<&'a [u8]> {
        match pages.get(i) {
            Some(p) => Some(p.path.as_bytes()),
            None => (i == pages.len()).then_some(ECHO),
        }
    }

    /// Tasks in use.
    pub fn tasks_busy(&self) -> usize {
        let mut n = 0;
        let mut i = 0;
        while let Some(t) = self.tasks.get(i) {
            n += usize::from(t.phase != Phase::Free);
            i += 1;
        }
        n
    }

    /// Keeps table response `h`, dated `now`, assembled for its segments to copy whole.
    #[inline]
    fn assemble(&mut self, h: Handle, now: u64) {
        // Nearly always kept already: the date and length are needed only to write it.
        if h.is_task() || self.assembled.get(h, now).is_some() {
            return;
        }
        let (replies, date) = (&self.replies, self.date.get(now));
        self.assembled
            .keep(h, now, replies.len(h), |out| replies.fill(h, &date, 0, out));
    }

    fn release_task(&mut self, slot: usize) {
        if let Some(t) = self.exchanges.get_mut(slot).and_then(Exchange::take_task) {
            self.tasks.release(t);
        }
    }
}

/// What a request's conditional fields came to (RFC 9110 section 13).
struct Validators {
    /// An `If-None-Match` matched the page's ETag: 304.
    none_matched: bool,
    /// No `If-Match` came, or it matched: otherwise 412.
    if_match_holds: bool,
}

/// Decides the response to a complete head from its route, method and validators; a
/// POST to the echo task takes a task for its body (and sets `HAS_TASK` in `flags`).
/// A failed `If-Match` gives way to the response the request would have had otherwise
/// when that is a failure (404, 405, 503; RFC 9110 section 13.2.1).
fn decide(
    head: &RequestHead,
    route: Option<usize>,
    pages: usize,
    v: Validators,
    tasks: &mut Tasks<'_>,
    flags: &mut u8,
) -> Handle {
    let conn = Conn::of(head.keep_alive, head.minor_version);
    let head_only = head.method == Method::Head;
    let fixed = |f: Fixed, conn| Handle::reply(f as usize, conn, head_only);
    match (route, head.method) {
        (Some(p), Method::Get | Method::Head) if p < pages => match v.if_match_holds {
            true => Handle::reply(FIXED + 2 * p + usize::from(v.none_matched), conn, head_only),
            false => fixed(Fixed::PreconditionFailed, conn),
        },
        (Some(p), Method::Post) if p < pages => fixed(Fixed::PageMethod, conn),
        (Some(_), Method::Post) => match tasks.take() {
            Some(t) if !v.if_match_holds => {
                tasks.release(t);
                fixed(Fixed::PreconditionFailed, conn)
            }
            Some(t) => {
                *flags |= HAS_TASK;
                Handle::task(t, conn, false)
            }
            None => fixed(Fixed::Unavailable, Conn::Close),
        },
        (Some(_), _) => fixed(Fixed::EchoMethod, conn),
        (None, _) => fixed(Fixed::NotFound, conn),
    }
}

impl Source for Site<'_> {
    fn len(&self, handle: u32) -> u32 {
        let h = Handle(handle);
        if h.is_continue() {
            return response::CONTINUE.len() as u32;
        }
        if h.is_task() {
            return match self.tasks.get(h.index()) {
                Some(t) => replies::task_answer(t, h, &[0; date::LEN], 0, &mut []),
                None => 0,
            };
        }
        self.replies.len(h)
    }

    /// A response kept assembled is one copy, and its sum when the segment carries it
    /// whole; any other is rendered from its pieces.
    #[inline]
    fn fill(&self, handle: u32, off: u32, out: &mut [u8]) -> Option<u16> {
        if out.is_empty() {
            return None;
        }
        let h = Handle(handle);
        if h.is_continue() {
            if let Some(bytes) = response::CONTINUE.get(off as usize..) {
                super::bytes::copy(out, bytes);
            }
            return None;
        }
        let dated = h.date(self.now_unix());
        if let Some((whole, sum)) = self.assembled.get(h, dated) {
            if let Some(bytes) = whole.get(off as usize..).and_then(|b| b.get(..out.len())) {
                super::bytes::copy(out, bytes);
                return (bytes.len() == whole.len()).then_some(sum);
            }
        }
        let date = self.date.get(dated);
        if h.is_task() {
            if let Some(t) = self.tasks.get(h.index()) {
                replies::task_answer(t, h, &date, off, out);
            }
            return None;
        }
        self.replies.fill(h, &date, off, out);
        None
    }
}

/// A connection's queue of responses: `reply` first, the rest in the pipeline pool.
struct Queue<'q, 'p> {
    reply: &'q mut u32,
    more: &'q mut u16,
    flags: &'q mut u8,
    pipeline: &'q mut Pipeline<'p>,
}

impl Queue<'_, '_> {
    /// Appends a response whose request is still being parsed; false when the pool is empty.
    fn push(&mut self, h: Handle) -> bool {
        if *self.flags & HAS_REPLY == 0 {
            *self.reply = h.0;
            *self.flags = (*self.flags & !(READY | SENT)) | HAS_REPLY | PARSING;
            return true;
        }
        let pushed = self.pipeline.push(self.more, h.0);
        if pushed {
            *self.flags |= PARSING;
        }
        pushed
    }

    /// The last response, to change.
    fn last(&mut self) -> Option<&mut u32> {
        if *self.more == 0 {
            return (*self.flags & HAS_REPLY != 0).then_some(&mut *self.reply);
        }
        self.pipeline.last_mut(*self.more).map(|(h, _)| h)
    }

    /// Sets `f` (`READY`, `CONTINUE_DUE`) for the last response.
    fn mark_last(&mut self, f: u8) {
        if *self.more == 0 {
            *self.flags |= f;
        } else if let Some((_, flags)) = self.pipeline.last_mut(*self.more) {
            *flags |= f;
        }
    }

    /// The request of the last response is complete.
    fn complete(&mut self) {
        *self.flags &= !PARSING;
        self.mark_last(READY);
    }
}

impl App for Site<'_> {
    fn on_data(&mut self, slot: usize, data: &[u8]) -> usize {
        let (pages, replies, routes, limits) = (self.pages, self.replies, self.routes, self.limits);
        let Some(x) = self.exchanges.get_mut(slot) else {
            return 0;
        };
        if x.has(CLOSING) {
            return data.len();
        }
        let before = *x;
        let paths = |i: usize| Site::path(pages, i);
        let tasks = &mut self.tasks;
        let Exchange {
            parser,
            path,
            etag,
            if_match,
            reply,
            more,
            flags,
        } = x;
        let mut q = Queue {
            reply,
            more,
            flags,
            pipeline: &mut self.pipeline,
        };
        // Set when this request cannot be taken now: it is left unacknowledged, and the
        // peer sends it again.
        let mut refuse = false;
        // Set when the request's answer closes the connection and needs no body: it goes
        // at once, and the body is not read.
        let mut early = false;
        let result = parser.feed_routing(data, &limits, &mut |e| match e {
            Event::Target(piece) => path.feed(piece, &paths, &routes),
            Event::Header(Header::IfNoneMatch, piece) => {
                if let Some(p) = path.finish(&paths, &routes).filter(|&p| p < pages.len()) {
                    etag.feed(piece, replies.etag(p));
                }
            }
            Event::Header(Header::IfMatch, piece) => {
                if let Some(p) = path.finish(&paths, &routes).filter(|&p| p < pages.len()) {
                    if_match.feed_strong(piece, replies.etag(p));
                }
            }
            Event::Head(head) => {
                let route = path.finish(&paths, &routes);
                let page = route.filter(|&p| p < pages.len());
                let matched = page.is_some_and(|p| etag.finish(replies.etag(p)));
                // RFC 9110 section 13.1.1: only a page has a current representation,
                // so only its own strong ETag, or `*`, lets the request through.
                let holds =
                    !head.if_match || page.is_some_and(|p| if_match.finish_strong(replies.etag(p)));
                let wants_task = head.method == Method::Post && route == Some(pages.len());
                // A task's answer goes first in its queue (so it is found and freed there):
                // a pipelined POST waits for the responses ahead of it.
                if wants_task && *q.flags & HAS_REPLY != 0 {
                    refuse = true;
                    return;
                }
                let validators = Validators {
                    none_matched: matched,
                    if_match_holds: holds,
                };
                let h = decide(&head, route, pages.len(), validators, tasks, q.flags);
                refuse = !q.push(h);
                let has_body = head.content_length > 0 || head.chunked;
                if refuse || !has_body {
                    return;
                }
                if !h.is_task() && h.conn() == Conn::Close {
                    // A final answer may come before the body (RFC 9110 section 10.1.1):
                    // one that closes the connection does not make the client send the
                    // body first (a refused upload of a megabyte), nor invite it with a
                    // 100 (Continue). What of the body comes is read and dropped.
                    early = true;
                } else if head.expect_continue {
                    // A client that waits for a 100 (Continue) gets it at once, or, with
                    // responses ahead of its request's, as soon as they have gone.
                    q.mark_last(CONTINUE_DUE);
                }
            }
            Event::Body(piece) => {
                // Only the body of the request that took the task feeds it: not one being
                // refused, nor one parsed while the task's answer is in flight.
                let owns = !refuse
                    && *q.more == 0
                    && *q.flags & (HAS_TASK | PARSING) == HAS_TASK | PARSING;
                let task = owns.then(|| Handle(*q.reply).index());
                if let Some(t) = task.and_then(|t| tasks.get_mut(t)) {
                    t.feed(piece);
                }
            }
            Event::Method(_) | Event::Header(..) => {}
        });
        let c = &mut self.counters;
        let (consumed, h) = match result {
            _ if refuse => {
                *x = before;
                c.deferred += 1;
                return 0;
            }
            // Whatever became of the body: the answer was decided without it.
            _ if early => {
                q.complete();
                *parser = Parser::new();
                (data.len(), q.last().map(|h| Handle(*h)))
            }
            Ok(p) if !p.complete => return p.consumed,
            Ok(p) => {
                q.complete();
                (p.consumed, q.last().map(|h| Handle(*h)))
            }
            Err(status) => {
                // A 405's `Allow` names the methods its target takes (RFC 9110 section
                // 15.5.6): a path that is no resource takes none, and is 404; `*` and an
                // authority name the server, which takes all it serves. An error answer to
                // HEAD has no body either (RFC 9110 section 9.3.2).
                let fixed = match (status, path.finish(&paths, &routes)) {
                    (Status::METHOD_NOT_ALLOWED, Some(p)) if p < pages.len() => Fixed::PageMethod,
                    (Status::METHOD_NOT_ALLOWED, Some(_)) => Fixed::EchoMethod,
                    (Status::METHOD_NOT_ALLOWED, None) if parser.target_is_path() => {
                        Fixed::NotFound
                    }
                    _ => Fixed::for_error(status),
                };
                let head_only = parser.is_head();
                let e = Handle::reply(fixed as usize, Conn::Close, head_only);
                if *q.flags & PARSING != 0 {
                    // The request's own response becomes the error (a chunked body's
                    // framing fails after its head): its task, if any, goes back first,
                    // while `reply` still names it.
                    if *q.more == 0 && *q.flags & HAS_TASK != 0 {
                        *q.flags &= !HAS_TASK;
                        tasks.release(Handle(*q.reply).index());
                    }
                    if let Some(last) = q.last() {
                        *last = e.0;
                    }
                } else if !q.push(e) {
                    // Refused for now, counted as a request when taken.
                    *x = before;
                    c.deferred += 1;
                    return 0;
                }
                c.rejected += 1;
                q.complete();
                *parser = Parser::new();
                (data.len(), Some(e))
            }
        };
        c.requests += 1;
        if let Some(h) = h.filter(|h| !h.is_task()) {
            match h.index() {
                i if i == Fixed::NotFound as usize => c.not_found += 1,
                i if i == Fixed::Unavailable as usize => c.refused_503 += 1,
                i if i >= FIXED && (i - FIXED) % 2 == 1 => c.not_modified += 1,
                _ => {}
            }
        }
        if h.is_some_and(|h| h.conn() == Conn::Close) {
            *q.flags |= CLOSING;
        }
        *path = PathMatch::default();
        *etag = EtagMatcher::default();
        *if_match = EtagMatcher::default();
        consumed
    }

    #[inline(always)]
    fn on_ready(&mut self, slot: usize, tcb: &mut Tcb) {
        let acked = tcb.response_acked();
        let Some(x) = self.exchanges.get_mut(slot) else {
            return;
        };
        // Nothing to retire, send or close: most calls (before data, after ACKs).
        if x.flags & (SENT | READY | CONTINUE_DUE) == 0 && tcb.state() != State::CloseWait {
            return;
        }
        if x.has(PARSING) && tcb.state() == State::CloseWait {
            // The peer finished sending inside a request's body: that request can never
            // be complete (RFC 9112 section 8). Its response goes, and its task with it,
            // and the connection closes after the answers ahead of it.
            if x.more != 0 {
                self.pipeline.drop_last(&mut x.more);
            } else if !x.has(SENT) {
                if let Some(t) = x.take_task() {
                    self.tasks.release(t);
                }
                x.flags &= !(HAS_REPLY | READY);
            }
            // No 100 (Continue) is owed for it any more either.
            x.flags &= !(PARSING | CONTINUE_DUE);
        }
        if x.has(SENT) && acked {
            // The response being sent is acknowledged in full: it leaves the queue, and
            // its task, if any, goes back to the pool (also after a closing response,
            // while our FIN waits for its ACK or the connection for TIME-WAIT's end).
            if let Some(t) = x.take_task() {
                self.tasks.release(t);
            }
            x.flags &= !(SENT | READY | HAS_REPLY);
            if let Some((h, flags)) = self.pipeline.pop(&mut x.more) {
                x.reply = h;
                x.flags |= HAS_REPLY | (flags & (READY | CONTINUE_DUE));
            } else {
                // What was parsing (if anything) was the last entry, now gone: nothing is.
                x.flags &= !PARSING;
            }
        }
        let x = *x;
        if x.has(CONTINUE_DUE) {
            // Not once the body is in: RFC 9110 section 10.1.1 lets it be left out then.
            let sent = !x.has(READY) && tcb.send(Handle::CONTINUE.0, &*self);
            if let Some(x) = self.exchanges.get_mut(slot) {
                x.flags &= !CONTINUE_DUE;
            }
            if sent {
                return;
            }
        }
        if x.has(READY) && !x.has(SENT) {
            let now = self.now_unix();
            self.date.set(now);
            let h = Handle(x.reply).dated(now);
            self.assemble(h, now);
            if tcb.send(h.0, &*self) {
                if h.is_task() {
                    if let Some(t) = self.tasks.get_mut(h.index()) {
                        t.phase = Phase::Replying;
                    }
                }
                if let Some(x) = self.exchanges.get_mut(slot) {
                    x.flags |= SENT;
                }
                if h.conn() == Conn::Close {
                    tcb.close();
                }
                return;
            }
        }
        // The peer has finished sending and every request it sent is answered: so are we.
        if !x.has(HAS_REPLY) && tcb.state() == State::CloseWait {
            if let Some(x) = self.exchanges.get_mut(slot) {
                x.flags |= CLOSING;
            }
            tcb.close();
        }
    }

    fn on_closed(&mut self, slot: usize) {
        self.release_task(slot);
        if let Some(x) = self.exchanges.get_mut(slot) {
            self.pipeline.release(&mut x.more);
            *x = Exchange::default();
        }
    }

    /// No response is queued but the one being sent or the one of the request being
    /// parsed (whose answer is still to be decided or sent).
    #[inline]
    fn settled(&self, slot: usize) -> bool {
        self.exchanges
            .get(slot)
            .is_some_and(|x| x.more == 0 && (!x.has(HAS_REPLY) || x.has(SENT) || x.has(PARSING)))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    extern crate std;
    use super::*;

    #[test]
    fn per_connection_state_is_small() {
        let (tcb, x) = (
            core::mem::size_of::<Tcb>(),
            core::mem::size_of::<Exchange>(),
        );
        std::println!("established connection: Tcb {tcb} B + Exchange {x} B");
        assert!(x <= 40, "Exchange is {x} bytes");
    }

    /// Runs `f` on a site serving `pages` from `unix_seconds`, with four connection slots
    /// and two echo tasks.
    fn with_site(pages: &'static [Page<'static>], unix_seconds: u64, f: impl FnOnce(&mut Site)) {
        use std::vec;
        let mut table = vec![Reply::default(); replies::table_len(pages.len())];
        let mut arena = vec![0u8; replies::arena_len(pages)];
        let (mut exchanges, mut tasks) = (vec![Exchange::default(); 4], [Task::FREE; 2]);
        let mut pipeline = vec![Queued::default(); 4];
        let mem = SiteMemory {
            replies: &mut table,
            arena: &mut arena,
            exchanges: &mut exchanges,
            tasks: &mut tasks,
            pipeline: &mut pipeline,
        };
        f(&mut Site::new(pages, mem, unix_seconds, 0).unwrap());
    }

    #[test]
    fn the_date_saturates_at_the_end_of_time() {
        static PAGES: [Page<'static>; 1] = [Page {
            path: "/",
            content_type: "text/html",
            body: b"x",
        }];
        with_site(&PAGES, u64::MAX - 1, |site| {
            site.set_now(5_000);
            assert_eq!(site.now_unix(), u64::MAX);
        });
    }

    #[test]
    fn an_assembled_response_fills_the_bytes_of_its_pieces() {
        use super::super::checksum;
        use std::vec;
        static PAGES: [Page<'static>; 2] = [
            Page {
                path: "/",
                content_type: "text/html",
                body: b"<p>one segment</p>",
            },
            Page {
                path: "/big",
                content_type: "application/octet-stream",
                body: &[0x5a; 2000],
            },
        ];
        with_site(&PAGES, 1_700_000_000, |site| {
            let mut kept = 0;
            for second in [0u64, 1] {
                site.set_now(second * 1000);
                let now = site.now_unix();
                site.date.set(now);
                for index in 0..replies::table_len(PAGES.len()) {
                    for conn in [Conn::Keep, Conn::KeepAnnounced, Conn::Close] {
                        for head_only in [false, true] {
                            let h = Handle::reply(index, conn, head_only).dated(now);
                            site.assemble(h, now);
                            let len = site.len(h.0);
                            let cuts = [
                                (0, len),
                                (0, len / 2),
                                (1, len - 1),
                                (len / 3, len - len / 3),
                            ];
                            for (off, n) in cuts {
                                let (mut a, mut b) = (vec![0u8; n as usize], vec![1u8; n as usize]);
                                // The pieces, as a response not kept is rendered.
                                let date = date::format(now);
                                site.replies.fill(h, &date, off, &mut a);
                                let sum = site.fill(h.0, off, &mut b);
                                assert_eq!(a, b, "{h:?} {off}+{n}");
                                if let Some(sum) = sum {
                                    assert_eq!((off, n), (0, len));
                                    assert_eq!(sum, checksum::partial(&b));
                                    kept += 1;
                                } else if (off, n) == (0, len) {
                                    // Only a response longer than an entry is left out.
                                    assert!(len as usize > assembled::ENTRY_LEN, "{h:?}");
                                }
                            }
                        }
                    }
                }
            }
            assert!(kept > 0);
        });
    }
}
