//! `switchboard bench sip`: the session establishment rate (RFC 7502 style
//! doubling steps) of Switchboard and, in the same run, of Kamailio as the
//! anchor. The same sipp caller (agent 1001 dialling a number, answering a
//! 407 digest challenge, 1 s calls) and the same sipp trunk (100, 180, 200)
//! drive both; CPU is read from /proc for the server's processes only.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::Context;

use super::latency::{self, Latency};
use super::{free_port, group_cpu_ticks, kamailio, last_stats, which, Child};

/// One step of a run.
#[derive(Debug, Clone, Copy)]
struct Step {
    rate: u32,
    ok: u64,
    failed: u64,
    retrans: u64,
    cpu_ms_per_call: f64,
}

/// What one server achieved.
struct Run {
    label: &'static str,
    latency: Option<Latency>,
    steps: Vec<Step>,
}

impl Run {
    /// Highest offered rate whose every call succeeded.
    fn best(&self) -> Option<Step> {
        self.steps
            .iter()
            .filter(|s| s.failed == 0 && s.ok >= u64::from(s.rate))
            .max_by_key(|s| s.rate)
            .copied()
    }
    /// CPU per call at the step closest to `rate` without failures.
    fn cpu_at(&self, rate: u32) -> Option<f64> {
        self.steps
            .iter()
            .filter(|s| s.failed == 0 && s.rate <= rate)
            .max_by_key(|s| s.rate)
            .map(|s| s.cpu_ms_per_call)
    }
}

pub(super) fn write_scenarios(dir: &Path) -> anyhow::Result<(PathBuf, PathBuf)> {
    let uac = dir.join("uac_auth.xml");
    let uas = dir.join("uas_rr.xml");
    std::fs::write(&uac, include_str!("../../benches/sipp/uac_auth.xml"))?;
    std::fs::write(&uas, include_str!("../../benches/sipp/uas_rr.xml"))?;
    Ok((uac, uas))
}

/// Run the SIP benchmark; `anchors` adds Kamailio in the same run when installed.
pub fn sip(start: u32, max: u32, seconds: u32, anchors: bool) -> anyhow::Result<()> {
    which("sipp")?;
    let dir = std::env::temp_dir().join(format!("switchboard-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let (uac, _) = write_scenarios(&dir)?;
    let (_trunk, uas_port) = super::load::trunk(&dir, &[])?;
    println!(
        "SIP call rate: agent 1001 (sipp, digest auth on every INVITE) -> server -> trunk (sipp: 100, 180, 200),"
    );
    println!("1 s calls, {seconds} s per step, offered rate doubling until a step has failures.");
    let mut runs = Vec::new();
    if anchors {
        if kamailio::available() {
            let latency = {
                let trunk = latency::trunk()?;
                let port = free_port()?;
                let _k = kamailio::start(&dir, port, trunk.addr.port())?;
                probe("Kamailio", port)
            };
            let port = free_port()?;
            let k = kamailio::start(&dir, port, uas_port)?;
            let pgid = k.0.id();
            runs.push(steps(
                "Kamailio (stateful proxy)",
                latency,
                port,
                || group_cpu_ticks(pgid),
                &uac,
                &dir,
                (start, max, seconds),
            )?);
        } else {
            println!(
                "(Kamailio is not installed: apt-get install kamailio; running Switchboard alone)"
            );
        }
    }
    let latency = {
        let trunk = latency::trunk()?;
        let (_server, port) = start_switchboard(&dir.join("probe"), trunk.addr.port())?;
        probe("Switchboard", port)
    };
    let (server, sip_port) = start_switchboard(&dir, uas_port)?;
    let pid = server.0.id();
    runs.push(steps(
        "Switchboard (B2BUA)",
        latency,
        sip_port,
        || group_cpu_ticks(pid),
        &uac,
        &dir,
        (start, max, seconds),
    )?);
    drop(server);
    println!();
    println!(
        "{:<28} {:>21} {:>22} {:>20}",
        "summary", "zero-failure calls/s", "CPU ms/call (<=400/s)", "INVITE->200 p50/p99"
    );
    for r in &runs {
        println!(
            "{:<28} {:>21} {:>22} {:>20}",
            r.label,
            r.best().map(|s| s.rate.to_string()).unwrap_or("-".into()),
            r.cpu_at(400)
                .map(|c| format!("{c:.3}"))
                .unwrap_or("-".into()),
            r.latency
                .map(|l| format!("{:.2}/{:.2} ms", l.p50, l.p99))
                .unwrap_or("-".into())
        );
    }
    if let [k, s] = &runs[..] {
        if let (Some(kb), Some(sb)) = (k.best(), s.best()) {
            println!(
                "ratio Switchboard / Kamailio: rate {:.2}x",
                f64::from(sb.rate) / f64::from(kb.rate)
            );
        }
        // CPU per call only compares at one offered rate that both ran without failures.
        let common = k
            .steps
            .iter()
            .filter(|ks| ks.failed == 0)
            .filter_map(|ks| {
                s.steps
                    .iter()
                    .find(|ss| ss.rate == ks.rate && ss.failed == 0)
                    .map(|ss| (ks.rate, ks.cpu_ms_per_call, ss.cpu_ms_per_call))
            })
            .max_by_key(|(rate, _, _)| *rate);
        if let Some((rate, kc, sc)) = common {
            println!(
                "ratio Switchboard / Kamailio: CPU per call {:.2}x (both at {rate} calls/s)",
                sc / kc.max(0.001)
            );
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}

pub(super) fn start_switchboard(dir: &Path, uas_port: u16) -> anyhow::Result<(Child, u16)> {
    std::fs::create_dir_all(dir)?;
    let cfg = format!(
        "[server]\nsip_addr = \"127.0.0.1:0\"\nhttp_addr = \"127.0.0.1:0\"\ndatabase = \"sqlite://{db}\"\ndata_dir = \"{data}\"\nrtp_port_min = 46000\nrtp_port_max = 59999\n\
         # every sipp peer is one source on 127.0.0.1: no per-source rate limit\n\
         sip_requests_per_second = 0\n\
         [[agents]]\nusername = \"1001\"\npassword = \"pw1001\"\nsip_password = \"secret1001\"\n\
         [[trunks]]\nname = \"sipp\"\naddress = \"127.0.0.1:{uas_port}\"\n",
        db = dir.join("bench.db").display(),
        data = dir.join("data").display()
    );
    let cfg_path = dir.join("bench.toml");
    std::fs::write(&cfg_path, cfg)?;
    let mut cmd = Command::new(std::env::current_exe()?);
    cmd.args(["--config", &cfg_path.to_string_lossy()])
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    std::os::unix::process::CommandExt::process_group(&mut cmd, 0);
    let mut server = Child(cmd.spawn().context("starting the server")?);
    let mut line = String::new();
    BufReader::new(server.0.stdout.take().context("server stdout")?).read_line(&mut line)?;
    let sip_port: u16 = line
        .split_whitespace()
        .find_map(|w| w.strip_prefix("sip=127.0.0.1:"))
        .and_then(|p| p.parse().ok())
        .with_context(|| format!("unexpected ready line {line:?}"))?;
    Ok((server, sip_port))
}

/// CPU ticks of the server once it has been idle (under 2 ticks in 300 ms)
/// or after 30 s.
fn settle_cpu(cpu: &impl Fn() -> u64) -> u64 {
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut last = cpu();
    while Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(300));
        let now = cpu();
        if now.saturating_sub(last) < 2 {
            return now;
        }
        last = now;
    }
    last
}

/// INVITE -> 200 at 100 calls/s through a server whose trunk is the instant trunk.
fn probe(label: &str, port: u16) -> Option<Latency> {
    std::thread::sleep(Duration::from_millis(300));
    match latency::measure(SocketAddr::from(([127, 0, 0, 1], port)), 100, 1000) {
        Ok(l) => {
            println!(
                "{label}: INVITE -> 200 at 100 calls/s ({} calls, instant trunk): p50 {:.3} ms, p99 {:.3} ms",
                l.calls, l.p50, l.p99
            );
            Some(l)
        }
        Err(e) => {
            println!("{label}: latency probe failed: {e:#}");
            None
        }
    }
}

fn steps(
    label: &'static str,
    latency: Option<Latency>,
    port: u16,
    cpu: impl Fn() -> u64,
    scenario: &Path,
    dir: &Path,
    (start, max, seconds): (u32, u32, u32),
) -> anyhow::Result<Run> {
    println!();
    println!("{label} on 127.0.0.1:{port}");
    println!(
        "{:>8} {:>10} {:>8} {:>8} {:>12}",
        "offered", "successful", "failed", "retrans", "CPU ms/call"
    );
    let uac_port = free_port()?;
    let mut run = Run {
        label,
        latency,
        steps: Vec::new(),
    };
    let mut rate = start;
    while rate <= max {
        let calls = rate * seconds;
        let before = cpu();
        let t0 = Instant::now();
        let stat = dir.join(format!("stat-{port}-{rate}.csv"));
        let out = Command::new("sipp")
            .args([
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
                &uac_port.to_string(),
                "-r",
                &rate.to_string(),
                "-m",
                &calls.to_string(),
                "-d",
                "1000",
                "-l",
                "100000",
                "-nostdin",
                "-buff_size",
                "8388608",
                "-timeout",
                &format!("{}s", seconds * 4 + 20),
                "-trace_stat",
                "-stf",
                &stat.to_string_lossy(),
                "-fd",
                "1",
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()?;
        // Count the work the server still does for these calls once sipp is
        // done (e.g. storage writes it queued): wait until it is idle.
        let ticks = settle_cpu(&cpu).saturating_sub(before);
        let (ok, failed, retrans) = last_stats(&stat).unwrap_or((0, u64::from(calls), 0));
        let step = Step {
            rate,
            ok,
            failed,
            retrans,
            cpu_ms_per_call: ticks as f64 * 10.0 / ok.max(1) as f64,
        };
        println!(
            "{:>8} {:>10} {:>8} {:>8} {:>12.3}   ({:.1} s, sipp exit {})",
            step.rate,
            step.ok,
            step.failed,
            step.retrans,
            step.cpu_ms_per_call,
            t0.elapsed().as_secs_f64(),
            out.code().unwrap_or(-1)
        );
        run.steps.push(step);
        if failed > 0 || ok < u64::from(calls) {
            break;
        }
        rate *= 2;
        // Let the trunk's time-wait drain.
        std::thread::sleep(Duration::from_secs(1));
    }
    Ok(run)
}
