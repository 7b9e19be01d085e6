use super::*;
use crate::domain::retention::NpsReport;

fn d(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).unwrap()
}

fn order(day: NaiveDate, key: &str, net: i64, member: bool) -> CustomerOrder {
    CustomerOrder {
        day,
        key: key.to_owned(),
        net_minor: net,
        member,
    }
}

/// The prefix sum of every delta up to `day`.
fn upto(deltas: &DayDeltas, day: NaiveDate) -> DayDelta {
    let mut sum = DayDelta::default();
    for (_, delta) in deltas.range(..=day) {
        sum.add(delta, 1);
    }
    sum
}

fn orders_in_year(orders: &[CustomerOrder], day: NaiveDate) -> usize {
    let start = day - chrono::Duration::days(364);
    orders
        .iter()
        .filter(|o| o.day >= start && o.day <= day)
        .count()
}

#[test]
fn the_worked_checks_hold() {
    let sums = Sums {
        at_start: 10,
        new: 4,
        at_end: 12,
        ..Sums::default()
    };
    assert_eq!(Figures::of(&sums).crr_pct, Some(80.0));
    assert_eq!(NpsReport::from_counts(50, 30, 20).nps, Some(30.0));
}

#[test]
fn every_zero_denominator_is_none() {
    let f = Figures::of(&Sums::default());
    assert_eq!(f.crr_pct, None);
    assert_eq!(f.churn_pct, None);
    assert_eq!(f.rpr_pct, None);
    assert_eq!(f.lcr_pct, None);
    assert_eq!(f.aer_pct, None);
    assert_eq!(f.aov_all_minor, None);
    assert_eq!(f.aov_members_minor, None);
    assert_eq!(f.aov_non_members_minor, None);
    assert_eq!(f.clv_minor, None);
    assert_eq!(f.redemption_rate_pct, None);
    assert_eq!(f.avg_days_member_before_churn, None);
    assert_eq!(f.repeat_revenue_minor, 0);
}

#[test]
fn figures_follow_the_contract_formulas() {
    let s = Sums {
        at_start: 8,
        new: 3,
        at_end: 9,
        churned: 2,
        repeat_customers: 3,
        loyal_customers: 1,
        orders: 7,
        revenue_minor: 10_000,
        member_orders: 3,
        member_revenue_minor: 6_000,
        first_revenue_minor: 2_500,
        clv_customers: 3,
        clv_revenue_minor: 10_000,
        points_earned: 400,
        points_spent: 100,
        engaged_members: 1,
        members_at_end: 3,
        churned_members: 2,
        churned_member_days: 45,
    };
    let f = Figures::of(&s);
    assert_eq!(f.crr_pct, Some(75.0)); // (9-3)/8
    assert_eq!(f.churn_pct, Some(25.0)); // 2/8
    assert_eq!(f.rpr_pct, Some(33.3)); // 3/9
    assert_eq!(f.lcr_pct, Some(11.1)); // 1/9
    assert_eq!(f.aer_pct, Some(33.3)); // 1/3
    assert_eq!(f.aov_all_minor, Some(1_429)); // 10000/7 = 1428.57
    assert_eq!(f.aov_members_minor, Some(2_000));
    assert_eq!(f.aov_non_members_minor, Some(1_000)); // 4000/4
    assert_eq!(f.clv_minor, Some(3_333));
    assert_eq!(f.redemption_rate_pct, Some(25.0));
    assert_eq!(f.repeat_revenue_minor, 7_500);
    assert_eq!(f.avg_days_member_before_churn, Some(22.5));
}

#[test]
fn averages_round_half_away_from_zero() {
    assert_eq!(average_minor(5, 2), Some(3));
    assert_eq!(average_minor(-5, 2), Some(-3));
    assert_eq!(average_minor(4, 3), Some(1));
    assert_eq!(average_minor(1, 0), None);
    assert_eq!(pct(1, 3), Some(33.3));
    assert_eq!(pct(2, 3), Some(66.7));
}

#[test]
fn a_customer_is_active_for_365_days_from_each_order() {
    let first = d(2025, 1, 1);
    let orders = [
        order(first, "a", 1_000, false),
        order(d(2025, 1, 11), "b", 2_000, false),
        order(d(2026, 6, 1), "c", 500, true),
    ];
    let deltas = customer_deltas(&orders);
    let active = |day| {
        let s = upto(&deltas, day);
        s.windows[0] - s.windows[1]
    };
    let repeat = |day| {
        let s = upto(&deltas, day);
        s.windows[1] - s.windows[2]
    };
    assert_eq!(active(d(2024, 12, 31)), 0);
    assert_eq!(active(first), 1);
    assert_eq!(repeat(first), 0);
    assert_eq!(repeat(d(2025, 1, 11)), 1);
    // 2025-12-31 is the 365th day from 2025-01-01; the year ending 2026-01-01 lacks it.
    assert_eq!(repeat(d(2025, 12, 31)), 1);
    assert_eq!(repeat(d(2026, 1, 1)), 0);
    assert_eq!(active(d(2026, 1, 10)), 1);
    assert_eq!(active(d(2026, 1, 11)), 0);
    assert_eq!(active(d(2026, 6, 1)), 1);
    assert_eq!(active(d(2027, 5, 31)), 1);
    assert_eq!(active(d(2027, 6, 1)), 0);
    let s = upto(&deltas, d(2026, 12, 31));
    assert_eq!((s.new_customers, s.first_revenue_minor), (1, 1_000));
    // The lifetime cohort: from 2026-01-01 on, with what they spent up to the day asked.
    assert_eq!(upto(&deltas, d(2025, 12, 31)).clv_customers, 0);
    let s = upto(&deltas, d(2026, 1, 1));
    assert_eq!((s.clv_customers, s.clv_revenue_minor), (1, 3_000));
    let s = upto(&deltas, d(2026, 6, 1));
    assert_eq!((s.clv_customers, s.clv_revenue_minor), (1, 3_500));
}

#[test]
fn spells_run_while_the_customer_stays_active() {
    let orders = [
        order(d(2025, 3, 1), "b", 1, false),
        order(d(2025, 1, 1), "a", 1, false),
        order(d(2026, 1, 1), "c", 1, true), // day 365 after 2025-01-01 is 2026-01-01: still inside 03-01's
        order(d(2027, 6, 1), "d", 1, false),
    ];
    assert_eq!(
        spells(&orders),
        vec![
            Spell {
                started_on: d(2025, 1, 1),
                last_order_on: d(2026, 1, 1),
                ended_on: d(2027, 1, 1),
                member: true,
            },
            Spell {
                started_on: d(2027, 6, 1),
                last_order_on: d(2027, 6, 1),
                ended_on: d(2028, 5, 31),
                member: false,
            },
        ]
    );
    // An order on the very day the customer stopped being active starts a new run.
    let gap = [
        order(d(2025, 1, 1), "a", 1, false),
        order(d(2026, 1, 1), "b", 1, false),
    ];
    assert_eq!(spells(&gap).len(), 2);
    assert!(spells(&[]).is_empty());
}

/// A tiny deterministic generator (no dependency, the same on every run).
struct Lcg(u64);

impl Lcg {
    fn next(&mut self, below: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 33) % below
    }
}

#[test]
fn prefix_sums_match_counting_customers_one_by_one() {
    let mut rng = Lcg(7);
    let base = d(2024, 1, 1);
    let customers: Vec<Vec<CustomerOrder>> = (0..60)
        .map(|c| {
            let n = 1 + rng.next(7);
            (0..n)
                .map(|i| {
                    let day = base + chrono::Duration::days(rng.next(1_100) as i64);
                    order(
                        day,
                        &format!("{c}-{i}"),
                        100 + rng.next(900) as i64,
                        c % 2 == 0,
                    )
                })
                .collect()
        })
        .collect();
    let mut all = DayDeltas::new();
    for orders in &customers {
        merge(&mut all, &customer_deltas(orders), 1);
    }
    let mut day = base - chrono::Duration::days(3);
    while day < base + chrono::Duration::days(1_500) {
        let s = upto(&all, day);
        let counts: Vec<usize> = customers.iter().map(|o| orders_in_year(o, day)).collect();
        let at_least = |k| counts.iter().filter(|&&c| c >= k).count() as i64;
        assert_eq!(s.windows[0] - s.windows[1], at_least(1), "active on {day}");
        assert_eq!(s.windows[1] - s.windows[2], at_least(2), "≥2 on {day}");
        assert_eq!(s.windows[3] - s.windows[4], at_least(4), "≥4 on {day}");
        let cohort: Vec<&Vec<CustomerOrder>> = customers
            .iter()
            .filter(|o| {
                let first = o.iter().map(|o| o.day).min().unwrap();
                first + chrono::Duration::days(365) <= day
            })
            .collect();
        let revenue: i64 = cohort
            .iter()
            .flat_map(|o| o.iter())
            .filter(|o| o.day <= day)
            .map(|o| o.net_minor)
            .sum();
        assert_eq!(s.clv_customers, cohort.len() as i64, "cohort on {day}");
        assert_eq!(s.clv_revenue_minor, revenue, "cohort revenue on {day}");
        // Runs of activity say the same as the orders.
        for orders in &customers {
            let by_spell = spells(orders)
                .iter()
                .any(|s| s.started_on <= day && day < s.ended_on);
            assert_eq!(by_spell, orders_in_year(orders, day) > 0, "spell on {day}");
        }
        day += chrono::Duration::days(5);
    }
    // Removing one customer's deltas leaves the others' exactly.
    let mut without = all.clone();
    merge(&mut without, &customer_deltas(&customers[0]), -1);
    let mut rest = DayDeltas::new();
    for orders in &customers[1..] {
        merge(&mut rest, &customer_deltas(orders), 1);
    }
    assert_eq!(without, rest);
}

#[test]
fn an_order_adds_its_own_day_and_takes_it_back() {
    let mut deltas = DayDeltas::new();
    order_delta(&mut deltas, d(2025, 5, 5), 1_500, (true, false), 1);
    order_delta(&mut deltas, d(2025, 5, 5), 500, (false, true), 1);
    let day = deltas[&d(2025, 5, 5)];
    assert_eq!(
        (
            day.orders,
            day.revenue_minor,
            day.member_orders,
            day.member_revenue_minor,
            day.first_revenue_minor
        ),
        (2, 2_000, 1, 1_500, 500),
        "the anonymous order is nobody's repeat"
    );
    order_delta(&mut deltas, d(2025, 5, 5), 1_500, (true, false), -1);
    order_delta(&mut deltas, d(2025, 5, 5), 500, (false, true), -1);
    assert!(deltas.is_empty());
}
