//! Pausing and resuming a call's recording (a customer keys a card number):
//! who may, what the media engine is told, the call's view and event log,
//! refusals when nothing is recorded, and a pause ended by stop or hang-up.

mod harness;

use harness::{actor, campaign, Harness, Setup};
use serde_json::Value;
use switchboard_center::{Actor, ApiError};
use switchboard_switch::{AgentStatus, EngineRequest, StoreOp};

/// `POST /api/calls/{call}/recording/pause|resume` as `who`.
fn pause(h: &mut Harness, who: Actor, call: &str, pause: bool) -> Result<Value, ApiError> {
    let call = call.to_string();
    h.api(|reply| EngineRequest::RecordingPause {
        actor: who,
        call,
        pause,
        reply,
    })
}

/// `POST /api/calls/{call}/recording/start|stop` as `who`.
fn record(h: &mut Harness, who: &str, call: &str, start: bool) -> Value {
    let (actor, call) = (actor(who), call.to_string());
    h.api(|reply| EngineRequest::Recording {
        actor,
        call,
        start,
        reply,
    })
    .expect("recording step accepted")
}

/// Details of the call's log entries of `kind`.
fn details(h: &Harness, call: &str, kind: &str) -> Vec<String> {
    h.stored
        .iter()
        .filter_map(|o| match o {
            StoreOp::CallEvent {
                call: c,
                kind: k,
                detail,
                ..
            } if c == call && k == kind => Some(detail.clone()),
            _ => None,
        })
        .collect()
}

fn supervisor() -> Actor {
    Actor {
        username: "9000".into(),
        supervisor: true,
        campaigns: None,
    }
}

/// A customer call to 5000 answered by 1001; returns the call id.
fn answered_call(h: &mut Harness) -> String {
    h.set_state("1001", AgentStatus::Ready);
    h.customer_calls("5000");
    h.answer("1001", 0);
    h.only_call()
}

#[test]
fn an_auto_recorded_call_is_paused_and_resumed() {
    let mut h = Harness::with(Setup {
        campaigns: vec![campaign("support", "inbound", Some("5000"), true)],
        ..Setup::default()
    });
    let call = answered_call(&mut h);
    assert_eq!(h.media.recordings().len(), 1, "recorded automatically");
    assert!(h.media.paused_recordings().is_empty());

    let v = pause(&mut h, actor("1001"), &call, true).expect("pause");
    assert_eq!(
        (v["recording"].as_bool(), v["recording_paused"].as_bool()),
        (Some(true), Some(true)),
        "{v}"
    );
    assert_eq!(
        h.media.paused_recordings().len(),
        1,
        "the media engine writes silence"
    );
    let published = h.published.iter().any(|e| {
        e["type"] == "call"
            && e["call"]["call_id"] == call.as_str()
            && e["call"]["recording_paused"] == true
    });
    assert!(published, "consoles see the pause");
    // Pausing again is accepted and changes nothing.
    let v = pause(&mut h, actor("1001"), &call, true).expect("pause again");
    assert_eq!(v["recording_paused"], true);
    assert_eq!(
        details(&h, &call, "RECORDING_PAUSED"),
        vec!["segment 1 paused by 1001".to_string()]
    );

    // Another agent may not; a supervisor may.
    let err = pause(&mut h, actor("1002"), &call, false).unwrap_err();
    assert_eq!(err.status, 403, "{err}");
    h.run_for(3_000);
    let v = pause(&mut h, supervisor(), &call, false).expect("resume");
    assert_eq!(
        (v["recording"].as_bool(), v["recording_paused"].as_bool()),
        (Some(true), Some(false)),
        "{v}"
    );
    assert!(h.media.paused_recordings().is_empty());
    assert_eq!(
        details(&h, &call, "RECORDING_RESUMED"),
        vec!["segment 1 resumed by 9000 after 3.0 s of silence".to_string()]
    );
    let v = pause(&mut h, actor("1001"), &call, false).expect("resume again");
    assert_eq!(v["recording_paused"], false);
    let kinds: Vec<String> = h
        .events(&call)
        .into_iter()
        .filter(|k| k.starts_with("RECORDING"))
        .collect();
    assert_eq!(
        kinds,
        ["RECORDING_STARTED", "RECORDING_PAUSED", "RECORDING_RESUMED"]
    );

    // Hanging up while paused ends the segment like any other.
    pause(&mut h, actor("1001"), &call, true).expect("pause");
    h.hangup("trunk", 0);
    assert!(h.media.recordings().iter().all(|(_, running)| !running));
    assert!(h.media.paused_recordings().is_empty());
    assert!(h.cdr_ended(&call));
    let err = pause(&mut h, actor("1001"), &call, false).unwrap_err();
    assert_eq!(err.status, 404, "{err}");
    h.assert_clean();
}

#[test]
fn a_call_not_being_recorded_cannot_be_paused() {
    let mut h = Harness::new();
    let call = answered_call(&mut h);
    for p in [true, false] {
        let err = pause(&mut h, actor("1001"), &call, p).unwrap_err();
        assert_eq!(err.status, 409, "{err}");
        assert!(err.message.contains("not being recorded"), "{err}");
    }
    assert!(h.events(&call).iter().all(|k| !k.starts_with("RECORDING")));

    // On demand: start, pause, stop while paused, start again (not paused).
    record(&mut h, "1001", &call, true);
    let v = pause(&mut h, actor("1001"), &call, true).expect("pause");
    assert_eq!(v["recording_paused"], true);
    let v = record(&mut h, "1001", &call, false);
    assert_eq!(
        (v["recording"].as_bool(), v["recording_paused"].as_bool()),
        (Some(false), Some(false)),
        "{v}"
    );
    let err = pause(&mut h, actor("1001"), &call, false).unwrap_err();
    assert_eq!(err.status, 409, "stopped: nothing to resume: {err}");
    let v = record(&mut h, "1001", &call, true);
    assert_eq!(
        (v["recording"].as_bool(), v["recording_paused"].as_bool()),
        (Some(true), Some(false)),
        "{v}"
    );
    assert!(
        h.media.paused_recordings().is_empty(),
        "a new segment is not paused"
    );
    assert_eq!(h.media.recordings().len(), 2);
    let kinds: Vec<String> = h
        .events(&call)
        .into_iter()
        .filter(|k| k.starts_with("RECORDING"))
        .collect();
    assert_eq!(
        kinds,
        [
            "RECORDING_STARTED",
            "RECORDING_PAUSED",
            "RECORDING_STOPPED",
            "RECORDING_STARTED"
        ]
    );
    h.hangup("1001", 0);
    h.assert_clean();
}
