//! The pages ghtap serves and the one place where the engine's [`Server`] is built, so
//! that a change of the engine's constructor touches nothing else.

use std::io;
use std::time::{SystemTime, UNIX_EPOCH};

use gh_net::engine::NetConfig;
use gh_net::owned::{OwnedMemory, Sizes};
use gh_net::server::Server;
use gh_net::site::Page;

/// One page given on the command line: served at `path` with `content_type`.
pub struct PageFile {
    /// Request path, starting with `/`.
    pub path: String,
    /// `Content-Type` value.
    pub content_type: String,
    /// The file's bytes, read once at start.
    pub body: Vec<u8>,
}

impl PageFile {
    /// Parses `PATH=FILE[:CONTENT_TYPE]` and reads the file. The content type is taken
    /// after the last colon only if it looks like one (`type/subtype`), so a file name
    /// with a colon still works; without it the file's extension decides.
    pub fn load(spec: &str) -> io::Result<PageFile> {
        let bad = |why: &str| {
            io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("--page {spec:?}: {why}"),
            )
        };
        let (path, rest) = spec
            .split_once('=')
            .ok_or_else(|| bad("expected PATH=FILE"))?;
        if !path.starts_with('/') {
            return Err(bad("PATH must start with /"));
        }
        let (file, content_type) = match rest.rsplit_once(':') {
            Some((f, ct)) if ct.contains('/') && !f.is_empty() => (f, ct.to_string()),
            _ => (rest, guess_type(rest).to_string()),
        };
        let body = std::fs::read(file).map_err(|e| bad(&format!("{file}: {e}")))?;
        Ok(PageFile {
            path: path.to_string(),
            content_type,
            body,
        })
    }

    /// The page as the engine takes it, borrowing this file's bytes.
    pub fn page(&self) -> Page<'_> {
        Page {
            path: &self.path,
            content_type: &self.content_type,
            body: &self.body,
        }
    }
}

fn guess_type(file: &str) -> &'static str {
    let ext = file.rsplit_once('.').map(|(_, e)| e).unwrap_or("");
    match ext {
        "html" | "htm" => "text/html",
        "txt" => "text/plain",
        "css" => "text/css",
        "js" => "text/javascript",
        "json" => "application/json",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        _ => "application/octet-stream",
    }
}

/// Everything the engine works in, allocated once here because the engine never allocates.
pub struct Memory(OwnedMemory);

/// Timer wheel buckets: with the engine's 10 ms tick, 4096 buckets span 40 s, so nearly
/// every timer lands in its own bucket on first insertion.
const WHEEL_BUCKETS: usize = 4096;

impl Memory {
    /// Memory for `slots` connections, `tasks` concurrent `POST /echo` bodies and the
    /// prepared responses of `pages`.
    pub fn new(slots: usize, tasks: usize, pages: &[Page<'_>]) -> Memory {
        let sizes = Sizes {
            slots,
            timers: WHEEL_BUCKETS,
            // Every connection may wait for the TX ring at once.
            waits: slots.max(1),
            tasks,
            // Pipelined requests waiting behind a response: a few per connection.
            pipeline: (slots * 4).min(usize::from(u16::MAX)),
        };
        Memory(OwnedMemory::new(&sizes, pages))
    }

    /// Bytes handed to the engine.
    pub fn bytes(&self) -> usize {
        self.0.bytes()
    }
}

/// Builds the server over `mem` serving `pages` on `port`, its `Date` taken from the
/// system clock at `now_ms` of the platform clock. `None` if the engine refuses the
/// memory's shape or the pages.
pub fn server<'a>(
    mem: &'a mut Memory,
    pages: &'a [Page<'a>],
    cfg: NetConfig,
    port: &'a [u16; 1],
    seed: [u64; 4],
    now_ms: u64,
) -> Option<Server<'a>> {
    let unix_seconds = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    Server::new(mem.0.memory(), cfg, port, pages, unix_seconds, seed, now_ms)
}
