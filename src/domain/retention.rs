//! Win-back and retention, pure: the purchase facts kept per customer as orders are applied, the
//! RFM segments and the shop's median gap, when a customer has lapsed and which win-back step is
//! due, the random hold-out and subject variants, replenishment intervals, the hold-out lift
//! report and NPS. Nothing here reads a clock or does I/O: every function takes the day it is
//! asked about, so every boundary is unit-tested on both sides. The services keep the records.
//!
//! Days are `chrono::NaiveDate` in the shop's time zone; money is `i64` minor units.

mod facts;
mod gaps;
mod lapse;
mod lift;
mod metrics;
mod nps;
mod replenishment;
mod segments;
mod winback;

#[cfg(test)]
mod proptests;

pub use facts::{order_key, CountedOrder, PurchaseFacts, KEPT_ORDERS};
pub use gaps::{GapHistogram, MAX_GAP_DAYS};
pub use lapse::{assign, ends_sequence, lapse_began, lapsed_since, next_step, Assignment, StepDue};
pub use lift::{
    win_back_report, Group, GroupStats, Lift, Participant, Purchase, VariantStats, WinBackReport,
    WinBackReportBuilder, LIFT_WINDOW_DAYS,
};
pub use metrics::{
    customer_deltas, merge, order_delta, spells, CustomerOrder, DayDelta, DayDeltas, Figures,
    Spell, Sums, ACTIVE_DAYS, WINDOWS,
};
pub use nps::{
    may_answer, may_survey, NpsCategory, NpsError, NpsReport, NpsScore, SURVEY_INTERVAL_DAYS,
};
pub use replenishment::{
    reminder_due, usual_interval, ReplenishmentConfigError, ReplenishmentProgram,
    RepurchaseIntervals, MAX_LEAD_DAYS, MIN_REPEAT_CUSTOMERS,
};
pub use segments::{classify, Segment, ShopGaps, LOST_AFTER_DAYS, NEW_WITHIN_DAYS};
pub use winback::{
    LapseRule, StepReward, SubjectVariant, WinBackConfigError, WinBackProgram, WinBackStep,
    DEFAULT_AFTER_DAYS, MAX_AFTER_DAYS, MAX_DELAY_DAYS, MAX_HOLDOUT_PCT, MAX_STEPS, MAX_VARIANTS,
};
