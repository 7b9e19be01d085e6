use chrono::Duration;

use super::*;

fn day(n: i64) -> NaiveDate {
    NaiveDate::from_ymd_opt(2025, 3, 1).unwrap() + Duration::days(n)
}

fn person(
    group: Group,
    entered: i64,
    variant: Option<&str>,
    mailed: bool,
    orders: &[(i64, i64)],
) -> Participant {
    Participant {
        group,
        entered_on: day(entered),
        variant: variant.map(String::from),
        mailed,
        orders: orders
            .iter()
            .map(|(d, r)| Purchase {
                date: day(*d),
                revenue_minor: *r,
            })
            .collect(),
    }
}

/// The fixed data set, computed by hand:
///
/// | who | group | entered | variant | mailed | orders (day: revenue)        | in window      |
/// |-----|-------|---------|---------|--------|------------------------------|----------------|
/// | T1  | T     | 0       | a       | yes    | 5: 3000, 40: 9999            | 1 / 3000       |
/// | T2  | T     | 0       | a       | yes    | —                            | 0 / 0          |
/// | T3  | T     | 0       | b       | yes    | 0: 2000, 30: 1000 (edges)    | 2 / 3000       |
/// | T4  | T     | 0       | b       | no     | 10: 4000                     | 1 / 4000       |
/// | T5  | T     | 100     | a       | yes    | 99: 500, 131: 700 (outside)  | 0 / 0          |
/// | H1  | H     | 0       |         |        | 12: 2500                     | 1 / 2500       |
/// | H2  | H     | 0       |         |        | —                            | 0 / 0          |
/// | H3  | H     | 0       |         |        | —                            | 0 / 0          |
///
/// treated: 5 customers, 4 orders, 10000 revenue, 3 with an order → order rate 60 %;
/// hold-out: 3 customers, 1 order, 2500 revenue, 1 with an order → 33.33… %;
/// lift: 60 − 33.33… = 26.66… → 26.7 points; 10000/5 − 2500/3 = 2000 − 833.33… = 1166.66… → 1167;
/// variant a: sent to T1, T2, T5 = 3, 1 order, 3000; variant b: sent to T3 only (T4 was not
/// mailed) = 1, 2 orders, 3000.
fn fixed_data_set() -> Vec<Participant> {
    vec![
        person(Group::Treated, 0, Some("a"), true, &[(5, 3000), (40, 9999)]),
        person(Group::Treated, 0, Some("a"), true, &[]),
        person(Group::Treated, 0, Some("b"), true, &[(0, 2000), (30, 1000)]),
        person(Group::Treated, 0, Some("b"), false, &[(10, 4000)]),
        person(
            Group::Treated,
            100,
            Some("a"),
            true,
            &[(99, 500), (131, 700)],
        ),
        person(Group::Holdout, 0, None, false, &[(12, 2500)]),
        person(Group::Holdout, 0, None, false, &[]),
        person(Group::Holdout, 0, None, false, &[]),
    ]
}

#[test]
fn the_report_on_a_fixed_data_set_equals_the_hand_computation() {
    let report = win_back_report(&fixed_data_set());
    assert_eq!(
        serde_json::to_value(&report).unwrap(),
        serde_json::json!({
            "treated": {"customers": 5, "orders": 4, "revenue_minor": 10000},
            "holdout": {"customers": 3, "orders": 1, "revenue_minor": 2500},
            "lift": {"order_rate_pct": 26.7, "revenue_per_customer_minor": 1167},
            "variants": [
                {"id": "a", "sent": 3, "orders": 1, "revenue_minor": 3000},
                {"id": "b", "sent": 1, "orders": 2, "revenue_minor": 3000}
            ]
        })
    );
}

#[test]
fn the_lift_is_null_while_either_group_is_empty() {
    let treated_only: Vec<Participant> = fixed_data_set()
        .into_iter()
        .filter(|p| p.group == Group::Treated)
        .collect();
    let report = win_back_report(&treated_only);
    assert_eq!(report.lift, Lift::default());
    assert_eq!(
        serde_json::to_value(report.lift).unwrap(),
        serde_json::json!({"order_rate_pct": null, "revenue_per_customer_minor": null})
    );
    let empty = win_back_report(&[]);
    assert_eq!(empty.treated, GroupStats::default());
    assert!(empty.variants.is_empty());
    assert_eq!(empty.lift, Lift::default());
}

#[test]
fn a_mail_that_did_worse_shows_a_negative_lift_rounded_away_from_zero() {
    // Treated: 1 of 2 ordered (50 %), 100 revenue → 50 per customer.
    // Hold-out: 2 of 3 ordered (66.66… %), 301 revenue → 100.33… per customer.
    // Lift: −16.66… → −16.7 points; 50 − 100.33… = −50.33… → −50.
    let data = [
        person(Group::Treated, 0, None, true, &[(1, 100)]),
        person(Group::Treated, 0, None, true, &[]),
        person(Group::Holdout, 0, None, false, &[(1, 150)]),
        person(Group::Holdout, 0, None, false, &[(2, 151)]),
        person(Group::Holdout, 0, None, false, &[]),
    ];
    let lift = win_back_report(&data).lift;
    assert_eq!(lift.order_rate_pct, Some(-16.7));
    assert_eq!(lift.revenue_per_customer_minor, Some(-50));
}

#[test]
fn several_orders_count_once_for_the_order_rate() {
    let data = [
        person(Group::Treated, 0, None, true, &[(1, 10), (2, 10), (3, 10)]),
        person(Group::Holdout, 0, None, false, &[]),
    ];
    let report = win_back_report(&data);
    assert_eq!(report.treated.orders, 3);
    assert_eq!(report.lift.order_rate_pct, Some(100.0));
    assert_eq!(report.lift.revenue_per_customer_minor, Some(30));
    assert!(
        report.variants.is_empty(),
        "no variant tried, none reported"
    );
}

#[test]
fn division_rounds_half_away_from_zero() {
    assert_eq!(round_div(5, 2), 3);
    assert_eq!(round_div(-5, 2), -3);
    assert_eq!(round_div(5, 4), 1);
    assert_eq!(round_div(6, 4), 2);
    assert_eq!(round_div(-6, 4), -2);
    assert_eq!(round_div(4, 3), 1);
    assert_eq!(round_div(5, 3), 2);
    assert_eq!(round_div(0, 7), 0);
}
