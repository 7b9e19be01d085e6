use chrono::{Duration, NaiveDate};

use super::*;

fn day(n: i64) -> NaiveDate {
    NaiveDate::from_ymd_opt(2025, 1, 1).unwrap() + Duration::days(n)
}

fn order(d: i64, net: i64) -> CountedOrder {
    CountedOrder {
        date: day(d),
        net_minor: net,
    }
}

#[test]
fn a_new_customer_has_no_facts() {
    let facts = PurchaseFacts::new();
    assert_eq!(facts.order_count(), 0);
    assert_eq!(facts.first_order(), None);
    assert_eq!(facts.last_order(), None);
    assert_eq!(facts.median_gap_days(), None);
    assert!(!facts.needs_rebuild());
}

#[test]
fn orders_count_with_their_dates_and_spend() {
    let mut facts = PurchaseFacts::new();
    facts.record_order(1, None, order(10, 5000));
    facts.record_order(2, None, order(40, 2500));
    assert_eq!(facts.order_count(), 2);
    assert_eq!(facts.net_spend_minor(), 7500);
    assert_eq!(facts.first_order(), Some(day(10)));
    assert_eq!(facts.last_order(), Some(day(40)));
    assert_eq!(facts.median_gap_days(), Some(30.0));
}

#[test]
fn a_back_dated_order_moves_the_first_date_and_the_gaps() {
    let mut facts = PurchaseFacts::new();
    facts.record_order(1, None, order(100, 1000));
    facts.record_order(2, None, order(160, 1000));
    facts.record_order(3, None, order(20, 1000));
    assert_eq!(facts.first_order(), Some(day(20)));
    assert_eq!(facts.last_order(), Some(day(160)));
    assert_eq!(facts.gaps().collect::<Vec<_>>(), vec![80, 60]);
    assert_eq!(facts.median_gap_days(), Some(70.0));
}

#[test]
fn replaying_an_order_changes_nothing() {
    let mut facts = PurchaseFacts::new();
    facts.record_order(1, None, order(10, 5000));
    let once = facts.clone();
    // The caller's row now says the order counted: before == after.
    facts.record_order(1, Some(order(10, 5000)), order(10, 5000));
    assert_eq!(facts, once);
    // Even a replay with a stale `before` is recognised by the key.
    facts.record_order(1, None, order(10, 5000));
    assert_eq!(facts, once);
}

#[test]
fn a_partial_refund_lowers_the_net_spend_only() {
    let mut facts = PurchaseFacts::new();
    facts.record_order(1, None, order(10, 5000));
    facts.record_order(1, Some(order(10, 5000)), order(10, 3000));
    assert_eq!(facts.order_count(), 1);
    assert_eq!(facts.net_spend_minor(), 3000);
}

#[test]
fn a_cancelled_or_fully_refunded_order_no_longer_counts() {
    let mut facts = PurchaseFacts::new();
    facts.record_order(1, None, order(10, 5000));
    facts.record_order(2, None, order(30, 2000));
    facts.remove_order(2, Some(order(30, 2000)));
    assert_eq!(facts.order_count(), 1);
    assert_eq!(facts.net_spend_minor(), 5000);
    assert_eq!(facts.last_order(), Some(day(10)));
    assert_eq!(facts.median_gap_days(), None);
    facts.remove_order(2, None);
    assert_eq!(facts.order_count(), 1, "removing twice removes once");
    facts.remove_order(1, Some(order(10, 5000)));
    assert_eq!(facts, PurchaseFacts::new());
}

#[test]
fn counted_order_of_says_when_an_order_no_longer_counts() {
    assert_eq!(
        CountedOrder::of(day(0), 5000, 0, false),
        Some(order(0, 5000))
    );
    assert_eq!(
        CountedOrder::of(day(0), 5000, 1500, false),
        Some(order(0, 3500))
    );
    assert_eq!(CountedOrder::of(day(0), 5000, 5000, false), None);
    assert_eq!(CountedOrder::of(day(0), 5000, 0, true), None);
    assert_eq!(CountedOrder::of(day(0), 0, 0, false), Some(order(0, 0)));
}

#[test]
fn an_order_moved_to_another_day_moves_its_date() {
    let mut facts = PurchaseFacts::new();
    facts.record_order(1, None, order(10, 100));
    facts.record_order(2, None, order(20, 100));
    facts.record_order(2, Some(order(20, 100)), order(50, 100));
    assert_eq!(facts.last_order(), Some(day(50)));
    assert_eq!(facts.order_count(), 2);
    assert_eq!(facts.median_gap_days(), Some(40.0));
}

#[test]
fn orders_on_the_same_day_make_no_gap() {
    let mut facts = PurchaseFacts::new();
    facts.record_order(1, None, order(0, 100));
    facts.record_order(2, None, order(0, 100));
    facts.record_order(3, None, order(10, 100));
    facts.record_order(4, None, order(10, 100));
    facts.record_order(5, None, order(30, 100));
    assert_eq!(facts.gaps().collect::<Vec<_>>(), vec![10, 20]);
    assert_eq!(facts.median_gap_days(), Some(15.0));
    assert_eq!(facts.order_count(), 5);
}

#[test]
fn only_the_newest_64_orders_are_kept_but_count_and_spend_stay_exact() {
    let mut facts = PurchaseFacts::new();
    for i in 0..100 {
        facts.record_order(i, None, order(i64::try_from(i).unwrap() * 7, 10));
    }
    assert_eq!(facts.order_count(), 100);
    assert_eq!(facts.net_spend_minor(), 1000);
    assert_eq!(facts.first_order(), Some(day(0)));
    assert_eq!(facts.last_order(), Some(day(99 * 7)));
    assert_eq!(facts.gaps().count(), 63);
    assert_eq!(facts.median_gap_days(), Some(7.0));
    assert!(!facts.needs_rebuild());
    // An old order changed by the platform: count and spend exact, the kept dates untouched.
    facts.record_order(3, Some(order(21, 10)), order(21, 4));
    assert_eq!(facts.net_spend_minor(), 994);
    assert_eq!(facts.gaps().count(), 63);
    // A late order older than every kept one counts, but makes no gap.
    facts.record_order(500, None, order(22, 10));
    assert_eq!(facts.order_count(), 101);
    assert_eq!(facts.gaps().count(), 63);
}

#[test]
fn removing_the_first_of_many_orders_asks_for_a_rebuild() {
    let orders: Vec<(u64, CountedOrder)> = (0..70)
        .map(|i| (i, order(i64::try_from(i).unwrap() * 3, 10)))
        .collect();
    let mut facts = PurchaseFacts::from_orders(orders.clone());
    facts.remove_order(0, Some(order(0, 10)));
    assert!(facts.needs_rebuild());
    assert_eq!(facts.first_order(), None);
    let rebuilt = PurchaseFacts::from_orders(orders.into_iter().skip(1));
    assert_eq!(rebuilt.first_order(), Some(day(3)));
    assert_eq!(rebuilt.order_count(), 69);
    assert!(!rebuilt.needs_rebuild());
}

#[test]
fn removing_a_first_order_that_shares_its_day_with_the_oldest_kept_keeps_the_first_day() {
    let mut orders: Vec<(u64, CountedOrder)> = (0..3).map(|i| (i, order(0, 10))).collect();
    orders.extend((3..70).map(|i| (i, order(0, 10))));
    let mut facts = PurchaseFacts::from_orders(orders);
    facts.remove_order(0, Some(order(0, 10)));
    assert_eq!(facts.first_order(), Some(day(0)));
    assert!(!facts.needs_rebuild());
}

#[test]
fn from_orders_in_any_order_equals_recording_them_in_date_order() {
    let orders: Vec<(u64, CountedOrder)> = (0..80)
        .map(|i| (i, order(i64::try_from((i * 37) % 80).unwrap() * 2, 5)))
        .collect();
    let mut sorted = orders.clone();
    sorted.sort_by_key(|(_, o)| o.date);
    assert_eq!(
        PurchaseFacts::from_orders(orders),
        PurchaseFacts::from_orders(sorted)
    );
}

#[test]
fn the_facts_round_trip_through_compact_json() {
    let facts = PurchaseFacts::from_orders([(7, order(0, 4000)), (9, order(31, -500))]);
    let json = serde_json::to_string(&facts).unwrap();
    assert_eq!(
        json,
        r#"{"count":2,"net_minor":3500,"first":"2025-01-01","recent":[["2025-01-01",4000,7],["2025-02-01",-500,9]]}"#
    );
    let back: PurchaseFacts = serde_json::from_str(&json).unwrap();
    assert_eq!(back, facts);
    let empty: PurchaseFacts = serde_json::from_str("{}").unwrap();
    assert_eq!(empty, PurchaseFacts::new());
    assert_eq!(
        serde_json::to_string(&empty).unwrap(),
        r#"{"count":0,"net_minor":0}"#
    );
}

#[test]
fn stored_facts_out_of_order_are_put_in_order_when_read() {
    let back: PurchaseFacts = serde_json::from_str(
        r#"{"count":1,"net_minor":3,"recent":[["2025-02-01",1,9],["2025-01-01",1,7],["2025-01-01",1,7]]}"#,
    )
    .unwrap();
    assert_eq!(back.order_count(), 2);
    assert_eq!(back.first_order(), Some(day(0)));
    assert_eq!(back.last_order(), Some(day(31)));
}

#[test]
fn order_keys_are_stable() {
    assert_eq!(order_key(""), 0xcbf2_9ce4_8422_2325);
    assert_eq!(order_key("a"), 0xaf63_dc4c_8601_ec8c);
    assert_ne!(order_key("1001"), order_key("1002"));
}

#[test]
fn moving_a_forgotten_first_order_later_keeps_the_first_date_exact() {
    // Key 0 on day 0 is the one order not kept; moving it to day 100 makes day 1 the first,
    // though the move itself pushes day 1's order out of the kept ones.
    let mut facts = PurchaseFacts::from_orders(
        std::iter::once((0, order(0, 1)))
            .chain((1..=64).map(|i| (i, order(i64::try_from(i).unwrap(), 1)))),
    );
    assert_eq!(facts.first_order(), Some(day(0)));
    facts.record_order(0, Some(order(0, 1)), order(100, 1));
    assert_eq!(facts.first_order(), Some(day(1)));
    assert_eq!(facts.last_order(), Some(day(100)));
    assert_eq!(facts.order_count(), 65);
    assert!(!facts.needs_rebuild());
}
