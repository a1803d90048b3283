//! Do-not-call entries as the switch holds them: a number barred for every
//! campaign (global) or for one campaign, with the reason given.

use serde::{Deserialize, Serialize};

/// One barred number.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct DncEntry {
    /// The number as listed (E.164 or as dialled).
    pub phone: String,
    /// Campaign storage id; `None` bars the number in every campaign.
    pub campaign_id: Option<String>,
    /// Why (e.g. "asked not to be called").
    pub reason: String,
}

/// The key numbers are matched by: digits only, so `+34 600-12 34 56` and
/// `+34600123456` are the same number.
pub fn dnc_key(phone: &str) -> String {
    phone.chars().filter(char::is_ascii_digit).collect()
}

/// The national significant number of an international number (`+34 600 12
/// 34 56` -> `600123456`), so a national number an agent types still matches
/// a listed one; `None` for numbers without `+` or not readable.
pub fn dnc_national(phone: &str) -> Option<String> {
    let phone = phone.trim();
    if !phone.starts_with('+') {
        return None;
    }
    let n = phonenumber::parse(None, phone).ok()?;
    Some(dnc_key(&n.national().to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_ignore_formatting() {
        assert_eq!(dnc_key("+34 600-12 34 56"), "34600123456");
        assert_eq!(dnc_key("(600) 123.456"), "600123456");
        assert_eq!(dnc_key(""), "");
        assert_eq!(
            dnc_national("+34 600 12 34 56").as_deref(),
            Some("600123456")
        );
        assert_eq!(
            dnc_national("+44 20 7946 0003").as_deref(),
            Some("2079460003")
        );
        assert_eq!(dnc_national("600123456"), None);
    }
}
