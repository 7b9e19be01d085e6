//! `program.tiers` and `program.memberships` as the owner writes them, and their validation.
//!
//! Validated whole: a program with one bad level is refused entirely (`422`) and the shop keeps
//! the tiers it had, so members are never re-evaluated against half an edit.

use std::collections::{BTreeMap, HashSet};

use serde::{Deserialize, Serialize};

use crate::domain::earning::MAX_MULTIPLIER_PCT;
use crate::domain::widget::Locale;

/// Most levels a program may have.
pub const MAX_LEVELS: usize = 20;
/// Longest grace period, in days.
pub const MAX_GRACE_DAYS: u32 = 730;
/// Highest threshold in any basis (points, minor units, orders).
pub const MAX_THRESHOLD: i64 = 1_000_000_000_000;
/// Longest paid membership, in days.
pub const MAX_MEMBERSHIP_DAYS: u32 = 3650;

/// What qualifies a member for a tier.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Basis {
    /// Confirmed points earned (orders net of reversals, sign-up, birthday, adjustments).
    #[default]
    PointsEarned,
    /// Net spend of settled orders, in minor units of the shop's currency.
    AmountSpent,
    /// Settled orders that still stand (not cancelled, not fully refunded).
    Orders,
}

/// Which activity counts: all of it, this calendar year's, or the last 12 months'.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Window {
    #[default]
    Lifetime,
    CalendarYear,
    #[serde(rename = "rolling_12_months")]
    Rolling12Months,
}

/// One level of the program.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TierLevel {
    /// Stable id (`gold`), used by rewards' `tier`, memberships and the API.
    pub id: String,
    /// Shown to shoppers.
    pub name: String,
    /// The name in other languages the widget speaks.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub names: BTreeMap<Locale, String>,
    /// Qualifying amount in the basis's unit.
    pub threshold: i64,
    /// Points multiplier on orders while in this tier (100 = x1).
    #[serde(default = "hundred")]
    pub earn_multiplier_pct: u32,
    /// What the tier gives, shown in the widget.
    #[serde(default)]
    pub perks: Vec<String>,
    /// A reward from the catalog given once on reaching this tier.
    #[serde(default)]
    pub entry_reward_id: Option<String>,
    /// A customer tag kept on the platform while the member is in this tier.
    #[serde(default)]
    pub customer_tag: Option<String>,
}

fn hundred() -> u32 {
    100
}

fn thirty() -> u32 {
    30
}

impl TierLevel {
    /// The name in `locale`, else the default name.
    pub fn name_in(&self, locale: Locale) -> &str {
        self.names.get(&locale).map_or(&self.name, String::as_str)
    }
}

/// The VIP tiers of a program.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TierProgram {
    #[serde(default)]
    pub basis: Basis,
    #[serde(default)]
    pub window: Window,
    /// Days a member keeps a tier after the window period in which they last qualified.
    #[serde(default = "thirty")]
    pub grace_days: u32,
    /// Ordered by threshold, lowest first.
    pub levels: Vec<TierLevel>,
}

/// A paid membership: buying `product_id` grants `tier` for `days` from the order's date.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Membership {
    pub id: String,
    pub product_id: String,
    pub tier: String,
    pub days: u32,
}

/// What is wrong with tiers or memberships an owner sent.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TierError {
    #[error("tiers.levels may list at most {max} levels, got {0}", max = MAX_LEVELS)]
    TooManyLevels(usize),
    #[error("tiers.levels: id {0:?} must be 1–40 letters, digits, - or _")]
    BadId(String),
    #[error("tiers.levels: id {0:?} appears twice")]
    DuplicateId(String),
    #[error("tiers.levels.{0}: name (and each of names) must be 1–60 characters")]
    BadName(String),
    #[error("tiers.levels.{0}: threshold must be between 0 and {max}", max = MAX_THRESHOLD)]
    ThresholdOutOfRange(String),
    #[error("tiers.levels must be sorted by threshold with no two equal: {0} is not above the level before it")]
    Unsorted(String),
    #[error("tiers.levels.{id}: earn_multiplier_pct must be between 0 and {max}, got {got}", max = MAX_MULTIPLIER_PCT)]
    MultiplierOutOfRange { id: String, got: u32 },
    #[error("tiers.levels.{0}: at most 10 perks of 1–120 characters each")]
    BadPerks(String),
    #[error("tiers.levels.{0}: customer_tag must be 1–40 characters without commas")]
    BadTag(String),
    #[error("tiers.levels.{level}: entry_reward_id {reward:?} is not a discount reward of the catalog (donations and custom rewards cannot be entry rewards)")]
    UnknownEntryReward { level: String, reward: String },
    #[error("tiers.grace_days must be at most {max}, got {0}", max = MAX_GRACE_DAYS)]
    GraceTooLong(u32),
    #[error("reward {reward:?}: tier {tier:?} is not a level of program.tiers")]
    UnknownRewardTier { reward: String, tier: String },
    #[error("memberships.{0}: id must be 1–40 letters, digits, - or _ and unique")]
    BadMembershipId(String),
    #[error("memberships.{0}: product_id must be the product's numeric id")]
    BadMembershipProduct(String),
    #[error("memberships.{id}: tier {tier:?} is not a level of program.tiers")]
    UnknownMembershipTier { id: String, tier: String },
    #[error("memberships.{0}: days must be between 1 and {max}", max = MAX_MEMBERSHIP_DAYS)]
    BadMembershipDays(String),
}

fn id_ok(id: &str) -> bool {
    (1..=40).contains(&id.len())
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

impl TierProgram {
    /// Checks the levels on their own; [`validate_references`] checks what they point at.
    pub fn validate(&self) -> Result<(), TierError> {
        if self.levels.len() > MAX_LEVELS {
            return Err(TierError::TooManyLevels(self.levels.len()));
        }
        if self.grace_days > MAX_GRACE_DAYS {
            return Err(TierError::GraceTooLong(self.grace_days));
        }
        let mut seen = HashSet::new();
        let mut previous: Option<i64> = None;
        for level in &self.levels {
            let id = level.id.clone();
            if !id_ok(&level.id) {
                return Err(TierError::BadId(id));
            }
            if !seen.insert(level.id.as_str()) {
                return Err(TierError::DuplicateId(id));
            }
            let name_ok = |n: &str| !n.trim().is_empty() && n.chars().count() <= 60;
            if !name_ok(&level.name) || !level.names.values().all(|n| name_ok(n)) {
                return Err(TierError::BadName(id));
            }
            if !(0..=MAX_THRESHOLD).contains(&level.threshold) {
                return Err(TierError::ThresholdOutOfRange(id));
            }
            if previous.is_some_and(|p| level.threshold <= p) {
                return Err(TierError::Unsorted(id));
            }
            previous = Some(level.threshold);
            if level.earn_multiplier_pct > MAX_MULTIPLIER_PCT {
                return Err(TierError::MultiplierOutOfRange {
                    id,
                    got: level.earn_multiplier_pct,
                });
            }
            let perk_ok = |p: &String| !p.trim().is_empty() && p.chars().count() <= 120;
            if level.perks.len() > 10 || !level.perks.iter().all(perk_ok) {
                return Err(TierError::BadPerks(id));
            }
            if let Some(tag) = &level.customer_tag {
                let ok = !tag.trim().is_empty() && tag.chars().count() <= 40 && !tag.contains(',');
                if !ok {
                    return Err(TierError::BadTag(id));
                }
            }
        }
        Ok(())
    }

    /// The position of a level (0 = lowest), if it exists.
    pub fn rank(&self, id: &str) -> Option<usize> {
        self.levels.iter().position(|l| l.id == id)
    }

    pub fn level(&self, id: &str) -> Option<&TierLevel> {
        self.levels.iter().find(|l| l.id == id)
    }

    /// The multiplier a member of `tier` earns with (100 without a tier or for an unknown one).
    pub fn multiplier_pct(&self, tier: Option<&str>) -> u32 {
        tier.and_then(|t| self.level(t))
            .map_or(100, |l| l.earn_multiplier_pct)
    }
}

/// Checks what tiers, memberships and rewards point at: entry rewards exist in the catalog,
/// memberships and tier-only rewards name existing levels, membership ids are unique.
pub fn validate_references(
    tiers: Option<&TierProgram>,
    memberships: &[Membership],
    reward_ids: &[&str],
    reward_tiers: &[(&str, &str)],
) -> Result<(), TierError> {
    let has_level = |id: &str| tiers.is_some_and(|t| t.rank(id).is_some());
    if let Some(tiers) = tiers {
        for level in &tiers.levels {
            if let Some(reward) = &level.entry_reward_id {
                if !reward_ids.contains(&reward.as_str()) {
                    return Err(TierError::UnknownEntryReward {
                        level: level.id.clone(),
                        reward: reward.clone(),
                    });
                }
            }
        }
    }
    for (reward, tier) in reward_tiers {
        if !has_level(tier) {
            return Err(TierError::UnknownRewardTier {
                reward: (*reward).to_owned(),
                tier: (*tier).to_owned(),
            });
        }
    }
    let mut seen = HashSet::new();
    for m in memberships {
        if !id_ok(&m.id) || !seen.insert(m.id.as_str()) {
            return Err(TierError::BadMembershipId(m.id.clone()));
        }
        if m.product_id.is_empty()
            || m.product_id.len() > 20
            || !m.product_id.bytes().all(|b| b.is_ascii_digit())
        {
            return Err(TierError::BadMembershipProduct(m.id.clone()));
        }
        if !has_level(&m.tier) {
            return Err(TierError::UnknownMembershipTier {
                id: m.id.clone(),
                tier: m.tier.clone(),
            });
        }
        if !(1..=MAX_MEMBERSHIP_DAYS).contains(&m.days) {
            return Err(TierError::BadMembershipDays(m.id.clone()));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests;
