use chrono::{DateTime, NaiveDate, TimeZone, Utc};

use super::*;
use crate::domain::event::{FinancialStatus, OrderFacts, OrderLine, PlatformId};
use crate::domain::money::Money;

pub(super) fn id(n: u64) -> PlatformId {
    PlatformId::from_u64(n)
}

pub(super) fn at(y: i32, m: u32, d: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, m, d, 12, 0, 0).unwrap()
}

pub(super) fn line(
    line_id: u64,
    product: u64,
    quantity: i64,
    unit: i64,
    discount: i64,
) -> OrderLine {
    OrderLine {
        line_id: id(line_id),
        product_id: Some(id(product)),
        variant_id: None,
        quantity,
        unit_price: Money::new(unit),
        total_discount: Money::new(discount),
        gift_card: false,
        title: None,
    }
}

pub(super) fn order(lines: Vec<OrderLine>, subtotal: i64) -> OrderFacts {
    OrderFacts {
        order_id: id(1001),
        name: "#1001".to_owned(),
        customer: None,
        email: Some("jo@example.com".to_owned()),
        financial_status: FinancialStatus::Paid,
        cancelled_at: None,
        test: false,
        currency: "USD".to_owned(),
        subtotal: Money::new(subtotal),
        total_discounts: Money::ZERO,
        total_tax: Money::ZERO,
        shipping: Money::ZERO,
        total: Money::new(subtotal),
        lines,
        created_at: at(2026, 3, 1),
        processed_at: None,
        updated_at: at(2026, 3, 1),
        note_attributes: Vec::new(),
        discount_codes: Vec::new(),
        source_name: None,
        customer_locale: None,
        refunds: Vec::new(),
        provenance: Default::default(),
    }
}

pub(super) fn no_collections(_: &PlatformId) -> Vec<String> {
    Vec::new()
}

fn award(rules: &EarningRules, order: &OrderFacts) -> AwardSnapshot {
    award_for_order(rules, order, &no_collections, 100)
}

fn line_points(s: &AwardSnapshot) -> Vec<i64> {
    s.lines.iter().map(|l| l.points).collect()
}

fn line_amounts(s: &AwardSnapshot) -> Vec<i64> {
    s.lines.iter().map(|l| l.amount.minor).collect()
}

#[test]
fn default_rules_are_the_contract_program() {
    let r = EarningRules::default();
    assert_eq!((r.points_per_unit, r.unit_size), (1, 1));
    assert_eq!((r.rounding, r.earn_on), (Rounding::Down, EarnOn::Paid));
    assert!(!r.include_shipping && !r.include_tax && !r.before_discounts);
    assert_eq!(
        (r.signup_points, r.birthday_points, r.pending_days),
        (0, 0, 14)
    );
    assert!(!r.earn_on_test_orders);
    assert_eq!(r.validate(), Ok(()));
}

#[test]
fn partial_json_fills_in_defaults() {
    let r: EarningRules = serde_json::from_str(
        r#"{"points_per_unit": 2, "rounding": "nearest",
            "product_multipliers": [{"product_id": 632910392, "multiplier_pct": 200}],
            "collection_multipliers": [{"collection_id": "77", "multiplier_pct": 150}]}"#,
    )
    .unwrap();
    assert_eq!(r.points_per_unit, 2);
    assert_eq!(r.rounding, Rounding::Nearest);
    assert_eq!(r.pending_days, 14);
    assert_eq!(r.product_multipliers[0].product_id, id(632_910_392));
    assert_eq!(r.collection_multipliers[0].collection_id, id(77));
    let empty: EarningRules = serde_json::from_str("{}").unwrap();
    assert_eq!(empty, EarningRules::default());
    let back: EarningRules = serde_json::from_value(serde_json::to_value(&r).unwrap()).unwrap();
    assert_eq!(back, r);
}

#[test]
fn unknown_fields_at_any_level_of_the_rules_are_refused_by_name() {
    for (json, field) in [
        (r#"{"points_per_uint": 5}"#, "points_per_uint"),
        (
            r#"{"product_multipliers": [{"product_id": "1", "multiplier_pct": 200, "pct": 1}]}"#,
            "pct",
        ),
        (
            r#"{"collection_multipliers": [{"collection_id": "1", "multiplier_pct": 200, "x": 1}]}"#,
            "x",
        ),
        (
            r#"{"campaigns": [{"name": "n", "starts_at": "2026-01-01T00:00:00Z",
                "ends_at": "2026-01-02T00:00:00Z", "multiplier_pct": 200, "end": 1}]}"#,
            "end",
        ),
    ] {
        let err = serde_json::from_str::<EarningRules>(json).unwrap_err();
        assert!(
            err.to_string()
                .contains(&format!("unknown field `{field}`")),
            "{json}: {err}"
        );
    }
}

#[test]
fn validation_names_each_problem() {
    let campaign = |name: &str, start: DateTime<Utc>, end: DateTime<Utc>, pct: u32| Campaign {
        name: name.to_owned(),
        starts_at: start,
        ends_at: end,
        multiplier_pct: pct,
    };
    let product = |p: u64, pct: u32| ProductMultiplier {
        product_id: id(p),
        multiplier_pct: pct,
    };
    let cases: Vec<(EarningRules, RulesError)> = vec![
        (
            EarningRules {
                points_per_unit: 1001,
                ..Default::default()
            },
            RulesError::PointsPerUnitTooHigh {
                got: 1001,
                max: MAX_POINTS_PER_UNIT,
            },
        ),
        (
            EarningRules {
                unit_size: 0,
                ..Default::default()
            },
            RulesError::UnitSizeOutOfRange { got: 0 },
        ),
        (
            EarningRules {
                unit_size: MAX_UNIT_SIZE + 1,
                ..Default::default()
            },
            RulesError::UnitSizeOutOfRange {
                got: MAX_UNIT_SIZE + 1,
            },
        ),
        (
            EarningRules {
                signup_points: i64::MAX,
                ..Default::default()
            },
            RulesError::BonusPointsOutOfRange {
                field: "signup_points",
                got: i64::MAX,
            },
        ),
        (
            EarningRules {
                birthday_points: MAX_BONUS_POINTS + 1,
                ..Default::default()
            },
            RulesError::BonusPointsOutOfRange {
                field: "birthday_points",
                got: MAX_BONUS_POINTS + 1,
            },
        ),
        (
            EarningRules {
                product_multipliers: (0..=MAX_RULE_ENTRIES as u64)
                    .map(|p| product(p + 1, 200))
                    .collect(),
                ..Default::default()
            },
            RulesError::TooManyEntries {
                field: "product_multipliers",
                got: MAX_RULE_ENTRIES + 1,
            },
        ),
        (
            EarningRules {
                signup_points: -1,
                ..Default::default()
            },
            RulesError::BonusPointsOutOfRange {
                field: "signup_points",
                got: -1,
            },
        ),
        (
            EarningRules {
                birthday_points: -5,
                ..Default::default()
            },
            RulesError::BonusPointsOutOfRange {
                field: "birthday_points",
                got: -5,
            },
        ),
        (
            EarningRules {
                pending_days: 400,
                ..Default::default()
            },
            RulesError::PendingDaysTooLong {
                got: 400,
                max: MAX_PENDING_DAYS,
            },
        ),
        (
            EarningRules {
                product_multipliers: vec![product(5, 0)],
                ..Default::default()
            },
            RulesError::MultiplierOutOfRange {
                what: "product 5".to_owned(),
                got: 0,
            },
        ),
        (
            EarningRules {
                product_multipliers: vec![product(5, 1001)],
                ..Default::default()
            },
            RulesError::MultiplierOutOfRange {
                what: "product 5".to_owned(),
                got: 1001,
            },
        ),
        (
            EarningRules {
                product_multipliers: vec![product(5, 200), product(5, 300)],
                ..Default::default()
            },
            RulesError::DuplicateProduct(id(5)),
        ),
        (
            EarningRules {
                collection_multipliers: vec![
                    CollectionMultiplier {
                        collection_id: id(9),
                        multiplier_pct: 200,
                    },
                    CollectionMultiplier {
                        collection_id: id(9),
                        multiplier_pct: 200,
                    },
                ],
                ..Default::default()
            },
            RulesError::DuplicateCollection(id(9)),
        ),
        (
            EarningRules {
                campaigns: vec![campaign(" ", at(2026, 1, 1), at(2026, 1, 2), 200)],
                ..Default::default()
            },
            RulesError::UnnamedCampaign,
        ),
        (
            EarningRules {
                campaigns: vec![campaign("BFCM", at(2026, 1, 2), at(2026, 1, 1), 200)],
                ..Default::default()
            },
            RulesError::CampaignEndsBeforeStart {
                name: "BFCM".to_owned(),
            },
        ),
        (
            EarningRules {
                campaigns: vec![campaign("BFCM", at(2026, 1, 1), at(2026, 1, 2), 0)],
                ..Default::default()
            },
            RulesError::MultiplierOutOfRange {
                what: "campaign \"BFCM\"".to_owned(),
                got: 0,
            },
        ),
    ];
    for (rules, expected) in cases {
        assert_eq!(rules.validate(), Err(expected));
    }
    let fine = EarningRules {
        points_per_unit: MAX_POINTS_PER_UNIT,
        product_multipliers: vec![product(5, 1000), product(6, 1)],
        campaigns: vec![campaign("x2", at(2026, 1, 1), at(2026, 1, 2), 200)],
        ..Default::default()
    };
    assert_eq!(fine.validate(), Ok(()));
    assert_eq!(
        RulesError::MultiplierOutOfRange {
            what: "product 5".to_owned(),
            got: 0
        }
        .to_string(),
        "product 5: multiplier must be between 1% and 1000%, got 0%"
    );
}

#[test]
fn who_earns() {
    let paid = EarningRules::default();
    let created = EarningRules {
        earn_on: EarnOn::Created,
        ..Default::default()
    };
    let base = order(vec![line(1, 1, 1, 1000, 0)], 1000);
    let with = |status: &str| OrderFacts {
        financial_status: FinancialStatus::from(status),
        ..base.clone()
    };
    for (status, on_paid, on_created) in [
        ("paid", true, true),
        ("partially_refunded", true, true),
        ("refunded", true, true),
        ("pending", false, true),
        ("authorized", false, true),
        ("partially_paid", false, true),
        ("voided", false, false),
        ("", false, true),
    ] {
        assert_eq!(
            should_earn(&paid, &with(status)),
            on_paid,
            "paid rule, {status}"
        );
        assert_eq!(
            should_earn(&created, &with(status)),
            on_created,
            "created rule, {status}"
        );
    }
    let cancelled = OrderFacts {
        cancelled_at: Some(at(2026, 3, 2)),
        ..base.clone()
    };
    assert!(!should_earn(&paid, &cancelled) && !should_earn(&created, &cancelled));
    let test = OrderFacts { test: true, ..base };
    assert!(!should_earn(&paid, &test) && !should_earn(&created, &test));
    let try_it = EarningRules {
        earn_on_test_orders: true,
        ..Default::default()
    };
    assert!(should_earn(&try_it, &test));
}

#[test]
fn one_point_per_whole_unit_rounded_as_configured() {
    let o = order(vec![line(1, 1, 1, 1050, 0)], 1050);
    for (rounding, points) in [
        (Rounding::Down, 10),
        (Rounding::Nearest, 11),
        (Rounding::Up, 11),
    ] {
        let rules = EarningRules {
            rounding,
            ..Default::default()
        };
        assert_eq!(award(&rules, &o).points, points, "{rounding:?}");
    }
    let o = order(vec![line(1, 1, 1, 1049, 0)], 1049);
    let nearest = EarningRules {
        rounding: Rounding::Nearest,
        ..Default::default()
    };
    assert_eq!(award(&nearest, &o).points, 10);
    let exact = order(vec![line(1, 1, 2, 1000, 0)], 2000);
    let up = EarningRules {
        rounding: Rounding::Up,
        ..Default::default()
    };
    assert_eq!(award(&up, &exact).points, 20);
    let s = award(
        &EarningRules::default(),
        &order(vec![line(1, 1, 1, 19_900, 0)], 19_900),
    );
    assert_eq!(
        (s.points, s.basis, line_points(&s)),
        (199, Money::new(19_900), vec![199])
    );
}

#[test]
fn order_level_discounts_are_spread_pro_rata() {
    // 100.00 + 300.00 with 40.00 off the order: the lines carry 90.00 and 270.00.
    let mut o = order(
        vec![line(1, 1, 1, 10_000, 0), line(2, 2, 3, 10_000, 0)],
        36_000,
    );
    o.total_discounts = Money::new(4000);
    let s = award(&EarningRules::default(), &o);
    assert_eq!(line_amounts(&s), vec![9000, 27_000]);
    assert_eq!((s.points, line_points(&s)), (360, vec![90, 270]));
    // Line discounts first, then the rest: 50.00 - 10.00 line discount, 50.00, subtotal 80.00.
    let o = order(
        vec![line(1, 1, 1, 5000, 1000), line(2, 2, 1, 5000, 0)],
        8000,
    );
    assert_eq!(
        line_amounts(&award(&EarningRules::default(), &o)),
        vec![3556, 4444]
    );
}

#[test]
fn allocation_adds_up_to_the_subtotal_by_largest_remainder() {
    let o = order(
        vec![
            line(1, 1, 1, 100, 0),
            line(2, 2, 1, 100, 0),
            line(3, 3, 1, 100, 0),
        ],
        200,
    );
    let s = award(&EarningRules::default(), &o);
    assert_eq!(line_amounts(&s), vec![67, 67, 66]);
    assert_eq!(s.points, 2);
    // Lines priced at zero still carry a subtotal that says otherwise (inconsistent data).
    let o = order(vec![line(1, 1, 1, 0, 0), line(2, 2, 1, 0, 0)], 1001);
    assert_eq!(
        line_amounts(&award(&EarningRules::default(), &o)),
        vec![501, 500]
    );
    // No lines at all: nothing to attribute, nothing earned.
    let s = award(&EarningRules::default(), &order(Vec::new(), 5000));
    assert_eq!((s.points, s.basis), (0, Money::ZERO));
}

#[test]
fn points_are_rounded_once_for_the_whole_order() {
    // Three lines of 0.50: 1.50 in all earns 1 point, attributed to one line.
    let o = order(
        vec![
            line(1, 1, 1, 50, 0),
            line(2, 2, 1, 50, 0),
            line(3, 3, 1, 50, 0),
        ],
        150,
    );
    let s = award(&EarningRules::default(), &o);
    assert_eq!((s.points, line_points(&s)), (1, vec![1, 0, 0]));
    let up = EarningRules {
        rounding: Rounding::Up,
        ..Default::default()
    };
    let s = award(&up, &o);
    assert_eq!((s.points, line_points(&s)), (2, vec![1, 1, 0]));
}

#[test]
fn currency_exponents_and_unit_size() {
    let mut o = order(vec![line(1, 1, 1, 1500, 0)], 1500);
    o.currency = "JPY".to_owned();
    assert_eq!(award(&EarningRules::default(), &o).points, 1500);
    let per_hundred = EarningRules {
        unit_size: 100,
        ..Default::default()
    };
    assert_eq!(award(&per_hundred, &o).points, 15);
    o.currency = "KWD".to_owned();
    assert_eq!(award(&EarningRules::default(), &o).points, 1);
}

#[test]
fn gift_cards_never_earn_and_keep_their_own_price() {
    let mut gift = line(1, 9, 1, 5000, 0);
    gift.gift_card = true;
    // 10.00 off the order applies only to the other line.
    let o = order(vec![gift, line(2, 2, 1, 10_000, 0)], 14_000);
    let s = award(&EarningRules::default(), &o);
    assert_eq!(line_amounts(&s), vec![5000, 9000]);
    assert_eq!(s.lines[0].eligible, Money::ZERO);
    assert!(s.lines[0].gift_card);
    assert_eq!(
        (s.points, line_points(&s), s.basis),
        (90, vec![0, 90], Money::new(9000))
    );
}

#[test]
fn shipping_and_tax_earn_only_when_included() {
    let mut o = order(vec![line(1, 1, 1, 10_000, 0)], 10_000);
    o.shipping = Money::new(1050);
    o.total_tax = Money::new(825);
    let s = award(&EarningRules::default(), &o);
    assert_eq!((s.points, s.shipping_points, s.tax_points), (100, 0, 0));
    let all = EarningRules {
        include_shipping: true,
        include_tax: true,
        ..Default::default()
    };
    let s = award(&all, &o);
    // 100 + 10.50 + 8.25 = 118.75 → 118, split 100 / 10 / 8.
    assert_eq!((s.points, s.shipping_points, s.tax_points), (118, 10, 8));
    assert_eq!(line_points(&s), vec![100]);
    assert_eq!(s.basis, Money::new(11_875));
}

#[test]
fn before_discounts_earns_on_line_prices() {
    let o = order(
        vec![line(1, 1, 2, 2500, 1000), line(2, 2, 1, 5000, 0)],
        8000,
    );
    let rules = EarningRules {
        before_discounts: true,
        ..Default::default()
    };
    let s = award(&rules, &o);
    assert_eq!((s.points, line_amounts(&s)), (100, vec![5000, 5000]));
}

#[test]
fn highest_multiplier_wins_without_stacking() {
    let rules = EarningRules {
        product_multipliers: vec![
            ProductMultiplier {
                product_id: id(1),
                multiplier_pct: 150,
            },
            ProductMultiplier {
                product_id: id(2),
                multiplier_pct: 50,
            },
        ],
        collection_multipliers: vec![
            CollectionMultiplier {
                collection_id: id(70),
                multiplier_pct: 300,
            },
            CollectionMultiplier {
                collection_id: id(71),
                multiplier_pct: 200,
            },
        ],
        ..Default::default()
    };
    let collections = |p: &PlatformId| match p.as_str() {
        "1" => vec!["71".to_owned()],
        "3" => vec!["70".to_owned(), "71".to_owned()],
        _ => Vec::new(),
    };
    let lines = vec![
        line(1, 1, 1, 10_000, 0), // product 150 vs collection 200 → 200
        line(2, 2, 1, 10_000, 0), // product 50 only → 50
        line(3, 3, 1, 10_000, 0), // collections 300 and 200 → 300
        line(4, 4, 1, 10_000, 0), // nothing → 100
    ];
    let s = award_for_order(&rules, &order(lines, 40_000), &collections, 100);
    let pcts: Vec<u32> = s.lines.iter().map(|l| l.multiplier_pct).collect();
    assert_eq!(pcts, vec![200, 50, 300, 100]);
    assert_eq!((s.points, line_points(&s)), (650, vec![200, 50, 300, 100]));
}

#[test]
fn campaigns_apply_by_order_time_and_the_best_one_wins() {
    let campaign = |name: &str, start, end, pct| Campaign {
        name: name.to_owned(),
        starts_at: start,
        ends_at: end,
        multiplier_pct: pct,
    };
    let rules = EarningRules {
        campaigns: vec![
            campaign("March", at(2026, 3, 1), at(2026, 4, 1), 200),
            campaign("Launch", at(2026, 2, 20), at(2026, 3, 2), 300),
        ],
        ..Default::default()
    };
    let mut o = order(vec![line(1, 1, 1, 1000, 0)], 1000);
    let s = award(&rules, &o);
    assert_eq!(
        (s.points, s.campaign.as_deref(), s.campaign_multiplier_pct),
        (30, Some("Launch"), 300)
    );
    o.created_at = at(2026, 3, 15);
    assert_eq!(award(&rules, &o).points, 20);
    o.created_at = at(2026, 4, 1); // the instant "March" ends: excluded
    let s = award(&rules, &o);
    assert_eq!(
        (s.points, s.campaign, s.campaign_multiplier_pct),
        (10, None, 100)
    );
}

#[test]
fn tier_multiplier_applies_to_everything_and_is_capped() {
    let mut o = order(vec![line(1, 1, 1, 1000, 0)], 1000);
    o.shipping = Money::new(1000);
    let rules = EarningRules {
        include_shipping: true,
        ..Default::default()
    };
    let s = award_for_order(&rules, &o, &no_collections, 150);
    assert_eq!(
        (s.points, s.shipping_points, s.tier_multiplier_pct),
        (30, 15, 150)
    );
    let s = award_for_order(&rules, &o, &no_collections, 5000);
    assert_eq!((s.points, s.tier_multiplier_pct), (200, MAX_MULTIPLIER_PCT));
}

fn refunded(pairs: &[(u64, i64)]) -> Vec<(PlatformId, i64)> {
    pairs.iter().map(|(l, q)| (id(*l), *q)).collect()
}

#[test]
fn partial_refunds_add_up_to_the_award() {
    let mut o = order(vec![line(1, 1, 3, 1000, 0), line(2, 2, 1, 2500, 0)], 5500);
    o.shipping = Money::new(500);
    let rules = EarningRules {
        include_shipping: true,
        ..Default::default()
    };
    let s = award(&rules, &o);
    assert_eq!(
        (s.points, line_points(&s), s.shipping_points),
        (60, vec![30, 25], 5)
    );
    // One of three units of line 1, then another, then everything.
    let first = reversal_for_refund(&s, &refunded(&[(1, 1)]), Money::ZERO, 0);
    assert_eq!(first, 10);
    let second = reversal_for_refund(&s, &refunded(&[(1, 1), (1, 1)]), Money::ZERO, first);
    assert_eq!(second, 10);
    let rest = reversal_for_refund(
        &s,
        &refunded(&[(1, 3), (2, 1)]),
        Money::ZERO,
        first + second,
    );
    assert_eq!(rest, 40);
    assert_eq!(first + second + rest, s.points);
    // Replaying any refund afterwards takes nothing more.
    assert_eq!(
        reversal_for_refund(&s, &refunded(&[(1, 3), (2, 1)]), Money::ZERO, s.points),
        0
    );
    // Over-refunded quantities and unknown lines are capped and ignored.
    assert_eq!(
        reversal_for_refund(&s, &refunded(&[(1, 9), (2, 5), (77, 1)]), Money::ZERO, 0),
        60
    );
}

#[test]
fn floors_per_line_never_overshoot() {
    // 10 points on 3 units: 1 unit → 3, 2 units → 6, 3 units → 10.
    let s = award(
        &EarningRules::default(),
        &order(vec![line(1, 1, 3, 334, 0)], 1002),
    );
    assert_eq!(s.points, 10);
    let mut taken = 0;
    for (qty, expected) in [(1, 3), (2, 3), (3, 4)] {
        let now = reversal_for_refund(&s, &refunded(&[(1, qty)]), Money::ZERO, taken);
        assert_eq!(now, expected);
        taken += now;
    }
}

#[test]
fn amount_only_refunds_take_back_their_share() {
    let s = award(
        &EarningRules::default(),
        &order(vec![line(1, 1, 1, 20_000, 0)], 20_000),
    );
    assert_eq!(s.points, 200);
    assert_eq!(reversal_for_refund(&s, &[], Money::new(5000), 0), 50);
    assert_eq!(reversal_for_refund(&s, &[], Money::new(5050), 50), 0);
    assert_eq!(reversal_for_refund(&s, &[], Money::new(99_999), 50), 150);
    assert_eq!(reversal_for_refund(&s, &[], Money::new(-10), 0), 0);
    // Lines and amounts together never exceed the award.
    assert_eq!(
        reversal_for_refund(&s, &refunded(&[(1, 1)]), Money::new(20_000), 0),
        200
    );
}

#[test]
fn a_refund_with_only_shipping_takes_no_points() {
    let mut o = order(vec![line(1, 1, 1, 10_000, 0)], 10_000);
    o.shipping = Money::new(1000);
    o.total_tax = Money::new(800);
    let s = award(&EarningRules::default(), &o);
    assert_eq!(s.points, 100);
    // Shipping and the tax on it, refunded without any line: nothing earned on them.
    let shipping_only = Refunded {
        shipping: Money::new(1000),
        tax: Money::new(80),
        ..Refunded::default()
    };
    assert_eq!(reversal_for_refunds(&s, &shipping_only, 0), 0);
    // A tax-only refund likewise.
    let tax_only = Refunded {
        tax: Money::new(800),
        ..Refunded::default()
    };
    assert_eq!(reversal_for_refunds(&s, &tax_only, 0), 0);
    // Goods money still counts beside it.
    let with_goods = Refunded {
        unattributed: Money::new(2500),
        ..shipping_only
    };
    assert_eq!(reversal_for_refunds(&s, &with_goods, 0), 25);
}

#[test]
fn a_shipping_refund_takes_back_only_what_shipping_earned() {
    let mut o = order(vec![line(1, 1, 2, 5000, 0)], 10_000);
    o.shipping = Money::new(1000);
    o.total_tax = Money::new(500);
    let rules = EarningRules {
        include_shipping: true,
        include_tax: true,
        ..Default::default()
    };
    let s = award(&rules, &o);
    assert_eq!((s.points, s.shipping_points, s.tax_points), (115, 10, 5));
    let half_shipping = Refunded {
        shipping: Money::new(500),
        ..Refunded::default()
    };
    assert_eq!(reversal_for_refunds(&s, &half_shipping, 0), 5);
    // More shipping than was charged never takes more than shipping earned.
    let too_much = Refunded {
        shipping: Money::new(50_000),
        ..Refunded::default()
    };
    assert_eq!(reversal_for_refunds(&s, &too_much, 0), 10);
    // Every line refunded as well: everything goes back, once.
    let lines = refunded(&[(1, 2)]);
    let all = Refunded {
        lines: &lines,
        ..too_much
    };
    assert_eq!(reversal_for_refunds(&s, &all, 10), 105);
    // An unattributed refund of the whole order returns shipping and tax points too.
    let whole = Refunded {
        unattributed: Money::new(11_500),
        ..Refunded::default()
    };
    assert_eq!(reversal_for_refunds(&s, &whole, 0), 115);
}

#[test]
fn orders_dated_before_the_install_are_history() {
    let installed = at(2026, 3, 10);
    let mut o = order(vec![line(1, 1, 1, 1000, 0)], 1000);
    o.created_at = at(2026, 3, 1);
    assert!(!earns_despite_date(&o, installed, false));
    assert!(
        earns_despite_date(&o, installed, true),
        "the owner asked to award history"
    );
    // The order's date is processed_at when given: an order imported today but processed
    // before the install is still history.
    o.created_at = at(2026, 3, 20);
    o.processed_at = Some(at(2026, 3, 1));
    assert_eq!(o.date(), at(2026, 3, 1));
    assert!(!earns_despite_date(&o, installed, false));
    o.processed_at = Some(at(2026, 3, 11));
    assert!(earns_despite_date(&o, installed, false));
    o.processed_at = None;
    assert_eq!(o.date(), o.created_at);
}

#[test]
fn reversals_are_never_negative_and_cancellation_takes_the_rest() {
    let s = award(
        &EarningRules::default(),
        &order(vec![line(1, 1, 2, 1000, 0)], 2000),
    );
    assert_eq!(
        reversal_for_refund(&s, &refunded(&[(1, 1)]), Money::ZERO, 15),
        0
    );
    assert_eq!(
        reversal_for_refund(&s, &refunded(&[(1, 1)]), Money::ZERO, -5),
        10
    );
    assert_eq!(reversal_for_cancellation(&s, 0), 20);
    assert_eq!(reversal_for_cancellation(&s, 12), 8);
    assert_eq!(reversal_for_cancellation(&s, 25), 0);
    assert_eq!(reversal_for_cancellation(&s, -3), 20);
}

#[test]
fn reversals_use_the_snapshot_not_todays_rules() {
    let o = order(vec![line(1, 1, 2, 1000, 0)], 2000);
    let then = EarningRules {
        product_multipliers: vec![ProductMultiplier {
            product_id: id(1),
            multiplier_pct: 300,
        }],
        ..Default::default()
    };
    let stored = serde_json::to_string(&award(&then, &o)).unwrap();
    // The owner drops the bonus; the stored snapshot still says 60 points, 30 per unit.
    let now = EarningRules::default();
    assert_eq!(award(&now, &o).points, 20);
    let snapshot: AwardSnapshot = serde_json::from_str(&stored).unwrap();
    assert_eq!(snapshot.rules, then);
    assert_eq!(
        reversal_for_refund(&snapshot, &refunded(&[(1, 1)]), Money::ZERO, 0),
        30
    );
}

#[test]
fn signup_and_birthday() {
    let rules = EarningRules {
        signup_points: 100,
        birthday_points: 250,
        ..Default::default()
    };
    assert_eq!(signup_award(&rules), Some(100));
    assert_eq!(signup_award(&EarningRules::default()), None);

    let day = |y, m, d| NaiveDate::from_ymd_opt(y, m, d).unwrap();
    let born = day(1990, 6, 15);
    assert!(birthday_due(&rules, born, day(2026, 6, 15), None));
    assert!(birthday_due(&rules, born, day(2026, 6, 15), Some(2025)));
    assert!(!birthday_due(&rules, born, day(2026, 6, 15), Some(2026)));
    assert!(!birthday_due(&rules, born, day(2026, 6, 14), None));
    assert!(birthday_due(&rules, born, day(2026, 6, 21), None));
    assert!(!birthday_due(&rules, born, day(2026, 6, 22), None));
    assert!(!birthday_due(
        &EarningRules::default(),
        born,
        day(2026, 6, 15),
        None
    ));
    assert!(!birthday_due(
        &rules,
        day(2030, 1, 1),
        day(2026, 1, 1),
        None
    ));

    let leap = day(2000, 2, 29);
    assert_eq!(observed_birthday(leap, 2027), Some(day(2027, 3, 1)));
    assert_eq!(observed_birthday(leap, 2028), Some(day(2028, 2, 29)));
    assert!(!birthday_due(&rules, leap, day(2027, 2, 28), None));
    assert!(birthday_due(&rules, leap, day(2027, 3, 1), None));
    assert!(birthday_due(&rules, leap, day(2028, 2, 29), None));
    assert!(!birthday_due(&rules, leap, day(2028, 3, 1), Some(2028)));

    // The grace window stops at the end of the year.
    let late = day(1985, 12, 30);
    assert!(birthday_due(&rules, late, day(2026, 12, 31), None));
    assert!(!birthday_due(&rules, late, day(2027, 1, 2), Some(2025)));
}
