//! When a customer has lapsed, which win-back step is due, when the sequence ends, and the
//! random hold-out and subject variant of one lapse.
//!
//! A lapse is identified by the customer's last order date when they lapsed ("once per lapse"):
//! the service records that day with the entry, so a customer who stays lapsed never enters
//! twice, and one who orders again and lapses again enters anew.

use chrono::{Days, NaiveDate};

use super::facts::PurchaseFacts;
use super::winback::{LapseRule, SubjectVariant, WinBackStep};

/// With `"auto"`, the customer's own median gap times this is how long they may go quiet.
const AUTO_FACTOR: f64 = 2.0;
/// With `"auto"`, customers with fewer orders have no rhythm to go by and never lapse by it.
const AUTO_MIN_ORDERS: u32 = 3;

/// `Some(last order date)` — the lapse's identity — when the customer has lapsed on `today`:
/// `AfterDays(n)`: `today - last > n`; `Auto`: at least 3 orders and `today - last > 2 ×` their
/// median gap between order days. `None` when they have not (or have no counted order).
pub fn lapsed_since(facts: &PurchaseFacts, rule: LapseRule, today: NaiveDate) -> Option<NaiveDate> {
    let last = facts.last_order()?;
    let quiet = (today - last).num_days();
    let lapsed = match rule {
        LapseRule::AfterDays(days) => quiet > i64::from(days),
        LapseRule::Auto => {
            facts.order_count() >= AUTO_MIN_ORDERS
                && facts
                    .median_gap_days()
                    .is_some_and(|median| quiet as f64 > AUTO_FACTOR * median)
        }
    };
    lapsed.then_some(last)
}

/// The first day on which [`lapsed_since`] holds for the customer's current last order: the
/// day the lapse began, which dates the entry into the sequence (so a lapse noticed late, or
/// from back-dated history, keeps its own schedule). `None` when they cannot lapse by `rule`.
pub fn lapse_began(facts: &PurchaseFacts, rule: LapseRule) -> Option<NaiveDate> {
    let last = facts.last_order()?;
    let quiet_days: u64 = match rule {
        LapseRule::AfterDays(days) => u64::from(days),
        LapseRule::Auto => {
            if facts.order_count() < AUTO_MIN_ORDERS {
                return None;
            }
            // Lapsed once quiet > 2 × median: the first whole day past that limit.
            (AUTO_FACTOR * facts.median_gap_days()?).floor() as u64
        }
    };
    last.checked_add_days(Days::new(quiet_days + 1))
}

/// Whether the sequence the customer entered for the lapse `lapse` (its last order date) ends:
/// an order dated after it (a back-dated order from before does not end it), or no counted
/// order left at all (nothing to win back). Rebuild facts that `needs_rebuild` first.
pub fn ends_sequence(lapse: NaiveDate, facts: &PurchaseFacts) -> bool {
    facts.last_order().is_none_or(|last| last > lapse)
}

/// The next step of a sequence.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StepDue {
    /// Step `step` (0-based) is due since `on` (on or before today): send it.
    Due { step: usize, on: NaiveDate },
    /// Step `step` is due on `on`, after today.
    Waiting { step: usize, on: NaiveDate },
    /// Every step went out.
    Finished,
}

/// Which step of `steps` is next for a customer who entered on `entered_on` and was sent
/// `steps_sent` steps. The schedule is fixed at entry: step k is due on `entered_on` plus the
/// delays of steps 0..=k, so the service needs only the entry day and the number sent. A step
/// held back (quiet hours, the weekly cap) does not push the later ones; one step is returned
/// at a time, so overdue steps go out on successive runs, never two at once.
pub fn next_step(
    entered_on: NaiveDate,
    steps: &[WinBackStep],
    steps_sent: usize,
    today: NaiveDate,
) -> StepDue {
    if steps_sent >= steps.len() {
        return StepDue::Finished;
    }
    let delay: u64 = steps
        .iter()
        .take(steps_sent + 1)
        .map(|s| u64::from(s.delay_days))
        .sum();
    let on = entered_on
        .checked_add_days(Days::new(delay))
        .unwrap_or(NaiveDate::MAX);
    if on <= today {
        StepDue::Due {
            step: steps_sent,
            on,
        }
    } else {
        StepDue::Waiting {
            step: steps_sent,
            on,
        }
    }
}

/// What a lapse was assigned: the hold-out (no win-back mail), else a subject variant (`None`
/// when the shop tries none).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Assignment {
    pub holdout: bool,
    pub variant: Option<String>,
}

/// The assignment for a uniform random `draw` (e.g. `rand::random::<u64>()`), which the caller
/// records once per lapse. The low 32 bits decide the hold-out (`holdout_pct` in 100 of every
/// 2³² values, within one part in 40 million); the high 32 bits pick a variant, each equally
/// likely. The same draw always gives the same assignment.
pub fn assign(draw: u64, holdout_pct: u32, variants: &[SubjectVariant]) -> Assignment {
    let percentile = ((draw & 0xFFFF_FFFF) * 100) >> 32;
    if percentile < u64::from(holdout_pct) {
        return Assignment {
            holdout: true,
            variant: None,
        };
    }
    let count = u64::try_from(variants.len()).unwrap_or(u64::MAX);
    let pick = ((draw >> 32) * count) >> 32;
    let variant = usize::try_from(pick)
        .ok()
        .and_then(|i| variants.get(i))
        .map(|v| v.id.clone());
    Assignment {
        holdout: false,
        variant,
    }
}

#[cfg(test)]
mod tests;
