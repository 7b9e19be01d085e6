//! A referral's life. Pending on the friend's paid order; when that order settles (its return
//! window passes and it still stands) a clean referral is approved, one with signals (or any,
//! under manual review) is held as flagged for the owner; a refund or cancellation before a
//! decision voids it. Nothing held moves by time passing: only an owner's decision does.

/// Where a referral is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Status {
    Pending,
    Flagged,
    Approved,
    Rejected,
    Void,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Flagged => "flagged",
            Self::Approved => "approved",
            Self::Rejected => "rejected",
            Self::Void => "void",
        }
    }

    /// The status named `name` (as stored and in the API).
    pub fn parse(name: &str) -> Option<Self> {
        [
            Self::Pending,
            Self::Flagged,
            Self::Approved,
            Self::Rejected,
            Self::Void,
        ]
        .into_iter()
        .find(|s| s.as_str() == name)
    }

    /// Approved, rejected and void referrals are final.
    pub fn is_decided(self) -> bool {
        matches!(self, Self::Approved | Self::Rejected | Self::Void)
    }
}

/// The program's review setting.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, Default, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum Review {
    /// Approve clean referrals when their order settles; hold those with signals.
    #[default]
    Auto,
    /// Hold every referral for the owner.
    Manual,
}

/// The friend's order settled (past its return window, not cancelled or fully refunded).
/// Returns the new status; `Approved` is the moment to reward the referrer (exactly once: only
/// a pending referral can get there this way).
pub fn on_order_settled(status: Status, review: Review, has_signals: bool) -> Status {
    match (status, review) {
        (Status::Pending, Review::Auto) if !has_signals => Status::Approved,
        (Status::Pending, _) => Status::Flagged,
        (other, _) => other,
    }
}

/// The friend's order was refunded in full or cancelled: an undecided referral is void; a
/// decided one stays (an approved referrer keeps the reward, as the points of a settled order).
pub fn on_reversal(status: Status) -> Status {
    match status {
        Status::Pending | Status::Flagged => Status::Void,
        other => other,
    }
}

/// An owner's decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Approve,
    Reject,
}

/// Why a decision cannot be taken (the API answers `409`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum DecisionError {
    #[error("this referral was already decided ({})", .0.as_str())]
    AlreadyDecided(Status),
}

/// Applies an owner's decision to a referral that is still open. A pending referral may be
/// decided before its order settles (the owner knows the friend); approving it then rewards at
/// once.
pub fn decide(status: Status, decision: Decision) -> Result<Status, DecisionError> {
    if status.is_decided() {
        return Err(DecisionError::AlreadyDecided(status));
    }
    Ok(match decision {
        Decision::Approve => Status::Approved,
        Decision::Reject => Status::Rejected,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALL: [Status; 5] = [
        Status::Pending,
        Status::Flagged,
        Status::Approved,
        Status::Rejected,
        Status::Void,
    ];

    #[test]
    fn settling_approves_only_clean_referrals_under_auto_review() {
        assert_eq!(
            on_order_settled(Status::Pending, Review::Auto, false),
            Status::Approved
        );
        assert_eq!(
            on_order_settled(Status::Pending, Review::Auto, true),
            Status::Flagged
        );
        assert_eq!(
            on_order_settled(Status::Pending, Review::Manual, false),
            Status::Flagged
        );
        // Settling again (a replayed job) changes nothing, so the reward is given once.
        for s in ALL.into_iter().filter(|s| *s != Status::Pending) {
            for review in [Review::Auto, Review::Manual] {
                assert_eq!(on_order_settled(s, review, false), s);
            }
        }
    }

    #[test]
    fn a_reversal_voids_only_what_is_undecided() {
        assert_eq!(on_reversal(Status::Pending), Status::Void);
        assert_eq!(on_reversal(Status::Flagged), Status::Void);
        for s in [Status::Approved, Status::Rejected, Status::Void] {
            assert_eq!(on_reversal(s), s);
        }
    }

    #[test]
    fn owners_decide_open_referrals_once() {
        assert_eq!(
            decide(Status::Flagged, Decision::Approve),
            Ok(Status::Approved)
        );
        assert_eq!(
            decide(Status::Pending, Decision::Reject),
            Ok(Status::Rejected)
        );
        for s in [Status::Approved, Status::Rejected, Status::Void] {
            assert_eq!(
                decide(s, Decision::Approve),
                Err(DecisionError::AlreadyDecided(s))
            );
        }
    }

    #[test]
    fn time_alone_never_approves_a_held_referral() {
        // The only transitions out of Flagged are a decision or a reversal.
        for review in [Review::Auto, Review::Manual] {
            assert_eq!(
                on_order_settled(Status::Flagged, review, false),
                Status::Flagged
            );
        }
    }
}
