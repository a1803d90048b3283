//! Administration: agents, campaigns (with members and disposition sets),
//! pause reasons, contacts (search, history; the import is in [`crate::import`]), music classes.
//! Changes that affect live routing are pushed to the engine.

use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, Query, State};
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};
use switchboard_center::{AgentInfo, CampaignInfo, EngineRequest};
use switchboard_storage::{
    AgentAudio, AgentRole, AgentRow, AgentUpdate, CampaignInput, CampaignRow, ContactQuery,
    NewAgent, SipHa1, Storage, StorageError,
};

use crate::error::bad_json;
use crate::{AppState, Caller, HttpError};

/// Engine view of a stored agent.
pub fn agent_info(a: &AgentRow) -> AgentInfo {
    AgentInfo {
        id: a.id.clone(),
        username: a.username.clone(),
        name: a.display_name.clone(),
        sip_ha1: switchboard_center::SipHa1 {
            realm: a.sip_ha1.realm.clone(),
            md5: a.sip_ha1.md5.clone(),
            sha256: a.sip_ha1.sha256.clone(),
        },
        role: a.role.as_str().to_string(),
        audio: match a.audio {
            AgentAudio::Either => switchboard_center::AgentAudio::Either,
            AgentAudio::Browser => switchboard_center::AgentAudio::Browser,
            AgentAudio::Phone => switchboard_center::AgentAudio::Phone,
        },
    }
}

/// What storage keeps of a SIP password: its digest HA1s in `realm`.
pub fn sip_ha1(username: &str, realm: &str, password: &str) -> SipHa1 {
    use switchboard_sip::digest::{ha1, Algorithm};
    SipHa1 {
        realm: realm.to_string(),
        md5: ha1(Algorithm::Md5, username, realm, password),
        sha256: ha1(Algorithm::Sha256, username, realm, password),
    }
}

/// Engine view of a stored campaign (with member usernames).
pub async fn campaign_info(
    storage: &Storage,
    c: &CampaignRow,
) -> Result<CampaignInfo, StorageError> {
    let agents = storage
        .list_campaign_agents(&c.id)
        .await?
        .into_iter()
        .filter(|a| a.enabled)
        .map(|a| a.username)
        .collect();
    Ok(CampaignInfo {
        id: c.id.clone(),
        name: c.name.clone(),
        kind: c.kind.as_str().to_string(),
        did: c.did.clone(),
        auto_recording: c.auto_recording,
        music_class: c.music_class.clone(),
        strategy: c.strategy.as_str().to_string(),
        queue_timeout_secs: c.queue_timeout_secs.max(1) as u64,
        overflow_target: c.overflow_target.clone(),
        acw_secs: c.acw_secs.max(0) as u64,
        agents,
        dtmf_clear: storage.campaign_dtmf_clear(&c.id).await?,
        calling_hours: c
            .calling_hours
            .clone()
            .and_then(|v| serde_json::from_value(v).ok()),
        supervision: crate::campaign_supervision::load(storage, &c.id).await?,
        outbound: crate::campaign_outbound::load(storage, &c.id).await?,
    })
}

/// `GET /api/admin/agents`.
#[utoipa::path(get, path = "/api/admin/agents", tag = "admin", responses((status = 200, description = "`agents`: accounts (admins)", body = Object), (status = "4XX", body = crate::error::ErrorBody)))]
pub async fn list_agents(State(st): State<AppState>, c: Caller) -> Result<Json<Value>, HttpError> {
    c.require_supervisor()?;
    Ok(Json(json!({"agents": st.storage.list_agents().await?})))
}

/// New agent body.
#[derive(Deserialize, utoipa::ToSchema)]
pub struct AgentBody {
    /// Login and extension (required to create).
    username: Option<String>,
    /// Display name.
    #[serde(default)]
    name: Option<String>,
    /// Console password.
    #[serde(default)]
    password: Option<String>,
    /// SIP digest password of the phone (stored as digest HA1s, never returned).
    #[serde(default)]
    sip_password: Option<String>,
    /// agent | supervisor | admin.
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    role: Option<AgentRole>,
    /// Account enabled.
    #[serde(default)]
    enabled: Option<bool>,
    /// Groups.
    #[serde(default)]
    groups: Option<Vec<String>>,
    /// Where the agent's audio may come from: `either` (default: chosen at
    /// each login), `browser` (console audio only) or `phone` (SIP phone only).
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    audio: Option<AgentAudio>,
}

fn valid_username(u: &str) -> bool {
    !u.is_empty()
        && u.len() <= 32
        && u.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '_' || c == '-')
}

/// `POST /api/admin/agents`.
#[utoipa::path(post, path = "/api/admin/agents", tag = "admin", request_body = AgentBody, responses((status = 200, description = "`agent`: the new account", body = Object), (status = "4XX", body = crate::error::ErrorBody)))]
pub async fn create_agent(
    State(st): State<AppState>,
    c: Caller,
    body: Result<Json<AgentBody>, JsonRejection>,
) -> Result<Json<Value>, HttpError> {
    c.require_admin()?;
    let Json(b) = body.map_err(bad_json)?;
    let username = b.username.unwrap_or_default();
    if !valid_username(&username) {
        return Err(HttpError::new(
            400,
            "username must be 1-32 letters, digits, '.', '_' or '-' (it is also the SIP extension)",
        ));
    }
    let password = b
        .password
        .filter(|p| p.len() >= 4)
        .ok_or_else(|| HttpError::new(400, "password of at least 4 characters required"))?;
    let sip_password = b
        .sip_password
        .filter(|p| p.len() >= 4)
        .ok_or_else(|| HttpError::new(400, "sip_password of at least 4 characters required"))?;
    let row = st
        .storage
        .create_agent(&NewAgent {
            username: username.clone(),
            display_name: b.name.unwrap_or_else(|| username.clone()),
            password_hash: switchboard_center::password::hash(&password),
            sip_ha1: sip_ha1(&username, &st.sip_realm, &sip_password),
            role: b.role.unwrap_or(AgentRole::Agent),
            groups: b.groups.unwrap_or_default(),
            audio: b.audio.unwrap_or_default(),
        })
        .await?;
    let _ = st
        .engine
        .send(EngineRequest::UpsertAgent(agent_info(&row)))
        .await;
    Ok(Json(json!({"agent": row})))
}

/// `PUT /api/admin/agents/{id}`.
#[utoipa::path(put, path = "/api/admin/agents/{id}", tag = "admin", params(("id" = String, Path, description = "Id")), request_body = AgentBody, responses((status = 200, description = "`agent`: the account", body = Object), (status = "4XX", body = crate::error::ErrorBody)))]
pub async fn update_agent(
    State(st): State<AppState>,
    c: Caller,
    Path(id): Path<String>,
    body: Result<Json<AgentBody>, JsonRejection>,
) -> Result<Json<Value>, HttpError> {
    c.require_admin()?;
    let Json(b) = body.map_err(bad_json)?;
    let sip_ha1 = match b.sip_password {
        Some(pw) if pw.len() < 4 => {
            return Err(HttpError::new(
                400,
                "sip_password of at least 4 characters required",
            ))
        }
        Some(pw) => {
            let agent = st
                .storage
                .get_agent(&id)
                .await?
                .ok_or_else(|| HttpError::new(404, format!("no agent {id}")))?;
            Some(sip_ha1(&agent.username, &st.sip_realm, &pw))
        }
        None => None,
    };
    let row = st
        .storage
        .update_agent(
            &id,
            &AgentUpdate {
                display_name: b.name,
                password_hash: b.password.map(|p| switchboard_center::password::hash(&p)),
                sip_ha1,
                role: b.role,
                enabled: b.enabled,
                groups: b.groups,
                audio: b.audio,
            },
        )
        .await?;
    let req = if row.enabled {
        EngineRequest::UpsertAgent(agent_info(&row))
    } else {
        EngineRequest::RemoveAgent(row.username.clone())
    };
    let _ = st.engine.send(req).await;
    Ok(Json(json!({"agent": row})))
}

/// `DELETE /api/admin/agents/{id}` (disables the account).
#[utoipa::path(delete, path = "/api/admin/agents/{id}", tag = "admin", params(("id" = String, Path, description = "Id")), responses((status = 200, description = "`agent`: the disabled account", body = Object), (status = "4XX", body = crate::error::ErrorBody)))]
pub async fn delete_agent(
    State(st): State<AppState>,
    c: Caller,
    Path(id): Path<String>,
) -> Result<Json<Value>, HttpError> {
    c.require_admin()?;
    let row = st
        .storage
        .get_agent(&id)
        .await?
        .ok_or_else(|| HttpError::new(404, format!("no agent {id}")))?;
    st.storage.delete_agent(&id).await?;
    let _ = st
        .engine
        .send(EngineRequest::RemoveAgent(row.username))
        .await;
    Ok(Json(json!({"ok": true})))
}

/// `GET /api/campaigns`.
#[utoipa::path(get, path = "/api/campaigns", tag = "admin", responses((status = 200, description = "`campaigns` with members, dispositions, `supervision` and `outbound` (CampaignOutbound)", body = Object), (status = "4XX", body = crate::error::ErrorBody)))]
pub async fn campaigns(State(st): State<AppState>, _c: Caller) -> Result<Json<Value>, HttpError> {
    let mut out = Vec::new();
    for c in st.storage.list_campaigns().await? {
        let members: Vec<String> = st
            .storage
            .list_campaign_agents(&c.id)
            .await?
            .into_iter()
            .map(|a| a.username)
            .collect();
        let mut v = serde_json::to_value(&c).unwrap_or_default();
        v["agents"] = json!(members);
        v["dtmf_clear"] = json!(st.storage.campaign_dtmf_clear(&c.id).await?);
        v["supervision"] = json!(crate::campaign_supervision::load(&st.storage, &c.id).await?);
        v["outbound"] = json!(crate::campaign_outbound::load(&st.storage, &c.id).await?);
        out.push(v);
    }
    Ok(Json(json!({"campaigns": out})))
}

/// Campaign body: the stored fields plus members.
#[derive(Deserialize)]
pub struct CampaignBody {
    #[serde(flatten)]
    input: CampaignInput,
    #[serde(default)]
    agents: Option<Vec<String>>,
    /// Show the digits customers key to consoles and logs (default: masked).
    #[serde(default)]
    dtmf_clear: Option<bool>,
    /// Supervision notice, service level threshold and alert thresholds
    /// (replaced as a whole when given; missing fields take their defaults).
    #[serde(default)]
    supervision: Option<switchboard_center::SupervisionSettings>,
    /// Trunks (in order) and caller ID of its calls to numbers (replaced as a whole when given).
    #[serde(default)]
    outbound: Option<switchboard_center::CampaignOutbound>,
}

/// A campaign as answered by the API: the stored row plus `dtmf_clear`.
async fn campaign_json(st: &AppState, row: &CampaignRow) -> Result<Value, HttpError> {
    let mut v = serde_json::to_value(row).unwrap_or_default();
    v["dtmf_clear"] = json!(st.storage.campaign_dtmf_clear(&row.id).await?);
    v["supervision"] = json!(crate::campaign_supervision::load(&st.storage, &row.id).await?);
    v["outbound"] = json!(crate::campaign_outbound::load(&st.storage, &row.id).await?);
    Ok(v)
}

async fn save_members(
    st: &AppState,
    campaign: &CampaignRow,
    members: Option<Vec<String>>,
) -> Result<(), HttpError> {
    let Some(members) = members else {
        return Ok(());
    };
    let mut ids = Vec::new();
    for u in &members {
        let a = st
            .storage
            .get_agent_by_username(u)
            .await?
            .ok_or_else(|| HttpError::new(400, format!("unknown agent {u}")))?;
        ids.push(a.id);
    }
    for a in st.storage.list_campaign_agents(&campaign.id).await? {
        if !ids.contains(&a.id) {
            st.storage
                .remove_campaign_agent(&campaign.id, &a.id)
                .await?;
        }
    }
    for id in ids {
        st.storage.add_campaign_agent(&campaign.id, &id).await?;
    }
    Ok(())
}

/// `POST /api/campaigns`.
#[utoipa::path(post, path = "/api/campaigns", tag = "admin", request_body(content = Object, description = "Campaign fields, `agents` (member usernames), `supervision` (SupervisionSettings) and `outbound` (CampaignOutbound: trunks in order and caller ID; an unknown trunk or a caller ID unfit for SIP is a 400)"), responses((status = 200, description = "`campaign` with `outbound` (CampaignOutbound)", body = Object), (status = "4XX", body = crate::error::ErrorBody)))]
pub async fn create_campaign(
    State(st): State<AppState>,
    c: Caller,
    body: Result<Json<CampaignBody>, JsonRejection>,
) -> Result<Json<Value>, HttpError> {
    c.require_admin()?;
    let Json(b) = body.map_err(bad_json)?;
    if b.input.name.trim().is_empty() {
        return Err(HttpError::new(400, "a campaign needs a name"));
    }
    check_overflow(&b.input)?;
    check_hours(&b.input)?;
    if let Some(s) = &b.supervision {
        s.validate().map_err(|m| HttpError::new(400, m))?;
    }
    let outbound = match &b.outbound {
        Some(o) => Some(crate::campaign_outbound::check(&st, o).await?),
        None => None,
    };
    let row = st.storage.create_campaign(&b.input).await?;
    save_members(&st, &row, b.agents).await?;
    if let Some(clear) = b.dtmf_clear {
        st.storage.set_campaign_dtmf_clear(&row.id, clear).await?;
    }
    if let Some(s) = &b.supervision {
        crate::campaign_supervision::save(&st.storage, &row.id, s).await?;
    }
    if let Some(o) = &outbound {
        crate::campaign_outbound::save(&st.storage, &row.id, o).await?;
    }
    let row = st.storage.get_campaign(&row.id).await?.unwrap_or(row);
    let _ = st
        .engine
        .send(EngineRequest::UpsertCampaign(Box::new(
            campaign_info(&st.storage, &row).await?,
        )))
        .await;
    Ok(Json(json!({"campaign": campaign_json(&st, &row).await?})))
}

/// `PUT /api/campaigns/{id}`.
#[utoipa::path(put, path = "/api/campaigns/{id}", tag = "admin", params(("id" = String, Path, description = "Id")), request_body(content = Object, description = "Campaign fields, `agents` (member usernames), `supervision` (SupervisionSettings) and `outbound` (CampaignOutbound: trunks in order and caller ID; an unknown trunk or a caller ID unfit for SIP is a 400)"), responses((status = 200, description = "`campaign` with `outbound` (CampaignOutbound)", body = Object), (status = "4XX", body = crate::error::ErrorBody)))]
pub async fn update_campaign(
    State(st): State<AppState>,
    c: Caller,
    Path(id): Path<String>,
    body: Result<Json<CampaignBody>, JsonRejection>,
) -> Result<Json<Value>, HttpError> {
    c.require_admin()?;
    let Json(b) = body.map_err(bad_json)?;
    check_overflow(&b.input)?;
    check_hours(&b.input)?;
    if let Some(s) = &b.supervision {
        s.validate().map_err(|m| HttpError::new(400, m))?;
    }
    let outbound = match &b.outbound {
        Some(o) => Some(crate::campaign_outbound::check(&st, o).await?),
        None => None,
    };
    let row = st.storage.update_campaign(&id, &b.input).await?;
    save_members(&st, &row, b.agents).await?;
    if let Some(clear) = b.dtmf_clear {
        st.storage.set_campaign_dtmf_clear(&row.id, clear).await?;
    }
    if let Some(s) = &b.supervision {
        crate::campaign_supervision::save(&st.storage, &row.id, s).await?;
    }
    if let Some(o) = &outbound {
        crate::campaign_outbound::save(&st.storage, &row.id, o).await?;
    }
    let _ = st
        .engine
        .send(EngineRequest::UpsertCampaign(Box::new(
            campaign_info(&st.storage, &row).await?,
        )))
        .await;
    Ok(Json(json!({"campaign": campaign_json(&st, &row).await?})))
}

/// Calling hours must read as [`switchboard_center::CallingHours`].
fn check_hours(input: &CampaignInput) -> Result<(), HttpError> {
    let Some(v) = input.calling_hours.as_ref().filter(|v| !v.is_null()) else {
        return Ok(());
    };
    serde_json::from_value::<switchboard_center::CallingHours>(v.clone())
        .map_err(|e| e.to_string())
        .and_then(|h| h.validate())
        .map_err(|m| HttpError::new(400, format!("calling_hours: {m}")))
}

fn check_overflow(input: &CampaignInput) -> Result<(), HttpError> {
    match input
        .overflow_target
        .as_deref()
        .filter(|s| !s.trim().is_empty())
    {
        Some(t) if switchboard_center::parse_overflow(t).is_none() => Err(HttpError::new(
            400,
            format!("overflow_target {t:?} must be agent:NAME, number:N or campaign:NAME"),
        )),
        _ => Ok(()),
    }
}

/// `GET /api/pause-reasons`.
#[utoipa::path(get, path = "/api/pause-reasons", tag = "admin", responses((status = 200, description = "`pause_reasons`", body = Object), (status = "4XX", body = crate::error::ErrorBody)))]
pub async fn pause_reasons(
    State(st): State<AppState>,
    _c: Caller,
) -> Result<Json<Value>, HttpError> {
    Ok(Json(
        json!({"pause_reasons": st.storage.list_pause_reasons().await?}),
    ))
}

/// Name body.
#[derive(Deserialize, utoipa::ToSchema)]
pub struct NameBody {
    name: String,
}

/// `POST /api/pause-reasons`.
#[utoipa::path(post, path = "/api/pause-reasons", tag = "admin", request_body = NameBody, responses((status = 200, description = "`pause_reason`", body = Object), (status = "4XX", body = crate::error::ErrorBody)))]
pub async fn create_pause_reason(
    State(st): State<AppState>,
    c: Caller,
    body: Result<Json<NameBody>, JsonRejection>,
) -> Result<Json<Value>, HttpError> {
    c.require_admin()?;
    let Json(b) = body.map_err(bad_json)?;
    if b.name.trim().is_empty() {
        return Err(HttpError::new(400, "a pause reason needs a name"));
    }
    Ok(Json(
        json!({"pause_reason": st.storage.create_pause_reason(b.name.trim()).await?}),
    ))
}

/// Contact search.
#[derive(Deserialize, utoipa::IntoParams)]
pub struct ContactSearch {
    q: Option<String>,
    campaign: Option<String>,
    limit: Option<i64>,
}

/// `GET /api/contacts`.
#[utoipa::path(get, path = "/api/contacts", tag = "admin", params(ContactSearch), responses((status = 200, description = "`contacts`", body = Object), (status = "4XX", body = crate::error::ErrorBody)))]
pub async fn contacts(
    State(st): State<AppState>,
    _c: Caller,
    Query(q): Query<ContactSearch>,
) -> Result<Json<Value>, HttpError> {
    let campaign_id = match q.campaign {
        Some(n) => Some(st.campaign_named(&n).await?.id),
        None => None,
    };
    let rows = st
        .storage
        .search_contacts(&ContactQuery {
            text: q.q,
            campaign_id,
            limit: q.limit.or(Some(100)),
            ..Default::default()
        })
        .await?;
    Ok(Json(json!({"contacts": rows})))
}

/// `GET /api/contacts/{id}`: contact with its history of calls and dispositions.
#[utoipa::path(get, path = "/api/contacts/{id}", tag = "admin", params(("id" = String, Path, description = "Id")), responses((status = 200, description = "`contact` with `history` of calls and dispositions", body = Object), (status = "4XX", body = crate::error::ErrorBody)))]
pub async fn contact(
    State(st): State<AppState>,
    _c: Caller,
    Path(id): Path<String>,
) -> Result<Json<Value>, HttpError> {
    st.storage
        .get_contact(&id)
        .await?
        .ok_or_else(|| HttpError::new(404, format!("no contact {id}")))?;
    Ok(Json(
        json!({"history": st.storage.contact_history(&id).await?}),
    ))
}

/// `GET /api/music-classes`.
#[utoipa::path(get, path = "/api/music-classes", tag = "admin", responses((status = 200, description = "`music_classes`: names", body = Object), (status = "4XX", body = crate::error::ErrorBody)))]
pub async fn music_classes(
    State(st): State<AppState>,
    _c: Caller,
) -> Result<Json<Value>, HttpError> {
    let snap = st.ask(EngineRequest::Snapshot).await?;
    Ok(Json(json!({"music_classes": snap.music_classes})))
}

/// `POST /api/campaigns/{name}/next-contact`: preview dialling — reserve the
/// next contact of a preview or manual campaign for the calling agent
/// (it becomes `dialing`; the agent then calls it with `POST /api/calls
/// {"contact_id": ..., "campaign": ...}`). 404 when the list is exhausted.
#[utoipa::path(post, path = "/api/campaigns/{id}/next-contact", tag = "admin", params(("id" = String, Path, description = "Campaign name")), responses((status = 200, description = "`contact` reserved for the caller", body = Object), (status = "4XX", body = crate::error::ErrorBody)))]
pub async fn next_contact(
    State(st): State<AppState>,
    c: Caller,
    Path(name): Path<String>,
) -> Result<Json<Value>, HttpError> {
    let camp = st
        .storage
        .get_campaign_by_name(&name)
        .await?
        .ok_or_else(|| HttpError::new(404, format!("unknown campaign {name}")))?;
    if !matches!(
        camp.kind,
        switchboard_storage::CampaignKind::Preview | switchboard_storage::CampaignKind::Manual
    ) {
        return Err(HttpError::new(
            409,
            format!(
                "campaign {name} is {}: contacts are offered only in preview and manual campaigns",
                camp.kind
            ),
        ));
    }
    let members = st.storage.list_campaign_agents(&camp.id).await?;
    if !c.is_supervisor() && !members.iter().any(|a| a.id == c.agent.id) {
        return Err(HttpError::new(
            403,
            format!("you are not a member of campaign {name}"),
        ));
    }
    let mut claimed = st
        .storage
        .claim_contacts_for_dialing(&camp.id, switchboard_storage::now_ms(), 1)
        .await?;
    let contact = claimed.pop().ok_or_else(|| {
        HttpError::new(404, format!("no contact left to call in campaign {name}"))
    })?;
    let history = st.storage.contact_history(&contact.id).await?;
    Ok(Json(
        json!({"campaign": name, "contact": contact, "history": history}),
    ))
}
