// SPDX-License-Identifier: GPL-2.0

//! GigaHttpd: an HTTP server on CPUs and NICs taken from Linux.
//!
//! This crate is the kernel side: parameters, `/proc/gigahttpd`, and (as it grows) the
//! takeover of CPUs and NICs. The engine crates are compiled into it from the same
//! sources the host workspace tests.

use core::fmt;

use kernel::prelude::*;

mod bindings;
mod cpu;
mod param;
mod procfs;

/// `/proc` rendering and parameter parsing, shared with the host workspace.
#[allow(unused_attributes, unreachable_pub, dead_code)]
#[path = "../gh_proc/src/lib.rs"]
mod gh_proc;

use gh_proc::cpuset::CpuSet;
use gh_proc::params::Params;
use gh_proc::status::{State, Status};
use param::gh_param;
use procfs::{ProcDir, ProcFile};

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
    MEM_MIB,
    "mem_mib",
    "Memory reserved per GigaHttpd core in MiB, 16 to 65536 (default: 1024)"
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

/// What `/proc/gigahttpd` shows, fixed at load.
struct Loaded {
    params: Params,
    gh_cpus: CpuSet,
    loaded_at_s: i64,
}

struct StatusFile;

impl ProcFile<Loaded> for StatusFile {
    const NAME: &'static CStr = kernel::c_str!("status");

    fn show(loaded: &Loaded, out: &mut dyn fmt::Write) -> fmt::Result {
        // SAFETY: reading the monotonic clock has no preconditions outside NMI context.
        let now_s = unsafe { bindings::ktime_get_seconds() };
        gh_proc::status::render(
            out,
            &Status {
                version: VERSION,
                state: State::Loaded,
                uptime_s: u64::try_from(now_s - loaded.loaded_at_s).unwrap_or(0),
                params: &loaded.params,
                gh_cpus: &loaded.gh_cpus,
                online_cpus: &cpu::online(),
            },
        )
    }
}

/// Reads every parameter given to `insmod` and checks them; logs the first problem.
fn load_params() -> Result<Params> {
    let mut params = Params::default();
    for (name, store) in [
        ("cpus", &CPUS),
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
        let proc = ProcDir::new(
            kernel::c_str!("gigahttpd"),
            Loaded {
                params,
                gh_cpus,
                loaded_at_s,
            },
        )?;
        proc.add::<StatusFile>()?;
        pr_info!("loaded, version {}, cpus {} chosen\n", VERSION, gh_cpus);
        Ok(Self { _proc: proc })
    }
}

impl Drop for GigaHttpd {
    fn drop(&mut self) {
        pr_info!("unloaded\n");
    }
}
