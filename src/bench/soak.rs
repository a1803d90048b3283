//! `switchboard bench soak`: calls with media at a steady rate for a long
//! time (30 minutes by default; not in CI): failed calls, and the server's
//! memory at the start, at the end and after a minute idle, which should
//! stay flat. The caller (agent 1001, digest auth) streams an A-law tone
//! with sipp's `rtp_stream`; the sipp trunk echoes RTP back
//! (`-rtp_echo`), so both directions cross the media engine
//! (PCMA<->PCMU transcoded) for every call's whole length.

use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::Context;
use switchboard_media::Codec;

use super::sip::start_switchboard;
use super::{free_port, last_stats, which};

/// Write one second of a 440 Hz tone as raw A-law (what `rtp_stream` plays).
fn alaw_tone(path: &Path) -> anyhow::Result<()> {
    let pcm: Vec<i16> = (0..8000)
        .map(|n| (8000.0 * (std::f64::consts::TAU * 440.0 * f64::from(n) / 8000.0).sin()) as i16)
        .collect();
    let mut out = vec![0u8; pcm.len()];
    Codec::Pcma.encode(&pcm, &mut out);
    std::fs::write(path, out)?;
    Ok(())
}

/// Resident memory of a process, MB.
fn rss_mb(pid: u32) -> u64 {
    super::load::rss_kb(pid) / 1024
}

/// `rate` calls/s of `hold` s each, for `minutes`.
pub fn soak(rate: u32, hold: u32, minutes: u32) -> anyhow::Result<()> {
    which("sipp")?;
    let dir = std::env::temp_dir().join(format!("switchboard-soak-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let alaw = dir.join("tone.alaw");
    alaw_tone(&alaw)?;
    let uac = dir.join("uac_auth_rtp.xml");
    std::fs::write(
        &uac,
        include_str!("../../benches/sipp/uac_auth_rtp.xml")
            .replace("@ALAW_FILE@", &alaw.to_string_lossy()),
    )?;
    // The trunk echoes every call's RTP back on one media port.
    let echo = [
        "-mp".to_string(),
        free_port()?.to_string(),
        "-rtp_echo".to_string(),
    ];
    let (_trunk, trunk_port) = super::load::trunk(&dir, &echo)?;
    let (server, port) = start_switchboard(&dir, trunk_port)?;
    let pid = server.0.id();
    let calls = u64::from(rate) * u64::from(minutes) * 60;
    println!(
        "Soak: {rate} calls/s of {hold} s with RTP both ways (~{} concurrent calls) for {minutes} min, {calls} calls",
        rate * hold
    );
    let stat = dir.join("stat.csv");
    let mut sipp = super::load::caller_command(&uac, port, rate, calls, hold * 1000, &stat, 10)?
        .spawn()
        .context("running sipp")?;
    let start = Instant::now();
    // The first reading once the calls in progress have built up.
    std::thread::sleep(Duration::from_secs(u64::from(hold) + 20));
    let rss_start = rss_mb(pid);
    println!(
        "after {} s: RSS {} MB",
        start.elapsed().as_secs(),
        rss_start
    );
    let mut last = Instant::now();
    while sipp.try_wait()?.is_none() {
        std::thread::sleep(Duration::from_secs(1));
        if last.elapsed() >= Duration::from_secs(60) {
            last = Instant::now();
            let (ok, failed, _) = last_stats(&stat).unwrap_or_default();
            println!(
                "after {} s: {ok} calls done, {failed} failed, RSS {} MB",
                start.elapsed().as_secs(),
                rss_mb(pid)
            );
        }
    }
    let rss_end = rss_mb(pid);
    let (ok, failed, retrans) = last_stats(&stat).context("reading sipp's statistics")?;
    std::thread::sleep(Duration::from_secs(60));
    let rss_idle = rss_mb(pid);
    println!(
        "done: {ok} calls completed, {failed} failed, {retrans} retransmissions; RSS {rss_start} MB at the start, \
         {rss_end} MB at the end ({:+.0}%), {rss_idle} MB after 60 s idle",
        (rss_end as f64 / rss_start.max(1) as f64 - 1.0) * 100.0
    );
    drop(server);
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}
