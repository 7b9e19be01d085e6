//! The owner's win-back settings (`program.win_back`), validated whole on `PUT`: when a customer
//! counts as lapsed, the steps of the "we miss you" sequence with their incentive codes, the
//! hold-out share and the subject lines tried against each other.

use std::collections::{BTreeMap, HashSet};
use std::fmt;

use serde::de::{self, Unexpected, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::domain::referrals::{Discount, FriendReward};
use crate::domain::widget::Locale;

/// The lapse rule when the owner sets none (and for segments of a shop without win-back).
pub const DEFAULT_AFTER_DAYS: u32 = 90;
pub const MAX_AFTER_DAYS: u32 = 3650;
pub const MAX_STEPS: usize = 5;
pub const MAX_DELAY_DAYS: u32 = 365;
pub const MAX_EXPIRES_DAYS: u32 = 365;
pub const MAX_HOLDOUT_PCT: u32 = 50;
pub const MAX_VARIANTS: usize = 4;
const MAX_VARIANT_ID_CHARS: usize = 32;
const MAX_SUBJECT_CHARS: usize = 200;

/// When a customer has lapsed: their last order is older than a fixed number of days, or
/// (`"auto"`) older than twice their own median gap between orders, with at least 3 orders.
/// In JSON: a number of days or `"auto"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LapseRule {
    AfterDays(u32),
    Auto,
}

impl Default for LapseRule {
    fn default() -> Self {
        Self::AfterDays(DEFAULT_AFTER_DAYS)
    }
}

impl Serialize for LapseRule {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Self::AfterDays(days) => serializer.serialize_u32(*days),
            Self::Auto => serializer.serialize_str("auto"),
        }
    }
}

impl<'de> Deserialize<'de> for LapseRule {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct RuleVisitor;
        impl Visitor<'_> for RuleVisitor {
            type Value = LapseRule;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                write!(f, "a number of days (1–{MAX_AFTER_DAYS}) or \"auto\"")
            }
            fn visit_u64<E: de::Error>(self, days: u64) -> Result<LapseRule, E> {
                u32::try_from(days)
                    .map(LapseRule::AfterDays)
                    .map_err(|_| E::invalid_value(Unexpected::Unsigned(days), &self))
            }
            fn visit_i64<E: de::Error>(self, days: i64) -> Result<LapseRule, E> {
                u64::try_from(days)
                    .map_err(|_| E::invalid_value(Unexpected::Signed(days), &self))
                    .and_then(|d| self.visit_u64(d))
            }
            fn visit_str<E: de::Error>(self, word: &str) -> Result<LapseRule, E> {
                match word {
                    "auto" => Ok(LapseRule::Auto),
                    other => Err(E::invalid_value(Unexpected::Str(other), &self)),
                }
            }
        }
        deserializer.deserialize_any(RuleVisitor)
    }
}

/// A step's incentive: the referral friend's reward shape, `{"kind":"fixed_amount"|"percent"|
/// "free_shipping", "amount_minor"|"percent", "min_order_minor"?, "expires_days"}` (a single-use
/// code bound to the customer, valid `expires_days` from the step; 30 when left out).
pub type StepReward = FriendReward;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WinBackProgram {
    #[serde(default)]
    pub enabled: bool,
    #[serde(default)]
    pub after_days: LapseRule,
    pub steps: Vec<WinBackStep>,
    /// The share of lapsed customers, in whole percent, who get no win-back mail (the lift's
    /// baseline).
    #[serde(default)]
    pub holdout_pct: u32,
    /// Subject lines tried against each other; none: the template's subject.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub subject_variants: Vec<SubjectVariant>,
}

/// One mail of the sequence. `delay_days` counts from the previous step's day (the first
/// step's from the day the customer entered the sequence; 0 sends it at once).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WinBackStep {
    pub delay_days: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reward: Option<StepReward>,
}

/// A subject line per language (`{"en": "…", "ar": "…"}`) under an id the results report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SubjectVariant {
    pub id: String,
    pub subject: BTreeMap<Locale, String>,
}

impl SubjectVariant {
    /// The subject in `locale`, else in English, else any.
    pub fn subject_in(&self, locale: Locale) -> Option<&str> {
        self.subject
            .get(&locale)
            .or_else(|| self.subject.get(&Locale::En))
            .or_else(|| self.subject.values().next())
            .map(String::as_str)
    }
}

/// What is wrong with the win-back settings; each names the field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WinBackConfigError {
    #[error("win_back.after_days must be 1–{MAX_AFTER_DAYS} or \"auto\"")]
    AfterDays,
    #[error("win_back.steps must hold 1–{MAX_STEPS} steps")]
    StepCount,
    #[error("win_back.steps[{0}].delay_days must be 0–{MAX_DELAY_DAYS}")]
    Delay(usize),
    #[error("win_back.steps[{0}].reward.amount_minor must be above zero")]
    Amount(usize),
    #[error("win_back.steps[{0}].reward.percent must be 1–100")]
    Percent(usize),
    #[error("win_back.steps[{0}].reward.min_order_minor must not be negative")]
    MinOrder(usize),
    #[error("win_back.steps[{0}].reward.expires_days must be 1–{MAX_EXPIRES_DAYS}")]
    Expires(usize),
    #[error("win_back.holdout_pct must be 0–{MAX_HOLDOUT_PCT}")]
    Holdout,
    #[error("win_back.subject_variants may hold {MAX_VARIANTS} variants at most")]
    VariantCount,
    #[error("win_back.subject_variants[{0}].id must be 1–{MAX_VARIANT_ID_CHARS} letters, digits, - or _")]
    VariantId(usize),
    #[error("win_back.subject_variants[{0}].id {1:?} is used twice")]
    DuplicateVariant(usize, String),
    #[error("win_back.subject_variants[{0}].subject needs at least one language")]
    NoSubject(usize),
    #[error("win_back.subject_variants[{0}].subject.{1} must be 1–{MAX_SUBJECT_CHARS} characters on one line")]
    Subject(usize, &'static str),
}

impl WinBackProgram {
    /// The lapse rule the segments and the sequence use.
    pub fn lapse_rule(&self) -> LapseRule {
        self.after_days
    }

    pub fn validate(&self) -> Result<(), WinBackConfigError> {
        if let LapseRule::AfterDays(days) = self.after_days {
            if !(1..=MAX_AFTER_DAYS).contains(&days) {
                return Err(WinBackConfigError::AfterDays);
            }
        }
        if !(1..=MAX_STEPS).contains(&self.steps.len()) {
            return Err(WinBackConfigError::StepCount);
        }
        for (i, step) in self.steps.iter().enumerate() {
            step.validate(i)?;
        }
        if self.holdout_pct > MAX_HOLDOUT_PCT {
            return Err(WinBackConfigError::Holdout);
        }
        if self.subject_variants.len() > MAX_VARIANTS {
            return Err(WinBackConfigError::VariantCount);
        }
        let mut ids = HashSet::new();
        for (i, variant) in self.subject_variants.iter().enumerate() {
            variant.validate(i)?;
            if !ids.insert(variant.id.as_str()) {
                return Err(WinBackConfigError::DuplicateVariant(i, variant.id.clone()));
            }
        }
        Ok(())
    }
}

impl WinBackStep {
    fn validate(&self, i: usize) -> Result<(), WinBackConfigError> {
        if self.delay_days > MAX_DELAY_DAYS {
            return Err(WinBackConfigError::Delay(i));
        }
        let Some(reward) = &self.reward else {
            return Ok(());
        };
        match reward.discount {
            Discount::FixedAmount { amount_minor } if amount_minor <= 0 => {
                return Err(WinBackConfigError::Amount(i))
            }
            Discount::Percent { percent } if !(1..=100).contains(&percent) => {
                return Err(WinBackConfigError::Percent(i))
            }
            _ => {}
        }
        if reward.min_order_minor.is_some_and(|m| m < 0) {
            return Err(WinBackConfigError::MinOrder(i));
        }
        if !(1..=MAX_EXPIRES_DAYS).contains(&reward.expires_days) {
            return Err(WinBackConfigError::Expires(i));
        }
        Ok(())
    }
}

impl SubjectVariant {
    fn validate(&self, i: usize) -> Result<(), WinBackConfigError> {
        let id_ok = (1..=MAX_VARIANT_ID_CHARS).contains(&self.id.chars().count())
            && self
                .id
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
        if !id_ok {
            return Err(WinBackConfigError::VariantId(i));
        }
        if self.subject.is_empty() {
            return Err(WinBackConfigError::NoSubject(i));
        }
        for (locale, subject) in &self.subject {
            // Control characters (CR/LF above all) never reach a mail header.
            let len = subject.trim().chars().count();
            if !(1..=MAX_SUBJECT_CHARS).contains(&len) || subject.chars().any(char::is_control) {
                return Err(WinBackConfigError::Subject(i, locale.as_str()));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests;
