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
//! - Points of the award that already expired count as taken back: they left the balance
//!   once, and a later refund must not take them again from the member's other points.
//! - Orders dated before the install are stored as history but earn nothing unless the shop
//!   awards history (`domain::earning::earns_despite_date`).

mod reversals;

use chrono::{Duration, NaiveDateTime};
use diesel::prelude::*;
use serde_json::json;

use crate::db::models::{LedgerEntry, Member, NewOrder, Order, Refund, Shop};
use crate::db::schema::orders;
use crate::db::{new_id, DbConnection};
use crate::domain::earning::{award_for_order, earns_despite_date, should_earn};
use crate::domain::event::{OrderFacts, PlatformId, RefundFacts};
use crate::domain::points::{LedgerKind, LedgerStatus};
use crate::services::ledger::{self, LedgerError, Posting, WhenShort};
use crate::services::members::{self, GuestClaim};
use crate::services::program::Program;
use crate::services::{referrals, retention, tiers};
use reversals::{store_refund, sync_reversals};

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
        guest_claim(facts),
        now,
    )?;
    // The row as it was, for the purchase facts to move from.
    let before = Order::find_by_platform_id(conn, &shop.id, facts.order_id.as_str())?;
    // Refunds the order already carries are stored like `refunds/create` deliveries, before the
    // order row (which sums them) and the award (which takes them back).
    for refund in &facts.refunds {
        store_refund(conn, shop, refund, now)?;
    }
    // A cancellation sticks, whatever order the deliveries arrive in: an older `orders/paid`
    // delivered after `orders/cancelled` must not award the order.
    let order = upsert_order(
        conn,
        shop,
        facts,
        member.as_ref(),
        cancelled || facts.cancelled_at.is_some(),
        now,
    )?;
    retention::facts::order_changed(conn, &shop.id, &shop.timezone, before.as_ref(), &order, now)?;
    let cancelled = order.cancelled;
    let mut member = member;
    if let (Some(m), Some(locale)) = (member.as_mut(), &facts.customer_locale) {
        if m.locale.as_ref() != Some(locale) {
            diesel::update(
                crate::db::schema::members::table
                    .filter(crate::db::schema::members::shop_id.eq(&shop.id))
                    .filter(crate::db::schema::members::id.eq(&m.id)),
            )
            .set(crate::db::schema::members::locale.eq(locale))
            .execute(conn)?;
            m.locale = Some(locale.clone());
        }
    }
    let Some(member) = member else {
        // Nobody to award; an affiliate's code used by an anonymous order still counts.
        let program = Program::of(shop);
        return referrals::after_order(conn, shop, &program, &order, Some(facts), None, now);
    };
    let order_id = facts.order_id.as_str();
    let program = Program::of(shop);
    let rules = &program.earning;
    let awarded = LedgerEntry::find_by_key(conn, &shop.id, &award_key(order_id))?.is_some();
    let earns = should_earn(rules, facts)
        && earns_despite_date(facts, shop.installed_at.and_utc(), shop.award_history);
    if !awarded && !cancelled && earns {
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
        // The member's tier at award time, snapshotted: a refund reverses exactly this.
        let tier_pct = program
            .tiers
            .as_ref()
            .map_or(100, |t| t.multiplier_pct(member.tier.as_deref()));
        let snapshot = award_for_order(rules, facts, &collections_of, tier_pct);
        if snapshot.points > 0 {
            // The return window runs from the order's own date, not from when we heard of it.
            let confirms_at =
                facts.date().naive_utc() + Duration::days(i64::from(rules.pending_days));
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
            // Old orders reaching us late (imports, reconciliation) earn quietly.
            if facts.date().naive_utc() > now - Duration::days(7) {
                crate::services::mail::queue(
                    conn,
                    shop,
                    &program,
                    &member,
                    crate::domain::mail::Kind::PointsEarned,
                    &format!("order:{order_id}"),
                    json!({ "points": snapshot.points, "order_name": facts.name }),
                    now,
                )?;
            }
        }
    }
    sync_reversals(conn, shop, order_id, cancelled, "award", now)?;
    // Tier standing: paid, non-test orders count, whether or not they earned points (history
    // counts for spend- and order-based tiers).
    let eligible =
        facts.financial_status.has_been_paid() && (!facts.test || rules.earn_on_test_orders);
    // The row as stored above: refunds it carries were stored before it, and reversals do
    // not change it.
    tiers::after_order(conn, shop, &program, &order, Some(eligible), now)?;
    // The NPS survey follows the second counted order (at most once per 90 days).
    crate::services::nps::after_order(conn, shop, &program, &member, &order, now)?;
    referrals::after_order(
        conn,
        shop,
        &program,
        &order,
        Some(facts),
        Some(&member),
        now,
    )?;
    Ok(())
}

/// Whether the order proves its account owns the e-mail a guest earned on: the order itself
/// was placed with that e-mail (its confirmation went there).
fn guest_claim(facts: &OrderFacts) -> GuestClaim {
    let account_email = facts.customer.as_ref().and_then(|c| c.email.as_deref());
    match (account_email, facts.email.as_deref()) {
        (Some(account), Some(contact)) if account == contact => GuestClaim::Allowed,
        // A customer reference without its own e-mail is claimed by the order's e-mail.
        (None, Some(_)) => GuestClaim::Allowed,
        _ => GuestClaim::Refused,
    }
}

/// A refund: stored, then the order's reversals are brought up to date.
pub fn apply_refund(
    conn: &mut DbConnection,
    shop: &Shop,
    refund: &RefundFacts,
    now: NaiveDateTime,
) -> Result<(), LedgerError> {
    let before = Order::find_by_platform_id(conn, &shop.id, refund.order_id.as_str())?;
    store_refund(conn, shop, refund, now)?;
    let trigger = format!("refund:{}", refund.refund_id.as_str());
    sync_reversals(conn, shop, refund.order_id.as_str(), false, &trigger, now)?;
    if let Some(order) = Order::find_by_platform_id(conn, &shop.id, refund.order_id.as_str())? {
        retention::facts::order_changed(
            conn,
            &shop.id,
            &shop.timezone,
            before.as_ref(),
            &order,
            now,
        )?;
        let program = Program::of(shop);
        tiers::after_order(conn, shop, &program, &order, None, now)?;
        referrals::after_order(conn, shop, &program, &order, None, None, now)?;
    }
    Ok(())
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
            placed_at: facts.date().naive_utc(),
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
