// SPDX-License-Identifier: GPL-2.0

//! The memory a core's HTTP server runs in, allocated by Linux before the core starts.

use kernel::prelude::*;

use crate::gh_net::http::request::Parser;
use crate::gh_net::server::ServerMemory;
use crate::gh_net::tcp::Tcb;

/// Connections one core serves at once.
const CONNECTIONS: usize = 1024;

/// The arrays of one core's server; the core borrows them while it runs.
pub(crate) struct ServerArrays {
    slots: KVec<Tcb>,
    table: KVec<u32>,
    heads: KVec<u32>,
    waits: KVec<u32>,
    parsers: KVec<Parser>,
    ready: KVec<Option<bool>>,
}

fn filled<T: Copy>(len: usize, value: T) -> Result<KVec<T>> {
    let mut v = KVec::with_capacity(len, GFP_KERNEL)?;
    for _ in 0..len {
        v.push(value, GFP_KERNEL)?;
    }
    Ok(v)
}

impl ServerArrays {
    pub(crate) fn new() -> Result<Self> {
        Ok(Self {
            slots: filled(CONNECTIONS, Tcb::EMPTY)?,
            table: filled(CONNECTIONS * 2, 0)?,
            heads: filled(256, 0)?,
            waits: filled(256, 0)?,
            parsers: filled(CONNECTIONS, Parser::new())?,
            ready: filled(CONNECTIONS, None)?,
        })
    }

    /// The arrays as the engine takes them.
    pub(crate) fn memory(&mut self) -> ServerMemory<'_> {
        ServerMemory {
            slots: &mut self.slots,
            table: &mut self.table,
            heads: &mut self.heads,
            waits: &mut self.waits,
            parsers: &mut self.parsers,
            ready: &mut self.ready,
        }
    }
}
