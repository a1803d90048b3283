//! Contact files end to end over HTTP against the real server: a contact
//! list saved by a Spanish-locale spreadsheet (Windows-1252, semicolons,
//! national numbers) is imported into a campaign whose default country is
//! Spain, then exported back as CSV (UTF-8 with BOM) and JSON and read with
//! the `csv` crate row by row. Also on PostgreSQL when
//! `SWITCHBOARD_TEST_POSTGRES_URL` is set.

mod common;

use std::time::Duration;

use common::server::{AgentCfg, CampaignCfg, ServerOpts};
use common::*;
use serde_json::Value;

fn post_file(server: &Server, tok: &str, path: &str, body: &[u8]) -> (u16, Value) {
    let auth = format!("Bearer {tok}");
    let r = common::http::request(
        server.http_port,
        "POST",
        path,
        &[("Authorization", &auth), ("Content-Type", "text/csv")],
        Some(body),
        Duration::from_secs(30),
    )
    .expect("import request");
    let v = serde_json::from_slice(&r.body)
        .unwrap_or_else(|_| panic!("import answered non-JSON {}: {}", r.status, r.text()));
    (r.status, v)
}

fn download(server: &Server, tok: &str, path: &str) -> common::http::Response {
    let auth = format!("Bearer {tok}");
    common::http::request(
        server.http_port,
        "GET",
        path,
        &[("Authorization", &auth)],
        None,
        Duration::from_secs(30),
    )
    .expect("export request")
}

/// A Spanish spreadsheet's "CSV": Windows-1252 byte for byte, `;`, CRLF.
const FILE: &[u8] = b"Nombre;Tel\xe9fono;Ciudad\r\n\
Jos\xe9 Mu\xf1oz;600 12 34 56;M\xe1laga\r\n\
\"Ib\xe1\xf1ez; Luc\xeda\";+34 911 234 567;\"C\xe1diz\r\n(centro)\"\r\n\
Repetido;600123456;Ja\xe9n\r\n\
Mal;12 34;Le\xf3n\r\n";

fn round_trip(db: Option<String>, name: &str) {
    let dir = TestDir::new(name);
    let mut campaign = CampaignCfg::inbound("ventas", "7100", &[]);
    campaign.kind = "preview".into();
    campaign.did = None;
    campaign.extra = "default_country = \"ES\"".into();
    let mut opts = ServerOpts::new()
        .agent(AgentCfg::new("9000").role("admin"))
        .campaign(campaign);
    opts.database = db;
    let server = Server::start(&dir, opts);
    let adm = server.login("9000", "pw9000");

    // One bad number: nothing imported, the line is named, the error is JSON.
    let path = "/api/contacts/import?list=primavera&campaign=ventas";
    let (st, v) = post_file(&server, &adm, path, FILE);
    assert_eq!(st, 422, "{v}");
    assert_eq!(v["error"], "nothing imported: 1 bad line");
    assert_eq!(v["report"]["errors"][0]["line"], 6, "{v}");
    assert!(
        v["report"]["errors"][0]["reason"]
            .as_str()
            .unwrap()
            .contains("not a valid ES number"),
        "{v}"
    );

    // Without it: two imported, the repeated number skipped and reported.
    let fixed: Vec<u8> = FILE[..FILE.len() - b"Mal;12 34;Le\xf3n\r\n".len()].to_vec();
    let (st, v) = post_file(&server, &adm, path, &fixed);
    assert_eq!(st, 200, "{v}");
    let r = &v["report"];
    assert_eq!(r["imported"], 2, "{v}");
    assert_eq!(r["encoding"], "windows-1252");
    assert_eq!(r["delimiter"], ";");
    assert_eq!(r["country"], "ES");
    assert_eq!(r["columns"]["phone"], "Teléfono");
    assert_eq!(r["duplicates"][0]["line"], 5, "{v}");
    assert_eq!(r["duplicates"][0]["first_line"], 2, "{v}");

    // Exported back: UTF-8 with BOM, read with the csv crate row by row.
    let res = download(&server, &adm, "/api/exports/contacts?campaign=ventas");
    assert_eq!(res.status, 200, "{}", res.text());
    assert_eq!(res.header("content-type"), Some("text/csv; charset=UTF-8"));
    assert!(res
        .header("content-disposition")
        .unwrap_or("")
        .contains("contacts.csv"));
    let body = res.body.strip_prefix("\u{feff}".as_bytes()).expect("BOM");
    let mut reader = csv::Reader::from_reader(body);
    let headers = reader.headers().expect("header").clone();
    let col = |name: &str| headers.iter().position(|h| h == name).expect(name);
    let rows: Vec<csv::StringRecord> = reader.records().map(|r| r.expect("row")).collect();
    assert_eq!(rows.len(), 2);
    // Ordered by name: "Ibáñez; Lucía" before "José Muñoz".
    assert_eq!(&rows[0][col("name")], "Ibáñez; Lucía");
    assert_eq!(&rows[0][col("phone")], "+34911234567");
    let extra: Value = serde_json::from_str(&rows[0][col("extra")]).unwrap();
    assert_eq!(extra["Ciudad"], "Cádiz\r\n(centro)");
    assert_eq!(&rows[1][col("name")], "José Muñoz");
    assert_eq!(&rows[1][col("phone")], "+34600123456");
    assert_eq!(&rows[1][col("list")], "primavera");
    assert_eq!(&rows[1][col("campaign")], "ventas");
    assert_eq!(&rows[1][col("status")], "new");

    // And as JSON.
    let res = download(
        &server,
        &adm,
        "/api/exports/contacts?list=primavera&format=json",
    );
    assert_eq!(res.header("content-type"), Some("application/json"));
    let v: Value = serde_json::from_slice(&res.body).expect("JSON array");
    let names: Vec<&str> = v
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, vec!["Ibáñez; Lucía", "José Muñoz"]);

    // A bad zone is refused before anything is streamed.
    let (st, _) = server.api(
        "GET",
        "/api/exports/calls?tz=Nowhere/Land",
        None,
        Some(&adm),
    );
    assert_eq!(st, 400);
}

#[test]
fn spanish_spreadsheet_imported_and_exported_back() {
    round_trip(None, "contact_files");
}

#[test]
fn spanish_spreadsheet_round_trip_on_postgres() {
    let Some(pg) = PgSchema::create("files") else {
        eprintln!("SWITCHBOARD_TEST_POSTGRES_URL not set: PostgreSQL variant skipped");
        return;
    };
    round_trip(Some(pg.url.clone()), "contact_files_pg");
}
