//! VIP tiers: the owner's levels, and the pure decision of which one a member holds.
//!
//! Why qualification is computed from stored, dated activity rather than a running counter:
//! refunds take activity back after the fact, windows slide by themselves, and the owner may
//! change the basis, window or thresholds while live. Keeping each settled order's (and each
//! bonus's) net contribution with its date lets any evaluation recompute the standing exactly,
//! so an edit never loses progress and a refund never leaves a member above what stands.

mod config;
mod contribution;
mod effects;
mod evaluate;

pub use config::{
    validate_references, Basis, Membership, TierError, TierLevel, TierProgram, Window,
    MAX_GRACE_DAYS, MAX_LEVELS, MAX_MEMBERSHIP_DAYS, MAX_THRESHOLD,
};
pub use contribution::Contribution;
pub use effects::{entry_reward_due, TagChanges, ENTRY_REWARD_EVERY};
pub use evaluate::{
    evaluate, progress, qualified_rank, qualifies_until, standing, window_start, Activity, Change,
    Evaluation, Grant, HeldBy, Occasion, Progress, Reason, TierState, ROLLING_DAYS,
};

#[cfg(test)]
mod proptests;
#[cfg(test)]
mod tests;
