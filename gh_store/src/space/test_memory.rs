//! Memory for the address-space tests: pages, the page pool's bookkeeping and the
//! window's slots, owned by the test.

extern crate std;

use super::super::page_pool::{Page, PAGE_SIZE};
use super::Slot;
use std::vec;
use std::vec::Vec;

pub(crate) struct Memory {
    pub(crate) pages: Vec<Page>,
    pub(crate) free: Vec<u32>,
    pub(crate) bits: Vec<u8>,
    pub(crate) slots: Vec<Option<Slot>>,
}

/// `pages` pages and `slots` block slots, all free.
pub(crate) fn memory(pages: usize, slots: usize) -> Memory {
    Memory {
        pages: vec![[0u8; PAGE_SIZE]; pages],
        free: vec![0; pages],
        bits: vec![0; pages.div_ceil(8)],
        slots: vec![None; slots],
    }
}
