//! Who asks for a block, and the application's authorization functions.
//!
//! GH data is reachable by address from outside, so every read, change and
//! delete through the address space names its caller and is decided here
//! from the block's owner, permission word and authorization-function
//! addresses (see `permissions`).

use super::addr::BlockAddr;
use super::block::BlockHeader;
use super::permissions::{Access, Authorizer, Operation, Permissions};

/// Who is asking.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Requester {
    /// GH itself or a system user acting through it: they check and
    /// repair all data, so nothing is refused them.
    System,
    /// An ordinary user, named by the data address of their user block.
    User(u64),
}

/// The authorization functions an application provides. GH calls one when
/// a block's permission word says so, with the address stored in the
/// block's header naming which of the application's functions to run.
pub trait Authorize {
    /// Whether `requester` may do `which` to `block`, owned by `owner`,
    /// as decided by the application's function at `function`.
    fn authorize(
        &self,
        function: u64,
        which: Authorizer,
        owner: u64,
        requester: u64,
        block: BlockAddr,
    ) -> bool;
}

/// For callers without authorization functions: every call is refused.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoAuthorizers;

impl Authorize for NoAuthorizers {
    fn authorize(&self, _: u64, _: Authorizer, _: u64, _: u64, _: BlockAddr) -> bool {
        false
    }
}

/// A requester and the authorization functions to consult for them.
#[derive(Clone, Copy)]
pub struct Caller<'a> {
    /// Who is asking.
    pub requester: Requester,
    /// The application's functions.
    pub authorizers: &'a dyn Authorize,
}

impl Caller<'static> {
    /// GH itself.
    pub const SYSTEM: Self = Self {
        requester: Requester::System,
        authorizers: &NoAuthorizers,
    };
}

impl<'a> Caller<'a> {
    /// The ordinary user whose block is at data address `user`.
    pub fn user(user: u64, authorizers: &'a dyn Authorize) -> Self {
        Self {
            requester: Requester::User(user),
            authorizers,
        }
    }

    /// Whether this caller may do `operation` to the block with `header`.
    /// A function address of 0 means none was set: refused.
    pub fn may(&self, header: &BlockHeader, operation: Operation) -> bool {
        let Requester::User(user) = self.requester else {
            return true;
        };
        let is_owner = header.owner == user;
        match Permissions(header.permissions).decide(operation, is_owner) {
            Access::Allow => true,
            Access::Deny => false,
            Access::AskAuthorizer(which) => {
                let slot = match which {
                    Authorizer::Read => 0,
                    Authorizer::Modify => 1,
                    Authorizer::Delete => 2,
                };
                match header.authorizers.get(slot).copied() {
                    Some(function) if function != 0 => {
                        self.authorizers
                            .authorize(function, which, header.owner, user, header.addr)
                    }
                    _ => false,
                }
            }
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::super::permissions::Flag;
    use super::*;
    use core::cell::Cell;

    /// Friends of the owner (user 7) may read; records each call.
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
            function == 0x500 && which == Authorizer::Read && owner == 1 && requester == 7
        }
    }

    fn header(permissions: Permissions, read_function: u64) -> BlockHeader {
        let mut h = BlockHeader::new(BlockAddr::new(2, 3).unwrap(), 0);
        h.owner = 1;
        h.permissions = permissions.0;
        h.authorizers = [read_function, 0, 0];
        h
    }

    #[test]
    fn read_function_is_called_with_owner_requester_and_block() {
        let friends = Friends {
            calls: Cell::new(0),
        };
        let h = header(Permissions(0).enforce(Flag::ReadAuthorizer, true), 0x500);
        assert!(Caller::user(7, &friends).may(&h, Operation::Read));
        assert!(!Caller::user(8, &friends).may(&h, Operation::Read));
        assert_eq!(friends.calls.get(), 2);
        // The owner reads without a call; nobody else modifies.
        assert!(Caller::user(1, &friends).may(&h, Operation::Read));
        assert!(!Caller::user(7, &friends).may(&h, Operation::Modify));
        assert_eq!(friends.calls.get(), 2);
        assert!(Caller::SYSTEM.may(&h, Operation::Delete));
    }

    #[test]
    fn a_flag_without_a_function_address_refuses() {
        let friends = Friends {
            calls: Cell::new(0),
        };
        let h = header(Permissions(0).enforce(Flag::ReadAuthorizer, true), 0);
        assert!(!Caller::user(7, &friends).may(&h, Operation::Read));
        assert_eq!(friends.calls.get(), 0);
        assert!(!Caller::user(7, &NoAuthorizers).may(&h, Operation::Read));
    }
}
