//! A campaign's own trunks and caller ID in virtual time: its dialer calls
//! (and callbacks, the same request), its agents' calls and transfers to
//! numbers from its calls leave through its trunks in its order with its
//! caller ID (From, P-Asserted-Identity, privacy), whatever the trunks'
//! priority and caller ID say; calls outside it keep the trunks' rules.

mod harness;

use std::net::SocketAddr;

use harness::{campaign, CallState, FakePhone, Harness, Setup, SERVER};
use switchboard_call::{Command, Target};
use switchboard_center::{Actor, CallerId, CampaignOutbound};
use switchboard_sip::Request;
use switchboard_switch::{AgentStatus, CampaignInfo, EngineRequest, Trunk};

/// Address of trunk `carrier-b` (a fake phone answers there); `main` is the harness's `trunk`.
const CARRIER_B: &str = "127.0.0.1:5092";

fn addr(s: &str) -> SocketAddr {
    s.parse().unwrap()
}

fn caller_id(number: &str, name: Option<&str>, privacy: bool) -> Option<CallerId> {
    Some(CallerId {
        number: number.into(),
        name: name.map(str::to_string),
        privacy,
    })
}

fn with_outbound(mut c: CampaignInfo, trunks: &[&str], cid: Option<CallerId>) -> CampaignInfo {
    c.outbound = CampaignOutbound {
        trunks: trunks.iter().map(|t| t.to_string()).collect(),
        caller_id: cid,
    };
    c
}

/// Trunks `main` (priority 1, the harness's `trunk` phone) and `carrier-b`
/// (priority 2, caller ID of its own); campaigns `sales` (dialer: carrier-b
/// then main, caller ID "Acme Sales"), `outreach` (manual: caller ID only)
/// and `vip` (inbound, DID 5001: carrier-b, withheld caller ID).
fn setup() -> Harness {
    let mut main = Trunk::at("main", addr(harness::TRUNK));
    main.priority = 1;
    let mut b = Trunk::at("carrier-b", addr(CARRIER_B));
    b.priority = 2;
    b.caller_id = Some("+34910000000".into());
    let sales = with_outbound(
        campaign("sales", "dialer", None, false),
        &["carrier-b", "main"],
        caller_id("+34911000000", Some("Acme Sales"), false),
    );
    let outreach = with_outbound(
        campaign("outreach", "manual", None, false),
        &[],
        caller_id("+34912000000", None, false),
    );
    let vip = with_outbound(
        campaign("vip", "inbound", Some("5001"), false),
        &["carrier-b"],
        caller_id("+34913000000", Some("VIP"), true),
    );
    let mut h = Harness::with(Setup {
        trunks: Some(vec![main, b]),
        campaigns: vec![
            campaign("support", "inbound", Some("5000"), false),
            sales,
            outreach,
            vip,
        ],
        ..Setup::default()
    });
    h.phones.insert(
        "carrier-b",
        FakePhone::new("carrier-b", "", addr(CARRIER_B), addr(SERVER)),
    );
    h
}

/// The INVITE that started `phone`'s call `i`.
fn invite(h: &mut Harness, phone: &str, i: usize) -> Request {
    h.phone(phone).calls()[i]
        .received
        .clone()
        .expect("an incoming call")
}

fn header(r: &Request, name: &str) -> String {
    r.header(name).unwrap_or_default().to_string()
}

fn dialer_call(h: &mut Harness, campaign: &str, number: &str) -> String {
    let (campaign, number) = (campaign.to_string(), number.to_string());
    h.api(|reply| EngineRequest::DialerCall {
        campaign,
        number,
        contact_id: None,
        timezone: None,
        reply,
    })
    .expect("placed")["call_id"]
        .as_str()
        .unwrap()
        .to_string()
}

fn manual_call(h: &mut Harness, agent: &str, campaign: Option<&str>, number: &str) {
    let actor = Actor {
        username: agent.into(),
        supervisor: false,
        campaigns: None,
    };
    let campaign = campaign.map(str::to_string);
    let target = Target::Number(number.into());
    h.api(|reply| EngineRequest::Dial {
        actor,
        target,
        campaign,
        contact_id: None,
        timezone: None,
        reply,
    })
    .expect("placed");
}

#[test]
fn a_dialer_call_leaves_through_the_campaigns_first_trunk_with_its_caller_id() {
    let mut h = setup();
    h.phone("carrier-b").behaviour_mut().auto_decline = Some(503);
    let call = dialer_call(&mut h, "sales", "+34600111222");
    let inv = invite(&mut h, "carrier-b", 0);
    assert!(
        inv.uri
            .to_string()
            .starts_with("sip:+34600111222@127.0.0.1:5092"),
        "carrier-b first although main has the better priority: {}",
        inv.uri
    );
    let from = header(&inv, "From");
    assert!(
        from.starts_with("\"Acme Sales\" <sip:+34911000000@127.0.0.1>"),
        "campaign caller ID, not carrier-b's +34910000000: {from}"
    );
    assert_eq!(
        header(&inv, "P-Asserted-Identity"),
        "\"Acme Sales\" <sip:+34911000000@127.0.0.1>"
    );
    assert!(inv.header("Privacy").is_none());
    // carrier-b refuses: the failover to main keeps the campaign's caller ID.
    assert_eq!(
        h.state("carrier-b", 0),
        CallState::Terminated { status: 503 }
    );
    let inv = invite(&mut h, "trunk", 0);
    assert!(inv
        .uri
        .to_string()
        .starts_with("sip:+34600111222@127.0.0.1:5090"));
    assert!(
        header(&inv, "From").contains("sip:+34911000000@"),
        "{inv:?}"
    );
    assert!(h.events(&call).contains(&"TRUNK_FAILOVER".to_string()));
    h.answer("trunk", 0);
    h.hangup("trunk", 0);
    h.assert_clean();
}

#[test]
fn an_agents_call_in_a_campaign_shows_its_caller_id_and_outside_it_the_trunks() {
    let mut h = setup();
    // outreach names no trunk: the dialling rules (main, priority 1) with its caller ID.
    manual_call(&mut h, "1001", Some("outreach"), "+34600111222");
    h.answer("1001", 0);
    let inv = invite(&mut h, "trunk", 0);
    assert!(header(&inv, "From").starts_with("<sip:+34912000000@127.0.0.1>"));
    assert_eq!(
        header(&inv, "P-Asserted-Identity"),
        "<sip:+34912000000@127.0.0.1>"
    );
    h.hangup("1001", 0);
    // Out of any campaign: main's own rules (no caller ID: the extension, no PAI).
    manual_call(&mut h, "1001", None, "+34600111333");
    h.answer("1001", 1);
    let inv = invite(&mut h, "trunk", 1);
    assert!(header(&inv, "From").starts_with("<sip:1001@127.0.0.1>"));
    assert!(inv.header("P-Asserted-Identity").is_none());
    h.hangup("1001", 1);
    assert!(h.phone("carrier-b").calls().is_empty());
    h.assert_clean();
}

#[test]
fn transfers_to_numbers_from_a_campaigns_call_use_its_trunk_and_withheld_caller_id() {
    let mut h = setup();
    h.set_state("1001", AgentStatus::Ready);
    h.customer_calls("5001");
    h.answer("1001", 0);
    let call = h.only_call();
    h.command(
        "1001",
        &call,
        Command::BlindTransfer(Target::Number("5559999".into())),
    )
    .expect("blind transfer");
    let inv = invite(&mut h, "carrier-b", 0);
    assert!(inv
        .uri
        .to_string()
        .starts_with("sip:5559999@127.0.0.1:5092"));
    assert!(
        header(&inv, "From").contains("sip:anonymous@anonymous.invalid"),
        "privacy: {inv:?}"
    );
    assert_eq!(inv.header("Privacy"), Some("id"));
    assert_eq!(
        header(&inv, "P-Asserted-Identity"),
        "\"VIP\" <sip:+34913000000@127.0.0.1>"
    );
    h.answer("carrier-b", 0);
    assert!(
        h.hears(("trunk", 0), ("carrier-b", 0)),
        "customer with the number"
    );
    h.hangup("carrier-b", 0);

    // A consultative transfer from the next call of the campaign, the same.
    h.set_state("1001", AgentStatus::Ready);
    h.customer_calls("5001");
    h.answer("1001", 1);
    let call = h.only_call();
    h.command(
        "1001",
        &call,
        Command::ConsultTransfer(Target::Number("5558888".into())),
    )
    .expect("consult transfer");
    let inv = invite(&mut h, "carrier-b", 1);
    assert!(inv
        .uri
        .to_string()
        .starts_with("sip:5558888@127.0.0.1:5092"));
    assert_eq!(
        header(&inv, "P-Asserted-Identity"),
        "\"VIP\" <sip:+34913000000@127.0.0.1>"
    );
    h.answer("carrier-b", 1);
    h.command("1001", &call, Command::CancelTransfer)
        .expect("cancel");
    h.hangup("1001", 1);
    h.assert_clean();
}

#[test]
fn new_settings_apply_to_the_next_call_and_unconfigured_trunks_fail_clearly() {
    let mut h = setup();
    let changed = with_outbound(
        campaign("sales", "dialer", None, false),
        &["main"],
        caller_id("+34919999999", None, false),
    );
    let now = h.now;
    h.switch
        .handle_request(now, EngineRequest::UpsertCampaign(Box::new(changed)));
    h.settle();
    dialer_call(&mut h, "sales", "+34600111222");
    let inv = invite(&mut h, "trunk", 0);
    assert!(header(&inv, "From").contains("sip:+34919999999@"));
    assert!(h.phone("carrier-b").calls().is_empty());
    h.hangup("trunk", 0);

    let gone = with_outbound(campaign("sales", "dialer", None, false), &["retired"], None);
    h.switch
        .handle_request(now, EngineRequest::UpsertCampaign(Box::new(gone)));
    h.settle();
    let (campaign, number) = ("sales".to_string(), "+34600111222".to_string());
    let refused = h
        .api(|reply| EngineRequest::DialerCall {
            campaign,
            number,
            contact_id: None,
            timezone: None,
            reply,
        })
        .expect_err("no trunk to call through");
    assert_eq!(refused.status, 409, "{refused:?}");
    let why = h.stored.iter().find_map(|o| match o {
        switchboard_switch::StoreOp::CallEvent { kind, detail, .. } if kind == "NO_TRUNK" => {
            Some(detail.clone())
        }
        _ => None,
    });
    assert_eq!(
        why.as_deref(),
        Some("none of the campaign's trunks (retired) is configured or resolved")
    );
    assert_eq!(
        h.phone("trunk").calls().len(),
        1,
        "never the dialling rules instead"
    );
    assert!(h.phone("carrier-b").calls().is_empty());
    h.assert_clean();
}
