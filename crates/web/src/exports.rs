//! Downloads: call history (CDRs), dispositions with their agenda entries
//! and contacts with their outcomes, as CSV (UTF-8 with BOM, or a chosen
//! single-byte encoding) or JSON, filtered like their screens. Rows come
//! from the database through a bounded channel and are encoded a batch at
//! a time into the response body, so nothing is built in memory.

use std::future::Future;

use axum::body::{Body, Bytes};
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use chrono::{NaiveDate, NaiveDateTime, TimeZone};
use chrono_tz::Tz;
use encoding_rs::{Encoding, UTF_8};
use serde::{Deserialize, Serialize};
use switchboard_storage::{
    ContactExport, ContactStatus, DispositionExport, ExportFilter, StorageError,
};
use tokio::sync::mpsc;

use crate::{AppState, Caller, HttpError};

/// Rows encoded per body chunk (at most).
const BATCH: usize = 256;

/// Export parameters. Times are unix ms, a date (`2026-12-01`, midnight in
/// `tz`) or a local date-time (`2026-12-01T08:00`) in `tz`.
#[derive(Deserialize, utoipa::IntoParams)]
pub struct ExportQuery {
    /// `csv` (default) or `json`.
    format: Option<String>,
    /// CSV encoding: `utf-8` (default, with BOM) or a single-byte one such as `windows-1252`.
    encoding: Option<String>,
    /// IANA zone for times in the CSV and for dates in `from`/`to` (default UTC).
    tz: Option<String>,
    /// From (inclusive): call start, disposition time or contact import time.
    from: Option<String>,
    /// To (exclusive).
    to: Option<String>,
    /// Agent username (calls: the handling agent; dispositions: who gave it).
    agent: Option<String>,
    /// Campaign name.
    campaign: Option<String>,
    /// Contact list name (contacts).
    list: Option<String>,
    /// Contact status: new, dialing, done, retry, callback (contacts).
    status: Option<String>,
}

/// Output format chosen by the request.
#[derive(Clone, Copy)]
pub(crate) enum Format {
    Csv(&'static Encoding),
    Json,
}

/// A row that can be written as CSV.
pub(crate) trait ExportRow: Serialize + Send + 'static {
    /// CSV header.
    const HEADERS: &'static [&'static str];
    /// CSV fields, times shown in `tz`.
    fn fields(&self, tz: Tz) -> Vec<String>;
}

pub(crate) fn time(ms: Option<i64>, tz: Tz) -> String {
    ms.and_then(|ms| chrono::Utc.timestamp_millis_opt(ms).single())
        .map(|t| t.with_timezone(&tz).format("%Y-%m-%d %H:%M:%S").to_string())
        .unwrap_or_default()
}

pub(crate) fn secs(from: Option<i64>, to: Option<i64>) -> String {
    match (from, to) {
        (Some(a), Some(b)) if b >= a => ((b - a) / 1000).to_string(),
        _ => String::new(),
    }
}

pub(crate) fn text(v: &Option<String>) -> String {
    v.clone().unwrap_or_default()
}

impl ExportRow for DispositionExport {
    const HEADERS: &'static [&'static str] = &[
        "at",
        "call_id",
        "agent",
        "campaign",
        "disposition",
        "note",
        "phone",
        "contact_name",
        "agenda_kind",
        "agenda_at",
        "agenda_tz",
        "agenda_reason",
        "agenda_status",
    ];
    fn fields(&self, tz: Tz) -> Vec<String> {
        vec![
            time(Some(self.at), tz),
            self.call_id.clone(),
            text(&self.agent),
            text(&self.campaign),
            self.disposition.clone(),
            self.note.clone(),
            self.phone.clone(),
            text(&self.contact_name),
            text(&self.agenda_kind),
            time(self.agenda_at, tz),
            text(&self.agenda_tz),
            text(&self.agenda_reason),
            text(&self.agenda_status),
        ]
    }
}

impl ExportRow for ContactExport {
    const HEADERS: &'static [&'static str] = &[
        "contact_id",
        "list",
        "campaign",
        "phone",
        "name",
        "timezone",
        "status",
        "attempts",
        "calls",
        "last_call_at",
        "last_disposition",
        "imported_at",
        "extra",
    ];
    fn fields(&self, tz: Tz) -> Vec<String> {
        vec![
            self.id.clone(),
            self.list.clone(),
            text(&self.campaign),
            self.phone.clone(),
            self.name.clone(),
            text(&self.timezone),
            self.status.clone(),
            self.attempts.to_string(),
            self.calls.to_string(),
            time(self.last_call_at, tz),
            text(&self.last_disposition),
            time(Some(self.created_at), tz),
            self.extra.to_string(),
        ]
    }
}

/// One CSV record (quoted as needed, CRLF-free `\n` end) in `enc`.
fn csv_line<I>(fields: I, enc: &'static Encoding) -> Vec<u8>
where
    I: IntoIterator,
    I::Item: AsRef<[u8]>,
{
    let mut utf8 = Vec::new();
    {
        let mut w = csv::WriterBuilder::new()
            .buffer_capacity(1024)
            .from_writer(&mut utf8);
        let _ = w.write_record(fields);
        let _ = w.flush();
    }
    if enc == UTF_8 {
        return utf8;
    }
    enc.encode(&String::from_utf8_lossy(&utf8)).0.into_owned()
}

/// Encodes rows into body chunks.
struct Encoder {
    format: Format,
    tz: Tz,
    rows: usize,
}

impl Encoder {
    fn new(format: Format, tz: Tz) -> Encoder {
        Encoder {
            format,
            tz,
            rows: 0,
        }
    }

    /// The start of the body: BOM and header, or `[`.
    fn start<T: ExportRow>(&mut self) -> Vec<u8> {
        match self.format {
            Format::Json => b"[".to_vec(),
            Format::Csv(enc) => {
                let mut out = if enc == UTF_8 {
                    "\u{feff}".as_bytes().to_vec()
                } else {
                    Vec::new()
                };
                out.extend(csv_line(T::HEADERS, enc));
                out
            }
        }
    }

    fn row<T: ExportRow>(&mut self, row: &T, out: &mut Vec<u8>) {
        match self.format {
            Format::Json => {
                out.extend_from_slice(if self.rows == 0 { b"\n" } else { b",\n" });
                let _ = serde_json::to_writer(&mut *out, row);
            }
            Format::Csv(enc) => {
                out.extend(csv_line(row.fields(self.tz), enc));
            }
        }
        self.rows += 1;
    }

    fn end(&self) -> Vec<u8> {
        match self.format {
            Format::Json => b"\n]\n".to_vec(),
            Format::Csv(_) => Vec::new(),
        }
    }
}

/// Where an export is in its body.
enum Phase {
    Start,
    Rows,
    Done,
}

/// The response: `run` feeds rows into the channel from a task while the
/// body encodes them as they come.
pub(crate) fn respond<T, F, Fut>(name: &str, format: Format, tz: Tz, run: F) -> Response
where
    T: ExportRow,
    F: FnOnce(mpsc::Sender<Result<T, StorageError>>) -> Fut,
    Fut: Future<Output = u64> + Send + 'static,
{
    let (tx, rx) = mpsc::channel::<Result<T, StorageError>>(BATCH);
    tokio::spawn(run(tx));
    let (content_type, ext) = match format {
        Format::Json => ("application/json".to_string(), "json"),
        Format::Csv(enc) => (format!("text/csv; charset={}", enc.name()), "csv"),
    };
    let state = (rx, Encoder::new(format, tz), Phase::Start);
    let body = futures::stream::unfold(state, |(mut rx, mut enc, phase)| async move {
        match phase {
            Phase::Done => None,
            Phase::Start => {
                let head = enc.start::<T>();
                Some((Ok(Bytes::from(head)), (rx, enc, Phase::Rows)))
            }
            Phase::Rows => {
                let mut out = Vec::new();
                let mut next = rx.recv().await;
                let mut batch = 0;
                loop {
                    match next {
                        None => {
                            out.extend(enc.end());
                            return Some((Ok(Bytes::from(out)), (rx, enc, Phase::Done)));
                        }
                        Some(Err(e)) => {
                            tracing::error!(%e, "export failed");
                            let e = std::io::Error::other(format!("export failed: {e}"));
                            return Some((Err(e), (rx, enc, Phase::Done)));
                        }
                        Some(Ok(row)) => enc.row(&row, &mut out),
                    }
                    batch += 1;
                    if batch >= BATCH {
                        return Some((Ok(Bytes::from(out)), (rx, enc, Phase::Rows)));
                    }
                    next = match rx.try_recv() {
                        Ok(item) => Some(item),
                        Err(mpsc::error::TryRecvError::Disconnected) => None,
                        Err(mpsc::error::TryRecvError::Empty) => {
                            return Some((Ok(Bytes::from(out)), (rx, enc, Phase::Rows)))
                        }
                    };
                }
            }
        }
    });
    let disposition = format!("attachment; filename=\"{name}.{ext}\"");
    (
        [
            (header::CONTENT_TYPE, content_type),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        Body::from_stream(body),
    )
        .into_response()
}

/// A time parameter: unix ms, a date or a local date-time in `tz`, or RFC 3339.
pub(crate) fn instant(v: &str, tz: Tz) -> Result<i64, HttpError> {
    let v = v.trim();
    if let Ok(ms) = v.parse::<i64>() {
        return Ok(ms);
    }
    if let Ok(t) = chrono::DateTime::parse_from_rfc3339(v) {
        return Ok(t.timestamp_millis());
    }
    let local = NaiveDate::parse_from_str(v, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .or_else(|| NaiveDateTime::parse_from_str(v, "%Y-%m-%dT%H:%M").ok())
        .or_else(|| NaiveDateTime::parse_from_str(v, "%Y-%m-%dT%H:%M:%S").ok());
    local
        .and_then(|l| tz.from_local_datetime(&l).earliest())
        .map(|t| t.timestamp_millis())
        .ok_or_else(|| {
            HttpError::new(
                400,
                format!("time {v:?}: use unix ms, 2026-12-01, 2026-12-01T08:00 or RFC 3339"),
            )
        })
}

/// The `tz` parameter: an IANA zone name, UTC when absent or empty.
pub(crate) fn zone(tz: Option<&str>) -> Result<Tz, HttpError> {
    match tz.map(str::trim).filter(|t| !t.is_empty()) {
        Some(t) => t.parse().map_err(|_| {
            HttpError::new(
                400,
                format!("unknown time zone {t:?} (an IANA name such as Europe/Madrid)"),
            )
        }),
        None => Ok(Tz::UTC),
    }
}

/// The format, zone and filter of a request (names resolved to ids).
pub(crate) async fn parse(
    st: &AppState,
    q: Result<Query<ExportQuery>, QueryRejection>,
) -> Result<(Format, Tz, ExportFilter), HttpError> {
    let Query(q) =
        q.map_err(|e| HttpError::new(400, format!("invalid query: {}", e.body_text())))?;
    let tz = zone(q.tz.as_deref())?;
    let format = match q.format.as_deref().unwrap_or("csv") {
        "json" => Format::Json,
        "csv" => {
            let label = q.encoding.as_deref().unwrap_or("utf-8");
            let enc = Encoding::for_label(label.trim().as_bytes())
                .filter(|e| e.output_encoding() == *e)
                .ok_or_else(|| {
                    HttpError::new(400, format!("encoding {label:?}: use utf-8 or a single-byte encoding such as windows-1252"))
                })?;
            Format::Csv(enc)
        }
        other => {
            return Err(HttpError::new(
                400,
                format!("format {other:?}: use csv or json"),
            ))
        }
    };
    let mut f = ExportFilter {
        from: q.from.as_deref().map(|v| instant(v, tz)).transpose()?,
        to: q.to.as_deref().map(|v| instant(v, tz)).transpose()?,
        ..Default::default()
    };
    if let Some(u) = &q.agent {
        f.agent_id = Some(st.agent_named(u).await?.id);
    }
    if let Some(n) = &q.campaign {
        f.campaign_id = Some(st.campaign_named(n).await?.id);
    }
    if let Some(l) = &q.list {
        let lists = st.storage.list_contact_lists().await?;
        let list = lists
            .into_iter()
            .find(|x| x.name == *l)
            .ok_or_else(|| HttpError::new(404, format!("unknown contact list {l}")))?;
        f.list_id = Some(list.id);
    }
    if let Some(s) = &q.status {
        f.status = Some(s.parse::<ContactStatus>().map_err(|_| {
            HttpError::new(
                400,
                format!("status {s:?}: use new, dialing, done, retry or callback"),
            )
        })?);
    }
    Ok((format, tz, f))
}

/// `GET /api/exports/calls`: call detail records, oldest first.
#[utoipa::path(get, path = "/api/exports/calls", tag = "reports", params(ExportQuery),
    responses((status = 200, description = "CSV (columns: call_id, direction, campaign, agent, caller, callee, \
        contact_id, contact_name, started_at, answered_at, ended_at, duration_s, talk_s, end_reason, status, \
        disposition, note, customer_packets, customer_lost, customer_loss_pct, customer_jitter_ms, customer_mos, \
        agent_packets, agent_lost, agent_loss_pct, agent_jitter_ms, agent_mos) or a JSON array", content_type = "text/csv"),
        (status = "4XX", body = crate::error::ErrorBody)))]
pub async fn calls(
    State(st): State<AppState>,
    c: Caller,
    q: Result<Query<ExportQuery>, QueryRejection>,
) -> Result<Response, HttpError> {
    c.require_supervisor()?;
    let (format, tz, f) = parse(&st, q).await?;
    let storage = st.storage.clone();
    Ok(respond("calls", format, tz, move |tx| async move {
        storage.export_calls(&f, tx).await
    }))
}

/// `GET /api/exports/dispositions`: dispositions with the agenda entries they scheduled.
#[utoipa::path(get, path = "/api/exports/dispositions", tag = "reports", params(ExportQuery),
    responses((status = 200, description = "CSV (columns: at, call_id, agent, campaign, disposition, note, phone, \
        contact_name, agenda_kind, agenda_at, agenda_tz, agenda_reason, agenda_status) or a JSON array",
        content_type = "text/csv"),
        (status = "4XX", body = crate::error::ErrorBody)))]
pub async fn dispositions(
    State(st): State<AppState>,
    c: Caller,
    q: Result<Query<ExportQuery>, QueryRejection>,
) -> Result<Response, HttpError> {
    c.require_supervisor()?;
    let (format, tz, f) = parse(&st, q).await?;
    let storage = st.storage.clone();
    Ok(respond("dispositions", format, tz, move |tx| async move {
        storage.export_dispositions(&f, tx).await
    }))
}

/// `GET /api/exports/contacts`: contacts with their calls and latest disposition.
#[utoipa::path(get, path = "/api/exports/contacts", tag = "reports", params(ExportQuery),
    responses((status = 200, description = "CSV (columns: contact_id, list, campaign, phone, name, timezone, status, \
        attempts, calls, last_call_at, last_disposition, imported_at, extra as JSON) or a JSON array",
        content_type = "text/csv"),
        (status = "4XX", body = crate::error::ErrorBody)))]
pub async fn contacts(
    State(st): State<AppState>,
    c: Caller,
    q: Result<Query<ExportQuery>, QueryRejection>,
) -> Result<Response, HttpError> {
    c.require_supervisor()?;
    let (format, tz, f) = parse(&st, q).await?;
    let storage = st.storage.clone();
    Ok(respond("contacts", format, tz, move |tx| async move {
        storage.export_contacts(&f, tx).await
    }))
}

pub mod reports;

mod cdr;
#[cfg(test)]
pub(crate) mod tests;
