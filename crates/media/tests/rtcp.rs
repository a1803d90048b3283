//! RTCP with a phone over real UDP: the engine reports on the phone's
//! stream (loss), reads the phone's reports about ours (loss, round trip),
//! and sums both up in the leg's quality.

mod common;

use std::time::Duration;

use common::*;
use switchboard_media::quality::ReportBlock;
use switchboard_media::rtcp::{build_report, ntp_middle, parse_report};
use switchboard_media::rtp::RtpPacket;
use switchboard_media::Codec;
use tokio::net::UdpSocket;
use tokio::time::{sleep, timeout, Instant};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reports_go_both_ways_and_give_loss_round_trip_and_mos() {
    let e = engine(42400).await;
    e.set_rtcp_interval(Duration::from_millis(300));
    let (a, a_port, b, b_port) = bridged_pair(&e).await;
    let (pa, pb) = (phone().await, phone().await);
    e.set_remote(a, pa.addr, Codec::Pcmu, None);
    e.set_remote(b, pb.addr, Codec::Pcmu, None);
    // Phone A sends 50 packets, 5 of them lost on the way; B talks too so A
    // gets a stream to report on.
    let seqs = (0u16..50).filter(|s| s % 10 != 7);
    let packets = seqs
        .map(|s| (s, u32::from(s) * 160, vec![0x55u8; 160]))
        .collect();
    send_packets(&pa, leg_addr(a_port), 0, 4242, packets);
    send_tone(
        &pb,
        leg_addr(b_port),
        Codec::Pcmu,
        1000.0,
        Duration::from_millis(1500),
    );
    // Learn our SSRC towards A from what A hears.
    let mut buf = [0u8; 1500];
    let (n, _) = timeout(Duration::from_secs(2), pa.sock.recv_from(&mut buf))
        .await
        .unwrap()
        .unwrap();
    let ours = RtpPacket::parse(&buf[..n]).unwrap().ssrc;

    // A's RTCP socket: the engine replies to where RTCP comes from.
    let rtcp = UdpSocket::bind((LOCALHOST, 0)).await.unwrap();
    let engine_rtcp = leg_addr(a_port + 1);
    let about_us = |lost: u8, lsr: u32| ReportBlock {
        ssrc: ours,
        fraction_lost: lost,
        cumulative_lost: 12,
        extended_max: 100,
        jitter: 80,
        lsr,
        dlsr: 0,
    };
    let n = build_report(4242, None, Some(about_us(64, 0)), "phone-a", &mut buf).unwrap();
    rtcp.send_to(&buf[..n], engine_rtcp).await.unwrap();

    // The engine's sender report about A's stream arrives.
    sleep(Duration::from_millis(1100)).await;
    let deadline = Instant::now() + Duration::from_secs(3);
    let report = loop {
        let (n, _) = timeout(deadline - Instant::now(), rtcp.recv_from(&mut buf))
            .await
            .expect("a report from the engine")
            .unwrap();
        let r = parse_report(&buf[..n], 4242).unwrap();
        // A report may be cut between packets 48 and 49: wait for the one
        // that has seen the whole stream.
        if r.about_us
            .is_some_and(|b| b.cumulative_lost >= 5 && b.extended_max >= 49)
        {
            break r;
        }
    };
    let (sr_ssrc, sr_ntp) = report
        .sender_report
        .expect("a sender report: we send media");
    assert_eq!(sr_ssrc, ours);
    let block = report.about_us.unwrap();
    assert_eq!(block.cumulative_lost, 5, "{block:?}");
    assert_eq!(block.extended_max, 49);

    // A answers with its report quoting our SR: a round trip can be measured.
    let n = build_report(
        4242,
        None,
        Some(about_us(64, ntp_middle(sr_ntp))),
        "phone-a",
        &mut buf,
    )
    .unwrap();
    rtcp.send_to(&buf[..n], engine_rtcp).await.unwrap();
    sleep(Duration::from_millis(100)).await;
    let q = e.stats(a).unwrap().quality;
    assert_eq!((q.packets_received, q.packets_lost), (45, 5), "{q:?}");
    assert!((q.loss_percent - 10.0).abs() < 0.01);
    let remote = q.remote.expect("A's report");
    assert_eq!(remote.fraction_lost, 0.25);
    assert_eq!(remote.jitter_ms, 10.0);
    let rtt = remote.rtt_ms.expect("round trip from LSR/DLSR");
    assert!((0.0..2000.0).contains(&rtt), "{rtt}");
    assert!(q.mos < 3.0, "25% loss is a bad call: {q:?}");
    // B's leg: no loss, no RTCP from B: a good call.
    let qb = e.stats(b).unwrap().quality;
    assert_eq!(qb.packets_lost, 0);
    assert!(qb.remote.is_none());
    assert!(qb.mos > 4.0, "{qb:?}");
    // Garbage on the RTCP port changes nothing and breaks nothing.
    rtcp.send_to(&[0x80, 201, 0, 9, 1, 2], engine_rtcp)
        .await
        .unwrap();
    sleep(Duration::from_millis(50)).await;
    assert_eq!(e.stats(a).unwrap().quality.remote, Some(remote));
}
