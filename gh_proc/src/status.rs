//! `/proc/gigahttpd/status`: one `key: value` line per fact, stable for scripts.

use core::fmt;

use super::cpuset::CpuSet;
use super::params::{Params, NAMES};

/// Where the module is in its life.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum State {
    /// The chosen CPUs are taken from Linux and run GigaHttpd's main loop.
    Running,
}

impl State {
    /// The word shown in `status`.
    pub fn as_str(self) -> &'static str {
        match self {
            State::Running => "running",
        }
    }
}

/// Everything `status` shows, gathered by the module.
pub struct Status<'a> {
    /// GigaHttpd's version.
    pub version: &'a str,
    /// Current state.
    pub state: State,
    /// Seconds since the module was loaded.
    pub uptime_s: u64,
    /// The parameters as loaded.
    pub params: &'a Params,
    /// CPUs chosen for GigaHttpd.
    pub gh_cpus: &'a CpuSet,
    /// CPUs Linux has online now.
    pub online_cpus: &'a CpuSet,
}

/// Writes the `status` file.
pub fn render(w: &mut dyn fmt::Write, s: &Status<'_>) -> fmt::Result {
    writeln!(w, "version: {}", s.version)?;
    writeln!(w, "state: {}", s.state.as_str())?;
    writeln!(w, "uptime_s: {}", s.uptime_s)?;
    for name in NAMES {
        write!(w, "param.{name}: ")?;
        s.params.write_value(name, w)?;
        w.write_char('\n')?;
    }
    writeln!(w, "gh_cpus: {}", s.gh_cpus)?;
    writeln!(w, "online_cpus: {}", s.online_cpus)
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;
    use std::string::String;

    #[test]
    fn renders_every_field() {
        let params = Params::default();
        let gh = CpuSet::parse("1-3").unwrap_or_default();
        let online = CpuSet::parse("0-3").unwrap_or_default();
        let status = Status {
            version: "0.1.0",
            state: State::Running,
            uptime_s: 42,
            params: &params,
            gh_cpus: &gh,
            online_cpus: &online,
        };
        let mut out = String::new();
        assert_eq!(render(&mut out, &status), Ok(()));
        assert_eq!(
            out,
            "version: 0.1.0\n\
             state: running\n\
             uptime_s: 42\n\
             param.cpus: default\n\
             param.nics: default\n\
             param.mem_mib: 128\n\
             param.ip: 10.0.3.15/24\n\
             param.gateway: 10.0.3.2\n\
             param.port: 80\n\
             gh_cpus: 1-3\n\
             online_cpus: 0-3\n"
        );
    }
}
