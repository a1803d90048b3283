//! End-to-end test harness with real SIP peers (baresip, sipp) for Switchboard.
//!
//! Used from each integration test file with `mod common;`.
//! Everything here is bounded in time, uses ephemeral ports on 127.0.0.1 only,
//! and kills every process it spawns when the owning value is dropped.
//!
//! Layout:
//! - [`TestDir`]: per-test scratch directory under `target/e2e/` (kept when the test fails)
//! - ports: [`free_port`], [`free_port_pair`], [`rtp_range`]
//! - [`server`]: spawn / restart the switchboard binary, tiny JSON API client
//! - [`baresip`]: headless baresip user agent driven over ctrl_tcp
//! - [`sipp`]: run sipp scenarios (foreground, bounded) and background UAS
//! - [`sip`]: raw SIP over UDP/TCP (OPTIONS probes, malformed input)
//! - [`audio`]: WAV reading and tone detection (Goertzel)
//! - [`http`]: minimal HTTP/1.1 client (std only)
//! - [`certs`]: a test CA and server certificates (openssl)
//! - [`ws`]: a console WebSocket client recording what the server pushes
#![allow(dead_code, unused_imports)]

pub mod audio;
pub mod baresip;
pub mod certs;
pub mod http;
pub mod server;
pub mod sip;
pub mod sipp;
pub mod ws;

use std::collections::HashSet;
use std::net::{TcpListener, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::Child;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard, OnceLock};
use std::time::{Duration, Instant};

pub use audio::*;
pub use baresip::{Baresip, BaresipOpts};
pub use server::{AgentCfg, CampaignCfg, Server, ServerOpts, TrunkCfg};
pub use sipp::{Sipp, SippProc, SippRun};

/// Root of the repository (the package containing the `switchboard` binary).
pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Directory holding the sipp scenario files used by the tests.
pub fn scenarios_dir() -> PathBuf {
    repo_root().join("tests").join("scenarios")
}

/// Initialise once per test binary: nothing global is needed except making
/// sure the scratch root exists.
fn e2e_root() -> PathBuf {
    let root = repo_root().join("target").join("e2e");
    std::fs::create_dir_all(&root).expect("create target/e2e");
    root
}

// ---------------------------------------------------------------------------
// Test directory
// ---------------------------------------------------------------------------

static DIR_COUNTER: AtomicUsize = AtomicUsize::new(0);

/// A unique scratch directory: `target/e2e/<name>-<pid>-<n>`.
///
/// Removed on drop when the test passed; kept (and its path printed) when the
/// current thread is panicking, or always when `SB_E2E_KEEP=1` is set.
/// Declare it FIRST in a test so it is dropped LAST (after the processes).
pub struct TestDir {
    path: PathBuf,
}

impl TestDir {
    pub fn new(name: &str) -> TestDir {
        let n = DIR_COUNTER.fetch_add(1, Ordering::SeqCst);
        let safe: String = name
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '_' || c == '-' {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        let path = e2e_root().join(format!("{}-{}-{}", safe, std::process::id(), n));
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path).expect("create test dir");
        eprintln!("[e2e] test dir: {}", path.display());
        TestDir { path }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// `path/<rel>`, creating the parent directories.
    pub fn join(&self, rel: &str) -> PathBuf {
        let p = self.path.join(rel);
        if let Some(parent) = p.parent() {
            let _ = std::fs::create_dir_all(parent);
        }
        p
    }

    /// Create (if needed) and return a sub-directory.
    pub fn subdir(&self, rel: &str) -> PathBuf {
        let p = self.path.join(rel);
        std::fs::create_dir_all(&p).expect("create subdir");
        p
    }
}

impl Drop for TestDir {
    fn drop(&mut self) {
        let keep = std::thread::panicking()
            || std::env::var("SB_E2E_KEEP")
                .map(|v| v == "1")
                .unwrap_or(false);
        if keep {
            eprintln!("[e2e] kept test dir for debugging: {}", self.path.display());
        } else {
            let _ = std::fs::remove_dir_all(&self.path);
        }
    }
}

impl AsRef<Path> for TestDir {
    fn as_ref(&self) -> &Path {
        &self.path
    }
}

// ---------------------------------------------------------------------------
// Ports
// ---------------------------------------------------------------------------

fn handed_out() -> &'static Mutex<HashSet<u16>> {
    static S: OnceLock<Mutex<HashSet<u16>>> = OnceLock::new();
    S.get_or_init(|| Mutex::new(HashSet::new()))
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

fn port_free_udp_tcp(p: u16) -> bool {
    let u = UdpSocket::bind(("127.0.0.1", p));
    let t = TcpListener::bind(("127.0.0.1", p));
    u.is_ok() && t.is_ok()
}

/// Where [`free_port`] looks: below both the RTP leases (20000..32000) and
/// the kernel's ephemeral range (32768..), so a port the kernel hands to some
/// other process's socket (a browser's connections, a resolver, a benchmark)
/// can never take one of ours between our probe and the peer's bind (baresip
/// failed with "Address already in use" that way).
const PEER_PORTS: std::ops::Range<u16> = 15000..20000;

/// A port that is currently free for BOTH UDP and TCP on 127.0.0.1 (probed
/// by binding both), from [`PEER_PORTS`], starting at an offset drawn from
/// the process id so that two test processes rarely probe the same ports.
/// Never returns the same port twice in one test process.
pub fn free_port() -> u16 {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let span = PEER_PORTS.len();
    let start = std::process::id() as usize * 7919;
    for _ in 0..span {
        let i = (start + NEXT.fetch_add(1, Ordering::Relaxed)) % span;
        let p = PEER_PORTS.start + i as u16;
        if !port_free_udp_tcp(p) {
            continue;
        }
        if lock(handed_out()).insert(p) {
            return p;
        }
    }
    panic!("could not find a free UDP+TCP port in {PEER_PORTS:?}");
}

/// A port `p` such that `p` and `p+1` are free for UDP and TCP (baresip binds
/// TCP on sip_listen+1 for TLS).
pub fn free_port_pair() -> u16 {
    for _ in 0..200 {
        let p = free_port();
        if p < 65534 && port_free_udp_tcp(p + 1) {
            let mut set = lock(handed_out());
            if set.insert(p + 1) {
                return p;
            }
        }
    }
    panic!("could not find a free port pair");
}

/// An exclusive lease on a range of UDP ports for RTP, released on drop.
///
/// Ports come from 20000..32000 (below the kernel's ephemeral range) in
/// 50-port blocks. A block is leased by taking an advisory lock
/// (`File::try_lock`) on `target/e2e/.rtp-locks/block-N`, so concurrent test
/// processes (and tests inside one process) never get the same block; every
/// port handed out is also probed with a UDP bind. Keep the lease alive as
/// long as something may bind those ports.
#[derive(Debug)]
pub struct RtpLease {
    pub lo: u16,
    pub hi: u16,
    _locks: Vec<std::fs::File>,
}

impl RtpLease {
    pub fn range(&self) -> (u16, u16) {
        (self.lo, self.hi)
    }
}

const RTP_LO: u32 = 20000;
const RTP_HI: u32 = 32000;
const RTP_BLOCK: u32 = 50;

/// Lease `size` consecutive RTP ports (see [`RtpLease`]).
pub fn rtp_lease(size: u16) -> RtpLease {
    static NEXT: OnceLock<Mutex<u32>> = OnceLock::new();
    let nblocks = (RTP_HI - RTP_LO) / RTP_BLOCK;
    let need = (size as u32).div_ceil(RTP_BLOCK).max(1);
    let lock_dir = e2e_root().join(".rtp-locks");
    std::fs::create_dir_all(&lock_dir).expect("create rtp lock dir");
    let next = NEXT.get_or_init(|| Mutex::new((std::process::id() * 13) % nblocks));
    for _attempt in 0..3 {
        for _ in 0..nblocks {
            let b = {
                let mut n = lock(next);
                if *n + need > nblocks {
                    *n = 0;
                }
                let b = *n;
                *n = (*n + 1) % nblocks;
                b
            };
            let mut locks = Vec::new();
            let mut ok = true;
            for k in b..b + need {
                let f = match std::fs::OpenOptions::new()
                    .create(true)
                    .truncate(false)
                    .write(true)
                    .open(lock_dir.join(format!("block-{}", k)))
                {
                    Ok(f) => f,
                    Err(_) => {
                        ok = false;
                        break;
                    }
                };
                if f.try_lock().is_err() {
                    ok = false;
                    break;
                }
                locks.push(f);
            }
            if !ok {
                continue;
            }
            let lo = RTP_LO + b * RTP_BLOCK;
            let hi = lo + size.max(1) as u32 - 1;
            if (lo..=hi).all(|p| UdpSocket::bind(("127.0.0.1", p as u16)).is_ok()) {
                return RtpLease {
                    lo: lo as u16,
                    hi: hi as u16,
                    _locks: locks,
                };
            }
        }
        std::thread::sleep(Duration::from_millis(500));
    }
    panic!("no free RTP port range of {} ports", size);
}

/// A range of `size` RTP ports leased for the rest of this test process
/// (never released). Prefer [`rtp_lease`] for anything long-lived.
pub fn rtp_range(size: u16) -> (u16, u16) {
    static LEAKED: Mutex<Vec<RtpLease>> = Mutex::new(Vec::new());
    let l = rtp_lease(size);
    let r = l.range();
    lock(&LEAKED).push(l);
    r
}

// ---------------------------------------------------------------------------
// Misc helpers
// ---------------------------------------------------------------------------

/// Poll `f` every `every` until it returns Some, or `timeout` passes.
pub fn wait_until<T>(
    timeout: Duration,
    every: Duration,
    mut f: impl FnMut() -> Option<T>,
) -> Option<T> {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(v) = f() {
            return Some(v);
        }
        if Instant::now() >= deadline {
            return None;
        }
        std::thread::sleep(every);
    }
}

/// Send SIGTERM (via /bin/kill; std has only SIGKILL) to a child.
pub fn sigterm(child: &Child) {
    signal(child, "TERM");
}

/// Send a named signal (TERM, USR1, ...) to a child process by its pid.
pub fn signal(child: &Child, sig: &str) {
    let _ = std::process::Command::new("kill")
        .arg(format!("-{}", sig))
        .arg(child.id().to_string())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status();
}

/// Wait for a child to exit, bounded. Returns the exit code (or -signal) if it exited.
pub fn wait_child(child: &mut Child, timeout: Duration) -> Option<i32> {
    let deadline = Instant::now() + timeout;
    loop {
        match child.try_wait() {
            Ok(Some(st)) => {
                use std::os::unix::process::ExitStatusExt;
                return Some(st.code().unwrap_or_else(|| -st.signal().unwrap_or(0)));
            }
            Ok(None) => {}
            Err(_) => return None,
        }
        if Instant::now() >= deadline {
            return None;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Kill (SIGKILL) a child and reap it; ignores errors.
pub fn kill_child(child: &mut Child) {
    if let Ok(None) = child.try_wait() {
        let _ = child.kill();
    }
    let _ = wait_child(child, Duration::from_secs(5));
}

/// Last `n` lines of a text file (for failure messages).
pub fn tail(path: &Path, n: usize) -> String {
    let s = std::fs::read(path)
        .map(|b| String::from_utf8_lossy(&b).into_owned())
        .unwrap_or_default();
    let lines: Vec<&str> = s.lines().collect();
    let start = lines.len().saturating_sub(n);
    lines[start..].join("\n")
}

/// Serialise heavy (audio) tests inside one test binary: 2 shared cores make
/// several concurrent baresip pairs + server flaky. Hold the guard for the test.
pub fn serial() -> MutexGuard<'static, ()> {
    static M: Mutex<()> = Mutex::new(());
    lock(&M)
}

/// Start a baresip agent registered to `server` with the conventional SIP
/// password `secret<user>` and wait (10 s) until it is registered.
pub fn start_agent(
    dir: &TestDir,
    server: &Server,
    user: &str,
    tone_hz: Option<f32>,
    auto_answer: bool,
) -> Baresip {
    let b = Baresip::start(
        dir.path(),
        user,
        &format!("secret{}", user),
        server.sip_port,
        tone_hz,
        auto_answer,
    );
    b.wait_registered(Duration::from_secs(10));
    b
}

/// Assert that a CALL_CLOSED reason starts with one of the given SIP codes.
pub fn assert_close_reason(ev: &baresip::Event, codes: &[&str], context: &str) {
    assert!(
        codes.iter().any(|c| ev.param.starts_with(c)),
        "{}: call closed with {:?}, expected one of {:?}",
        context,
        ev.param,
        codes
    );
}

/// Check that an external tool is installed (for a clear failure message).
pub fn require_tool(name: &str) {
    let ok = std::process::Command::new("sh")
        .arg("-c")
        .arg(format!("command -v {} >/dev/null 2>&1", name))
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    assert!(
        ok,
        "required tool `{}` is not installed (apt-get install sip-tester baresip-core sox)",
        name
    );
}

/// A fresh PostgreSQL schema for one test, when `SWITCHBOARD_TEST_POSTGRES_URL`
/// is set (CI sets it): returns the URL whose connections use that schema.
/// The schema is dropped when the guard is dropped.
pub struct PgSchema {
    base: String,
    name: String,
    /// Database URL for the server under test.
    pub url: String,
}

impl PgSchema {
    /// `None` when no PostgreSQL is configured for tests.
    pub fn create(test: &str) -> Option<PgSchema> {
        let base = std::env::var("SWITCHBOARD_TEST_POSTGRES_URL").ok()?;
        let name = format!(
            "e2e_{}_{}_{}",
            test.replace(|c: char| !c.is_ascii_alphanumeric(), "_"),
            std::process::id(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.subsec_nanos())
                .unwrap_or(0)
        );
        psql(&base, &format!("CREATE SCHEMA {name}"));
        let sep = if base.contains('?') { '&' } else { '?' };
        let url = format!("{base}{sep}options=-c%20search_path%3D{name}");
        Some(PgSchema { base, name, url })
    }
}

impl Drop for PgSchema {
    fn drop(&mut self) {
        psql(
            &self.base,
            &format!("DROP SCHEMA IF EXISTS {} CASCADE", self.name),
        );
    }
}

fn psql(url: &str, sql: &str) {
    let out = std::process::Command::new("psql")
        .args([url, "-q", "-v", "ON_ERROR_STOP=1", "-c", sql])
        .output()
        .expect("run psql (apt-get install postgresql-client)");
    assert!(
        out.status.success(),
        "psql {sql:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}
