//! The embedded web console in a real headless browser (Debian chromium via
//! chromedriver, see tests/console_driver/): login, the agent's state,
//! the webphone's dialogs and errors, campaign (preview/manual) calls, the
//! supervisor wall (live over the WebSocket) and recordings, the admin views
//! and the CSV import report; and, with baresip phones, every webphone call
//! action on live calls (call out, hold, record, tag, consultative transfer,
//! conference and mute, complete/cancel transfer, blind transfer, hang up,
//! disposition with Agenda). Screenshots go to target/screenshots/*.png
//! (`failure-<port>.png` when a test fails).
//!
//! Needs `chromium chromium-driver` (and baresip, sox for the live-call tests).
//! `cargo test --test console`

mod common;
mod console_driver;

use std::time::Duration;

use common::*;
use console_driver::{keys, Browser};
use serde_json::{json, Value};

const T: Duration = Duration::from_secs(10);

fn opts() -> ServerOpts {
    let mut support = CampaignCfg::inbound("support", "5000", &["1001", "1002"]);
    support.extra = "dispositions = [\"Resolved\", \"Escalated\"]".into();
    let mut sales = CampaignCfg::inbound("sales", "5001", &["1002"]);
    sales.auto_recording = false;
    let mut outreach = CampaignCfg::inbound("outreach", "", &["1001"]);
    outreach.kind = "preview".into();
    outreach.did = None;
    outreach.extra = "dispositions = [\"Interested\", \"Not interested\"]".into();
    let mut collections = outreach.clone();
    collections.name = "collections".into();
    collections.kind = "manual".into();
    ServerOpts::new()
        .agent(AgentCfg::new("1001").name("Alice Agent"))
        .agent(AgentCfg::new("1002").name("Bob Agent"))
        .agent(
            AgentCfg::new("2000")
                .name("Sam Supervisor")
                .role("supervisor"),
        )
        .agent(AgentCfg::new("9000").name("Ada Admin").role("admin"))
        .campaign(support)
        .campaign(sales)
        .campaign(outreach)
        .campaign(collections)
}

fn base(s: &Server) -> String {
    format!("http://127.0.0.1:{}/", s.http_port)
}

fn add_pause_reasons(s: &Server, names: &[&str]) {
    let admin = s.login("9000", "pw9000");
    for n in names {
        let (st, v) = s.api(
            "POST",
            "/api/pause-reasons",
            Some(&json!({"name": n})),
            Some(&admin),
        );
        assert_eq!(st, 200, "add pause reason {n}: {v}");
    }
}

fn presence(s: &Server, token: &str, user: &str) -> Value {
    let (st, v) = s.api("GET", "/api/agents", None, Some(token));
    assert_eq!(st, 200, "{v}");
    v["agents"]
        .as_array()
        .and_then(|a| a.iter().find(|x| x["username"] == user).cloned())
        .unwrap_or_else(|| panic!("no presence for {user} in {v}"))
}

fn login(b: &Browser, s: &Server, user: &str, password: &str) {
    b.goto(&base(s));
    b.wait_visible("#login-username", T);
    b.type_text("#login-username", user);
    b.type_text("#login-password", password);
    b.click("#login-submit");
    b.wait_visible("#app-header", T);
    b.wait_attr("#ws-status", "data-state", "open", T);
}

/// Log out and wait until the session is gone (the login form is back).
fn logout(b: &Browser) {
    b.click("#btn-logout");
    b.wait_visible("#login-view", T);
}

/// No JavaScript exception was logged (failed requests are expected: the
/// tests provoke server refusals on purpose, and they are shown to the user).
fn assert_no_js_errors(b: &Browser, context: &str) {
    let errs: Vec<String> = b
        .console_errors()
        .into_iter()
        .filter(|l| !l.contains("Failed to load resource"))
        .collect();
    assert!(
        errs.is_empty(),
        "{context}: browser console errors:\n{}",
        errs.join("\n")
    );
}

/// Agent console: login errors, state changes (ready / paused with a reason),
/// buttons disabled without a call, the "Call out of campaign" dialog
/// (agent list with states, Escape closes and focus returns, server errors
/// shown), reload restores the session, tablet layout.
#[test]
fn agent_console_state_and_dialogs() {
    let _g = serial();
    let dir = TestDir::new("console_agent");
    let s = Server::start(&dir, opts());
    add_pause_reasons(&s, &["Lunch", "Training"]);
    let b = Browser::start(&dir);

    // Wrong password: the server's message is shown on the login form.
    b.goto(&base(&s));
    b.wait_visible("#login-username", T);
    b.type_text("#login-username", "1001");
    b.type_text("#login-password", "nope");
    b.click("#login-submit");
    b.wait_text("#login-error", "wrong username or password", T);

    login(&b, &s, "1001", "pw1001");
    b.wait_visible("#agent-view", T);
    assert_eq!(b.text("#agent-name"), "Alice Agent");
    b.wait_text("#agent-status", "Offline", T);
    assert_eq!(b.value("#state-select"), "offline");
    assert!(b.text("#phone-status").contains("not registered"));
    assert!(
        !b.is_displayed("#nav-supervisor"),
        "agents see no supervisor tab"
    );
    assert!(!b.is_displayed("#nav-admin"), "agents see no admin tab");

    // No call: every call action is disabled, "Call out of campaign" is enabled.
    assert_eq!(b.text("#call-state"), "No call");
    for id in [
        "#btn-hold",
        "#btn-unhold",
        "#btn-transfer",
        "#btn-cancel-transfer",
        "#btn-complete-transfer",
        "#btn-confer",
        "#btn-hangup",
        "#btn-tag",
        "#btn-record",
    ] {
        assert!(!b.is_enabled(id), "{id} must be disabled without a call");
    }
    assert!(b.is_enabled("#btn-call-out"));
    b.wait_text("#agenda-list", "No callbacks scheduled", T);
    b.wait_text("#history-list", "No calls today", T);

    // Ready.
    b.select("#state-select", "ready");
    b.wait_text("#agent-status", "Ready", T);
    b.wait_attr("#agent-status", "data-status", "ready", T);
    let token = s.login("1001", "pw1001");
    assert_eq!(presence(&s, &token, "1001")["status"], "ready");
    b.screenshot("agent-console");

    // Paused with a configured reason.
    b.select("#state-select", "paused:Lunch");
    b.wait_text("#agent-status", "Paused (Lunch)", T);
    let p = presence(&s, &token, "1001");
    assert_eq!(p["status"], "paused");
    assert_eq!(p["pause_reason"], "Lunch");

    // Call out of campaign (opened from the keyboard): dialog, agent list
    // with states, Escape, focus return.
    b.exec("document.getElementById('btn-call-out').focus()", vec![]);
    b.press(keys::ENTER);
    b.wait_until("call-out dialog open", T, |b| {
        b.prop("#callout-dialog", "open") == true
    });
    assert_eq!(b.focused_id(), "callout-number");
    b.click("#callout-kind-agent");
    b.wait_visible("#callout-agent-1002", T);
    let list = b.text("#callout-agent-list");
    assert!(
        list.contains("Bob Agent") && list.contains("Offline"),
        "agent list: {list}"
    );
    assert!(!b.exists("#callout-agent-1001"), "I am not in my own list");
    b.screenshot("callout-dialog");
    b.press(keys::ESCAPE);
    b.wait_until("call-out dialog closed", T, |b| {
        b.prop("#callout-dialog", "open") == false
    });
    assert_eq!(
        b.focused_id(),
        "btn-call-out",
        "focus returns to the opener"
    );

    // Dialling a number: the server's refusal is shown in the dialog and the alert region.
    b.click("#btn-call-out");
    b.click("#callout-kind-number");
    b.type_text("#callout-number", "5551234");
    b.click("#callout-submit");
    b.wait_text("#error-text", "cannot place a call", T);
    b.wait_text("#callout-dialog .dialog-error", "cannot place a call", T);
    assert_eq!(
        b.prop("#callout-dialog", "open"),
        true,
        "dialog stays open on error"
    );
    b.click("#callout-cancel");
    b.wait_until("dialog closed", T, |b| {
        b.prop("#callout-dialog", "open") == false
    });

    // Reload: the session and the state are restored.
    b.refresh();
    b.wait_visible("#agent-view", T);
    b.wait_text("#agent-status", "Paused (Lunch)", T);
    assert_eq!(b.value("#state-select"), "paused:Lunch");

    // Campaign calls: preview dialling offers the next contact; a manual
    // campaign takes a number.
    let admin = s.login("9000", "pw9000");
    let r = http::request(
        s.http_port,
        "POST",
        "/api/contacts/import?list=leads&campaign=outreach",
        &[
            ("Content-Type", "text/csv"),
            ("Authorization", &format!("Bearer {admin}")),
        ],
        Some(b"phone,name,company\n34600111222,Ana Garcia,Acme\n"),
        T,
    )
    .expect("import");
    assert_eq!(r.status, 200, "{}", r.text());
    b.wait_visible("#campaign-dial-panel", T);
    b.select("#campaign-dial-select", "outreach");
    assert!(!b.is_displayed("#campaign-manual-form"));
    b.click("#btn-next-contact");
    b.wait_text("#preview-name", "Ana Garcia", T);
    assert!(b.text("#preview-contact").contains("Acme"));
    assert_eq!(b.focused_id(), "preview-call");
    b.click("#preview-call");
    b.wait_text("#error-text", "cannot place a call", T);
    b.click("#btn-next-contact");
    b.wait_text("#error-text", "no contact left", T);
    b.select("#campaign-dial-select", "collections");
    b.wait_visible("#campaign-manual-form", T);
    b.screenshot("agent-campaign-calls");

    // Tablet width: no horizontal scrolling of the page.
    b.set_window_size(768, 1024);
    std::thread::sleep(Duration::from_millis(300));
    assert!(
        !b.has_horizontal_overflow(),
        "agent console overflows at 768 px"
    );
    b.screenshot_full("agent-console-tablet");
    b.set_window_size(1366, 900);
    assert!(
        !b.has_horizontal_overflow(),
        "agent console overflows at 1366 px"
    );

    // Back to ready, then log out (the console sets the agent offline).
    b.select("#state-select", "ready");
    b.wait_text("#agent-status", "Ready", T);
    assert_no_js_errors(&b, "agent console");
    logout(&b);
    assert_eq!(presence(&s, &token, "1001")["status"], "offline");
}

/// Supervisor: the wall shows every agent's state and follows changes live,
/// queues and campaigns are listed, the recordings search answers.
#[test]
fn supervisor_wall_follows_agents_live() {
    let _g = serial();
    let dir = TestDir::new("console_supervisor");
    let s = Server::start(&dir, opts());
    add_pause_reasons(&s, &["Lunch"]);
    let alice = s.login("1001", "pw1001");
    let (st, v) = s.api(
        "PUT",
        "/api/agents/me/state",
        Some(&json!({"state": "ready"})),
        Some(&alice),
    );
    assert_eq!(st, 200, "{v}");

    let b = Browser::start(&dir);
    login(&b, &s, "2000", "pw2000");
    // Supervisors land on the supervisor view.
    b.wait_visible("#supervisor-view", T);
    assert_eq!(
        b.attr("#nav-supervisor", "aria-current").as_deref(),
        Some("page")
    );
    b.wait_attr("#agent-card-1001", "data-status", "ready", T);
    b.wait_text("#agent-card-1001", "Ready", T);
    b.wait_text("#agent-card-1002", "Offline", T);
    b.wait_text("#agent-card-1001", "Alice Agent", T);

    // Live: the agent pauses through the API; the wall follows over the WebSocket.
    let (st, v) = s.api(
        "PUT",
        "/api/agents/me/state",
        Some(&json!({"state": "paused", "reason": "Lunch"})),
        Some(&alice),
    );
    assert_eq!(st, 200, "{v}");
    b.wait_text("#agent-card-1001", "Paused (Lunch)", T);
    // Time in state ticks every second.
    let t0 = b.text("#agent-card-1001 .timer");
    b.wait_until("time in state to advance", Duration::from_secs(4), |b| {
        b.text("#agent-card-1001 .timer") != t0
    });

    b.wait_visible("#queue-row-support", T);
    assert_eq!(b.text("#queue-waiting-support"), "0");
    // Service level: nobody has left the queue yet.
    assert_eq!(b.text("#queue-sl-support"), "—");
    b.wait_text("#campaign-list", "sales", T);
    b.wait_text("#live-calls", "No live calls", T);
    b.wait_text("#recordings-results", "No recordings match", T);
    b.type_text("#rec-tag", "angry");
    b.click("#rec-search");
    b.wait_text("#status-region", "0 recordings found", T);
    b.screenshot_full("supervisor-wall");

    // The supervisor also has the agent console.
    b.click("#nav-agent");
    b.wait_visible("#agent-view", T);
    assert!(b.url().ends_with("#/agent"));
    b.set_window_size(768, 1024);
    b.click("#nav-supervisor");
    b.wait_visible("#agent-wall", T);
    std::thread::sleep(Duration::from_millis(300));
    assert!(
        !b.has_horizontal_overflow(),
        "supervisor view overflows at 768 px"
    );
    b.screenshot("supervisor-wall-tablet");
    assert_no_js_errors(&b, "supervisor view");
}

/// The wall on a live call (baresip phones, auto answer): the supervisor
/// clicks Listen on agent 1001's call, their phone is rung and answers, then
/// Whisper, then Stop; the page and the API's call view (`supervisions`)
/// show each mode; agent 1001's console shows the supervisor's notice while
/// they whisper (not while they listen) and removes it on stop. Then the
/// wall's state menu pauses agent 1002 on the call:
/// 1002 keeps it and is paused after it, by the supervisor.
#[test]
fn supervisor_wall_listen_whisper_stop_and_pause() {
    let _g = serial();
    let dir = TestDir::new("console_supervise");
    let s = Server::start(&dir, opts());
    add_pause_reasons(&s, &["Lunch"]);
    let a = start_agent(&dir, &s, "1001", Some(440.0), true);
    let bob = start_agent(&dir, &s, "1002", Some(1000.0), true);
    let sup = start_agent(&dir, &s, "2000", Some(700.0), true);
    let long = Duration::from_secs(20);
    let alice = s.login("1001", "pw1001");
    let boss = s.login("2000", "pw2000");
    let (st, v) = s.api(
        "POST",
        "/api/calls",
        Some(&json!({"agent": "1002"})),
        Some(&alice),
    );
    assert_eq!(st, 200, "{v}");
    let id = v["call_id"].as_str().expect("call id").to_string();
    let call = |s: &Server| {
        let (st, v) = s.api("GET", &format!("/api/calls/{id}"), None, Some(&boss));
        assert_eq!(st, 200, "{v}");
        v["call"].clone()
    };
    let wait_call = |what: &str, f: &dyn Fn(&Value) -> bool| {
        let t0 = std::time::Instant::now();
        loop {
            let c = call(&s);
            if f(&c) {
                return c;
            }
            assert!(t0.elapsed() < long, "{what}: {c}");
            std::thread::sleep(Duration::from_millis(100));
        }
    };
    wait_call("connected", &|c| c["state"] == "connected");

    // Alice's own console: told when the supervisor whispers, not when they listen.
    let ab = Browser::start(&dir);
    login(&ab, &s, "1001", "pw1001");
    ab.wait_visible("#call-details", T);
    assert!(!ab.is_displayed("#supervision-notice"));

    let b = Browser::start(&dir);
    login(&b, &s, "2000", "pw2000");
    b.wait_visible("#supervisor-view", T);
    b.wait_visible("#supervise-listen-1001", T);
    assert!(!b.exists("#supervise-stop-1001"));

    // Listen: the supervisor's phone rings and answers.
    b.click("#supervise-listen-1001");
    sup.wait_event("CALL_ESTABLISHED", long);
    let c = wait_call("listen answered", &|c| {
        c["supervisions"][0]["answered"] == true
    });
    assert_eq!(c["supervisions"][0]["mode"], "listen", "{c}");
    assert_eq!(c["supervisions"][0]["supervisor"], "2000", "{c}");
    b.wait_text("#agent-card-1001 .agent-card-supervise", "listen", T);
    b.wait_attr("#supervise-listen-1001", "aria-pressed", "true", T);
    std::thread::sleep(Duration::from_millis(300));
    assert!(
        !ab.is_displayed("#supervision-notice"),
        "listening is not shown to the agent by default"
    );

    // Whisper.
    b.click("#supervise-whisper-1001");
    wait_call("whisper", &|c| c["supervisions"][0]["mode"] == "whisper");
    b.wait_attr("#supervise-whisper-1001", "aria-pressed", "true", T);
    b.wait_text("#agent-card-1001 .agent-card-supervise", "whisper", T);
    assert!(b.attr("#supervise-listen-1001", "aria-pressed").is_none());
    ab.wait_visible("#supervision-notice", T);
    ab.wait_text(
        "#supervision-notice",
        "Supervisor 2000 is whispering to you",
        T,
    );
    ab.screenshot("agent-supervision-notice");

    // Stop: the supervisor's phone is released, the call goes on.
    b.wait_visible("#supervise-stop-1001", T);
    b.click("#supervise-stop-1001");
    sup.wait_event("CALL_CLOSED", long);
    let c = wait_call("stopped", &|c| {
        c["supervisions"].as_array().is_some_and(|s| s.is_empty())
    });
    assert_eq!(c["state"], "connected", "{c}");
    b.wait_until("Stop button gone", T, |b| !b.exists("#supervise-stop-1001"));
    assert!(b.exists("#supervise-listen-1001"));
    ab.wait_hidden("#supervision-notice", T);
    assert_no_js_errors(&ab, "agent console with a supervision notice");

    // Pause 1002 from the wall while on the call: kept, paused after it.
    b.select("#agent-state-1002", "paused:Lunch");
    b.wait_text("#status-region", "Bob Agent: paused", T);
    let p = presence(&s, &boss, "1002");
    assert_eq!(p["chosen"], "paused", "{p}");
    assert_eq!(p["chosen_by"], "2000", "{p}");
    assert_eq!(p["status"], "on_call", "{p}");
    assert_eq!(call(&s)["state"], "connected");
    bob.hangup();
    a.wait_event("CALL_CLOSED", long);
    b.wait_text("#agent-card-1002", "Paused (Lunch) by 2000", long);
    b.screenshot_full("supervisor-wall-supervise");
    assert_no_js_errors(&b, "supervisor wall on a live call");
}

/// Admin: agents and campaigns listed and edited through the dialogs, pause
/// reasons added, CSV import rejected with every bad line shown, then accepted.
#[test]
fn admin_views_and_contact_import() {
    let _g = serial();
    let dir = TestDir::new("console_admin");
    // A provider that never answers: its registration shows as under way.
    let provider = TrunkCfg {
        name: "carrier".into(),
        address: format!("127.0.0.1:{}", free_port()),
        inbound_from: Vec::new(),
        extra: "username = \"acme\"\npassword = \"s3cret\"\nregister = true".into(),
    };
    let s = Server::start(&dir, opts().trunk(provider));
    let b = Browser::start(&dir);
    login(&b, &s, "9000", "pw9000");
    b.click("#nav-admin");
    b.wait_visible("#admin-view", T);
    b.wait_visible("#admin-agent-1001", T);
    b.wait_visible("#admin-campaign-support", T);
    b.wait_visible("#admin-trunk-carrier", T);
    let row = b.text("#admin-trunk-carrier");
    assert!(
        row.contains("registering") && row.contains("unknown"),
        "trunk row: {row}"
    );
    assert!(!row.contains("s3cret"), "no credentials on the page");

    // Pause reason.
    b.type_text("#pause-reason-name", "Coffee");
    b.click("#pause-reason-add");
    b.wait_text("#pause-reason-list", "Coffee", T);
    b.wait_until("pause option in the state selector", T, |b| {
        b.exists("#state-select option[value=\"paused:Coffee\"]")
    });

    // New agent through the dialog.
    b.click("#btn-new-agent");
    b.wait_until("agent dialog", T, |b| {
        b.prop("#agent-dialog", "open") == true
    });
    b.type_text("#agent-form-username", "1003");
    b.type_text("#agent-form-name", "Carol Agent");
    b.type_text("#agent-form-password", "pw1003");
    b.type_text("#agent-form-sip-password", "secret1003");
    b.click("#agent-form-submit");
    b.wait_visible("#admin-agent-1003", T);
    assert!(b.text("#admin-agent-1003").contains("Carol Agent"));

    // Disable (confirmed in a dialog), then enable again.
    b.click("#agent-disable-1003");
    b.wait_until("confirm dialog", T, |b| {
        b.prop("#confirm-dialog", "open") == true
    });
    assert_eq!(
        b.focused_id(),
        "confirm-cancel",
        "the safe choice has the focus"
    );
    b.click("#confirm-ok");
    b.wait_visible("#agent-enable-1003", T);
    assert!(b.text("#admin-agent-1003").contains("Disabled"));
    assert_eq!(b.focused_id(), "agent-enable-1003");
    b.click("#agent-enable-1003");
    b.wait_visible("#agent-disable-1003", T);

    // A server refusal is shown inside the dialog.
    b.click("#btn-new-agent");
    b.type_text("#agent-form-username", "bad name!");
    b.type_text("#agent-form-password", "pw");
    b.type_text("#agent-form-sip-password", "secret");
    b.click("#agent-form-submit");
    b.wait_text("#agent-dialog .dialog-error", "username must be", T);
    b.press(keys::ESCAPE);
    b.wait_until("agent dialog closed", T, |b| {
        b.prop("#agent-dialog", "open") == false
    });

    // A supervisor with browser-only audio, limited to one campaign.
    b.click("#btn-new-agent");
    b.type_text("#agent-form-username", "2003");
    b.type_text("#agent-form-password", "pw2003");
    b.type_text("#agent-form-sip-password", "secret2003");
    b.select("#agent-form-role", "supervisor");
    b.select("#agent-form-audio", "browser");
    b.click("#agent-form-submit");
    b.wait_visible("#admin-agent-2003", T);
    assert!(b.text("#admin-agent-2003").contains("Browser only"));
    b.click("#agent-edit-2003");
    b.wait_visible("#agent-form-scope", T);
    b.wait_visible("[data-testid=scope-support]", T);
    assert_eq!(b.prop("[data-testid=scope-support]", "checked"), false);
    b.click("[data-testid=scope-support]");
    b.click("#agent-form-submit");
    b.wait_until("agent dialog closed", T, |b| {
        b.prop("#agent-dialog", "open") == false
    });
    let admin = s.login("9000", "pw9000");
    let (_, v) = s.api(
        "GET",
        "/api/admin/supervisors/2003/campaigns",
        None,
        Some(&admin),
    );
    assert_eq!(v["campaigns"], json!(["support"]), "{v}");
    // An agent's dialog has no campaign list.
    b.click("#agent-edit-1003");
    b.wait_until("agent dialog", T, |b| {
        b.prop("#agent-dialog", "open") == true
    });
    assert!(!b.is_displayed("#agent-form-scope"));
    b.press(keys::ESCAPE);

    // Edit a campaign: add a disposition and a member.
    b.click("#campaign-edit-support");
    b.wait_until("campaign dialog", T, |b| {
        b.prop("#campaign-dialog", "open") == true
    });
    assert_eq!(
        b.value("#campaign-form-dispositions"),
        "Resolved\nEscalated"
    );
    assert_eq!(b.prop("#campaign-form-recording", "checked"), true);
    b.send_keys("#campaign-form-dispositions", "\nCall back later");
    b.click("#campaign-member-1003");
    // Supervision settings: the agent sees a listening supervisor too; alert on long waits.
    assert_eq!(b.value("#campaign-form-notice"), "whisper_barge");
    assert_eq!(b.value("#campaign-form-sl"), "20");
    b.select("#campaign-form-notice", "always");
    b.type_text("#campaign-form-alert-wait", "90");
    b.screenshot("campaign-dialog");
    b.click("#campaign-form-submit");
    b.wait_until("campaign dialog closed", T, |b| {
        b.prop("#campaign-dialog", "open") == false
    });
    b.wait_text("#admin-campaign-support", "Call back later", T);
    let (_, v) = s.api("GET", "/api/campaigns", None, Some(&admin));
    let support = v["campaigns"]
        .as_array()
        .and_then(|a| a.iter().find(|c| c["name"] == "support").cloned())
        .expect("support");
    assert_eq!(
        support["dispositions"],
        json!(["Resolved", "Escalated", "Call back later"])
    );
    assert_eq!(support["did"], "5000");
    assert_eq!(support["auto_recording"], true);
    assert_eq!(
        support["supervision"],
        json!({"notice": "always", "service_level_secs": 20,
               "alert_service_level_below": null, "alert_longest_wait_secs": 90})
    );
    let members: Vec<&str> = support["agents"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|x| x.as_str())
        .collect();
    assert!(
        members.contains(&"1003") && members.contains(&"1001"),
        "{members:?}"
    );

    // New dialer campaign.
    b.click("#btn-new-campaign");
    b.wait_until("campaign dialog", T, |b| {
        b.prop("#campaign-dialog", "open") == true
    });
    b.type_text("#campaign-form-name", "retention");
    b.select("#campaign-form-kind", "dialer");
    b.select("#campaign-form-strategy", "round_robin");
    b.type_text("#campaign-form-acw", "5");
    b.type_text("#campaign-form-dispositions", "Kept\nLost");
    b.click("#campaign-member-1002");
    b.type_text("#campaign-form-cid-number", "+34911000000");
    b.type_text("#campaign-form-cid-name", "Retention Team");
    b.click("#campaign-form-cid-privacy");
    b.click("#campaign-form-submit");
    b.wait_visible("#admin-campaign-retention", T);
    let (_, v) = s.api("GET", "/api/campaigns", None, Some(&admin));
    let retention = v["campaigns"]
        .as_array()
        .and_then(|a| a.iter().find(|c| c["name"] == "retention").cloned())
        .expect("retention");
    assert_eq!(retention["kind"], "dialer");
    assert_eq!(retention["strategy"], "round_robin");
    assert_eq!(retention["acw_secs"], 5);
    assert_eq!(retention["dispositions"], json!(["Kept", "Lost"]));
    assert_eq!(retention["agents"], json!(["1002"]));
    assert_eq!(
        retention["outbound"],
        json!({"trunks": [], "caller_id":
            {"number": "+34911000000", "name": "Retention Team", "privacy": true}}),
        "the form's caller ID (no trunk configured: the dialling rules)"
    );

    // CSV import: a bad file is rejected and every bad line is listed.
    b.type_text("#import-list", "november");
    b.select("#import-campaign", "support");
    b.type_text(
        "#import-text",
        "phone,name,city\n+34911234567,Ana,Madrid\nnot-a-phone,Bad,Nowhere\n+34911234568,Luis\n",
    );
    b.click("#import-submit");
    b.wait_visible("#import-errors", T);
    let errs = b.text("#import-errors");
    assert!(
        errs.contains("Line 3") && errs.contains("Line 4"),
        "import errors: {errs}"
    );
    b.wait_text("#error-text", "Nothing was imported", T);
    b.screenshot_full("admin");

    // The fixed file is accepted.
    b.type_text(
        "#import-text",
        "phone,name,city\n+34911234567,Ana,Madrid\n+34911234568,Luis,Sevilla\n",
    );
    b.click("#import-submit");
    b.wait_text("#import-result", "Imported 2 contacts", T);
    b.type_text("#contacts-q", "Ana");
    b.click("#contacts-search");
    b.wait_text("#contacts-results", "+34911234567", T);
    assert!(b.text("#contacts-results").contains("city: Madrid"));

    // A file as a Spanish-locale spreadsheet saves it (Windows-1252, `;`) is
    // sent as its bytes: the server reads it as Windows-1252.
    let file = dir.path().join("clientes.csv");
    // Big enough (3,000 rows, ~120 KB) for the browser to report upload progress.
    let mut bytes =
        b"Nombre;Tel\xe9fono;Ciudad\r\nJos\xe9 Mu\xf1oz;+34 600 12 34 56;M\xe1laga\r\n".to_vec();
    for i in 0..3000 {
        bytes.extend_from_slice(format!("Cliente {i};+34 611 {:06};Sevilla\r\n", i).as_bytes());
    }
    std::fs::write(&file, bytes).expect("write the file");
    b.type_text("#import-list", "invierno");
    b.send_keys("#import-file", &file.display().to_string());
    // Record what the progress bar and its status show during the upload.
    b.exec(
        "window.__importProgress = []; \
         const note = () => window.__importProgress.push([ \
           document.querySelector('#import-progress').hidden, \
           document.querySelector('#import-progress').value, \
           document.querySelector('#import-status').textContent]); \
         new MutationObserver(note).observe(document.querySelector('#import-progress'), {attributes: true}); \
         new MutationObserver(note).observe(document.querySelector('#import-status'), {childList: true, characterData: true, subtree: true});",
        vec![],
    );
    b.click("#import-submit");
    b.wait_text("#import-result", "Read as windows-1252", T);
    let progress = b.exec("return window.__importProgress", vec![]);
    let shown = progress.as_array().cloned().unwrap_or_default();
    assert!(
        shown
            .iter()
            .any(|p| p[0] == false && p[2].as_str().is_some_and(|t| t.starts_with("Sending"))),
        "the progress bar and 'Sending … KB' showed during the upload: {progress}"
    );
    assert!(
        shown.iter().any(|p| p[1] == 100),
        "the bar reached 100%: {progress}"
    );
    assert!(
        !b.is_displayed("#import-progress"),
        "and is hidden once done"
    );
    b.type_text("#contacts-q", "Muñoz");
    b.click("#contacts-search");
    b.wait_text("#contacts-results", "José Muñoz", T);
    assert!(b.text("#contacts-results").contains("Ciudad: Málaga"));

    // Tablet width: tables scroll inside their cards, the page does not.
    b.set_window_size(768, 1024);
    std::thread::sleep(Duration::from_millis(300));
    assert!(
        !b.has_horizontal_overflow(),
        "admin view overflows at 768 px"
    );
    b.click("#campaign-edit-sales");
    b.wait_until("campaign dialog", T, |b| {
        b.prop("#campaign-dialog", "open") == true
    });
    b.screenshot("campaign-dialog-tablet");
    b.press(keys::ESCAPE);
    assert_no_js_errors(&b, "admin view");
}

/// The webphone against real SIP phones (baresip, auto answer): call out of
/// campaign to an agent, hold / unhold, record on demand, tag, consultative
/// transfer turned into a conference with a muted party, hang up, then the
/// disposition form with Agenda and the agenda and history lists.
#[test]
fn agent_console_live_call_actions() {
    let _g = serial();
    let dir = TestDir::new("console_live_call");
    let s = Server::start(
        &dir,
        opts().agent(AgentCfg::new("1003").name("Carol Agent")),
    );
    let _a = start_agent(&dir, &s, "1001", Some(440.0), true);
    let _b = start_agent(&dir, &s, "1002", Some(1000.0), true);
    let _c = start_agent(&dir, &s, "1003", Some(700.0), true);
    let long = Duration::from_secs(20);

    let b = Browser::start(&dir);
    login(&b, &s, "1001", "pw1001");
    b.wait_text("#phone-status", "Phone registered", T);
    b.select("#state-select", "ready");
    b.wait_text("#agent-status", "Ready", T);

    // Call out of campaign to agent 1002 (picked from the list).
    b.click("#btn-call-out");
    b.click("#callout-kind-agent");
    b.wait_text("#callout-agent-list", "Bob Agent", T);
    b.click("#callout-agent-1002");
    b.click("#callout-submit");
    b.wait_until("call-out dialog closed", T, |b| {
        b.prop("#callout-dialog", "open") == false
    });
    b.wait_attr("#call-state", "data-state", "connected", long);
    assert_eq!(b.text("#call-callee"), "1002");
    b.wait_text("#call-parties", "Bob Agent (1002)", T);
    b.wait_text("#call-parties", "You (1001)", T);
    assert!(b.is_enabled("#btn-hold") && !b.is_enabled("#btn-unhold"));
    assert!(b.is_enabled("#btn-transfer") && b.is_enabled("#btn-hangup"));
    assert!(!b.is_enabled("#btn-confer") && !b.is_enabled("#btn-complete-transfer"));
    b.wait_text("#agent-status", "On call", T);

    // Hold / unhold.
    b.click("#btn-hold");
    b.wait_attr("#call-state", "data-state", "held", T);
    assert_eq!(b.text("#call-state"), "On hold");
    b.wait_enabled("#btn-unhold", true, T);
    assert!(!b.is_enabled("#btn-hold"));
    b.click("#btn-unhold");
    b.wait_attr("#call-state", "data-state", "connected", T);

    // A reload restores the call panel from the WebSocket snapshot.
    b.refresh();
    b.wait_attr("#call-state", "data-state", "connected", T);
    assert_eq!(b.text("#call-callee"), "1002");
    b.wait_enabled("#btn-hold", true, T);

    // Record on demand, then stop.
    assert!(
        b.is_enabled("#btn-record"),
        "no automatic recording out of campaign"
    );
    b.click("#btn-record");
    b.wait_attr("#btn-record", "aria-pressed", "true", T);
    assert_eq!(b.text("#btn-record"), "Stop recording");
    b.wait_visible("#call-recording", T);

    // Pause the recording (a card number), then resume it.
    b.wait_visible("#btn-record-pause", T);
    assert_eq!(b.text("#btn-record-pause"), "Pause recording");
    b.click("#btn-record-pause");
    b.wait_attr("#btn-record-pause", "aria-pressed", "true", T);
    assert_eq!(b.text("#btn-record-pause"), "Resume recording");
    b.wait_text("#call-recording", "Recording paused", T);
    b.click("#btn-record-pause");
    b.wait_attr("#btn-record-pause", "aria-pressed", "false", T);
    assert_eq!(b.text("#call-recording").trim(), "Recording");

    // Tag the recording.
    b.click("#btn-tag");
    b.wait_visible("#tag-text", T);
    assert_eq!(b.focused_id(), "tag-text");
    b.type_text("#tag-text", "customer asked for a manager");
    b.click("#tag-submit");
    b.wait_text("#status-region", "Tag saved on the recording", T);
    b.wait_hidden("#tag-form", T);
    b.click("#btn-record");
    b.wait_attr("#btn-record", "aria-pressed", "false", T);
    b.wait_hidden("#btn-record-pause", T);

    // Consultative transfer to 1003, then a three-way conference.
    b.click("#btn-transfer");
    b.wait_until("transfer dialog", T, |b| {
        b.prop("#transfer-dialog", "open") == true
    });
    b.click("#transfer-mode-consultative");
    assert!(
        !b.is_enabled("#transfer-to-campaign"),
        "campaigns take blind transfers only"
    );
    b.click("#transfer-agent-1003");
    b.screenshot("transfer-dialog");
    b.click("#transfer-submit");
    b.wait_attr("#call-state", "data-state", "consulting", long);
    assert!(b.is_enabled("#btn-cancel-transfer"));
    b.wait_enabled("#btn-confer", true, long);
    assert!(b.is_enabled("#btn-complete-transfer"));
    b.wait_text("#call-transfer", "Consultative transfer to agent 1003", T);
    b.click("#btn-confer");
    b.wait_attr("#call-state", "data-state", "conference", T);
    b.wait_visible("#btn-mute-third", T);
    b.click("#btn-mute-third");
    b.wait_attr("#btn-mute-third", "aria-pressed", "true", T);
    b.wait_text("#call-parties", "Muted", T);
    b.screenshot_full("agent-call-conference");

    // Hang up: the disposition form asks for the call's outcome.
    b.click("#btn-hangup");
    b.wait_attr("#call-state", "data-state", "idle", long);
    b.wait_visible("#disposition-form", T);
    b.select("#disposition-select", "Agenda");
    b.wait_visible("#agenda-fields", T);
    assert!(
        !b.is_enabled("#agenda-kind-global"),
        "global callbacks are for dialer campaigns"
    );
    assert!(
        !b.value("#agenda-tz").is_empty(),
        "default time zone: the browser's (an IANA name)"
    );
    b.type_text("#agenda-reason", "wants the manager's answer");
    b.type_text("#disposition-note", "escalated");
    b.screenshot_full("disposition-agenda");
    b.click("#disposition-submit");
    b.wait_hidden("#disposition-panel", T);
    b.wait_text("#agenda-list", "wants the manager's answer", T);
    assert!(b.text("#agenda-list").contains("1002"));
    b.wait_text("#history-list", "1002", T);

    let token = s.login("1001", "pw1001");
    let (_, v) = s.api("GET", "/api/agenda", None, Some(&token));
    let entries = v["agenda"].as_array().cloned().unwrap_or_default();
    assert_eq!(entries.len(), 1, "{v}");
    assert_eq!(entries[0]["phone"], "1002");
    assert_eq!(entries[0]["kind"], "personal");
    let (_, h) = s.api("GET", "/api/history", None, Some(&token));
    let call_id = h["calls"][0]["id"]
        .as_str()
        .expect("call in history")
        .to_string();
    let (_, c) = s.api("GET", &format!("/api/calls/{call_id}"), None, Some(&token));
    assert_eq!(c["disposition"]["name"], "Agenda", "{c}");
    assert_eq!(c["disposition"]["note"], "escalated");
    let (_, r) = s.api("GET", "/api/recordings?tag=manager", None, Some(&token));
    assert_eq!(r["recordings"].as_array().map(|a| a.len()), Some(1), "{r}");
    b.screenshot_full("agent-console-after-call");

    // Agenda actions: "Call back" calls the scheduled party again (1002 is an
    // internal extension, so it rings that agent) and closes the entry.
    let entry = entries[0]["id"].as_str().unwrap().to_string();
    b.click(&format!("#agenda-call-{entry}"));
    b.wait_attr("#call-state", "data-state", "connected", long);
    b.wait_text("#agenda-list", "No callbacks scheduled", T);
    b.click("#btn-hangup");
    b.wait_attr("#call-state", "data-state", "idle", long);
    b.click("#disposition-skip");

    // Second call: consultation cancelled, then a consultative transfer completed.
    b.click("#btn-call-out");
    b.click("#callout-kind-agent");
    b.click("#callout-agent-1002");
    b.click("#callout-submit");
    b.wait_attr("#call-state", "data-state", "connected", long);
    b.click("#btn-transfer");
    b.click("#transfer-mode-consultative");
    b.click("#transfer-agent-1003");
    b.click("#transfer-submit");
    b.wait_attr("#call-state", "data-state", "consulting", long);
    b.click("#btn-cancel-transfer");
    b.wait_attr("#call-state", "data-state", "connected", T);
    assert!(!b.is_displayed("#call-transfer") || !b.text("#call-transfer").contains("1003"));
    b.click("#btn-transfer");
    b.click("#transfer-mode-consultative");
    b.click("#transfer-agent-1003");
    b.click("#transfer-submit");
    b.wait_enabled("#btn-complete-transfer", true, long);
    b.click("#btn-complete-transfer");
    // The agent leaves; 1002 and 1003 stay together; the disposition is asked.
    b.wait_attr("#call-state", "data-state", "idle", long);
    b.wait_visible("#disposition-form", T);
    b.wait_text("#disposition-title", "1001 → 1002", T);
    b.click("#disposition-skip");
    b.wait_hidden("#disposition-panel", T);
    b.wait_text("#agent-status", "Ready", long);
    _b.hangup();
    _b.wait_event("CALL_CLOSED", long);
    assert_no_js_errors(&b, "live call");
}

/// An inbound campaign call from the trunk: the console shows the campaign,
/// the contact's details, on-demand recording disabled (automatic recording)
/// with its explanation, the supervisor sees the queue; a blind transfer
/// frees the agent, who then picks one of the campaign's dispositions.
#[test]
fn inbound_campaign_call_with_contact() {
    let _g = serial();
    let dir = TestDir::new("console_inbound");
    let customer_port = free_port_pair();
    let s = Server::start(
        &dir,
        opts().trunk(TrunkCfg::new("pstn", free_port(), &[customer_port])),
    );
    let admin = s.login("9000", "pw9000");
    let csv = "phone,name,plan\n34911234567,Ana Garcia,gold\n";
    let auth = format!("Bearer {admin}");
    let r = http::request(
        s.http_port,
        "POST",
        "/api/contacts/import?list=vip&campaign=support",
        &[("Content-Type", "text/csv"), ("Authorization", &auth)],
        Some(csv.as_bytes()),
        T,
    )
    .expect("import");
    assert_eq!(r.status, 200, "{}", r.text());

    let _a = start_agent(&dir, &s, "1001", Some(440.0), true);
    let b2 = start_agent(&dir, &s, "1002", Some(1000.0), true);
    let long = Duration::from_secs(20);

    let b = Browser::start(&dir);
    login(&b, &s, "1001", "pw1001");
    b.wait_text("#phone-status", "Phone registered", T);
    b.select("#state-select", "ready");
    b.wait_text("#agent-status", "Ready", T);

    let customer = Baresip::with_opts(
        dir.path(),
        BaresipOpts::new("34911234567")
            .sip_port(customer_port)
            .tone(500.0),
    );
    customer.dial(&format!("sip:5000@127.0.0.1:{}", s.sip_port));
    b.wait_attr("#call-state", "data-state", "connected", long);
    assert_eq!(b.text("#call-campaign"), "support");
    assert_eq!(b.text("#call-caller"), "34911234567");
    b.wait_text("#contact-name", "Ana Garcia", T);
    assert!(b.text("#contact-details").contains("gold"));
    // Automatic recording: no on-demand recording, and the console says why.
    b.wait_visible("#call-recording", T);
    assert!(!b.is_enabled("#btn-record"));
    assert!(b
        .text("#record-hint")
        .contains("records every call automatically"));
    assert!(b
        .attr("#btn-record", "title")
        .unwrap_or_default()
        .contains("automatically"));
    // The disposition form offers the campaign's dispositions plus Agenda.
    b.wait_visible("#disposition-form", T);
    for v in ["Resolved", "Escalated", "Agenda"] {
        assert!(
            b.exists(&format!("#disposition-select option[value=\"{v}\"]")),
            "disposition {v} offered"
        );
    }
    b.screenshot_full("inbound-call-contact");
    b.click("#btn-tag");
    b.type_text("#tag-text", "vip customer, wants a discount");
    b.send_keys("#tag-text", keys::ENTER);
    b.wait_text("#status-region", "Tag saved on the recording", T);

    // Blind transfer to agent 1002: the agent is released at once.
    b.click("#btn-transfer");
    b.click("#transfer-mode-blind");
    b.click("#transfer-to-agent");
    b.click("#transfer-agent-1002");
    b.click("#transfer-submit");
    b.wait_attr("#call-state", "data-state", "idle", long);
    b2.wait_event("CALL_ESTABLISHED", long);
    b.wait_text("#disposition-title", "34911234567", T);
    b.select("#disposition-select", "Resolved");
    b.click("#disposition-submit");
    b.wait_hidden("#disposition-panel", T);
    b.wait_text("#status-region", "Resolved", T);

    // The customer hangs up; the recording is found by the agent's search.
    customer.hangup();
    customer.wait_event("CALL_CLOSED", long);
    let token = s.login("1001", "pw1001");
    let mut found = Value::Null;
    wait_until(T, Duration::from_millis(200), || {
        let (_, v) = s.api(
            "GET",
            "/api/recordings?disposition=Resolved",
            None,
            Some(&token),
        );
        (v["recordings"].as_array().is_some_and(|a| !a.is_empty())).then(|| found = v)
    });
    assert_eq!(
        found["recordings"][0]["campaign_name"], "support",
        "{found}"
    );
    let rec_id = found["recordings"][0]["id"].as_str().unwrap().to_string();
    assert_no_js_errors(&b, "inbound call");

    // The supervisor finds it by tag text, sees the tag, plays it in the page.
    logout(&b);
    login(&b, &s, "2000", "pw2000");
    b.wait_visible("#recordings-form", T);
    b.type_text("#rec-tag", "discount");
    b.click("#rec-search");
    let row = format!("#rec-row-{}", css_id(&rec_id));
    b.wait_visible(&row, T);
    let text = b.text(&row);
    assert!(
        text.contains("vip customer, wants a discount")
            && text.contains("1001")
            && text.contains("Resolved"),
        "recording row: {text}"
    );
    let href = b
        .attr(&format!("#rec-download-{}", css_id(&rec_id)), "href")
        .unwrap_or_default();
    assert!(
        href.ends_with(&format!("/api/recordings/{rec_id}/audio?download=1")),
        "{href}"
    );
    b.click(&format!("#rec-play-{}", css_id(&rec_id)));
    let audio = format!("#rec-audio-{}", css_id(&rec_id));
    b.wait_for(&audio, T);
    b.wait_until("the recording to load in <audio>", T, |b| {
        b.exec(
            "const a = document.querySelector(arguments[0]); \
             return !!a && !a.error && a.readyState >= 1 && a.duration > 1",
            vec![json!(audio)],
        ) == true
    });
    b.screenshot_full("supervisor-recordings");
    assert_no_js_errors(&b, "recordings");
}

/// CSS id selector part for ids with characters like '#' (recording ids may hold any).
fn css_id(id: &str) -> String {
    let mut out = String::new();
    for c in id.chars() {
        if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
            out.push(c);
        } else {
            out.push_str(&format!("\\{:x} ", c as u32));
        }
    }
    out
}
