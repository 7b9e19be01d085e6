//! The shop metrics (`GET /api/admin/v1/metrics`), pure: what each counted order and each
//! customer's sequence of orders adds to the daily roll-up, and the contract's formulas over
//! the sums read back.
//!
//! # Counting customers from daily sums
//! "Customers with at least k orders in the 365 days ending d" cannot be summed per day
//! directly (a customer is one, however many orders). But for one customer with orders
//! `o_1 ≤ … ≤ o_n` (by day, ties in any fixed order), let `W_m(d)` be the number of runs of m
//! consecutive orders `o_i … o_{i+m-1}` that all lie in `[d-364, d]`. If c orders lie there,
//! `W_m(d) = max(c-m+1, 0)`, so `W_k(d) - W_{k+1}(d)` is 1 exactly when `c ≥ k`. A run is in the
//! window for `d` in `[o_{i+m-1}, o_i + 364]`: +1 on its last order's day, -1 on its first
//! order's day + 365. Summing those deltas per day over all customers, `W_m(d)` is a prefix sum,
//! and active customers (k = 1), repeaters (k = 2) and loyal ones (k = 4) are differences of
//! prefix sums: no per-customer scan when asked. An order that changes recomputes only its
//! customer's deltas (old minus new).
//!
//! Days are shop-local `NaiveDate`s; money is `i64` minor units.

use std::collections::BTreeMap;

use chrono::{Days, NaiveDate};

/// A customer is active on a day when they have an order in the this many days ending on it.
pub const ACTIVE_DAYS: u64 = 365;
/// Runs of up to this many orders are counted (k = 4 needs `W_4 - W_5`).
pub const WINDOWS: usize = 5;

/// One counted order of a customer: its day, a key that orders same-day orders, its net amount
/// and whether a member (an account, not a guest) placed it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CustomerOrder {
    pub day: NaiveDate,
    pub key: String,
    pub net_minor: i64,
    pub member: bool,
}

/// What one day adds to the shop's figures. `windows` and `clv_*` are deltas (their prefix sums
/// up to a day are the figures of that day); the rest are the day's own.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DayDelta {
    pub orders: i64,
    pub revenue_minor: i64,
    pub member_orders: i64,
    pub member_revenue_minor: i64,
    pub first_revenue_minor: i64,
    pub new_customers: i64,
    pub windows: [i64; WINDOWS],
    pub clv_customers: i64,
    pub clv_revenue_minor: i64,
    pub points_earned: i64,
    pub points_spent: i64,
}

impl DayDelta {
    /// Adds `other` times `sign` (1 or -1).
    pub fn add(&mut self, other: &DayDelta, sign: i64) {
        self.orders += sign * other.orders;
        self.revenue_minor += sign * other.revenue_minor;
        self.member_orders += sign * other.member_orders;
        self.member_revenue_minor += sign * other.member_revenue_minor;
        self.first_revenue_minor += sign * other.first_revenue_minor;
        self.new_customers += sign * other.new_customers;
        for (w, o) in self.windows.iter_mut().zip(other.windows) {
            *w += sign * o;
        }
        self.clv_customers += sign * other.clv_customers;
        self.clv_revenue_minor += sign * other.clv_revenue_minor;
        self.points_earned += sign * other.points_earned;
        self.points_spent += sign * other.points_spent;
    }

    pub fn is_zero(&self) -> bool {
        *self == Self::default()
    }
}

/// Deltas by day.
pub type DayDeltas = BTreeMap<NaiveDate, DayDelta>;

/// Adds `from` times `sign` into `into`, dropping days that net to nothing.
pub fn merge(into: &mut DayDeltas, from: &DayDeltas, sign: i64) {
    for (day, delta) in from {
        let entry = into.entry(*day).or_default();
        entry.add(delta, sign);
        if entry.is_zero() {
            into.remove(day);
        }
    }
}

fn plus_days(day: NaiveDate, days: u64) -> Option<NaiveDate> {
    day.checked_add_days(Days::new(days))
}

/// What one counted order adds on its own day (whoever placed it). An anonymous order (nobody
/// to recognise it by) is nobody's repeat: its revenue counts as a first order's.
pub fn order_delta(
    into: &mut DayDeltas,
    day: NaiveDate,
    net_minor: i64,
    (member, anonymous): (bool, bool),
    sign: i64,
) {
    let delta = DayDelta {
        orders: 1,
        revenue_minor: net_minor,
        member_orders: i64::from(member),
        member_revenue_minor: if member { net_minor } else { 0 },
        first_revenue_minor: if anonymous { net_minor } else { 0 },
        ..DayDelta::default()
    };
    merge(into, &BTreeMap::from([(day, delta)]), sign);
}

/// What one customer's orders (any order; sorted here by day, then key) add beyond each order's
/// own figures: the first order (a new customer, and revenue that is not repeat), the runs of
/// consecutive orders (see the module doc) and the lifetime value cohort (from the day a year
/// after the first order, the customer and all their revenue up to the day asked about).
pub fn customer_deltas(orders: &[CustomerOrder]) -> DayDeltas {
    let mut sorted: Vec<&CustomerOrder> = orders.iter().collect();
    sorted.sort_by(|a, b| (a.day, &a.key).cmp(&(b.day, &b.key)));
    let mut out = DayDeltas::new();
    let Some(first) = sorted.first() else {
        return out;
    };
    let mut at = |day: NaiveDate, f: &dyn Fn(&mut DayDelta)| {
        let entry = out.entry(day).or_default();
        f(entry);
    };
    at(first.day, &|d| {
        d.new_customers += 1;
        d.first_revenue_minor += first.net_minor;
    });
    for m in 1..=WINDOWS {
        for run in sorted.windows(m) {
            let (Some(head), Some(tail)) = (run.first(), run.last()) else {
                continue;
            };
            let (start, end) = (tail.day, plus_days(head.day, ACTIVE_DAYS));
            if end.is_some_and(|end| start >= end) {
                continue;
            }
            at(start, &|d| {
                if let Some(w) = d.windows.get_mut(m - 1) {
                    *w += 1;
                }
            });
            if let Some(end) = end {
                at(end, &|d| {
                    if let Some(w) = d.windows.get_mut(m - 1) {
                        *w -= 1;
                    }
                });
            }
        }
    }
    if let Some(cohort) = plus_days(first.day, ACTIVE_DAYS) {
        at(cohort, &|d| d.clv_customers += 1);
        for order in &sorted {
            let net = order.net_minor;
            at(order.day.max(cohort), &|d| d.clv_revenue_minor += net);
        }
    }
    out.retain(|_, d| !d.is_zero());
    out
}

/// A run of activity: from an order day to `ended_on`, the first day with no order in the 365
/// days ending on it. `member`: whether its last order was a member's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Spell {
    pub started_on: NaiveDate,
    pub last_order_on: NaiveDate,
    pub ended_on: NaiveDate,
    pub member: bool,
}

/// The customer's runs of activity, oldest first.
pub fn spells(orders: &[CustomerOrder]) -> Vec<Spell> {
    let mut sorted: Vec<&CustomerOrder> = orders.iter().collect();
    sorted.sort_by(|a, b| (a.day, &a.key).cmp(&(b.day, &b.key)));
    let mut out: Vec<Spell> = Vec::new();
    for order in sorted {
        let Some(ended_on) = plus_days(order.day, ACTIVE_DAYS) else {
            continue;
        };
        match out.last_mut() {
            // Still active on the day of this order: the same run goes on.
            Some(run) if order.day < run.ended_on => {
                run.last_order_on = order.day;
                run.ended_on = ended_on;
                run.member = order.member;
            }
            _ => out.push(Spell {
                started_on: order.day,
                last_order_on: order.day,
                ended_on,
                member: order.member,
            }),
        }
    }
    out
}

/// The counts and sums the report reads from the roll-up, for a period `[from, to]`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Sums {
    /// Customers active on the day before `from` (S).
    pub at_start: i64,
    /// Customers whose first order is in the period (N).
    pub new: i64,
    /// Customers active on `to` (E): also the customers with ≥1 order in the year ending `to`.
    pub at_end: i64,
    /// Active on the day before `from`, not on `to`.
    pub churned: i64,
    /// Customers with ≥2 / ≥4 orders in the 365 days ending `to`.
    pub repeat_customers: i64,
    pub loyal_customers: i64,
    /// The period's orders and net revenue: all, by members, and of customers' first orders.
    pub orders: i64,
    pub revenue_minor: i64,
    pub member_orders: i64,
    pub member_revenue_minor: i64,
    pub first_revenue_minor: i64,
    /// Customers whose first order is ≥365 days before `to`, and their net revenue up to `to`.
    pub clv_customers: i64,
    pub clv_revenue_minor: i64,
    pub points_earned: i64,
    pub points_spent: i64,
    /// Members who earned or redeemed in the period, and members (accounts) at `to`.
    pub engaged_members: i64,
    pub members_at_end: i64,
    /// Churned members and the days between the first and last order of their lapsed runs.
    pub churned_members: i64,
    pub churned_member_days: i64,
}

/// The contract's figures. `None` (JSON `null`) wherever the denominator is zero.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Figures {
    pub crr_pct: Option<f64>,
    pub churn_pct: Option<f64>,
    pub rpr_pct: Option<f64>,
    pub lcr_pct: Option<f64>,
    pub aer_pct: Option<f64>,
    pub aov_all_minor: Option<i64>,
    pub aov_members_minor: Option<i64>,
    pub aov_non_members_minor: Option<i64>,
    pub clv_minor: Option<i64>,
    pub redemption_rate_pct: Option<f64>,
    pub repeat_revenue_minor: i64,
    pub avg_days_member_before_churn: Option<f64>,
}

/// `numerator / denominator × 100`, rounded to one decimal.
pub fn pct(numerator: i64, denominator: i64) -> Option<f64> {
    ratio(numerator as f64 * 100.0, denominator)
}

fn ratio(numerator: f64, denominator: i64) -> Option<f64> {
    (denominator != 0).then(|| (numerator / denominator as f64 * 10.0).round() / 10.0)
}

/// `numerator / denominator` in minor units, rounded half away from zero.
pub fn average_minor(numerator: i64, denominator: i64) -> Option<i64> {
    (denominator != 0).then(|| {
        let (n, d) = (i128::from(numerator), i128::from(denominator));
        let rounded = (2 * n + d.signum() * n.signum() * d.abs()) / (2 * d);
        i64::try_from(rounded).unwrap_or(i64::MAX)
    })
}

impl Figures {
    pub fn of(s: &Sums) -> Self {
        let non_member_orders = s.orders - s.member_orders;
        let non_member_revenue = s.revenue_minor - s.member_revenue_minor;
        Self {
            crr_pct: pct(s.at_end - s.new, s.at_start),
            churn_pct: pct(s.churned, s.at_start),
            rpr_pct: pct(s.repeat_customers, s.at_end),
            lcr_pct: pct(s.loyal_customers, s.at_end),
            aer_pct: pct(s.engaged_members, s.members_at_end),
            aov_all_minor: average_minor(s.revenue_minor, s.orders),
            aov_members_minor: average_minor(s.member_revenue_minor, s.member_orders),
            aov_non_members_minor: average_minor(non_member_revenue, non_member_orders),
            clv_minor: average_minor(s.clv_revenue_minor, s.clv_customers),
            redemption_rate_pct: pct(s.points_spent, s.points_earned),
            repeat_revenue_minor: s.revenue_minor - s.first_revenue_minor,
            avg_days_member_before_churn: ratio(s.churned_member_days as f64, s.churned_members),
        }
    }
}

#[cfg(test)]
#[path = "metrics_tests.rs"]
mod tests;
