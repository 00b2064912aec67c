//! A pool of 4 KiB pages over memory the caller hands in.
//!
//! Blocks take pages only as far as their data goes; free pages sit on a
//! stack of page numbers, also in caller memory.

/// Size of one page.
pub const PAGE_SIZE: usize = 4096;

/// One page of block memory.
pub type Page = [u8; PAGE_SIZE];

/// Number of a page inside its pool.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct PageId(u32);

impl PageId {
    /// The raw page number.
    pub fn get(self) -> u32 {
        self.0
    }
}

/// Why the pool refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PoolError {
    /// The free-stack memory is smaller than the page count.
    StackTooSmall,
    /// More pages than page numbers can name.
    TooManyPages,
}

/// Pages and their free stack.
pub struct PagePool<'a> {
    pages: &'a mut [Page],
    free: &'a mut [u32],
    free_len: usize,
    /// One bit per page, set while handed out: makes double frees visible.
    in_use: &'a mut [u8],
}

impl<'a> PagePool<'a> {
    /// A pool with every page of `pages` free; `free` must hold one entry
    /// per page and `in_use` one bit per page.
    pub fn new(
        pages: &'a mut [Page],
        free: &'a mut [u32],
        in_use: &'a mut [u8],
    ) -> Result<Self, PoolError> {
        let count = u32::try_from(pages.len()).map_err(|_| PoolError::TooManyPages)?;
        let stack = free
            .get_mut(..pages.len())
            .ok_or(PoolError::StackTooSmall)?;
        // Highest number at the bottom so page 0 goes out first.
        for (slot, number) in stack.iter_mut().zip((0..count).rev()) {
            *slot = number;
        }
        let in_use = in_use
            .get_mut(..pages.len().div_ceil(8))
            .ok_or(PoolError::StackTooSmall)?;
        in_use.fill(0);
        Ok(Self {
            free_len: pages.len(),
            pages,
            free,
            in_use,
        })
    }

    fn mark(&mut self, id: PageId, used: bool) {
        if let Some(byte) = self.in_use.get_mut((id.0 / 8) as usize) {
            if used {
                *byte |= 1 << (id.0 % 8);
            } else {
                *byte &= !(1 << (id.0 % 8));
            }
        }
    }

    fn is_used(&self, id: PageId) -> bool {
        self.in_use
            .get((id.0 / 8) as usize)
            .is_some_and(|b| b & (1 << (id.0 % 8)) != 0)
    }

    /// Pages in the pool.
    pub fn capacity(&self) -> usize {
        self.pages.len()
    }

    /// Pages not handed out.
    pub fn free_pages(&self) -> usize {
        self.free_len
    }

    /// Takes a zeroed page, or `None` when the pool is empty.
    pub fn alloc(&mut self) -> Option<PageId> {
        let top = self.free_len.checked_sub(1)?;
        let number = *self.free.get(top)?;
        self.free_len = top;
        let id = PageId(number);
        self.mark(id, true);
        if let Some(page) = self.page_mut(id) {
            page.fill(0);
        }
        Some(id)
    }

    /// Returns a page. A double free or a foreign number is ignored
    /// (returns `false`) rather than corrupting the stack.
    pub fn release(&mut self, id: PageId) -> bool {
        if !self.is_used(id) {
            return false;
        }
        match self.free.get_mut(self.free_len) {
            Some(slot) => {
                *slot = id.0;
                self.free_len += 1;
                self.mark(id, false);
                true
            }
            None => false,
        }
    }

    /// The page numbered `number`, if the pool has it.
    pub fn id(&self, number: u32) -> Option<PageId> {
        ((number as usize) < self.pages.len()).then_some(PageId(number))
    }

    /// A page's bytes.
    pub fn page(&self, id: PageId) -> Option<&Page> {
        self.pages.get(id.0 as usize)
    }

    /// A page's bytes, writable.
    pub fn page_mut(&mut self, id: PageId) -> Option<&mut Page> {
        self.pages.get_mut(id.0 as usize)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    extern crate std;
    use super::*;
    use std::vec;

    #[test]
    fn alloc_until_empty_then_reuse() {
        let mut pages = vec![[0xaau8; PAGE_SIZE]; 3];
        let mut free = [0u32; 3];
        let mut bits = [0u8; 1];
        let mut pool = PagePool::new(&mut pages, &mut free, &mut bits).unwrap();
        let a = pool.alloc().unwrap();
        let b = pool.alloc().unwrap();
        let c = pool.alloc().unwrap();
        assert_eq!((a.get(), b.get(), c.get()), (0, 1, 2));
        assert_eq!(pool.alloc(), None);
        assert!(pool.page(a).unwrap().iter().all(|&x| x == 0));
        pool.page_mut(b).unwrap()[0] = 9;
        assert!(pool.release(b));
        assert!(!pool.release(b), "double free refused");
        assert!(!pool.release(PageId(7)), "foreign page refused");
        assert_eq!(pool.free_pages(), 1);
        let again = pool.alloc().unwrap();
        assert_eq!(again, b);
        assert_eq!(pool.page(again).unwrap()[0], 0, "handed out zeroed");
    }

    #[test]
    fn stack_must_cover_pages() {
        let mut pages = vec![[0u8; PAGE_SIZE]; 4];
        let mut free = [0u32; 3];
        let mut bits = [0u8; 1];
        assert!(matches!(
            PagePool::new(&mut pages, &mut free, &mut bits),
            Err(PoolError::StackTooSmall)
        ));
    }
}
