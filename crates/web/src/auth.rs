//! Sessions: password login (Argon2-hashed), bearer tokens (header, cookie
//! `sb_token` or `?token=` for media links and WebSockets), and roles.

use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequestParts, State};
use axum::http::header;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::json;
use switchboard_center::Actor;
use switchboard_storage::{AgentRole, AgentRow};

use crate::error::bad_json;
use crate::{AppState, HttpError};

/// Failed logins allowed per username per minute before refusing with 429.
const MAX_LOGIN_FAILURES: u32 = 10;

/// Session lifetime.
const SESSION_TTL_MS: i64 = 12 * 3600 * 1000;

/// The authenticated caller of a request.
#[derive(Debug, Clone)]
pub struct Caller {
    /// The agent row.
    pub agent: AgentRow,
    /// The session token.
    pub token: String,
    /// The campaigns a supervisor is limited to (assigned by an admin); None:
    /// every campaign (admins, supervisors with no assignment, agents).
    pub campaigns: Option<Vec<String>>,
}

impl Caller {
    /// Supervisors and admins see and act on everything.
    pub fn is_supervisor(&self) -> bool {
        matches!(self.agent.role, AgentRole::Supervisor | AgentRole::Admin)
    }
    /// Admins manage configuration.
    pub fn is_admin(&self) -> bool {
        matches!(self.agent.role, AgentRole::Admin)
    }
    /// Refuse unless supervisor.
    pub fn require_supervisor(&self) -> Result<(), HttpError> {
        if self.is_supervisor() {
            Ok(())
        } else {
            Err(HttpError::new(403, "supervisors only"))
        }
    }
    /// Refuse unless admin.
    pub fn require_admin(&self) -> Result<(), HttpError> {
        if self.is_admin() {
            Ok(())
        } else {
            Err(HttpError::new(403, "admins only"))
        }
    }
    /// Whether the caller may see and supervise calls and queues of
    /// `campaign` (a supervisor limited to campaigns sees only theirs).
    pub fn sees_campaign(&self, campaign: Option<&str>) -> bool {
        switchboard_center::in_scope(self.campaigns.as_deref(), campaign)
    }
    /// Whether the caller may see a live call: agents their own, supervisors
    /// those of their campaigns (every call when not limited).
    pub fn sees_call(&self, call: &switchboard_center::CallView) -> bool {
        if self.is_supervisor() {
            self.sees_campaign(call.campaign.as_deref())
        } else {
            call.involves(&self.agent.username)
        }
    }
    /// A call as the caller may see it: agents do not see the supervisors on
    /// it (the campaign's `supervision` notice tells them when it applies).
    pub fn view_of(&self, mut call: switchboard_center::CallView) -> switchboard_center::CallView {
        if !self.is_supervisor() {
            call.supervisions.clear();
        }
        call
    }
    /// As an engine actor.
    pub fn actor(&self) -> Actor {
        Actor {
            username: self.agent.username.clone(),
            supervisor: self.is_supervisor(),
            campaigns: self.campaigns.clone(),
        }
    }
}

fn token_of(parts: &Parts) -> Option<String> {
    if let Some(v) = parts
        .headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
    {
        if let Some(t) = v.strip_prefix("Bearer ") {
            return Some(t.trim().to_string());
        }
    }
    if let Some(c) = parts
        .headers
        .get(header::COOKIE)
        .and_then(|v| v.to_str().ok())
    {
        for kv in c.split(';') {
            if let Some(t) = kv.trim().strip_prefix("sb_token=") {
                return Some(t.to_string());
            }
        }
    }
    parts.uri.query().and_then(|q| {
        q.split('&')
            .find_map(|kv| kv.strip_prefix("token=").map(str::to_string))
    })
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = HttpError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Caller, HttpError> {
        let token = token_of(parts)
            .ok_or_else(|| HttpError::new(401, "log in first (no session token)"))?;
        let session = state
            .storage
            .get_session(&token)
            .await?
            .ok_or_else(|| HttpError::new(401, "session expired or unknown: log in again"))?;
        let agent = state
            .storage
            .get_agent(&session.agent_id)
            .await?
            .ok_or_else(|| HttpError::new(401, "account no longer exists"))?;
        if !agent.enabled {
            return Err(HttpError::new(403, "account disabled"));
        }
        // Read-your-writes: call facts queued by the engine before this request are stored.
        (state.flush)().await;
        let campaigns = campaign_scope(&state.storage, &agent).await?;
        Ok(Caller {
            agent,
            token,
            campaigns,
        })
    }
}

/// The campaigns `agent` is limited to: a supervisor's assignment, None for
/// a supervisor with none, admins and agents (see [`Caller::campaigns`]).
pub(crate) async fn campaign_scope(
    storage: &switchboard_storage::Storage,
    agent: &AgentRow,
) -> Result<Option<Vec<String>>, switchboard_storage::StorageError> {
    Ok(match agent.role {
        AgentRole::Supervisor => {
            Some(storage.supervisor_campaigns(&agent.id).await?).filter(|c| !c.is_empty())
        }
        _ => None,
    })
}

/// Login body.
#[derive(Deserialize, utoipa::ToSchema)]
pub struct Login {
    /// Username.
    username: String,
    /// Console password.
    password: String,
}

/// `POST /api/login`.
#[utoipa::path(post, path = "/api/login", tag = "auth", security(()), request_body = Login,
    responses((status = 200, description = "Session token (also set as the `sb_token` cookie) and the agent", body = Object),
        (status = "4XX", body = crate::error::ErrorBody)))]
pub async fn login(
    State(st): State<AppState>,
    headers: axum::http::HeaderMap,
    body: Result<Json<Login>, JsonRejection>,
) -> Result<Response, HttpError> {
    let Json(body) = body.map_err(bad_json)?;
    let minute = switchboard_storage::now_ms() / 60_000;
    let user_key = body.username.trim().to_string();
    {
        let failures = st.login_failures.lock().expect("login failures");
        if failures
            .get(&user_key)
            .is_some_and(|(m, n)| *m == minute && *n >= MAX_LOGIN_FAILURES)
        {
            return Err(HttpError::new(
                429,
                "too many failed logins for this user: wait a minute and try again",
            ));
        }
    }
    let agent = st.storage.get_agent_by_username(&user_key).await?;
    let Some(agent) = agent.filter(|a| {
        a.enabled && switchboard_center::password::verify(&body.password, &a.password_hash)
    }) else {
        let mut failures = st.login_failures.lock().expect("login failures");
        let e = failures.entry(user_key).or_insert((minute, 0));
        if e.0 != minute {
            *e = (minute, 0);
        }
        e.1 += 1;
        return Err(HttpError::new(401, "wrong username or password"));
    };
    // Sessions that ran out are refused anyway; drop their rows now and then.
    st.storage.delete_expired_sessions().await?;
    let s = st.storage.create_session(&agent.id, SESSION_TTL_MS).await?;
    // Behind a TLS-terminating proxy the cookie is for HTTPS only.
    let https = headers
        .get("x-forwarded-proto")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("https"));
    let cookie = format!(
        "sb_token={}; Path=/; HttpOnly; SameSite=Strict; Max-Age={}{}",
        s.token,
        SESSION_TTL_MS / 1000,
        if https { "; Secure" } else { "" }
    );
    let body = Json(json!({"token": s.token, "expires_at": s.expires_at, "agent": agent}));
    Ok(([(header::SET_COOKIE, cookie)], body).into_response())
}

/// `POST /api/logout`.
#[utoipa::path(post, path = "/api/logout", tag = "auth",
    responses((status = 200, description = "`{\"ok\": true}`", body = Object),
        (status = "4XX", body = crate::error::ErrorBody)))]
pub async fn logout(State(st): State<AppState>, caller: Caller) -> Result<Response, HttpError> {
    st.storage.delete_session(&caller.token).await?;
    let cookie = "sb_token=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0";
    Ok(([(header::SET_COOKIE, cookie)], Json(json!({"ok": true}))).into_response())
}

/// `GET /api/me`.
#[utoipa::path(get, path = "/api/me", tag = "auth",
    responses((status = 200, description = "`agent` (the account), `supervisor`, `admin`", body = Object),
        (status = "4XX", body = crate::error::ErrorBody)))]
pub async fn me(caller: Caller) -> Json<serde_json::Value> {
    Json(
        json!({"agent": caller.agent, "supervisor": caller.is_supervisor(), "admin": caller.is_admin()}),
    )
}
