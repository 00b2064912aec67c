// SPDX-License-Identifier: GPL-2.0

//! GigaHttpd: an HTTP server on CPUs and NICs taken from Linux.
//!
//! This crate is the kernel side: parameters, `/proc/gigahttpd`, and (as it grows) the
//! takeover of CPUs and NICs. The engine crates are compiled into it from the same
//! sources the host workspace tests.

use core::fmt;

use kernel::prelude::*;

mod apic;
mod bindings;
mod cpu;
mod cpu_tables;
mod e1000;
mod gh_core;
mod hotplug;
mod ksym;
mod memory;
mod nic;
mod nic_stats;
mod pages;
mod param;
mod pci;
mod procfs;
mod reboot;
mod server_mem;
mod takeover;
mod trampoline;
mod virtio_net;
mod window;
mod worker;

/// `/proc` rendering and parameter parsing, shared with the host workspace.
#[allow(unused_attributes, unreachable_pub, dead_code)]
#[path = "../gh_proc/src/lib.rs"]
mod gh_proc;

/// The network engine, shared with the host workspace.
#[allow(unused_attributes, unreachable_pub, dead_code, unused_imports)]
#[path = "../gh_net/src/lib.rs"]
mod gh_net;

/// The data store, shared with the host workspace (compiled in; not yet used by the cores).
#[allow(unused_attributes, unreachable_pub, dead_code, unused_imports)]
#[path = "../gh_store/src/lib.rs"]
mod gh_store;

use core::sync::atomic::{AtomicU32, Ordering::Relaxed};

use gh_net::counters::Counters;
use gh_proc::config;
use gh_proc::control::Command;
use gh_proc::cpus::CoreView;
use gh_proc::memory::MemoryView;
use gh_proc::nics::NicView;
use gh_proc::params::Params;
use gh_proc::status::{State, Status};
use param::gh_param;
use procfs::{ProcDir, ProcFile, ProcWrite};
use reboot::RebootGuard;
use takeover::{Cores, Serve};
use worker::{Job, Worker};

module! {
    type: GigaHttpd,
    name: "gigahttpd",
    author: "GigaHttpd developers",
    description: "GigaHttpd: HTTP server on CPUs and NICs taken from Linux",
    license: "GPL",
}

gh_param!(
    CPUS,
    "cpus",
    "CPUs to take from Linux, as a CPU list such as 1-3 (default: every online CPU but 0)"
);
gh_param!(
    NICS,
    "nics",
    "Data NICs to take from Linux, as PCI addresses such as 0000:00:04.0 (default: every \
     modern virtio-net and e1000 NIC that Linux's default route does not use)"
);
gh_param!(
    MEM_MIB,
    "mem_mib",
    "Memory reserved per GigaHttpd core in MiB, 16 to 65536 (default: 128)"
);
gh_param!(
    IP,
    "ip",
    "Data IPv4 address with prefix length, a.b.c.d/len (default: 10.0.3.15/24)"
);
gh_param!(
    GATEWAY,
    "gateway",
    "IPv4 next hop on the data network (default: 10.0.3.2)"
);
gh_param!(
    PORT,
    "port",
    "TCP port of the HTTP server, 1 to 65535 (default: 80)"
);

const VERSION: &str = "0.1.0";

/// Everything GigaHttpd holds while loaded; `/proc/gigahttpd` shows it. Dropping it
/// gives the CPUs back to Linux.
struct Loaded {
    params: Params,
    cores: Cores,
    loaded_at_s: i64,
    /// Live settings (`/proc/gigahttpd/config`), by `gh_proc::config` index.
    config: [AtomicU32; config::COUNT],
}

impl Loaded {
    fn setting(&self, index: usize) -> u32 {
        self.config.get(index).map_or(0, |v| v.load(Relaxed))
    }
}

impl Job for Loaded {
    fn tick(&self) {
        let now_ms = kernel::time::Ktime::ktime_get().to_ms();
        let timeout_ms = self.setting(config::WATCHDOG_MS);
        self.cores.print_reports();
        self.cores.watchdog(now_ms as u64, timeout_ms.into());
    }
}

struct StatusFile;

impl ProcFile<Loaded> for StatusFile {
    const NAME: &'static CStr = kernel::c_str!("status");

    fn show(loaded: &Loaded, out: &mut dyn fmt::Write) -> fmt::Result {
        // SAFETY: reading the monotonic clock has no preconditions outside NMI context.
        let now_s = unsafe { bindings::ktime_get_seconds() };
        let mut gh_cpus = gh_proc::cpuset::CpuSet::new();
        for core in loaded.cores.iter() {
            gh_cpus.insert(core.cpu() as usize);
        }
        gh_proc::status::render(
            out,
            &Status {
                version: VERSION,
                state: State::Running,
                uptime_s: u64::try_from(now_s - loaded.loaded_at_s).unwrap_or(0),
                params: &loaded.params,
                gh_cpus: &gh_cpus,
                online_cpus: &cpu::online(),
            },
        )
    }
}

struct CpusFile;

impl ProcFile<Loaded> for CpusFile {
    const NAME: &'static CStr = kernel::c_str!("cpus");

    fn show(loaded: &Loaded, out: &mut dyn fmt::Write) -> fmt::Result {
        gh_proc::cpus::render(
            out,
            &mut loaded.cores.iter().map(|core| {
                let e = core.shared().engine_stats().read();
                CoreView {
                    cpu: core.cpu(),
                    state: core.shared().state().name(),
                    heartbeat: core.shared().heartbeat(),
                    restarts: core.restarts(),
                    nmis: core.shared().nmis().into(),
                    busy_permille: e.busy_permille,
                    packets: e.rx_frames,
                    connections: e.connections,
                    requests: e.http_requests,
                    parked: e.parked,
                    quarantined: e.quarantined,
                }
            }),
        )
    }
}

struct NicsFile;

impl ProcFile<Loaded> for NicsFile {
    const NAME: &'static CStr = kernel::c_str!("nics");

    fn show(loaded: &Loaded, out: &mut dyn fmt::Write) -> fmt::Result {
        gh_proc::nics::render(
            out,
            &mut loaded.cores.iter().filter_map(|core| {
                let (pci, mac) = core.nic()?;
                let s = core.shared().nic_stats();
                let e = core.shared().engine_stats().read();
                Some(NicView {
                    pci,
                    mac,
                    cpu: core.cpu(),
                    rx_packets: s.rx_packets.load(Relaxed),
                    rx_bytes: s.rx_bytes.load(Relaxed),
                    rx_drops: s.rx_drops.load(Relaxed),
                    tx_packets: s.tx_packets.load(Relaxed),
                    tx_bytes: s.tx_bytes.load(Relaxed),
                    tx_drops: s.tx_drops.load(Relaxed),
                    arp_replies: e.arp_replies,
                    echo_replies: e.echo_replies,
                    tcp_resets: e.tcp_resets,
                    rx_ignored: e.dropped,
                    http_requests: e.http_requests,
                })
            }),
        )
    }
}

struct CountersFile;

impl ProcFile<Loaded> for CountersFile {
    const NAME: &'static CStr = kernel::c_str!("counters");

    fn show(loaded: &Loaded, out: &mut dyn fmt::Write) -> fmt::Result {
        // A core's record is read again for each line: each value is whole, and the file
        // needs no buffer.
        let cores = &loaded.cores;
        gh_proc::counters::render(
            out,
            &Counters::NAMES,
            cores.len(),
            &|core| cores.get(core).map_or(0, |c| c.cpu()),
            &|core, k| {
                cores
                    .get(core)
                    .and_then(|c| c.shared().counters().read().get(k).copied())
                    .unwrap_or(0)
            },
        )
    }
}

struct MemoryFile;

impl ProcFile<Loaded> for MemoryFile {
    const NAME: &'static CStr = kernel::c_str!("memory");

    fn show(loaded: &Loaded, out: &mut dyn fmt::Write) -> fmt::Result {
        gh_proc::memory::render(
            out,
            &mut loaded.cores.iter().map(|core| {
                let (blocks, huge_blocks) = core.memory().blocks();
                MemoryView {
                    cpu: core.cpu(),
                    reserved: core.memory().bytes() as u64,
                    used: core.memory().used() as u64,
                    blocks: blocks as u64,
                    huge_blocks: huge_blocks as u64,
                    connections: core.connections() as u64,
                    bytes_per_connection: server_mem::ServerArrays::BYTES_PER_CONNECTION as u64,
                    window_tables: core.window().tables() as u64,
                }
            }),
        )
    }
}

struct ConfigFile;

impl ProcFile<Loaded> for ConfigFile {
    const NAME: &'static CStr = kernel::c_str!("config");

    fn show(loaded: &Loaded, out: &mut dyn fmt::Write) -> fmt::Result {
        config::render(out, &mut loaded.config.iter().map(|v| v.load(Relaxed)))
    }
}

impl ProcWrite<Loaded> for ConfigFile {
    fn write(loaded: &Loaded, input: &str) -> Result {
        let (index, value) = config::parse(input).map_err(|e| {
            pr_info!("config: refused: {}\n", e);
            EINVAL
        })?;
        let noted = loaded.config.get(index).ok_or(EINVAL)?;
        loaded
            .cores
            .set_setting(index, value, || noted.store(value, Relaxed))
    }
}

struct ControlFile;

impl ProcFile<Loaded> for ControlFile {
    const NAME: &'static CStr = kernel::c_str!("control");

    fn show(_loaded: &Loaded, out: &mut dyn fmt::Write) -> fmt::Result {
        out.write_str(gh_proc::control::USAGE)
    }
}

impl ProcWrite<Loaded> for ControlFile {
    fn write(loaded: &Loaded, input: &str) -> Result {
        let command = Command::parse(input).map_err(|e| {
            pr_info!("control: refused: {}\n", e);
            EINVAL
        })?;
        match command {
            Command::StopCore(cpu) => loaded.cores.stop_core(cpu),
            Command::StartCore(cpu) => loaded.cores.start_core(cpu),
            Command::InjectHang(cpu) => loaded.cores.inject_hang(cpu),
            Command::InjectHangOnRequest(cpu) => loaded.cores.inject_hang_on_request(cpu),
            Command::InjectStackOverflow(cpu) => loaded.cores.inject_stack_overflow(cpu),
            Command::InjectNmi(cpu) => loaded.cores.inject_nmi(cpu),
        }
    }
}

/// The site every core serves until the store serves blocks.
static DEMO_SITE: [gh_net::site::Page<'static>; 2] = [
    gh_net::site::Page {
        path: "/",
        content_type: "text/html; charset=utf-8",
        body: b"<!DOCTYPE html>\n<html><head><title>GigaHttpd</title></head>\n\
<body><h1>GigaHttpd</h1><p>Served by a CPU taken from Linux, through GigaHttpd's own \
NIC driver and TCP/HTTP engine.</p></body></html>\n",
    },
    gh_net::site::Page {
        path: "/hello.txt",
        content_type: "text/plain; charset=utf-8",
        body: b"Hello from GigaHttpd\n",
    },
];

/// Reads every parameter given to `insmod` and checks them; logs the first problem.
fn load_params() -> Result<Params> {
    let mut params = Params::default();
    for (name, store) in [
        ("cpus", &CPUS),
        ("nics", &NICS),
        ("mem_mib", &MEM_MIB),
        ("ip", &IP),
        ("gateway", &GATEWAY),
        ("port", &PORT),
    ] {
        let Some(value) = store.value() else { continue };
        let Ok(text) = value.to_str() else {
            pr_err!("invalid parameter {}: not valid UTF-8 text\n", name);
            return Err(EINVAL);
        };
        if let Err(e) = params.set(name, text) {
            pr_err!("{} (given: {:?})\n", e, text);
            return Err(EINVAL);
        }
    }
    if let Err(e) = params.validate() {
        pr_err!("{}\n", e);
        return Err(EINVAL);
    }
    Ok(params)
}

struct GigaHttpd {
    // Dropped in this order: the worker and the reboot notifier go before the data they
    // use, which goes with `/proc/gigahttpd`.
    _worker: Worker,
    _reboot: RebootGuard,
    _proc: ProcDir<Loaded>,
}

impl kernel::Module for GigaHttpd {
    fn init(_module: &'static ThisModule) -> Result<Self> {
        let params = load_params()?;
        let gh_cpus = params.resolve_cpus(&cpu::online()).map_err(|e| {
            pr_err!("{}\n", e);
            EINVAL
        })?;
        // SAFETY: reading the monotonic clock has no preconditions outside NMI context.
        let loaded_at_s = unsafe { bindings::ktime_get_seconds() };
        let mem_bytes = (params.mem_mib as usize) << 20;
        // SAFETY: reads the page allocator's estimate; no preconditions.
        let available = unsafe { bindings::si_mem_available() } as usize * 4096;
        if mem_bytes * gh_cpus.len() > available / 4 * 3 {
            pr_err!(
                "invalid parameter mem_mib: {} MiB for each of {} CPUs leaves Linux less than a \
                 quarter of its {} MiB available\n",
                params.mem_mib,
                gh_cpus.len(),
                available >> 20
            );
            return Err(EINVAL);
        }
        // Refused before anything is taken: a NIC taken and given back loses what Linux
        // had configured on it.
        if let Some(what) = takeover::unsupported_machine() {
            pr_err!("machines with {} are not supported yet\n", what);
            return Err(ENODEV);
        }
        let nics = nic::take(params.nics.as_ref(), gh_cpus.len())?;
        let serve = Serve {
            ip: params.ip.addr.0,
            prefix_len: params.ip.prefix,
            gateway: params.gateway.0,
            port: params.port,
            pages: &DEMO_SITE,
        };
        let cores = Cores::take(&gh_cpus, nics, mem_bytes, serve)?;
        let mut proc = ProcDir::new(
            kernel::c_str!("gigahttpd"),
            Loaded {
                params,
                cores,
                loaded_at_s,
                config: config::defaults().map(AtomicU32::new),
            },
        )?;
        proc.add::<StatusFile>()?;
        proc.add::<CpusFile>()?;
        proc.add::<NicsFile>()?;
        proc.add::<MemoryFile>()?;
        proc.add::<CountersFile>()?;
        proc.add_writable::<ConfigFile>()?;
        proc.add_writable::<ControlFile>()?;
        // SAFETY: the data lives in `proc`, which `GigaHttpd` drops after the worker.
        let worker = unsafe { Worker::start(proc.data())? };
        // SAFETY: as above.
        let reboot = unsafe { RebootGuard::register(&proc.data().cores)? };
        pr_info!("loaded, version {}, running on cpus {}\n", VERSION, gh_cpus);
        Ok(Self {
            _worker: worker,
            _reboot: reboot,
            _proc: proc,
        })
    }
}

impl Drop for GigaHttpd {
    fn drop(&mut self) {
        // `_proc` is dropped after this: /proc goes first, then the cores stop and the
        // CPUs return to Linux.
        pr_info!("unloading\n");
    }
}
