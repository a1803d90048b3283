//! A campaign's `outbound` settings (the trunks its calls to numbers leave
//! through, in order, and the caller ID they present) between the API's
//! typed [`CampaignOutbound`] and storage's [`OutboundRow`]. Trunk names are
//! checked against the trunks the engine runs (the configuration file).

use switchboard_center::{CallerId, CampaignOutbound, EngineRequest};
use switchboard_storage::{OutboundRow, Storage, StorageError};

use crate::{AppState, HttpError};

/// The settings of campaign `id`.
pub async fn load(storage: &Storage, id: &str) -> Result<CampaignOutbound, StorageError> {
    let r = storage.campaign_outbound(id).await?;
    Ok(CampaignOutbound {
        trunks: r.trunks,
        caller_id: r.caller_id_number.map(|number| CallerId {
            number,
            name: r.caller_id_name,
            privacy: r.caller_id_privacy,
        }),
    })
}

/// The settings normalized, or a 400 naming what is wrong (an unknown
/// trunk lists the configured ones; a caller ID that cannot go in a SIP
/// header says what it may hold).
pub async fn check(st: &AppState, o: &CampaignOutbound) -> Result<CampaignOutbound, HttpError> {
    let o = o.clone().normalized();
    let known: Vec<String> = if o.trunks.is_empty() {
        Vec::new()
    } else {
        let snap = st.ask(EngineRequest::Snapshot).await?;
        snap.trunks.into_iter().map(|t| t.name).collect()
    };
    o.validate(&known)
        .map_err(|e| HttpError::new(400, e.to_string()))?;
    Ok(o)
}

/// What storage keeps of (checked) settings.
pub fn outbound_row(o: &CampaignOutbound) -> OutboundRow {
    let c = o.caller_id.as_ref();
    OutboundRow {
        trunks: o.trunks.clone(),
        caller_id_number: c.map(|c| c.number.clone()),
        caller_id_name: c.and_then(|c| c.name.clone()),
        caller_id_privacy: c.is_some_and(|c| c.privacy),
    }
}

/// Store checked settings of campaign `id`.
pub async fn save(storage: &Storage, id: &str, o: &CampaignOutbound) -> Result<(), HttpError> {
    storage.set_campaign_outbound(id, &outbound_row(o)).await?;
    Ok(())
}
