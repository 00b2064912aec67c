//! `/proc/gigahttpd/counters`: every counter of the engine (`gh_net::counters`), a line
//! each, with the total over the cores and each core's value, as `/proc/interrupts` lays
//! out Linux's interrupts.

use core::fmt;

/// Writes the `counters` file for `cores` cores: a header line (`counter total cpuN ...`),
/// then one line per name in `names` with the sum of the cores' values and each core's
/// value. `cpu(core)` is Linux's number for core `core` (0..cores), and `value(core,
/// counter)` the value of `names[counter]` there.
pub fn render(
    w: &mut dyn fmt::Write,
    names: &[&str],
    cores: usize,
    cpu: &dyn Fn(usize) -> u32,
    value: &dyn Fn(usize, usize) -> u64,
) -> fmt::Result {
    write!(w, "{:<28} {:>20}", "counter", "total")?;
    for cpu in (0..cores).map(cpu) {
        // `cpu` and the number, right-aligned as one heading.
        let digits = cpu.checked_ilog10().unwrap_or(0) as usize + 1;
        write!(
            w,
            " {:>pad$}{cpu}",
            "cpu",
            pad = 20usize.saturating_sub(digits)
        )?;
    }
    writeln!(w)?;
    for (k, name) in names.iter().enumerate() {
        let total = (0..cores).fold(0u64, |t, core| t.wrapping_add(value(core, k)));
        write!(w, "{name:<28} {total:>20}")?;
        for core in 0..cores {
            write!(w, " {:>20}", value(core, k))?;
        }
        writeln!(w)?;
    }
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    extern crate std;
    use super::*;
    use std::string::{String, ToString};
    use std::vec::Vec;

    #[test]
    fn a_line_per_counter_with_its_total_and_each_core() {
        let names = ["rx_frames", "tcp_time_wait_recycled"];
        let values = [[7u64, 0], [u64::MAX, 3]];
        let mut out = String::new();
        let cpus = [1, 12];
        render(&mut out, &names, 2, &|core| cpus[core], &|core, k| {
            values[core][k]
        })
        .unwrap();
        let lines: Vec<Vec<&str>> = out
            .lines()
            .map(|l| l.split_whitespace().collect())
            .collect();
        assert_eq!(lines[0], ["counter", "total", "cpu1", "cpu12"]);
        // Totals wrap as the counters do.
        assert_eq!(lines[1], ["rx_frames", "6", "7", &u64::MAX.to_string()]);
        assert_eq!(lines[2], ["tcp_time_wait_recycled", "3", "0", "3"]);
        assert_eq!(lines.len(), 3);
        // Columns line up: every line is as long as the header.
        let widths: Vec<usize> = out.lines().map(str::len).collect();
        assert!(widths.iter().all(|&w| w == widths[0]), "{out}");
    }

    #[test]
    fn no_cores_still_names_every_counter() {
        let mut out = String::new();
        render(
            &mut out,
            &["a", "b"],
            0,
            &|_| unreachable!(),
            &|_, _| unreachable!(),
        )
        .unwrap();
        assert_eq!(out.lines().count(), 3);
        assert!(out
            .lines()
            .nth(2)
            .unwrap()
            .split_whitespace()
            .eq(["b", "0"]));
    }
}
