//! The address space's rules beyond storage: every read, write and delete
//! is checked against the block's permissions; listings show each block's
//! kind; CPU number 0's window is the system's; the budget is configurable.
#![allow(clippy::unwrap_used, clippy::indexing_slicing)]

extern crate std;

use super::super::authorize::{Authorize, Caller, NoAuthorizers};
use super::super::block_kind::BlockKind;
use super::super::page_pool::{PagePool, PAGE_SIZE};
use super::super::permissions::{Authorizer, Flag, Permissions};
use super::test_memory::memory;
use super::*;
use core::cell::Cell;
use std::vec::Vec;

const MIB: u64 = 1 << 20;
const OWNER: u64 = 0x40_0000;
const FRIEND: u64 = 0x80_0000;
const STRANGER: u64 = 0xc0_0000;
/// Address of the application's "friends may read" function.
const FRIENDS_ONLY: u64 = 0x1234;

/// The application's read function: the owner's friend may read.
struct Friends {
    calls: Cell<u32>,
}

impl Authorize for Friends {
    fn authorize(
        &self,
        function: u64,
        which: Authorizer,
        owner: u64,
        requester: u64,
        _: BlockAddr,
    ) -> bool {
        self.calls.set(self.calls.get() + 1);
        function == FRIENDS_ONLY
            && which == Authorizer::Read
            && owner == OWNER
            && requester == FRIEND
    }
}

fn private_post() -> NewBlock {
    NewBlock {
        kind: BlockKind::app(7).unwrap(),
        owner: OWNER,
        permissions: Permissions(0).enforce(Flag::OwnerReadWrite, true).0,
        ..NewBlock::default()
    }
}

#[test]
fn every_read_write_and_delete_is_checked() {
    let mut m = memory(16, 8);
    let mut pool = PagePool::new(&mut m.pages, &mut m.free, &mut m.bits).unwrap();
    let mut space = AddressSpace::new(1, &mut m.slots, 16).unwrap();
    let none = NoAuthorizers;
    let (owner, stranger) = (Caller::user(OWNER, &none), Caller::user(STRANGER, &none));
    let post = space.create_with(1, private_post()).unwrap();
    assert_eq!(
        space.write(&mut pool, post, 0, b"secret", stranger),
        Err(SpaceError::Denied)
    );
    assert_eq!(space.used_pages(), 0, "a refused write maps nothing");
    space.write(&mut pool, post, 0, b"secret", owner).unwrap();
    assert_eq!(space.access(post, 2, stranger), Lookup::Denied);
    assert_eq!(space.slot(post).unwrap().block.header.access_count, 0);
    assert!(matches!(space.access(post, 2, owner), Lookup::Resident(_)));
    let mut out = [0u8; 6];
    assert_eq!(
        space.read(&pool, post, 0, &mut out, stranger),
        Err(SpaceError::Denied)
    );
    assert_eq!(space.read(&pool, post, 0, &mut out, owner), Ok(6));
    assert_eq!(
        space.append(&mut pool, post, b"!", 3, stranger),
        Err(SpaceError::Denied)
    );
    assert_eq!(
        space.set_permissions(post, 0, [0; 3], stranger),
        Err(SpaceError::Denied)
    );
    assert_eq!(
        space.delete(&mut pool, post, stranger),
        Err(SpaceError::Denied)
    );
    assert!(space.slot(post).is_ok());
    space.delete(&mut pool, post, owner).unwrap();
    assert_eq!(space.access(post, 4, owner), Lookup::NotFound);
    // GH itself (and system users through it) may do anything.
    let news = space.create_with(5, private_post()).unwrap();
    space
        .write(&mut pool, news, 0, b"x", Caller::SYSTEM)
        .unwrap();
    space.delete(&mut pool, news, Caller::SYSTEM).unwrap();
}

#[test]
fn authorization_function_decides_for_non_owners_and_evicted_blocks() {
    let mut m = memory(16, 8);
    let mut pool = PagePool::new(&mut m.pages, &mut m.free, &mut m.bits).unwrap();
    let mut space = AddressSpace::new(1, &mut m.slots, 2).unwrap();
    let friends = Friends {
        calls: Cell::new(0),
    };
    let shared = NewBlock {
        owner: OWNER,
        permissions: Permissions(0).enforce(Flag::ReadAuthorizer, true).0,
        authorizers: [FRIENDS_ONLY, 0, 0],
        ..NewBlock::default()
    };
    let photo = space.create_with(1, shared).unwrap();
    space
        .write(&mut pool, photo, 0, b"jpg", Caller::user(OWNER, &friends))
        .unwrap();
    space.seal(&pool, photo).unwrap();
    space.mark_saved(photo, 0).unwrap();
    let friend = Caller::user(FRIEND, &friends);
    let stranger = Caller::user(STRANGER, &friends);
    assert!(matches!(
        space.access(photo, 2, friend),
        Lookup::Resident(_)
    ));
    assert_eq!(space.access(photo, 2, stranger), Lookup::Denied);
    assert_eq!(friends.calls.get(), 2);
    // Evicted: the check still comes first, and only the friend parks.
    let other = space.create(3).unwrap();
    space
        .write(&mut pool, other, 0, b"y", Caller::SYSTEM)
        .unwrap();
    assert_eq!(space.evictions(), 1);
    assert_eq!(space.access(photo, 4, stranger), Lookup::Denied);
    assert_eq!(space.access(photo, 4, friend), Lookup::Parked);
}

#[test]
fn chain_continuations_inherit_the_heads_protection() {
    let mut m = memory(16, 8);
    let mut pool = PagePool::new(&mut m.pages, &mut m.free, &mut m.bits).unwrap();
    let mut space = AddressSpace::new(1, &mut m.slots, 16).unwrap();
    let none = NoAuthorizers;
    let owner = Caller::user(OWNER, &none);
    let head = space.create_with(1, private_post()).unwrap();
    space
        .write_chained(&mut pool, head, 4 * MIB + 1, b"tail", 2, owner)
        .unwrap();
    let (second, _) = space.locate(head, 4 * MIB).unwrap();
    let header = space.slot(second).unwrap().block.header;
    assert_eq!(header.owner, OWNER);
    assert_eq!(header.kind, BlockKind::app(7).unwrap());
    assert_eq!(
        space.access(second, 3, Caller::user(STRANGER, &none)),
        Lookup::Denied
    );
    assert_eq!(
        space.write_chained(&mut pool, head, 0, b"x", 3, Caller::user(STRANGER, &none)),
        Err(SpaceError::Denied)
    );
}

#[test]
fn listing_shows_each_blocks_kind() {
    let mut m = memory(16, 8);
    let mut space = AddressSpace::new(3, &mut m.slots, 16).unwrap();
    let kinds = [
        BlockKind::DATA,
        BlockKind::PACKAGE,
        BlockKind::USER,
        BlockKind::TASK,
        BlockKind::app(1).unwrap(),
    ];
    for kind in kinds {
        space
            .create_with(
                0,
                NewBlock {
                    kind,
                    ..NewBlock::default()
                },
            )
            .unwrap();
    }
    let blank = BlockSummary {
        addr: BlockAddr::new(3, 0).unwrap(),
        kind: BlockKind::DATA,
        length: 0,
        resident: false,
        created: 0,
        access_count: 0,
    };
    let mut page = [blank; 8];
    let (n, next) = space.list_page(0, &mut page);
    assert_eq!((n, next), (5, None));
    let listed: Vec<BlockKind> = page[..n].iter().map(|s| s.kind).collect();
    assert_eq!(listed, kinds);
}

#[test]
fn cpu_zero_is_the_systems_window() {
    let mut m = memory(4, 4);
    assert!(matches!(
        AddressSpace::new(0, &mut m.slots, 4),
        Err(SpaceError::SystemWindow)
    ));
    let mut system = AddressSpace::system(&mut m.slots, 4).unwrap();
    let addr = system.create(0).unwrap();
    assert!(addr.is_system());
    assert_eq!(addr.cpu(), 0);
}

#[test]
fn budget_defaults_to_one_gib_and_can_be_lowered_while_running() {
    assert_eq!(budget_pages(DEFAULT_BUDGET_BYTES), 262_144);
    assert_eq!(budget_pages(PAGE_SIZE as u64 * 3 + 1), 3);
    let mut m = memory(16, 8);
    let mut pool = PagePool::new(&mut m.pages, &mut m.free, &mut m.bits).unwrap();
    let mut space = AddressSpace::new(1, &mut m.slots, 16).unwrap();
    assert_eq!(space.budget(), 16);
    let mut saved = Vec::new();
    for t in 0..3 {
        let addr = space.create(t).unwrap();
        space
            .write(&mut pool, addr, 0, b"data", Caller::SYSTEM)
            .unwrap();
        space.seal(&pool, addr).unwrap();
        space.mark_saved(addr, 0).unwrap();
        saved.push(addr);
    }
    assert_eq!(space.used_pages(), 6);
    assert_eq!(space.set_budget(&mut pool, 2), 4);
    assert_eq!(space.budget(), 2);
    assert_eq!(space.used_pages(), 2);
    assert_eq!(space.access(saved[0], 9, Caller::SYSTEM), Lookup::Parked);
    assert!(matches!(
        space.access(saved[2], 9, Caller::SYSTEM),
        Lookup::Resident(_)
    ));
}
