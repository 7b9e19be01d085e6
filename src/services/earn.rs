//! Orders and refunds into ledger lines.
//!
//! - The award is keyed `order:{id}:earn`: created/paid/updated/reconciled deliveries of one
//!   order credit it once. The rule and lines are snapshotted into the line's `detail`, so later
//!   reversals use what the order actually earned, even if the owner has changed the rules.
//! - Refunds are stored per order; the points to take back are always computed from the whole
//!   set of stored refunds minus what was already taken back. So whatever order the refund,
//!   order and cancellation deliveries arrive in, the total reversed is the same.
//! - A reversal of points still pending is itself pending (same date); one of points already
//!   confirmed takes what is spendable and records the shortfall for the owner.

use chrono::{Duration, NaiveDateTime};
use diesel::prelude::*;
use serde_json::json;

use crate::db::models::{LedgerEntry, Member, NewOrder, Order, Refund, Shop};
use crate::db::schema::{ledger_entries, orders};
use crate::db::{new_id, DbConnection};
use crate::domain::earning::{
    award_for_order, reversal_for_cancellation, reversal_for_refund, should_earn, AwardSnapshot,
};
use crate::domain::event::{OrderFacts, PlatformId, RefundFacts};
use crate::domain::money::Money;
use crate::domain::points::{LedgerKind, LedgerStatus};
use crate::services::ledger::{self, LedgerError, Posting, WhenShort};
use crate::services::members;
use crate::services::program::Program;

fn award_key(order_id: &str) -> String {
    format!("order:{order_id}:earn")
}

/// An order was created, paid, updated, cancelled or reconciled.
pub fn apply_order(
    conn: &mut DbConnection,
    shop: &Shop,
    facts: &OrderFacts,
    cancelled: bool,
    now: NaiveDateTime,
) -> Result<(), LedgerError> {
    let member = members::resolve(
        conn,
        &shop.id,
        facts.customer.as_ref(),
        facts.email.as_deref(),
        now,
    )?;
    // A cancellation sticks, whatever order the deliveries arrive in: an older `orders/paid`
    // delivered after `orders/cancelled` must not award the order.
    let cancelled = upsert_order(
        conn,
        shop,
        facts,
        member.as_ref(),
        cancelled || facts.cancelled_at.is_some(),
        now,
    )?
    .cancelled;
    let Some(member) = member else { return Ok(()) };
    let order_id = facts.order_id.as_str();
    let rules = Program::of(shop).earning;
    let awarded = LedgerEntry::find_by_key(conn, &shop.id, &award_key(order_id))?.is_some();
    if !awarded && !cancelled && should_earn(&rules, facts) {
        // Collections only when the rules use them: no extra query on the common path.
        let collections = if rules.collection_multipliers.is_empty() {
            Default::default()
        } else {
            let products: Vec<&str> = facts
                .lines
                .iter()
                .filter_map(|l| l.product_id.as_ref().map(PlatformId::as_str))
                .collect();
            crate::services::collections::of_products(conn, &shop.id, &products)?
        };
        let collections_of =
            |p: &PlatformId| collections.get(p.as_str()).cloned().unwrap_or_default();
        // The tier multiplier input stays at 100 % until VIP tiers land.
        let snapshot = award_for_order(&rules, facts, &collections_of, 100);
        if snapshot.points > 0 {
            let confirms_at =
                facts.created_at.naive_utc() + Duration::days(i64::from(rules.pending_days));
            ledger::post(
                conn,
                &Posting {
                    shop_id: shop.id.clone(),
                    member_id: member.id.clone(),
                    delta: snapshot.points,
                    kind: LedgerKind::Earn,
                    status: LedgerStatus::Pending,
                    reason: Some(format!("Order {}", facts.name)),
                    source: "order".into(),
                    source_id: order_id.to_owned(),
                    action: "earn".into(),
                    detail: Some(json!({ "snapshot": snapshot })),
                    confirms_at: Some(confirms_at),
                    when_short: WhenShort::Refuse,
                },
                now,
            )?;
        }
    }
    sync_reversals(conn, shop, order_id, cancelled, "award", now)
}

/// A refund: stored, then the order's reversals are brought up to date.
pub fn apply_refund(
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
    let trigger = format!("refund:{}", refund.refund_id.as_str());
    sync_reversals(conn, shop, order_id, false, &trigger, now)
}

/// Takes back what the order's refunds (and a cancellation) call for and has not been taken yet.
fn sync_reversals(
    conn: &mut DbConnection,
    shop: &Shop,
    order_id: &str,
    cancelled: bool,
    trigger: &str,
    now: NaiveDateTime,
) -> Result<(), LedgerError> {
    let refunds = Refund::for_order(conn, &shop.id, order_id)?;
    if refunds.is_empty() && !cancelled {
        return Ok(()); // The common case: nothing to take back, no further reads.
    }
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
    let mut reversed = reversed_so_far(conn, &shop.id, order_id)?;
    if !refunds.is_empty() {
        let mut lines: Vec<(PlatformId, i64)> = Vec::new();
        let mut amount_only = Money::ZERO;
        for stored in &refunds {
            let Ok(facts) = serde_json::from_str::<RefundFacts>(&stored.facts) else {
                continue;
            };
            if facts.lines.is_empty() {
                // Only refunds with no line items count by amount: a line refund's money is
                // already counted through its lines (and may include tax and shipping).
                amount_only = amount_only.saturating_add(facts.amount);
            }
            lines.extend(
                facts
                    .lines
                    .iter()
                    .map(|l| (l.line_item_id.clone(), l.quantity)),
            );
        }
        let due = reversal_for_refund(&snapshot, &lines, amount_only, reversed);
        // The last stored refund names the line, so a replay of any refund finds nothing due.
        let action = if trigger == "award" {
            refunds
                .last()
                .map(|r| format!("refund:{}", r.platform_refund_id))
                .unwrap_or_default()
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

/// Points already taken back for the order: what each reversal meant to take, including any
/// shortfall, so a shortfall is reported once and not chased again by the next refund.
fn reversed_so_far(conn: &mut DbConnection, shop_id: &str, order_id: &str) -> QueryResult<i64> {
    let rows: Vec<(i64, Option<String>)> = ledger_entries::table
        .filter(ledger_entries::shop_id.eq(shop_id))
        .filter(ledger_entries::source.eq("order"))
        .filter(ledger_entries::source_id.eq(order_id))
        .filter(ledger_entries::kind.eq(LedgerKind::Reversal.as_str()))
        .select((ledger_entries::delta, ledger_entries::detail))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(delta, detail)| {
            let shortfall = detail
                .and_then(|d| serde_json::from_str::<serde_json::Value>(&d).ok())
                .and_then(|d| d.get("shortfall")?.as_i64())
                .unwrap_or(0);
            -delta + shortfall
        })
        .sum())
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

fn upsert_order(
    conn: &mut DbConnection,
    shop: &Shop,
    facts: &OrderFacts,
    member: Option<&Member>,
    cancelled: bool,
    now: NaiveDateTime,
) -> Result<Order, LedgerError> {
    let snapshot = serde_json::to_string(facts).map_err(|e| {
        LedgerError::Database(diesel::result::Error::SerializationError(Box::new(e)))
    })?;
    let updated_at = facts.updated_at.naive_utc();
    let mut stored = Order::find_by_platform_id(conn, &shop.id, facts.order_id.as_str())?;
    if stored.is_none() {
        let inserted = NewOrder {
            id: new_id(),
            shop_id: shop.id.clone(),
            platform_order_id: facts.order_id.as_str().to_owned(),
            member_id: member.map(|m| m.id.clone()),
            name: Some(facts.name.clone()),
            email: facts.email.clone(),
            financial_status: facts.financial_status.as_str().to_owned(),
            cancelled,
            currency: facts.currency.clone(),
            subtotal_minor: facts.subtotal.minor,
            total_minor: facts.total.minor,
            // Refunds may have arrived before the order.
            refunded_minor: Refund::for_order(conn, &shop.id, facts.order_id.as_str())?
                .iter()
                .map(|r| r.amount_minor)
                .sum(),
            snapshot: snapshot.clone(),
            placed_at: facts.created_at.naive_utc(),
            platform_updated_at: updated_at,
            created_at: now,
            updated_at: now,
        }
        .insert_once(conn)?;
        if !inserted {
            // Another delivery of this order stored it first: update that row below.
            stored = Order::find_by_platform_id(conn, &shop.id, facts.order_id.as_str())?;
        }
    }
    match stored {
        None => {}
        // Deliveries are not ordered: only a newer version of the order replaces the snapshot;
        // a cancellation sticks whatever order it arrives in.
        Some(order) if updated_at >= order.platform_updated_at => {
            diesel::update(orders::table.find(&order.id))
                .set((
                    orders::member_id.eq(member.map(|m| m.id.clone()).or(order.member_id)),
                    orders::financial_status.eq(facts.financial_status.as_str()),
                    orders::cancelled.eq(cancelled || order.cancelled),
                    orders::subtotal_minor.eq(facts.subtotal.minor),
                    orders::total_minor.eq(facts.total.minor),
                    orders::snapshot.eq(snapshot),
                    orders::platform_updated_at.eq(updated_at),
                    orders::updated_at.eq(now),
                ))
                .execute(conn)?;
        }
        Some(order) if cancelled && !order.cancelled => {
            diesel::update(orders::table.find(&order.id))
                .set((orders::cancelled.eq(true), orders::updated_at.eq(now)))
                .execute(conn)?;
        }
        Some(_) => {}
    }
    Order::find_by_platform_id(conn, &shop.id, facts.order_id.as_str())?
        .ok_or(LedgerError::Database(diesel::result::Error::NotFound))
}
