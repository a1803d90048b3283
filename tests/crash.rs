//! Crash safety end to end: an auto-recorded call between real phones is up
//! for about 4 s, the server gets SIGKILL (kill -9), and a new server starts
//! on the same data folder and database. Then: the recording's WAV reads in
//! full (>= 3 s, the customer's tone on the left channel), its row is closed
//! with that length and the API serves it, the CDR is closed as
//! `interrupted` with an `INTERRUPTED` event, and the agent is back offline
//! with the phone's registration restored. On SQLite and on PostgreSQL.

mod actions_common;
mod common;

use actions_common::*;
use common::*;
use serde_json::Value;
use std::path::Path;

/// (data size in the header, audio bytes after the header) of a 44-byte-header WAV.
fn header_vs_file(path: &Path) -> (u64, u64) {
    let b = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    assert!(
        b.len() >= 44 && &b[0..4] == b"RIFF",
        "{} is not a WAV",
        path.display()
    );
    let data = u32::from_le_bytes([b[40], b[41], b[42], b[43]]) as u64;
    (data, b.len() as u64 - 44)
}

fn find<'a>(list: &'a Value, key: &str, id: &str) -> Option<&'a Value> {
    list[key]
        .as_array()
        .and_then(|a| a.iter().find(|r| r["call_id"] == id || r["id"] == id))
}

#[test]
fn kill_9_during_a_recorded_call_then_restart() {
    kill_9_then_restart("crash_kill9", None);
}

#[test]
fn kill_9_then_restart_on_postgres() {
    let Some(pg) = PgSchema::create("crash") else {
        eprintln!("SWITCHBOARD_TEST_POSTGRES_URL not set: PostgreSQL variant skipped");
        return;
    };
    kill_9_then_restart("crash_kill9_pg", Some(pg.url.clone()));
}

/// [`Lab::start`] with an auto-recorded campaign on `database` (None: SQLite in the test folder).
fn lab(dir: &TestDir, database: Option<String>) -> Lab {
    require_tool("baresip");
    require_tool("sox");
    let (pstn_port, customer_port) = (free_port_pair(), free_port_pair());
    let mut opts = ServerOpts::new()
        .with_agents(&["1001", "1002"])
        .agent(AgentCfg::new("9000").role("supervisor"))
        .trunk(TrunkCfg::new("pstn", pstn_port, &[customer_port]))
        .campaign(campaign("support", "5000", &["1001"], true));
    opts.extra_server = "acw_secs = 0".into();
    opts.database = database;
    Lab {
        server: Server::start(dir, opts),
        pstn_port,
        customer_port,
    }
}

fn kill_9_then_restart(name: &str, database: Option<String>) {
    let _g = serial();
    let dir = TestDir::new(name);
    let mut lab = lab(&dir, database);
    let (a, ta) = lab.agent(&dir, "1001", A_HZ, true);
    let cust = lab.customer(&dir);
    let id = customer_calls(&lab, &cust, "5000", &a, &ta);
    assert_eq!(lab.call(&ta, &id)["call"]["recording"], true);
    sleep(4.2);

    lab.server.kill9();
    let files: Vec<_> = walk(&lab.server.recordings_dir());
    assert_eq!(files.len(), 1, "one recording on disk: {files:?}");
    let (counted, on_disk) = header_vs_file(&files[0]);
    eprintln!("[crash] after kill -9: header counts {counted} bytes, {on_disk} on disk");
    assert!(
        on_disk >= 3 * 32_000,
        "the recorder wrote >= 3 s before the kill: {on_disk} bytes"
    );

    lab.server.restart();
    let log = lab.server.log();
    assert!(
        log.contains("closed as interrupted"),
        "recovery reported in the log:\n{}",
        lab.server.log_tail(30)
    );
    let sup = lab.server.login("9000", "pw9000");
    let ta = lab.server.login("1001", "pw1001");

    // The recording: closed, with the length of the audio on disk.
    let list = lab.ok("GET", "/api/recordings", None, &sup);
    let rec = find(&list, "recordings", &id)
        .unwrap_or_else(|| panic!("recording of {id} listed: {list}"))
        .clone();
    assert!(rec["ended_at"].is_i64(), "recording row closed: {rec}");
    let dur = rec["duration_ms"].as_i64().expect("duration_ms");
    assert!(dur >= 3_000, "at least 3 s recorded: {rec}");
    let (counted, on_disk) = header_vs_file(&files[0]);
    assert_eq!(counted, on_disk, "header repaired to the file's length");
    assert_eq!(
        dur as u64,
        on_disk / 4 * 1000 / 8000,
        "row length = audio on disk"
    );
    let started = rec["started_at"].as_i64().unwrap();
    assert_eq!(rec["ended_at"].as_i64(), Some(started + dur), "{rec}");

    // The API serves it, and every sample reads: the customer on the left.
    let (st, body) = lab.get_bytes(
        &format!("/api/recordings/{}/audio", rec["id"].as_str().unwrap()),
        &ta,
    );
    assert_eq!(st, 200, "GET audio: {}", String::from_utf8_lossy(&body));
    let wav = dir.join("served.wav");
    std::fs::write(&wav, &body).unwrap();
    let r = hound::WavReader::open(&wav).expect("hound opens the served WAV");
    assert_eq!(
        r.duration() as u64,
        on_disk / 4,
        "every frame on disk is counted"
    );
    drop(r);
    let s = read_stereo(&wav);
    let secs = s.left.duration();
    assert!(secs >= 3.0, "recording lasts {secs:.2} s");
    assert!(
        tone_heard_between(&s.left, CUSTOMER_HZ, 0.5, secs - 0.3, 0.8),
        "the customer's tone up to the end of the file: {}",
        describe(&s.left)
    );

    // The CDR: closed as interrupted, at the end of the audio.
    let hist = lab.ok("GET", "/api/history", None, &sup);
    let cdr = find(&hist, "calls", &id).unwrap_or_else(|| panic!("{id} in history: {hist}"));
    assert_eq!(cdr["end_reason"], "interrupted", "{cdr}");
    assert_eq!(cdr["status"], "ended", "{cdr}");
    let ended = cdr["ended_at"].as_i64().expect("ended_at");
    assert!(
        ended >= started + dur,
        "ends no earlier than its audio: {cdr}"
    );
    assert!(cdr["answered_at"].is_i64(), "{cdr}");
    let kinds = lab.event_kinds(&sup, &id);
    assert_eq!(
        kinds.last().map(String::as_str),
        Some("INTERRUPTED"),
        "{kinds:?}"
    );

    // The agent: offline (chooses ready again), phone still registered.
    let p = lab.presence(&sup, "1001");
    assert_eq!(p["status"], "offline", "{p}");
    assert_eq!(p["registered"], true, "registration restored: {p}");
    assert!(
        lab.live_calls(&sup).is_empty(),
        "no live call after the restart"
    );
    lab.ok(
        "PUT",
        "/api/agents/me/state",
        Some(serde_json::json!({"state": "ready"})),
        &ta,
    );
    assert_eq!(lab.presence(&sup, "1001")["status"], "ready");
    lab.server.assert_alive("after recovery");
    drop((a, cust));
}

/// Every file under `dir`.
fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}
