//! The do-not-call list for admins: list (JSON or CSV), add, remove and
//! import. Every change is pushed to the switch, which refuses campaign
//! calls to barred numbers and logs each refusal.

use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, JsonRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};
use switchboard_center::{DncEntry, EngineRequest};
use switchboard_storage::{DncRow, ImportOptions};

use crate::error::bad_json;
use crate::{AppState, Caller, HttpError};

/// The switch's view of stored rows.
pub fn dnc_entries(rows: &[DncRow]) -> Vec<DncEntry> {
    rows.iter()
        .map(|r| DncEntry {
            phone: r.phone.clone(),
            campaign_id: r.campaign_id.clone(),
            reason: r.reason.clone(),
        })
        .collect()
}

/// Which list, and how to show it.
#[derive(Deserialize, utoipa::IntoParams)]
pub struct DncQuery {
    /// Campaign name; absent = the global list (for add, remove, import) or every list (for GET).
    campaign: Option<String>,
    /// GET: `json` (default) or `csv` (UTF-8 with BOM).
    format: Option<String>,
    /// Import and add: ISO 3166 country for national numbers (default: the campaign's).
    country: Option<String>,
    /// Import: encoding when the file has no BOM.
    encoding: Option<String>,
    /// Import: header of the phone column.
    phone_column: Option<String>,
}

async fn campaign_id(st: &AppState, q: &DncQuery) -> Result<Option<String>, HttpError> {
    match &q.campaign {
        Some(n) => Ok(Some(st.campaign_named(n).await?.id)),
        None => Ok(None),
    }
}

fn query(q: Result<Query<DncQuery>, QueryRejection>) -> Result<DncQuery, HttpError> {
    q.map(|Query(q)| q)
        .map_err(|e| HttpError::new(400, format!("invalid query: {}", e.body_text())))
}

/// `GET /api/dnc`: barred numbers (campaign names resolved).
#[utoipa::path(get, path = "/api/dnc", tag = "admin", params(DncQuery),
    responses((status = 200, description = "`dnc`: phone, campaign (null = global), reason, added_by, \
        created_at; or CSV with those columns", body = Object),
        (status = "4XX", body = crate::error::ErrorBody)))]
pub async fn list(
    State(st): State<AppState>,
    c: Caller,
    q: Result<Query<DncQuery>, QueryRejection>,
) -> Result<Response, HttpError> {
    c.require_supervisor()?;
    let q = query(q)?;
    let only = campaign_id(&st, &q).await?;
    let names: std::collections::HashMap<String, String> = st
        .storage
        .list_campaigns()
        .await?
        .into_iter()
        .map(|c| (c.id, c.name))
        .collect();
    let rows: Vec<Value> = st
        .storage
        .list_dnc()
        .await?
        .into_iter()
        .filter(|r| only.is_none() || r.campaign_id == only)
        .map(|r| {
            let campaign = r.campaign_id.as_ref().and_then(|id| names.get(id));
            json!({"phone": r.phone, "campaign": campaign, "reason": r.reason,
                   "added_by": r.added_by, "created_at": r.created_at})
        })
        .collect();
    if q.format.as_deref() != Some("csv") {
        return Ok(Json(json!({ "dnc": rows })).into_response());
    }
    let mut w = csv::Writer::from_writer("\u{feff}".as_bytes().to_vec());
    let _ = w.write_record(["phone", "campaign", "reason", "added_by", "created_at"]);
    for r in &rows {
        let text = |k: &str| r[k].as_str().unwrap_or_default().to_string();
        let at = r["created_at"].as_i64().unwrap_or_default().to_string();
        let _ = w.write_record([
            text("phone"),
            text("campaign"),
            text("reason"),
            text("added_by"),
            at,
        ]);
    }
    let body = w
        .into_inner()
        .map_err(|e| HttpError::new(500, format!("writing CSV: {e}")))?;
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=UTF-8"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"dnc.csv\"",
            ),
        ],
        body,
    )
        .into_response())
}

/// A number to bar.
#[derive(Deserialize, utoipa::ToSchema)]
pub struct DncBody {
    /// The number (national numbers read with the campaign's or `country`'s rules).
    phone: String,
    /// Why.
    #[serde(default)]
    reason: String,
}

/// `POST /api/dnc?campaign=NAME`: bar a number (globally without `campaign`).
#[utoipa::path(post, path = "/api/dnc", tag = "admin", params(DncQuery), request_body = DncBody,
    responses((status = 200, description = "`dnc`: the stored entry", body = Object),
        (status = "4XX", body = crate::error::ErrorBody)))]
pub async fn add(
    State(st): State<AppState>,
    c: Caller,
    q: Result<Query<DncQuery>, QueryRejection>,
    body: Result<Json<DncBody>, JsonRejection>,
) -> Result<Json<Value>, HttpError> {
    c.require_admin()?;
    let q = query(q)?;
    let Json(b) = body.map_err(bad_json)?;
    let cid = campaign_id(&st, &q).await?;
    let row = st
        .storage
        .add_dnc(
            &b.phone,
            cid.as_deref(),
            &b.reason,
            Some(&c.agent.username),
            q.country.as_deref(),
        )
        .await?;
    let entry = dnc_entries(std::slice::from_ref(&row)).remove(0);
    let _ = st.engine.send(EngineRequest::AddDnc(entry)).await;
    Ok(Json(json!({ "dnc": row })))
}

/// `DELETE /api/dnc/{phone}?campaign=NAME`: lift a bar (the number as listed).
#[utoipa::path(delete, path = "/api/dnc/{phone}", tag = "admin",
    params(("phone" = String, Path, description = "The number as listed, e.g. +34600123456"), DncQuery),
    responses((status = 200, description = "`ok`", body = Object),
        (status = "4XX", body = crate::error::ErrorBody)))]
pub async fn remove(
    State(st): State<AppState>,
    c: Caller,
    Path(phone): Path<String>,
    q: Result<Query<DncQuery>, QueryRejection>,
) -> Result<Json<Value>, HttpError> {
    c.require_admin()?;
    let q = query(q)?;
    let cid = campaign_id(&st, &q).await?;
    st.storage.remove_dnc(&phone, cid.as_deref()).await?;
    let entry = DncEntry {
        phone,
        campaign_id: cid,
        reason: String::new(),
    };
    let _ = st.engine.send(EngineRequest::RemoveDnc(entry)).await;
    Ok(Json(json!({ "ok": true })))
}

/// `POST /api/dnc/import?campaign=NAME` with a CSV file (a phone column,
/// optional `reason`): all or nothing, like contact imports.
#[utoipa::path(post, path = "/api/dnc/import", tag = "admin", params(DncQuery),
    request_body(content = String, content_type = "text/csv", description = "Any encoding and delimiter a spreadsheet writes"),
    responses((status = 200, description = "`report`: added, already, encoding", body = Object),
        (status = 422, description = "Nothing added: `report.errors` lists every bad line", body = Object),
        (status = "4XX", body = crate::error::ErrorBody)))]
pub async fn import(
    State(st): State<AppState>,
    c: Caller,
    q: Result<Query<DncQuery>, QueryRejection>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<Value>, HttpError> {
    c.require_admin()?;
    let q = query(q)?;
    let body = body.map_err(|e| HttpError::new(e.status().as_u16(), e.body_text()))?;
    let cid = campaign_id(&st, &q).await?;
    let opts = ImportOptions {
        encoding: q.encoding,
        country: q.country,
        phone_column: q.phone_column,
        ..Default::default()
    };
    let report = st
        .storage
        .import_dnc(&body, cid.as_deref(), &opts, Some(&c.agent.username))
        .await?;
    if !report.errors.is_empty() {
        let n = report.errors.len();
        return Err(HttpError {
            status: 422,
            message: format!(
                "nothing added: {n} bad line{}",
                if n == 1 { "" } else { "s" }
            ),
            details: Some(json!({ "report": report })),
        });
    }
    let all = st.storage.list_dnc().await?;
    let _ = st
        .engine
        .send(EngineRequest::SetDnc(dnc_entries(&all)))
        .await;
    Ok(Json(json!({ "report": report })))
}

#[cfg(test)]
mod tests;
