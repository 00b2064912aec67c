//! `/proc/gigahttpd/memory`: one line per GigaHttpd core's reserved memory.

use core::fmt;

/// One core's memory as the module reads it.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub struct MemoryView {
    /// Linux's number for the CPU.
    pub cpu: u32,
    /// Bytes reserved from Linux for the core.
    pub reserved: u64,
    /// Bytes of the reservation the core's pools use.
    pub used: u64,
    /// Physically contiguous blocks the reservation is made of.
    pub blocks: u64,
    /// How many of those blocks are 2 MiB.
    pub huge_blocks: u64,
    /// Connection slots carved for the core's server.
    pub connections: u64,
    /// Bytes each connection costs: its slot, its HTTP state and its lookup entries.
    pub bytes_per_connection: u64,
    /// Page-table pages of the core's private window over its memory.
    pub window_tables: u64,
}

/// Writes the `memory` file.
pub fn render(w: &mut dyn fmt::Write, cores: &mut dyn Iterator<Item = MemoryView>) -> fmt::Result {
    writeln!(
        w,
        "{:<5} {:>14} {:>14} {:>8} {:>11} {:>11} {:>10} {:>13}",
        "cpu",
        "reserved",
        "used",
        "blocks",
        "huge_blocks",
        "connections",
        "conn_bytes",
        "window_tables"
    )?;
    for m in cores {
        writeln!(
            w,
            "{:<5} {:>14} {:>14} {:>8} {:>11} {:>11} {:>10} {:>13}",
            m.cpu,
            m.reserved,
            m.used,
            m.blocks,
            m.huge_blocks,
            m.connections,
            m.bytes_per_connection,
            m.window_tables
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;
    use std::string::String;

    #[test]
    fn renders_a_line_per_core() {
        let m = MemoryView {
            cpu: 2,
            reserved: 128 << 20,
            used: 3 << 20,
            blocks: 64,
            huge_blocks: 64,
            connections: 32768,
            bytes_per_connection: 112,
            window_tables: 2,
        };
        let mut out = String::new();
        assert_eq!(render(&mut out, &mut [m].into_iter()), Ok(()));
        assert_eq!(
            out,
            "cpu         reserved           used   blocks huge_blocks connections conn_bytes window_tables\n\
             2          134217728        3145728       64          64       32768        112             2\n"
        );
    }
}
