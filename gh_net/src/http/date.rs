//! The IMF-fixdate of the `Date` header (RFC 9110 section 5.6.7), from Unix seconds.

use super::super::bytes::copy;

/// Length of an IMF-fixdate: `Sun, 06 Nov 1994 08:49:37 GMT`.
pub const LEN: usize = 29;

const DAYS: [&[u8; 3]; 7] = [b"Thu", b"Fri", b"Sat", b"Sun", b"Mon", b"Tue", b"Wed"];
const MONTHS: [&[u8; 3]; 12] = [
    b"Jan", b"Feb", b"Mar", b"Apr", b"May", b"Jun", b"Jul", b"Aug", b"Sep", b"Oct", b"Nov", b"Dec",
];

/// Civil (year, month 1-12, day 1-31) of a day count since 1970-01-01, proleptic Gregorian.
fn civil_from_days(days: u64) -> (u64, u64, u64) {
    // Shift the epoch to 0000-03-01 so leap days fall at the end of each 400-year era.
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z % 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + u64::from(month <= 2);
    (year, month, day)
}

fn two(out: &mut [u8], at: usize, v: u64) {
    if let Some(d) = out.get_mut(at..at + 2) {
        copy(d, &[b'0' + (v / 10 % 10) as u8, b'0' + (v % 10) as u8]);
    }
}

/// Formats `unix_seconds` (clamped to years before 10000) as an IMF-fixdate.
pub fn format(unix_seconds: u64) -> [u8; LEN] {
    let secs = unix_seconds.min(253_402_300_799); // 9999-12-31 23:59:59
    let days = secs / 86_400;
    let rem = secs % 86_400;
    let (year, month, day) = civil_from_days(days);
    let mut out = *b"Thu, 01 Jan 1970 00:00:00 GMT";
    let wd = DAYS.get((days % 7) as usize).copied().unwrap_or(b"Thu");
    let mn = MONTHS
        .get((month.saturating_sub(1)) as usize)
        .copied()
        .unwrap_or(b"Jan");
    if let Some(d) = out.get_mut(0..3) {
        copy(d, wd);
    }
    two(&mut out, 5, day);
    if let Some(d) = out.get_mut(8..11) {
        copy(d, mn);
    }
    two(&mut out, 12, year / 100);
    two(&mut out, 14, year % 100);
    two(&mut out, 17, rem / 3600);
    two(&mut out, 20, rem / 60 % 60);
    two(&mut out, 23, rem % 60);
    out
}

/// One formatted date and the second it names. Formatting costs far more than the copy,
/// and every response started within a second carries the same date.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cache {
    unix_seconds: u64,
    text: [u8; LEN],
}

impl Cache {
    /// A cache holding `unix_seconds`.
    pub fn new(unix_seconds: u64) -> Cache {
        Cache {
            unix_seconds,
            text: format(unix_seconds),
        }
    }

    /// Makes `unix_seconds` the cached date (formats only when the second changed).
    pub fn set(&mut self, unix_seconds: u64) {
        if unix_seconds != self.unix_seconds {
            *self = Cache::new(unix_seconds);
        }
    }

    /// `format(unix_seconds)`, from the cache when it holds that second.
    pub fn get(&self, unix_seconds: u64) -> [u8; LEN] {
        if unix_seconds == self.unix_seconds {
            self.text
        } else {
            format(unix_seconds)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cache_agrees_with_format_across_second_boundaries() {
        let start = 1_709_164_797; // two seconds before 2024-02-29
        let mut c = Cache::new(start);
        for now in start..start + 5 {
            c.set(now);
            for asked in start.saturating_sub(2)..start + 7 {
                assert_eq!(c.get(asked), format(asked), "cache at {now}, asked {asked}");
            }
        }
        // Going back (a retransmission's older date) and forward again.
        c.set(start);
        assert_eq!(c.get(start), format(start));
        c.set(u64::MAX);
        assert_eq!(c.get(u64::MAX), format(u64::MAX));
        assert_eq!(c.get(0), format(0));
    }

    #[test]
    fn known_dates() {
        assert_eq!(&format(0), b"Thu, 01 Jan 1970 00:00:00 GMT");
        assert_eq!(&format(784_111_777), b"Sun, 06 Nov 1994 08:49:37 GMT");
        assert_eq!(&format(951_782_400), b"Tue, 29 Feb 2000 00:00:00 GMT");
        assert_eq!(&format(1_709_164_799), b"Wed, 28 Feb 2024 23:59:59 GMT");
        assert_eq!(&format(1_709_251_200), b"Fri, 01 Mar 2024 00:00:00 GMT");
        assert_eq!(&format(4_102_444_800), b"Fri, 01 Jan 2100 00:00:00 GMT");
    }

    #[test]
    fn far_future_is_clamped_not_a_panic() {
        assert_eq!(&format(u64::MAX), b"Fri, 31 Dec 9999 23:59:59 GMT");
    }
}
