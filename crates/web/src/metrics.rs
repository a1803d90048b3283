//! Supervisor metrics: live figures from the engine (calls, agents by
//! status, queues) and today's totals from the call records, as JSON
//! (`/api/metrics`) and in the Prometheus text format (`/metrics`).

use std::collections::BTreeMap;
use std::fmt::Write as _;

use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};
use switchboard_center::EngineRequest;
use switchboard_storage::{CallDirection, CallQuery};

use crate::{AppState, Caller, HttpError};

async fn collect(st: &AppState) -> Result<Value, HttpError> {
    let snap = st.ask(EngineRequest::Snapshot).await?;
    let mut by_status: BTreeMap<String, i64> = BTreeMap::new();
    let name = |v: Value| v.as_str().unwrap_or("unknown").to_string();
    let (agents, calls) = (snap.agents, snap.calls);
    for a in &agents {
        *by_status.entry(name(json!(a.status))).or_default() += 1;
    }
    let registered = agents.iter().filter(|a| a.registered).count();
    let mut by_state: BTreeMap<String, i64> = BTreeMap::new();
    for c in &calls {
        *by_state.entry(name(json!(c.state))).or_default() += 1;
    }
    let today = chrono::Utc::now()
        .date_naive()
        .and_hms_opt(0, 0, 0)
        .map(|d| d.and_utc().timestamp_millis());
    let rows = st
        .storage
        .list_calls(&CallQuery {
            from: today,
            limit: Some(10_000),
            ..Default::default()
        })
        .await?;
    let answered: Vec<_> = rows.iter().filter(|r| r.answered_at.is_some()).collect();
    let ended_answered: Vec<i64> = answered
        .iter()
        .filter_map(|r| Some(r.ended_at? - r.answered_at?))
        .collect();
    let waits: Vec<i64> = answered
        .iter()
        .filter_map(|r| Some(r.answered_at? - r.started_at))
        .collect();
    let avg = |v: &[i64]| {
        if v.is_empty() {
            0
        } else {
            v.iter().sum::<i64>() / v.len() as i64
        }
    };
    let count = |d: CallDirection| rows.iter().filter(|r| r.direction == d).count();
    Ok(json!({
        "live": {
            "calls": calls.len(),
            "calls_by_state": by_state,
            "agents": agents.len(),
            "agents_registered": registered,
            "agents_by_status": by_status,
            "queues": snap.queues,
        },
        "today": {
            "calls": rows.len(),
            "answered": answered.len(),
            "unanswered": rows.iter().filter(|r| r.answered_at.is_none() && r.ended_at.is_some()).count(),
            "inbound": count(CallDirection::Inbound),
            "outbound": count(CallDirection::Outbound),
            "internal": count(CallDirection::Internal),
            "avg_talk_ms": avg(&ended_answered),
            "avg_answer_ms": avg(&waits),
            "longest_talk_ms": ended_answered.iter().max().copied().unwrap_or(0),
        },
    }))
}

/// `GET /api/metrics` (supervisors).
#[utoipa::path(get, path = "/api/metrics", tag = "reports", responses((status = 200, description = "`live` figures and `today` totals (supervisors)", body = Object), (status = "4XX", body = crate::error::ErrorBody)))]
pub async fn json(State(st): State<AppState>, c: Caller) -> Result<Json<Value>, HttpError> {
    c.require_supervisor()?;
    Ok(Json(collect(&st).await?))
}

/// `GET /metrics`: the same figures for Prometheus (supervisor token as bearer).
#[utoipa::path(get, path = "/metrics", tag = "reports", responses((status = 200, description = "Prometheus text format (supervisor token as bearer)", content_type = "text/plain"), (status = "4XX", body = crate::error::ErrorBody)))]
pub async fn prometheus(State(st): State<AppState>, c: Caller) -> Result<Response, HttpError> {
    c.require_supervisor()?;
    let m = collect(&st).await?;
    let mut out = String::new();
    let mut gauge = |name: &str, help: &str, samples: Vec<(String, i64)>| {
        let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} gauge");
        for (labels, v) in samples {
            let _ = writeln!(out, "{name}{labels} {v}");
        }
    };
    let n = |v: &Value| v.as_i64().unwrap_or(0);
    gauge(
        "switchboard_calls_active",
        "Live calls by state.",
        labelled(&m["live"]["calls_by_state"], "state"),
    );
    gauge(
        "switchboard_agents",
        "Agents by status.",
        labelled(&m["live"]["agents_by_status"], "status"),
    );
    gauge(
        "switchboard_agents_registered",
        "Agents whose phone is registered.",
        vec![(String::new(), n(&m["live"]["agents_registered"]))],
    );
    let queues = m["live"]["queues"].as_array().cloned().unwrap_or_default();
    gauge(
        "switchboard_queue_waiting",
        "Callers waiting per inbound campaign.",
        queues
            .iter()
            .map(|q| {
                (
                    format!(
                        "{{campaign=\"{}\"}}",
                        esc(q["campaign"].as_str().unwrap_or(""))
                    ),
                    n(&q["waiting"]),
                )
            })
            .collect(),
    );
    gauge(
        "switchboard_queue_longest_wait_ms",
        "Longest current wait per inbound campaign.",
        queues
            .iter()
            .map(|q| {
                (
                    format!(
                        "{{campaign=\"{}\"}}",
                        esc(q["campaign"].as_str().unwrap_or(""))
                    ),
                    n(&q["longest_wait_ms"]),
                )
            })
            .collect(),
    );
    for key in [
        "calls",
        "answered",
        "unanswered",
        "avg_talk_ms",
        "avg_answer_ms",
    ] {
        gauge(
            &format!("switchboard_today_{key}"),
            "Today's calls (UTC day).",
            vec![(String::new(), n(&m["today"][key]))],
        );
    }
    Ok(([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], out).into_response())
}

fn labelled(v: &Value, label: &str) -> Vec<(String, i64)> {
    v.as_object()
        .map(|o| {
            o.iter()
                .map(|(k, v)| {
                    (
                        format!("{{{label}=\"{}\"}}", esc(k)),
                        v.as_i64().unwrap_or(0),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

fn esc(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}
