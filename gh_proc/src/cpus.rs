//! `/proc/gigahttpd/cpus`: one line per GigaHttpd core, after a header line.

use core::fmt;

/// One core as the module reads it from the core's shared record.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct CoreView {
    /// Linux's number for the CPU.
    pub cpu: u32,
    /// `booting`, `running`, `stopped` or `faulted`.
    pub state: &'static str,
    /// Main-loop iterations so far; it grows while the core is alive.
    pub heartbeat: u64,
    /// Times the watchdog restarted the core.
    pub restarts: u64,
    /// NMIs the core took and returned from.
    pub nmis: u64,
}

/// Writes the `cpus` file.
pub fn render(w: &mut dyn fmt::Write, cores: &mut dyn Iterator<Item = CoreView>) -> fmt::Result {
    writeln!(
        w,
        "{:<5} {:<8} {:>20} {:>8} {:>6}",
        "cpu", "state", "heartbeat", "restarts", "nmis"
    )?;
    for core in cores {
        writeln!(
            w,
            "{:<5} {:<8} {:>20} {:>8} {:>6}",
            core.cpu, core.state, core.heartbeat, core.restarts, core.nmis
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
        let cores = [
            CoreView {
                cpu: 1,
                state: "running",
                heartbeat: 123_456,
                restarts: 0,
                nmis: 0,
            },
            CoreView {
                cpu: 3,
                state: "faulted",
                heartbeat: 7,
                restarts: 2,
                nmis: 1,
            },
        ];
        let mut out = String::new();
        assert_eq!(render(&mut out, &mut cores.iter().copied()), Ok(()));
        assert_eq!(
            out,
            "cpu   state               heartbeat restarts   nmis\n\
             1     running                123456        0      0\n\
             3     faulted                     7        2      1\n"
        );
    }
}
