//! End-to-end tests of the media engine over real UDP sockets on 127.0.0.1.
//!
//! Test "phones" are plain UDP sockets that send G.711 tones as paced RTP
//! and decode what the engine sends back; a Goertzel filter checks which
//! tones are audible. Each test uses its own port range.

mod common;

use std::time::Duration;

use common::*;
use switchboard_media::dtmf::TelephoneEvent;
use switchboard_media::rtp::{RtpHeader, RtpPacket};
use switchboard_media::{Codec, MediaConfig, MediaEngine, MediaEvent};
use tokio::time::{sleep, timeout_at, Instant};

const TWO_S: Duration = Duration::from_secs(2);
const LISTEN: Duration = Duration::from_millis(2300);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bridge_relays_and_transcodes() {
    let e = engine(40000).await;
    let (a, a_port, b, b_port) = bridged_pair(&e).await;
    let (pa, pb) = (phone().await, phone().await);
    e.set_remote(a, pa.addr, Codec::Pcmu, None);
    e.set_remote(b, pb.addr, Codec::Pcma, None);
    let rx_a = spawn_collect(&pa, LISTEN);
    let rx_b = spawn_collect(&pb, LISTEN);
    send_tone(&pa, leg_addr(a_port), Codec::Pcmu, 440.0, TWO_S);
    send_tone(&pb, leg_addr(b_port), Codec::Pcma, 1000.0, TWO_S);
    let (heard_a, heard_b) = (rx_a.await.unwrap(), rx_b.await.unwrap());

    assert!(heard_b.len() > 80, "B got {} packets", heard_b.len());
    assert!(heard_b
        .iter()
        .all(|p| p.pt == 8 && p.from == leg_addr(b_port)));
    let pcm_b = pcm_of(&heard_b);
    let (f440, f1000) = (tone_fraction(&pcm_b, 440.0), tone_fraction(&pcm_b, 1000.0));
    eprintln!("B hears 440={f440:.3} 1000={f1000:.3}");
    assert!(
        f440 > 0.8 && f1000 < 0.05,
        "B hears 440={f440:.3} 1000={f1000:.3}"
    );

    assert!(heard_a.len() > 80, "A got {} packets", heard_a.len());
    assert!(heard_a
        .iter()
        .all(|p| p.pt == 0 && p.from == leg_addr(a_port)));
    let pcm_a = pcm_of(&heard_a);
    let (f440, f1000) = (tone_fraction(&pcm_a, 440.0), tone_fraction(&pcm_a, 1000.0));
    assert!(
        f1000 > 0.8 && f440 < 0.05,
        "A hears 440={f440:.3} 1000={f1000:.3}"
    );

    let stats = e.stats(a).unwrap();
    assert!(stats.packets_in >= 95, "{stats:?}");
    assert_eq!(stats.bytes_in, stats.packets_in * 172);
    assert!(stats.packets_out >= heard_a.len() as u64);
    assert_eq!(stats.last_source, Some(pa.addr));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn outgoing_stream_is_continuous_with_markers() {
    let e = engine(40100).await;
    let a = e.create_leg().await.unwrap();
    // Music gives the leg something to hear on every tick.
    let room = e.create_room();
    e.join(room, a.id);
    e.set_music(room, Some("default"));
    let pa = phone().await;
    e.set_remote(a.id, pa.addr, Codec::Pcmu, None);
    let first = collect(pa.sock.clone(), Duration::from_millis(500)).await;
    // Hold us (sendonly): no packets.
    e.set_sending(a.id, false);
    sleep(Duration::from_millis(100)).await;
    let paused = collect(pa.sock.clone(), Duration::from_millis(300)).await;
    e.set_sending(a.id, true);
    let second = collect(pa.sock.clone(), Duration::from_millis(300)).await;

    assert!(first.len() >= 15, "{} packets", first.len());
    assert!(first[0].marker, "first packet has the marker bit");
    assert!(first[1..].iter().all(|p| !p.marker));
    for w in first.windows(2) {
        assert_eq!(w[1].seq, w[0].seq.wrapping_add(1));
        assert_eq!(w[1].ts, w[0].ts.wrapping_add(160));
        assert_eq!(w[1].ssrc, w[0].ssrc);
    }
    assert!(
        paused.len() <= 1,
        "{} packets while not sending",
        paused.len()
    );
    assert!(!second.is_empty());
    let resumed = &second[0];
    assert!(resumed.marker, "marker after resuming");
    assert_eq!(resumed.ssrc, first[0].ssrc);
    let last = paused.last().unwrap_or(first.last().unwrap());
    assert_eq!(resumed.seq, last.seq.wrapping_add(1), "sequence continues");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hold_plays_music_and_others_hear_silence() {
    let e = engine(40200).await;
    assert_eq!(
        e.music_classes(),
        vec!["default".to_string(), "ringback".to_string()]
    );
    let a = e.create_leg().await.unwrap();
    let b = e.create_leg().await.unwrap();
    let (hold, alone) = (e.create_room(), e.create_room());
    e.join(hold, a.id);
    e.join(alone, b.id);
    e.set_music(hold, Some("default"));
    let (pa, pb) = (phone().await, phone().await);
    e.set_remote(a.id, pa.addr, Codec::Pcmu, None);
    e.set_remote(b.id, pb.addr, Codec::Pcma, None);
    let rx_a = spawn_collect(&pa, LISTEN);
    let rx_b = spawn_collect(&pb, LISTEN);
    send_tone(&pa, leg_addr(a.local_port), Codec::Pcmu, 440.0, TWO_S);
    send_tone(&pb, leg_addr(b.local_port), Codec::Pcma, 1000.0, TWO_S);
    let (heard_a, heard_b) = (rx_a.await.unwrap(), rx_b.await.unwrap());

    let pcm_a = pcm_of(&heard_a);
    eprintln!(
        "hold: music rms {:.0}, 440={:.3}",
        rms(&pcm_a),
        tone_fraction(&pcm_a, 440.0)
    );
    assert!(rms(&pcm_a) > 500.0, "music rms {}", rms(&pcm_a));
    let f440 = tone_fraction(&pcm_a, 440.0);
    assert!(f440 < 0.1, "A must not hear its own tone, 440={f440:.3}");

    // B is alone but its phone sends media: it gets a continuous stream of silence.
    let pcm_b = pcm_of(&heard_b);
    assert!(heard_b.len() > 80, "B got {} packets", heard_b.len());
    let peak = pcm_b.iter().map(|v| v.unsigned_abs()).max().unwrap_or(0);
    assert!(peak <= 16, "B should hear near-silence, peak {peak}");

    // Unknown class falls back to default; None stops the music.
    e.set_music(hold, Some("no-such-class"));
    e.set_music(hold, None);
    sleep(Duration::from_millis(100)).await;
    drain(&pa.sock);
    let after = collect(pa.sock.clone(), Duration::from_millis(300)).await;
    assert!(pcm_of(&after).iter().all(|&s| s == 0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn conference_everyone_hears_the_others() {
    let e = engine(40300).await;
    let room = e.create_room();
    let freqs = [440.0, 1000.0, 1500.0];
    let mut phones = Vec::new();
    let mut rxs = Vec::new();
    for (i, &f) in freqs.iter().enumerate() {
        let leg = e.create_leg().await.unwrap();
        e.join(room, leg.id);
        let p = phone().await;
        let codec = if i == 1 { Codec::Pcma } else { Codec::Pcmu };
        e.set_remote(leg.id, p.addr, codec, None);
        rxs.push(spawn_collect(&p, LISTEN));
        send_tone(&p, leg_addr(leg.local_port), codec, f, TWO_S);
        phones.push(p);
    }
    assert_eq!(e.room_members(room).len(), 3);
    for (i, rx) in rxs.into_iter().enumerate() {
        let pcm = pcm_of(&rx.await.unwrap());
        let fr: Vec<f64> = freqs.iter().map(|&f| tone_fraction(&pcm, f)).collect();
        eprintln!("conference leg {i} hears {fr:?}");
        for (j, &x) in fr.iter().enumerate() {
            if i == j {
                assert!(x < 0.05, "leg {i} hears itself: {fr:?}");
            } else {
                assert!(x > 0.3, "leg {i} misses leg {j}: {fr:?}");
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mute_hides_a_leg() {
    let e = engine(40400).await;
    let (a, a_port, b, b_port) = bridged_pair(&e).await;
    let (pa, pb) = (phone().await, phone().await);
    e.set_remote(a, pa.addr, Codec::Pcmu, None);
    e.set_remote(b, pb.addr, Codec::Pcmu, None);
    e.set_muted(b, true);
    let rx_a = spawn_collect(&pa, Duration::from_millis(1200));
    let rx_b = spawn_collect(&pb, Duration::from_millis(1200));
    send_tone(
        &pa,
        leg_addr(a_port),
        Codec::Pcmu,
        440.0,
        Duration::from_secs(1),
    );
    send_tone(
        &pb,
        leg_addr(b_port),
        Codec::Pcmu,
        1000.0,
        Duration::from_secs(1),
    );
    let pcm_a = pcm_of(&rx_a.await.unwrap());
    let pcm_b = pcm_of(&rx_b.await.unwrap());
    assert!(pcm_a.iter().all(|&s| s == 0), "A must not hear muted B");
    assert!(tone_fraction(&pcm_b, 440.0) > 0.8, "muted B still hears A");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn recording_captures_both_directions() {
    let e = engine(40500).await;
    let (a, a_port, b, b_port) = bridged_pair(&e).await;
    let (pa, pb) = (phone().await, phone().await);
    e.set_remote(a, pa.addr, Codec::Pcmu, None);
    e.set_remote(b, pb.addr, Codec::Pcmu, None);
    let sa = send_tone(
        &pa,
        leg_addr(a_port),
        Codec::Pcmu,
        440.0,
        Duration::from_secs(3),
    );
    let sb = send_tone(
        &pb,
        leg_addr(b_port),
        Codec::Pcmu,
        1000.0,
        Duration::from_secs(3),
    );
    let dir = std::env::temp_dir().join(format!("sb-media-test-{}", std::process::id()));
    let path = dir.join("calls/a.wav");
    sleep(Duration::from_millis(500)).await;
    let started = Instant::now();
    let rec = e.start_recording(a, &path).unwrap();
    sleep(Duration::from_millis(1500)).await;
    let summary = e.stop_recording(rec).expect("summary");
    let span = started.elapsed().as_millis() as u64;
    assert_eq!(e.stop_recording(rec), Some(summary.clone()), "idempotent");
    assert!(e.stop_recording(999_999).is_none());
    sa.await.unwrap();
    sb.await.unwrap();

    assert_eq!(summary.path, path);
    // Whole 20 ms frames of the span, give or take a tick or two.
    assert!(
        summary.duration_ms + 60 >= span && summary.duration_ms <= span + 40,
        "duration {} ms for a {span} ms span",
        summary.duration_ms
    );
    let mut reader = hound::WavReader::open(&path).unwrap();
    let spec = reader.spec();
    assert_eq!(
        (spec.channels, spec.sample_rate, spec.bits_per_sample),
        (2, 8000, 16)
    );
    let samples: Vec<i16> = reader.samples::<i16>().map(|s| s.unwrap()).collect();
    assert_eq!(samples.len() as u64 / 16, summary.duration_ms);
    let left: Vec<i16> = samples.iter().step_by(2).copied().collect();
    let right: Vec<i16> = samples.iter().skip(1).step_by(2).copied().collect();
    let (l440, l1000) = (tone_fraction(&left, 440.0), tone_fraction(&left, 1000.0));
    let (r440, r1000) = (tone_fraction(&right, 440.0), tone_fraction(&right, 1000.0));
    eprintln!(
        "recording {} ms: left {l440:.3}/{l1000:.3} right {r440:.3}/{r1000:.3}",
        summary.duration_ms
    );
    assert!(
        l440 > 0.8 && l1000 < 0.05,
        "left 440={l440:.3} 1000={l1000:.3}"
    );
    assert!(
        r1000 > 0.8 && r440 < 0.05,
        "right 440={r440:.3} 1000={r1000:.3}"
    );

    // Recording stopped by destroy_leg still yields a summary.
    let rec2 = e.start_recording(b, &dir.join("b.wav")).unwrap();
    sleep(Duration::from_millis(200)).await;
    e.destroy_leg(b);
    let s2 = e.stop_recording(rec2).expect("summary after destroy_leg");
    assert!(s2.duration_ms >= 100, "{s2:?}");
    assert!(e.start_recording(b, &dir.join("c.wav")).is_err());
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dtmf_digit_reported_once() {
    let e = engine(40600).await;
    let a = e.create_leg().await.unwrap();
    let pa = phone().await;
    e.set_remote(a.id, pa.addr, Codec::Pcmu, Some(101));
    let mut events = e.subscribe();
    let to = leg_addr(a.local_port);
    let mut buf = [0u8; 16];
    for i in 1..=8u16 {
        let end = i > 5; // 5 progress packets, then 3 end packets
        let h = RtpHeader {
            payload_type: 101,
            marker: i == 1,
            sequence: 100 + i,
            timestamp: 8000,
            ssrc: 42,
        };
        h.write(&mut buf).unwrap();
        let mut ev = [0u8; 4];
        TelephoneEvent {
            event: 5,
            end,
            volume: 10,
            duration: 160 * i.min(5),
        }
        .write(&mut ev);
        buf[12..16].copy_from_slice(&ev);
        pa.sock.send_to(&buf, to).await.unwrap();
        sleep(Duration::from_millis(20)).await;
    }
    sleep(Duration::from_millis(300)).await;
    let mut digits = Vec::new();
    let mut first_packet = 0;
    while let Ok(ev) = events.try_recv() {
        match ev {
            MediaEvent::Dtmf { leg, digit } => {
                assert_eq!(leg, a.id);
                digits.push(digit);
            }
            MediaEvent::FirstPacket { leg, from } => {
                assert_eq!((leg, from), (a.id, pa.addr));
                first_packet += 1;
            }
            MediaEvent::RtpTimeout { .. } => panic!("unexpected timeout"),
        }
    }
    assert_eq!(digits, vec!['5']);
    assert_eq!(first_packet, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn latches_to_the_real_source() {
    let e = engine(40700).await;
    let a = e.create_leg().await.unwrap();
    let room = e.create_room();
    e.join(room, a.id);
    e.set_music(room, Some("default"));
    let (decoy, real) = (phone().await, phone().await);
    e.set_remote(a.id, decoy.addr, Codec::Pcmu, None);
    // Before any packet arrives the engine sends to the SDP address.
    let early = collect(decoy.sock.clone(), Duration::from_millis(200)).await;
    assert!(!early.is_empty(), "sends to SDP address before latching");

    send_tone(
        &real,
        leg_addr(a.local_port),
        Codec::Pcmu,
        440.0,
        Duration::from_secs(1),
    );
    sleep(Duration::from_millis(200)).await;
    drain(&decoy.sock);
    let rx_decoy = tokio::spawn(collect(decoy.sock.clone(), Duration::from_millis(500)));
    let to_real = collect(real.sock.clone(), Duration::from_millis(500)).await;
    let to_decoy = rx_decoy.await.unwrap();
    assert!(
        to_real.len() >= 20,
        "real source got {} packets",
        to_real.len()
    );
    assert!(
        to_decoy.is_empty(),
        "decoy still got {} packets",
        to_decoy.len()
    );
    assert_eq!(e.stats(a.id).unwrap().last_source, Some(real.addr));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rtp_timeout_only_while_expecting_media() {
    let e = engine(40800).await;
    e.set_rtp_timeout(Duration::from_millis(200));
    let a = e.create_leg().await.unwrap();
    let b = e.create_leg().await.unwrap();
    let c = e.create_leg().await.unwrap(); // never gets a remote
    let (pa, pb) = (phone().await, phone().await);
    let mut events = e.subscribe();
    e.set_remote(a.id, pa.addr, Codec::Pcmu, None);
    e.set_remote(b.id, pb.addr, Codec::Pcmu, None);
    e.set_sending(b.id, false);
    sleep(Duration::from_millis(2300)).await;
    let mut timed_out = Vec::new();
    while let Ok(ev) = events.try_recv() {
        if let MediaEvent::RtpTimeout { leg } = ev {
            timed_out.push(leg);
        }
    }
    assert_eq!(timed_out, vec![a.id], "only A times out, once");
    let _ = c;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn legs_rooms_lifecycle() {
    let e = engine(40900).await;
    let a = e.create_leg().await.unwrap();
    let b = e.create_leg_now().unwrap();
    assert_eq!(a.local_port % 2, 0);
    assert!((40900..=40999).contains(&a.local_port));
    assert_ne!(a.local_port, b.local_port);
    let (r1, r2) = (e.create_room(), e.create_room());
    e.join(r1, a.id);
    e.join(r1, b.id);
    e.join(r2, a.id); // moves
    assert_eq!(e.room_members(r1), vec![b.id]);
    assert_eq!(e.room_members(r2), vec![a.id]);
    assert_eq!(e.leg_room(a.id), Some(r2));
    e.leave(a.id);
    assert!(e.room_members(r2).is_empty());
    assert_eq!(e.leg_room(a.id), None);
    e.destroy_room(r1);
    assert_eq!(e.leg_room(b.id), None);
    assert!(e.room_members(r1).is_empty());
    e.join(r1, a.id); // unknown room: ignored
    assert_eq!(e.leg_room(a.id), None);

    e.destroy_leg(a.id);
    assert!(e.stats(a.id).is_none());
    assert_eq!(e.leg_count(), 1);
    // The port is released once the receive task is gone.
    let mut rebound = false;
    for _ in 0..50 {
        if std::net::UdpSocket::bind((LOCALHOST, a.local_port)).is_ok() {
            rebound = true;
            break;
        }
        sleep(Duration::from_millis(10)).await;
    }
    assert!(rebound, "port {} still bound", a.local_port);
    // Calls on unknown ids are harmless.
    e.set_remote(a.id, leg_addr(1), Codec::Pcmu, None);
    e.set_muted(a.id, true);
    e.destroy_leg(a.id);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dtmf_is_relayed_to_the_other_party_as_telephone_events() {
    let e = engine(41000).await;
    let a = e.create_leg().await.unwrap();
    let b = e.create_leg().await.unwrap();
    let (pa, pb) = (phone().await, phone().await);
    e.set_remote(a.id, pa.addr, Codec::Pcmu, Some(101));
    e.set_remote(b.id, pb.addr, Codec::Pcma, Some(96));
    let room = e.create_room();
    e.join(room, a.id);
    e.join(room, b.id);
    // Phone A presses 7: 5 progress packets and 3 end packets, one timestamp.
    let to = leg_addr(a.local_port);
    let mut buf = [0u8; 16];
    for i in 1..=8u16 {
        let h = RtpHeader {
            payload_type: 101,
            marker: i == 1,
            sequence: 500 + i,
            timestamp: 16000,
            ssrc: 7,
        };
        h.write(&mut buf).unwrap();
        let mut ev = [0u8; 4];
        TelephoneEvent {
            event: 7,
            end: i > 5,
            volume: 10,
            duration: 160 * i.min(5),
        }
        .write(&mut ev);
        buf[12..16].copy_from_slice(&ev);
        pa.sock.send_to(&buf, to).await.unwrap();
        sleep(Duration::from_millis(20)).await;
    }
    // Phone B receives the digit with its own payload type (96), then audio again.
    let deadline = Instant::now() + Duration::from_secs(2);
    let mut events = Vec::new();
    let mut rbuf = [0u8; 2048];
    while Instant::now() < deadline && events.iter().filter(|(_, end, _, _)| *end).count() < 3 {
        let Ok(Ok((n, _))) = timeout_at(deadline, pb.sock.recv_from(&mut rbuf)).await else {
            break;
        };
        let pkt = RtpPacket::parse(&rbuf[..n]).unwrap();
        if pkt.payload_type == 96 {
            let ev = TelephoneEvent::parse(pkt.payload).unwrap();
            events.push((ev.event, ev.end, pkt.timestamp, pkt.marker));
        }
    }
    assert_eq!(events.len(), 8, "{events:?}");
    assert!(
        events
            .iter()
            .all(|(code, _, ts, _)| *code == 7 && *ts == events[0].2),
        "{events:?}"
    );
    assert!(
        events[0].3 && events.iter().skip(1).all(|e| !e.3),
        "marker on the first packet only"
    );
    assert_eq!(
        events.iter().filter(|e| e.1).count(),
        3,
        "three end packets"
    );
    // Phone A does not get its own digit back.
    let mut got_back = false;
    let until = Instant::now() + Duration::from_millis(300);
    while let Ok(Ok((n, _))) = timeout_at(until, pa.sock.recv_from(&mut rbuf)).await {
        got_back |= RtpPacket::parse(&rbuf[..n])
            .map(|p| p.payload_type == 101)
            .unwrap_or(false);
    }
    assert!(!got_back);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn silence_is_not_sent_but_kept_alive_and_talkspurts_start_with_a_marker() {
    let e = engine(40900).await;
    let a = e.create_leg().await.unwrap();
    let b = e.create_leg().await.unwrap();
    let room = e.create_room();
    e.join(room, a.id);
    e.join(room, b.id);
    let (pa, pb) = (phone().await, phone().await);
    e.set_remote(a.id, pa.addr, Codec::Pcmu, None);
    e.set_remote(b.id, pb.addr, Codec::Pcmu, None);
    // Nobody talks: only keep-alives reach B.
    let quiet = collect(pb.sock.clone(), Duration::from_millis(1500)).await;
    assert!(
        (1..=3).contains(&quiet.len()),
        "{} packets while nobody talks",
        quiet.len()
    );
    assert!(quiet.iter().all(|p| p.pcm.iter().all(|&s| s == 0)));
    // A talks: B gets a continuous stream that starts with the marker bit.
    let rx_b = spawn_collect(&pb, Duration::from_millis(900));
    send_tone(
        &pa,
        leg_addr(a.local_port),
        Codec::Pcmu,
        440.0,
        Duration::from_secs(1),
    );
    let heard = rx_b.await.unwrap();
    let talk: Vec<_> = heard
        .iter()
        .skip_while(|p| p.pcm.iter().all(|&s| s == 0))
        .collect();
    assert!(talk.len() >= 30, "{} packets of speech", talk.len());
    assert!(talk[0].marker, "the talkspurt starts with the marker bit");
    for w in talk.windows(2) {
        assert_eq!(
            w[1].seq,
            w[0].seq.wrapping_add(1),
            "no gap inside the talkspurt"
        );
    }
    assert!(tone_fraction(&pcm_of(&heard), 440.0) > 0.5);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_phone_that_sends_media_gets_a_continuous_stream_even_alone() {
    let e = engine(41000).await;
    let a = e.create_leg().await.unwrap();
    let room = e.create_room();
    e.join(room, a.id);
    let pa = phone().await;
    e.set_remote(a.id, pa.addr, Codec::Pcmu, None);
    let rx = spawn_collect(&pa, Duration::from_millis(1500));
    send_tone(
        &pa,
        leg_addr(a.local_port),
        Codec::Pcmu,
        440.0,
        Duration::from_secs(2),
    );
    let heard = rx.await.unwrap();
    assert!(heard.len() >= 50, "{} packets", heard.len());
    assert!(
        heard.iter().all(|p| p.pcm.iter().all(|&s| s == 0)),
        "silence, not its own voice"
    );
}

/// A tick larger than one slice (the tick task yields between slices of
/// legs so signalling is not held up): every leg still gets one packet per
/// tick, none twice, as 150 callers on hold would.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_leg_of_a_large_tick_gets_one_packet_per_tick() {
    let e = MediaEngine::start(MediaConfig {
        bind_ip: LOCALHOST,
        port_min: 43200,
        port_max: 43599,
        music_dir: None,
    })
    .await
    .expect("engine starts");
    let p = phone().await;
    let mut ports = std::collections::HashMap::new();
    for _ in 0..150 {
        let leg = e.create_leg().await.unwrap();
        let room = e.create_room();
        e.join(room, leg.id);
        e.set_music(room, Some("default"));
        e.set_remote(leg.id, p.addr, Codec::Pcmu, None);
        ports.insert(leg.local_port, Vec::new());
    }
    sleep(Duration::from_millis(200)).await;
    drain(&p.sock);
    for r in collect(p.sock.clone(), Duration::from_millis(1000)).await {
        ports
            .get_mut(&r.from.port())
            .expect("a leg's port")
            .push(r.seq);
    }
    for (port, seqs) in &ports {
        assert!(
            (40..=60).contains(&seqs.len()),
            "leg {port}: {} packets in 1 s",
            seqs.len()
        );
        for w in seqs.windows(2) {
            assert_eq!(w[1], w[0].wrapping_add(1), "leg {port}: no gap, no repeat");
        }
    }
}
