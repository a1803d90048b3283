//! `switchboard bench`: the figures quoted in the README, measured, never
//! asserted in tests.
//!
//! - `sip`: RFC 7502-style session establishment rate. A switchboard child
//!   process routes calls from a sipp UAC (agent 1001, digest auth) to a sipp
//!   UAS (the trunk); the offered rate steps up until a step has failures;
//!   prints the highest rate with zero failures and the server's CPU per call.
//! - `media`: relayed G.711 packets per second and CPU per packet with N
//!   concurrent calls, with and without recording, and a 10-party conference.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use clap::{Args, Subcommand};
use switchboard_media::bench::{run_bench, BenchOptions};

/// Bench options.
#[derive(Args, Debug)]
pub struct BenchArgs {
    #[command(subcommand)]
    what: Option<What>,
}

#[derive(Subcommand, Debug)]
enum What {
    /// SIP call rate through the B2BUA (needs sipp).
    Sip {
        /// First offered rate (calls/s).
        #[arg(long, default_value_t = 50)]
        start: u32,
        /// Highest offered rate.
        #[arg(long, default_value_t = 800)]
        max: u32,
        /// Seconds per step.
        #[arg(long, default_value_t = 5)]
        seconds: u32,
    },
    /// RTP relay and conference capacity.
    Media {
        /// Concurrent relayed calls.
        #[arg(long, default_value_t = 100)]
        calls: usize,
        /// Seconds per measurement.
        #[arg(long, default_value_t = 5)]
        seconds: u64,
    },
}

/// Run the chosen benchmarks (all by default) and print their figures.
pub async fn run(args: BenchArgs) -> anyhow::Result<()> {
    match args.what {
        Some(What::Sip {
            start,
            max,
            seconds,
        }) => sip(start, max, seconds),
        Some(What::Media { calls, seconds }) => media(calls, seconds).await,
        None => {
            media(100, 5).await?;
            sip(50, 800, 5)
        }
    }
}

async fn media(calls: usize, seconds: u64) -> anyhow::Result<()> {
    for record in [false, true] {
        let r = run_bench(&BenchOptions {
            calls,
            seconds,
            record,
            conference_legs: 0,
            port_min: 42000,
            port_max: 45999,
        })
        .await?;
        println!("{r}");
    }
    let r = run_bench(&BenchOptions {
        calls: 0,
        seconds,
        record: false,
        conference_legs: 10,
        port_min: 42000,
        port_max: 45999,
    })
    .await?;
    println!("{r}");
    Ok(())
}

fn free_port() -> anyhow::Result<u16> {
    Ok(std::net::UdpSocket::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}

fn cpu_ticks(pid: u32) -> anyhow::Result<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))?;
    let rest = stat.rsplit_once(')').map(|x| x.1).unwrap_or_default();
    let f: Vec<&str> = rest.split_whitespace().collect();
    Ok(f.get(11).and_then(|v| v.parse::<u64>().ok()).unwrap_or(0)
        + f.get(12).and_then(|v| v.parse::<u64>().ok()).unwrap_or(0))
}

struct Child(std::process::Child);
impl Drop for Child {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn sip(start: u32, max: u32, seconds: u32) -> anyhow::Result<()> {
    which("sipp")?;
    let dir = std::env::temp_dir().join(format!("switchboard-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let (uas_port, uac_port) = (free_port()?, free_port()?);
    let cfg = format!(
        "[server]\nsip_addr = \"127.0.0.1:0\"\nhttp_addr = \"127.0.0.1:0\"\ndatabase = \"sqlite://{db}\"\ndata_dir = \"{data}\"\nrtp_port_min = 46000\nrtp_port_max = 59999\n\
         [[agents]]\nusername = \"1001\"\npassword = \"pw1001\"\nsip_password = \"secret1001\"\n\
         [[trunks]]\nname = \"sipp\"\naddress = \"127.0.0.1:{uas_port}\"\n",
        db = dir.join("bench.db").display(),
        data = dir.join("data").display()
    );
    let cfg_path = dir.join("bench.toml");
    std::fs::write(&cfg_path, cfg)?;
    let mut server = Child(
        Command::new(std::env::current_exe()?)
            .args(["--config", &cfg_path.to_string_lossy()])
            .env("RUST_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .context("starting the server")?,
    );
    let mut line = String::new();
    BufReader::new(server.0.stdout.take().context("server stdout")?).read_line(&mut line)?;
    let sip_port: u16 = line
        .split_whitespace()
        .find_map(|w| w.strip_prefix("sip=127.0.0.1:"))
        .and_then(|p| p.parse().ok())
        .with_context(|| format!("unexpected ready line {line:?}"))?;
    let pid = server.0.id();
    let _uas = Child(
        Command::new("sipp")
            .args([
                "-sn",
                "uas",
                "-i",
                "127.0.0.1",
                "-p",
                &uas_port.to_string(),
                "-nostdin",
                "-buff_size",
                "4194304",
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()?,
    );
    std::thread::sleep(Duration::from_millis(500));
    let scenario = scenario_path()?;
    println!(
        "SIP call rate (agent 1001 -> switchboard -> trunk), {seconds} s per step, 1 s calls:"
    );
    println!(
        "{:>8} {:>10} {:>8} {:>8} {:>14}",
        "offered", "successful", "failed", "retrans", "CPU ms/call"
    );
    let mut best = None;
    let mut rate = start;
    while rate <= max {
        let calls = rate * seconds;
        let before = cpu_ticks(pid)?;
        let t0 = Instant::now();
        let stat = dir.join(format!("stat-{rate}.csv"));
        let out = Command::new("sipp")
            .args([
                &format!("127.0.0.1:{sip_port}"),
                "-sf",
                &scenario.to_string_lossy(),
                "-s",
                "5551234",
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
                "4194304",
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
        let ticks = cpu_ticks(pid)? - before;
        let (ok, failed, retrans) = last_stats(&stat).unwrap_or((0, calls as u64, 0));
        let cpu_ms = ticks as f64 * 10.0 / ok.max(1) as f64;
        println!(
            "{rate:>8} {ok:>10} {failed:>8} {retrans:>8} {cpu_ms:>14.3}   ({:.1} s, sipp exit {})",
            t0.elapsed().as_secs_f64(),
            out.code().unwrap_or(-1)
        );
        if failed > 0 || ok < calls as u64 {
            break;
        }
        best = Some(rate);
        rate *= 2;
    }
    match best {
        Some(r) => println!("highest rate with zero failures: {r} calls/s"),
        None => println!("no step completed without failures"),
    }
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}

fn last_stats(path: &Path) -> Option<(u64, u64, u64)> {
    let text = std::fs::read_to_string(path).ok()?;
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next()?.split(';').collect();
    let last: Vec<&str> = lines.rfind(|l| !l.trim().is_empty())?.split(';').collect();
    let get = |name: &str| {
        header
            .iter()
            .position(|h| *h == name)
            .and_then(|i| last.get(i))
            .and_then(|v| v.trim().parse::<u64>().ok())
    };
    Some((
        get("SuccessfulCall(C)")?,
        get("FailedCall(C)")?,
        get("Retransmissions(C)").unwrap_or(0),
    ))
}

fn which(bin: &str) -> anyhow::Result<()> {
    let ok = std::env::var_os("PATH")
        .is_some_and(|p| std::env::split_paths(&p).any(|d| d.join(bin).exists()));
    if !ok {
        bail!("{bin} is not installed (apt-get install sip-tester)");
    }
    Ok(())
}

fn scenario_path() -> anyhow::Result<PathBuf> {
    let p = std::env::temp_dir().join(format!("switchboard-bench-uac-{}.xml", std::process::id()));
    std::fs::write(&p, include_str!("../benches/sipp/uac_auth.xml"))?;
    Ok(p)
}
