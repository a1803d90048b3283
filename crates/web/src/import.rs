//! `POST /api/contacts/import`: the file as the raw body (any encoding a
//! spreadsheet writes), options in the query string, every error as JSON.

use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, QueryRejection};
use axum::extract::{Query, State};
use axum::http::{header, HeaderMap};
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};
use switchboard_storage::ImportOptions;

use crate::{AppState, Caller, HttpError};

/// Largest import body accepted (a 100,000-row file is about 5 MB).
pub const MAX_IMPORT_BYTES: usize = 64 << 20;

/// Import parameters: the list and campaign, and how to read the file when
/// detection is not enough.
#[derive(Deserialize, utoipa::IntoParams)]
pub struct ImportQuery {
    /// Contact list (created if missing, appended to otherwise).
    list: String,
    /// Campaign that dials the contacts; its `default_country` reads national numbers.
    campaign: Option<String>,
    /// Encoding when the file has no BOM (`windows-1252`, `latin1`, `utf-16le`, `utf-8`...);
    /// also taken from `Content-Type: text/csv; charset=...`. Default: UTF-8 if valid, else Windows-1252.
    encoding: Option<String>,
    /// Delimiter: `,` `;` `|` or `tab`. Default: detected from the header line.
    delimiter: Option<String>,
    /// ISO 3166 country for national numbers (overrides the campaign's).
    country: Option<String>,
    /// Header of the phone column (default: phone, teléfono, móvil, tel, ...).
    phone_column: Option<String>,
    /// Header of the name column (default: name, nombre, ...; a last-name column is appended).
    name_column: Option<String>,
    /// Header of the time-zone column (default: timezone, tz, zona horaria).
    timezone_column: Option<String>,
}

/// The `charset` parameter of a `Content-Type` header.
fn charset(headers: &HeaderMap) -> Option<String> {
    let ct = headers.get(header::CONTENT_TYPE)?.to_str().ok()?;
    ct.split(';').skip(1).find_map(|p| {
        let (k, v) = p.split_once('=')?;
        k.trim()
            .eq_ignore_ascii_case("charset")
            .then(|| v.trim().trim_matches('"').to_string())
    })
}

fn delimiter(text: &str) -> Result<char, HttpError> {
    match text {
        "tab" | "\\t" | "\t" => Ok('\t'),
        "comma" => Ok(','),
        "semicolon" => Ok(';'),
        "pipe" => Ok('|'),
        t if t.chars().count() == 1 => Ok(t.chars().next().unwrap_or(',')),
        t => Err(HttpError::new(
            400,
            format!("delimiter {t:?} must be one character, or tab"),
        )),
    }
}

/// `POST /api/contacts/import?list=NAME&campaign=NAME` with the CSV file as body.
#[utoipa::path(post, path = "/api/contacts/import", tag = "admin", params(ImportQuery),
    request_body(content = String, content_type = "text/csv",
        description = "The file as saved by a spreadsheet: UTF-8 (with or without BOM), UTF-16 with BOM, \
        or Windows-1252/Latin-1; comma, semicolon, tab or pipe separated; a header row"),
    responses(
        (status = 200, description = "`report`: `imported`, `duplicates` skipped (line, phone, \
            first_line), `encoding`, `delimiter`, `country`, `columns` (the header mapping), \
            `zones_from_numbers` (contacts without a zone in the file that got their number's \
            country's, when it has one clock)", body = Object),
        (status = 422, description = "Nothing imported: `report.errors` lists every bad line", body = Object),
        (status = "4XX", body = crate::error::ErrorBody)))]
pub async fn import(
    State(st): State<AppState>,
    c: Caller,
    headers: HeaderMap,
    q: Result<Query<ImportQuery>, QueryRejection>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<Value>, HttpError> {
    c.require_supervisor()?;
    let Query(q) =
        q.map_err(|e| HttpError::new(400, format!("invalid query: {}", e.body_text())))?;
    let body = body.map_err(|e| {
        HttpError::new(
            e.status().as_u16(),
            format!(
                "could not read the file (at most {} MB): {}",
                MAX_IMPORT_BYTES >> 20,
                e.body_text()
            ),
        )
    })?;
    let campaign_id = match &q.campaign {
        Some(n) => Some(st.campaign_named(n).await?.id),
        None => None,
    };
    let opts = ImportOptions {
        encoding: q.encoding.or_else(|| charset(&headers)),
        delimiter: q.delimiter.as_deref().map(delimiter).transpose()?,
        country: q.country,
        phone_column: q.phone_column,
        name_column: q.name_column,
        timezone_column: q.timezone_column,
    };
    let report = st
        .storage
        .import_contacts(&q.list, campaign_id.as_deref(), &body, &opts)
        .await?;
    if !report.errors.is_empty() {
        let n = report.errors.len();
        return Err(HttpError {
            status: 422,
            message: format!(
                "nothing imported: {n} bad line{}",
                if n == 1 { "" } else { "s" }
            ),
            details: Some(json!({"report": report})),
        });
    }
    Ok(Json(json!({"report": report})))
}

#[cfg(test)]
mod tests;
