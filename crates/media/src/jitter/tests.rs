use super::*;

const SSRC: u32 = 0x1234_5678;

/// A packet of `len` samples whose values are their own stream position
/// (so order can be checked), stamped `ts0 + pos`.
fn packet(pos: u32, len: u32) -> Vec<i16> {
    (pos..pos + len).map(|p| (p % 30_000) as i16).collect()
}

/// Push the packet covering positions `pos..pos+len`, arriving on time.
fn push(b: &mut JitterBuffer, ts0: u32, pos: u32, len: u32) {
    b.push(SSRC, ts0.wrapping_add(pos), pos, &packet(pos, len));
}

/// The frame holds stream positions `first..first+160` (as [`packet`] wrote them).
fn assert_continuous(frame: &Frame, first: i16) {
    for (i, s) in frame.iter().enumerate() {
        let want = ((first as u32 + i as u32) % 30_000) as i16;
        assert_eq!(*s, want, "sample {i}");
    }
}

#[test]
fn primes_then_plays_in_order() {
    let mut b = JitterBuffer::new();
    let ts0 = 4_000_000_000;
    push(&mut b, ts0, 0, 160);
    assert_eq!(b.pop(), None, "40 ms needed before playout");
    push(&mut b, ts0, 160, 160);
    let f = b.pop().unwrap();
    assert_continuous(&f, 0);
    assert_continuous(&b.pop().unwrap(), 160);
    assert_eq!(b.stats().packets, 2);
}

#[test]
fn timestamps_wrap_around() {
    let mut b = JitterBuffer::new();
    let ts0 = u32::MAX - 500;
    for i in 0..10 {
        push(&mut b, ts0, i * 160, 160);
    }
    for i in 0..10 {
        assert_continuous(&b.pop().unwrap(), (i * 160) as i16);
    }
    assert_eq!(b.stats().concealed_samples, 0);
}

#[test]
fn reordered_packets_play_in_order_and_duplicates_are_dropped() {
    let mut b = JitterBuffer::new();
    push(&mut b, 7, 0, 160);
    push(&mut b, 7, 320, 160);
    push(&mut b, 7, 160, 160);
    push(&mut b, 7, 160, 160);
    push(&mut b, 7, 480, 160);
    for i in 0..4 {
        assert_continuous(&b.pop().unwrap(), i * 160);
    }
    let s = b.stats();
    assert_eq!((s.reordered, s.duplicates, s.late), (1, 1, 0));
    assert_eq!(s.concealed_samples, 0);
}

#[test]
fn late_packets_are_counted_and_their_frame_concealed() {
    let mut b = JitterBuffer::new();
    push(&mut b, 0, 0, 160);
    push(&mut b, 0, 160, 160);
    push(&mut b, 0, 480, 160);
    push(&mut b, 0, 640, 160);
    assert!(b.pop().is_some());
    assert!(b.pop().is_some());
    let gap = b.pop().unwrap();
    assert!(gap.iter().all(|&s| s == 0), "lost frame plays silence");
    push(&mut b, 0, 320, 160);
    assert_eq!(b.stats().late, 1);
    assert_eq!(b.stats().concealed_samples, 160);
    assert_eq!(
        b.target(),
        MIN_TARGET + 160,
        "the buffer deepens by a frame"
    );
    assert_eq!(b.pop(), None, "by playing one frame of silence");
    assert_continuous(&b.pop().unwrap(), 480);
}

#[test]
fn any_packet_size_is_continuous() {
    for ptime in [80u32, 160, 240] {
        let mut b = JitterBuffer::new();
        let (mut pos, mut expect, mut frames) = (0u32, 0u32, 0);
        for t in (0..80 * 600).step_by(80) {
            if t % ptime == 0 {
                push(&mut b, 99, pos, ptime);
                pos += ptime;
            }
            if t % 160 == 0 {
                if let Some(f) = b.pop() {
                    assert_continuous(&f, (expect % 30_000) as i16);
                    expect += 160;
                    frames += 1;
                }
            }
        }
        assert!(frames > 290, "ptime {ptime}: {frames}");
        let s = b.stats();
        assert_eq!(
            (s.underruns, s.concealed_samples, s.drift_dropped_samples),
            (0, 0, 0)
        );
    }
}

#[test]
fn a_stalled_tick_catches_up_without_losing_audio() {
    let mut b = JitterBuffer::new();
    let mut pos = 0;
    for _ in 0..2 {
        push(&mut b, 5, pos, 160);
        pos += 160;
    }
    let mut expect = 0;
    assert_continuous(&b.pop().unwrap(), expect);
    expect += 160;
    // The tick stalls for 300 ms while packets keep arriving.
    for _ in 0..15 {
        push(&mut b, 5, pos, 160);
        pos += 160;
    }
    // Then it bursts through the missed ticks: everything plays, in order.
    for _ in 0..16 {
        assert_continuous(&b.pop().unwrap(), expect);
        expect += 160;
    }
    let s = b.stats();
    assert_eq!(
        (s.concealed_samples, s.drift_dropped_samples, s.late),
        (0, 0, 0)
    );
}

#[test]
fn a_fast_sender_is_trimmed_gradually() {
    let mut b = JitterBuffer::new();
    let mut pos = 0;
    // 100 ms too deep for far longer than a drift window.
    for _ in 0..7 {
        push(&mut b, 1, pos, 160);
        pos += 160;
    }
    for _ in 0..600 {
        push(&mut b, 1, pos, 160);
        pos += 160;
        b.pop().unwrap();
    }
    let s = b.stats();
    assert!(s.drift_dropped_samples > 0, "trimmed");
    assert!(
        s.drift_dropped_samples <= 6 * 80,
        "10 ms per 2 s window at most: {}",
        s.drift_dropped_samples
    );
    assert!(b.depth() < 7 * 160);
}

#[test]
fn legs_do_not_trim_at_the_same_tick() {
    let mut trims = Vec::new();
    for ssrc in [1u32, 2, 3, 50] {
        let mut b = JitterBuffer::new();
        let mut pos = 0;
        for _ in 0..8 {
            b.push(ssrc, pos, pos, &packet(pos, 160));
            pos += 160;
        }
        let mut first = None;
        for tick in 0..300 {
            b.push(ssrc, pos, pos, &packet(pos, 160));
            pos += 160;
            b.pop();
            if first.is_none() && b.stats().drift_dropped_samples > 0 {
                first = Some(tick);
            }
        }
        trims.push(first.expect("trimmed"));
    }
    trims.sort();
    trims.dedup();
    assert_eq!(trims.len(), 4, "each leg trims at its own tick: {trims:?}");
}

#[test]
fn silence_gap_restarts_at_the_new_talkspurt() {
    let mut b = JitterBuffer::new();
    push(&mut b, 0, 0, 160);
    push(&mut b, 0, 160, 160);
    assert!(b.pop().is_some());
    assert!(b.pop().is_some());
    assert_eq!(b.pop(), None, "underrun");
    assert_eq!(b.stats().underruns, 1);
    // The sender stopped for 2 s (silence suppression) and resumes.
    push(&mut b, 0, 16_000, 160);
    assert_eq!(b.pop(), None, "priming again");
    push(&mut b, 0, 16_160, 160);
    assert_continuous(&b.pop().unwrap(), 16_000);
    assert_eq!(
        b.stats().concealed_samples,
        0,
        "the gap is skipped, not played"
    );
}

#[test]
fn a_new_source_restarts_the_stream() {
    let mut b = JitterBuffer::new();
    push(&mut b, 0, 0, 160);
    push(&mut b, 0, 160, 160);
    assert!(b.pop().is_some());
    b.push(99, 1_000_000, 0, &[7; 160]);
    assert_eq!(b.pop(), None);
    b.push(99, 1_000_160, 160, &[8; 160]);
    assert_eq!(b.pop().unwrap()[0], 7);
}

#[test]
fn jitter_raises_the_target_at_the_next_start() {
    let mut b = JitterBuffer::new();
    // Packets arrive alternately 0 and 30 ms off their time.
    for i in 0..200u32 {
        let pos = i * 160;
        let arrival = pos + if i % 2 == 0 { 0 } else { 240 };
        b.push(SSRC, pos, arrival, &packet(pos, 160));
        b.pop();
    }
    assert!(b.jitter_samples() > 100, "jitter {}", b.jitter_samples());
    while b.pop().is_some() {}
    assert!(b.target() > MIN_TARGET, "target {}", b.target());
    assert!(b.target() <= MAX_TARGET);
}

#[test]
fn garbage_never_panics() {
    let mut b = JitterBuffer::new();
    let mut x: u32 = 1;
    for i in 0..20_000u32 {
        x = x.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
        let len = (x >> 20) as usize % 3000;
        let ssrc = if x.is_multiple_of(97) { x } else { 1 };
        b.push(ssrc, x.rotate_left(i % 32), x, &vec![1; len]);
        if x.is_multiple_of(3) {
            b.pop();
        }
    }
    b.push(1, 0, 0, &[]);
    b.clear();
    assert_eq!(b.pop(), None);
}

#[test]
fn swapped_pairs_play_in_order() {
    let mut b = JitterBuffer::new();
    let mut played = Vec::new();
    for pair in 0..20u32 {
        for i in [2 * pair + 1, 2 * pair] {
            let t = 160 * (played.len() as u32);
            b.push(SSRC, i * 160, t, &packet(i * 160, 160));
            if let Some(f) = b.pop() {
                played.push(f[0]);
            }
        }
    }
    let s = b.stats();
    eprintln!("{played:?} {s:?}");
    assert!(played.windows(2).all(|w| w[1] == w[0] + 160), "{played:?}");
    assert!(played.len() >= 35, "{}", played.len());
}

#[test]
fn a_late_packet_deepens_the_buffer_once() {
    let mut b = JitterBuffer::new();
    // Packet i arrives at i (on time) except every 4th, which comes 60 ms late.
    let mut played = Vec::new();
    let mut held = Vec::new();
    for i in 0..60u32 {
        if i % 4 == 3 {
            held.push((i, i + 3));
        } else {
            push(&mut b, 0, i * 160, 160);
        }
        for (j, _) in held.iter().filter(|(_, due)| *due == i) {
            push(&mut b, 0, j * 160, 160);
        }
        if let Some(f) = b.pop() {
            played.push(f[0]);
        }
    }
    let s = b.stats();
    assert!(s.late >= 1, "{s:?}");
    assert!(b.target() > MIN_TARGET);
    let tail = &played[played.len() - 20..];
    assert!(tail.windows(2).all(|w| w[1] == w[0] + 160), "{played:?}");
    assert!(s.late <= 3, "after deepening no packet is late: {s:?}");
}
