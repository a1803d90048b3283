//! `switchboard bench queue`: the queue distributor at contact-center scale.
//! N registered auto-answering agents (ready, no wrap-up time) in one
//! inbound campaign; customers arrive through a trunk and each call ends
//! when its agent hangs up after the talk time, the next customer calling at
//! once, so the number of callers in the system is held constant. Two
//! phases with the same answered-call rate (every agent busy all the time):
//! first N + N/20 callers (the queue stays about empty), then N + W (W
//! callers wait with music). Talk times vary by +-50 % around the given
//! one so that agents free up one by one rather than in waves. For each: server CPU, calls answered, and the latency of the
//! supervisor API (`GET /api/agents`, polled 10 times a second); in the
//! second, the offer latency: an agent's BYE leaving to the next caller's
//! INVITE reaching that agent.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream, UdpSocket};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};

use super::queue_peers::{self, Shared};
use super::{group_cpu_ticks, Child};

/// The DID of the benchmark's inbound campaign.
const DID: &str = "7000";

/// One measured phase.
struct Phase {
    label: String,
    seconds: f64,
    cpu_ms: f64,
    answered: usize,
    waiting: usize,
    api: Vec<f64>,
}

fn pct(v: &mut [f64], p: f64) -> f64 {
    if v.is_empty() {
        return f64::NAN;
    }
    v.sort_by(|a, b| a.total_cmp(b));
    v[((v.len() as f64 - 1.0) * p).round() as usize]
}

/// Run the benchmark: `agents` agents, `waiting` callers waiting in the second phase.
pub fn queue(agents: usize, waiting: usize, talk_secs: u64, seconds: u64) -> anyhow::Result<()> {
    let dir = std::env::temp_dir().join(format!("switchboard-bench-queue-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let r = run(&dir, agents, waiting, talk_secs, seconds);
    let _ = std::fs::remove_dir_all(&dir);
    r
}

fn run(
    dir: &Path,
    agents: usize,
    waiting: usize,
    talk_secs: u64,
    seconds: u64,
) -> anyhow::Result<()> {
    let trunk = UdpSocket::bind("127.0.0.1:0")?;
    let users: Vec<String> = (0..agents).map(|i| (30_000 + i).to_string()).collect();
    let started = Instant::now();
    let (server, sip, http) = start(dir, &users, trunk.local_addr()?)?;
    println!(
        "queue distributor: {agents} auto-answering agents, {talk_secs} s calls, longest-idle; server started in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    let pid = server.0.id();
    let setup = Instant::now();
    for u in &users {
        let token = login(http, u, &format!("p{u}"))?;
        let (status, body) = request(
            http,
            "PUT",
            "/api/agents/me/state",
            Some(&token),
            Some(r#"{"state":"ready"}"#),
        )?;
        if status != 200 {
            bail!("agent {u} could not get ready: {status} {body}");
        }
    }
    let shared = Arc::new(Shared::default());
    let agents_thread = queue_peers::agents(
        sip,
        users.clone(),
        Duration::from_secs(talk_secs),
        shared.clone(),
    )?;
    println!(
        "{} agents logged in, ready and registered in {:.1} s",
        agents,
        setup.elapsed().as_secs_f64()
    );
    let sup = login(http, "9999", "p9999")?;
    let customers = queue_peers::customers(trunk, sip, DID.to_string(), shared.clone())?;
    let mut phases = Vec::new();
    // Phase 1 keeps a few callers (5 % of the agents) waiting so that every
    // agent stays busy and both phases answer calls at the same rate.
    let spare = (agents / 20).max(1);
    for (label, target, sample) in [
        ("queue about empty".to_string(), agents + spare, false),
        (format!("{waiting} callers waiting"), agents + waiting, true),
    ] {
        shared.target.store(target, Ordering::Relaxed);
        // Let the system fill (callers arrive at 200/s) and settle for a talk time and a bit.
        std::thread::sleep(Duration::from_secs(talk_secs + 3 + target as u64 / 200));
        shared.sampling.store(sample, Ordering::Relaxed);
        phases.push(measure(&label, &shared, pid, http, &sup, seconds)?);
        shared.sampling.store(false, Ordering::Relaxed);
    }
    shared.stop.store(true, Ordering::Relaxed);
    let _ = agents_thread.join();
    let _ = customers.join();
    drop(server);
    println!();
    println!(
        "{:<24} {:>10} {:>12} {:>14} {:>12} {:>20}",
        "phase", "waiting", "answered/s", "server CPU %", "CPU ms/call", "API p50/p99 (ms)"
    );
    for p in &mut phases {
        let rate = p.answered as f64 / p.seconds;
        println!(
            "{:<24} {:>10} {:>12.1} {:>14.1} {:>12.3} {:>20}",
            p.label,
            p.waiting,
            rate,
            100.0 * p.cpu_ms / (p.seconds * 1000.0),
            p.cpu_ms / (p.answered.max(1) as f64),
            format!("{:.1}/{:.1}", pct(&mut p.api, 0.5), pct(&mut p.api, 0.99)),
        );
    }
    let mut offers = shared
        .offer_ms
        .lock()
        .map(|v| v.clone())
        .unwrap_or_default();
    println!(
        "offer latency with callers waiting (agent's BYE -> next INVITE to that agent): p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms over {} offers",
        pct(&mut offers, 0.5),
        pct(&mut offers, 0.99),
        pct(&mut offers, 1.0),
        offers.len()
    );
    println!(
        "customer calls refused: {}; offers refused by a busy agent: {}; agents' calls hung up by the server: {}",
        shared.refused.load(Ordering::Relaxed),
        shared.busy_refusals.load(Ordering::Relaxed),
        shared.hung_up_by_server.load(Ordering::Relaxed)
    );
    if let [a, b] = &phases[..] {
        println!(
            "ratio CPU per answered call, {} waiting / queue about empty: {:.2}x",
            b.waiting,
            (b.cpu_ms / b.answered.max(1) as f64) / (a.cpu_ms / a.answered.max(1) as f64)
        );
    }
    Ok(())
}

fn measure(
    label: &str,
    shared: &Shared,
    pid: u32,
    http: SocketAddr,
    token: &str,
    seconds: u64,
) -> anyhow::Result<Phase> {
    let hz = 100.0; // USER_HZ on Linux
    let t0 = Instant::now();
    let cpu0 = group_cpu_ticks(pid);
    let answered0 = shared.answered.load(Ordering::Relaxed);
    let mut api = Vec::new();
    let mut waiting = Vec::new();
    while t0.elapsed() < Duration::from_secs(seconds) {
        let t = Instant::now();
        let (status, _) = request(http, "GET", "/api/agents", Some(token), None)?;
        if status != 200 {
            bail!("GET /api/agents: {status}");
        }
        api.push(t.elapsed().as_secs_f64() * 1000.0);
        let in_system = shared.in_system.load(Ordering::Relaxed);
        waiting.push(in_system.saturating_sub(shared.busy.load(Ordering::Relaxed)));
        std::thread::sleep(Duration::from_millis(100).saturating_sub(t.elapsed()));
    }
    let secs = t0.elapsed().as_secs_f64();
    let cpu_ms = (group_cpu_ticks(pid) - cpu0) as f64 * 1000.0 / hz;
    waiting.sort_unstable();
    let p = Phase {
        label: label.to_string(),
        seconds: secs,
        cpu_ms,
        answered: shared.answered.load(Ordering::Relaxed) - answered0,
        waiting: waiting.get(waiting.len() / 2).copied().unwrap_or(0),
        api,
    };
    println!(
        "{label}: {} answered in {secs:.1} s, median {} waiting",
        p.answered, p.waiting
    );
    Ok(p)
}

/// Start the server with the agents, a supervisor (9999) and the campaign.
fn start(
    dir: &Path,
    users: &[String],
    trunk: SocketAddr,
) -> anyhow::Result<(Child, SocketAddr, SocketAddr)> {
    let mut cfg = format!(
        "[server]\nsip_addr = \"127.0.0.1:0\"\nhttp_addr = \"127.0.0.1:0\"\ndatabase = \"sqlite://{db}\"\n\
         data_dir = \"{data}\"\nrtp_port_min = 46000\nrtp_port_max = 59999\nrtp_timeout_secs = 0\nacw_secs = 0\n\
         sip_requests_per_second = 0\n\n\
         [[agents]]\nusername = \"9999\"\npassword = \"p9999\"\nsip_password = \"s9999\"\nrole = \"supervisor\"\n\n\
         [[trunks]]\nname = \"customers\"\naddress = \"{trunk}\"\ninbound_from = [\"{trunk}\"]\n\n\
         [[campaigns]]\nname = \"bench\"\nkind = \"inbound\"\ndid = \"{DID}\"\nstrategy = \"longest_idle\"\n\
         queue_timeout_secs = 3600\nacw_secs = 0\nauto_recording = false\nagents = [{members}]\n",
        db = dir.join("bench.db").display(),
        data = dir.join("data").display(),
        members = users.iter().map(|u| format!("\"{u}\"")).collect::<Vec<_>>().join(", "),
    );
    for u in users {
        cfg.push_str(&format!(
            "\n[[agents]]\nusername = \"{u}\"\npassword = \"p{u}\"\nsip_password = \"s{u}\"\n"
        ));
    }
    let path = dir.join("bench.toml");
    std::fs::write(&path, cfg)?;
    let mut cmd = Command::new(std::env::current_exe()?);
    // SWITCHBOARD_BENCH_LOG=<file> keeps the server's log there (level:
    // SWITCHBOARD_BENCH_LOG_LEVEL, warn by default).
    let log = match std::env::var_os("SWITCHBOARD_BENCH_LOG") {
        Some(f) => Stdio::from(std::fs::File::create(f)?),
        None => Stdio::null(),
    };
    let level = std::env::var("SWITCHBOARD_BENCH_LOG_LEVEL").unwrap_or_else(|_| "warn".into());
    cmd.args(["--config", &path.to_string_lossy()])
        .env("RUST_LOG", level)
        .stdout(Stdio::piped())
        .stderr(log);
    std::os::unix::process::CommandExt::process_group(&mut cmd, 0);
    let mut server = Child(cmd.spawn().context("starting the server")?);
    let mut line = String::new();
    std::io::BufRead::read_line(
        &mut std::io::BufReader::new(server.0.stdout.take().context("server stdout")?),
        &mut line,
    )?;
    let addr = |key: &str| -> anyhow::Result<SocketAddr> {
        line.split_whitespace()
            .find_map(|w| w.strip_prefix(key))
            .and_then(|a| a.parse().ok())
            .with_context(|| format!("unexpected ready line {line:?}"))
    };
    Ok((server, addr("sip=")?, addr("http=")?))
}

/// Log in and return the session token.
fn login(http: SocketAddr, user: &str, password: &str) -> anyhow::Result<String> {
    let body = format!(r#"{{"username":"{user}","password":"{password}"}}"#);
    let (status, text) = request(http, "POST", "/api/login", None, Some(&body))?;
    if status != 200 {
        bail!("login {user}: {status} {text}");
    }
    let v: serde_json::Value = serde_json::from_str(&text).context("login answer")?;
    v["token"]
        .as_str()
        .map(str::to_string)
        .context("login answer without a token")
}

/// One HTTP/1.1 request on its own connection: status and body.
fn request(
    http: SocketAddr,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: Option<&str>,
) -> anyhow::Result<(u16, String)> {
    let mut s = TcpStream::connect(http)?;
    s.set_read_timeout(Some(Duration::from_secs(30)))?;
    let auth = token
        .map(|t| format!("Authorization: Bearer {t}\r\n"))
        .unwrap_or_default();
    let body = body.unwrap_or("");
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nHost: {http}\r\n{auth}Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )?;
    let mut raw = Vec::new();
    s.read_to_end(&mut raw)?;
    let text = String::from_utf8_lossy(&raw);
    let status = text
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .context("HTTP status line")?;
    let body = text
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default();
    Ok((status, body))
}
