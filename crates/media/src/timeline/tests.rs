use super::*;

fn collect(
    t: &mut Timeline,
    f: impl FnOnce(&mut Timeline, &mut dyn FnMut(&[(i16, i16)])),
) -> Vec<(i16, i16)> {
    let mut got = Vec::new();
    f(t, &mut |s: &[(i16, i16)]| got.extend_from_slice(s));
    got
}

/// Place a 160-sample packet of constant `value` from `source` stamped
/// `ts`, arriving at `now`.
fn packet(t: &mut Timeline, ch: Channel, source: u64, ts: u32, now: u64, value: i16) {
    let pos = t.position(ch, source, ts, now);
    t.place(ch, pos, &[value; 160], &mut |_| {
        panic!("no write-out expected")
    });
}

#[test]
fn both_directions_are_placed_by_their_timestamps_despite_jitter() {
    let mut t = Timeline::new();
    for i in 0..10u32 {
        // Left arrives on time, right 0-15 ms late and out of order in pairs.
        let jitter = u64::from((i * 7) % 3) * 40;
        packet(
            &mut t,
            Channel::Left,
            1,
            1000 + i * 160,
            u64::from(i) * 160,
            i as i16 + 1,
        );
        let j = match i {
            0 | 1 => i,
            _ if i % 2 == 0 => i + 1,
            _ => i - 1,
        };
        packet(
            &mut t,
            Channel::Right,
            2,
            90_000 + j * 160,
            u64::from(i) * 160 + jitter,
            -(j as i16 + 1),
        );
    }
    let out = collect(&mut t, |t, o| t.finish(&mut |s| o(s)));
    assert!(out.len() >= 1600, "{}", out.len());
    for i in 0..10usize {
        assert_eq!(out[i * 160 + 80].0, i as i16 + 1, "left frame {i}");
    }
    // The right channel is anchored at its first packet's arrival (0) and
    // then follows its timestamps, whatever the arrival order.
    let right: Vec<i16> = (0..10).map(|k| out[k * 160 + 80].1).collect();
    assert_eq!(right, (1..=10).map(|k| -k).collect::<Vec<i16>>());
}

#[test]
fn nothing_placed_is_silence_and_tick_writes_behind_the_clock() {
    let mut t = Timeline::new();
    packet(&mut t, Channel::Left, 1, 0, 0, 5);
    let out = collect(&mut t, |t, o| t.tick(8000, &mut |s| o(s)));
    assert_eq!(out.len() as u64, 8000 - DELAY);
    assert_eq!(out[0], (5, 0));
    assert_eq!(out[200], (0, 0));
    assert_eq!(t.written(), 8000 - DELAY);
}

#[test]
fn a_new_source_is_anchored_at_the_wall_clock() {
    let mut t = Timeline::new();
    assert_eq!(t.position(Channel::Right, 1, 500, 0), 0);
    assert_eq!(t.position(Channel::Right, 1, 660, 170), 160);
    // Transfer: another party, unrelated timestamps, 2 s later.
    assert_eq!(t.position(Channel::Right, 2, 7, 16_000), 16_000);
    assert_eq!(t.position(Channel::Right, 2, 167, 16_170), 16_160);
    // The left channel is independent.
    assert_eq!(t.position(Channel::Left, 2, 0, 16_500), 16_500);
}

#[test]
fn a_source_drifting_from_the_clock_is_anchored_anew() {
    let mut t = Timeline::new();
    assert_eq!(t.position(Channel::Left, 1, 0, 0), 0);
    // Its timestamps jump 10 s ahead while 1 s passed.
    assert_eq!(t.position(Channel::Left, 1, 80_000, 8000), 8000);
    // A burst of frames a little ahead of the clock is kept in sequence.
    assert_eq!(t.position(Channel::Left, 1, 80_000 + 4000, 8010), 12_000);
}

#[test]
fn late_audio_is_dropped_and_counted() {
    let mut t = Timeline::new();
    packet(&mut t, Channel::Left, 1, 0, 0, 1);
    let _ = collect(&mut t, |t, o| t.write_until(320, &mut |s| o(s)));
    t.place(Channel::Right, 240, &[9; 160], &mut |_| {});
    assert_eq!(t.late_samples(), 80);
    let out = collect(&mut t, |t, o| t.finish(&mut |s| o(s)));
    assert_eq!(out.len(), 80);
    assert_eq!(out[0], (0, 9));
}

#[test]
fn audio_far_ahead_writes_out_the_oldest() {
    let mut t = Timeline::new();
    packet(&mut t, Channel::Left, 1, 0, 0, 1);
    let mut written = 0;
    t.place(Channel::Left, 100_000, &[2; 160], &mut |s| {
        written += s.len()
    });
    assert_eq!(written as u64, 100_160 - WINDOW as u64);
    let out = collect(&mut t, |t, o| t.finish(&mut |s| o(s)));
    assert_eq!(*out.last().unwrap(), (2, 0));
    assert_eq!(t.written(), 100_160);
}
