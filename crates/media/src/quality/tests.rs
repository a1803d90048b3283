use super::*;

#[test]
fn counts_loss_across_a_sequence_wrap() {
    let mut s = ReceiveStats::default();
    let mut seq = 65_500u16;
    for i in 0..100u32 {
        if i % 10 != 5 {
            s.on_packet(7, seq, i * 160, i * 160);
        }
        seq = seq.wrapping_add(1);
    }
    assert_eq!(s.expected(), 100);
    assert_eq!(s.received(), 90);
    assert_eq!(s.lost(), 10);
    assert_eq!(s.extended_max(), 65_536 + u32::from(seq.wrapping_sub(1)));
    assert_eq!(s.jitter_ms(), 0.0, "perfectly paced");
}

#[test]
fn reordered_and_duplicate_packets_are_not_loss() {
    let mut s = ReceiveStats::default();
    for seq in [1u16, 3, 2, 4, 4, 5] {
        s.on_packet(1, seq, u32::from(seq) * 160, u32::from(seq) * 160);
    }
    assert_eq!(s.expected(), 5);
    assert_eq!(s.lost(), 0);
}

#[test]
fn jitter_follows_rfc_3550() {
    let mut s = ReceiveStats::default();
    // Every other packet 10 ms (80 samples) late.
    for i in 0..400u32 {
        let late = if i % 2 == 1 { 80 } else { 0 };
        s.on_packet(1, i as u16, i * 160, i * 160 + late);
    }
    // |D| = 80 each time: J converges to 80 samples = 10 ms.
    assert!((s.jitter_ms() - 10.0).abs() < 0.5, "{}", s.jitter_ms());
}

#[test]
fn report_blocks_give_the_interval_loss_and_the_sr_delay() {
    let mut s = ReceiveStats::default();
    for seq in 0..100u16 {
        if seq % 4 != 1 {
            s.on_packet(9, seq, 0, 0);
        }
    }
    s.on_sender_report(0x1234_5678_9abc_def0, 1_000);
    let b = s.report_block(1_500).unwrap();
    assert_eq!(b.ssrc, 9);
    assert_eq!(b.fraction_lost, 64, "25% lost");
    assert_eq!(b.cumulative_lost, 25);
    assert_eq!(b.lsr, 0x5678_9abc);
    assert_eq!(b.dlsr, 32_768, "500 ms in 1/65536 s");
    // Next interval: nothing lost.
    for seq in 100..150u16 {
        s.on_packet(9, seq, 0, 0);
    }
    assert_eq!(s.report_block(2_000).unwrap().fraction_lost, 0);
    assert!(ReceiveStats::default().report_block(0).is_none());
}

#[test]
fn a_new_ssrc_or_a_jump_starts_over() {
    let mut s = ReceiveStats::default();
    s.on_packet(1, 10, 0, 0);
    s.on_packet(1, 11, 0, 0);
    s.on_packet(2, 500, 0, 0);
    assert_eq!((s.expected(), s.received()), (1, 1));
    s.on_packet(2, 40_000, 0, 0);
    assert_eq!((s.expected(), s.lost()), (1, 0));
}

#[test]
fn remote_reports_give_the_round_trip() {
    let b = ReportBlock {
        ssrc: 1,
        fraction_lost: 128,
        cumulative_lost: 40,
        extended_max: 1000,
        jitter: 160,
        lsr: 100_000,
        dlsr: 65_536,
    };
    // Now is 1 s + 50 ms after our SR left: RTT 50 ms.
    let r = RemoteReport::from_block(&b, 100_000 + 65_536 + 3_277);
    assert!((r.rtt_ms.unwrap() - 50.0).abs() < 0.1);
    assert_eq!(r.fraction_lost, 0.5);
    assert_eq!(r.jitter_ms, 20.0);
    assert_eq!(
        RemoteReport::from_block(&ReportBlock { lsr: 0, ..b }, 5).rtt_ms,
        None
    );
}

#[test]
fn r_factor_and_mos() {
    let clean = r_factor(0.0, 20.0);
    assert!(clean > 92.0 && mos(clean) > 4.3, "{clean}");
    let lossy = r_factor(0.05, 20.0);
    assert!(lossy < 45.0, "5% loss without PLC is poor: {lossy}");
    assert!(mos(lossy) < 2.5);
    assert!(r_factor(0.0, 400.0) < r_factor(0.0, 100.0));
    assert_eq!(mos(-3.0), 1.0);
    let mut s = ReceiveStats::default();
    for seq in 0..50u16 {
        s.on_packet(3, seq, u32::from(seq) * 160, u32::from(seq) * 160);
    }
    let q = Quality::of(&s, None);
    assert_eq!((q.packets_received, q.packets_lost), (50, 0));
    assert!(q.mos > 4.3);
}
