//! The recordings zip with real phones: an auto-recorded, tagged call is
//! downloaded by a supervisor from the recordings search as a zip; the WAV in
//! it is byte for byte the one the audio endpoint serves (stereo, 8 kHz), and
//! `index.csv` lists it with its agent, campaign and tag. Agents are refused.

mod actions_common;
mod common;

use std::io::{Cursor, Read};

use actions_common::*;
use common::*;
use serde_json::json;

#[test]
fn a_recorded_call_downloads_in_the_zip_with_its_index() {
    let _g = serial();
    let dir = TestDir::new("recordings_export");
    let lab = Lab::start(&dir, vec![campaign("vip", "5001", &["1001"], true)]);
    let (a, ta) = lab.agent(&dir, "1001", A_HZ, true);
    let sup = lab.server.login("9000", "pw9000");
    let cust = lab.customer(&dir);

    let id = customer_calls(&lab, &cust, "5001", &a, &ta);
    lab.ok(
        "POST",
        &format!("/api/calls/{id}/tags"),
        Some(json!({"text": "zip me, please"})),
        &ta,
    );
    sleep(2.0);
    cust.hangup();
    cust.wait_event("CALL_CLOSED", T);
    a.wait_event("CALL_CLOSED", T);
    lab.wait_ended(&ta, &id);
    let rec = wait_until(T, std::time::Duration::from_millis(200), || {
        let v = lab.ok("GET", "/api/recordings?tag=zip%20me", None, &sup);
        let r = v["recordings"].get(0)?.clone();
        r["ended_at"].is_i64().then_some(r)
    })
    .expect("the finished recording is found by its tag");
    let rid = rec["id"].as_str().expect("id").to_string();
    let (st, wav) = lab.get_bytes(&format!("/api/recordings/{rid}/audio"), &sup);
    assert_eq!(st, 200);

    let (st, body) = lab.get_bytes(
        "/api/recordings/export?tag=zip%20me&campaign=vip&tz=Europe/Madrid",
        &sup,
    );
    assert_eq!(st, 200, "{}", String::from_utf8_lossy(&body));
    let mut zip = zip::ZipArchive::new(Cursor::new(body)).expect("a zip");
    let names: Vec<String> = zip
        .file_names()
        .map(|n| n.expect("UTF-8 name").to_string())
        .collect();
    assert_eq!(names.len(), 2, "{names:?}");
    let name = format!("_1001_{rid}.wav");
    let wav_name = names.iter().find(|n| n.ends_with(&name)).expect("the WAV");
    let mut in_zip = Vec::new();
    zip.by_name(wav_name)
        .expect("entry")
        .read_to_end(&mut in_zip)
        .expect("reads, CRC checked");
    assert_eq!(in_zip, wav, "the zipped WAV is the served one");
    let spec = hound::WavReader::new(Cursor::new(&in_zip))
        .expect("a WAV")
        .spec();
    assert_eq!((spec.channels, spec.sample_rate), (2, 8000));

    let mut index = Vec::new();
    zip.by_name("index.csv")
        .expect("index.csv")
        .read_to_end(&mut index)
        .expect("index reads");
    let index = index
        .strip_prefix("\u{feff}".as_bytes())
        .expect("UTF-8 with BOM");
    let rows: Vec<csv::StringRecord> = csv::Reader::from_reader(index)
        .records()
        .map(|r| r.expect("csv row"))
        .collect();
    assert_eq!(rows.len(), 1, "{rows:?}");
    let row = &rows[0];
    assert_eq!(&row[0], rid.as_str());
    assert_eq!(&row[1], id.as_str());
    assert_eq!(&row[2], wav_name.as_str());
    assert_eq!((&row[5], &row[6]), ("1001", "vip"));
    assert_eq!(&row[10], "zip me, please");
    assert_eq!(&row[11], "");
    let secs: i64 = row[4].parse().expect("duration_s");
    assert!((1..=10).contains(&secs), "{row:?}");

    let (st, body) = lab.get_bytes("/api/recordings/export", &ta);
    assert_eq!(st, 403, "{}", String::from_utf8_lossy(&body));
}
