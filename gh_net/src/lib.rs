#![no_std]
//! GigaHttpd's network engine: Ethernet, ARP, IPv4, ICMP, TCP and HTTP/1.1 for one core.
//!
//! Nothing here allocates or knows the kernel. State lives in fixed pools carved from memory
//! the caller hands in, and the outside world is reached only through the platform interface.
//! The same sources build as a host crate (tests) and as a module of `gigahttpd.ko`, so paths
//! inside the crate are relative (`super::`), never rooted at the crate.

pub mod bytes;
pub mod checksum;
pub mod counters;
pub mod engine;
pub mod http;
#[cfg(feature = "alloc")]
pub mod owned;
pub mod qos;
pub mod quarantine;
pub mod server;
pub mod site;
pub mod tcp;
pub mod wire;
