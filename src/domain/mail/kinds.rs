//! The kinds of e-mail the app sends (the contract's names) and which of them are marketing.

use serde::{Deserialize, Serialize};

/// One kind of message. `Digest` is ours: the one message that carries what the weekly cap held.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    Welcome,
    PointsEarned,
    PointsSpendable,
    RewardIssued,
    PointsExpiring,
    TierUp,
    TierDown,
    TierAtRisk,
    Birthday,
    ReferralInvite,
    ReferralReward,
    WinBack,
    Replenishment,
    NpsSurvey,
    Digest,
}

impl Kind {
    pub const ALL: [Kind; 15] = [
        Kind::Welcome,
        Kind::PointsEarned,
        Kind::PointsSpendable,
        Kind::RewardIssued,
        Kind::PointsExpiring,
        Kind::TierUp,
        Kind::TierDown,
        Kind::TierAtRisk,
        Kind::Birthday,
        Kind::ReferralInvite,
        Kind::ReferralReward,
        Kind::WinBack,
        Kind::Replenishment,
        Kind::NpsSurvey,
        Kind::Digest,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Welcome => "welcome",
            Self::PointsEarned => "points_earned",
            Self::PointsSpendable => "points_spendable",
            Self::RewardIssued => "reward_issued",
            Self::PointsExpiring => "points_expiring",
            Self::TierUp => "tier_up",
            Self::TierDown => "tier_down",
            Self::TierAtRisk => "tier_at_risk",
            Self::Birthday => "birthday",
            Self::ReferralInvite => "referral_invite",
            Self::ReferralReward => "referral_reward",
            Self::WinBack => "win_back",
            Self::Replenishment => "replenishment",
            Self::NpsSurvey => "nps_survey",
            Self::Digest => "digest",
        }
    }

    pub fn parse(name: &str) -> Option<Kind> {
        Self::ALL.into_iter().find(|k| k.as_str() == name)
    }

    /// Mail the customer asked for by acting (the code they just redeemed or claimed): sent
    /// whatever the policy, without an unsubscribe link.
    pub fn is_transactional(self) -> bool {
        matches!(self, Self::RewardIssued | Self::ReferralInvite)
    }

    /// Everything else: capped, kept out of quiet hours, sunset, unsubscribable.
    pub fn is_marketing(self) -> bool {
        !self.is_transactional()
    }

    /// Mail a digest line cannot stand in for, because the customer acts on what it carries (a
    /// win-back step's code, the survey's score links): over the weekly cap it waits for room
    /// instead of merging into the digest.
    pub fn waits_for_room(self) -> bool {
        matches!(self, Self::WinBack | Self::NpsSurvey)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_only_requested_mail_is_transactional() {
        for kind in Kind::ALL {
            assert_eq!(Kind::parse(kind.as_str()), Some(kind));
            let json = serde_json::to_string(&kind).unwrap();
            assert_eq!(json, format!("\"{}\"", kind.as_str()));
        }
        assert_eq!(Kind::parse("spam"), None);
        let transactional: Vec<Kind> = Kind::ALL
            .into_iter()
            .filter(|k| k.is_transactional())
            .collect();
        assert_eq!(
            transactional,
            vec![Kind::RewardIssued, Kind::ReferralInvite]
        );
    }
}
