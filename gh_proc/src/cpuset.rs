//! CPU sets as Linux writes them: `0-3,8,10-11`.

use core::fmt;

/// Highest CPU count a set can describe; a GigaHttpd address has 14 CPU bits, but no
/// host it runs on today has more than this many CPUs.
pub const MAX_CPUS: usize = 1024;

const WORDS: usize = MAX_CPUS / 64;

/// A fixed-size set of CPU numbers below [`MAX_CPUS`].
#[derive(Clone, Copy, PartialEq, Eq, Default)]
pub struct CpuSet {
    words: [u64; WORDS],
}

/// Why a CPU list did not parse.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CpuListError {
    /// The list, or one of its comma-separated items, is empty.
    Empty,
    /// An item is not a number or a `first-last` range.
    Syntax,
    /// A range's last CPU is below its first.
    Reversed,
    /// A CPU number is not below [`MAX_CPUS`].
    TooLarge,
}

impl fmt::Display for CpuListError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Empty => "empty CPU list or list item",
            Self::Syntax => "expected CPU numbers or ranges such as 1-3,5",
            Self::Reversed => "range ends below its start",
            Self::TooLarge => "CPU number too large",
        })
    }
}

impl CpuSet {
    /// The empty set.
    pub const fn new() -> Self {
        Self { words: [0; WORDS] }
    }

    /// Adds `cpu`; returns false (and changes nothing) if it is not below [`MAX_CPUS`].
    pub fn insert(&mut self, cpu: usize) -> bool {
        match self.words.get_mut(cpu / 64) {
            Some(word) => {
                *word |= 1 << (cpu % 64);
                true
            }
            None => false,
        }
    }

    /// Removes `cpu` if present.
    pub fn remove(&mut self, cpu: usize) {
        if let Some(word) = self.words.get_mut(cpu / 64) {
            *word &= !(1 << (cpu % 64));
        }
    }

    /// Whether `cpu` is in the set.
    pub fn contains(&self, cpu: usize) -> bool {
        self.words
            .get(cpu / 64)
            .is_some_and(|word| word & (1 << (cpu % 64)) != 0)
    }

    /// Whether the set has no CPU.
    pub fn is_empty(&self) -> bool {
        self.words.iter().all(|&w| w == 0)
    }

    /// Number of CPUs in the set.
    pub fn len(&self) -> usize {
        self.words.iter().map(|w| w.count_ones() as usize).sum()
    }

    /// The CPUs in ascending order.
    pub fn iter(&self) -> impl Iterator<Item = usize> + '_ {
        (0..MAX_CPUS).filter(move |&cpu| self.contains(cpu))
    }

    /// The CPUs of `self` that are not in `other`.
    pub fn difference(&self, other: &CpuSet) -> CpuSet {
        let mut out = *self;
        for (w, o) in out.words.iter_mut().zip(other.words.iter()) {
            *w &= !o;
        }
        out
    }

    /// Parses a Linux CPU list (`0-3,8`); surrounding white space is ignored.
    pub fn parse(list: &str) -> Result<Self, CpuListError> {
        let list = list.trim();
        if list.is_empty() {
            return Err(CpuListError::Empty);
        }
        let mut set = CpuSet::new();
        for item in list.split(',') {
            let (first, last) = match item.split_once('-') {
                Some((a, b)) => (parse_cpu(a)?, parse_cpu(b)?),
                None => {
                    let cpu = parse_cpu(item)?;
                    (cpu, cpu)
                }
            };
            if last < first {
                return Err(CpuListError::Reversed);
            }
            for cpu in first..=last {
                set.insert(cpu);
            }
        }
        Ok(set)
    }
}

fn parse_cpu(s: &str) -> Result<usize, CpuListError> {
    if s.is_empty() {
        return Err(CpuListError::Empty);
    }
    if !s.bytes().all(|b| b.is_ascii_digit()) {
        return Err(CpuListError::Syntax);
    }
    // Digits only, so the only possible error is overflow.
    match s.parse::<usize>() {
        Ok(cpu) if cpu < MAX_CPUS => Ok(cpu),
        _ => Err(CpuListError::TooLarge),
    }
}

/// Writes the set as a Linux CPU list (`0-3,8`), or `none` when empty.
impl fmt::Display for CpuSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_empty() {
            return f.write_str("none");
        }
        let mut sep = "";
        let mut cpus = self.iter().peekable();
        while let Some(first) = cpus.next() {
            let mut last = first;
            while cpus.peek() == Some(&(last + 1)) {
                last += 1;
                cpus.next();
            }
            if first == last {
                write!(f, "{sep}{first}")?;
            } else {
                write!(f, "{sep}{first}-{last}")?;
            }
            sep = ",";
        }
        Ok(())
    }
}

impl fmt::Debug for CpuSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CpuSet({self})")
    }
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;
    use std::string::ToString;

    #[test]
    fn parses_and_prints_ranges() {
        let set = CpuSet::parse(" 1-3,5,7-8 ").unwrap_or_default();
        assert_eq!(set.len(), 6);
        assert!(set.contains(2) && set.contains(8) && !set.contains(4));
        assert_eq!(set.to_string(), "1-3,5,7-8");
        assert_eq!(
            CpuSet::parse("3,2,1").map(|s| s.to_string()),
            Ok("1-3".into())
        );
        assert_eq!(CpuSet::new().to_string(), "none");
    }

    #[test]
    fn rejects_malformed_lists() {
        assert_eq!(CpuSet::parse(""), Err(CpuListError::Empty));
        assert_eq!(CpuSet::parse("1,,2"), Err(CpuListError::Empty));
        assert_eq!(CpuSet::parse("1-"), Err(CpuListError::Empty));
        assert_eq!(CpuSet::parse("a"), Err(CpuListError::Syntax));
        assert_eq!(CpuSet::parse("+1"), Err(CpuListError::Syntax));
        assert_eq!(CpuSet::parse("1-2-3"), Err(CpuListError::Syntax));
        assert_eq!(CpuSet::parse("3-1"), Err(CpuListError::Reversed));
        assert_eq!(CpuSet::parse("1024"), Err(CpuListError::TooLarge));
        assert_eq!(
            CpuSet::parse("99999999999999999999999"),
            Err(CpuListError::TooLarge)
        );
    }

    #[test]
    fn edges_of_the_set() {
        let mut set = CpuSet::new();
        assert!(set.insert(MAX_CPUS - 1));
        assert!(!set.insert(MAX_CPUS));
        assert!(!set.contains(MAX_CPUS));
        set.remove(MAX_CPUS - 1);
        assert!(set.is_empty());
    }

    #[test]
    fn round_trips_every_small_set() {
        // Every subset of CPUs 0..12 prints to a list that parses back to itself.
        for bits in 1u32..(1 << 12) {
            let mut set = CpuSet::new();
            for cpu in 0..12 {
                if bits & (1 << cpu) != 0 {
                    set.insert(cpu);
                }
            }
            assert_eq!(CpuSet::parse(&set.to_string()), Ok(set), "bits {bits:#x}");
        }
    }

    #[test]
    fn difference_removes_cpus() {
        let all = CpuSet::parse("0-3").unwrap_or_default();
        let zero = CpuSet::parse("0").unwrap_or_default();
        assert_eq!(all.difference(&zero).to_string(), "1-3");
    }
}
