//! `switchboard bench relay`: the RTP relay of Switchboard and of rtpengine
//! (userspace), side by side in one run, driven by the same generator.
//!
//! Switchboard gets real SIP calls (agent 1001 -> server -> trunk, the
//! caller's and the trunk's RTP on the generator's two sockets);
//! rtpengine gets the same calls over its NG protocol. For each number of
//! concurrent calls (doubling), each relay carries them for a warm-up
//! second and then the measured seconds: CPU per relayed packet (the
//! relay's processes only), loss, and the largest loss-free (< 0.1%)
//! concurrency of each, with the ratio.

use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

use anyhow::Context;
use switchboard_sip::sdp::{self, AudioSdp, Direction};

use super::latency::{self, Uac};
use super::rtpengine::{self, Rtpengine};
use super::rtpgen::{self, Endpoints, Load};
use super::{free_port, group_cpu_ticks};

/// Loss below this is "loss-free" (percent).
const LOSS_FREE: f64 = 0.1;

/// One step's figures for one relay.
struct Step {
    calls: usize,
    load: Load,
}

impl Step {
    /// Share of the nominal load (2 x 50 packets/s per call) the generator
    /// managed to send.
    fn offered(&self) -> f64 {
        let nominal = self.calls as f64 * 100.0 * self.load.seconds;
        self.load.sent as f64 / nominal.max(1.0)
    }

    /// The generator sent at least 99% of the nominal load.
    fn full_load(&self) -> bool {
        self.offered() >= 0.99
    }

    fn cpu_us_per_packet(&self) -> f64 {
        let relayed = self.load.received.max(1) as f64;
        self.load.relay_ticks as f64 * 10_000.0 / relayed
    }

    fn print(&self, label: &str) {
        let l = &self.load;
        println!(
            "  {label:<12} {:>5} calls: {:>7.0} packets/s relayed, loss {:>6.3}%, relay cpu {:>5.1}% of a core = {:>5.2} us/packet; generator cpu {:>4.1}%{}",
            self.calls,
            l.received as f64 / l.seconds.max(0.001),
            l.loss_percent(),
            100.0 * l.relay_ticks as f64 / 100.0 / l.seconds.max(0.001),
            self.cpu_us_per_packet(),
            100.0 * l.cpu_secs / l.seconds.max(0.001),
            if self.full_load() {
                String::new()
            } else {
                format!(
                    " (offered {:.0}% of the load: the generator is the limit)",
                    100.0 * self.offered()
                )
            }
        );
    }
}

/// Drive `pairs` for a warm-up second, then measure `seconds`, charging
/// the CPU of process group `pgid` (the relay under test).
fn measure(ep: &Endpoints, pairs: &[(SocketAddr, SocketAddr)], seconds: u64, pgid: u32) -> Load {
    rtpgen::run(
        ep,
        pairs,
        Duration::from_secs(1),
        Duration::from_secs(seconds),
        || group_cpu_ticks(pgid),
    )
}

/// Switchboard's calls for one step: established through SIP.
fn switchboard_step(
    server: SocketAddr,
    trunk: &latency::Trunk,
    ep: &Endpoints,
    calls: usize,
    seconds: u64,
    pgid: u32,
) -> anyhow::Result<Step> {
    let uac = Uac::new(server)?;
    trunk.offers.lock().map(|mut o| o.clear()).ok();
    let mut established = Vec::with_capacity(calls);
    let mut to_a = Vec::with_capacity(calls);
    for i in 0..calls {
        let (call, _) = uac
            .establish(ep.a_port())
            .with_context(|| format!("Switchboard call {i}"))?;
        let answer = AudioSdp::parse(&call.answer)
            .map_err(|e| anyhow::anyhow!("server SDP answer: {e:?}"))?;
        to_a.push(answer.socket_addr());
        established.push(call);
    }
    let to_b = trunk.offers.lock().map(|o| o.clone()).unwrap_or_default();
    anyhow::ensure!(to_b.len() == calls, "the trunk saw {} calls", to_b.len());
    let pairs: Vec<_> = to_a.into_iter().zip(to_b).collect();
    let load = measure(ep, &pairs, seconds, pgid);
    for call in &established {
        uac.hang_up(call)?;
    }
    Ok(Step { calls, load })
}

/// rtpengine's calls for one step: offer/answer over NG.
fn rtpengine_step(
    engine: &mut Rtpengine,
    ep: &Endpoints,
    calls: usize,
    seconds: u64,
    step: usize,
) -> anyhow::Result<Step> {
    let ip = "127.0.0.1".parse().expect("literal address");
    let a_sdp = String::from_utf8_lossy(&sdp::build(
        ip,
        ep.a_port(),
        1,
        1,
        &[0],
        None,
        Direction::SendRecv,
    ))
    .into_owned();
    let b_sdp = String::from_utf8_lossy(&sdp::build(
        ip,
        ep.b_port(),
        2,
        1,
        &[0],
        None,
        Direction::SendRecv,
    ))
    .into_owned();
    let mut pairs = Vec::with_capacity(calls);
    let ids: Vec<String> = (0..calls).map(|i| format!("bench-{step}-{i}")).collect();
    for id in &ids {
        pairs.push(engine.call(id, &a_sdp, &b_sdp)?);
    }
    let pgid = engine.child.0.id();
    let load = measure(ep, &pairs, seconds, pgid);
    for id in &ids {
        engine.delete(id)?;
    }
    Ok(Step { calls, load })
}

/// Run the relay benchmark from `start` concurrent calls, doubling up to
/// `max` or until both relays lose packets.
pub fn relay(start: usize, max: usize, seconds: u64, anchors: bool) -> anyhow::Result<()> {
    let dir = std::env::temp_dir().join(format!("switchboard-relay-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let result = run(&dir, start, max, seconds, anchors);
    let _ = std::fs::remove_dir_all(&dir);
    result
}

fn run(dir: &Path, start: usize, max: usize, seconds: u64, anchors: bool) -> anyhow::Result<()> {
    let ep = Endpoints::new()?;
    let trunk = latency::trunk_answering(ep.b_port())?;
    let (server, sip_port) = super::sip::start_switchboard(dir, trunk.addr.port())?;
    let sb_addr: SocketAddr = ([127, 0, 0, 1], sip_port).into();
    let sb_pgid = server.0.id();
    let mut anchor = if anchors && rtpengine::available() {
        Some(Rtpengine::start(dir, free_port()?, (20000, 45999))?)
    } else {
        if anchors {
            println!("rtpengine is not installed (apt-get install rtpengine-daemon): no anchor in this run");
        }
        None
    };
    println!(
        "RTP relay: G.711 calls, 2 x 50 packets/s each, {seconds} s per step after 1 s of warm-up; one generator thread drives both relays."
    );
    let (mut sb_steps, mut rtpe_steps) = (Vec::new(), Vec::new());
    let mut calls = start.max(1);
    let mut step = 0;
    while calls <= max {
        let sb = switchboard_step(sb_addr, &trunk, &ep, calls, seconds, sb_pgid)?;
        sb.print("Switchboard");
        let sb_lossy = sb.load.loss_percent() >= LOSS_FREE;
        sb_steps.push(sb);
        let mut rtpe_lossy = true;
        if let Some(engine) = anchor.as_mut() {
            let r = rtpengine_step(engine, &ep, calls, seconds, step)?;
            r.print("rtpengine");
            rtpe_lossy = r.load.loss_percent() >= LOSS_FREE;
            rtpe_steps.push(r);
        }
        if sb_lossy && rtpe_lossy {
            break;
        }
        calls *= 2;
        step += 1;
    }
    summary(&sb_steps, &rtpe_steps);
    drop(server);
    Ok(())
}

fn best(steps: &[Step]) -> Option<&Step> {
    steps
        .iter()
        .filter(|s| s.load.loss_percent() < LOSS_FREE && s.full_load())
        .max_by_key(|s| s.calls)
}

fn summary(sb: &[Step], rtpe: &[Step]) {
    let (Some(b), r) = (best(sb), best(rtpe)) else {
        println!("Switchboard lost packets at every step");
        return;
    };
    println!(
        "Largest loss-free concurrency: Switchboard {} calls",
        b.calls
    );
    let Some(r) = r else {
        return;
    };
    println!(
        "  rtpengine {} calls: ratio {:.2}x (a step limited by the generator does not count)",
        r.calls,
        b.calls as f64 / r.calls as f64
    );
    for s in sb {
        if let Some(o) = rtpe.iter().find(|o| o.calls == s.calls) {
            println!(
                "  CPU per relayed packet at {} calls: Switchboard {:.2} us, rtpengine {:.2} us: ratio {:.2}x",
                s.calls,
                s.cpu_us_per_packet(),
                o.cpu_us_per_packet(),
                s.cpu_us_per_packet() / o.cpu_us_per_packet().max(f64::EPSILON)
            );
        }
    }
}
