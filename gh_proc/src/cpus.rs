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
    /// Share of the last timer period the core spent handling frames and timers, in
    /// thousandths.
    pub busy_permille: u64,
    /// Frames the core received.
    pub packets: u64,
    /// TCP connections open now.
    pub connections: u64,
    /// HTTP requests answered or refused.
    pub requests: u64,
    /// Connections parked now, waiting for a resource (TX ring room).
    pub parked: u64,
    /// Requests answered 500 because they stopped the core before (see the watchdog).
    pub quarantined: u64,
}

/// Writes the `cpus` file.
pub fn render(w: &mut dyn fmt::Write, cores: &mut dyn Iterator<Item = CoreView>) -> fmt::Result {
    writeln!(
        w,
        "{:<5} {:<8} {:>20} {:>8} {:>6} {:>6} {:>12} {:>11} {:>12} {:>6} {:>11}",
        "cpu",
        "state",
        "heartbeat",
        "restarts",
        "nmis",
        "busy%",
        "packets",
        "connections",
        "requests",
        "parked",
        "quarantined"
    )?;
    for core in cores {
        let busy = core.busy_permille.min(1000);
        writeln!(
            w,
            "{:<5} {:<8} {:>20} {:>8} {:>6} {:>4}.{} {:>12} {:>11} {:>12} {:>6} {:>11}",
            core.cpu,
            core.state,
            core.heartbeat,
            core.restarts,
            core.nmis,
            busy / 10,
            busy % 10,
            core.packets,
            core.connections,
            core.requests,
            core.parked,
            core.quarantined
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
        let idle = CoreView {
            cpu: 1,
            state: "running",
            heartbeat: 123_456,
            restarts: 0,
            nmis: 0,
            busy_permille: 5,
            packets: 10,
            connections: 2,
            requests: 9,
            parked: 0,
            quarantined: 0,
        };
        let cores = [
            idle,
            CoreView {
                cpu: 3,
                state: "faulted",
                heartbeat: 7,
                restarts: 2,
                nmis: 1,
                busy_permille: 1000,
                packets: 0,
                connections: 0,
                requests: 0,
                parked: 1,
                quarantined: 4,
            },
        ];
        let mut out = String::new();
        assert_eq!(render(&mut out, &mut cores.iter().copied()), Ok(()));
        assert_eq!(
            out,
            "cpu   state               heartbeat restarts   nmis  busy%      packets connections     requests parked quarantined\n\
             1     running                123456        0      0    0.5           10           2            9      0           0\n\
             3     faulted                     7        2      1  100.0            0           0            0      1           4\n"
        );
    }
}
