//! Supervision requests: who may supervise, which phone is rung, and the
//! supervisor's phone keys (4 listen, 5 whisper, 6 barge) changing the
//! mode live. What each mode means is the call state machine's business.

use switchboard_call::{Command, LegId, SuperviseMode, SupervisorAction};
use switchboard_center::views::{ActionReply, EndedCall};
use switchboard_center::{in_scope, Actor, ApiError};

use super::Switch;

impl Switch {
    /// A supervisor's request on a live call.
    pub(super) fn api_supervise(
        &mut self,
        actor: &Actor,
        call: &str,
        action: SupervisorAction,
        phone: Option<String>,
    ) -> Result<ActionReply, ApiError> {
        if !actor.supervisor {
            return Err(ApiError::new(403, "only supervisors can supervise calls"));
        }
        let Some(entry) = self.calls.get(call) else {
            return Err(ApiError::new(
                404,
                format!("no live call {call} (it has ended or never existed)"),
            ));
        };
        // A supervisor limited to campaigns joins only their calls (and may always stop).
        let campaign = entry.campaign.as_deref();
        if action != SupervisorAction::Stop && !in_scope(actor.campaigns.as_deref(), campaign) {
            return Err(ApiError::new(
                403,
                format!(
                    "call {call} is in {}, not in your campaigns ({})",
                    campaign.map_or("no campaign".to_string(), |c| format!("campaign {c}")),
                    actor.campaigns.as_deref().unwrap_or_default().join(", ")
                ),
            ));
        }
        let starting = matches!(action, SupervisorAction::Mode(_))
            && entry.call.supervision_of(&actor.username).is_none();
        let phone = phone
            .map(|p| p.trim().to_string())
            .unwrap_or_else(|| actor.username.clone());
        if starting {
            self.check_supervisor_phone(&phone)?;
        }
        self.supervise_command(call, &actor.username, &phone, action)
            .map_err(|why| ApiError::new(409, why))?;
        self.drain();
        Ok(match self.call_view(call) {
            Some(v) => ActionReply::Live(Box::new(v)),
            None => ActionReply::Ended(EndedCall::new(call)),
        })
    }

    /// The extension rung for a supervisor must be a known, registered phone
    /// that is on no call.
    fn check_supervisor_phone(&self, phone: &str) -> Result<(), ApiError> {
        if phone.is_empty() {
            return Err(ApiError::new(400, "\"phone\" cannot be empty"));
        }
        let Some(p) = self.agents.get(phone) else {
            return Err(ApiError::new(404, format!("unknown extension {phone}")));
        };
        if !p.registered {
            return Err(ApiError::new(
                409,
                format!("cannot supervise: the phone of extension {phone} is not registered"),
            ));
        }
        if !p.calls.is_empty() {
            return Err(ApiError::new(
                409,
                format!("cannot supervise: extension {phone} is on a call"),
            ));
        }
        Ok(())
    }

    /// Run a supervisor's action through the call and apply what it decides.
    fn supervise_command(
        &mut self,
        call: &str,
        supervisor: &str,
        phone: &str,
        action: SupervisorAction,
    ) -> Result<(), String> {
        let Some(entry) = self.calls.get_mut(call) else {
            return Err(format!("no live call {call}"));
        };
        let actions = entry
            .call
            .command(Command::Supervise {
                supervisor: supervisor.to_string(),
                phone: phone.to_string(),
                action,
            })
            .map_err(|r| r.0)?;
        self.apply(call, actions);
        Ok(())
    }

    /// A digit keyed on a supervisor's phone: 4, 5 and 6 select the mode;
    /// returns false when `leg` is not a supervisor's.
    pub(super) fn supervisor_key(&mut self, call: &str, leg: LegId, digit: char) -> bool {
        let Some(s) = self
            .calls
            .get(call)
            .and_then(|e| e.call.supervision_on(leg))
            .cloned()
        else {
            return false;
        };
        let Some(mode) = SuperviseMode::from_digit(digit) else {
            return true;
        };
        let res =
            self.supervise_command(call, &s.supervisor, &s.phone, SupervisorAction::Mode(mode));
        if let Err(why) = res {
            self.log_call(call, "SUPERVISE_REFUSED", &why, Some(&s.supervisor));
        }
        true
    }
}
