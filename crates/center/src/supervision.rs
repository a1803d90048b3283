//! Supervision settings of a campaign and the rules that use them: whether
//! an agent is shown that a supervisor is on their call
//! ([`SupervisionNotice`]), the service level threshold and the queue alert
//! thresholds ([`SupervisionSettings`]), and which calls a supervisor limited
//! to some campaigns may see and join ([`in_scope`]).

use serde::{Deserialize, Serialize};
use switchboard_call::SuperviseMode;
use utoipa::ToSchema;

use crate::SERVICE_LEVEL_SECS;

/// Whether the agent's console shows that a supervisor is on the call.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SupervisionNotice {
    /// Never shown.
    Never,
    /// Shown while the supervisor whispers or barges in, not while listening (the default).
    #[default]
    WhisperBarge,
    /// Shown in every mode, listening included.
    Always,
}

impl SupervisionNotice {
    /// Whether the agent is shown a supervisor in `mode`.
    pub fn applies(self, mode: SuperviseMode) -> bool {
        match self {
            SupervisionNotice::Never => false,
            SupervisionNotice::WhisperBarge => mode != SuperviseMode::Listen,
            SupervisionNotice::Always => true,
        }
    }

    /// Lower-case name (storage, logs).
    pub fn name(self) -> &'static str {
        match self {
            SupervisionNotice::Never => "never",
            SupervisionNotice::WhisperBarge => "whisper_barge",
            SupervisionNotice::Always => "always",
        }
    }

    /// From its name; None for anything else.
    pub fn parse(s: &str) -> Option<SupervisionNotice> {
        match s {
            "never" => Some(SupervisionNotice::Never),
            "whisper_barge" => Some(SupervisionNotice::WhisperBarge),
            "always" => Some(SupervisionNotice::Always),
            _ => None,
        }
    }
}

/// Longest service level threshold and wait alert accepted (one hour).
pub const MAX_THRESHOLD_SECS: u64 = 3600;

/// A campaign's supervision settings (`supervision` in the campaign API).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct SupervisionSettings {
    /// When the agent's console shows a supervisor on the call.
    pub notice: SupervisionNotice,
    /// A caller answered within this many seconds counts within the service
    /// level (1 to 3600, default 20).
    pub service_level_secs: u64,
    /// Alert while the queue's service level is below this percent (1 to 100; null: no alert).
    pub alert_service_level_below: Option<u32>,
    /// Alert while a caller has waited longer than this many seconds (1 to 3600; null: no alert).
    pub alert_longest_wait_secs: Option<u64>,
}

impl Default for SupervisionSettings {
    fn default() -> Self {
        SupervisionSettings {
            notice: SupervisionNotice::default(),
            service_level_secs: SERVICE_LEVEL_SECS,
            alert_service_level_below: None,
            alert_longest_wait_secs: None,
        }
    }
}

impl SupervisionSettings {
    /// Check the ranges; the error names the field and the range.
    pub fn validate(&self) -> Result<(), String> {
        if !(1..=MAX_THRESHOLD_SECS).contains(&self.service_level_secs) {
            return Err(format!(
                "supervision.service_level_secs must be 1 to {MAX_THRESHOLD_SECS} (got {})",
                self.service_level_secs
            ));
        }
        if let Some(p) = self.alert_service_level_below {
            if !(1..=100).contains(&p) {
                return Err(format!(
                    "supervision.alert_service_level_below must be 1 to 100 percent (got {p})"
                ));
            }
        }
        if let Some(s) = self.alert_longest_wait_secs {
            if !(1..=MAX_THRESHOLD_SECS).contains(&s) {
                return Err(format!(
                    "supervision.alert_longest_wait_secs must be 1 to {MAX_THRESHOLD_SECS} (got {s})"
                ));
            }
        }
        Ok(())
    }
}

/// Whether a supervisor limited to `scope` (None: not limited) may see and
/// join a call or queue of `campaign` (None: a call out of any campaign,
/// which only unlimited supervisors see).
pub fn in_scope(scope: Option<&[String]>, campaign: Option<&str>) -> bool {
    match scope {
        None => true,
        Some(allowed) => campaign.is_some_and(|c| allowed.iter().any(|a| a == c)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notice_by_setting_and_mode() {
        use SuperviseMode::*;
        let n = SupervisionNotice::default();
        assert_eq!(n, SupervisionNotice::WhisperBarge);
        assert!(!n.applies(Listen) && n.applies(Whisper) && n.applies(Barge));
        assert!([Listen, Whisper, Barge].iter().all(
            |m| SupervisionNotice::Always.applies(*m) && !SupervisionNotice::Never.applies(*m)
        ));
        for n in [
            SupervisionNotice::Never,
            SupervisionNotice::WhisperBarge,
            SupervisionNotice::Always,
        ] {
            assert_eq!(SupervisionNotice::parse(n.name()), Some(n));
        }
        assert_eq!(SupervisionNotice::parse("sometimes"), None);
    }

    #[test]
    fn settings_ranges() {
        let ok = SupervisionSettings::default();
        assert!(ok.validate().is_ok());
        assert_eq!(ok.service_level_secs, 20);
        let bad = |s: SupervisionSettings| s.validate().unwrap_err();
        assert!(bad(SupervisionSettings {
            service_level_secs: 0,
            ..ok
        })
        .contains("service_level_secs"));
        assert!(bad(SupervisionSettings {
            alert_service_level_below: Some(101),
            ..ok
        })
        .contains("1 to 100"));
        assert!(bad(SupervisionSettings {
            alert_longest_wait_secs: Some(0),
            ..ok
        })
        .contains("alert_longest_wait_secs"));
        let json: SupervisionSettings =
            serde_json::from_str(r#"{"notice":"always","alert_service_level_below":80}"#)
                .expect("partial settings read with defaults");
        assert_eq!(json.notice, SupervisionNotice::Always);
        assert_eq!(json.service_level_secs, 20);
        assert!(serde_json::from_str::<SupervisionSettings>(r#"{"notice":"sometimes"}"#).is_err());
    }

    #[test]
    fn scope() {
        let mine = vec!["support".to_string()];
        assert!(in_scope(None, Some("sales")) && in_scope(None, None));
        assert!(in_scope(Some(&mine), Some("support")));
        assert!(!in_scope(Some(&mine), Some("sales")));
        assert!(!in_scope(Some(&mine), None));
    }
}
