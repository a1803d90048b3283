//! Relay benchmark: how many RTP packets per second the engine relays and
//! how much CPU each one costs.
//!
//! The engine is driven over loopback by a load generator on its own OS
//! thread (plain blocking sockets, paced at 20 ms), so its CPU time can be
//! measured separately and subtracted from the process total. CPU times
//! come from `/proc` (Linux; 10 ms resolution), elsewhere they are `None`.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, SocketAddr, UdpSocket};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use crate::engine::{LegId, MediaConfig, MediaEngine};
use crate::g711::Codec;
use crate::rtp::{RtpHeader, G711_PACKET_LEN, HEADER_LEN};
use crate::{MediaError, FRAME_SAMPLES, SAMPLE_RATE};

/// What to benchmark.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BenchOptions {
    /// Two-party calls (2 legs each); ignored when `conference_legs > 0`.
    pub calls: usize,
    /// Measurement length in seconds.
    pub seconds: u64,
    /// Record every call (leg A of each pair, or every conference leg).
    pub record: bool,
    /// If non-zero, one conference room with this many legs instead of pairs.
    pub conference_legs: usize,
    /// Lowest engine port to use.
    pub port_min: u16,
    /// Highest engine port to use.
    pub port_max: u16,
}

impl Default for BenchOptions {
    fn default() -> Self {
        BenchOptions {
            calls: 50,
            seconds: 10,
            record: false,
            conference_legs: 0,
            port_min: 20000,
            port_max: 29999,
        }
    }
}

/// Benchmark results; `Display` prints a short human-readable summary.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct BenchReport {
    /// "relay" or "conference".
    pub mode: String,
    /// Engine legs driven.
    pub legs: usize,
    /// Whether calls were recorded.
    pub recording: bool,
    /// Wall-clock measurement time in seconds.
    pub seconds: f64,
    /// Packets the generator sent to the engine.
    pub packets_sent: u64,
    /// Packets the engine accepted.
    pub packets_in: u64,
    /// Packets the engine sent (relayed audio).
    pub packets_out: u64,
    /// Packets the generator received back.
    pub packets_received: u64,
    /// `packets_out` per second.
    pub relayed_per_sec: f64,
    /// Engine-sent packets that did not reach the generator, in percent.
    pub loss_percent: f64,
    /// Engine CPU seconds (process minus load generator).
    pub engine_cpu_secs: Option<f64>,
    /// Load generator CPU seconds.
    pub generator_cpu_secs: Option<f64>,
    /// Engine CPU microseconds per relayed packet.
    pub cpu_us_per_packet: Option<f64>,
    /// Set if the benchmark could not run.
    pub error: Option<String>,
}

impl fmt::Display for BenchReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(e) = &self.error {
            return write!(f, "{} bench failed: {e}", self.mode);
        }
        writeln!(
            f,
            "{} bench: {} legs, {:.1} s, recording {}",
            self.mode,
            self.legs,
            self.seconds,
            if self.recording { "on" } else { "off" }
        )?;
        writeln!(
            f,
            "  packets: sent {}, engine in {}, engine out {}, received {} (loss {:.2}%)",
            self.packets_sent,
            self.packets_in,
            self.packets_out,
            self.packets_received,
            self.loss_percent
        )?;
        writeln!(f, "  relayed: {:.0} packets/s", self.relayed_per_sec)?;
        match (self.engine_cpu_secs, self.cpu_us_per_packet, self.generator_cpu_secs) {
            (Some(cpu), Some(per), Some(gen)) => write!(
                f,
                "  cpu: engine {:.2} s ({:.1}% of one core), {:.2} us per relayed packet; generator {:.2} s",
                cpu,
                100.0 * cpu / self.seconds.max(f64::EPSILON),
                per,
                gen
            ),
            _ => write!(f, "  cpu: not available on this platform"),
        }
    }
}

/// Bridge `calls` pairs of legs and relay G.711 between them for `seconds`.
pub async fn relay_bench(calls: usize, seconds: u64) -> BenchReport {
    let opts = BenchOptions {
        calls,
        seconds,
        ..BenchOptions::default()
    };
    run_bench(&opts).await.unwrap_or_else(|e| failed(&opts, e))
}

/// One 10-leg conference for `seconds`.
pub async fn conference_bench(seconds: u64) -> BenchReport {
    let opts = BenchOptions {
        conference_legs: 10,
        seconds,
        ..BenchOptions::default()
    };
    run_bench(&opts).await.unwrap_or_else(|e| failed(&opts, e))
}

fn failed(opts: &BenchOptions, e: MediaError) -> BenchReport {
    BenchReport {
        mode: mode(opts).into(),
        error: Some(e.to_string()),
        ..BenchReport::default()
    }
}

fn mode(opts: &BenchOptions) -> &'static str {
    if opts.conference_legs > 0 {
        "conference"
    } else {
        "relay"
    }
}

/// Run a benchmark as described by `opts`.
pub async fn run_bench(opts: &BenchOptions) -> Result<BenchReport, MediaError> {
    let ip = IpAddr::V4(Ipv4Addr::LOCALHOST);
    let engine = MediaEngine::start(MediaConfig {
        bind_ip: ip,
        port_min: opts.port_min,
        port_max: opts.port_max,
        music_dir: None,
    })
    .await?;
    let legs_n = if opts.conference_legs > 0 {
        opts.conference_legs
    } else {
        opts.calls * 2
    };
    let mut legs: Vec<LegId> = Vec::with_capacity(legs_n);
    let mut clients = Vec::with_capacity(legs_n);
    let mut targets = Vec::with_capacity(legs_n);
    let conference = (opts.conference_legs > 0).then(|| engine.create_room());
    let mut room = 0;
    for i in 0..legs_n {
        let leg = engine.create_leg().await?;
        let client = UdpSocket::bind((ip, 0))?;
        client.set_nonblocking(true)?;
        engine.set_remote(leg.id, client.local_addr()?, Codec::Pcmu, None);
        match conference {
            Some(r) => engine.join(r, leg.id),
            None => {
                if i % 2 == 0 {
                    room = engine.create_room();
                }
                engine.join(room, leg.id);
            }
        }
        legs.push(leg.id);
        clients.push(client);
        targets.push(SocketAddr::new(ip, leg.local_port));
    }

    let rec_dir = std::env::temp_dir().join(format!("switchboard-bench-{}", std::process::id()));
    let mut recordings = Vec::new();
    if opts.record {
        let step = if conference.is_some() { 1 } else { 2 };
        for (i, &leg) in legs.iter().enumerate().step_by(step) {
            let path: PathBuf = rec_dir.join(format!("leg-{i}.wav"));
            recordings.push(engine.start_recording(leg, &path)?);
        }
    }

    let cpu0 = process_cpu_secs();
    let duration = Duration::from_secs(opts.seconds.max(1));
    let counters = (engine.clone(), legs.clone());
    let gen = tokio::task::spawn_blocking(move || {
        generate(&clients, &targets, duration, || {
            engine_totals(&counters.0, &counters.1)
        })
    })
    .await
    .map_err(|e| MediaError::Io(std::io::Error::other(e)))?;
    let cpu1 = process_cpu_secs();

    for rec in recordings {
        engine.stop_recording(rec);
    }
    for &leg in &legs {
        engine.destroy_leg(leg);
    }
    let _ = std::fs::remove_dir_all(&rec_dir);

    let packets_out = gen.engine_out;
    let engine_cpu = match (cpu0, cpu1, gen.cpu_secs) {
        (Some(a), Some(b), Some(g)) => Some((b - a - g).max(0.0)),
        _ => None,
    };
    Ok(BenchReport {
        mode: mode(opts).into(),
        legs: legs_n,
        recording: opts.record,
        seconds: gen.elapsed.as_secs_f64(),
        packets_sent: gen.sent,
        packets_in: gen.engine_in,
        packets_out,
        packets_received: gen.received,
        relayed_per_sec: packets_out as f64 / gen.elapsed.as_secs_f64().max(f64::EPSILON),
        loss_percent: if packets_out == 0 {
            0.0
        } else {
            100.0 * packets_out.saturating_sub(gen.received) as f64 / packets_out as f64
        },
        engine_cpu_secs: engine_cpu,
        generator_cpu_secs: gen.cpu_secs,
        cpu_us_per_packet: engine_cpu.map(|c| 1e6 * c / packets_out.max(1) as f64),
        error: None,
    })
}

/// Sum of (packets_in, packets_out) over `legs`.
fn engine_totals(engine: &MediaEngine, legs: &[LegId]) -> (u64, u64) {
    legs.iter()
        .filter_map(|&l| engine.stats(l))
        .fold((0, 0), |(i, o), s| (i + s.packets_in, o + s.packets_out))
}

/// Counters of one generator run.
struct GenResult {
    sent: u64,
    received: u64,
    engine_in: u64,
    engine_out: u64,
    elapsed: Duration,
    cpu_secs: Option<f64>,
}

/// Send one 20 ms PCMU packet per client every 20 ms and count replies;
/// `totals` reads the engine's (in, out) counters at start and end.
fn generate(
    clients: &[UdpSocket],
    targets: &[SocketAddr],
    duration: Duration,
    totals: impl Fn() -> (u64, u64),
) -> GenResult {
    let cpu0 = thread_cpu_secs();
    // One second of a 440 Hz tone, pre-encoded.
    let tone: Vec<u8> = (0..SAMPLE_RATE as usize)
        .map(|n| {
            let v = 6000.0 * (std::f64::consts::TAU * 440.0 * n as f64 / SAMPLE_RATE as f64).sin();
            Codec::Pcmu.encode_sample(v as i16)
        })
        .collect();
    let frames = tone.len() / FRAME_SAMPLES;
    let mut pkt = [0u8; G711_PACKET_LEN];
    let mut rbuf = [0u8; 2048];
    let (mut sent, mut received) = (0u64, 0u64);
    let ticks = (duration.as_millis() / 20) as u32;
    let drain = |received: &mut u64, rbuf: &mut [u8]| {
        for c in clients {
            while c.recv_from(rbuf).is_ok() {
                *received += 1;
            }
        }
    };
    // Discard silence the engine sent before the run started.
    drain(&mut 0, &mut rbuf);
    let (in0, out0) = totals();
    let start = Instant::now();
    for t in 0..ticks {
        let f = t as usize % frames;
        for (i, (c, to)) in clients.iter().zip(targets).enumerate() {
            let h = RtpHeader {
                payload_type: 0,
                marker: t == 0,
                sequence: t as u16,
                timestamp: t.wrapping_mul(FRAME_SAMPLES as u32),
                ssrc: i as u32 + 1,
            };
            if h.write(&mut pkt).is_ok() {
                pkt[HEADER_LEN..]
                    .copy_from_slice(&tone[f * FRAME_SAMPLES..(f + 1) * FRAME_SAMPLES]);
                if c.send_to(&pkt, to).is_ok() {
                    sent += 1;
                }
            }
        }
        drain(&mut received, &mut rbuf);
        let next = start + Duration::from_millis(20 * (t as u64 + 1));
        if let Some(wait) = next.checked_duration_since(Instant::now()) {
            std::thread::sleep(wait);
        }
    }
    let elapsed = start.elapsed();
    // Let in-flight packets arrive: the engine sends them after a tick.
    std::thread::sleep(Duration::from_millis(40));
    let (in1, out1) = totals();
    drain(&mut received, &mut rbuf);
    GenResult {
        sent,
        received,
        engine_in: in1 - in0,
        engine_out: out1 - out0,
        elapsed,
        cpu_secs: thread_cpu_secs().zip(cpu0).map(|(b, a)| b - a),
    }
}

/// utime + stime of a `/proc/.../stat` file, in seconds.
fn proc_cpu_secs(path: &str) -> Option<f64> {
    let s = std::fs::read_to_string(path).ok()?;
    // Fields after the parenthesised command name; utime/stime are the
    // 14th/15th fields overall, i.e. the 12th/13th after ')'.
    let rest = &s[s.rfind(')')? + 1..];
    let mut fields = rest.split_whitespace().skip(11);
    let utime: u64 = fields.next()?.parse().ok()?;
    let stime: u64 = fields.next()?.parse().ok()?;
    // USER_HZ is 100 on Linux for these files.
    Some((utime + stime) as f64 / 100.0)
}

/// CPU time of the whole process.
fn process_cpu_secs() -> Option<f64> {
    proc_cpu_secs("/proc/self/stat")
}

/// CPU time of the calling thread.
fn thread_cpu_secs() -> Option<f64> {
    proc_cpu_secs("/proc/thread-self/stat")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn proc_stat_parses() {
        if std::path::Path::new("/proc/self/stat").exists() {
            assert!(process_cpu_secs().is_some());
            assert!(thread_cpu_secs().is_some());
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn small_bench_runs() {
        for opts in [
            BenchOptions {
                calls: 3,
                seconds: 1,
                record: true,
                port_min: 41000,
                port_max: 41099,
                ..BenchOptions::default()
            },
            BenchOptions {
                conference_legs: 4,
                seconds: 1,
                port_min: 41100,
                port_max: 41199,
                ..BenchOptions::default()
            },
        ] {
            let r = run_bench(&opts).await.unwrap();
            let text = r.to_string();
            assert!(r.error.is_none(), "{text}");
            assert!(r.packets_sent >= r.legs as u64 * 45, "{text}");
            assert!(r.packets_out >= r.legs as u64 * 40, "{text}");
            assert!(r.packets_in >= r.packets_sent * 9 / 10, "{text}");
            assert!(r.loss_percent < 10.0, "{text}");
            assert!(text.contains("packets/s"));
        }
    }
}
