//! Per-leg exclusions in a mixing room (supervision) over real UDP sockets:
//! customer 1000 Hz, agent 440 Hz, supervisor 700 Hz, and which tones each
//! phone hears as the exclusions change.

mod common;

use std::time::Duration;

use common::*;
use switchboard_media::Codec;

const SEND: Duration = Duration::from_millis(1500);
const LISTEN: Duration = Duration::from_millis(1700);
const FREQS: [f64; 3] = [1000.0, 440.0, 700.0];

/// Send the three tones for a while; what each of customer, agent and
/// supervisor heard of each tone (fractions of frames).
async fn round(
    e: &switchboard_media::MediaEngine,
    legs: &[(u64, u16)],
    phones: &[Phone],
) -> Vec<Vec<f64>> {
    let mut rxs = Vec::new();
    for (i, p) in phones.iter().enumerate() {
        rxs.push(spawn_collect(p, LISTEN));
        send_tone(p, leg_addr(legs[i].1), Codec::Pcmu, FREQS[i], SEND);
    }
    let _ = e;
    let mut heard = Vec::new();
    for rx in rxs {
        let pcm = pcm_of(&rx.await.expect("collected"));
        heard.push(FREQS.iter().map(|&f| tone_fraction(&pcm, f)).collect());
    }
    heard
}

#[track_caller]
fn check(heard: &[Vec<f64>], expected: [[bool; 3]; 3], what: &str) {
    let names = ["customer", "agent", "supervisor"];
    for (i, row) in expected.iter().enumerate() {
        for (j, &hears) in row.iter().enumerate() {
            if i == j {
                continue;
            }
            let x = heard[i][j];
            if hears {
                assert!(
                    x > 0.3,
                    "{what}: {} misses {}: {heard:?}",
                    names[i],
                    names[j]
                );
            } else {
                assert!(
                    x < 0.05,
                    "{what}: {} hears {}: {heard:?}",
                    names[i],
                    names[j]
                );
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn listen_whisper_barge_through_exclusions() {
    let e = engine(42500).await;
    let room = e.create_room();
    let mut legs = Vec::new();
    let mut phones = Vec::new();
    for _ in 0..3 {
        let leg = e.create_leg().await.expect("leg");
        e.join(room, leg.id);
        let p = phone().await;
        e.set_remote(leg.id, p.addr, Codec::Pcmu, None);
        legs.push((leg.id, leg.local_port));
        phones.push(p);
    }
    let (c, a, s) = (legs[0].0, legs[1].0, legs[2].0);
    // Listen: nobody hears the supervisor.
    e.set_unheard(c, &[s]);
    e.set_unheard(a, &[s]);
    let h = round(&e, &legs, &phones).await;
    check(
        &h,
        [
            [false, true, false],
            [true, false, false],
            [true, true, false],
        ],
        "listen",
    );
    // Whisper: the agent hears the supervisor.
    e.set_unheard(a, &[]);
    let h = round(&e, &legs, &phones).await;
    check(
        &h,
        [
            [false, true, false],
            [true, false, true],
            [true, true, false],
        ],
        "whisper",
    );
    // Barge: everyone.
    e.set_unheard(c, &[]);
    let h = round(&e, &legs, &phones).await;
    check(
        &h,
        [
            [false, true, true],
            [true, false, true],
            [true, true, false],
        ],
        "barge",
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_members_with_an_exclusion_mix_instead_of_forwarding() {
    let e = engine(42600).await;
    let room = e.create_room();
    let mut legs = Vec::new();
    let mut phones = Vec::new();
    for _ in 0..2 {
        let leg = e.create_leg().await.expect("leg");
        e.join(room, leg.id);
        let p = phone().await;
        e.set_remote(leg.id, p.addr, Codec::Pcmu, None);
        legs.push((leg.id, leg.local_port));
        phones.push(p);
    }
    // The agent on hold with a listening supervisor: the agent must not hear it.
    e.set_unheard(legs[0].0, &[legs[1].0]);
    let rx0 = spawn_collect(&phones[0], LISTEN);
    let rx1 = spawn_collect(&phones[1], LISTEN);
    send_tone(&phones[0], leg_addr(legs[0].1), Codec::Pcmu, 440.0, SEND);
    send_tone(&phones[1], leg_addr(legs[1].1), Codec::Pcmu, 700.0, SEND);
    let pcm0 = pcm_of(&rx0.await.expect("collected"));
    let pcm1 = pcm_of(&rx1.await.expect("collected"));
    assert!(
        tone_fraction(&pcm0, 700.0) < 0.05,
        "agent hears the listener"
    );
    assert!(
        tone_fraction(&pcm1, 440.0) > 0.3,
        "supervisor hears the agent"
    );
}
