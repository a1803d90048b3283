//! `switchboard bench`: the figures quoted in the README, measured, never
//! asserted in tests.
//!
//! - `sip`: RFC 7502-style session establishment rate of Switchboard and of
//!   Kamailio in the same run (see `sip.rs`).
//! - `media`: relayed G.711 packets per second and CPU per packet with N
//!   concurrent calls, with and without recording, and a 10-party conference.
//! - `relay`: the RTP relay with real SIP calls and an external generator,
//!   beside rtpengine in the same run (see `relay.rs`).
//! - `soak`: calls with media at a steady rate for a long time: failed calls
//!   and memory at the start and the end (see `soak.rs`).
//! - `overload` and `memory`: offered load above the sustainable rate, and
//!   memory after many calls (see `load.rs`).

use std::path::Path;

use anyhow::bail;
use clap::{Args, Subcommand};
use switchboard_media::bench::{run_bench, BenchOptions};

mod kamailio;
mod latency;
mod load;
mod queue;
mod queue_peers;
mod relay;
mod rtpengine;
mod rtpgen;
mod sip;
mod soak;

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
        #[arg(long, default_value_t = 100)]
        start: u32,
        /// Highest offered rate.
        #[arg(long, default_value_t = 3200)]
        max: u32,
        /// Seconds per step.
        #[arg(long, default_value_t = 10)]
        seconds: u32,
        /// Skip the Kamailio run that is made in the same run as an anchor.
        #[arg(long)]
        no_anchor: bool,
    },
    /// Offer more calls than the server sustains: what completes, what gets 503.
    Overload {
        /// The sustainable rate (calls/s) measured by `bench sip`.
        #[arg(long, default_value_t = 800)]
        rate: u32,
        /// Offered rate as a multiple of `rate`.
        #[arg(long, default_value_t = 2)]
        factor: u32,
        /// Seconds of offered load.
        #[arg(long, default_value_t = 30)]
        seconds: u32,
    },
    /// Server memory after the first 1,000 calls and after many calls plus 60 s idle.
    Memory {
        /// Calls in total.
        #[arg(long, default_value_t = 100_000)]
        calls: u64,
        /// Calls per second.
        #[arg(long, default_value_t = 800)]
        rate: u32,
    },
    /// RTP relay with real SIP calls beside rtpengine (userspace) in the same run.
    Relay {
        /// First number of concurrent calls.
        #[arg(long, default_value_t = 100)]
        start: usize,
        /// Highest number of concurrent calls.
        #[arg(long, default_value_t = 3200)]
        max: usize,
        /// Measured seconds per step.
        #[arg(long, default_value_t = 10)]
        seconds: u64,
        /// Skip the rtpengine run made in the same run as an anchor.
        #[arg(long)]
        no_anchor: bool,
    },
    /// Calls with RTP both ways at a steady rate for a long time: failures and memory.
    Soak {
        /// Calls per second.
        #[arg(long, default_value_t = 20)]
        rate: u32,
        /// Seconds per call.
        #[arg(long, default_value_t = 10)]
        hold: u32,
        /// Minutes of load.
        #[arg(long, default_value_t = 30)]
        minutes: u32,
    },
    /// The queue distributor with many agents and callers waiting: CPU, offer and API latency.
    Queue {
        /// Registered auto-answering agents in the campaign.
        #[arg(long, default_value_t = 400)]
        agents: usize,
        /// Callers waiting in the second phase.
        #[arg(long, default_value_t = 1000)]
        waiting: usize,
        /// Seconds each call lasts once answered.
        #[arg(long, default_value_t = 5)]
        talk: u64,
        /// Measured seconds per phase.
        #[arg(long, default_value_t = 20)]
        seconds: u64,
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
            no_anchor,
        }) => sip::sip(start, max, seconds, !no_anchor),
        Some(What::Media { calls, seconds }) => media(calls, seconds).await,
        Some(What::Relay {
            start,
            max,
            seconds,
            no_anchor,
        }) => relay::relay(start, max, seconds, !no_anchor),
        Some(What::Overload {
            rate,
            factor,
            seconds,
        }) => load::overload(rate, factor, seconds),
        Some(What::Memory { calls, rate }) => load::memory(calls, rate),
        Some(What::Queue {
            agents,
            waiting,
            talk,
            seconds,
        }) => queue::queue(agents, waiting, talk, seconds),
        Some(What::Soak {
            rate,
            hold,
            minutes,
        }) => soak::soak(rate, hold, minutes),
        None => {
            media(100, 5).await?;
            sip::sip(100, 3200, 10, true)
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

/// A free UDP port on loopback.
pub(crate) fn free_port() -> anyhow::Result<u16> {
    Ok(std::net::UdpSocket::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}

/// User+system CPU ticks (10 ms) of every process in process group `pgid`.
pub(crate) fn group_cpu_ticks(pgid: u32) -> u64 {
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return 0;
    };
    dir.flatten()
        .filter_map(|e| std::fs::read_to_string(e.path().join("stat")).ok())
        .filter_map(|stat| {
            let rest = stat.rsplit_once(')')?.1.to_string();
            let f: Vec<&str> = rest.split_whitespace().collect();
            let pgrp: u32 = f.get(2)?.parse().ok()?;
            (pgrp == pgid).then(|| {
                f.get(11).and_then(|v| v.parse::<u64>().ok()).unwrap_or(0)
                    + f.get(12).and_then(|v| v.parse::<u64>().ok()).unwrap_or(0)
            })
        })
        .sum()
}

/// A child process killed when dropped.
pub(crate) struct Child(pub std::process::Child);
impl Drop for Child {
    fn drop(&mut self) {
        // A peer started in a process group of its own (Kamailio forks
        // workers) goes with its whole group; for the others this is a
        // no-op (no such group).
        if let Ok(pid) = i32::try_from(self.0.id()) {
            // SAFETY: killpg only sends a signal; a stale or foreign pgid fails with ESRCH.
            unsafe {
                libc::killpg(pid, libc::SIGKILL);
            }
        }
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The last line of a sipp `-trace_stat` CSV, as a lookup by column name.
pub(crate) fn sipp_stats(path: &Path) -> Option<impl Fn(&str) -> Option<u64>> {
    let text = std::fs::read_to_string(path).ok()?;
    let mut lines = text.lines();
    let header: Vec<String> = lines.next()?.split(';').map(str::to_string).collect();
    let last: Vec<String> = lines
        .rfind(|l| !l.trim().is_empty())?
        .split(';')
        .map(str::to_string)
        .collect();
    Some(move |name: &str| {
        header
            .iter()
            .position(|h| h == name)
            .and_then(|i| last.get(i))
            .and_then(|v| v.trim().parse::<u64>().ok())
    })
}

/// Successful, failed and retransmitted counts of a sipp run.
pub(crate) fn last_stats(path: &Path) -> Option<(u64, u64, u64)> {
    let get = sipp_stats(path)?;
    Some((
        get("SuccessfulCall(C)")?,
        get("FailedCall(C)")?,
        get("Retransmissions(C)").unwrap_or(0),
    ))
}

pub(crate) fn which(bin: &str) -> anyhow::Result<()> {
    let ok = std::env::var_os("PATH")
        .is_some_and(|p| std::env::split_paths(&p).any(|d| d.join(bin).exists()));
    if !ok {
        bail!("{bin} is not installed (apt-get install sip-tester)");
    }
    Ok(())
}
