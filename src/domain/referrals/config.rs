//! The owner's referral settings (`program.referrals`), validated whole on `PUT`: what the friend
//! gets (a single-use code), what the referrer gets (points, on approval), the minimum order, the
//! monthly cap and how referrals are reviewed.

use serde::{Deserialize, Serialize};

use super::life::Review;

/// Points a referrer may get for one referral at most.
pub const MAX_REFERRER_POINTS: i64 = 1_000_000;
/// The longest a friend's code may stay valid.
pub const MAX_EXPIRES_DAYS: u32 = 365;
/// The highest monthly cap an owner may set (beyond it, set none).
pub const MAX_MONTHLY_CAP: u32 = 10_000;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReferralProgram {
    #[serde(default)]
    pub enabled: bool,
    pub friend_reward: FriendReward,
    pub referrer_reward: ReferrerReward,
    /// The friend's order subtotal (minor units) below which the referral is flagged.
    #[serde(default)]
    pub min_order_minor: i64,
    /// Rewarded referrals per referrer and calendar month (the shop's time zone); more are held.
    #[serde(default)]
    pub max_rewards_per_month: Option<u32>,
    #[serde(default)]
    pub review: Review,
}

/// The friend's offer: a discount code valid `expires_days` from the claim.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "DiscountFields", into = "DiscountFields")]
pub struct FriendReward {
    pub discount: Discount,
    /// The smallest order subtotal the code applies to.
    pub min_order_minor: Option<i64>,
    pub expires_days: u32,
}

/// What a referral or affiliate code takes off.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Discount {
    FixedAmount { amount_minor: i64 },
    Percent { percent: u32 },
    FreeShipping,
}

/// The JSON of a discount: `kind` and the fields that kind takes, nothing else. (serde's
/// `flatten` cannot refuse unknown fields, so the shape is checked here by hand.)
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DiscountFields {
    kind: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    amount_minor: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    percent: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    min_order_minor: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    expires_days: Option<u32>,
}

impl DiscountFields {
    fn discount(&self) -> Result<Discount, String> {
        let only = |allowed: &[&str]| {
            let given = [
                ("amount_minor", self.amount_minor.is_some()),
                ("percent", self.percent.is_some()),
            ];
            match given
                .iter()
                .find(|(name, set)| *set && !allowed.contains(name))
            {
                Some((name, _)) => Err(format!("`{name}` does not apply to kind {:?}", self.kind)),
                None => Ok(()),
            }
        };
        match self.kind.as_str() {
            "fixed_amount" => {
                only(&["amount_minor"])?;
                let amount_minor = self
                    .amount_minor
                    .ok_or("kind fixed_amount needs `amount_minor`")?;
                Ok(Discount::FixedAmount { amount_minor })
            }
            "percent" => {
                only(&["percent"])?;
                let percent = self.percent.ok_or("kind percent needs `percent`")?;
                Ok(Discount::Percent { percent })
            }
            "free_shipping" => {
                only(&[])?;
                Ok(Discount::FreeShipping)
            }
            other => Err(format!(
                "unknown kind {other:?}: expected fixed_amount, percent or free_shipping"
            )),
        }
    }

    fn of(discount: &Discount) -> Self {
        let (kind, amount_minor, percent) = match discount {
            Discount::FixedAmount { amount_minor } => ("fixed_amount", Some(*amount_minor), None),
            Discount::Percent { percent } => ("percent", None, Some(*percent)),
            Discount::FreeShipping => ("free_shipping", None, None),
        };
        Self {
            kind: kind.into(),
            amount_minor,
            percent,
            ..Self::default()
        }
    }
}

impl TryFrom<DiscountFields> for FriendReward {
    type Error = String;
    fn try_from(fields: DiscountFields) -> Result<Self, String> {
        Ok(Self {
            discount: fields.discount()?,
            min_order_minor: fields.min_order_minor,
            expires_days: fields.expires_days.unwrap_or(DEFAULT_EXPIRES_DAYS),
        })
    }
}

impl From<FriendReward> for DiscountFields {
    fn from(reward: FriendReward) -> Self {
        Self {
            min_order_minor: reward.min_order_minor,
            expires_days: Some(reward.expires_days),
            ..Self::of(&reward.discount)
        }
    }
}

/// An affiliate's customer discount: what the public code takes off, with an optional minimum.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "DiscountFields", into = "DiscountFields")]
pub struct PublicDiscount {
    pub discount: Discount,
    pub min_order_minor: Option<i64>,
}

impl TryFrom<DiscountFields> for PublicDiscount {
    type Error = String;
    fn try_from(fields: DiscountFields) -> Result<Self, String> {
        if fields.expires_days.is_some() {
            return Err("`expires_days` does not apply to an affiliate's code".into());
        }
        Ok(Self {
            discount: fields.discount()?,
            min_order_minor: fields.min_order_minor,
        })
    }
}

impl From<PublicDiscount> for DiscountFields {
    fn from(d: PublicDiscount) -> Self {
        Self {
            min_order_minor: d.min_order_minor,
            ..Self::of(&d.discount)
        }
    }
}

impl PublicDiscount {
    pub fn validate(&self) -> Result<(), ReferralConfigError> {
        self.discount.validate("customer_discount")?;
        if self.min_order_minor.is_some_and(|m| m < 0) {
            return Err(ReferralConfigError::NegativeMinimum("customer_discount"));
        }
        Ok(())
    }
}

/// How long a friend's code stays valid when the owner does not say.
pub const DEFAULT_EXPIRES_DAYS: u32 = 30;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReferrerReward {
    pub points: i64,
}

/// What is wrong with the referral settings; each names the field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReferralConfigError {
    #[error("referrals.{0}: amount_minor must be above zero")]
    AmountNotPositive(&'static str),
    #[error("referrals.{0}: percent must be 1–100")]
    PercentOutOfRange(&'static str),
    #[error("referrals.{0}: min_order_minor must not be negative")]
    NegativeMinimum(&'static str),
    #[error("referrals.friend_reward.expires_days must be 1–{max}", max = MAX_EXPIRES_DAYS)]
    ExpiresOutOfRange,
    #[error("referrals.referrer_reward.points must be 1–{max}", max = MAX_REFERRER_POINTS)]
    PointsOutOfRange,
    #[error("referrals.max_rewards_per_month must be 1–{max} (leave it out for no cap)", max = MAX_MONTHLY_CAP)]
    CapOutOfRange,
}

impl Discount {
    /// Checks the discount; `field` names where it sits (`friend_reward`, `customer_discount`).
    pub fn validate(&self, field: &'static str) -> Result<(), ReferralConfigError> {
        match self {
            Self::FixedAmount { amount_minor } if *amount_minor <= 0 => {
                Err(ReferralConfigError::AmountNotPositive(field))
            }
            Self::Percent { percent } if !(1..=100).contains(percent) => {
                Err(ReferralConfigError::PercentOutOfRange(field))
            }
            _ => Ok(()),
        }
    }
}

impl ReferralProgram {
    pub fn validate(&self) -> Result<(), ReferralConfigError> {
        self.friend_reward.discount.validate("friend_reward")?;
        if self.friend_reward.min_order_minor.is_some_and(|m| m < 0) {
            return Err(ReferralConfigError::NegativeMinimum("friend_reward"));
        }
        if !(1..=MAX_EXPIRES_DAYS).contains(&self.friend_reward.expires_days) {
            return Err(ReferralConfigError::ExpiresOutOfRange);
        }
        if !(1..=MAX_REFERRER_POINTS).contains(&self.referrer_reward.points) {
            return Err(ReferralConfigError::PointsOutOfRange);
        }
        if self.min_order_minor < 0 {
            return Err(ReferralConfigError::NegativeMinimum("min_order_minor"));
        }
        if self
            .max_rewards_per_month
            .is_some_and(|cap| !(1..=MAX_MONTHLY_CAP).contains(&cap))
        {
            return Err(ReferralConfigError::CapOutOfRange);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(json: serde_json::Value) -> Result<ReferralProgram, String> {
        // As `Program::parse` reads it: the path of a bad value is part of the message.
        let program: ReferralProgram =
            serde_path_to_error::deserialize(json).map_err(|e| e.to_string())?;
        program.validate().map_err(|e| e.to_string())?;
        Ok(program)
    }

    fn contract_example() -> serde_json::Value {
        serde_json::json!({"enabled": true,
            "friend_reward": {"kind": "fixed_amount", "amount_minor": 1000, "min_order_minor": 3000, "expires_days": 30},
            "referrer_reward": {"points": 500},
            "min_order_minor": 3000, "max_rewards_per_month": 10, "review": "auto"})
    }

    #[test]
    fn the_contract_example_reads_and_round_trips() {
        let program = parse(contract_example()).unwrap();
        assert!(program.enabled);
        assert_eq!(
            program.friend_reward.discount,
            Discount::FixedAmount { amount_minor: 1000 }
        );
        assert_eq!(program.review, Review::Auto);
        let again: ReferralProgram =
            serde_json::from_value(serde_json::to_value(&program).unwrap()).unwrap();
        assert_eq!(again, program);
    }

    #[test]
    fn defaults_fill_what_is_left_out() {
        let program = parse(serde_json::json!({
            "friend_reward": {"kind": "percent", "percent": 15},
            "referrer_reward": {"points": 200}}))
        .unwrap();
        assert!(!program.enabled);
        assert_eq!(program.friend_reward.expires_days, 30);
        assert_eq!(program.review, Review::Auto);
        assert_eq!(program.max_rewards_per_month, None);
    }

    #[test]
    fn every_bad_setting_is_refused_by_name() {
        let cases = [
            (
                "/friend_reward/amount_minor",
                serde_json::json!(0),
                "amount_minor",
            ),
            (
                "/friend_reward/expires_days",
                serde_json::json!(0),
                "expires_days",
            ),
            (
                "/friend_reward/expires_days",
                serde_json::json!(366),
                "expires_days",
            ),
            (
                "/friend_reward/min_order_minor",
                serde_json::json!(-1),
                "min_order_minor",
            ),
            ("/referrer_reward/points", serde_json::json!(0), "points"),
            ("/min_order_minor", serde_json::json!(-5), "min_order_minor"),
            (
                "/max_rewards_per_month",
                serde_json::json!(0),
                "max_rewards_per_month",
            ),
            ("/review", serde_json::json!("sometimes"), "review"),
        ];
        for (pointer, value, named) in cases {
            let mut json = contract_example();
            *json.pointer_mut(pointer).unwrap() = value;
            let err = parse(json).unwrap_err();
            assert!(err.contains(named), "{pointer}: {err}");
        }
        let mut percent = contract_example();
        percent["friend_reward"] = serde_json::json!({"kind": "percent", "percent": 101});
        assert!(parse(percent).unwrap_err().contains("percent"));
        let mut unknown = contract_example();
        unknown["referrer_reward"]["pointz"] = serde_json::json!(1);
        assert!(parse(unknown).unwrap_err().contains("pointz"));
        let mut kind = contract_example();
        kind["friend_reward"]["kind"] = serde_json::json!("cash");
        assert!(parse(kind).is_err());
    }
}
