//! The echo test of a leg (an agent's "test your audio"): what the phone
//! sends comes back to it while the leg is in no room; a leg in a call
//! cannot be echoed, and joining a room ends the echo.

mod common;

use std::time::Duration;

use common::*;
use switchboard_media::Codec;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_echoed_leg_hears_itself_and_a_leg_in_a_room_cannot_be_echoed() {
    let e = engine(42700).await;
    let leg = e.create_leg().await.expect("leg");
    let p = phone().await;
    e.set_remote(leg.id, p.addr, Codec::Pcmu, None);
    assert!(e.set_echo(leg.id, true), "a leg alone can be echoed");
    let rx = spawn_collect(&p, Duration::from_millis(1500));
    send_tone(
        &p,
        leg_addr(leg.local_port),
        Codec::Pcmu,
        700.0,
        Duration::from_secs(1),
    );
    let heard = rx.await.expect("collected");
    let f = tone_fraction(&pcm_of(&heard), 700.0);
    assert!(
        f > 0.8,
        "the phone hears its own 700 Hz: {f:.3} ({} packets)",
        heard.len()
    );

    // Echo off: the phone hears silence again.
    assert!(e.set_echo(leg.id, false));
    let rx = spawn_collect(&p, Duration::from_millis(1500));
    send_tone(
        &p,
        leg_addr(leg.local_port),
        Codec::Pcmu,
        700.0,
        Duration::from_secs(1),
    );
    let heard = rx.await.expect("collected");
    let f = tone_fraction(&pcm_of(&heard), 700.0);
    assert!(f < 0.05, "no echo once stopped: {f:.3}");

    // In a call (a room), the echo is refused.
    let room = e.create_room();
    e.join(room, leg.id);
    assert!(!e.set_echo(leg.id, true), "a leg in a call is not echoed");
    assert!(!e.set_echo(u64::MAX, true), "unknown leg");
}
