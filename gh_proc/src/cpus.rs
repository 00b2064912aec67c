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
}

/// Writes the `cpus` file.
pub fn render(w: &mut dyn fmt::Write, cores: &mut dyn Iterator<Item = CoreView>) -> fmt::Result {
    writeln!(w, "{:<5} {:<8} {:>20}", "cpu", "state", "heartbeat")?;
    for core in cores {
        writeln!(
            w,
            "{:<5} {:<8} {:>20}",
            core.cpu, core.state, core.heartbeat
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
            },
            CoreView {
                cpu: 3,
                state: "faulted",
                heartbeat: 7,
            },
        ];
        let mut out = String::new();
        assert_eq!(render(&mut out, &mut cores.iter().copied()), Ok(()));
        assert_eq!(
            out,
            "cpu   state               heartbeat\n\
             1     running                123456\n\
             3     faulted                     7\n"
        );
    }
}
