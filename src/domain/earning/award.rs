//! Points for an order, split exactly across its lines.
//!
//! The order's points are computed once, on the exact (rational) total, and rounded once, so a
//! ten-line order earns the same as one line of the same value. Those points are then split
//! across lines, shipping and tax by largest remainder, so the parts always add up to the total
//! and a refund of one line can take back that line's share without drift.

use std::cmp::Reverse;

use serde::{Deserialize, Serialize};

use super::rules::{EarningRules, Rounding, MAX_MULTIPLIER_PCT};
use crate::domain::event::{OrderFacts, OrderLine, PlatformId};
use crate::domain::money::{minor_unit_exponent, Money};

/// What one order line earned.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LineAward {
    /// The order line.
    pub line_id: PlatformId,
    /// Units ordered (refunds take back `points * refunded / quantity`).
    pub quantity: i64,
    /// The line's share of the subtotal (or its pre-discount price with `before_discounts`).
    pub amount: Money,
    /// The part of `amount` that earned (zero for gift cards and lines without units).
    pub eligible: Money,
    /// A gift-card line (never earns).
    pub gift_card: bool,
    /// Product/collection multiplier applied to this line (100 = x1).
    pub multiplier_pct: u32,
    /// Points attributed to this line.
    pub points: i64,
}

/// An award as computed, stored with its ledger line so that refunds and cancellations
/// reverse exactly what was earned, whatever the rules say by then.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AwardSnapshot {
    /// Total points awarded: `sum(lines.points) + shipping_points + tax_points`.
    pub points: i64,
    /// A copy of the rules used.
    pub rules: EarningRules,
    /// The member's tier multiplier used (100 = x1).
    pub tier_multiplier_pct: u32,
    /// The campaign applied, if any.
    pub campaign: Option<String>,
    /// Its multiplier (100 when none).
    pub campaign_multiplier_pct: u32,
    /// The money that earned: eligible line amounts plus shipping and tax when included.
    pub basis: Money,
    /// Per-line split.
    pub lines: Vec<LineAward>,
    /// Points attributed to shipping (zero unless the rules include it).
    pub shipping_points: i64,
    /// Points attributed to tax (zero unless the rules include it).
    pub tax_points: i64,
}

/// Computes the award for an order (whether it *should* earn is `should_earn`'s question).
///
/// `collections` maps a product to the ids of the collections it belongs to;
/// `tier_multiplier_pct` is the member's tier bonus (100 = none). Multipliers above
/// `MAX_MULTIPLIER_PCT` are capped. Amounts are in the order's (shop) currency.
pub fn award_for_order(
    rules: &EarningRules,
    order: &OrderFacts,
    collections: &impl Fn(&PlatformId) -> Vec<String>,
    tier_multiplier_pct: u32,
) -> AwardSnapshot {
    let tier = tier_multiplier_pct.min(MAX_MULTIPLIER_PCT);
    let campaign = rules.active_campaign(order.created_at);
    let campaign_pct = campaign.map_or(100, |c| c.multiplier_pct.min(MAX_MULTIPLIER_PCT));
    // Points = money / (minor units per unit * unit_size) * ppu * line% * campaign% * tier%.
    // Everything stays an integer numerator over one common denominator until the single rounding.
    let exponent = minor_unit_exponent(&order.currency.to_ascii_uppercase());
    let denominator =
        10i128.pow(u32::from(exponent)) * i128::from(rules.unit_size.max(1)) * 1_000_000;
    let common = i128::from(rules.points_per_unit) * i128::from(campaign_pct) * i128::from(tier);

    let amounts = line_amounts(rules.before_discounts, order);
    let mut lines: Vec<LineAward> = order
        .lines
        .iter()
        .zip(amounts)
        .map(|(line, amount)| {
            let multiplier_pct = if line.gift_card {
                100
            } else {
                let ids = line
                    .product_id
                    .as_ref()
                    .map(collections)
                    .unwrap_or_default();
                rules
                    .line_multiplier_pct(line.product_id.as_ref(), &ids)
                    .min(MAX_MULTIPLIER_PCT)
            };
            // A line with no units cannot be refunded by quantity, so it must not hold points.
            let earns = !line.gift_card && line.quantity > 0;
            let eligible = if earns { amount.max(0) } else { 0 };
            LineAward {
                line_id: line.line_id.clone(),
                quantity: line.quantity,
                amount: Money::new(amount),
                eligible: Money::new(eligible),
                gift_card: line.gift_card,
                multiplier_pct,
                points: 0,
            }
        })
        .collect();
    let shipping = if rules.include_shipping {
        order.shipping.minor.max(0)
    } else {
        0
    };
    let tax = if rules.include_tax {
        order.total_tax.minor.max(0)
    } else {
        0
    };

    let mut numerators: Vec<i128> = lines
        .iter()
        .map(|l| {
            i128::from(l.eligible.minor)
                .saturating_mul(i128::from(l.multiplier_pct))
                .saturating_mul(common)
        })
        .collect();
    numerators.push(i128::from(shipping).saturating_mul(100 * common));
    numerators.push(i128::from(tax).saturating_mul(100 * common));
    let exact = numerators.iter().fold(0i128, |a, n| a.saturating_add(*n));
    let total = round_div(exact, denominator, rules.rounding);
    let mut parts = apportion(&numerators, denominator, total)
        .into_iter()
        .map(to_i64);
    for line in &mut lines {
        line.points = parts.next().unwrap_or(0);
    }
    let shipping_points = parts.next().unwrap_or(0);
    let tax_points = parts.next().unwrap_or(0);

    let basis = lines
        .iter()
        .map(|l| l.eligible)
        .chain([Money::new(shipping), Money::new(tax)])
        .fold(Money::ZERO, Money::saturating_add);
    AwardSnapshot {
        points: lines.iter().map(|l| l.points).fold(
            shipping_points.saturating_add(tax_points),
            i64::saturating_add,
        ),
        rules: rules.clone(),
        tier_multiplier_pct: tier,
        campaign: campaign.map(|c| c.name.clone()),
        campaign_multiplier_pct: campaign_pct,
        basis,
        lines,
        shipping_points,
        tax_points,
    }
}

fn to_i64(x: i128) -> i64 {
    i64::try_from(x.max(0)).unwrap_or(i64::MAX)
}

/// `n / d` (both non-negative, `d > 0`) rounded as the rules say.
fn round_div(n: i128, d: i128, rounding: Rounding) -> i128 {
    let (q, r) = (n / d, n % d);
    match rounding {
        Rounding::Down => q,
        Rounding::Up => q + i128::from(r != 0),
        Rounding::Nearest => q + i128::from(r >= d - r),
    }
}

/// Integer parts of the exact shares `numerators[i] / denominator` that add up to `target`:
/// every part gets its floor, then the parts with the largest remainders (earliest first on a
/// tie) get one more until the target is met. `target` must lie between the sum of the floors
/// and that sum plus the number of parts, which rounding the exact sum guarantees.
pub(super) fn apportion(numerators: &[i128], denominator: i128, target: i128) -> Vec<i128> {
    let mut parts: Vec<i128> = numerators.iter().map(|n| n / denominator).collect();
    let floors = parts.iter().fold(0i128, |a, p| a.saturating_add(*p));
    let len = i128::try_from(parts.len()).unwrap_or(i128::MAX);
    let deficit = usize::try_from(target.saturating_sub(floors).clamp(0, len)).unwrap_or(0);
    let mut order: Vec<(usize, i128)> = numerators
        .iter()
        .map(|n| n % denominator)
        .enumerate()
        .collect();
    // Stable sort: ties keep their original (line) order.
    order.sort_by_key(|&(_, remainder)| Reverse(remainder));
    for (index, _) in order.into_iter().take(deficit) {
        if let Some(part) = parts.get_mut(index) {
            *part += 1;
        }
    }
    parts
}

/// Each line's share of the money that can earn, in minor units, summing to the subtotal
/// (after discounts) whenever the order has lines, or each line's pre-discount price.
fn line_amounts(before_discounts: bool, order: &OrderFacts) -> Vec<i64> {
    let gross = |l: &OrderLine| {
        (i128::from(l.unit_price.minor) * i128::from(l.quantity)).clamp(0, i128::from(i64::MAX))
    };
    if before_discounts {
        return order.lines.iter().map(|l| to_i64(gross(l))).collect();
    }
    let nets: Vec<i128> = order
        .lines
        .iter()
        .map(|l| (gross(l) - i128::from(l.total_discount.minor)).clamp(0, i128::from(i64::MAX)))
        .collect();
    let mut remaining = i128::from(order.subtotal.minor.max(0));
    let mut shares = vec![0i128; order.lines.len()];
    // Order-level discounts never apply to gift cards, so they keep their own net price and
    // the discount is spread over the other lines only.
    for ((share, line), net) in shares.iter_mut().zip(&order.lines).zip(&nets) {
        if line.gift_card {
            *share = (*net).min(remaining);
            remaining -= *share;
        }
    }
    // Pro rata to each line's net price; lines priced at zero share equally only if nothing
    // else can (so that the shares still add up to the subtotal).
    let by_net: Vec<i128> = order
        .lines
        .iter()
        .zip(&nets)
        .map(|(l, n)| if l.gift_card { 0 } else { *n })
        .collect();
    let by_count: Vec<i128> = order
        .lines
        .iter()
        .map(|l| i128::from(!l.gift_card && l.quantity > 0))
        .collect();
    let anyone = vec![1i128; order.lines.len()];
    let weights = [by_net, by_count, anyone]
        .into_iter()
        .find(|w| w.iter().sum::<i128>() > 0)
        .unwrap_or_default();
    let weight_sum: i128 = weights.iter().sum();
    if weight_sum > 0 && remaining > 0 {
        let numerators: Vec<i128> = weights.iter().map(|w| remaining * w).collect();
        for (share, extra) in shares
            .iter_mut()
            .zip(apportion(&numerators, weight_sum, remaining))
        {
            *share += extra;
        }
    }
    shares.into_iter().map(to_i64).collect()
}
