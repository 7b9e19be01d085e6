//! RFM segments: each customer with a counted order is in exactly one, the first that applies of
//! `lost`, `lapsed`, `new`, `at_risk`, `active`. "Older than N days" means `today - day > N`
//! everywhere; "within N days" means `today - day <= N`.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::facts::PurchaseFacts;
use super::gaps::GapHistogram;
use super::lapse::lapsed_since;
use super::winback::LapseRule;

/// A customer whose last order is older than this many days is lost.
pub const LOST_AFTER_DAYS: i64 = 365;
/// A customer whose first order is within this many days is new.
pub const NEW_WITHIN_DAYS: i64 = 30;
/// At risk: the last order is older than this many times the shop's median gap.
const AT_RISK_FACTOR: f64 = 1.5;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Segment {
    New,
    Active,
    AtRisk,
    Lapsed,
    Lost,
}

impl Segment {
    pub const ALL: [Segment; 5] = [
        Segment::New,
        Segment::Active,
        Segment::AtRisk,
        Segment::Lapsed,
        Segment::Lost,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::New => "new",
            Self::Active => "active",
            Self::AtRisk => "at_risk",
            Self::Lapsed => "lapsed",
            Self::Lost => "lost",
        }
    }

    /// The segment named `s` (the API's `?segment=`), if there is one.
    pub fn parse(s: &str) -> Option<Segment> {
        Self::ALL.into_iter().find(|seg| seg.as_str() == s)
    }
}

/// The customer's segment on `today`; `None` when no order counts (or the facts need a
/// rebuild and do not know the last order). `shop_median_gap`: the shop's median gap between
/// orders in days ([`ShopGaps::median`]); without one nobody is at risk. `lapse`: the win-back
/// rule (`LapseRule::default()` when the shop has no win-back settings).
pub fn classify(
    facts: &PurchaseFacts,
    today: NaiveDate,
    shop_median_gap: Option<f64>,
    lapse: LapseRule,
) -> Option<Segment> {
    let last = facts.last_order()?;
    let since_last = (today - last).num_days();
    if since_last > LOST_AFTER_DAYS {
        return Some(Segment::Lost);
    }
    if lapsed_since(facts, lapse, today).is_some() {
        return Some(Segment::Lapsed);
    }
    // An unknown first day (see `needs_rebuild`) belongs to a customer of 65 orders or more.
    if facts
        .first_order()
        .is_some_and(|first| (today - first).num_days() <= NEW_WITHIN_DAYS)
    {
        return Some(Segment::New);
    }
    if shop_median_gap.is_some_and(|median| since_last as f64 > AT_RISK_FACTOR * median) {
        return Some(Segment::AtRisk);
    }
    Some(Segment::Active)
}

/// The shop's median gap between orders, fed customer by customer during the daily run in fixed
/// memory: every kept gap of every customer counts once (so a frequent buyer weighs more, as
/// their orders do), gaps over ten years count as ten years.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ShopGaps {
    histogram: GapHistogram,
}

impl ShopGaps {
    pub fn new() -> Self {
        Self::default()
    }

    /// Counts the customer's gaps ([`PurchaseFacts::gaps`]).
    pub fn add_customer(&mut self, facts: &PurchaseFacts) {
        for gap in facts.gaps() {
            self.histogram.add(gap);
        }
    }

    /// Counts one gap in days (for a caller that keeps gaps elsewhere).
    pub fn add_gap(&mut self, days: u32) {
        self.histogram.add(days);
    }

    /// Adds what another run counted (e.g. one per worker).
    pub fn merge(&mut self, other: &ShopGaps) {
        self.histogram.merge(&other.histogram);
    }

    /// How many gaps were counted.
    pub fn gaps(&self) -> u64 {
        self.histogram.len()
    }

    /// The shop's median gap in days; `None` before any customer has two order days.
    pub fn median(&self) -> Option<f64> {
        self.histogram.median()
    }
}

#[cfg(test)]
mod tests {
    use chrono::Duration;

    use super::super::facts::CountedOrder;
    use super::*;

    fn day(n: i64) -> NaiveDate {
        NaiveDate::from_ymd_opt(2025, 1, 1).unwrap() + Duration::days(n)
    }

    /// A customer with orders on these days (relative to day 0).
    fn facts(days: &[i64]) -> PurchaseFacts {
        PurchaseFacts::from_orders(days.iter().zip(0u64..).map(|(d, key)| {
            (
                key,
                CountedOrder {
                    date: day(*d),
                    net_minor: 1000,
                },
            )
        }))
    }

    const NINETY: LapseRule = LapseRule::AfterDays(90);

    fn seg(days: &[i64], today: i64, median: Option<f64>) -> Option<Segment> {
        classify(&facts(days), day(today), median, NINETY)
    }

    #[test]
    fn no_counted_order_means_no_segment() {
        assert_eq!(seg(&[], 10, Some(20.0)), None);
    }

    #[test]
    fn lost_is_older_than_365_days() {
        assert_eq!(seg(&[0], 365, None), Some(Segment::Lapsed));
        assert_eq!(seg(&[0], 366, None), Some(Segment::Lost));
    }

    #[test]
    fn lapsed_is_older_than_after_days() {
        assert_eq!(seg(&[0, 10], 100, None), Some(Segment::Active));
        assert_eq!(seg(&[0, 10], 101, None), Some(Segment::Lapsed));
        let auto = classify(&facts(&[0, 10, 20]), day(41), None, LapseRule::Auto);
        assert_eq!(auto, Some(Segment::Lapsed));
        let auto = classify(&facts(&[0, 10, 20]), day(40), None, LapseRule::Auto);
        assert_eq!(auto, Some(Segment::Active));
    }

    #[test]
    fn new_is_a_first_order_within_30_days() {
        assert_eq!(seg(&[0], 30, Some(5.0)), Some(Segment::New));
        assert_eq!(seg(&[0], 31, None), Some(Segment::Active));
        assert_eq!(seg(&[0, 25], 30, Some(1.0)), Some(Segment::New));
    }

    #[test]
    fn at_risk_is_older_than_one_and_a_half_shop_median_gaps() {
        // Median 40 days: at risk once the last order is more than 60 days old.
        assert_eq!(seg(&[0], 60, Some(40.0)), Some(Segment::Active));
        assert_eq!(seg(&[0], 61, Some(40.0)), Some(Segment::AtRisk));
        // Median 45 days: the limit is 67.5, so day 67 is active and day 68 at risk.
        assert_eq!(seg(&[0], 67, Some(45.0)), Some(Segment::Active));
        assert_eq!(seg(&[0], 68, Some(45.0)), Some(Segment::AtRisk));
    }

    #[test]
    fn without_a_shop_median_nobody_is_at_risk() {
        assert_eq!(seg(&[0], 89, None), Some(Segment::Active));
    }

    #[test]
    fn the_first_segment_that_applies_wins() {
        // New (first order 10 days ago) but also older than 1.5 × a 4-day median: new wins.
        assert_eq!(seg(&[0], 10, Some(4.0)), Some(Segment::New));
        // Lapsed beats at risk.
        assert_eq!(seg(&[0], 95, Some(10.0)), Some(Segment::Lapsed));
        // A shop whose lapse rule is longer than a year: lost wins.
        let long = classify(&facts(&[0]), day(400), None, LapseRule::AfterDays(1000));
        assert_eq!(long, Some(Segment::Lost));
    }

    #[test]
    fn an_order_dated_after_today_keeps_the_customer_new() {
        assert_eq!(seg(&[5], 0, Some(1.0)), Some(Segment::New));
    }

    #[test]
    fn segment_names_are_the_contracts() {
        let names: Vec<&str> = Segment::ALL.iter().map(|s| s.as_str()).collect();
        assert_eq!(names, ["new", "active", "at_risk", "lapsed", "lost"]);
        for s in Segment::ALL {
            assert_eq!(Segment::parse(s.as_str()), Some(s));
            assert_eq!(
                serde_json::to_value(s).unwrap(),
                serde_json::json!(s.as_str())
            );
        }
        assert_eq!(Segment::parse("gone"), None);
    }

    #[test]
    fn the_shop_median_gap_counts_every_customers_gaps() {
        let mut shop = ShopGaps::new();
        assert_eq!(shop.median(), None);
        shop.add_customer(&facts(&[0]));
        assert_eq!(shop.median(), None);
        shop.add_customer(&facts(&[0, 10, 30])); // gaps 10, 20
        shop.add_customer(&facts(&[0, 100])); // gap 100
        assert_eq!(shop.gaps(), 3);
        assert_eq!(shop.median(), Some(20.0));
        let mut other = ShopGaps::new();
        other.add_gap(50);
        shop.merge(&other);
        assert_eq!(shop.median(), Some(35.0));
    }
}
