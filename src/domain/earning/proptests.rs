//! Properties of awards and reversals over random orders, rules and refund sequences.

use proptest::prelude::*;

use super::tests::{at, id, line, order};
use super::*;
use crate::domain::event::{OrderFacts, PlatformId};
use crate::domain::money::Money;

prop_compose! {
    fn arb_order()(
        specs in prop::collection::vec(
            (0i64..5, 0i64..200_000, 0i64..=100, prop::bool::weighted(0.15), 1u64..7),
            0..6,
        ),
        order_discount_pct in 0i64..=100,
        shipping in 0i64..5000,
        tax in 0i64..5000,
        currency in prop::sample::select(vec!["USD", "JPY", "KWD"]),
        day in 1u32..28,
    ) -> OrderFacts {
        let lines: Vec<_> = specs
            .iter()
            .zip(1u64..)
            .map(|(&(qty, unit, discount_pct, gift, product), line_id)| {
                let mut l = line(line_id, product, qty, unit, unit * qty * discount_pct / 100);
                l.gift_card = gift;
                l
            })
            .collect();
        let nets: i64 = lines
            .iter()
            .map(|l| l.unit_price.minor * l.quantity - l.total_discount.minor)
            .sum();
        let mut o = order(lines, nets * (100 - order_discount_pct) / 100);
        o.shipping = Money::new(shipping);
        o.total_tax = Money::new(tax);
        o.currency = currency.to_owned();
        o.created_at = at(2026, 3, day);
        o
    }
}

prop_compose! {
    fn arb_rules()(
        points_per_unit in 0u32..50,
        unit_size in 1u32..4,
        rounding in prop::sample::select(vec![Rounding::Down, Rounding::Nearest, Rounding::Up]),
        include_shipping in any::<bool>(),
        include_tax in any::<bool>(),
        before_discounts in any::<bool>(),
        products in prop::collection::vec((1u64..7, 1u32..=1000), 0..4),
        collections in prop::collection::vec((0u64..3, 1u32..=1000), 0..3),
        campaign_pct in 1u32..=1000,
        campaign_end in 1u32..28,
    ) -> EarningRules {
        EarningRules {
            points_per_unit,
            unit_size,
            rounding,
            include_shipping,
            include_tax,
            before_discounts,
            product_multipliers: products
                .into_iter()
                .map(|(p, pct)| ProductMultiplier { product_id: id(p), multiplier_pct: pct })
                .collect(),
            collection_multipliers: collections
                .into_iter()
                .map(|(c, pct)| CollectionMultiplier { collection_id: id(c), multiplier_pct: pct })
                .collect(),
            campaigns: vec![Campaign {
                name: "bonus".to_owned(),
                starts_at: at(2026, 3, 1),
                ends_at: at(2026, 3, campaign_end),
                multiplier_pct: campaign_pct,
            }],
            ..Default::default()
        }
    }
}

fn collections_of(product: &PlatformId) -> Vec<String> {
    vec![(product.as_u64() % 3).to_string()]
}

fn snapshot(rules: &EarningRules, order: &OrderFacts, tier: u32) -> AwardSnapshot {
    award_for_order(rules, order, &collections_of, tier)
}

/// Refund steps: each seed byte refunds one more unit of some line that has units left.
fn refund_plan(s: &AwardSnapshot, seeds: &[u8]) -> Vec<Vec<(PlatformId, i64)>> {
    let mut refunded: Vec<i64> = vec![0; s.lines.len()];
    let mut plan = Vec::new();
    for seed in seeds {
        let open: Vec<usize> = (0..s.lines.len())
            .filter(|&i| refunded[i] < s.lines[i].quantity)
            .collect();
        if open.is_empty() {
            break;
        }
        refunded[open[usize::from(*seed) % open.len()]] += 1;
        plan.push(cumulative(s, &refunded));
    }
    plan.push(cumulative(
        s,
        &s.lines.iter().map(|l| l.quantity).collect::<Vec<_>>(),
    ));
    plan
}

fn cumulative(s: &AwardSnapshot, quantities: &[i64]) -> Vec<(PlatformId, i64)> {
    s.lines
        .iter()
        .zip(quantities)
        .map(|(l, q)| (l.line_id.clone(), *q))
        .collect()
}

proptest! {
    #[test]
    fn parts_add_up_to_the_award(rules in arb_rules(), order in arb_order(), tier in 1u32..=1000) {
        let s = snapshot(&rules, &order, tier);
        let line_sum: i64 = s.lines.iter().map(|l| l.points).sum();
        prop_assert_eq!(line_sum + s.shipping_points + s.tax_points, s.points);
        prop_assert!(s.lines.iter().all(|l| l.points >= 0));
        prop_assert!(s.shipping_points >= 0 && s.tax_points >= 0);
        prop_assert!(s.lines.iter().filter(|l| l.gift_card).all(|l| l.points == 0));
        if !rules.before_discounts && !order.lines.is_empty() {
            let amounts: i64 = s.lines.iter().map(|l| l.amount.minor).sum();
            prop_assert_eq!(amounts, order.subtotal.minor);
        }
        let eligible: i64 = s.lines.iter().map(|l| l.eligible.minor).sum();
        let extra = if rules.include_shipping { order.shipping.minor } else { 0 }
            + if rules.include_tax { order.total_tax.minor } else { 0 };
        prop_assert_eq!(s.basis.minor, eligible + extra);
    }

    #[test]
    fn default_program_is_one_point_per_whole_unit(mut order in arb_order()) {
        order.currency = "USD".to_owned();
        for l in &mut order.lines {
            l.gift_card = false;
        }
        let s = snapshot(&EarningRules::default(), &order, 100);
        let expected = if order.lines.is_empty() { 0 } else { order.subtotal.minor / 100 };
        prop_assert_eq!(s.points, expected);
    }

    #[test]
    fn refunding_everything_in_steps_reverses_exactly_the_award(
        rules in arb_rules(),
        order in arb_order(),
        tier in 1u32..=1000,
        seeds in prop::collection::vec(any::<u8>(), 0..20),
    ) {
        let s = snapshot(&rules, &order, tier);
        let mut taken = 0;
        for refunded in refund_plan(&s, &seeds) {
            let now = reversal_for_refund(&s, &refunded, Money::ZERO, taken);
            prop_assert!(now >= 0);
            taken += now;
            prop_assert!(taken <= s.points);
        }
        prop_assert_eq!(taken, s.points);
        prop_assert_eq!(reversal_for_cancellation(&s, taken), 0);
    }

    #[test]
    fn amount_only_refunds_of_the_whole_basis_reverse_the_award(
        rules in arb_rules(),
        order in arb_order(),
        cuts in prop::collection::vec(0u16..=1000, 0..6),
    ) {
        let s = snapshot(&rules, &order, 100);
        let mut steps: Vec<i64> = cuts.iter().map(|c| s.basis.minor * i64::from(*c) / 1000).collect();
        steps.sort_unstable();
        steps.push(s.basis.minor);
        let mut taken = 0;
        for amount in steps {
            let now = reversal_for_refund(&s, &[], Money::new(amount), taken);
            prop_assert!(now >= 0);
            taken += now;
            prop_assert!(taken <= s.points);
        }
        let expected = if s.basis.minor > 0 { s.points } else { 0 };
        prop_assert_eq!(taken, expected);
    }

    #[test]
    fn any_refund_input_stays_within_the_award(
        rules in arb_rules(),
        order in arb_order(),
        refunds in prop::collection::vec((0u64..9, -3i64..9), 0..8),
        amount in -10_000i64..2_000_000,
        already_share in 0i64..=100,
    ) {
        let s = snapshot(&rules, &order, 100);
        let already = s.points * already_share / 100;
        let refunded: Vec<(PlatformId, i64)> = refunds.iter().map(|(l, q)| (id(*l), *q)).collect();
        let now = reversal_for_refund(&s, &refunded, Money::new(amount), already);
        prop_assert!(now >= 0);
        prop_assert!(already + now <= s.points);
        prop_assert!(reversal_for_cancellation(&s, already) >= now);
    }

    #[test]
    fn shipping_and_tax_refunds_take_back_at_most_what_shipping_and_tax_earned(
        rules in arb_rules(),
        order in arb_order(),
        shipping in -1000i64..20_000,
        tax in -1000i64..20_000,
    ) {
        let s = snapshot(&rules, &order, 100);
        let refunded = Refunded {
            shipping: Money::new(shipping),
            tax: Money::new(tax),
            ..Refunded::default()
        };
        let now = reversal_for_refunds(&s, &refunded, 0);
        prop_assert!(now >= 0);
        prop_assert!(now <= s.shipping_points + s.tax_points);
        if !rules.include_shipping && !rules.include_tax {
            prop_assert_eq!(now, 0);
        }
    }

    #[test]
    fn changing_the_rules_later_does_not_change_a_reversal(
        then in arb_rules(),
        now in arb_rules(),
        order in arb_order(),
        seeds in prop::collection::vec(any::<u8>(), 0..10),
        amount in 0i64..100_000,
    ) {
        let s = snapshot(&then, &order, 100);
        let stored: AwardSnapshot =
            serde_json::from_str(&serde_json::to_string(&s).unwrap()).unwrap();
        prop_assert_eq!(&stored, &s);
        // The owner edits the rules; a new award would differ, the stored one does not move.
        let _today = snapshot(&now, &order, 100);
        for refunded in refund_plan(&stored, &seeds) {
            prop_assert_eq!(
                reversal_for_refund(&stored, &refunded, Money::new(amount), 0),
                reversal_for_refund(&s, &refunded, Money::new(amount), 0),
            );
        }
        let everything = refund_plan(&stored, &[]).pop().unwrap_or_default();
        prop_assert_eq!(reversal_for_refund(&stored, &everything, Money::ZERO, 0), s.points);
    }
}
