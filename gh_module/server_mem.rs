// SPDX-License-Identifier: GPL-2.0

//! The arrays a core's HTTP server runs in, carved from the core's reserved memory by
//! Linux before the core starts.

use core::ptr::NonNull;

use kernel::prelude::*;

use crate::gh_net::server::ServerMemory;
use crate::gh_net::site::echo::Task;
use crate::gh_net::site::pipeline::Queued;
use crate::gh_net::site::replies::{self, Reply};
use crate::gh_net::site::{Exchange, Page};
use crate::gh_net::tcp::wheel::{Link, MAX_SLOTS};
use crate::gh_net::tcp::Tcb;
use crate::memory::CoreMemory;

/// Most connections one core serves at once: the slot array, at 64 bytes a slot, then
/// fills one 2 MiB block. The timer wheel links that many.
const MAX_CONNECTIONS: usize = 32 * 1024;
const _: () = assert!(MAX_CONNECTIONS <= MAX_SLOTS);

/// Fewest connections a core is started with.
const MIN_CONNECTIONS: usize = 1024;

/// `POST /echo` bodies one core takes at once.
const TASKS: usize = 64;

/// The arrays of one core's server, in its [`CoreMemory`]; the core borrows them while it
/// runs. They must not outlive that memory.
pub(crate) struct ServerArrays {
    slots: NonNull<[Tcb]>,
    table: NonNull<[u32]>,
    timers: NonNull<[Link]>,
    waits: NonNull<[u32]>,
    exchanges: NonNull<[Exchange]>,
    replies: NonNull<[Reply]>,
    arena: NonNull<[u8]>,
    tasks: NonNull<[Task]>,
    pipeline: NonNull<[Queued]>,
}

impl ServerArrays {
    /// What one connection costs: its slot, its HTTP state and its two lookup entries.
    pub(crate) const BYTES_PER_CONNECTION: usize =
        core::mem::size_of::<Tcb>() + core::mem::size_of::<Exchange>() + 2 * 4;

    /// Carves the arrays for a site of `pages` from `memory`: as many connections as fit
    /// (a power of two between [`MIN_CONNECTIONS`] and [`MAX_CONNECTIONS`]).
    pub(crate) fn carve(memory: &mut CoreMemory, pages: &[Page<'_>]) -> Result<Self> {
        let mut connections = MAX_CONNECTIONS;
        loop {
            memory.reset();
            match Self::carve_for(memory, pages, connections) {
                Ok(arrays) => return Ok(arrays),
                Err(e) if connections <= MIN_CONNECTIONS => return Err(e),
                Err(_) => connections /= 2,
            }
        }
    }

    fn carve_for(memory: &mut CoreMemory, pages: &[Page<'_>], n: usize) -> Result<Self> {
        Ok(Self {
            slots: memory.carve(n, Tcb::EMPTY)?,
            table: memory.carve(2 * n, 0)?,
            timers: memory.carve(256, 0)?,
            waits: memory.carve(256, 0)?,
            exchanges: memory.carve(n, Exchange::default())?,
            replies: memory.carve(replies::table_len(pages.len()), Reply::default())?,
            arena: memory.carve(replies::arena_len(pages), 0)?,
            tasks: memory.carve(TASKS, Task::FREE)?,
            // A few pipelined requests per connection, within one block.
            pipeline: memory.carve(4 * n.min(u16::MAX as usize / 4), Queued::default())?,
        })
    }

    /// Connection slots.
    pub(crate) fn connections(&self) -> usize {
        self.slots.len()
    }

    /// The arrays as the engine takes them.
    pub(crate) fn memory(&mut self) -> ServerMemory<'_> {
        // SAFETY: each array was carved from a distinct range of the core's reserved
        // memory, which outlives `self` (the core's `Drop` frees `self` before its memory),
        // and `&mut self` makes the borrows unique for their lifetime.
        unsafe {
            ServerMemory {
                slots: self.slots.as_mut(),
                table: self.table.as_mut(),
                timers: self.timers.as_mut(),
                waits: self.waits.as_mut(),
                exchanges: self.exchanges.as_mut(),
                replies: self.replies.as_mut(),
                arena: self.arena.as_mut(),
                tasks: self.tasks.as_mut(),
                pipeline: self.pipeline.as_mut(),
            }
        }
    }
}
