//! A shop's earning rules, as the owner edits them and as awards snapshot them.
//!
//! Every field has a default (`#[serde(default)]`), so an owner can send only what they change,
//! and `EarningRules::default()` is the program a new shop starts with (CONTRACT.md): 1 point per
//! whole unit of the subtotal after discounts, rounded down, earned once paid, pending 14 days.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::domain::event::PlatformId;

/// Highest multiplier accepted anywhere (product, collection, campaign, tier): x10.
pub const MAX_MULTIPLIER_PCT: u32 = 1000;
/// Highest `points_per_unit` accepted.
pub const MAX_POINTS_PER_UNIT: u32 = 1000;
/// Longest return window accepted, in days.
pub const MAX_PENDING_DAYS: u32 = 365;
/// Largest `unit_size` accepted ("1 point per 1,000,000 units").
pub const MAX_UNIT_SIZE: u32 = 1_000_000;
/// Most points a sign-up or a birthday may give (as much as an owner's adjustment).
pub const MAX_BONUS_POINTS: i64 = 10_000_000;
/// Most product multipliers, collection multipliers or campaigns a program may list (each is
/// checked against the others for duplicates).
pub const MAX_RULE_ENTRIES: usize = 1000;

/// How the order's exact (fractional) points become a whole number.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Rounding {
    /// Towards zero: 12.9 → 12.
    #[default]
    Down,
    /// To the nearest, halves up: 12.5 → 13.
    Nearest,
    /// Away from zero: 12.1 → 13.
    Up,
}

/// Which order event earns.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EarnOn {
    /// Once the order has been paid (refunded orders were paid first).
    #[default]
    Paid,
    /// As soon as it is placed (for shops on deferred payment terms).
    Created,
}

/// Extra (or fewer) points for one product.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProductMultiplier {
    /// The platform's product id.
    pub product_id: PlatformId,
    /// 100 = x1, 200 = double points.
    pub multiplier_pct: u32,
}

/// Extra (or fewer) points for every product in a collection.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CollectionMultiplier {
    /// The platform's collection id, compared as decimal digits with the ids the caller's
    /// product → collections lookup returns.
    pub collection_id: PlatformId,
    /// 100 = x1.
    pub multiplier_pct: u32,
}

/// A time-boxed bonus ("double points this weekend"), matched on the order's `created_at`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Campaign {
    /// Shown to shoppers and in the ledger.
    pub name: String,
    /// First instant it applies.
    pub starts_at: DateTime<Utc>,
    /// First instant it no longer applies.
    pub ends_at: DateTime<Utc>,
    /// 200 = double points.
    pub multiplier_pct: u32,
}

impl Campaign {
    /// Whether an order placed at `at` gets this bonus (`starts_at <= at < ends_at`).
    pub fn is_active_at(&self, at: DateTime<Utc>) -> bool {
        self.starts_at <= at && at < self.ends_at
    }
}

/// A shop's earning rules.
///
/// Multipliers: a line gets the **highest** of the product multipliers and collection
/// multipliers that apply to its product (they do not stack; 100% when none applies). The
/// highest active campaign and the member's tier multiply on top, for the whole order.
/// Gift-card lines never earn. Test orders never earn unless `earn_on_test_orders` is set.
///
/// Unknown fields are refused: a typo (`points_per_uint`) would otherwise be dropped silently
/// and the owner would believe it saved. Award snapshots store these rules too, so a field
/// removed one day must still be accepted when read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EarningRules {
    /// Points for every `unit_size` whole units of shop currency.
    pub points_per_unit: u32,
    /// How many whole units of currency earn `points_per_unit` (1 by default; e.g. 1000 for
    /// "1 point per 1,000 VND").
    pub unit_size: u32,
    /// How the order's fractional points are rounded.
    pub rounding: Rounding,
    /// Whether points come on payment or on creation.
    pub earn_on: EarnOn,
    /// Shipping earns too.
    pub include_shipping: bool,
    /// Tax earns too.
    pub include_tax: bool,
    /// Earn on line prices before discounts instead of the discounted subtotal.
    pub before_discounts: bool,
    /// Per-product multipliers.
    pub product_multipliers: Vec<ProductMultiplier>,
    /// Per-collection multipliers.
    pub collection_multipliers: Vec<CollectionMultiplier>,
    /// Time-boxed bonuses.
    pub campaigns: Vec<Campaign>,
    /// Points for creating an account (0 = off).
    pub signup_points: i64,
    /// Points on the birthday (0 = off).
    pub birthday_points: i64,
    /// Days points stay pending (the return window) before they can be spent.
    pub pending_days: u32,
    /// Let test orders earn (to try the program on a development store).
    pub earn_on_test_orders: bool,
}

impl Default for EarningRules {
    fn default() -> Self {
        Self {
            points_per_unit: 1,
            unit_size: 1,
            rounding: Rounding::Down,
            earn_on: EarnOn::Paid,
            include_shipping: false,
            include_tax: false,
            before_discounts: false,
            product_multipliers: Vec::new(),
            collection_multipliers: Vec::new(),
            campaigns: Vec::new(),
            signup_points: 0,
            birthday_points: 0,
            pending_days: 14,
            earn_on_test_orders: false,
        }
    }
}

/// Why a set of earning rules cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RulesError {
    /// `points_per_unit` above `MAX_POINTS_PER_UNIT`.
    #[error("points_per_unit must be at most {max}, got {got}")]
    PointsPerUnitTooHigh {
        /// The value given.
        got: u32,
        /// The limit.
        max: u32,
    },
    /// `unit_size` of zero or above `MAX_UNIT_SIZE`.
    #[error("unit_size must be between 1 and {max}, got {got}", max = MAX_UNIT_SIZE)]
    UnitSizeOutOfRange {
        /// The value given.
        got: u32,
    },
    /// A signup or birthday award below zero or above `MAX_BONUS_POINTS`.
    #[error("{field} must be between 0 and {max}, got {got}", max = MAX_BONUS_POINTS)]
    BonusPointsOutOfRange {
        /// Which field.
        field: &'static str,
        /// The value given.
        got: i64,
    },
    /// A multiplier of 0% or above `MAX_MULTIPLIER_PCT`.
    #[error("{what}: multiplier must be between 1% and {max}%, got {got}%", max = MAX_MULTIPLIER_PCT)]
    MultiplierOutOfRange {
        /// Which multiplier, e.g. `product 632910392`.
        what: String,
        /// The value given.
        got: u32,
    },
    /// Two multipliers for the same product: which one applies would be ambiguous.
    #[error("product {0} has more than one multiplier")]
    DuplicateProduct(PlatformId),
    /// Two multipliers for the same collection.
    #[error("collection {0} has more than one multiplier")]
    DuplicateCollection(PlatformId),
    /// A campaign with a blank name.
    #[error("every campaign needs a name")]
    UnnamedCampaign,
    /// A campaign whose end is not after its start.
    #[error("campaign {name:?} must end after it starts")]
    CampaignEndsBeforeStart {
        /// The campaign's name.
        name: String,
    },
    /// More entries in a list than `MAX_RULE_ENTRIES`.
    #[error("{field} may list at most {max} entries, got {got}", max = MAX_RULE_ENTRIES)]
    TooManyEntries {
        /// Which list.
        field: &'static str,
        /// How many it had.
        got: usize,
    },
    /// `pending_days` above `MAX_PENDING_DAYS`.
    #[error("pending_days must be at most {max}, got {got}")]
    PendingDaysTooLong {
        /// The value given.
        got: u32,
        /// The limit.
        max: u32,
    },
}

fn check_multiplier(what: impl FnOnce() -> String, got: u32) -> Result<(), RulesError> {
    if got == 0 || got > MAX_MULTIPLIER_PCT {
        return Err(RulesError::MultiplierOutOfRange { what: what(), got });
    }
    Ok(())
}

impl EarningRules {
    /// Checks the rules an owner submitted; the first problem found is returned.
    pub fn validate(&self) -> Result<(), RulesError> {
        if self.points_per_unit > MAX_POINTS_PER_UNIT {
            return Err(RulesError::PointsPerUnitTooHigh {
                got: self.points_per_unit,
                max: MAX_POINTS_PER_UNIT,
            });
        }
        if !(1..=MAX_UNIT_SIZE).contains(&self.unit_size) {
            return Err(RulesError::UnitSizeOutOfRange {
                got: self.unit_size,
            });
        }
        for (field, got) in [
            ("signup_points", self.signup_points),
            ("birthday_points", self.birthday_points),
        ] {
            if !(0..=MAX_BONUS_POINTS).contains(&got) {
                return Err(RulesError::BonusPointsOutOfRange { field, got });
            }
        }
        for (field, got) in [
            ("product_multipliers", self.product_multipliers.len()),
            ("collection_multipliers", self.collection_multipliers.len()),
            ("campaigns", self.campaigns.len()),
        ] {
            if got > MAX_RULE_ENTRIES {
                return Err(RulesError::TooManyEntries { field, got });
            }
        }
        if self.pending_days > MAX_PENDING_DAYS {
            return Err(RulesError::PendingDaysTooLong {
                got: self.pending_days,
                max: MAX_PENDING_DAYS,
            });
        }
        for (i, p) in self.product_multipliers.iter().enumerate() {
            check_multiplier(|| format!("product {}", p.product_id), p.multiplier_pct)?;
            let mut earlier = self.product_multipliers.iter().take(i);
            if earlier.any(|q| q.product_id == p.product_id) {
                return Err(RulesError::DuplicateProduct(p.product_id.clone()));
            }
        }
        for (i, c) in self.collection_multipliers.iter().enumerate() {
            check_multiplier(
                || format!("collection {}", c.collection_id),
                c.multiplier_pct,
            )?;
            let mut earlier = self.collection_multipliers.iter().take(i);
            if earlier.any(|d| d.collection_id == c.collection_id) {
                return Err(RulesError::DuplicateCollection(c.collection_id.clone()));
            }
        }
        for c in &self.campaigns {
            if c.name.trim().is_empty() {
                return Err(RulesError::UnnamedCampaign);
            }
            check_multiplier(|| format!("campaign {:?}", c.name), c.multiplier_pct)?;
            if c.ends_at <= c.starts_at {
                return Err(RulesError::CampaignEndsBeforeStart {
                    name: c.name.clone(),
                });
            }
        }
        Ok(())
    }

    /// The multiplier for a product: the highest applicable product or collection multiplier,
    /// or 100 when none applies (or the line has no product).
    pub fn line_multiplier_pct(
        &self,
        product_id: Option<&PlatformId>,
        collections: &[String],
    ) -> u32 {
        let Some(product_id) = product_id else {
            return 100;
        };
        let by_product = self
            .product_multipliers
            .iter()
            .filter(|p| &p.product_id == product_id)
            .map(|p| p.multiplier_pct);
        let by_collection = self
            .collection_multipliers
            .iter()
            .filter(|c| collections.iter().any(|id| id == c.collection_id.as_str()))
            .map(|c| c.multiplier_pct);
        by_product.chain(by_collection).max().unwrap_or(100)
    }

    /// The highest campaign active at `at`, if any.
    pub fn active_campaign(&self, at: DateTime<Utc>) -> Option<&Campaign> {
        self.campaigns
            .iter()
            .filter(|c| c.is_active_at(at))
            .max_by_key(|c| c.multiplier_pct)
    }
}
