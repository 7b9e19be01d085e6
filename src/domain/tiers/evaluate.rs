//! Which tier a member holds, decided from their standing activity, live grants and what they
//! held before. Pure: the caller loads the facts, stores the outcome and records the change.
//!
//! The rules (CONTRACT.md, "VIP tiers"):
//! - a member is raised at once to the highest level they qualify for or hold a live grant of;
//! - a member who stops qualifying keeps the tier until `grace_days` after the end of the window
//!   period in which they last qualified (for the calendar year, its 31 December; otherwise the
//!   last day itself), then each review moves them down one level, never below what they
//!   qualify for;
//! - a tier held only by a paid membership ends with the grant: the member returns to what they
//!   qualify for, with no grace (the grant's end was known from the day it was bought);
//! - a tier removed from the program moves its members to what they qualify for at once.
//!
//! `review_at` is the next day the scheduled review must look at the member without any new
//! event: the day a qualifying member's activity ages out of the window (they enter grace), the
//! day a grace ends, the day a grant ends. `None`: nothing can change by time alone.

use chrono::{Datelike, Duration, NaiveDate};
use serde::{Deserialize, Serialize};

use super::config::{TierProgram, Window};

/// One dated piece of qualifying activity in the basis's unit, net of what was taken back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Activity {
    /// The day it happened (the order's own date, in the shop's time zone).
    pub on: NaiveDate,
    pub amount: i64,
}

/// A paid membership's grant: `tier` from `from` until the day before `until`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grant {
    pub tier: String,
    pub from: NaiveDate,
    pub until: NaiveDate,
}

impl Grant {
    pub fn is_live(&self, today: NaiveDate) -> bool {
        self.from <= today && today < self.until
    }
}

/// Why a member holds their tier.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HeldBy {
    /// They qualify for it now.
    #[default]
    Qualified,
    /// They no longer qualify and keep it until the grace ends.
    Grace,
    /// A paid membership grants it (and they do not qualify for as much).
    Membership,
}

impl HeldBy {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Qualified => "qualified",
            Self::Grace => "grace",
            Self::Membership => "membership",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [Self::Qualified, Self::Grace, Self::Membership]
            .into_iter()
            .find(|h| h.as_str() == s)
    }
}

/// A member's tier as stored.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct TierState {
    pub tier: Option<String>,
    pub held_by: HeldBy,
    pub review_at: Option<NaiveDate>,
}

/// What made the evaluation happen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Occasion {
    /// Activity or a grant changed (an order settled, a refund, an adjustment).
    Activity,
    /// The scheduled review (time passed).
    Review,
    /// The owner edited the tiers.
    ProgramChanged,
}

/// Why a tier changed (the contract's `reason`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Reason {
    Qualified,
    GraceEnded,
    Membership,
    ProgramChanged,
}

impl Reason {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Qualified => "qualified",
            Self::GraceEnded => "grace_ended",
            Self::Membership => "membership",
            Self::ProgramChanged => "program_changed",
        }
    }
}

/// A change of tier.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    pub from: Option<String>,
    pub to: Option<String>,
    pub reason: Reason,
}

/// The outcome of one evaluation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Evaluation {
    pub state: TierState,
    pub change: Option<Change>,
    /// The member just stopped qualifying for the tier they keep: the grace began, ending the
    /// day before `state.review_at` ("spend X more to keep Gold").
    pub grace_started: bool,
}

/// Days of the rolling window: a day's activity counts on that day and the 364 after it.
pub const ROLLING_DAYS: i64 = 365;

/// The first day whose activity counts on `today` (`None`: all of it).
pub fn window_start(window: Window, today: NaiveDate) -> Option<NaiveDate> {
    match window {
        Window::Lifetime => None,
        Window::CalendarYear => NaiveDate::from_ymd_opt(today.year(), 1, 1),
        Window::Rolling12Months => today.checked_sub_signed(Duration::days(ROLLING_DAYS - 1)),
    }
}

/// The qualifying amount on `today`: the activity inside the window, saturating.
pub fn standing(window: Window, activity: &[Activity], today: NaiveDate) -> i64 {
    let start = window_start(window, today);
    activity
        .iter()
        .filter(|a| start.is_none_or(|s| a.on >= s))
        .fold(0i64, |sum, a| sum.saturating_add(a.amount))
}

/// The highest level (its rank, 0 = lowest) that `amount` reaches.
pub fn qualified_rank(program: &TierProgram, amount: i64) -> Option<usize> {
    program.levels.iter().rposition(|l| l.threshold <= amount)
}

/// The last day a member holding at least `threshold` on `today` still does without any new
/// activity (`None`: for ever). Only meaningful when `standing(today) >= threshold`.
pub fn qualifies_until(
    window: Window,
    activity: &[Activity],
    threshold: i64,
    today: NaiveDate,
) -> Option<NaiveDate> {
    match window {
        Window::Lifetime => None,
        Window::CalendarYear => NaiveDate::from_ymd_opt(today.year(), 12, 31),
        Window::Rolling12Months => {
            let start = window_start(window, today)?;
            let mut counted: Vec<Activity> =
                activity.iter().copied().filter(|a| a.on >= start).collect();
            counted.sort_by_key(|a| a.on);
            let mut running = standing(window, activity, today);
            let mut i = 0;
            while let Some(first) = counted.get(i) {
                // Everything dated `first.on` leaves the window together, on this day:
                let leaves = first.on.checked_add_signed(Duration::days(ROLLING_DAYS))?;
                while let Some(a) = counted.get(i).filter(|a| a.on == first.on) {
                    running = running.saturating_sub(a.amount);
                    i += 1;
                }
                if running < threshold {
                    return leaves.pred_opt();
                }
            }
            // Only reached with a threshold of zero or less: qualifies for ever.
            None
        }
    }
}

/// The last day of the window period containing `day`.
fn period_end(window: Window, day: NaiveDate) -> NaiveDate {
    match window {
        Window::CalendarYear => NaiveDate::from_ymd_opt(day.year(), 12, 31).unwrap_or(day),
        Window::Lifetime | Window::Rolling12Months => day,
    }
}

fn plus_days(day: NaiveDate, days: i64) -> NaiveDate {
    day.checked_add_signed(Duration::days(days))
        .unwrap_or(NaiveDate::MAX)
}

/// Decides the member's tier on `today`.
pub fn evaluate(
    program: &TierProgram,
    current: &TierState,
    activity: &[Activity],
    grants: &[Grant],
    today: NaiveDate,
    occasion: Occasion,
) -> Evaluation {
    let amount = standing(program.window, activity, today);
    let qualified = qualified_rank(program, amount);
    let granted = grants
        .iter()
        .filter(|g| g.is_live(today))
        .filter_map(|g| program.rank(&g.tier).map(|r| (r, g)))
        .max_by_key(|(rank, g)| (*rank, g.until));
    let floor = qualified.max(granted.map(|(r, _)| r));
    let held = current.tier.as_deref().and_then(|t| program.rank(t));
    let removed = current.tier.is_some() && held.is_none();
    let name = |rank: Option<usize>| {
        rank.and_then(|r| program.levels.get(r))
            .map(|l| l.id.clone())
    };

    // Settled at what they qualify for or are granted: the review date follows from how.
    let settle_at = |rank: Option<usize>| -> TierState {
        match (rank, granted) {
            (Some(r), Some((g, grant))) if g == r && qualified < Some(r) => TierState {
                tier: name(rank),
                held_by: HeldBy::Membership,
                review_at: Some(grant.until),
            },
            _ => TierState {
                tier: name(rank),
                held_by: HeldBy::Qualified,
                review_at: rank
                    .and_then(|r| program.levels.get(r))
                    .and_then(|l| qualifies_until(program.window, activity, l.threshold, today))
                    .map(|last| plus_days(last, 1)),
            },
        }
    };
    let changed = |state: TierState, reason: Reason| {
        let change = (state.tier != current.tier).then(|| Change {
            from: current.tier.clone(),
            to: state.tier.clone(),
            reason,
        });
        Evaluation {
            state,
            change,
            grace_started: false,
        }
    };

    if removed {
        return changed(settle_at(floor), Reason::ProgramChanged);
    }
    if floor >= held {
        let state = settle_at(floor);
        let reason = match occasion {
            Occasion::ProgramChanged => Reason::ProgramChanged,
            _ if state.held_by == HeldBy::Membership => Reason::Membership,
            _ => Reason::Qualified,
        };
        return changed(state, reason);
    }
    // Holding more than they qualify for or are granted.
    if current.held_by == HeldBy::Membership {
        return changed(settle_at(floor), Reason::Membership);
    }
    // Their last qualifying day: the one before the aging-out date the last evaluation
    // predicted, or today when activity was just taken back.
    let last_qualified = match (current.held_by, current.review_at) {
        (HeldBy::Qualified, Some(r)) if r <= today => r.pred_opt().unwrap_or(r),
        _ => today,
    };
    let grace_ends = plus_days(
        period_end(program.window, last_qualified),
        i64::from(program.grace_days) + 1,
    );
    let review_at = match current.held_by {
        HeldBy::Grace => current.review_at.map_or(grace_ends, |r| r.min(grace_ends)),
        _ => grace_ends,
    };
    if occasion == Occasion::Review && today >= review_at {
        // One level down per review: a member far above what they qualify for steps down a
        // level a day, each step a change the member is told about.
        let down = held.and_then(|h| h.checked_sub(1));
        let to = floor.max(down);
        let state = if to > floor {
            TierState {
                tier: name(to),
                held_by: HeldBy::Grace,
                review_at: Some(plus_days(today, 1)),
            }
        } else {
            settle_at(to)
        };
        return changed(state, Reason::GraceEnded);
    }
    Evaluation {
        state: TierState {
            tier: current.tier.clone(),
            held_by: HeldBy::Grace,
            review_at: Some(review_at),
        },
        change: None,
        grace_started: current.held_by != HeldBy::Grace,
    }
}

/// What the member sees about their tier: the contract's `to_next_tier` and `to_keep_tier`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Progress {
    /// The qualifying amount now, in the basis's unit.
    pub standing: i64,
    /// The level above the member's.
    pub next_tier: Option<String>,
    /// Its threshold.
    pub next_threshold: Option<i64>,
    /// How much more activity reaches it (0 at the top).
    pub to_next_tier: i64,
    /// How much more keeps the current tier through the review (0 when already safe).
    pub to_keep_tier: i64,
}

/// The member's progress on `today`.
pub fn progress(
    program: &TierProgram,
    state: &TierState,
    activity: &[Activity],
    today: NaiveDate,
) -> Progress {
    let amount = standing(program.window, activity, today);
    let held = state.tier.as_deref().and_then(|t| program.rank(t));
    let next = match held {
        Some(r) => program.levels.get(r + 1),
        None => program.levels.first(),
    };
    let to_keep = match (state.held_by, held.and_then(|r| program.levels.get(r))) {
        (HeldBy::Membership, _) | (_, None) => 0,
        (_, Some(level)) => level.threshold.saturating_sub(amount).max(0),
    };
    Progress {
        standing: amount,
        next_tier: next.map(|l| l.id.clone()),
        next_threshold: next.map(|l| l.threshold),
        to_next_tier: next.map_or(0, |l| l.threshold.saturating_sub(amount).max(0)),
        to_keep_tier: to_keep,
    }
}
