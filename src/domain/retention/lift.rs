//! The win-back report: what the customers who entered the sequence did against those held out,
//! and per subject variant. Built from plain records the service streams in, one per lapse.
//!
//! A customer's orders count from the day they entered the sequence (or the hold-out) to
//! [`LIFT_WINDOW_DAYS`] days after, both days included. The treated group is everyone assigned
//! to get mail, whether or not a mail went out (suppressed, capped): comparing everyone assigned
//! against everyone held out is what makes the difference the mail's effect.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use serde::Serialize;

/// Orders count up to this many days after entry.
pub const LIFT_WINDOW_DAYS: i64 = 30;

/// Which side of the experiment a lapse fell on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Group {
    Treated,
    Holdout,
}

/// One order of the customer: its date and revenue (net, minor units).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Purchase {
    pub date: NaiveDate,
    pub revenue_minor: i64,
}

/// One lapse's entry into the sequence or the hold-out, with the customer's orders (any dates:
/// those outside the window are left out here).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Participant {
    pub group: Group,
    pub entered_on: NaiveDate,
    /// The subject variant assigned (treated only).
    pub variant: Option<String>,
    /// Whether at least one win-back mail went out to them.
    pub mailed: bool,
    pub orders: Vec<Purchase>,
}

/// One group's totals: customers in it, their orders and revenue within the window.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct GroupStats {
    pub customers: u64,
    pub orders: u64,
    pub revenue_minor: i64,
    /// Customers with at least one order in the window (for the order rate; not in the JSON).
    #[serde(skip)]
    pub buyers: u64,
}

/// The difference the mail made, treated minus hold-out; both `None` (JSON `null`) while either
/// group is empty.
/// - `order_rate_pct`: the share of a group's customers with at least one order in the window,
///   in %, treated minus hold-out, in percentage points rounded to one decimal (half away from 0).
/// - `revenue_per_customer_minor`: the group's window revenue divided by its customers, treated
///   minus hold-out, rounded to a whole minor unit (half away from 0).
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct Lift {
    pub order_rate_pct: Option<f64>,
    pub revenue_per_customer_minor: Option<i64>,
}

/// One subject variant's results: customers assigned it who were mailed, their window orders
/// and revenue.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VariantStats {
    pub id: String,
    pub sent: u64,
    pub orders: u64,
    pub revenue_minor: i64,
}

/// The contract's `GET /api/admin/v1/reports/win-back` body.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WinBackReport {
    pub treated: GroupStats,
    pub holdout: GroupStats,
    pub lift: Lift,
    /// By id.
    pub variants: Vec<VariantStats>,
}

/// Builds the report one participant at a time (memory: one entry per variant).
#[derive(Debug, Clone, Default)]
pub struct WinBackReportBuilder {
    treated: GroupStats,
    holdout: GroupStats,
    variants: BTreeMap<String, VariantStats>,
}

impl WinBackReportBuilder {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn add(&mut self, participant: &Participant) {
        let in_window = participant.orders.iter().filter(|o| {
            (0..=LIFT_WINDOW_DAYS).contains(&(o.date - participant.entered_on).num_days())
        });
        let (orders, revenue) =
            in_window.fold((0u64, 0i64), |(n, sum), o| (n + 1, sum + o.revenue_minor));
        let group = match participant.group {
            Group::Treated => &mut self.treated,
            Group::Holdout => &mut self.holdout,
        };
        group.customers += 1;
        group.orders += orders;
        group.revenue_minor += revenue;
        group.buyers += u64::from(orders > 0);
        if let (Group::Treated, true, Some(id)) =
            (participant.group, participant.mailed, &participant.variant)
        {
            let stats = self
                .variants
                .entry(id.clone())
                .or_insert_with(|| VariantStats {
                    id: id.clone(),
                    sent: 0,
                    orders: 0,
                    revenue_minor: 0,
                });
            stats.sent += 1;
            stats.orders += orders;
            stats.revenue_minor += revenue;
        }
    }

    pub fn finish(self) -> WinBackReport {
        let lift = lift(&self.treated, &self.holdout);
        WinBackReport {
            treated: self.treated,
            holdout: self.holdout,
            lift,
            variants: self.variants.into_values().collect(),
        }
    }
}

/// The report over `participants` (the lapses that entered in the period asked for).
pub fn win_back_report<'a>(
    participants: impl IntoIterator<Item = &'a Participant>,
) -> WinBackReport {
    let mut builder = WinBackReportBuilder::new();
    for p in participants {
        builder.add(p);
    }
    builder.finish()
}

fn lift(treated: &GroupStats, holdout: &GroupStats) -> Lift {
    if treated.customers == 0 || holdout.customers == 0 {
        return Lift::default();
    }
    // Exact rational arithmetic, then one rounding: a/b − c/d = (a·d − c·b) / (b·d).
    let (nt, nh) = (i128::from(treated.customers), i128::from(holdout.customers));
    let denominator = nt * nh;
    let rate = (i128::from(treated.buyers) * nh - i128::from(holdout.buyers) * nt) * 1000;
    let tenths = round_div(rate, denominator);
    let revenue = i128::from(treated.revenue_minor) * nh - i128::from(holdout.revenue_minor) * nt;
    Lift {
        order_rate_pct: i32::try_from(tenths).ok().map(|t| f64::from(t) / 10.0),
        revenue_per_customer_minor: i64::try_from(round_div(revenue, denominator)).ok(),
    }
}

/// `n / d` rounded half away from zero (`d > 0`).
pub(super) fn round_div(n: i128, d: i128) -> i128 {
    let half = d / 2;
    let adjusted = if n >= 0 { n + half } else { n - half };
    // For odd `d`, `d / 2` is below the half, and no exact half exists, so this is exact.
    adjusted / d
}

#[cfg(test)]
mod tests;
