//! Earning rules and the arithmetic of awards and reversals.
//!
//! Why snapshots: an award stores the rules, the tier multiplier and the per-line split it was
//! computed with (`AwardSnapshot`). A refund months later takes back exactly the share that
//! money earned, even if the owner has changed or deleted the rule since; recomputing with
//! today's rules (as incumbents do) takes back too much or too little.
//!
//! Why cumulative reversals: each refund computes the points owed back for *everything refunded
//! so far* and subtracts what was already taken back. Rounding errors therefore cannot pile up
//! over several partial refunds, a full refund always takes back exactly the award, and the
//! total taken back can never exceed it.
//!
//! Everything here is pure: the caller supplies the order facts, the product → collections
//! lookup, the tier multiplier and what the ledger already holds.

mod award;
mod eligibility;
mod occasions;
mod reversal;
mod rules;

pub use award::{award_for_order, AwardSnapshot, LineAward};
pub use eligibility::{earns_despite_date, should_earn};
pub use occasions::{birthday_due, observed_birthday, signup_award, BIRTHDAY_GRACE_DAYS};
pub use reversal::{
    reversal_for_cancellation, reversal_for_refund, reversal_for_refunds, Refunded,
};
pub use rules::{
    Campaign, CollectionMultiplier, EarnOn, EarningRules, ProductMultiplier, Rounding, RulesError,
    MAX_BONUS_POINTS, MAX_MULTIPLIER_PCT, MAX_PENDING_DAYS, MAX_POINTS_PER_UNIT, MAX_RULE_ENTRIES,
    MAX_UNIT_SIZE,
};

#[cfg(test)]
mod proptests;
#[cfg(test)]
mod tests;
