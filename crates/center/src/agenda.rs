//! Agenda (scheduled callback) rules: parsing the date/time the agent gave
//! (time-zone aware) and which campaigns allow a global callback.

use chrono::{DateTime, FixedOffset, NaiveDateTime, TimeZone, Utc};

/// Personal (the agent's own list) or global (back into the dialer).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// The agent's own agenda.
    Personal,
    /// The dialer calls the contact at that time.
    Global,
}

impl Kind {
    /// Parse `personal` / `global`.
    pub fn parse(s: &str) -> Result<Kind, String> {
        match s {
            "personal" => Ok(Kind::Personal),
            "global" => Ok(Kind::Global),
            other => Err(format!(
                "agenda kind must be personal or global, not {other:?}"
            )),
        }
    }
}

/// Parse the scheduled time: RFC 3339 with an offset (`2026-11-25T15:00:00+01:00`),
/// or a local `YYYY-MM-DDTHH:MM[:SS]` with a separate UTC offset like `+01:00` / `-0300` / `Z`.
/// Returns unix ms (UTC).
pub fn parse_when(at: &str, tz_offset: Option<&str>) -> Result<i64, String> {
    if let Ok(t) = DateTime::parse_from_rfc3339(at.trim()) {
        return Ok(t.with_timezone(&Utc).timestamp_millis());
    }
    let naive = [
        "%Y-%m-%dT%H:%M:%S",
        "%Y-%m-%dT%H:%M",
        "%Y-%m-%d %H:%M:%S",
        "%Y-%m-%d %H:%M",
    ]
    .iter()
    .find_map(|f| NaiveDateTime::parse_from_str(at.trim(), f).ok())
    .ok_or_else(|| {
        format!("cannot read the date/time {at:?}: use 2026-11-25T15:00 with a time zone offset")
    })?;
    let off = tz_offset.ok_or("a date/time without an offset needs the tz field (e.g. +01:00)")?;
    let offset = parse_offset(off)?;
    offset
        .from_local_datetime(&naive)
        .single()
        .map(|t| t.with_timezone(&Utc).timestamp_millis())
        .ok_or_else(|| "ambiguous local time".to_string())
}

fn parse_offset(s: &str) -> Result<FixedOffset, String> {
    let s = s.trim();
    if s == "Z" || s.eq_ignore_ascii_case("utc") {
        return Ok(FixedOffset::east_opt(0).expect("zero"));
    }
    let (sign, rest) = match s.chars().next() {
        Some('+') => (1, &s[1..]),
        Some('-') => (-1, &s[1..]),
        _ => return Err(format!("bad time zone offset {s:?}: use +HH:MM")),
    };
    let digits: String = rest.chars().filter(|c| *c != ':').collect();
    if digits.len() != 4 || !digits.chars().all(|c| c.is_ascii_digit()) {
        return Err(format!("bad time zone offset {s:?}: use +HH:MM"));
    }
    let h: i32 = digits[..2].parse().map_err(|_| "bad offset")?;
    let m: i32 = digits[2..].parse().map_err(|_| "bad offset")?;
    if h > 14 || m > 59 {
        return Err(format!("time zone offset {s:?} out of range"));
    }
    FixedOffset::east_opt(sign * (h * 3600 + m * 60)).ok_or_else(|| "offset out of range".into())
}

/// A global callback is only for outbound dialer campaigns.
pub fn check_global_allowed(campaign_kind: Option<&str>) -> Result<(), String> {
    match campaign_kind {
        Some("dialer") => Ok(()),
        Some(k) => Err(format!("a global callback is only possible for outbound dialer campaigns (this call's campaign is {k})")),
        None => Err("a global callback is only possible for outbound dialer campaigns (this call has no campaign)".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_times_with_zones() {
        let a = parse_when("2026-11-25T15:00:00+01:00", None).unwrap();
        let b = parse_when("2026-11-25T14:00", Some("Z")).unwrap();
        let c = parse_when("2026-11-25 11:00", Some("-03:00")).unwrap();
        assert_eq!(a, b);
        assert_eq!(b, c);
        assert!(parse_when("tomorrow", Some("Z")).is_err());
        assert!(parse_when("2026-11-25T14:00", None).is_err());
        assert!(parse_when("2026-11-25T14:00", Some("+25:00")).is_err());
    }

    #[test]
    fn global_only_for_dialer() {
        assert!(check_global_allowed(Some("dialer")).is_ok());
        assert!(check_global_allowed(Some("inbound")).is_err());
        assert!(check_global_allowed(None).is_err());
    }
}
