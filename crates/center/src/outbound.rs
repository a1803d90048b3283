//! A campaign's outbound settings: the trunks its calls to numbers leave
//! through (in order) and the caller ID they present, overriding the
//! trunks' own (dialer calls, agents' calls in the campaign, its callbacks,
//! and transfers to numbers from its calls).

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Longest caller ID number accepted.
pub const MAX_CALLER_NUMBER: usize = 32;
/// Longest caller ID display name accepted.
pub const MAX_CALLER_NAME: usize = 64;

/// Caller ID presented on a campaign's calls to numbers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CallerId {
    /// The number, as the From user and in P-Asserted-Identity (e.g.
    /// `+34911000000`): 1 to 32 letters, digits, `+`, `-`, `.`, `_` or `*`.
    pub number: String,
    /// Display name in From and P-Asserted-Identity (at most 64 characters, no line breaks).
    #[serde(default)]
    pub name: Option<String>,
    /// Withhold it from the callee: anonymous From and `Privacy: id`
    /// (the provider still gets P-Asserted-Identity, RFC 3325).
    #[serde(default)]
    pub privacy: bool,
}

/// A campaign's outbound routing (`outbound` in the campaign API).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct CampaignOutbound {
    /// Trunk names, tried in this order (trunks known down last); empty:
    /// the trunks' own dialling rules (priority and prefixes).
    pub trunks: Vec<String>,
    /// Caller ID replacing the trunk's (number, name, privacy); null: the trunk's.
    pub caller_id: Option<CallerId>,
}

/// What is wrong with a campaign's outbound settings.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OutboundError {
    /// A trunk name that no configured trunk has.
    #[error("outbound.trunks: unknown trunk {name:?} (configured trunks: {known})")]
    UnknownTrunk {
        /// The name given.
        name: String,
        /// The configured names, comma-separated.
        known: String,
    },
    /// The same trunk twice.
    #[error("outbound.trunks: trunk {0:?} is listed twice")]
    DuplicateTrunk(String),
    /// A caller ID number that cannot be a SIP user part.
    #[error("outbound.caller_id.number {0:?} must be 1 to 32 letters, digits, '+', '-', '.', '_' or '*' (no spaces, quotes, '<', '>' or line breaks), e.g. \"+34911000000\"")]
    BadNumber(String),
    /// A display name with control characters or too long.
    #[error("outbound.caller_id.name {0:?} must be at most 64 characters without line breaks or control characters")]
    BadName(String),
}

/// Whether `c` may appear in a caller ID number.
fn number_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || "+-._*".contains(c)
}

impl CallerId {
    /// Check the number and display name.
    pub fn validate(&self) -> Result<(), OutboundError> {
        let n = &self.number;
        if n.is_empty() || n.len() > MAX_CALLER_NUMBER || !n.chars().all(number_char) {
            return Err(OutboundError::BadNumber(n.clone()));
        }
        if let Some(name) = &self.name {
            if name.chars().count() > MAX_CALLER_NAME || name.chars().any(char::is_control) {
                return Err(OutboundError::BadName(name.clone()));
            }
        }
        Ok(())
    }
}

impl CampaignOutbound {
    /// Check the settings against the configured trunk names.
    pub fn validate(&self, known: &[String]) -> Result<(), OutboundError> {
        for (i, name) in self.trunks.iter().enumerate() {
            if !known.contains(name) {
                return Err(OutboundError::UnknownTrunk {
                    name: name.clone(),
                    known: known.join(", "),
                });
            }
            if self.trunks[..i].contains(name) {
                return Err(OutboundError::DuplicateTrunk(name.clone()));
            }
        }
        match &self.caller_id {
            Some(c) => c.validate(),
            None => Ok(()),
        }
    }

    /// The same settings with blank display names dropped and names trimmed.
    pub fn normalized(mut self) -> CampaignOutbound {
        self.trunks = self.trunks.iter().map(|t| t.trim().to_string()).collect();
        if let Some(c) = &mut self.caller_id {
            c.number = c.number.trim().to_string();
            c.name = c
                .name
                .as_deref()
                .map(str::trim)
                .filter(|n| !n.is_empty())
                .map(str::to_string);
        }
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn caller(number: &str, name: Option<&str>) -> CallerId {
        CallerId {
            number: number.into(),
            name: name.map(str::to_string),
            privacy: false,
        }
    }

    #[test]
    fn caller_id_numbers_and_names() {
        assert_eq!(
            caller("+34911000000", Some("Acme Sales")).validate(),
            Ok(())
        );
        assert_eq!(caller("sales.line_2*9", None).validate(), Ok(()));
        for bad in [
            "",
            "+34 911",
            "<sip:1>",
            "1\"2",
            "12\r\nX: y",
            "1;x=2",
            &"9".repeat(33),
        ] {
            assert_eq!(
                caller(bad, None).validate(),
                Err(OutboundError::BadNumber(bad.into())),
                "{bad:?}"
            );
        }
        assert!(matches!(
            caller("1", Some("A\r\nB")).validate(),
            Err(OutboundError::BadName(_))
        ));
        assert!(matches!(
            caller("1", Some(&"n".repeat(65))).validate(),
            Err(OutboundError::BadName(_))
        ));
        assert_eq!(caller("1", Some("Ñandú \"quoted\"")).validate(), Ok(()));
    }

    #[test]
    fn trunks_must_be_configured_and_listed_once() {
        let known = vec!["a".to_string(), "b".to_string()];
        let o = |t: &[&str]| CampaignOutbound {
            trunks: t.iter().map(|s| s.to_string()).collect(),
            caller_id: None,
        };
        assert_eq!(o(&["b", "a"]).validate(&known), Ok(()));
        assert_eq!(o(&[]).validate(&known), Ok(()));
        let e = o(&["a", "c"]).validate(&known).unwrap_err();
        assert_eq!(
            e.to_string(),
            "outbound.trunks: unknown trunk \"c\" (configured trunks: a, b)"
        );
        assert_eq!(
            o(&["a", "a"]).validate(&known),
            Err(OutboundError::DuplicateTrunk("a".into()))
        );
    }

    #[test]
    fn normalized_trims_and_drops_blank_names() {
        let o = CampaignOutbound {
            trunks: vec![" a ".into()],
            caller_id: Some(caller(" +1 ", Some("  "))),
        }
        .normalized();
        assert_eq!(o.trunks, ["a"]);
        assert_eq!(o.caller_id, Some(caller("+1", None)));
    }
}
