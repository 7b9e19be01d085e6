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

mod order_row;
mod reversals;

use chrono::{Duration, NaiveDateTime};
use diesel::prelude::*;
use serde_json::json;

use crate::db::models::{Order, Refund, Shop};
use crate::db::DbConnection;
use crate::domain::earning::{award_for_order, earns_despite_date, should_earn};
use crate::domain::event::{OrderFacts, PlatformId, RefundFacts};
use crate::domain::points::{LedgerKind, LedgerStatus};
use crate::services::ledger::{self, LedgerError, Posted, Posting, WhenShort};
use crate::services::members::{self, GuestClaim};
use crate::services::nps::SurveyHistory;
use crate::services::program::Program;
use crate::services::retention::facts::OrderChange;
use crate::services::{batch, referrals, retention, tiers};
use order_row::{upsert_order, Stored};
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
    // An earlier event of the batch may hold this order's award: its member and lines are read
    // below as they are.
    ledger::write_held_for_order(conn, &shop.id, facts.order_id.as_str())?;
    let resolved = members::resolve(
        conn,
        &shop.id,
        facts.customer.as_ref(),
        facts.email.as_deref(),
        guest_claim(facts),
        facts.customer_locale.as_deref(),
        now,
    )?;
    let member_is_new = resolved.as_ref().is_some_and(|r| r.new);
    let member = resolved.map(|r| r.member);
    // What an applier batch read of the member when it started is this event's from here on.
    let survey_facts = member
        .as_ref()
        .and_then(|m| batch::touched(&shop.id, &m.id));
    // Read with the applier batch's other orders when it started, if this is the order's first
    // event in it (after the member: a guest claimed above moves orders, and forgets them).
    let prefetched = batch::take_order(&shop.id, facts.order_id.as_str());
    // The row as it was, for the purchase facts to move from.
    let before = match &prefetched {
        Some(read) => read.order.clone(),
        None => Order::find_by_platform_id(conn, &shop.id, facts.order_id.as_str())?,
    };
    // Refunds the order already carries are stored like `refunds/create` deliveries, before the
    // order row (which sums them) and the award (which takes them back).
    for refund in &facts.refunds {
        store_refund(conn, shop, refund, now)?;
    }
    // Read once for the order row and the reversals: nothing below stores a refund.
    let refunds = match prefetched {
        Some(read) if facts.refunds.is_empty() => read.refunds,
        _ => Refund::for_order(conn, &shop.id, facts.order_id.as_str())?,
    };
    let new_order = before.is_none();
    // Storing a refund updates the row's refunded total; without one, the row read is current.
    let stored = if facts.refunds.is_empty() {
        before.clone()
    } else {
        Order::find_by_platform_id(conn, &shop.id, facts.order_id.as_str())?
    };
    // A cancellation sticks, whatever order the deliveries arrive in: an older `orders/paid`
    // delivered after `orders/cancelled` must not award the order.
    let order = upsert_order(
        conn,
        shop,
        facts,
        Stored {
            order: stored,
            refunds: &refunds,
        },
        member.as_ref(),
        cancelled || facts.cancelled_at.is_some(),
        now,
    )?;
    retention::facts::order_changed(
        conn,
        &shop.id,
        &shop.timezone,
        OrderChange {
            before: before.as_ref(),
            after: &order,
            member: member.as_ref(),
        },
        now,
    )?;
    // A member whose order this changed without resolving them (an anonymous delivery of their
    // order, an order passing to another member): what the batch read of them is stale.
    let resolved_id = member.as_ref().map(|m| m.id.as_str());
    for other in [
        before.as_ref().and_then(|o| o.member_id.as_deref()),
        order.member_id.as_deref(),
    ]
    .into_iter()
    .flatten()
    .filter(|id| Some(*id) != resolved_id)
    {
        batch::forget_member(&shop.id, other);
    }
    let survey_history = match (&member, survey_facts) {
        _ if member_is_new => SurveyHistory::NewMember,
        (Some(m), Some(f)) => SurveyHistory::Known(f.after_change(&m.id, before.as_ref(), &order)),
        _ => SurveyHistory::Unknown,
    };
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
    let earns = should_earn(rules, facts)
        && earns_despite_date(facts, shop.installed_at.and_utc(), shop.award_history);
    // Whether the order was awarded before is the posting's own idempotency check: another
    // delivery of an awarded order computes the award again and posts nothing.
    // What this event awarded, when it wrote the award.
    let mut awarded_now = None;
    if !cancelled && earns {
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
            let posting = Posting {
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
            };
            // A new order's award is new unless an earlier delivery awarded it under another
            // row (a redaction erased the row, say): try the posting that assumes so (held for
            // the end of an applier batch).
            let posted = if new_order {
                ledger::post_award(conn, &posting, &member, now)?
            } else {
                ledger::post(conn, &posting, now)?
            };
            if let Posted::New { applied, .. } = posted {
                awarded_now = Some(applied);
            }
            // Old orders reaching us late (imports, reconciliation) earn quietly.
            let first_award = awarded_now.is_some();
            if first_award && facts.date().naive_utc() > now - Duration::days(7) {
                crate::services::mail::queue_deferred(
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
    sync_reversals(conn, shop, order_id, &refunds, cancelled, "award", now)?;
    // Tier standing: paid, non-test orders count, whether or not they earned points (history
    // counts for spend- and order-based tiers).
    let eligible =
        facts.financial_status.has_been_paid() && (!facts.test || rules.earn_on_test_orders);
    // The row as stored above: refunds it carries were stored before it, and reversals do
    // not change it.
    // A new order without refunds, awarded now, has that award as its only line: its points
    // need no read.
    let net_points = awarded_now.filter(|_| new_order && refunds.is_empty() && !cancelled);
    tiers::after_order(
        conn,
        shop,
        &program,
        &order,
        Some(eligible),
        net_points,
        now,
    )?;
    // The NPS survey follows the second counted order (at most once per 90 days).
    crate::services::nps::after_order(conn, shop, &program, &member, &order, survey_history, now)?;
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
/// The e-mail of the guest an order may claim for its account (`members::resolve`): `None` when
/// the order names no account or may not claim.
pub fn claimable_guest_email(facts: &OrderFacts) -> Option<String> {
    facts.customer.as_ref()?.id.as_ref()?;
    if guest_claim(facts) == GuestClaim::Refused {
        return None;
    }
    members::email_of(facts.customer.as_ref(), facts.email.as_deref())
}

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
    ledger::write_held_for_order(conn, &shop.id, refund.order_id.as_str())?;
    // The refund changes the order's rows: what the batch read of them is stale from here.
    let before = match batch::take_order(&shop.id, refund.order_id.as_str()) {
        Some(read) => read.order,
        None => Order::find_by_platform_id(conn, &shop.id, refund.order_id.as_str())?,
    };
    store_refund(conn, shop, refund, now)?;
    let trigger = format!("refund:{}", refund.refund_id.as_str());
    let refunds = Refund::for_order(conn, &shop.id, refund.order_id.as_str())?;
    sync_reversals(
        conn,
        shop,
        refund.order_id.as_str(),
        &refunds,
        false,
        &trigger,
        now,
    )?;
    if let Some(order) = Order::find_by_platform_id(conn, &shop.id, refund.order_id.as_str())? {
        // Its member's tier and points move without an event resolving them.
        if let Some(member_id) = &order.member_id {
            batch::forget_member(&shop.id, member_id);
        }
        retention::facts::order_changed(
            conn,
            &shop.id,
            &shop.timezone,
            OrderChange {
                before: before.as_ref(),
                after: &order,
                member: None,
            },
            now,
        )?;
        let program = Program::of(shop);
        tiers::after_order(conn, shop, &program, &order, None, None, now)?;
        referrals::after_order(conn, shop, &program, &order, None, None, now)?;
    }
    Ok(())
}
