use std::time::Duration;

use super::*;

fn at(t0: Instant, ms: u64) -> Instant {
    t0 + Duration::from_millis(ms)
}

#[test]
fn forwarded_packets_keep_their_spacing_on_our_line() {
    let t0 = Instant::now();
    let mut s = OutStream::new(42, 1000, 50_000);
    let a = s.forward(t0, (1, 7), 300, 9_000, 160);
    assert_eq!((a.sequence, a.timestamp, a.marker), (1000, 50_000, true));
    // A lost packet stays a gap; a reordered one keeps its place.
    let c = s.forward(at(t0, 40), (1, 7), 302, 9_320, 160);
    assert_eq!((c.sequence, c.timestamp, c.marker), (1002, 50_320, false));
    let b = s.forward(at(t0, 45), (1, 7), 301, 9_160, 160);
    assert_eq!((b.sequence, b.timestamp), (1001, 50_160));
    assert_eq!(s.ssrc(), 42);
}

#[test]
fn a_new_source_continues_the_line_by_wall_clock() {
    let t0 = Instant::now();
    let mut s = OutStream::new(1, 10, 0);
    for i in 0..5u16 {
        s.forward(
            at(t0, 20 * u64::from(i)),
            (1, 7),
            500 + i,
            160 * u32::from(i),
            160,
        );
    }
    // Transfer: another party's stream, unrelated numbers, 300 ms later.
    let n = s.forward(at(t0, 380), (2, 9), 60_000, 4_000_000_000, 160);
    assert!(n.marker);
    assert_eq!(n.sequence, 15, "sequence continues without a gap");
    // Last packet covered 640..800; 300 ms of wall clock = 2400 samples.
    assert_eq!(n.timestamp, 800 + 2400);
    let m = s.forward(at(t0, 400), (2, 9), 60_001, 4_000_000_160, 160);
    assert_eq!((m.sequence, m.timestamp, m.marker), (16, 3360, false));
}

#[test]
fn forwarding_and_mixing_share_one_line() {
    let t0 = Instant::now();
    let mut s = OutStream::new(1, 100, 1000);
    s.forward(t0, (1, 7), 0, 0, 160);
    s.forward(at(t0, 20), (1, 7), 1, 160, 160);
    // Hold: the tick takes over 5 ms after the last forwarded packet.
    s.mark();
    let m = s.mixed(at(t0, 25), 160);
    assert_eq!((m.sequence, m.timestamp, m.marker), (102, 1320 + 40, true));
    s.sent();
    let m2 = s.mixed(at(t0, 45), 160);
    assert_eq!((m2.sequence, m2.timestamp, m2.marker), (103, 1520, false));
    // Silence suppressed for one tick: the clock runs, the sequence does not.
    let _skipped = s.mixed(at(t0, 65), 160);
    s.sent();
    let m3 = s.mixed(at(t0, 85), 160);
    assert_eq!((m3.sequence, m3.timestamp), (104, 1840));
    s.sent();
    // Unhold: forwarding resumes right after the mixed line.
    let f = s.forward(at(t0, 95), (1, 7), 9, 1440, 160);
    assert_eq!((f.sequence, f.timestamp, f.marker), (105, 2000 + 80, true));
}

#[test]
fn events_take_sequence_numbers() {
    let t0 = Instant::now();
    let mut s = OutStream::new(1, 0, 0);
    let m = s.mixed(t0, 160);
    let e = s.event(m.timestamp, true);
    assert_eq!((e.sequence, e.timestamp, e.marker), (0, 0, true));
    let m2 = s.mixed(at(t0, 20), 160);
    assert_eq!((m2.sequence, m2.timestamp), (1, 160));
    assert_eq!(s.current_ts(), 320);
}

#[test]
fn a_source_that_restarts_its_numbering_is_re_anchored() {
    // Three RFC 4733 digits played from separate recordings: one SSRC,
    // sequence numbers and timestamps that jump back and forth.
    let t0 = Instant::now();
    let mut s = OutStream::new(1, 100, 10_000);
    let five = s.forward(t0, (1, 7), 8155, 43_200, 0);
    s.forward(at(t0, 20), (1, 7), 8156, 43_200, 0);
    let one = s.forward(at(t0, 500), (1, 7), 7984, 13_280, 0);
    assert!(one.marker, "a restart is a new talkspurt");
    assert_eq!(one.sequence, 102, "the line goes on");
    // The event started at t0 (its packets share one timestamp): 500 ms later.
    assert_eq!(one.timestamp, 10_000 + 500 * 8, "by the wall clock");
    assert!(one.timestamp.wrapping_sub(five.timestamp) as i32 > 0);
    let next = s.forward(at(t0, 520), (1, 7), 7985, 13_280, 0);
    assert_eq!(
        (next.sequence, next.timestamp, next.marker),
        (103, one.timestamp, false)
    );
    // A reordered packet just behind is kept in place, not re-anchored.
    let late = s.forward(at(t0, 530), (1, 7), 7983, 13_280, 0);
    assert_eq!(late.sequence, 101);
}

#[test]
fn sequence_and_timestamp_wrap() {
    let t0 = Instant::now();
    let mut s = OutStream::new(1, u16::MAX, u32::MAX - 100);
    let a = s.forward(t0, (1, 7), 0, 0, 160);
    let b = s.forward(at(t0, 20), (1, 7), 1, 160, 160);
    assert_eq!((a.sequence, b.sequence), (u16::MAX, 0));
    assert_eq!(b.timestamp, (u32::MAX - 100).wrapping_add(160));
    let m = s.mixed(at(t0, 40), 160);
    assert_eq!(m.sequence, 1);
}
