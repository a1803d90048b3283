//! Phones behind a NAT in virtual time: the switch answers and calls them
//! at their public address (not the private Contact), caps their
//! registration, and pings them with OPTIONS so the NAT's mapping stays
//! open; phones on the same network get neither.

mod harness;

use std::net::SocketAddr;

use harness::{CallState, FakePhone, Harness, Setup, SERVER, SIP_PASSWORD};

fn addr(s: &str) -> SocketAddr {
    s.parse().unwrap()
}

/// Agent 1001's phone at 192.168.1.20:5060 behind a NAT whose public side is 203.0.113.5:40000.
fn harness() -> Harness {
    let mut h = Harness::with(Setup {
        nat_keepalive_secs: 20,
        ..Setup::default()
    });
    let mut p = FakePhone::new(
        "1001",
        SIP_PASSWORD,
        addr("203.0.113.5:40000"),
        addr(SERVER),
    )
    .behind_nat(addr("192.168.1.20:5060"));
    p.register(h.now);
    h.phones.insert("1001", p);
    h.settle();
    assert!(h.phone("1001").is_registered());
    h
}

#[test]
fn a_phone_behind_nat_is_capped_pinged_and_reached_at_its_public_address() {
    let mut h = harness();
    let granted = h.stored.iter().rev().find_map(|o| match o {
        switchboard_switch::StoreOp::Registrations { username, rows } if username == "1001" => {
            rows.last().map(|r| (r.expires_at as u64 - h.now) / 1000)
        }
        _ => None,
    });
    assert_eq!(
        granted,
        Some(300),
        "asked 3600 s, capped at 300 s behind a NAT"
    );

    let before = options_to(&h, "1001");
    h.run_for(20_000);
    assert_eq!(options_to(&h, "1001"), before + 1, "one ping after 20 s");
    h.run_for(20_000);
    assert_eq!(options_to(&h, "1001"), before + 2);
    assert_eq!(
        options_to(&h, "1002"),
        0,
        "a phone on the LAN is not pinged"
    );

    // A call to the agent goes to the public address the NAT maps.
    h.phone_dials("1002", "1001");
    assert_eq!(h.state("1001", 0), CallState::Ringing);
    h.answer("1001", 0);
    assert!(h.hears(("1002", 0), ("1001", 0)));
    assert!(
        h.strays
            .iter()
            .all(|(a, _)| a.ip().to_string() != "192.168.1.20"),
        "nothing is ever sent to the private Contact"
    );
}

fn options_to(h: &Harness, phone: &str) -> usize {
    h.phones[phone]
        .received()
        .iter()
        .filter(|m| *m == "OPTIONS")
        .count()
}
