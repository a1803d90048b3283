//! `switchboard bench overload` and `bench memory`: what the server does
//! when offered more calls than it can set up, and whether its memory comes
//! back after many calls. Same sipp caller and trunk as `bench sip`.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::Context;

use super::sip::{start_switchboard, write_scenarios};
use super::{free_port, which, Child};

/// Counters of one sipp caller run, from its last statistics line.
#[derive(Debug, Default, Clone, Copy)]
struct Counts {
    ok: u64,
    failed: u64,
    /// A response the scenario did not expect where 407/200 should be: our 503.
    unexpected: u64,
    retrans: u64,
}

fn counts(path: &Path) -> Option<Counts> {
    let get = super::sipp_stats(path)?;
    Some(Counts {
        ok: get("SuccessfulCall(C)").unwrap_or(0),
        failed: get("FailedCall(C)").unwrap_or(0),
        unexpected: get("FailedUnexpectedMessage(C)").unwrap_or(0),
        retrans: get("Retransmissions(C)").unwrap_or(0),
    })
}

/// The sipp caller (agent 1001, digest auth) running `scenario` against
/// `port`: `calls` calls at `rate`/s lasting `hold_ms`, statistics in `stat`
/// every `stat_every` seconds.
pub(super) fn caller_command(
    scenario: &Path,
    port: u16,
    rate: u32,
    calls: u64,
    hold_ms: u32,
    stat: &Path,
    stat_every: u32,
) -> anyhow::Result<Command> {
    let mut cmd = Command::new("sipp");
    cmd.args([
        &format!("127.0.0.1:{port}"),
        "-sf",
        &scenario.to_string_lossy(),
        "-s",
        "5551234",
        // The digest `uri` must be the Request-URI (sipp defaults to host:port; it adds `sip:`).
        "-auth_uri",
        &format!("5551234@127.0.0.1:{port}"),
        "-i",
        "127.0.0.1",
        "-p",
        &free_port()?.to_string(),
        "-r",
        &rate.to_string(),
        "-m",
        &calls.to_string(),
        "-d",
        &hold_ms.to_string(),
        "-l",
        "100000",
        "-nostdin",
        "-buff_size",
        "8388608",
        "-timeout",
        &format!("{}s", calls / u64::from(rate.max(1)) * 3 + 60),
        "-trace_stat",
        "-stf",
        &stat.to_string_lossy(),
        "-fd",
        &stat_every.to_string(),
    ])
    .stdout(Stdio::null())
    .stderr(Stdio::null());
    Ok(cmd)
}

/// Run the sipp caller against `port`: `calls` calls at `rate`/s lasting `hold_ms`.
fn caller(
    dir: &Path,
    port: u16,
    rate: u32,
    calls: u64,
    hold_ms: u32,
    tag: &str,
) -> anyhow::Result<Counts> {
    let (uac, _) = write_scenarios(dir)?;
    let stat = dir.join(format!("stat-{tag}.csv"));
    caller_command(&uac, port, rate, calls, hold_ms, &stat, 1)?
        .status()
        .context("running sipp")?;
    counts(&stat).context("reading sipp's statistics")
}

/// The sipp trunk (answers 100, 180, 200) on a free port, with `extra`
/// sipp arguments (e.g. RTP echo for `bench soak`).
pub(super) fn trunk(dir: &Path, extra: &[String]) -> anyhow::Result<(Child, u16)> {
    let (_, uas) = write_scenarios(dir)?;
    let port = free_port()?;
    let child = Child(
        Command::new("sipp")
            .args([
                "-sf",
                &uas.to_string_lossy(),
                "-i",
                "127.0.0.1",
                "-p",
                &port.to_string(),
                "-nostdin",
                "-buff_size",
                "8388608",
            ])
            .args(extra)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .context("starting the sipp trunk")?,
    );
    std::thread::sleep(Duration::from_millis(500));
    Ok((child, port))
}

fn scratch(name: &str) -> anyhow::Result<std::path::PathBuf> {
    let dir = std::env::temp_dir().join(format!("switchboard-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}

/// Offer `factor` x `rate` calls/s for `seconds` and report what completed.
pub fn overload(rate: u32, factor: u32, seconds: u32) -> anyhow::Result<()> {
    which("sipp")?;
    let dir = scratch("overload")?;
    let (_trunk, trunk_port) = trunk(&dir, &[])?;
    let (_server, port) = start_switchboard(&dir, trunk_port)?;
    let offered = rate * factor;
    println!(
        "Overload: {offered} calls/s offered ({factor} x {rate}) for {seconds} s, 1 s calls, digest auth"
    );
    let t0 = Instant::now();
    let c = caller(
        &dir,
        port,
        offered,
        u64::from(offered * seconds),
        1000,
        "overload",
    )?;
    let took = t0.elapsed().as_secs_f64();
    // sipp may not manage to offer the full rate on a shared machine: report
    // what it really offered over the run, and what completed per second.
    let total = c.ok + c.failed;
    let completed_rate = c.ok as f64 / took;
    println!(
        "sipp offered {total} calls in {took:.1} s ({:.0}/s); completed {} ({completed_rate:.0}/s, {:.0}% of {rate}/s); \
         refused with 503: {}; other failures: {}; retransmissions: {}",
        total as f64 / took,
        c.ok,
        completed_rate * 100.0 / f64::from(rate),
        c.unexpected,
        c.failed.saturating_sub(c.unexpected),
        c.retrans
    );
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}

/// Resident memory of a process (kB).
pub(super) fn rss_kb(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0)
}

/// RSS after the first 1,000 calls, then after `calls` calls and 60 s idle.
pub fn memory(calls: u64, rate: u32) -> anyhow::Result<()> {
    which("sipp")?;
    let dir = scratch("memory")?;
    let (_trunk, trunk_port) = trunk(&dir, &[])?;
    let (server, port) = start_switchboard(&dir, trunk_port)?;
    let pid = server.0.id();
    println!("Memory: {calls} calls at {rate}/s (100 ms calls), RSS of the server");
    let first = caller(&dir, port, rate, 1000, 100, "first")?;
    std::thread::sleep(Duration::from_secs(5));
    let rss_first = rss_kb(pid);
    println!(
        "after the first 1,000 calls ({} ok): {} MB",
        first.ok,
        rss_first / 1024
    );
    let rest = caller(&dir, port, rate, calls.saturating_sub(1000), 100, "rest")?;
    let rss_busy = rss_kb(pid);
    std::thread::sleep(Duration::from_secs(60));
    let rss_idle = rss_kb(pid);
    println!(
        "after {} calls ({} ok, {} failed): {} MB; after 60 s idle: {} MB ({:+.0}% of the first)",
        calls,
        first.ok + rest.ok,
        first.failed + rest.failed,
        rss_busy / 1024,
        rss_idle / 1024,
        (rss_idle as f64 / rss_first.max(1) as f64 - 1.0) * 100.0
    );
    drop(server);
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}
