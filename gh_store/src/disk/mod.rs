//! The on-disk format of one core's disk region (see `Documentation/disk-format.md`).
//!
//! Every record is 128 bytes, sealed with a CRC32C and a sequence number so
//! recovery can tell a torn or stale record from a good one.

pub mod audit_log;
pub mod block_info;
pub mod cluster_info;
pub mod device;
pub mod geometry;
pub mod header;
pub mod log;
pub mod queued;
pub mod record;
pub mod table;
pub mod write_queue;

#[cfg(test)]
mod audit_power_cut_tests;
#[cfg(test)]
mod chain_tests;
#[cfg(test)]
mod log_tests;
#[cfg(test)]
mod power_cut_tests;
#[cfg(test)]
mod test_device;
#[cfg(test)]
mod write_queue_power_cut_tests;
