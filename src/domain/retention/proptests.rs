//! Invariants over generated histories: the bounded purchase facts agree with the whole order
//! list they summarise, segments follow their definitions, medians agree with a sort, and the
//! reports stay in range and symmetric.

use std::collections::BTreeMap;

use chrono::{Duration, NaiveDate};
use proptest::prelude::*;

use super::gaps::median_of;
use super::*;

fn day(n: i64) -> NaiveDate {
    NaiveDate::from_ymd_opt(2024, 1, 1).unwrap() + Duration::days(n)
}

/// One change the platform makes to one of a customer's orders (key 0..80).
#[derive(Debug, Clone)]
enum Change {
    Upsert { key: u64, day: i64, net: i64 },
    Remove { key: u64 },
}

fn change() -> impl Strategy<Value = Change> {
    prop_oneof![
        4 => (0u64..80, 0i64..400, -500i64..5000)
            .prop_map(|(key, day, net)| Change::Upsert { key, day, net }),
        1 => (0u64..80).prop_map(|key| Change::Remove { key }),
    ]
}

/// The distinct-day gaps of whole order list, oldest first.
fn all_gaps(orders: &BTreeMap<u64, CountedOrder>) -> Vec<u32> {
    let mut days: Vec<NaiveDate> = orders.values().map(|o| o.date).collect();
    days.sort_unstable();
    days.dedup();
    days.windows(2)
        .map(|w| u32::try_from((w[1] - w[0]).num_days()).unwrap())
        .collect()
}

proptest! {
    #[test]
    fn facts_kept_by_changes_agree_with_the_orders_they_summarise(
        changes in prop::collection::vec(change(), 0..250),
        replays in prop::collection::vec(any::<bool>(), 250),
    ) {
        let mut facts = PurchaseFacts::new();
        let mut orders: BTreeMap<u64, CountedOrder> = BTreeMap::new();
        for (c, replay) in changes.iter().zip(&replays) {
            match *c {
                Change::Upsert { key, day: d, net } => {
                    let after = CountedOrder { date: day(d), net_minor: net };
                    facts.record_order(key, orders.get(&key).copied(), after);
                    orders.insert(key, after);
                    if *replay {
                        facts.record_order(key, Some(after), after);
                    }
                }
                Change::Remove { key } => {
                    facts.remove_order(key, orders.remove(&key));
                    if *replay {
                        facts.remove_order(key, None);
                    }
                }
            }
            if !facts.needs_rebuild() {
                let f = orders.values().map(|o| o.date).min();
                prop_assert_eq!(facts.first_order(), f, "after {:?}", c);
            }
            let json = serde_json::to_string(&facts).unwrap();
            prop_assert_eq!(&serde_json::from_str::<PurchaseFacts>(&json).unwrap(), &facts);
        }
        prop_assert_eq!(facts.order_count() as usize, orders.len());
        prop_assert_eq!(facts.net_spend_minor(), orders.values().map(|o| o.net_minor).sum::<i64>());
        let first = orders.values().map(|o| o.date).min();
        let last = orders.values().map(|o| o.date).max();
        if facts.needs_rebuild() {
            prop_assert!(facts.first_order().is_none() || facts.last_order().is_none());
        } else {
            prop_assert_eq!(facts.first_order(), first);
            prop_assert_eq!(facts.last_order(), last);
        }
        // The kept gaps are the newest gaps of the whole list, at most 63 of them.
        let kept: Vec<u32> = facts.gaps().collect();
        let whole = all_gaps(&orders);
        prop_assert!(kept.len() < KEPT_ORDERS);
        prop_assert!(whole.ends_with(&kept), "kept {:?} of {:?}", kept, whole);
        if orders.len() <= KEPT_ORDERS && !facts.needs_rebuild() && changes.len() <= KEPT_ORDERS {
            prop_assert_eq!(kept, whole);
        }
    }

    #[test]
    fn facts_from_new_orders_keep_the_newest_64(
        days in prop::collection::vec(0i64..2000, 1..200),
    ) {
        let orders: BTreeMap<u64, CountedOrder> = (0u64..).zip(&days)
            .map(|(k, d)| (k, CountedOrder { date: day(*d), net_minor: 1 }))
            .collect();
        let facts = PurchaseFacts::from_orders(orders.clone());
        let mut newest: Vec<(NaiveDate, u64)> = orders.iter().map(|(k, o)| (o.date, *k)).collect();
        newest.sort_unstable();
        let newest = &newest[newest.len().saturating_sub(KEPT_ORDERS)..];
        let mut expected: Vec<NaiveDate> = newest.iter().map(|(d, _)| *d).collect();
        expected.dedup();
        let expected: Vec<u32> = expected.windows(2)
            .map(|w| u32::try_from((w[1] - w[0]).num_days()).unwrap()).collect();
        prop_assert_eq!(facts.gaps().collect::<Vec<_>>(), expected.clone());
        prop_assert_eq!(facts.median_gap_days(), median_of(&mut expected.clone()));
        prop_assert!(!facts.needs_rebuild());
        prop_assert_eq!(facts.first_order(), days.iter().min().map(|d| day(*d)));
    }

    #[test]
    fn every_customer_with_an_order_is_in_exactly_the_segment_the_rules_say(
        days in prop::collection::vec(0i64..300, 0..10),
        today in 0i64..800,
        median in prop::option::of(1u32..200),
        after in prop::option::of(1u32..400),
    ) {
        let facts = PurchaseFacts::from_orders((0u64..).zip(&days)
            .map(|(k, d)| (k, CountedOrder { date: day(*d), net_minor: 1 })));
        let rule = after.map_or(LapseRule::Auto, LapseRule::AfterDays);
        let median = median.map(f64::from);
        let got = classify(&facts, day(today), median, rule);
        let (Some(first), Some(last)) = (days.iter().min(), days.iter().max()) else {
            prop_assert_eq!(got, None);
            return Ok(());
        };
        let quiet = today - last;
        let mut gaps: Vec<u32> = {
            let mut d = days.clone();
            d.sort_unstable();
            d.dedup();
            d.windows(2).map(|w| u32::try_from(w[1] - w[0]).unwrap()).collect()
        };
        let own_median = median_of(&mut gaps);
        let lapsed = match rule {
            LapseRule::AfterDays(n) => quiet > i64::from(n),
            LapseRule::Auto => days.len() >= 3 && own_median.is_some_and(|m| quiet as f64 > 2.0 * m),
        };
        let expected = if quiet > 365 {
            Segment::Lost
        } else if lapsed {
            Segment::Lapsed
        } else if today - first <= 30 {
            Segment::New
        } else if median.is_some_and(|m| quiet as f64 > 1.5 * m) {
            Segment::AtRisk
        } else {
            Segment::Active
        };
        prop_assert_eq!(got, Some(expected));
        prop_assert_eq!(lapsed_since(&facts, rule, day(today)).is_some(), lapsed);
    }

    #[test]
    fn the_histogram_median_equals_the_sorted_median(gaps in prop::collection::vec(0u32..3650, 0..300)) {
        let mut shop = ShopGaps::new();
        for g in &gaps {
            shop.add_gap(*g);
        }
        prop_assert_eq!(shop.median(), median_of(&mut gaps.clone()));
    }

    #[test]
    fn an_assignment_is_a_pure_function_of_the_draw(draw in any::<u64>(), pct in 0u32..=50, n in 0usize..=4) {
        let variants: Vec<SubjectVariant> = (0..n)
            .map(|i| SubjectVariant { id: format!("v{i}"), subject: BTreeMap::new() })
            .collect();
        let a = assign(draw, pct, &variants);
        prop_assert_eq!(&a, &assign(draw, pct, &variants));
        if pct == 0 {
            prop_assert!(!a.holdout);
        }
        if a.holdout {
            prop_assert_eq!(a.variant, None);
        } else {
            prop_assert_eq!(a.variant.is_some(), n > 0);
            prop_assert!(a.variant.is_none_or(|id| variants.iter().any(|v| v.id == id)));
        }
    }

    #[test]
    fn the_lift_stays_in_range_and_swapping_the_groups_negates_it(
        people in prop::collection::vec((any::<bool>(), prop::collection::vec((-5i64..40, 0i64..10_000), 0..4)), 0..40),
    ) {
        let build = |flip: bool| -> Vec<Participant> {
            people.iter().map(|(treated, orders)| Participant {
                group: if *treated != flip { Group::Treated } else { Group::Holdout },
                entered_on: day(0),
                variant: None,
                mailed: true,
                orders: orders.iter().map(|(d, r)| Purchase { date: day(*d), revenue_minor: *r }).collect(),
            }).collect()
        };
        let report = win_back_report(&build(false));
        let swapped = win_back_report(&build(true));
        prop_assert_eq!(report.treated, swapped.holdout);
        if let Some(rate) = report.lift.order_rate_pct {
            prop_assert!((-100.0..=100.0).contains(&rate));
            prop_assert_eq!(Some(-rate), swapped.lift.order_rate_pct);
            prop_assert_eq!(report.lift.revenue_per_customer_minor.map(|r| -r),
                swapped.lift.revenue_per_customer_minor);
        } else {
            prop_assert_eq!(swapped.lift, Lift::default());
        }
    }

    #[test]
    fn nps_stays_between_minus_and_plus_100(scores in prop::collection::vec(0i64..=10, 0..200)) {
        let report = NpsReport::from_scores(scores.iter().map(|s| NpsScore::new(*s).unwrap()));
        prop_assert_eq!(report.responses as usize, scores.len());
        prop_assert_eq!(report.promoters + report.passives + report.detractors, report.responses);
        match report.nps {
            None => prop_assert!(scores.is_empty()),
            Some(nps) => prop_assert!((-100.0..=100.0).contains(&nps)),
        }
    }

    #[test]
    fn a_usual_interval_lies_between_the_shortest_and_longest_gap(
        customers in prop::collection::vec(prop::collection::vec(0i64..400, 1..5), 0..12),
    ) {
        let purchases: Vec<(usize, NaiveDate)> = customers.iter().enumerate()
            .flat_map(|(c, days)| days.iter().map(move |d| (c, day(*d))))
            .collect();
        let mut gaps = Vec::new();
        let mut repeat = 0;
        for days in &customers {
            let mut d = days.clone();
            d.sort_unstable();
            d.dedup();
            repeat += u64::from(d.len() >= 2);
            gaps.extend(d.windows(2).map(|w| u32::try_from(w[1] - w[0]).unwrap()));
        }
        match usual_interval(purchases) {
            None => prop_assert!(repeat < MIN_REPEAT_CUSTOMERS),
            Some(interval) => {
                prop_assert!(repeat >= MIN_REPEAT_CUSTOMERS);
                prop_assert!(gaps.iter().min().is_some_and(|m| *m <= interval));
                prop_assert!(gaps.iter().max().is_some_and(|m| interval <= *m));
            }
        }
    }
}
