//! A campaign's `supervision` settings (notice to the agent, service level
//! threshold, queue alert thresholds) between the API's typed
//! [`SupervisionSettings`] and storage's [`SupervisionRow`].

use switchboard_center::{SupervisionNotice, SupervisionSettings};
use switchboard_storage::{Storage, StorageError, SupervisionRow};

use crate::HttpError;

/// The settings of campaign `id` (defaults where storage holds something unreadable).
pub async fn load(storage: &Storage, id: &str) -> Result<SupervisionSettings, StorageError> {
    let r = storage.campaign_supervision(id).await?;
    let d = SupervisionSettings::default();
    Ok(SupervisionSettings {
        notice: SupervisionNotice::parse(&r.notice).unwrap_or(d.notice),
        service_level_secs: u64::try_from(r.service_level_secs)
            .ok()
            .filter(|s| *s > 0)
            .unwrap_or(d.service_level_secs),
        alert_service_level_below: r
            .alert_service_level_below
            .and_then(|p| u32::try_from(p).ok()),
        alert_longest_wait_secs: r
            .alert_longest_wait_secs
            .and_then(|s| u64::try_from(s).ok()),
    })
}

/// Check (400 naming the field and its range) and store the settings of campaign `id`.
pub async fn save(storage: &Storage, id: &str, s: &SupervisionSettings) -> Result<(), HttpError> {
    s.validate().map_err(|m| HttpError::new(400, m))?;
    let row = SupervisionRow {
        notice: s.notice.name().to_string(),
        service_level_secs: s.service_level_secs as i64,
        alert_service_level_below: s.alert_service_level_below.map(i64::from),
        alert_longest_wait_secs: s.alert_longest_wait_secs.map(|v| v as i64),
    };
    storage.set_campaign_supervision(id, &row).await?;
    Ok(())
}
