//! The rewards catalog: what points buy. Pure: validation, the default catalog, the price of a
//! redemption, and discount codes that are readable and unguessable.

use serde::{Deserialize, Serialize};

use std::collections::BTreeMap;

use crate::domain::money::Money;
use crate::domain::widget::Locale;

mod fields;
mod validate;
pub use fields::strict_catalog;
pub use validate::{validate_bigcommerce_catalog, validate_catalog, CatalogError, RewardFault};

/// Highest price of a reward in points, and the widest range of a variable reward.
pub const MAX_REWARD_POINTS: i64 = 10_000_000;
/// Highest amount of money (minor units) anywhere in a reward: a trillion minor units is more
/// than any order in any currency, and small enough that a discount never overflows.
pub const MAX_AMOUNT_MINOR: i64 = 1_000_000_000_000;

/// Most rewards a catalog may list.
pub const MAX_CATALOG_LEN: usize = 100;

/// What a reward gives: the figures that make the discount, or (donation, custom) what the
/// owner does by hand once it is redeemed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum RewardKind {
    /// A fixed amount off the order, in minor units of the shop's currency.
    FixedAmount { amount_minor: i64 },
    /// A percentage off the order (1–100).
    Percent { percent: u32 },
    /// Free shipping, optionally only up to a shipping price (minor units).
    FreeShipping {
        #[serde(default)]
        max_shipping_minor: Option<i64>,
    },
    /// One unit of a product variant free.
    FreeProduct { variant_id: String },
    /// The shopper chooses how many points to spend: `points_per_unit` points buy one whole
    /// unit of currency off, between `min_points` and `max_points`.
    Variable {
        points_per_unit: i64,
        min_points: i64,
        max_points: i64,
    },
    /// The shop gives `amount_minor` to `charity` on the member's behalf; no code.
    Donation { charity: String, amount_minor: i64 },
    /// Anything else the owner offers (a signed poster, a studio visit), described in words; no
    /// code: the owner gets in touch.
    Custom { description: String },
}

impl RewardKind {
    pub fn name(&self) -> &'static str {
        match self {
            Self::FixedAmount { .. } => "fixed_amount",
            Self::Percent { .. } => "percent",
            Self::FreeShipping { .. } => "free_shipping",
            Self::FreeProduct { .. } => "free_product",
            Self::Variable { .. } => "variable",
            Self::Donation { .. } => "donation",
            Self::Custom { .. } => "custom",
        }
    }

    /// Whether redeeming it opens a fulfilment for the owner instead of asking the platform for
    /// a discount code.
    pub fn fulfilled_by_owner(&self) -> bool {
        matches!(self, Self::Donation { .. } | Self::Custom { .. })
    }
}

fn yes() -> bool {
    true
}

fn thirty() -> u32 {
    30
}

/// One entry of the catalog.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reward {
    /// Stable id the widget sends back (letters, digits, `-`, `_`).
    pub id: String,
    pub title: String,
    /// The title in other languages the widget speaks, e.g. `{"ar": "…"}`; `title` otherwise.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub titles: BTreeMap<Locale, String>,
    #[serde(flatten)]
    pub kind: RewardKind,
    /// The price in points (for `variable`, the minimum step; the shopper picks the amount).
    pub points_cost: i64,
    /// Smallest order subtotal the code works on (minor units).
    #[serde(default)]
    pub min_order_minor: Option<i64>,
    /// Days the code stays valid.
    #[serde(default = "thirty")]
    pub expires_days: u32,
    /// Only members of this tier (and higher) may redeem.
    #[serde(default)]
    pub tier: Option<String>,
    #[serde(default = "yes")]
    pub active: bool,
}

impl Reward {
    /// The points a redemption costs: the catalog price, or for `variable` the amount asked,
    /// rounded down to whole units and checked against the bounds.
    pub fn price(&self, asked: Option<i64>) -> Result<i64, &'static str> {
        match &self.kind {
            RewardKind::Variable {
                points_per_unit,
                min_points,
                max_points,
            } => {
                let asked = asked.ok_or("this reward needs the number of points to spend")?;
                let outside = "the points asked are outside this reward's range";
                // The lower bound first: rounding `i64::MIN` down to whole units overflowed.
                if asked < *min_points || *points_per_unit <= 0 {
                    return Err(outside);
                }
                let whole = asked
                    .checked_sub(asked.rem_euclid(*points_per_unit))
                    .ok_or(outside)?;
                if whole < *min_points || whole > *max_points {
                    return Err(outside);
                }
                Ok(whole)
            }
            _ => Ok(self.points_cost),
        }
    }

    /// What the reward is worth in points when given rather than bought (a tier's entry
    /// reward): its price, or for `variable` the least it can be redeemed for.
    pub fn granted_points(&self) -> i64 {
        match &self.kind {
            RewardKind::Variable { min_points, .. } => *min_points,
            _ => self.points_cost,
        }
    }

    /// The money off for a redemption of `points` (fixed and variable rewards); `None` for other
    /// kinds, and when the figures give no positive amount that fits in `i64` (a platform must
    /// never be sent a discount of zero or less: `i64::MAX` points once wrapped to `-1.00`).
    pub fn amount_off(&self, points: i64, minor_per_unit: i64) -> Option<Money> {
        let minor = match &self.kind {
            RewardKind::FixedAmount { amount_minor } => *amount_minor,
            RewardKind::Variable {
                points_per_unit, ..
            } => points
                .checked_div(*points_per_unit)?
                .checked_mul(minor_per_unit)?,
            _ => return None,
        };
        (minor > 0).then_some(Money::new(minor))
    }
}

/// The catalog a new shop starts with (CONTRACT.md), in its currency's minor units.
pub fn default_catalog(minor_per_unit: i64) -> Vec<Reward> {
    let fixed = |id: &str, title: &str, ar: &str, units: i64, cost: i64| Reward {
        id: id.into(),
        title: title.into(),
        titles: [(Locale::Ar, ar.to_owned())].into(),
        kind: RewardKind::FixedAmount {
            amount_minor: units * minor_per_unit,
        },
        points_cost: cost,
        min_order_minor: None,
        expires_days: 30,
        tier: None,
        active: true,
    };
    vec![
        fixed("5-off", "5 off your order", "خصم 5 على طلبك", 5, 500),
        fixed("10-off", "10 off your order", "خصم 10 على طلبك", 10, 1000),
        Reward {
            id: "free-shipping".into(),
            title: "Free shipping".into(),
            titles: [(Locale::Ar, "شحن مجاني".to_owned())].into(),
            kind: RewardKind::FreeShipping {
                max_shipping_minor: None,
            },
            points_cost: 800,
            min_order_minor: None,
            expires_days: 30,
            tier: None,
            active: true,
        },
    ]
}

/// Letters and digits that cannot be misread for each other (no 0/O, 1/I/L).
/// The characters of every code the app makes: no 0/O, 1/I/L look-alikes.
pub const CODE_ALPHABET: &[u8] = b"ABCDEFGHJKMNPQRSTUVWXYZ23456789";

/// A discount code: the shop's prefix, a dash, and 10 characters drawn uniformly from
/// `CODE_ALPHABET` (≈49 bits; pass a CSPRNG), in two readable groups: `GLOW-7KQ2M-X9PTA`.
pub fn discount_code(prefix: &str, rng: &mut impl rand::Rng) -> String {
    use rand::seq::SliceRandom;
    let mut pick = || CODE_ALPHABET.choose(rng).map_or('X', |c| char::from(*c));
    let a: String = (0..5).map(|_| pick()).collect();
    let b: String = (0..5).map(|_| pick()).collect();
    format!("{prefix}-{a}-{b}")
}

/// A code prefix from a shop domain: its first letters, upper case (`glow-recipe.myshopify.com`
/// → `GLOW`), or `RWD` when it has none.
pub fn code_prefix(domain: &str) -> String {
    let p: String = domain
        .chars()
        .take_while(|c| *c != '.')
        .filter(char::is_ascii_alphanumeric)
        .take(4)
        .collect::<String>()
        .to_ascii_uppercase();
    if p.is_empty() {
        "RWD".into()
    } else {
        p
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_catalog_matches_the_contract_and_validates() {
        let c = default_catalog(100);
        assert_eq!(c.len(), 3);
        assert_eq!(
            (c[0].points_cost, &c[0].kind),
            (500, &RewardKind::FixedAmount { amount_minor: 500 })
        );
        assert_eq!(
            (c[1].points_cost, &c[1].kind),
            (1000, &RewardKind::FixedAmount { amount_minor: 1000 })
        );
        assert_eq!(c[2].points_cost, 800);
        assert!(validate_catalog(&c).is_ok());
        // Zero-decimal currencies keep "5 off" as 5 units.
        assert_eq!(
            default_catalog(1)[0].kind,
            RewardKind::FixedAmount { amount_minor: 5 }
        );
    }

    #[test]
    fn variable_rewards_price_whole_units_within_bounds() {
        let mut r = default_catalog(100)[0].clone();
        r.kind = RewardKind::Variable {
            points_per_unit: 100,
            min_points: 100,
            max_points: 2000,
        };
        assert_eq!(r.price(Some(450)), Ok(400));
        assert!(r.price(Some(99)).is_err());
        assert!(r.price(Some(2500)).is_err());
        assert!(r.price(None).is_err());
        assert_eq!(r.price(Some(2050)), Ok(2000), "rounded down into range");
        for absurd in [i64::MIN, i64::MIN + 1, -1, 0, i64::MAX] {
            assert!(r.price(Some(absurd)).is_err(), "{absurd}");
        }
        assert_eq!(r.amount_off(400, 100), Some(Money::new(400)));
        assert_eq!(
            r.amount_off(99, 100),
            None,
            "less than a unit is no discount"
        );
        assert_eq!(
            default_catalog(100)[0].price(Some(1)),
            Ok(500),
            "fixed rewards ignore the amount"
        );
    }

    #[test]
    fn a_variable_reward_never_gives_a_discount_of_zero_or_less() {
        let mut r = default_catalog(100)[0].clone();
        // What a catalog saved before the caps may still hold.
        r.kind = RewardKind::Variable {
            points_per_unit: 1,
            min_points: 1,
            max_points: i64::MAX,
        };
        assert_eq!(r.amount_off(i64::MAX, 100), None, "overflow is no discount");
        assert_eq!(r.amount_off(0, 100), None);
        assert_eq!(r.amount_off(7, 100), Some(Money::new(700)));
        assert!(r.price(Some(i64::MIN)).is_err());
        r.kind = RewardKind::FixedAmount { amount_minor: -100 };
        assert_eq!(r.amount_off(500, 100), None);
    }

    #[test]
    fn a_granted_reward_is_worth_its_price_or_the_least_variable_amount() {
        let mut r = default_catalog(100)[0].clone();
        assert_eq!(r.granted_points(), 500);
        r.kind = RewardKind::Variable {
            points_per_unit: 100,
            min_points: 300,
            max_points: 1000,
        };
        assert_eq!(r.granted_points(), 300);
        assert_eq!(r.amount_off(r.granted_points(), 100), Some(Money::new(300)));
    }

    #[test]
    fn donations_and_custom_rewards_are_fulfilled_by_the_owner_at_their_catalog_price() {
        let mut r = default_catalog(100)[0].clone();
        assert!(!r.kind.fulfilled_by_owner());
        for (kind, name) in [
            (
                RewardKind::Donation {
                    charity: "Red Crescent".into(),
                    amount_minor: 500,
                },
                "donation",
            ),
            (
                RewardKind::Custom {
                    description: "A signed poster".into(),
                },
                "custom",
            ),
        ] {
            r.kind = kind;
            assert!(r.kind.fulfilled_by_owner());
            assert_eq!(r.kind.name(), name);
            assert_eq!(
                r.price(Some(1)),
                Ok(r.points_cost),
                "the amount asked is ignored"
            );
            assert_eq!(r.amount_off(r.points_cost, 100), None, "no discount");
        }
    }

    #[test]
    fn codes_are_readable_and_prefixed() {
        let mut rng = rand::thread_rng();
        let codes: std::collections::HashSet<String> =
            (0..1000).map(|_| discount_code("GLOW", &mut rng)).collect();
        assert_eq!(codes.len(), 1000, "no repeats in a thousand draws");
        for code in &codes {
            let body = code.strip_prefix("GLOW-").unwrap();
            assert_eq!(body.len(), 11);
            assert_eq!(body.as_bytes()[5], b'-');
            assert!(!body.contains(['0', 'O', '1', 'I', 'L']), "{code}");
        }
        assert_eq!(code_prefix("glow-recipe.myshopify.com"), "GLOW");
        assert_eq!(code_prefix("a.myshopify.com"), "A");
        assert_eq!(code_prefix(".x"), "RWD");
    }
}
