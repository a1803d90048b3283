//! The do-not-call list and calling hours in the switch: every call the
//! switch places for a campaign (dialer contacts, global callbacks, agents'
//! campaign calls) is checked against the list first; dialer calls must
//! also fall inside the campaign's calling hours. A barred number is not called: the request is
//! refused with the reason, and the refusal is written as a call record
//! with a `DNC_REFUSED` event so it shows in the call history and event log.

use std::collections::HashMap;

use switchboard_center::{dnc_key, dnc_national, ApiError, CampaignInfo, DncEntry};

use super::Switch;

/// Barred numbers by [`dnc_key`]: the entries (global or per campaign),
/// with an index from the national number of international entries to their
/// keys (an agent may type `600123456` for a listed `+34600123456`).
#[derive(Default)]
pub(crate) struct DncList {
    by_key: HashMap<String, Vec<DncEntry>>,
    national: HashMap<String, Vec<String>>,
}

impl DncList {
    /// Replace the whole list.
    pub(crate) fn set(&mut self, entries: Vec<DncEntry>) {
        self.by_key.clear();
        self.national.clear();
        for e in entries {
            self.add(e);
        }
    }

    /// Bar a number (again: the reason is updated).
    pub(crate) fn add(&mut self, e: DncEntry) {
        let key = dnc_key(&e.phone);
        if let Some(n) = dnc_national(&e.phone) {
            let keys = self.national.entry(n).or_default();
            if !keys.contains(&key) {
                keys.push(key.clone());
            }
        }
        let list = self.by_key.entry(key).or_default();
        list.retain(|x| x.campaign_id != e.campaign_id);
        list.push(e);
    }

    /// Take a number off the list for the entry's scope.
    pub(crate) fn remove(&mut self, e: &DncEntry) {
        let key = dnc_key(&e.phone);
        if let Some(list) = self.by_key.get_mut(&key) {
            list.retain(|x| x.campaign_id != e.campaign_id);
            if list.is_empty() {
                self.by_key.remove(&key);
                if let Some(n) = dnc_national(&e.phone) {
                    if let Some(keys) = self.national.get_mut(&n) {
                        keys.retain(|k| *k != key);
                        if keys.is_empty() {
                            self.national.remove(&n);
                        }
                    }
                }
            }
        }
    }

    /// The entry barring `number` in `campaign_id` (global entries first).
    /// `number` matches by its digits, without leading zeros (`0034…`), or,
    /// when it has no `+`, as the national number of a listed international one.
    pub(crate) fn barred(&self, number: &str, campaign_id: &str) -> Option<&DncEntry> {
        let digits = dnc_key(number);
        let trimmed = digits.trim_start_matches('0').to_string();
        let mut keys = vec![digits, trimmed.clone()];
        if !number.trim_start().starts_with('+') {
            keys.extend(self.national.get(&trimmed).into_iter().flatten().cloned());
        }
        let lists: Vec<&Vec<DncEntry>> = keys.iter().filter_map(|k| self.by_key.get(k)).collect();
        let global = lists
            .iter()
            .flat_map(|l| l.iter())
            .find(|e| e.campaign_id.is_none());
        global.or_else(|| {
            lists
                .iter()
                .flat_map(|l| l.iter())
                .find(|e| e.campaign_id.as_deref() == Some(campaign_id))
        })
    }
}

/// A 409 when `campaign` has calling hours and `number` (in `zone`, else
/// the campaign's zone) may not be called at `now`; the message says when.
pub(crate) fn outside_hours(
    campaign: &CampaignInfo,
    number: &str,
    zone: Option<&str>,
    now: u64,
) -> Option<ApiError> {
    let hours = campaign.calling_hours.as_ref()?;
    let now = now as i64;
    if hours.allows(now, zone) {
        return None;
    }
    let next = hours
        .next_open(now, zone)
        .and_then(chrono::DateTime::from_timestamp_millis)
        .map(|t| format!("; next window {}", t.format("%Y-%m-%dT%H:%M:%SZ")))
        .unwrap_or_default();
    Some(ApiError::new(
        409,
        format!(
            "{number} is outside the calling hours of campaign {}{next}",
            campaign.name
        ),
    ))
}

impl Switch {
    /// Refuse a campaign call to a barred number: `None` when it may be
    /// called; otherwise the refusal is recorded (a call row, its
    /// `DNC_REFUSED` event, ended at once) and returned as a 409.
    pub(super) fn dnc_refusal(
        &mut self,
        number: &str,
        campaign: &CampaignInfo,
        contact_id: Option<String>,
        actor: Option<&str>,
    ) -> Option<ApiError> {
        let entry = self.dnc.barred(number, &campaign.id)?.clone();
        let scope = if entry.campaign_id.is_some() {
            format!("campaign {}", campaign.name)
        } else {
            "global".to_string()
        };
        let why = if entry.reason.trim().is_empty() {
            String::new()
        } else {
            format!(": {}", entry.reason.trim())
        };
        let message =
            format!("{number} is on the do-not-call list ({scope}{why}); the call was not placed");
        self.call_counter += 1;
        let id = format!("{:x}-{}", self.now, self.call_counter);
        let agent_id = actor
            .and_then(|a| self.agents.get(a))
            .map(|p| p.info.id.clone());
        self.sink.store(crate::StoreOp::CallStarted {
            call: id.clone(),
            direction: crate::Direction::Outbound,
            campaign_id: Some(campaign.id.clone()),
            contact_id,
            caller: actor.unwrap_or(&campaign.name).to_string(),
            callee: number.to_string(),
            agent_id,
            at: self.now as i64,
        });
        self.log_call(&id, "DNC_REFUSED", &message, actor);
        self.sink.store(crate::StoreOp::CallEnded {
            call: id,
            at: self.now as i64,
            agent_id: None,
            reason: "ended".into(),
        });
        tracing::warn!(
            number,
            campaign = campaign.name,
            actor,
            "do-not-call: refused"
        );
        Some(ApiError::new(409, message))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(phone: &str, campaign: Option<&str>, reason: &str) -> DncEntry {
        DncEntry {
            phone: phone.into(),
            campaign_id: campaign.map(str::to_string),
            reason: reason.into(),
        }
    }

    #[test]
    fn global_and_campaign_scopes() {
        let mut l = DncList::default();
        l.set(vec![
            entry("+34 600 123 456", None, "asked"),
            entry("+34611", Some("c1"), ""),
        ]);
        assert_eq!(l.barred("+34600123456", "any").unwrap().reason, "asked");
        assert!(l.barred("+34611", "c1").is_some());
        assert!(l.barred("+34611", "c2").is_none());
        l.add(entry("+34611", None, "now everywhere"));
        assert!(l.barred("+34611", "c2").is_some());
        l.remove(&entry("+34611", None, ""));
        assert!(l.barred("+34611", "c2").is_none());
        assert!(l.barred("+34611", "c1").is_some());
        l.remove(&entry("+34611", Some("c1"), ""));
        assert!(l.barred("+34611", "c1").is_none());
    }

    #[test]
    fn national_and_prefixed_forms_match_international_entries() {
        let mut l = DncList::default();
        l.set(vec![
            entry("+34600123456", Some("c1"), ""),
            entry("+44 20 7946 0003", None, ""),
        ]);
        assert!(l.barred("600 123 456", "c1").is_some(), "national form");
        assert!(l.barred("0034600123456", "c1").is_some(), "00 prefix");
        assert!(l.barred("020 7946 0003", "c2").is_some(), "trunk prefix 0");
        assert!(l.barred("600123457", "c1").is_none());
        // An international number is only compared as such.
        assert!(l.barred("+1 600 123 456", "c1").is_none());
        l.remove(&entry("+34600123456", Some("c1"), ""));
        assert!(l.barred("600123456", "c1").is_none());
        assert!(!l.national.contains_key("600123456"), "index cleaned");
    }
}
