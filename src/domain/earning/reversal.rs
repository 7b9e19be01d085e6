//! How many points a refund or cancellation takes back.
//!
//! Each call is given everything refunded *so far* and what the ledger has already taken back,
//! and answers with what to take back *now*. Working from the cumulative share means several
//! partial refunds add up to exactly the award once everything is refunded (no rounding drift),
//! a replayed or re-ordered refund cannot take back twice, and the total never exceeds the award.

use std::collections::HashMap;

use super::award::AwardSnapshot;
use crate::domain::event::PlatformId;
use crate::domain::money::Money;

/// Everything refunded on an order so far, over all its refunds.
#[derive(Debug, Clone, Copy, Default)]
pub struct Refunded<'a> {
    /// `(line_id, quantity)` refunded (repeated ids are added up; unknown ids are ignored).
    pub lines: &'a [(PlatformId, i64)],
    /// Money returned by refunds that name no line and is not known to be shipping or tax
    /// (goodwill amounts, custom refunds): counted against the goods first.
    pub unattributed: Money,
    /// Money returned for shipping (before its tax), by any refund.
    pub shipping: Money,
    /// Tax returned outside the refunded lines (e.g. on shipping), by any refund.
    pub tax: Money,
}

/// Points to take back now for the refunds of an order so far.
///
/// - Each refunded line gives back `floor(line points * refunded / quantity)`. Once every
///   line is fully refunded, the points shipping and tax earned go back too.
/// - Unattributed money gives back the goods' share `floor(line points * amount / line
///   basis)`; money beyond the whole line basis is counted as shipping and tax.
/// - Shipping and tax money give back only what shipping and tax earned, at the rate they
///   earned it: nothing under the default program, where they earn nothing. (A shipping-only
///   refund is not a refund of goods.)
/// - `already_reversed`: points the ledger has already taken back for this award.
///
/// The result is `min(award, cumulative) - already_reversed`, and never negative (a negative
/// `already_reversed` counts as zero).
pub fn reversal_for_refunds(
    snapshot: &AwardSnapshot,
    refunded: &Refunded<'_>,
    already_reversed: i64,
) -> i64 {
    let award = snapshot.points.max(0);
    let mut by_line: HashMap<&PlatformId, i64> = HashMap::new();
    for (id, quantity) in refunded.lines {
        let total = by_line.entry(id).or_insert(0);
        *total = total.saturating_add((*quantity).max(0));
    }

    let mut cumulative: i128 = 0;
    // Vacuously true for an order without lines: any refund of it refunds all its lines.
    let mut every_line_refunded = true;
    for line in &snapshot.lines {
        let quantity = line.quantity.max(0);
        let refunded_qty = by_line
            .get(&line.line_id)
            .copied()
            .unwrap_or(0)
            .min(quantity);
        if refunded_qty < quantity {
            every_line_refunded = false;
        }
        if quantity > 0 {
            cumulative +=
                i128::from(line.points.max(0)) * i128::from(refunded_qty) / i128::from(quantity);
        }
    }

    let line_points: i128 = snapshot
        .lines
        .iter()
        .map(|l| i128::from(l.points.max(0)))
        .sum();
    let line_basis: i128 = snapshot
        .lines
        .iter()
        .map(|l| i128::from(l.eligible.minor.max(0)))
        .sum();
    let other_points =
        i128::from(snapshot.shipping_points.max(0)) + i128::from(snapshot.tax_points.max(0));
    let other_basis = (i128::from(snapshot.basis.minor) - line_basis).max(0);
    let unattributed = i128::from(refunded.unattributed.minor.max(0));
    if line_basis > 0 {
        cumulative += line_points * unattributed.min(line_basis) / line_basis;
    }
    // Shipping and tax earned at one rate (no product multipliers apply to them), so their
    // money converts back at `other_points / other_basis`, each capped at what it earned.
    let at_other_rate = |money: i128| {
        if other_basis > 0 {
            other_points * money.clamp(0, other_basis) / other_basis
        } else {
            0
        }
    };
    let other_back = if every_line_refunded {
        other_points
    } else {
        let shipping = at_other_rate(i128::from(refunded.shipping.minor))
            .min(i128::from(snapshot.shipping_points.max(0)));
        let tax = at_other_rate(i128::from(refunded.tax.minor))
            .min(i128::from(snapshot.tax_points.max(0)));
        let beyond_goods = at_other_rate(unattributed - line_basis);
        (shipping + tax + beyond_goods).min(other_points)
    };
    cumulative += other_back;

    let cumulative = cumulative.min(i128::from(award));
    let now = cumulative - i128::from(already_reversed.max(0));
    i64::try_from(now.max(0)).unwrap_or(0)
}

/// [`reversal_for_refunds`] for refunds known only by their lines and their unattributed
/// money (`cumulative_refunded_amount_without_lines`).
pub fn reversal_for_refund(
    snapshot: &AwardSnapshot,
    cumulative_refunded_lines: &[(PlatformId, i64)],
    cumulative_refunded_amount_without_lines: Money,
    already_reversed: i64,
) -> i64 {
    reversal_for_refunds(
        snapshot,
        &Refunded {
            lines: cumulative_refunded_lines,
            unattributed: cumulative_refunded_amount_without_lines,
            ..Refunded::default()
        },
        already_reversed,
    )
}

/// Points to take back now for a cancelled order: whatever of the award is still standing.
pub fn reversal_for_cancellation(snapshot: &AwardSnapshot, already_reversed: i64) -> i64 {
    snapshot
        .points
        .max(0)
        .saturating_sub(already_reversed.max(0))
        .max(0)
}
