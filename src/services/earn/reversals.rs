//! Refunds stored per order, and the reversals they (and a cancellation) call for.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde_json::json;

use super::award_key;
use crate::db::models::{LedgerEntry, Order, Refund, Shop};
use crate::db::schema::{ledger_entries, orders};
use crate::db::{new_id, DbConnection};
use crate::domain::earning::{
    reversal_for_cancellation, reversal_for_refunds, AwardSnapshot, Refunded,
};
use crate::domain::event::{PlatformId, RefundFacts};
use crate::domain::money::Money;
use crate::domain::points::{LedgerKind, LedgerStatus};
use crate::services::ledger::{self, LedgerError, Posting, WhenShort};

/// Stores a refund once and keeps its order's refunded total current.
pub(super) fn store_refund(
    conn: &mut DbConnection,
    shop: &Shop,
    refund: &RefundFacts,
    now: NaiveDateTime,
) -> Result<(), LedgerError> {
    let refunded_at = refund.created_at.map(|t| t.naive_utc()).unwrap_or(now);
    Refund {
        id: new_id(),
        shop_id: shop.id.clone(),
        platform_refund_id: refund.refund_id.as_str().to_owned(),
        platform_order_id: refund.order_id.as_str().to_owned(),
        facts: serde_json::to_string(refund).map_err(|e| {
            LedgerError::Database(diesel::result::Error::SerializationError(Box::new(e)))
        })?,
        amount_minor: refund.amount.minor,
        refunded_at,
        created_at: now,
    }
    .insert_once(conn)?;
    let order_id = refund.order_id.as_str();
    if let Some(order) = Order::find_by_platform_id(conn, &shop.id, order_id)? {
        let refunded: i64 = Refund::for_order(conn, &shop.id, order_id)?
            .iter()
            .map(|r| r.amount_minor)
            .sum();
        diesel::update(orders::table.find(&order.id))
            .set((
                orders::refunded_minor.eq(refunded),
                orders::updated_at.eq(now),
            ))
            .execute(conn)?;
    }
    Ok(())
}

/// Takes back what the order's refunds (and a cancellation) call for and has not been taken yet.
pub(super) fn sync_reversals(
    conn: &mut DbConnection,
    shop: &Shop,
    order_id: &str,
    refunds: &[Refund],
    cancelled: bool,
    trigger: &str,
    now: NaiveDateTime,
) -> Result<(), LedgerError> {
    if refunds.is_empty() && !cancelled {
        return Ok(()); // The common case: nothing to take back, no further reads.
    }
    // The award may be held by the applier batch (`ledger::post_award`).
    ledger::write_held(conn)?;
    let Some(award) = LedgerEntry::find_by_key(conn, &shop.id, &award_key(order_id))? else {
        return Ok(()); // Nothing earned (yet): a refund that came first is applied at award time.
    };
    let Some(snapshot) = award
        .detail
        .as_deref()
        .and_then(|d| serde_json::from_str::<serde_json::Value>(d).ok())
        .and_then(|d| serde_json::from_value::<AwardSnapshot>(d.get("snapshot")?.clone()).ok())
    else {
        tracing::error!(
            order = order_id,
            "award line without a readable snapshot; not reversing"
        );
        return Ok(());
    };
    let mut reversed = reversed_so_far(conn, &shop.id, order_id, &award)?;
    if !refunds.is_empty() {
        let mut lines: Vec<(PlatformId, i64)> = Vec::new();
        let (mut unattributed, mut shipping, mut tax) = (Money::ZERO, Money::ZERO, Money::ZERO);
        for stored in refunds {
            let Ok(facts) = serde_json::from_str::<RefundFacts>(&stored.facts) else {
                continue;
            };
            shipping = shipping.saturating_add(facts.shipping);
            tax = tax.saturating_add(facts.tax);
            if facts.lines.is_empty() {
                // Only refunds with no line items count by amount: a line refund's money is
                // already counted through its lines (and may include tax and shipping). Of that
                // amount, what went back for shipping and tax is not money the goods earned on.
                let goods = facts
                    .amount
                    .minor
                    .saturating_sub(facts.shipping.minor)
                    .saturating_sub(facts.tax.minor)
                    .max(0);
                unattributed = unattributed.saturating_add(Money::new(goods));
            }
            lines.extend(
                facts
                    .lines
                    .iter()
                    .map(|l| (l.line_item_id.clone(), l.quantity)),
            );
        }
        let refunded = Refunded {
            lines: &lines,
            unattributed,
            shipping,
            tax,
        };
        let due = reversal_for_refunds(&snapshot, &refunded, reversed);
        let action = if trigger == "award" {
            unused_refund_action(conn, &shop.id, order_id, refunds)?
        } else {
            trigger.to_owned()
        };
        reversed += post_reversal(conn, shop, &award, order_id, &action, due, "Refund", now)?;
    }
    if cancelled {
        let due = reversal_for_cancellation(&snapshot, reversed);
        post_reversal(
            conn,
            shop,
            &award,
            order_id,
            "cancel",
            due,
            "Order cancelled",
            now,
        )?;
    }
    Ok(())
}

/// The key for a reversal made when the order's award meets refunds stored before it: the
/// newest stored refund whose key is still free, so a replay of any refund finds nothing due
/// and a refund embedded in a later order payload is not lost behind an older refund's key.
fn unused_refund_action(
    conn: &mut DbConnection,
    shop_id: &str,
    order_id: &str,
    refunds: &[Refund],
) -> QueryResult<String> {
    for refund in refunds.iter().rev() {
        let action = format!("refund:{}", refund.platform_refund_id);
        let key = format!("order:{order_id}:{action}");
        if LedgerEntry::find_by_key(conn, shop_id, &key)?.is_none() {
            return Ok(action);
        }
    }
    Ok(String::new())
}

/// Points already taken back for the order: what each reversal meant to take, including any
/// shortfall, so a shortfall is reported once and not chased again by the next refund; plus
/// what of the award expired (`award` is its ledger line, the lot expiry names).
fn reversed_so_far(
    conn: &mut DbConnection,
    shop_id: &str,
    order_id: &str,
    award: &LedgerEntry,
) -> QueryResult<i64> {
    let rows: Vec<(i64, Option<String>)> = ledger_entries::table
        .filter(ledger_entries::shop_id.eq(shop_id))
        .filter(ledger_entries::source.eq("order"))
        .filter(ledger_entries::source_id.eq(order_id))
        .filter(ledger_entries::kind.eq(LedgerKind::Reversal.as_str()))
        .select((ledger_entries::delta, ledger_entries::detail))
        .load(conn)?;
    let reversed: i64 = rows
        .into_iter()
        .map(|(delta, detail)| {
            let shortfall = detail
                .and_then(|d| serde_json::from_str::<serde_json::Value>(&d).ok())
                .and_then(|d| d.get("shortfall")?.as_i64())
                .unwrap_or(0);
            -delta + shortfall
        })
        .sum();
    // Expiry takes a lot's unspent remainder under `lot:{award line id}:expire[-n]`.
    let expired: Vec<i64> = ledger_entries::table
        .filter(ledger_entries::shop_id.eq(shop_id))
        .filter(ledger_entries::source.eq("lot"))
        .filter(ledger_entries::source_id.eq(&award.id))
        .filter(ledger_entries::kind.eq(LedgerKind::Expiry.as_str()))
        .select(ledger_entries::delta)
        .load(conn)?;
    Ok(reversed.saturating_add(expired.into_iter().map(|d| -d).sum::<i64>()))
}

#[expect(
    clippy::too_many_arguments,
    reason = "one call site per reversal kind; a struct adds nothing"
)]
fn post_reversal(
    conn: &mut DbConnection,
    shop: &Shop,
    award: &LedgerEntry,
    order_id: &str,
    action: &str,
    due: i64,
    reason: &str,
    now: NaiveDateTime,
) -> Result<i64, LedgerError> {
    if due <= 0 || action.is_empty() {
        return Ok(0);
    }
    let pending = award.status == LedgerStatus::Pending.as_str();
    let posted = ledger::post(
        conn,
        &Posting {
            shop_id: shop.id.clone(),
            member_id: award.member_id.clone(),
            delta: -due,
            kind: LedgerKind::Reversal,
            status: if pending {
                LedgerStatus::Pending
            } else {
                LedgerStatus::Confirmed
            },
            reason: Some(reason.to_owned()),
            source: "order".into(),
            source_id: order_id.to_owned(),
            action: action.to_owned(),
            detail: Some(json!({ "award": award.id })),
            confirms_at: award.confirms_at.filter(|_| pending),
            when_short: WhenShort::TakeWhatIsThere,
        },
        now,
    )?;
    match posted {
        ledger::Posted::New { shortfall, .. } if shortfall > 0 => {
            tracing::warn!(
                order = order_id,
                shortfall,
                "points to take back were already spent"
            );
            Ok(due)
        }
        ledger::Posted::New { .. } => Ok(due),
        ledger::Posted::AlreadyPosted => Ok(0),
    }
}
