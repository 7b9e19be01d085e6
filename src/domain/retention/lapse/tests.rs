use std::collections::BTreeMap;

use chrono::Duration;

use super::super::facts::CountedOrder;
use super::*;
use crate::domain::widget::Locale;

fn day(n: i64) -> NaiveDate {
    NaiveDate::from_ymd_opt(2025, 1, 1).unwrap() + Duration::days(n)
}

fn facts(days: &[i64]) -> PurchaseFacts {
    PurchaseFacts::from_orders(days.iter().zip(0u64..).map(|(d, key)| {
        (
            key,
            CountedOrder {
                date: day(*d),
                net_minor: 100,
            },
        )
    }))
}

fn steps(delays: &[u32]) -> Vec<WinBackStep> {
    delays
        .iter()
        .map(|d| WinBackStep {
            delay_days: *d,
            reward: None,
        })
        .collect()
}

fn variants(ids: &[&str]) -> Vec<SubjectVariant> {
    ids.iter()
        .map(|id| SubjectVariant {
            id: (*id).into(),
            subject: BTreeMap::from([(Locale::En, format!("Subject {id}"))]),
        })
        .collect()
}

#[test]
fn a_fixed_rule_lapses_the_day_after_after_days() {
    let f = facts(&[0, 20]);
    assert_eq!(lapsed_since(&f, LapseRule::AfterDays(90), day(110)), None);
    assert_eq!(
        lapsed_since(&f, LapseRule::AfterDays(90), day(111)),
        Some(day(20))
    );
    assert_eq!(
        lapsed_since(&facts(&[]), LapseRule::AfterDays(1), day(500)),
        None
    );
}

#[test]
fn auto_lapses_after_twice_the_customers_own_median_gap() {
    // Gaps 10 and 30: median 20, so lapsed once the last order is more than 40 days old.
    let f = facts(&[0, 10, 40]);
    assert_eq!(lapsed_since(&f, LapseRule::Auto, day(80)), None);
    assert_eq!(lapsed_since(&f, LapseRule::Auto, day(81)), Some(day(40)));
    // Gaps 10, 15: median 12.5, the limit 25 days.
    let f = facts(&[0, 10, 25]);
    assert_eq!(lapsed_since(&f, LapseRule::Auto, day(50)), None);
    assert_eq!(lapsed_since(&f, LapseRule::Auto, day(51)), Some(day(25)));
}

#[test]
fn auto_needs_at_least_three_orders() {
    assert_eq!(
        lapsed_since(&facts(&[0, 10]), LapseRule::Auto, day(900)),
        None
    );
    // Three orders on one day have no gap to go by.
    assert_eq!(
        lapsed_since(&facts(&[0, 0, 0]), LapseRule::Auto, day(900)),
        None
    );
    // Three orders on two days: one gap of 10.
    assert_eq!(
        lapsed_since(&facts(&[0, 0, 10]), LapseRule::Auto, day(31)),
        Some(day(10))
    );
}

#[test]
fn the_same_lapse_keeps_its_identity_and_a_new_order_ends_it() {
    let mut f = facts(&[0, 20]);
    let lapse = lapsed_since(&f, LapseRule::AfterDays(90), day(150)).unwrap();
    assert_eq!(
        lapsed_since(&f, LapseRule::AfterDays(90), day(200)),
        Some(lapse)
    );
    assert!(!ends_sequence(lapse, &f));
    // A late webhook for an order from before the lapse does not end it.
    f.record_order(
        99,
        None,
        CountedOrder {
            date: day(5),
            net_minor: 1,
        },
    );
    assert!(!ends_sequence(lapse, &f));
    f.record_order(
        100,
        None,
        CountedOrder {
            date: day(160),
            net_minor: 1,
        },
    );
    assert!(ends_sequence(lapse, &f));
    assert_eq!(lapsed_since(&f, LapseRule::AfterDays(90), day(200)), None);
    // Lapsing again is a new lapse.
    assert_eq!(
        lapsed_since(&f, LapseRule::AfterDays(90), day(251)),
        Some(day(160))
    );
    assert!(ends_sequence(lapse, &PurchaseFacts::new()));
}

#[test]
fn steps_fall_due_by_their_delays_from_the_previous_step() {
    let s = steps(&[0, 14, 7]);
    let entered = day(100);
    assert_eq!(
        next_step(entered, &s, 0, day(100)),
        StepDue::Due {
            step: 0,
            on: day(100)
        }
    );
    assert_eq!(
        next_step(entered, &s, 1, day(113)),
        StepDue::Waiting {
            step: 1,
            on: day(114)
        }
    );
    assert_eq!(
        next_step(entered, &s, 1, day(114)),
        StepDue::Due {
            step: 1,
            on: day(114)
        }
    );
    assert_eq!(
        next_step(entered, &s, 2, day(120)),
        StepDue::Waiting {
            step: 2,
            on: day(121)
        }
    );
    assert_eq!(
        next_step(entered, &s, 2, day(130)),
        StepDue::Due {
            step: 2,
            on: day(121)
        }
    );
    assert_eq!(next_step(entered, &s, 3, day(130)), StepDue::Finished);
    assert_eq!(next_step(entered, &s, 9, day(130)), StepDue::Finished);
    assert_eq!(next_step(entered, &[], 0, day(130)), StepDue::Finished);
}

#[test]
fn a_first_step_with_a_delay_waits_after_entry() {
    let s = steps(&[3]);
    assert_eq!(
        next_step(day(0), &s, 0, day(2)),
        StepDue::Waiting {
            step: 0,
            on: day(3)
        }
    );
    assert_eq!(
        next_step(day(0), &s, 0, day(3)),
        StepDue::Due {
            step: 0,
            on: day(3)
        }
    );
}

#[test]
fn the_same_draw_gives_the_same_assignment() {
    let v = variants(&["a", "b"]);
    for draw in [0, 1, u64::MAX, 0x8000_0000_0000_0000, 12_345_678_901] {
        assert_eq!(assign(draw, 10, &v), assign(draw, 10, &v));
    }
}

#[test]
fn the_holdout_takes_the_lowest_percentiles_of_the_low_bits() {
    let v = variants(&["a", "b"]);
    // Low 32 bits 0: percentile 0, held out under any share above 0.
    assert!(assign(0, 1, &v).holdout);
    assert!(!assign(0, 0, &v).holdout);
    // Percentile 9 (just under 10 %) is held out at 10 %, percentile 10 is not.
    let p9 = 9 * (1u64 << 32) / 100 + 1;
    let p10 = 10 * (1u64 << 32) / 100 + 1;
    assert!(assign(p9, 10, &v).holdout);
    assert!(!assign(p10, 10, &v).holdout);
    assert_eq!(
        assign(p9, 10, &v).variant,
        None,
        "the hold-out gets no mail"
    );
}

#[test]
fn the_high_bits_pick_a_variant() {
    let v = variants(&["a", "b", "c"]);
    let high = |x: u64| (x << 32) | 0xFFFF_FFFF; // low bits: the top percentile, never held out
    assert_eq!(assign(high(0), 50, &v).variant.as_deref(), Some("a"));
    assert_eq!(
        assign(high(0xFFFF_FFFF), 50, &v).variant.as_deref(),
        Some("c")
    );
    assert_eq!(
        assign(high(0x8000_0000), 50, &v).variant.as_deref(),
        Some("b")
    );
    assert_eq!(assign(high(7), 50, &[]).variant, None);
}

#[test]
fn over_many_draws_the_shares_come_close_to_the_settings() {
    // A fixed-seed generator (SplitMix64) so the test is the same on every run.
    let mut state = 0x5EED_u64;
    let mut next = || {
        state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    };
    let v = variants(&["a", "b"]);
    let n = 100_000;
    let (mut held, mut a) = (0, 0);
    for _ in 0..n {
        let got = assign(next(), 10, &v);
        held += u32::from(got.holdout);
        a += u32::from(got.variant.as_deref() == Some("a"));
    }
    // Binomial standard deviations: ~95 for the hold-out, ~142 for a variant; allow 5.
    assert!((held as i64 - 10_000).abs() < 500, "held out {held}");
    assert!((a as i64 - 45_000).abs() < 750, "variant a {a}");
}

#[test]
fn a_lapse_begins_on_the_first_day_lapsed_since_holds() {
    for (f, rule) in [
        (facts(&[0, 20]), LapseRule::AfterDays(90)),
        (facts(&[0, 10, 40]), LapseRule::Auto),
        (facts(&[0, 10, 25]), LapseRule::Auto),
        (facts(&[0, 7, 14, 22]), LapseRule::Auto),
    ] {
        let began = lapse_began(&f, rule).unwrap();
        assert_eq!(lapsed_since(&f, rule, began - Duration::days(1)), None);
        assert_eq!(lapsed_since(&f, rule, began), f.last_order());
    }
    assert_eq!(lapse_began(&facts(&[0, 20]), LapseRule::Auto), None);
    assert_eq!(lapse_began(&facts(&[]), LapseRule::AfterDays(1)), None);
}
