//! The media topology a call state implies: which legs share a room and
//! whether that room plays music. The engine applies the difference.

use crate::LegId;

/// Legs that hear each other (and music, if set).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Group {
    /// Members.
    pub legs: Vec<LegId>,
    /// Music class played to this group.
    pub music: Option<String>,
}

/// Every group of a call; legs not listed hear silence.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct MediaPlan {
    /// Groups, index = room slot of the call.
    pub groups: Vec<Group>,
    /// Legs the others do not hear (conference mute).
    pub muted: Vec<LegId>,
}

impl MediaPlan {
    /// Group containing a leg.
    pub fn group_of(&self, leg: LegId) -> Option<&Group> {
        self.groups.iter().find(|g| g.legs.contains(&leg))
    }
    /// Do these two legs hear each other?
    pub fn connected(&self, a: LegId, b: LegId) -> bool {
        self.group_of(a).is_some_and(|g| g.legs.contains(&b))
    }
}
