//! Replenishment: each product's usual repurchase interval from the shop's own history, and the
//! one reminder a customer who bought it once gets `lead_days` before that interval has passed.

use chrono::{Days, NaiveDate};
use serde::{Deserialize, Serialize};

use super::gaps::GapHistogram;

/// A product has a usual interval only when at least this many customers bought it on at least
/// two different days each.
pub const MIN_REPEAT_CUSTOMERS: u64 = 5;
pub const MAX_LEAD_DAYS: u32 = 90;
const DEFAULT_LEAD_DAYS: u32 = 3;

/// The owner's settings (`program.replenishment`): `{"enabled": true, "lead_days": 3}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReplenishmentProgram {
    #[serde(default)]
    pub enabled: bool,
    #[serde(default = "default_lead_days")]
    pub lead_days: u32,
}

fn default_lead_days() -> u32 {
    DEFAULT_LEAD_DAYS
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReplenishmentConfigError {
    #[error("replenishment.lead_days must be 0–{MAX_LEAD_DAYS}")]
    LeadDays,
}

impl ReplenishmentProgram {
    pub fn validate(&self) -> Result<(), ReplenishmentConfigError> {
        if self.lead_days > MAX_LEAD_DAYS {
            return Err(ReplenishmentConfigError::LeadDays);
        }
        Ok(())
    }
}

/// One product's repurchase gaps, fed purchase by purchase in fixed memory: the purchases must
/// come grouped by customer (`ORDER BY customer, date`; within a customer any order). Several
/// purchases on one day are one purchase. Only the current customer's days are held.
#[derive(Debug, Clone)]
pub struct RepurchaseIntervals<K> {
    customer: Option<K>,
    days: Vec<NaiveDate>,
    gaps: GapHistogram,
    repeat_customers: u64,
}

impl<K: PartialEq> Default for RepurchaseIntervals<K> {
    fn default() -> Self {
        Self {
            customer: None,
            days: Vec::new(),
            gaps: GapHistogram::new(),
            repeat_customers: 0,
        }
    }
}

impl<K: PartialEq> RepurchaseIntervals<K> {
    pub fn new() -> Self {
        Self::default()
    }

    /// One purchase of the product by `customer` on `date`.
    pub fn push(&mut self, customer: K, date: NaiveDate) {
        if self.customer.as_ref() != Some(&customer) {
            self.close_customer();
            self.customer = Some(customer);
        }
        self.days.push(date);
    }

    fn close_customer(&mut self) {
        self.days.sort_unstable();
        self.days.dedup();
        if self.days.len() >= 2 {
            self.repeat_customers += 1;
            for pair in self.days.windows(2) {
                if let [a, b] = pair {
                    self.gaps
                        .add(u32::try_from((*b - *a).num_days()).unwrap_or(u32::MAX));
                }
            }
        }
        self.days.clear();
    }

    /// The usual interval in whole days (the median of every repeat customer's gaps, rounded
    /// half up), or `None` when fewer than [`MIN_REPEAT_CUSTOMERS`] bought it on two days.
    pub fn finish(mut self) -> Option<u32> {
        self.close_customer();
        if self.repeat_customers < MIN_REPEAT_CUSTOMERS {
            return None;
        }
        // Gaps are whole days, so the median is whole or ends in .5.
        let median = self.gaps.median()?;
        let whole = median.floor();
        let round_up = median > whole;
        let days = whole as u32;
        Some(if round_up { days + 1 } else { days })
    }
}

/// The usual interval of one product from its purchases `(customer, date)`, grouped by customer
/// (see [`RepurchaseIntervals`]).
pub fn usual_interval<K: PartialEq>(
    purchases: impl IntoIterator<Item = (K, NaiveDate)>,
) -> Option<u32> {
    let mut intervals = RepurchaseIntervals::new();
    for (customer, date) in purchases {
        intervals.push(customer, date);
    }
    intervals.finish()
}

/// The day a customer gets the product's reminder: `last_bought + interval - lead_days`, only for
/// a customer who bought it once (`bought_times` counts their purchase days of it). `None` when
/// they bought it again, never, or when the lead is as long as the interval itself.
pub fn reminder_due(
    last_bought: NaiveDate,
    bought_times: u32,
    interval_days: u32,
    lead_days: u32,
) -> Option<NaiveDate> {
    if bought_times != 1 || lead_days >= interval_days {
        return None;
    }
    last_bought.checked_add_days(Days::new(u64::from(interval_days - lead_days)))
}

#[cfg(test)]
mod tests {
    use chrono::Duration;

    use super::*;

    fn day(n: i64) -> NaiveDate {
        NaiveDate::from_ymd_opt(2025, 1, 1).unwrap() + Duration::days(n)
    }

    fn purchases(by_customer: &[&[i64]]) -> Vec<(usize, NaiveDate)> {
        by_customer
            .iter()
            .enumerate()
            .flat_map(|(c, days)| days.iter().map(move |d| (c, day(*d))))
            .collect()
    }

    #[test]
    fn five_repeat_customers_give_the_median_gap() {
        // Gaps: 30; 28; 32, 31; 29; 60 → sorted 28 29 30 31 32 60 → median (30+31)/2 = 30.5 → 31.
        let p = purchases(&[&[0, 30], &[5, 33], &[0, 32, 63], &[10, 39], &[0, 60], &[7]]);
        assert_eq!(usual_interval(p), Some(31));
    }

    #[test]
    fn four_repeat_customers_are_not_enough() {
        let p = purchases(&[&[0, 30], &[5, 33], &[0, 32], &[10, 39], &[4], &[9], &[1]]);
        assert_eq!(usual_interval(p), None);
    }

    #[test]
    fn two_purchases_on_one_day_are_one() {
        let mut p = purchases(&[&[0, 30], &[5, 33], &[0, 32], &[10, 39]]);
        p.extend([(9, day(3)), (9, day(3))]);
        assert_eq!(usual_interval(p.clone()), None);
        p.push((9, day(23)));
        // Gaps 30, 28, 32, 29, 20 → median 29.
        assert_eq!(usual_interval(p), Some(29));
    }

    #[test]
    fn a_customers_dates_may_come_in_any_order() {
        let p = purchases(&[&[30, 0], &[33, 5], &[63, 0, 32], &[39, 10], &[60, 0]]);
        assert_eq!(usual_interval(p), Some(31));
    }

    #[test]
    fn the_reminder_is_lead_days_before_the_interval_for_a_single_purchase() {
        assert_eq!(reminder_due(day(0), 1, 30, 3), Some(day(27)));
        assert_eq!(reminder_due(day(0), 1, 30, 0), Some(day(30)));
        assert_eq!(reminder_due(day(0), 1, 30, 29), Some(day(1)));
        assert_eq!(reminder_due(day(0), 1, 30, 30), None);
        assert_eq!(reminder_due(day(0), 2, 30, 3), None, "bought again");
        assert_eq!(reminder_due(day(0), 0, 30, 3), None);
    }

    #[test]
    fn settings_read_with_defaults_and_refuse_bad_values() {
        let p: ReplenishmentProgram =
            serde_json::from_value(serde_json::json!({"enabled": true, "lead_days": 3})).unwrap();
        assert!(p.enabled);
        assert_eq!(p.validate(), Ok(()));
        let d: ReplenishmentProgram = serde_json::from_value(serde_json::json!({})).unwrap();
        assert_eq!(d.lead_days, DEFAULT_LEAD_DAYS);
        assert!(!d.enabled);
        let far: ReplenishmentProgram =
            serde_json::from_value(serde_json::json!({"lead_days": 91})).unwrap();
        assert!(far
            .validate()
            .unwrap_err()
            .to_string()
            .contains("lead_days"));
        let unknown =
            serde_json::from_value::<ReplenishmentProgram>(serde_json::json!({"lead": 3}));
        assert!(unknown.unwrap_err().to_string().contains("lead"));
        let negative =
            serde_json::from_value::<ReplenishmentProgram>(serde_json::json!({"lead_days": -1}));
        assert!(negative.is_err());
    }
}
