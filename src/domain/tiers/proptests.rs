//! Invariants of the evaluation over generated histories: a member never holds more than their
//! standing activity, a live grant or a running grace allows, never less than what they
//! qualify for, and a review moves them down at most one level.

use std::collections::BTreeMap;

use chrono::{Duration, NaiveDate};
use proptest::prelude::*;

use super::*;

fn program(window: Window, grace_days: u32, thresholds: &[i64]) -> TierProgram {
    TierProgram {
        basis: Basis::PointsEarned,
        window,
        grace_days,
        levels: thresholds
            .iter()
            .enumerate()
            .map(|(i, t)| TierLevel {
                id: format!("l{i}"),
                name: format!("L{i}"),
                names: BTreeMap::new(),
                threshold: *t,
                earn_multiplier_pct: 100,
                perks: vec![],
                entry_reward_id: None,
                customer_tag: None,
            })
            .collect(),
    }
}

fn base() -> NaiveDate {
    NaiveDate::from_ymd_opt(2025, 1, 1).unwrap()
}

fn window() -> impl Strategy<Value = Window> {
    prop_oneof![
        Just(Window::Lifetime),
        Just(Window::CalendarYear),
        Just(Window::Rolling12Months)
    ]
}

#[derive(Debug, Clone)]
enum Step {
    /// Activity on the current day (negative: a refund taking it back).
    Activity(i64),
    /// Time passes, then the review runs.
    Review(i64),
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        (-300i64..600).prop_map(Step::Activity),
        (1i64..200).prop_map(Step::Review),
    ]
}

proptest! {
    #[test]
    fn the_tier_stays_between_what_is_earned_and_what_grace_allows(
        window in window(),
        grace in 0u32..60,
        mut thresholds in proptest::collection::btree_set(1i64..2000, 1..5),
        steps in proptest::collection::vec(step(), 1..40),
        grant_days in proptest::option::of(1i64..400),
    ) {
        let thresholds: Vec<i64> = std::mem::take(&mut thresholds).into_iter().collect();
        let p = program(window, grace, &thresholds);
        let grants: Vec<Grant> = grant_days
            .map(|d| Grant { tier: "l0".into(), from: base(), until: base() + Duration::days(d) })
            .into_iter()
            .collect();
        let mut today = base();
        let mut activity: Vec<Activity> = Vec::new();
        let mut state = TierState::default();
        for step in steps {
            let occasion = match step {
                Step::Activity(amount) => {
                    activity.push(Activity { on: today, amount });
                    Occasion::Activity
                }
                Step::Review(days) => {
                    today += Duration::days(days);
                    Occasion::Review
                }
            };
            let before = state.tier.as_deref().and_then(|t| p.rank(t));
            let e = evaluate(&p, &state, &activity, &grants, today, occasion);
            let after = e.state.tier.as_deref().and_then(|t| p.rank(t));
            let qualified = qualified_rank(&p, standing(window, &activity, today));
            let granted = grants.iter().filter(|g| g.is_live(today)).filter_map(|g| p.rank(&g.tier)).max();
            let floor = qualified.max(granted);
            prop_assert!(after >= floor, "below what they qualify for: {after:?} < {floor:?}");
            if after > floor {
                // Above what stands: only by keeping a tier they held, in grace, never higher.
                prop_assert_eq!(e.state.held_by, HeldBy::Grace);
                prop_assert!(after <= before);
                prop_assert!(e.state.review_at.is_some());
            }
            if after < before {
                // Down only at a review, one level at a time (or to the floor when a grant ended).
                prop_assert!(occasion == Occasion::Review || state.held_by == HeldBy::Membership);
                if state.held_by != HeldBy::Membership {
                    prop_assert_eq!(after, before.and_then(|b| b.checked_sub(1)).max(floor));
                }
            }
            prop_assert_eq!(e.change.is_some(), e.state.tier != state.tier);
            if let Some(r) = e.state.review_at {
                prop_assert!(r > today || occasion != Occasion::Review, "a review leaves the next one in the future");
            }
            state = e.state;
        }
    }
}
