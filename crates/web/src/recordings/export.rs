//! `GET /api/recordings/export`: a recordings search (the filters of
//! `GET /api/recordings`) downloaded as a zip of the WAV files plus
//! `index.csv`. The archive is written by the `zip` crate in streaming mode
//! (sizes and checksums in data descriptors, no seeking) from a blocking
//! task into a bounded channel that feeds the response body, so neither the
//! archive nor a whole WAV is ever held in memory.

use std::fs::File;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use axum::body::{Body, Bytes};
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use chrono::{Datelike, TimeZone, Timelike};
use chrono_tz::Tz;
use serde::Deserialize;
use serde_json::json;
use switchboard_storage::{RecordingQuery, RecordingRow};
use tokio::sync::mpsc;
use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, ZipWriter};

use crate::exports::{instant, time, zone};
use crate::{AppState, Caller, HttpError};

/// The most recordings one export may include.
pub const MAX_EXPORT_RECORDINGS: usize = 500;

/// The most WAV bytes one export may include (3 GiB): the archive stays
/// under the 4 GiB a plain (non-ZIP64) zip can hold, which every unzip tool reads.
pub const MAX_EXPORT_BYTES: u64 = 3 << 30;

/// Bytes per body chunk.
const CHUNK: usize = 64 << 10;

/// Chunks buffered between the zip writer and the response.
const CHUNKS_IN_FLIGHT: usize = 4;

/// Columns of `index.csv`.
const INDEX_HEADERS: [&str; 12] = [
    "recording_id",
    "call_id",
    "file",
    "started_at",
    "duration_s",
    "agent",
    "campaign",
    "caller",
    "callee",
    "disposition",
    "tags",
    "note",
];

/// The search of `GET /api/recordings`, plus `tz`.
#[derive(Deserialize, utoipa::IntoParams)]
pub struct ZipQuery {
    /// Started at or after: unix ms, a date (`2026-12-01`, midnight in `tz`),
    /// a local date-time (`2026-12-01T08:00`) or RFC 3339.
    from: Option<String>,
    /// Started before (same forms).
    to: Option<String>,
    /// IANA zone for dates, `index.csv` times and file names (default UTC).
    tz: Option<String>,
    /// Agent username.
    agent: Option<String>,
    /// Campaign name.
    campaign: Option<String>,
    /// Part of the caller or callee number.
    number: Option<String>,
    /// Disposition name.
    disposition: Option<String>,
    /// Part of any tag of the call.
    tag: Option<String>,
}

/// One recording of the export and where its audio is.
struct Entry {
    row: RecordingRow,
    /// The WAV inside the recordings folder, or why there is none.
    audio: Result<(PathBuf, u64), &'static str>,
}

/// The WAV of `r` with its size, if it is finished and inside `root`.
fn audio(r: &RecordingRow, root: Option<&Path>) -> Result<(PathBuf, u64), &'static str> {
    if r.ended_at.is_none() {
        return Err("still recording");
    }
    let missing = "audio file missing";
    let path = Path::new(&r.path).canonicalize().map_err(|_| missing)?;
    if !root.is_some_and(|root| path.starts_with(root)) {
        return Err(missing);
    }
    let meta = std::fs::metadata(&path).map_err(|_| missing)?;
    if !meta.is_file() {
        return Err(missing);
    }
    Ok((path, meta.len()))
}

/// The name of a recording in the zip: local start, agent, id
/// (`20261201-093000_1001_<id>.wav`), with only safe characters.
fn file_name(r: &RecordingRow, tz: Tz) -> String {
    let started = tz
        .timestamp_millis_opt(r.started_at)
        .single()
        .map(|t| t.format("%Y%m%d-%H%M%S").to_string())
        .unwrap_or_default();
    let safe = |s: &str| -> String {
        s.chars()
            .map(|c| match c {
                'a'..='z' | 'A'..='Z' | '0'..='9' | '-' | '.' | '+' => c,
                _ => '_',
            })
            .collect()
    };
    let agent = r.agent_username.as_deref().unwrap_or("none");
    format!("{started}_{}_{}.wav", safe(agent), safe(&r.id))
}

/// `started_at` as the zip's modification time (local, 2-second precision).
fn zip_time(ms: i64, tz: Tz) -> Option<zip::DateTime> {
    let t = tz.timestamp_millis_opt(ms).single()?;
    zip::DateTime::from_date_and_time(
        u16::try_from(t.year()).ok()?,
        t.month() as u8,
        t.day() as u8,
        t.hour() as u8,
        t.minute() as u8,
        t.second() as u8,
    )
    .ok()
}

/// A `Write` that hands the bytes to the response in chunks; it fails
/// (broken pipe) once the client has gone.
struct ChunkWriter {
    tx: mpsc::Sender<Result<Bytes, io::Error>>,
    buf: Vec<u8>,
}

impl ChunkWriter {
    fn send(&mut self) -> io::Result<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let chunk = Bytes::from(std::mem::replace(&mut self.buf, Vec::with_capacity(CHUNK)));
        self.tx
            .blocking_send(Ok(chunk))
            .map_err(|_| io::Error::new(io::ErrorKind::BrokenPipe, "the client went away"))
    }
}

impl Write for ChunkWriter {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        self.buf.extend_from_slice(data);
        if self.buf.len() >= CHUNK {
            self.send()?;
        }
        Ok(data.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.send()
    }
}

/// One `index.csv` record.
fn index_record(e: &Entry, file: Option<&str>, note: &str, tz: Tz) -> [String; 12] {
    let r = &e.row;
    let tags: Vec<&str> = r.tags.iter().map(|t| t.text.as_str()).collect();
    [
        r.id.clone(),
        r.call_id.clone(),
        file.unwrap_or_default().to_string(),
        time(Some(r.started_at), tz),
        r.duration_ms
            .map(|d| (d / 1000).to_string())
            .unwrap_or_default(),
        r.agent_username.clone().unwrap_or_default(),
        r.campaign_name.clone().unwrap_or_default(),
        r.caller.clone(),
        r.callee.clone(),
        r.disposition.clone().unwrap_or_default(),
        tags.join("; "),
        note.to_string(),
    ]
}

/// Why writing an archive stopped.
#[derive(Debug, thiserror::Error)]
enum ZipFailure {
    /// The zip writer failed.
    #[error("zip: {0}")]
    Zip(#[from] zip::result::ZipError),
    /// The index could not be written.
    #[error("index.csv: {0}")]
    Index(#[from] csv::Error),
    /// Reading a WAV or sending to the client failed.
    #[error("{0}")]
    Io(#[from] io::Error),
}

/// Writes the archive: each available WAV (stored: deflate gains little on
/// PCM audio for the CPU it costs),
/// then `index.csv` (UTF-8 with BOM) listing every recording with the file
/// it has in the zip, or a note saying why it has none.
fn write_zip(out: ChunkWriter, entries: Vec<Entry>, tz: Tz) -> Result<(), ZipFailure> {
    let mut zip = ZipWriter::new_stream(out);
    let mut index = csv::Writer::from_writer("\u{feff}".as_bytes().to_vec());
    index.write_record(INDEX_HEADERS)?;
    for e in &entries {
        let opened = match &e.audio {
            Ok((path, _)) => File::open(path).map_err(|_| "audio file missing"),
            Err(why) => Err(*why),
        };
        let mut file = match opened {
            Ok(f) => f,
            Err(why) => {
                index.write_record(index_record(e, None, why, tz))?;
                continue;
            }
        };
        let name = file_name(&e.row, tz);
        let mut opts = SimpleFileOptions::default().compression_method(CompressionMethod::Stored);
        if let Some(t) = zip_time(e.row.started_at, tz) {
            opts = opts.last_modified_time(t);
        }
        zip.start_file(name.as_str(), opts)?;
        io::copy(&mut file, &mut zip)?;
        index.write_record(index_record(e, Some(&name), "", tz))?;
    }
    let index = index
        .into_inner()
        .map_err(|e| io::Error::other(e.to_string()))?;
    let mut opts = SimpleFileOptions::default().compression_method(CompressionMethod::Stored);
    if let Some(t) = zip_time(switchboard_storage::now_ms(), tz) {
        opts = opts.last_modified_time(t);
    }
    zip.start_file("index.csv", opts)?;
    zip.write_all(&index)?;
    zip.finish()?.flush()?;
    Ok(())
}

/// `GET /api/recordings/export`: the recordings a search finds, as a zip.
#[utoipa::path(get, path = "/api/recordings/export", tag = "recordings", params(ZipQuery),
    responses((status = 200, description = "A zip (streamed) of the WAV files, named \
        `<local start>_<agent>_<recording id>.wav`, and `index.csv` (UTF-8 with BOM; columns \
        recording_id, call_id, file, started_at, duration_s, agent, campaign, caller, callee, \
        disposition, tags, note). Supervisors and admins.", content_type = "application/zip"),
        (status = 422, description = "The search matches more than 500 recordings or 3 GiB of audio: \
        `{\"error\": ..., \"limit\": 500}`", body = crate::error::ErrorBody),
        (status = "4XX", body = crate::error::ErrorBody)))]
pub async fn export(
    State(st): State<AppState>,
    c: Caller,
    q: Result<Query<ZipQuery>, QueryRejection>,
) -> Result<Response, HttpError> {
    c.require_supervisor()?;
    let Query(q) =
        q.map_err(|e| HttpError::new(400, format!("invalid query: {}", e.body_text())))?;
    let tz = zone(q.tz.as_deref())?;
    let mut query = RecordingQuery {
        from: q.from.as_deref().map(|v| instant(v, tz)).transpose()?,
        to: q.to.as_deref().map(|v| instant(v, tz)).transpose()?,
        number: q.number,
        disposition: q.disposition,
        tag_text: q.tag,
        limit: Some(MAX_EXPORT_RECORDINGS as i64 + 1),
        ..Default::default()
    };
    if let Some(u) = &q.agent {
        query.agent_id = Some(st.agent_named(u).await?.id);
    }
    if let Some(n) = &q.campaign {
        query.campaign_id = Some(st.campaign_named(n).await?.id);
    }
    let rows = st.storage.search_recordings(&query).await?;
    if rows.len() > MAX_EXPORT_RECORDINGS {
        return Err(HttpError {
            status: 422,
            message: format!(
                "the search matches more than {MAX_EXPORT_RECORDINGS} recordings, the most one \
                 export may include: narrow it (from, to, agent, campaign, number, disposition, tag)"
            ),
            details: Some(json!({"limit": MAX_EXPORT_RECORDINGS})),
        });
    }
    // Where each WAV is and its size (file system calls: off the async threads).
    let root = st.data_dir.join("recordings");
    let entries: Vec<Entry> = tokio::task::spawn_blocking(move || {
        let root = root.canonicalize().ok();
        rows.into_iter()
            .map(|row| Entry {
                audio: audio(&row, root.as_deref()),
                row,
            })
            .collect()
    })
    .await
    .map_err(|e| HttpError::new(500, format!("listing the recordings failed: {e}")))?;
    let bytes: u64 = entries
        .iter()
        .filter_map(|e| e.audio.as_ref().ok().map(|(_, n)| *n))
        .sum();
    if bytes > MAX_EXPORT_BYTES {
        return Err(HttpError {
            status: 422,
            message: format!(
                "the search's recordings hold {} MiB of audio, more than the {} MiB one export \
                 may include: narrow it (from, to, agent, campaign, number, disposition, tag)",
                bytes >> 20,
                MAX_EXPORT_BYTES >> 20
            ),
            details: Some(json!({"limit_bytes": MAX_EXPORT_BYTES, "bytes": bytes})),
        });
    }
    let (tx, rx) = mpsc::channel(CHUNKS_IN_FLIGHT);
    let count = entries.len();
    tokio::task::spawn_blocking(move || {
        let out = ChunkWriter {
            tx: tx.clone(),
            buf: Vec::with_capacity(CHUNK),
        };
        if let Err(e) = write_zip(out, entries, tz) {
            tracing::warn!(%e, "recordings export stopped");
            let _ = tx.blocking_send(Err(io::Error::other(format!("export failed: {e}"))));
        }
    });
    tracing::info!(recordings = count, bytes, by = %c.agent.username, "recordings export");
    let body = futures::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|item| (item, rx))
    });
    Ok((
        [
            (header::CONTENT_TYPE, "application/zip"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"recordings.zip\"",
            ),
        ],
        Body::from_stream(body),
    )
        .into_response())
}
