#![no_std]
//! GigaHttpd's data store for one core: addresses, blocks, the per-core disk log, users,
//! sessions and permissions. Allocation-free and kernel-independent; the same sources
//! build on the host (tests) and into `gigahttpd.ko`.
//!
//! Inside, paths stay relative (`super::`): in the module these files are a submodule.

pub mod addr;
pub mod authorize;
pub mod block;
pub mod block_kind;
pub mod captcha;
pub mod checksum;
pub mod crypto;
pub mod disk;
pub mod lockout;
pub mod page_pool;
pub mod permissions;
pub mod session;
pub mod session_url;
pub mod space;
pub mod system_users;
pub mod user;
pub mod user_registry;

#[cfg(test)]
mod addr_props;
#[cfg(test)]
mod store_tests;
