//! ghtap: runs GigaHttpd's network engine (`gh_net::server::Server`) on a Linux TAP device,
//! so that Linux's own TCP stack and HTTP clients test the engine over a real wire, the
//! same bytes a GigaHttpd core would see from its NIC.
//!
//! ```text
//! ghtap --tap NAME --ip A.B.C.D [--mac 02:..] [--port 80] [--slots N] [--tasks N]
//!       [--loss PERCENT] --page PATH=FILE[:CONTENT_TYPE] ...
//! ```
//!
//! `--loss` drops that share of the frames each way, at random, as a lossy path would.
//!
//! On SIGTERM or SIGINT it prints the engine's counters and the connections in use, then
//! exits 0, so a test script can check what the engine counted during its run. SIGUSR1
//! prints the same report and keeps serving, so a script can watch connections drain.

mod loss;
mod site;
mod tap;

use std::io::{self, Write};
use std::net::Ipv4Addr;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};

use gh_net::engine::{NetConfig, Platform};
use gh_net::server::Server;
use gh_net::wire::ethernet::Address as Mac;
use gh_net::wire::ipv4::Address as Ip;

use loss::Loss;
use site::{Memory, PageFile};
use tap::{Tap, TapPlatform};

/// How often the engine's timers run. The engine's wheel has 10 ms ticks; running it more
/// often keeps retransmissions and TIME-WAIT expiry close to their deadlines.
const TICK_MS: u64 = 2;

/// Frames handled per wakeup before the timers get their turn.
const BATCH: usize = 256;

/// Set by SIGTERM or SIGINT; the main loop polls it.
static STOP: AtomicBool = AtomicBool::new(false);

/// Set by SIGUSR1; the main loop prints a report and clears it.
static REPORT: AtomicBool = AtomicBool::new(false);

extern "C" fn on_signal(sig: libc::c_int) {
    if sig == libc::SIGUSR1 {
        REPORT.store(true, Ordering::Relaxed);
    } else {
        STOP.store(true, Ordering::Relaxed);
    }
}

/// Catches SIGTERM, SIGINT and SIGUSR1 without SA_RESTART, so a poll(2) in progress
/// returns at once.
fn install_signals() -> io::Result<()> {
    for sig in [libc::SIGTERM, libc::SIGINT, libc::SIGUSR1] {
        // SAFETY: `sigaction` is plain old data for which zero bytes are valid; the
        // handler only stores to an atomic, which is async-signal-safe.
        let rc = unsafe {
            let mut sa: libc::sigaction = std::mem::zeroed();
            sa.sa_sigaction = on_signal as extern "C" fn(libc::c_int) as libc::sighandler_t;
            libc::sigemptyset(&mut sa.sa_mask);
            libc::sigaction(sig, &sa, std::ptr::null_mut())
        };
        if rc != 0 {
            return Err(io::Error::last_os_error());
        }
    }
    Ok(())
}

/// The command line.
struct Args {
    tap: String,
    mac: Mac,
    ip: Ip,
    port: u16,
    slots: usize,
    tasks: usize,
    /// Share of frames lost each way, in percent.
    loss: u8,
    pages: Vec<PageFile>,
}

const USAGE: &str = "usage: ghtap --tap NAME --ip A.B.C.D [--mac 02:00:00:00:00:01] [--port 80] \
                     [--slots 1024] [--tasks 64] [--loss 0] --page PATH=FILE[:CONTENT_TYPE] ...";

fn parse_mac(s: &str) -> Option<Mac> {
    let mut mac = [0u8; 6];
    let mut parts = s.split(':');
    for b in &mut mac {
        *b = u8::from_str_radix(parts.next()?, 16).ok()?;
    }
    parts.next().is_none().then_some(Mac(mac))
}

fn parse_args() -> Result<Args, String> {
    let mut tap = None;
    let mut mac = Mac([2, 0, 0, 0, 0, 1]);
    let mut ip = None;
    let mut port = 80;
    let mut slots = 1024;
    let mut tasks = 64;
    let mut loss = 0;
    let mut pages = Vec::new();
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        if flag == "--help" || flag == "-h" {
            return Err(USAGE.to_string());
        }
        let value = it
            .next()
            .ok_or_else(|| format!("{flag} needs a value\n{USAGE}"))?;
        let bad = || format!("bad value for {flag}: {value:?}");
        match flag.as_str() {
            "--tap" => tap = Some(value.clone()),
            "--mac" => {
                mac = parse_mac(&value)
                    .filter(|m| m.is_unicast())
                    .ok_or_else(bad)?
            }
            "--ip" => ip = Some(Ip(value.parse::<Ipv4Addr>().map_err(|_| bad())?.octets())),
            "--port" => port = value.parse().map_err(|_| bad())?,
            "--slots" => slots = value.parse().ok().filter(|&n| n > 0).ok_or_else(bad)?,
            "--tasks" => {
                tasks = value
                    .parse()
                    .ok()
                    .filter(|&n| n <= gh_net::site::MAX_TASKS)
                    .ok_or_else(bad)?
            }
            "--loss" => loss = value.parse().ok().filter(|&p| p <= 50).ok_or_else(bad)?,
            "--page" => pages.push(PageFile::load(&value).map_err(|e| e.to_string())?),
            _ => return Err(format!("unknown option {flag}\n{USAGE}")),
        }
    }
    Ok(Args {
        tap: tap.ok_or_else(|| format!("--tap is required\n{USAGE}"))?,
        mac,
        ip: ip.ok_or_else(|| format!("--ip is required\n{USAGE}"))?,
        port,
        slots,
        tasks,
        loss,
        pages,
    })
}

fn run(args: Args) -> Result<(), String> {
    let tap = Tap::open(&args.tap).map_err(|e| format!("open TAP {}: {e}", args.tap))?;
    install_signals().map_err(|e| format!("signals: {e}"))?;
    let random = || tap::kernel_random().map_err(|e| format!("/dev/urandom: {e}"));
    let seed = [random()?, random()?, random()?, random()?];
    let mut platform = TapPlatform::new(&tap, random()?, Loss::new(args.loss, random()?));
    let mut rx_loss = Loss::new(args.loss, random()?);
    let pages: Vec<_> = args.pages.iter().map(PageFile::page).collect();
    let mut mem = Memory::new(args.slots, args.tasks, &pages);
    let mem_bytes = mem.bytes();
    let port = [args.port];
    let cfg = NetConfig {
        mac: args.mac,
        ip: args.ip,
        // The TAP device is the whole network: every peer is on the link.
        prefix_len: 0,
        gateway: None,
    };
    let now = platform.now_ms();
    let mut server = site::server(&mut mem, &pages, cfg, &port, seed, now)
        .ok_or("the engine refused its memory or pages")?;
    let [a, b, c, d] = args.ip.0;
    eprintln!(
        "ghtap: serving {a}.{b}.{c}.{d}:{} on {} ({} slots, {} tasks, {} pages, {} bytes of engine memory)",
        args.port,
        args.tap,
        args.slots,
        args.tasks,
        pages.len(),
        mem_bytes
    );

    let mut rx = vec![0u8; 65_536];
    let mut next_tick: u64 = 0;
    let mut peak = 0;
    while !STOP.load(Ordering::Relaxed) {
        let now = platform.now_ms();
        let timeout = next_tick.saturating_sub(now).min(TICK_MS);
        match tap.wait(i32::try_from(timeout).unwrap_or(0)) {
            Ok(_) => {}
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(format!("poll: {e}")),
        }
        for _ in 0..BATCH {
            match tap.read(&mut rx) {
                Ok(_) if rx_loss.lose() => {}
                Ok(n) => server.receive(rx.get(..n).unwrap_or(&[]), &mut platform),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => break,
                Err(e) => return Err(format!("read {}: {e}", args.tap)),
            }
        }
        peak = peak.max(server.connections());
        let now = platform.now_ms();
        if now >= next_tick {
            server.tick(&mut platform);
            next_tick = now + TICK_MS;
        }
        if REPORT.swap(false, Ordering::Relaxed) {
            print_report(&server, peak, &platform, &rx_loss)?;
        }
    }
    print_report(&server, peak, &platform, &rx_loss)
}

/// Prints the engine's counters, one `name value` line each, then the connection counts,
/// the TAP's refusals and the frames the lossy link dropped, under a header line so that
/// repeated reports can be told apart.
fn print_report(
    server: &Server<'_>,
    peak: usize,
    platform: &TapPlatform<'_>,
    rx_loss: &Loss,
) -> Result<(), String> {
    let mut report = String::from("ghtap counters:\n");
    server.counters.for_each(&mut |name, value| {
        report.push_str(&format!("{name} {value}\n"));
    });
    report.push_str(&format!(
        "connections_in_use {}\npeak_connections {peak}\ntasks_in_use {}\ntap_tx_errors {}\n\
         lost_rx {}\nlost_tx {}\n",
        server.connections(),
        server.tasks_busy(),
        platform.tx_errors,
        rx_loss.dropped,
        platform.loss.dropped,
    ));
    let mut out = io::stdout().lock();
    out.write_all(report.as_bytes())
        .and_then(|()| out.flush())
        .map_err(|e| format!("stdout: {e}"))
}

fn main() -> ExitCode {
    match parse_args().and_then(run) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("ghtap: {e}");
            ExitCode::FAILURE
        }
    }
}
