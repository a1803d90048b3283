//! Targets for the media engine's per-packet state machines: the jitter
//! buffer, the outgoing stream numbering and the recording timeline. Each
//! reads a little program of operations from the input (see each target) so
//! the fuzzer controls packet order, gaps, duplicates, source changes,
//! wrapping timestamps and the passing of time.

use std::time::{Duration, Instant};

use arbitrary::Unstructured;
use switchboard_media::forward::OutStream;
use switchboard_media::jitter::JitterBuffer;
use switchboard_media::timeline::{Channel, Timeline};

/// A new timestamp from the previous one: `mode` picks a normal step, a
/// reordering step back, a small jump or an absolute value.
fn next_ts(u: &mut Unstructured<'_>, prev: u32, step: u32) -> u32 {
    match u.arbitrary::<u8>().unwrap_or(0) % 4 {
        0 => prev.wrapping_add(step),
        1 => prev.wrapping_sub(step),
        2 => prev.wrapping_add(i32::from(u.arbitrary::<i16>().unwrap_or(0)) as u32),
        _ => u.arbitrary::<u32>().unwrap_or(0),
    }
}

/// Target `jitter`: operations on one jitter buffer; it must never panic.
///
/// Operations (first byte of each): push a packet (source, timestamp step,
/// arrival step, length up to 2000 samples), pop up to 8 frames, clear, or
/// read the gauges.
pub fn jitter(data: &[u8]) {
    let mut u = Unstructured::new(data);
    let mut jb = JitterBuffer::new();
    let ssrcs = [1u32, 2, u32::MAX];
    let mut ts = 0u32;
    let mut arrival = 0u32;
    while !u.is_empty() {
        match u.arbitrary::<u8>().unwrap_or(0) % 4 {
            0 | 1 => {
                let ssrc = ssrcs[usize::from(u.arbitrary::<u8>().unwrap_or(0)) % ssrcs.len()];
                let len = usize::from(u.arbitrary::<u16>().unwrap_or(160) % 2000);
                ts = next_ts(&mut u, ts, len as u32);
                arrival = arrival.wrapping_add(u32::from(u.arbitrary::<u16>().unwrap_or(160)));
                let samples = vec![(ts & 0x7fff) as i16; len];
                jb.push(ssrc, ts, arrival, &samples);
            }
            2 => {
                for _ in 0..=(u.arbitrary::<u8>().unwrap_or(0) % 8) {
                    let _ = jb.pop();
                }
            }
            _ => {
                if u.arbitrary::<bool>().unwrap_or(false) {
                    jb.clear();
                }
                let _ = (jb.depth(), jb.target(), jb.jitter_samples(), jb.stats());
            }
        }
    }
}

/// Target `forward`: operations on one leg's outgoing stream; it must never
/// panic.
///
/// Operations: a forwarded packet (one of 3 legs x 2 SSRCs, sequence and
/// timestamp steps, sample count), a mixed frame (sent or suppressed), a
/// marker request, a generated event, or time passing (up to ~70 minutes).
pub fn forward(data: &[u8]) {
    let mut u = Unstructured::new(data);
    let base = Instant::now();
    let mut elapsed = Duration::ZERO;
    let mut out = OutStream::new(
        0x1234_5678,
        u.arbitrary().unwrap_or(0),
        u.arbitrary().unwrap_or(0),
    );
    let mut seq = [0u16; 6];
    let mut ts = [0u32; 6];
    while !u.is_empty() {
        let now = base + elapsed;
        match u.arbitrary::<u8>().unwrap_or(0) % 6 {
            0 | 1 => {
                let src = usize::from(u.arbitrary::<u8>().unwrap_or(0)) % 6;
                let source = ((src / 2) as u64, [7u32, 0xdead_beef][src % 2]);
                let samples = u32::from(u.arbitrary::<u16>().unwrap_or(160) % 1000);
                seq[src] = match u.arbitrary::<u8>().unwrap_or(0) % 3 {
                    0 => seq[src].wrapping_add(1),
                    1 => seq[src].wrapping_add(i16::from(u.arbitrary::<i8>().unwrap_or(0)) as u16),
                    _ => u.arbitrary().unwrap_or(0),
                };
                ts[src] = next_ts(&mut u, ts[src], samples);
                let _ = out.forward(now, source, seq[src], ts[src], samples);
            }
            2 => {
                let samples = if u.arbitrary::<bool>().unwrap_or(true) {
                    160
                } else {
                    u32::from(u.arbitrary::<u16>().unwrap_or(0))
                };
                let _ = out.mixed(now, samples);
                if u.arbitrary::<bool>().unwrap_or(true) {
                    out.sent();
                }
            }
            3 => out.mark(),
            4 => {
                let at = out
                    .current_ts()
                    .wrapping_add(i32::from(u.arbitrary::<i16>().unwrap_or(0)) as u32);
                let _ = out.event(at, u.arbitrary().unwrap_or(false));
            }
            _ => {
                elapsed += Duration::from_micros(u64::from(u.arbitrary::<u32>().unwrap_or(20_000)));
            }
        }
        let _ = out.ssrc();
    }
}

/// Target `timeline`: operations on one recording timeline.
///
/// Operations: time passing (up to 8 s), a packet of up to 1000 samples from
/// one of 4 sources on either channel (placed where [`Timeline::position`]
/// says), a tick, or the end of the recording.
///
/// Asserts that what was written out adds up to [`Timeline::written`] and
/// that the position written never goes back.
pub fn timeline(data: &[u8]) {
    let mut u = Unstructured::new(data);
    let mut t = Timeline::new();
    let mut now = 0u64;
    let mut ts = [0u32; 4];
    let mut total = 0u64;
    let mut last_written = 0u64;
    while !u.is_empty() {
        let mut count = |s: &[(i16, i16)]| total += s.len() as u64;
        match u.arbitrary::<u8>().unwrap_or(0) % 5 {
            0 => now += u64::from(u.arbitrary::<u16>().unwrap_or(160) % 16_000),
            1 | 2 => {
                let src = usize::from(u.arbitrary::<u8>().unwrap_or(0)) % 4;
                let channel = if u.arbitrary::<bool>().unwrap_or(false) {
                    Channel::Left
                } else {
                    Channel::Right
                };
                let len = usize::from(u.arbitrary::<u16>().unwrap_or(160) % 1000);
                ts[src] = next_ts(&mut u, ts[src], len as u32);
                let pos = t.position(channel, src as u64, ts[src], now);
                let samples = vec![src as i16 + 1; len];
                t.place(channel, pos, &samples, &mut count);
            }
            3 => t.tick(now, &mut count),
            _ => t.finish(&mut count),
        }
        assert_eq!(total, t.written(), "samples written out vs written()");
        assert!(t.written() >= last_written, "written position went back");
        last_written = t.written();
        let _ = t.late_samples();
    }
}
