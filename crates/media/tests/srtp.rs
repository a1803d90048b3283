//! SRTP at a leg's socket edge, real UDP on 127.0.0.1: an SRTP phone
//! bridged to a plain one. Its packets are checked and decrypted before the
//! relay (the plain phone gets the payload untouched), replayed and tampered
//! packets are dropped and counted, and what the plain phone sends reaches
//! the SRTP phone encrypted under our key.

mod common;

use std::time::Duration;

use common::*;
use switchboard_media::rtp::{RtpHeader, RtpPacket};
use switchboard_media::srtp::{SrtpContext, SrtpKey, SrtpParams, SrtpProfile};
use switchboard_media::Codec;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_srtp_leg_bridged_to_a_plain_leg_both_ways() {
    let e = engine(43000).await;
    let (a, a_port, b, b_port) = bridged_pair(&e).await;
    let (pa, pb) = (phone().await, phone().await);
    let (ours, theirs) = (SrtpKey::random(), SrtpKey::random());
    e.set_remote(a, pa.addr, Codec::Pcmu, None);
    e.set_remote(b, pb.addr, Codec::Pcmu, None);
    e.set_srtp(
        a,
        Some(SrtpParams {
            profile: SrtpProfile::AesCm128HmacSha1_80,
            local: ours.clone(),
            remote: theirs.clone(),
        }),
    );

    // The SRTP phone sends 30 packets, each followed by a replay of itself,
    // and every sixth by a tampered copy.
    let rx_b = spawn_collect(&pb, Duration::from_millis(1000));
    let mut tx = SrtpContext::new(SrtpProfile::AesCm128HmacSha1_80, &theirs);
    let mut buf = [0u8; 1500];
    for i in 0..30u16 {
        let h = RtpHeader {
            payload_type: 0,
            marker: i == 0,
            sequence: 500 + i,
            timestamp: u32::from(i) * 160,
            ssrc: 99,
        };
        let n = h.write_packet(&mut buf, &[0x7F; 160]).unwrap();
        let n = tx.protect_rtp(&mut buf, n).unwrap();
        let to = leg_addr(a_port);
        pa.sock.send_to(&buf[..n], to).await.unwrap();
        pa.sock.send_to(&buf[..n], to).await.unwrap();
        if i % 6 == 0 {
            let mut bad = buf[..n].to_vec();
            bad[40] ^= 0x01;
            pa.sock.send_to(&bad, to).await.unwrap();
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let heard = rx_b.await.unwrap();
    let forwarded = heard
        .iter()
        .filter(|p| p.payload == vec![0x7F; 160])
        .count();
    assert!(
        (25..=30).contains(&forwarded),
        "the plain phone got {forwarded} decrypted packets, payload untouched"
    );
    let stats = e.stats(a).unwrap();
    assert_eq!(stats.srtp_dropped, 35, "30 replays and 5 tampered packets");
    assert_eq!(
        stats.packets_in, 30,
        "only authentic packets count as received"
    );

    // The plain phone sends: the SRTP phone gets SRTP under our key.
    drain(&pa.sock);
    let collect = {
        let sock = pa.sock.clone();
        tokio::spawn(async move {
            let mut got = Vec::new();
            let mut buf = [0u8; 1500];
            let deadline = tokio::time::Instant::now() + Duration::from_millis(900);
            while let Ok(Ok((n, _))) =
                tokio::time::timeout_at(deadline, sock.recv_from(&mut buf)).await
            {
                got.push(buf[..n].to_vec());
            }
            got
        })
    };
    let packets = (0..30u16)
        .map(|s| (s, u32::from(s) * 160, vec![0x55u8; 160]))
        .collect();
    send_packets(&pb, leg_addr(b_port), 0, 7, packets);
    let got = collect.await.unwrap();
    let mut rx = SrtpContext::new(SrtpProfile::AesCm128HmacSha1_80, &ours);
    let mut decrypted = 0;
    for mut p in got {
        let parsed = RtpPacket::parse(&p).expect("an RTP header in clear");
        if parsed.is_rtcp() {
            continue;
        }
        assert_ne!(
            &p[12..172],
            &[0x55u8; 160][..],
            "payload in clear on the SRTP leg"
        );
        let n = rx
            .unprotect_rtp(&mut p)
            .expect("authenticates under our key");
        if p[12..n] == [0x55u8; 160] {
            decrypted += 1;
        }
    }
    assert!(
        decrypted >= 25,
        "{decrypted} packets decrypted to the plain phone's payload"
    );
}
