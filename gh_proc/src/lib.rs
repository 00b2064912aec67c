#![no_std]
//! The pure half of `/proc/gigahttpd/`: parsing of module parameters and control writes,
//! and rendering of the status tables.
//!
//! Nothing here touches the kernel: the module hands in plain values and a
//! [`core::fmt::Write`] sink, so the same source is tested on the host and compiled into
//! `gigahttpd.ko`.

pub mod config;
pub mod control;
pub mod counters;
pub mod cpus;
pub mod cpuset;
pub mod memory;
pub mod nics;
pub mod params;
pub mod pci;
pub mod reports;
pub mod seqcount;
pub mod status;
