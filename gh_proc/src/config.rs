//! `/proc/gigahttpd/config`: settings that can change while GigaHttpd runs, read as
//! `key=value` lines and written one `key=value` at a time.

use core::fmt;

/// One live setting: its name, allowed range, and default.
struct Setting {
    name: &'static str,
    min: u32,
    max: u32,
    default: u32,
}

const SETTINGS: [Setting; 3] = [
    Setting {
        name: "watchdog_ms",
        min: 100,
        max: 60_000,
        default: 2_000,
    },
    Setting {
        name: "initial_window",
        min: 256,
        max: 65_535,
        default: 1_024,
    },
    Setting {
        name: "idle_ms",
        min: 1_000,
        max: 3_600_000,
        default: 60_000,
    },
];

/// Number of live settings.
pub const COUNT: usize = SETTINGS.len();

/// Index of `watchdog_ms`: how long a core's heartbeat may stand still before the
/// watchdog restarts the core.
pub const WATCHDOG_MS: usize = 0;

/// Index of `initial_window`: the receive window, in bytes, a core's SYN-ACK offers.
pub const INITIAL_WINDOW: usize = 1;

/// Index of `idle_ms`: how long a keep-alive connection may stay idle before the core
/// closes it.
pub const IDLE_MS: usize = 2;

/// Why a write was refused; nothing was changed.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum ConfigError {
    /// Not `key=value`.
    Syntax,
    /// No setting has that name.
    UnknownKey,
    /// The value is not a whole number in the setting's range.
    Range(&'static str, u32, u32),
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Syntax => f.write_str("expected key=value"),
            Self::UnknownKey => f.write_str("no such setting"),
            Self::Range(name, min, max) => write!(f, "{name} must be from {min} to {max}"),
        }
    }
}

/// Every setting's default value, by index.
pub fn defaults() -> [u32; COUNT] {
    let mut values = [0; COUNT];
    for (value, setting) in values.iter_mut().zip(SETTINGS.iter()) {
        *value = setting.default;
    }
    values
}

/// Parses one write: returns the index of the setting and its new value.
pub fn parse(text: &str) -> Result<(usize, u32), ConfigError> {
    let (key, value) = text.trim().split_once('=').ok_or(ConfigError::Syntax)?;
    let (index, setting) = SETTINGS
        .iter()
        .enumerate()
        .find(|(_, s)| s.name == key.trim())
        .ok_or(ConfigError::UnknownKey)?;
    let value = value.trim();
    let range = ConfigError::Range(setting.name, setting.min, setting.max);
    if value.is_empty() || value.len() > 10 || !value.bytes().all(|b| b.is_ascii_digit()) {
        return Err(range);
    }
    match value.parse::<u32>() {
        Ok(v) if (setting.min..=setting.max).contains(&v) => Ok((index, v)),
        _ => Err(range),
    }
}

/// Writes the `config` file from the current values, by index.
pub fn render(w: &mut dyn fmt::Write, values: &mut dyn Iterator<Item = u32>) -> fmt::Result {
    for (setting, value) in SETTINGS.iter().zip(values) {
        writeln!(w, "{}={}", setting.name, value)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;
    use std::string::String;

    #[test]
    fn parses_writes() {
        assert_eq!(parse("watchdog_ms=500\n"), Ok((WATCHDOG_MS, 500)));
        assert_eq!(parse(" watchdog_ms = 100 "), Ok((WATCHDOG_MS, 100)));
        assert_eq!(parse("initial_window=65535"), Ok((INITIAL_WINDOW, 65_535)));
        assert_eq!(parse("idle_ms=1000"), Ok((IDLE_MS, 1_000)));
    }

    #[test]
    fn rejects_bad_writes() {
        let range = Err(ConfigError::Range("watchdog_ms", 100, 60_000));
        assert_eq!(parse("watchdog_ms"), Err(ConfigError::Syntax));
        assert_eq!(parse("nope=1"), Err(ConfigError::UnknownKey));
        assert_eq!(parse("watchdog_ms=99"), range);
        assert_eq!(parse("watchdog_ms=60001"), range);
        assert_eq!(parse("watchdog_ms="), range);
        assert_eq!(parse("watchdog_ms=1e3"), range);
        assert_eq!(parse("watchdog_ms=99999999999"), range);
        assert_eq!(
            parse("initial_window=65536"),
            Err(ConfigError::Range("initial_window", 256, 65_535))
        );
        assert_eq!(
            parse("idle_ms=999"),
            Err(ConfigError::Range("idle_ms", 1_000, 3_600_000))
        );
    }

    #[test]
    fn renders_values() {
        let mut out = String::new();
        assert_eq!(render(&mut out, &mut defaults().into_iter()), Ok(()));
        assert_eq!(
            out,
            "watchdog_ms=2000\ninitial_window=1024\nidle_ms=60000\n"
        );
    }
}
