//! `/proc/gigahttpd/control`: commands written to the module, one per write.

use core::fmt;

/// A parsed control command.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Command {
    /// Stop the core on this CPU (it stays GigaHttpd's, halted).
    StopCore(u32),
    /// Start the stopped core on this CPU again.
    StartCore(u32),
    /// Test hook: make the core on this CPU spin without a heartbeat, as a stuck task
    /// would, so the watchdog's detection and restart can be exercised.
    InjectHang(u32),
    /// Test hook: make the core on this CPU spin without a heartbeat when it handles the
    /// next `GET /hang` request, as a request whose task never ends would; the restarted
    /// core must answer that request's flow with an error.
    InjectHangOnRequest(u32),
    /// Test hook: make the core on this CPU run its stack pointer past its stack's
    /// bottom; the fault must halt the core as faulted, not take the machine down.
    InjectStackOverflow(u32),
    /// Test hook: send an NMI to the core on this CPU; it must count it and go on.
    InjectNmi(u32),
}

/// Why a command was refused.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum CommandError {
    /// Not one of the known commands.
    Unknown,
    /// The command needs one CPU number.
    BadCpu,
}

impl fmt::Display for CommandError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Unknown => "unknown command",
            Self::BadCpu => "expected one CPU number",
        })
    }
}

/// What `control` shows when read: the commands it accepts.
pub const USAGE: &str =
    "stop-core CPU\nstart-core CPU\ninject-hang CPU\ninject-hang-on-request CPU\ninject-stack-overflow CPU\ninject-nmi CPU\n";

impl Command {
    /// Parses one command, such as `stop-core 2`; a trailing newline is ignored.
    pub fn parse(text: &str) -> Result<Self, CommandError> {
        let mut words = text.split_ascii_whitespace();
        let verb = words.next().ok_or(CommandError::Unknown)?;
        let make: fn(u32) -> Command = match verb {
            "stop-core" => Command::StopCore,
            "start-core" => Command::StartCore,
            "inject-hang" => Command::InjectHang,
            "inject-hang-on-request" => Command::InjectHangOnRequest,
            "inject-stack-overflow" => Command::InjectStackOverflow,
            "inject-nmi" => Command::InjectNmi,
            _ => return Err(CommandError::Unknown),
        };
        let cpu = words.next().ok_or(CommandError::BadCpu)?;
        if words.next().is_some() || cpu.len() > 5 || !cpu.bytes().all(|b| b.is_ascii_digit()) {
            return Err(CommandError::BadCpu);
        }
        cpu.parse().map(make).map_err(|_| CommandError::BadCpu)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_commands() {
        assert_eq!(Command::parse("stop-core 2\n"), Ok(Command::StopCore(2)));
        assert_eq!(
            Command::parse("  start-core   13 "),
            Ok(Command::StartCore(13))
        );
        assert_eq!(Command::parse("inject-hang 1"), Ok(Command::InjectHang(1)));
        assert_eq!(Command::parse("inject-nmi 3"), Ok(Command::InjectNmi(3)));
        assert_eq!(
            Command::parse("inject-stack-overflow 2"),
            Ok(Command::InjectStackOverflow(2))
        );
        assert_eq!(
            Command::parse("inject-hang-on-request 1"),
            Ok(Command::InjectHangOnRequest(1))
        );
    }

    #[test]
    fn rejects_bad_commands() {
        assert_eq!(Command::parse(""), Err(CommandError::Unknown));
        assert_eq!(Command::parse("reboot 1"), Err(CommandError::Unknown));
        assert_eq!(Command::parse("stop-core"), Err(CommandError::BadCpu));
        assert_eq!(Command::parse("stop-core x"), Err(CommandError::BadCpu));
        assert_eq!(Command::parse("stop-core -1"), Err(CommandError::BadCpu));
        assert_eq!(Command::parse("stop-core 1 2"), Err(CommandError::BadCpu));
        assert_eq!(
            Command::parse("stop-core 999999"),
            Err(CommandError::BadCpu)
        );
    }
}
