//! Server memory owned in one place, for hosts with an allocator (tests, the wire
//! harness, the benchmark, the fuzzers). The engine itself never allocates: a core gets
//! the same arrays carved from its reserved memory.

extern crate alloc;

use alloc::vec;
use alloc::vec::Vec;

use super::server::ServerMemory;
use super::site::echo::Task;
use super::site::pipeline::Queued;
use super::site::replies::{self, Reply};
use super::site::{Exchange, Page};
use super::tcp::wheel::Link;
use super::tcp::Tcb;

/// How many of each thing a server gets.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Sizes {
    /// Connection slots (the lookup table gets twice as many, rounded up to a power of two).
    pub slots: usize,
    /// Timer wheel buckets.
    pub timers: usize,
    /// TX wait list bound.
    pub waits: usize,
    /// `POST /echo` tasks.
    pub tasks: usize,
    /// Pipelined responses waiting, shared by all connections.
    pub pipeline: usize,
}

/// Every array a [`super::server::Server`] borrows.
#[derive(Debug)]
pub struct OwnedMemory {
    slots: Vec<Tcb>,
    table: Vec<u32>,
    timers: Vec<Link>,
    waits: Vec<u32>,
    exchanges: Vec<Exchange>,
    replies: Vec<Reply>,
    arena: Vec<u8>,
    tasks: Vec<Task>,
    pipeline: Vec<Queued>,
}

impl OwnedMemory {
    /// Arrays of `sizes` for a site of `pages`.
    pub fn new(sizes: &Sizes, pages: &[Page<'_>]) -> Self {
        OwnedMemory {
            slots: vec![Tcb::EMPTY; sizes.slots],
            table: vec![0; (2 * sizes.slots).next_power_of_two()],
            timers: vec![0; sizes.timers],
            waits: vec![0; sizes.waits],
            exchanges: vec![Exchange::default(); sizes.slots],
            replies: vec![Reply::default(); replies::table_len(pages.len())],
            arena: vec![0; replies::arena_len(pages)],
            tasks: vec![Task::FREE; sizes.tasks],
            pipeline: vec![Queued::default(); sizes.pipeline],
        }
    }

    /// The arrays as the server takes them.
    pub fn memory(&mut self) -> ServerMemory<'_> {
        ServerMemory {
            slots: &mut self.slots,
            table: &mut self.table,
            timers: &mut self.timers,
            waits: &mut self.waits,
            exchanges: &mut self.exchanges,
            replies: &mut self.replies,
            arena: &mut self.arena,
            tasks: &mut self.tasks,
            pipeline: &mut self.pipeline,
        }
    }

    /// Bytes per connection slot: its slot, its exchange and its share of the table.
    pub fn bytes_per_connection(&self) -> usize {
        let n = self.slots.len().max(1);
        core::mem::size_of::<Tcb>()
            + core::mem::size_of::<Exchange>()
            + core::mem::size_of_val(self.table.as_slice()) / n
    }

    /// Bytes that do not grow with connections.
    pub fn bytes_per_server(&self) -> usize {
        core::mem::size_of_val(self.timers.as_slice())
            + core::mem::size_of_val(self.waits.as_slice())
            + core::mem::size_of_val(self.replies.as_slice())
            + core::mem::size_of_val(self.arena.as_slice())
            + core::mem::size_of_val(self.tasks.as_slice())
            + core::mem::size_of_val(self.pipeline.as_slice())
    }

    /// Every byte handed to the server.
    pub fn bytes(&self) -> usize {
        self.bytes_per_connection() * self.slots.len() + self.bytes_per_server()
    }
}
