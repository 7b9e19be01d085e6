//! What makes a reward, and a catalog, acceptable: checked when the owner saves the program, so
//! a redemption never meets a reward it cannot price or give.

use super::{Reward, RewardKind, MAX_AMOUNT_MINOR, MAX_CATALOG_LEN, MAX_REWARD_POINTS};

/// What is wrong with a catalog.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CatalogError {
    #[error("a catalog may list at most {max} rewards, got {0}", max = MAX_CATALOG_LEN)]
    TooMany(usize),
    #[error("reward id {0:?} must be 1–40 letters, digits, - or _")]
    BadId(String),
    #[error("reward id {0:?} appears twice")]
    DuplicateId(String),
    #[error("reward {0:?}: {1}")]
    Invalid(String, RewardFault),
    /// A v2 coupon of BigCommerce's takes its discount off every unit of the products it
    /// names, so one free unit cannot be given: refused when the program is saved rather than
    /// when a member redeems.
    #[error("reward {0:?}: a BigCommerce shop cannot give a free product (a BigCommerce coupon discounts every unit of the product in the cart, not one); offer an amount or a percentage off instead")]
    FreeProductOnBigCommerce(String),
}

/// What is wrong with one reward of a catalog; each names its field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum RewardFault {
    #[error("title (and each of titles) must be 1–100 characters")]
    Title,
    #[error("points_cost must be between 1 and 10,000,000")]
    PointsCost,
    #[error("min_order_minor must be between 0 and 1,000,000,000,000")]
    MinOrder,
    #[error("expires_days must be between 1 and 3650")]
    ExpiresDays,
    #[error("amount_minor must be between 1 and 1,000,000,000,000")]
    Amount,
    #[error("percent must be 1–100")]
    Percent,
    #[error("max_shipping_minor must be between 1 and 1,000,000,000,000")]
    MaxShipping,
    #[error("variant_id must be the variant's numeric id")]
    VariantId,
    #[error(
        "variable rewards need points_per_unit > 0 and points_per_unit <= min_points <= max_points"
    )]
    VariableBounds,
    #[error("max_points must be at most 10,000,000")]
    MaxPoints,
    #[error("charity must be 1–100 characters")]
    Charity,
    #[error("description must be 1–300 characters")]
    Description,
}

impl RewardFault {
    /// The reward's field this is about (`points_cost`).
    pub fn field(self) -> &'static str {
        match self {
            Self::Title => "title",
            Self::PointsCost => "points_cost",
            Self::MinOrder => "min_order_minor",
            Self::ExpiresDays => "expires_days",
            Self::Amount => "amount_minor",
            Self::Percent => "percent",
            Self::MaxShipping => "max_shipping_minor",
            Self::VariantId => "variant_id",
            Self::VariableBounds => "min_points",
            Self::MaxPoints => "max_points",
            Self::Charity => "charity",
            Self::Description => "description",
        }
    }
}

/// Longest charity name a donation reward may carry (characters).
pub const MAX_CHARITY_CHARS: usize = 100;
/// Longest description of a custom reward (characters): what the owner promises to do.
pub const MAX_DESCRIPTION_CHARS: usize = 300;

/// Whether `text` has something besides spaces and at most `max` characters.
fn text_fits(text: &str, max: usize) -> bool {
    !text.trim().is_empty() && text.chars().count() <= max
}

impl Reward {
    pub fn validate(&self) -> Result<(), CatalogError> {
        let bad = |why| Err(CatalogError::Invalid(self.id.clone(), why));
        let id_ok = (1..=40).contains(&self.id.len())
            && self
                .id
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
        if !id_ok {
            return Err(CatalogError::BadId(self.id.clone()));
        }
        let title_ok = |t: &str| text_fits(t, 100);
        if !title_ok(&self.title) || !self.titles.values().all(|t| title_ok(t)) {
            return bad(RewardFault::Title);
        }
        if !(1..=MAX_REWARD_POINTS).contains(&self.points_cost) {
            return bad(RewardFault::PointsCost);
        }
        if self
            .min_order_minor
            .is_some_and(|m| !(0..=MAX_AMOUNT_MINOR).contains(&m))
        {
            return bad(RewardFault::MinOrder);
        }
        if !(1..=3650).contains(&self.expires_days) {
            return bad(RewardFault::ExpiresDays);
        }
        let money = 1..=MAX_AMOUNT_MINOR;
        let points = 1..=MAX_REWARD_POINTS;
        match &self.kind {
            RewardKind::FixedAmount { amount_minor } if !money.contains(amount_minor) => {
                bad(RewardFault::Amount)
            }
            RewardKind::Percent { percent } if !(1..=100).contains(percent) => {
                bad(RewardFault::Percent)
            }
            RewardKind::FreeShipping {
                max_shipping_minor: Some(m),
            } if !money.contains(m) => bad(RewardFault::MaxShipping),
            RewardKind::FreeProduct { variant_id }
                if variant_id.is_empty() || !variant_id.bytes().all(|b| b.is_ascii_digit()) =>
            {
                bad(RewardFault::VariantId)
            }
            RewardKind::Variable {
                points_per_unit,
                min_points,
                max_points,
            } if *points_per_unit <= 0
                || *min_points < *points_per_unit
                || max_points < min_points =>
            {
                bad(RewardFault::VariableBounds)
            }
            RewardKind::Variable { max_points, .. } if !points.contains(max_points) => {
                bad(RewardFault::MaxPoints)
            }
            RewardKind::Donation { charity, .. } if !text_fits(charity, MAX_CHARITY_CHARS) => {
                bad(RewardFault::Charity)
            }
            RewardKind::Donation { amount_minor, .. } if !money.contains(amount_minor) => {
                bad(RewardFault::Amount)
            }
            RewardKind::Custom { description }
                if !text_fits(description, MAX_DESCRIPTION_CHARS) =>
            {
                bad(RewardFault::Description)
            }
            _ => Ok(()),
        }
    }
}

/// Checks every reward and that ids are unique.
pub fn validate_catalog(rewards: &[Reward]) -> Result<(), CatalogError> {
    if rewards.len() > MAX_CATALOG_LEN {
        return Err(CatalogError::TooMany(rewards.len()));
    }
    let mut seen = std::collections::HashSet::new();
    for r in rewards {
        r.validate()?;
        if !seen.insert(r.id.as_str()) {
            return Err(CatalogError::DuplicateId(r.id.clone()));
        }
    }
    Ok(())
}

/// Checks what a BigCommerce shop's catalog cannot hold on top of [`validate_catalog`]: no free
/// product (see [`CatalogError::FreeProductOnBigCommerce`]).
pub fn validate_bigcommerce_catalog(rewards: &[Reward]) -> Result<(), CatalogError> {
    match rewards
        .iter()
        .find(|r| matches!(r.kind, RewardKind::FreeProduct { .. }))
    {
        Some(free) => Err(CatalogError::FreeProductOnBigCommerce(free.id.clone())),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::rewards::default_catalog;

    #[test]
    fn catalogs_with_mistakes_are_refused() {
        let mut c = default_catalog(100);
        c[1].id = c[0].id.clone();
        assert!(matches!(
            validate_catalog(&c),
            Err(CatalogError::DuplicateId(_))
        ));
        let mut r = default_catalog(100)[0].clone();
        r.points_cost = 0;
        assert!(r.validate().is_err());
        r.points_cost = 10;
        r.id = "has space".into();
        assert!(r.validate().is_err());
        r.id = "ok".into();
        r.kind = RewardKind::Percent { percent: 101 };
        assert!(r.validate().is_err());
        r.kind = RewardKind::Variable {
            points_per_unit: 100,
            min_points: 50,
            max_points: 1000,
        };
        assert!(r.validate().is_err());
        r.kind = RewardKind::FreeProduct {
            variant_id: "gid://x".into(),
        };
        assert!(r.validate().is_err());
    }

    #[test]
    fn reward_figures_past_their_caps_are_refused() {
        let mut r = default_catalog(100)[0].clone();
        let variable = |max_points| RewardKind::Variable {
            points_per_unit: 1,
            min_points: 1,
            max_points,
        };
        for kind in [
            variable(i64::MAX),
            variable(MAX_REWARD_POINTS + 1),
            RewardKind::FixedAmount {
                amount_minor: MAX_AMOUNT_MINOR + 1,
            },
            RewardKind::FreeShipping {
                max_shipping_minor: Some(i64::MAX),
            },
        ] {
            r.kind = kind;
            assert!(r.validate().is_err(), "{:?}", r.kind);
        }
        r.kind = variable(MAX_REWARD_POINTS);
        assert!(r.validate().is_ok());
        r.min_order_minor = Some(i64::MAX);
        assert!(r.validate().is_err());
        assert!(matches!(
            validate_catalog(&vec![default_catalog(100)[0].clone(); MAX_CATALOG_LEN + 1]),
            Err(CatalogError::TooMany(_))
        ));
    }

    #[test]
    fn donations_need_a_named_charity_and_an_amount_within_the_cap() {
        let mut r = default_catalog(100)[0].clone();
        let donation = |charity: &str, amount_minor| RewardKind::Donation {
            charity: charity.into(),
            amount_minor,
        };
        for (kind, field) in [
            (donation("", 500), "charity"),
            (donation("   ", 500), "charity"),
            (donation(&"x".repeat(101), 500), "charity"),
            (donation("Red Crescent", 0), "amount_minor"),
            (donation("Red Crescent", -5), "amount_minor"),
            (
                donation("Red Crescent", MAX_AMOUNT_MINOR + 1),
                "amount_minor",
            ),
        ] {
            r.kind = kind;
            let err = r.validate().unwrap_err().to_string();
            assert!(err.contains(field), "{:?}: {err}", r.kind);
        }
        for kind in [
            donation("Red Crescent", 1),
            donation(&"ع".repeat(100), MAX_AMOUNT_MINOR),
        ] {
            r.kind = kind;
            assert!(r.validate().is_ok(), "{:?}", r.kind);
        }
    }

    #[test]
    fn custom_rewards_need_a_description_of_at_most_300_characters() {
        let mut r = default_catalog(100)[0].clone();
        for bad in [String::new(), " \n".into(), "x".repeat(301)] {
            r.kind = RewardKind::Custom { description: bad };
            assert!(
                r.validate()
                    .unwrap_err()
                    .to_string()
                    .contains("description"),
                "{:?}",
                r.kind
            );
        }
        for good in ["A signed poster".to_owned(), "ب".repeat(300)] {
            r.kind = RewardKind::Custom { description: good };
            assert!(r.validate().is_ok(), "{:?}", r.kind);
        }
    }

    #[test]
    fn a_bigcommerce_catalog_names_its_free_product_reward() {
        let catalog = default_catalog(100);
        assert!(validate_bigcommerce_catalog(&catalog).is_ok());
        let mut free = catalog[0].clone();
        free.id = "free-mug".into();
        free.kind = RewardKind::FreeProduct {
            variant_id: "4001".into(),
        };
        let with_free = [catalog, vec![free]].concat();
        assert!(validate_catalog(&with_free).is_ok());
        let err = validate_bigcommerce_catalog(&with_free).unwrap_err();
        assert_eq!(
            err,
            CatalogError::FreeProductOnBigCommerce("free-mug".into())
        );
        assert!(err.to_string().contains("\"free-mug\""), "{err}");
    }
}
