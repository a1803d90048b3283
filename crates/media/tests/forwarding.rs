//! The two-party relay forwards packets (payload untouched, numbering kept
//! continuous for the phone across hold, unhold and transfer), and rooms
//! that mix put reordered packets back in order. Real UDP on 127.0.0.1.

mod common;

use std::time::Duration;

use common::*;
use switchboard_media::Codec;
use tokio::time::sleep;

/// PCMU packets whose payload is `byte` repeated; 0x7F (µ-law "negative
/// zero") would come back as 0xFF if the engine decoded and re-encoded it.
fn pcmu(seqs: impl IntoIterator<Item = u16>, byte: u8) -> Vec<(u16, u32, Vec<u8>)> {
    seqs.into_iter()
        .map(|s| (s, u32::from(s) * 160, vec![byte; 160]))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_two_party_bridge_forwards_payloads_untouched_and_keeps_gaps() {
    let e = engine(42000).await;
    let (a, a_port, b, _) = bridged_pair(&e).await;
    let (pa, pb) = (phone().await, phone().await);
    e.set_remote(a, pa.addr, Codec::Pcmu, None);
    e.set_remote(b, pb.addr, Codec::Pcmu, None);
    let rx_b = spawn_collect(&pb, Duration::from_millis(900));
    // Packet 5 is lost on the way in.
    let seqs = (1000u16..1030).filter(|s| *s != 1005);
    send_packets(&pa, leg_addr(a_port), 0, 77, pcmu(seqs, 0x7F));
    let heard = rx_b.await.unwrap();
    let forwarded: Vec<_> = heard.iter().filter(|p| p.payload[0] == 0x7F).collect();
    assert!(
        forwarded.len() >= 25,
        "B got {} forwarded packets",
        forwarded.len()
    );
    assert!(
        forwarded.iter().all(|p| p.payload == vec![0x7F; 160]),
        "payload untouched"
    );
    let first = heard.iter().position(|p| p.payload[0] == 0x7F).unwrap();
    assert!(
        heard[first..].iter().all(|p| p.payload[0] == 0x7F),
        "nothing was decoded and re-encoded (0x7F would become 0xFF)"
    );
    for w in forwarded.windows(2) {
        let (ds, dt) = (
            w[1].seq.wrapping_sub(w[0].seq),
            w[1].ts.wrapping_sub(w[0].ts),
        );
        assert!(ds == 1 || ds == 2, "sequence step {ds}");
        assert_eq!(
            dt,
            160 * u32::from(ds),
            "timestamps keep the sender's spacing"
        );
        assert_eq!(w[1].ssrc, w[0].ssrc);
    }
    assert_eq!(
        forwarded
            .windows(2)
            .filter(|w| w[1].seq.wrapping_sub(w[0].seq) == 2)
            .count(),
        1,
        "the lost packet stays visible as one gap"
    );
    assert!(forwarded[0].marker);
    assert!(forwarded[1..].iter().all(|p| !p.marker));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_stream_stays_continuous_across_hold_unhold_and_transfer() {
    let e = engine(42100).await;
    let (a, a_port, b, _) = bridged_pair(&e).await;
    let room = e.leg_room(a).unwrap();
    let c = e.create_leg().await.unwrap();
    let (pa, pb, pc) = (phone().await, phone().await, phone().await);
    e.set_remote(a, pa.addr, Codec::Pcmu, None);
    e.set_remote(b, pb.addr, Codec::Pcmu, None);
    e.set_remote(c.id, pc.addr, Codec::Pcmu, None);
    let rx_b = spawn_collect(&pb, Duration::from_millis(2600));
    send_tone(
        &pa,
        leg_addr(a_port),
        Codec::Pcmu,
        440.0,
        Duration::from_millis(1200),
    );
    send_tone(
        &pc,
        leg_addr(c.local_port),
        Codec::Pcmu,
        1000.0,
        Duration::from_millis(2500),
    );
    sleep(Duration::from_millis(400)).await;
    // Hold: B alone with music (mixed).
    let hold = e.create_room();
    e.set_music(hold, Some("default"));
    e.join(hold, b);
    sleep(Duration::from_millis(400)).await;
    // Unhold: back with A (forwarded again).
    e.join(room, b);
    sleep(Duration::from_millis(400)).await;
    // Transfer: C replaces A.
    e.destroy_leg(a);
    e.join(room, c.id);
    let heard = rx_b.await.unwrap();

    assert!(heard.len() > 90, "B got {} packets", heard.len());
    assert!(heard.iter().all(|p| p.ssrc == heard[0].ssrc), "one SSRC");
    let mut markers = 0;
    for w in heard.windows(2) {
        assert_eq!(w[1].seq, w[0].seq.wrapping_add(1), "no sequence jump");
        let dt = w[1].ts.wrapping_sub(w[0].ts) as i32;
        let wall = (w[1].at - w[0].at).as_millis() as i32 * 8;
        assert!(dt > 0, "timestamps never go back: {dt}");
        assert!(
            (dt - wall).abs() <= 8 * 60,
            "timestamp step {dt} follows the wall clock ({wall})"
        );
        markers += usize::from(w[1].marker);
    }
    assert!(
        (3..=6).contains(&markers),
        "a marker at each switch: {markers}"
    );
    let tail = pcm_of(&heard[heard.len() - 30..]);
    assert!(
        tone_fraction(&tail, 1000.0) > 0.8,
        "B hears C after the transfer"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_mixing_room_puts_reordered_packets_back_in_order() {
    let e = engine(42200).await;
    let (a, a_port, b, _) = bridged_pair(&e).await;
    let room = e.leg_room(a).unwrap();
    // A third, silent member makes the room a conference (mixed).
    let c = e.create_leg().await.unwrap();
    e.join(room, c.id);
    let (pa, pb) = (phone().await, phone().await);
    e.set_remote(a, pa.addr, Codec::Pcmu, None);
    e.set_remote(b, pb.addr, Codec::Pcmu, None);
    let rx_b = spawn_collect(&pb, Duration::from_millis(1200));
    // A staircase: frame i is a constant level rising with i; packets are
    // sent in swapped pairs (1, 0, 3, 2, ...).
    let mut packets = Vec::new();
    for pair in 0..20u16 {
        for i in [2 * pair + 1, 2 * pair] {
            let mut pcm = [0i16; 160];
            pcm.fill(200 + 200 * i as i16);
            let mut payload = vec![0u8; 160];
            Codec::Pcmu.encode(&pcm, &mut payload);
            packets.push((i, u32::from(i) * 160, payload));
        }
    }
    send_packets(&pa, leg_addr(a_port), 0, 5, packets);
    let heard = rx_b.await.unwrap();
    let playout = e.stats(a).unwrap().playout;
    assert!(playout.reordered >= 15, "{playout:?}");
    let levels: Vec<i32> = heard
        .iter()
        .map(|p| p.pcm.iter().map(|&s| i32::from(s)).sum::<i32>() / 160)
        .filter(|&l| l > 100)
        .collect();
    assert!(
        levels.len() >= 30,
        "B heard {} frames of A: {levels:?}",
        levels.len()
    );
    assert!(
        levels.windows(2).all(|w| w[1] >= w[0]),
        "played in order: {levels:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_recorded_call_is_forwarded_and_its_recording_spans_a_hold() {
    let e = engine(42300).await;
    let (a, a_port, b, b_port) = bridged_pair(&e).await;
    let room = e.leg_room(a).unwrap();
    let (pa, pb) = (phone().await, phone().await);
    e.set_remote(a, pa.addr, Codec::Pcmu, None);
    e.set_remote(b, pb.addr, Codec::Pcmu, None);
    let dir = std::env::temp_dir().join(format!("sb-fwd-rec-{}", std::process::id()));
    let path = dir.join("a.wav");
    let rec = e.start_recording(a, &path).unwrap();
    send_tone(
        &pa,
        leg_addr(a_port),
        Codec::Pcmu,
        440.0,
        Duration::from_millis(2000),
    );
    send_tone(
        &pb,
        leg_addr(b_port),
        Codec::Pcmu,
        1000.0,
        Duration::from_millis(2000),
    );
    sleep(Duration::from_millis(700)).await;
    let before_hold = e.stats(a).unwrap().playout.packets + e.stats(b).unwrap().playout.packets;
    // Hold B for half a second, then back.
    let hold = e.create_room();
    e.set_music(hold, Some("default"));
    e.join(hold, b);
    sleep(Duration::from_millis(500)).await;
    e.join(room, b);
    sleep(Duration::from_millis(700)).await;
    let summary = e.stop_recording(rec).unwrap();
    assert_eq!(
        before_hold, 0,
        "recorded, yet nothing was decoded for mixing"
    );
    assert!(
        (1800..=2100).contains(&summary.duration_ms),
        "{} ms",
        summary.duration_ms
    );
    let samples: Vec<i16> = hound::WavReader::open(&path)
        .unwrap()
        .into_samples::<i16>()
        .map(|s| s.unwrap())
        .collect();
    let channel = |c: usize, from_ms: usize, to_ms: usize| -> Vec<i16> {
        samples[from_ms * 16..to_ms * 16]
            .iter()
            .skip(c)
            .step_by(2)
            .copied()
            .collect()
    };
    let left = channel(0, 100, 1800);
    assert!(
        tone_fraction(&left, 440.0) > 0.8,
        "A's own voice throughout"
    );
    assert!(
        tone_fraction(&channel(1, 100, 600), 1000.0) > 0.8,
        "B before the hold"
    );
    assert!(
        rms(&channel(1, 850, 1100)) < 50.0,
        "nothing from B on hold (music is not recorded)"
    );
    assert!(
        tone_fraction(&channel(1, 1350, 1800), 1000.0) > 0.8,
        "B after the hold"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
