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

/// Points to take back now for the refunds of an order so far.
///
/// - `cumulative_refunded_lines`: `(line_id, quantity)` refunded so far, over all refunds of the
///   order (repeated ids are added up; unknown ids are ignored). Each line gives back
///   `floor(line points * refunded / quantity)`. Once every line is fully refunded, the points
///   shipping and tax earned go back too.
/// - `cumulative_refunded_amount_without_lines`: money returned so far by refunds that name no
///   line (goodwill amounts, adjustments). It gives back `floor(points * amount / basis)`.
/// - `already_reversed`: points the ledger has already taken back for this award.
///
/// The result is `min(award, cumulative) - already_reversed`, and never negative (a negative
/// `already_reversed` counts as zero).
pub fn reversal_for_refund(
    snapshot: &AwardSnapshot,
    cumulative_refunded_lines: &[(PlatformId, i64)],
    cumulative_refunded_amount_without_lines: Money,
    already_reversed: i64,
) -> i64 {
    let award = snapshot.points.max(0);
    let mut refunded: HashMap<&PlatformId, i64> = HashMap::new();
    for (id, quantity) in cumulative_refunded_lines {
        let total = refunded.entry(id).or_insert(0);
        *total = total.saturating_add((*quantity).max(0));
    }

    let mut cumulative: i128 = 0;
    // Vacuously true for an order without lines: any refund of it refunds all its lines.
    let mut every_line_refunded = true;
    for line in &snapshot.lines {
        let quantity = line.quantity.max(0);
        let refunded_qty = refunded
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
    if every_line_refunded {
        cumulative += i128::from(snapshot.shipping_points.max(0));
        cumulative += i128::from(snapshot.tax_points.max(0));
    }
    let basis = i128::from(snapshot.basis.minor);
    let amount = i128::from(cumulative_refunded_amount_without_lines.minor.max(0));
    if basis > 0 {
        cumulative += i128::from(award) * amount.min(basis) / basis;
    }

    let cumulative = cumulative.min(i128::from(award));
    let now = cumulative - i128::from(already_reversed.max(0));
    i64::try_from(now.max(0)).unwrap_or(0)
}

/// Points to take back now for a cancelled order: whatever of the award is still standing.
pub fn reversal_for_cancellation(snapshot: &AwardSnapshot, already_reversed: i64) -> i64 {
    snapshot
        .points
        .max(0)
        .saturating_sub(already_reversed.max(0))
        .max(0)
}
