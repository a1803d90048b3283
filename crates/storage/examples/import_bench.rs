//! Times a 100,000-row contact import (not a test: prints figures only).
//!
//! `cargo run --release -p switchboard-storage --example import_bench [ROWS] [DATABASE_URL]`
//!
//! The file is what a Spanish-locale spreadsheet saves: Windows-1252,
//! semicolons, national numbers with spaces, a quoted field, an extra column.
//! It is imported into a fresh SQLite file under the system temp folder (or
//! the database given, whose contact tables should be empty), then imported
//! again to time the duplicate check against the list.

use std::time::Instant;

use switchboard_storage::{CampaignInput, CampaignKind, ImportOptions, Storage};

#[tokio::main]
async fn main() {
    let rows: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(100_000);
    let mut file = b"Nombre;Tel\xe9fono;Ciudad;Nota\r\n".to_vec();
    for i in 0..rows {
        let n = 600_000_000 + i;
        let phone = format!(
            "{} {:02} {:02} {:02}",
            n / 1_000_000,
            n / 10_000 % 100,
            n / 100 % 100,
            n % 100
        );
        file.extend_from_slice(b"Jos\xe9 Mu\xf1oz ");
        file.extend_from_slice(format!("{i};{phone}").as_bytes());
        file.extend_from_slice(b";M\xe1laga;\"nota; ");
        file.extend_from_slice(format!("{i}\"\r\n").as_bytes());
    }
    let dir = std::env::temp_dir().join(format!("sb-import-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let url = std::env::args()
        .nth(2)
        .unwrap_or_else(|| format!("sqlite://{}", dir.join("bench.db").display()));
    let db = Storage::connect(&url).await.expect("storage");
    let name = format!("bench-{}", std::process::id());
    let mut camp = CampaignInput::new(&name, CampaignKind::Dialer);
    camp.default_country = Some("ES".into());
    let camp = db.create_campaign(&camp).await.expect("campaign");
    let opts = ImportOptions::default();

    let t = Instant::now();
    let r = db
        .import_contacts(&name, Some(&camp.id), &file, &opts)
        .await
        .expect("import");
    let first = t.elapsed();
    assert!(
        r.errors.is_empty(),
        "{:?}",
        &r.errors[..r.errors.len().min(3)]
    );
    let t = Instant::now();
    let again = db
        .import_contacts(&name, Some(&camp.id), &file, &opts)
        .await
        .expect("import again");
    let second = t.elapsed();
    println!(
        "import of {rows} rows ({:.1} MB, {}, '{}'): {} imported in {:.2} s ({:.0} rows/s); \
         same file again: {} duplicates skipped in {:.2} s",
        file.len() as f64 / 1e6,
        r.encoding,
        r.delimiter,
        r.imported,
        first.as_secs_f64(),
        rows as f64 / first.as_secs_f64(),
        again.duplicates.len(),
        second.as_secs_f64(),
    );
    db.close().await;
    let _ = std::fs::remove_dir_all(&dir);
}
