//! An order's stored row: inserted at its first delivery, replaced only by a newer version.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::models::{Member, NewOrder, Order, Refund, Shop};
use crate::db::schema::orders;
use crate::db::{new_id, DbConnection};
use crate::domain::event::OrderFacts;
use crate::services::ledger::LedgerError;

/// The order's row as stored before this delivery, and its stored refunds.
pub(super) struct Stored<'a> {
    pub(super) order: Option<Order>,
    pub(super) refunds: &'a [Refund],
}

/// Inserts or updates the order's row and returns it as written, without reading it back.
pub(super) fn upsert_order(
    conn: &mut DbConnection,
    shop: &Shop,
    facts: &OrderFacts,
    stored: Stored<'_>,
    member: Option<&Member>,
    cancelled: bool,
    now: NaiveDateTime,
) -> Result<Order, LedgerError> {
    let snapshot = serde_json::to_string(facts).map_err(|e| {
        LedgerError::Database(diesel::result::Error::SerializationError(Box::new(e)))
    })?;
    let updated_at = facts.updated_at.naive_utc();
    let mut current = stored.order;
    if current.is_none() {
        let row = NewOrder {
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
            refunded_minor: stored.refunds.iter().map(|r| r.amount_minor).sum(),
            snapshot: snapshot.clone(),
            placed_at: facts.date().naive_utc(),
            platform_updated_at: updated_at,
            created_at: now,
            updated_at: now,
        };
        // In an applier batch on PostgreSQL, inserted with the batch's other new orders at its
        // end (`ledger::write_held`).
        if crate::services::ledger::hold_order(conn, &row) || row.insert_once(conn)? {
            return Ok(Order::from(row));
        }
        // Another delivery of this order stored it first: update that row below.
        current = Order::find_by_platform_id(conn, &shop.id, facts.order_id.as_str())?;
    }
    let Some(order) = current else {
        return Err(LedgerError::Database(diesel::result::Error::NotFound));
    };
    if updated_at >= order.platform_updated_at {
        // Deliveries are not ordered: only a newer version of the order replaces the snapshot;
        // a cancellation sticks whatever order it arrives in.
        let updated = Order {
            member_id: member.map(|m| m.id.clone()).or(order.member_id),
            financial_status: facts.financial_status.as_str().to_owned(),
            cancelled: cancelled || order.cancelled,
            subtotal_minor: facts.subtotal.minor,
            total_minor: facts.total.minor,
            snapshot,
            platform_updated_at: updated_at,
            updated_at: now,
            ..order
        };
        // Kept prepared (`db::fixed`, hence the `RETURNING`): every later delivery of an order
        // runs it.
        let _: String = crate::per_backend!(&mut *conn, |c| crate::fixed!(diesel::update(
            orders::table.find(&updated.id)
        )
        .set((
            orders::member_id.eq(&updated.member_id),
            orders::financial_status.eq(&updated.financial_status),
            orders::cancelled.eq(updated.cancelled),
            orders::subtotal_minor.eq(updated.subtotal_minor),
            orders::total_minor.eq(updated.total_minor),
            orders::snapshot.eq(&updated.snapshot),
            orders::platform_updated_at.eq(updated.platform_updated_at),
            orders::updated_at.eq(updated.updated_at),
        ))
        .returning(orders::id))
        .get_result(c))?;
        return Ok(updated);
    }
    if cancelled && !order.cancelled {
        diesel::update(orders::table.find(&order.id))
            .set((orders::cancelled.eq(true), orders::updated_at.eq(now)))
            .execute(conn)?;
        return Ok(Order {
            cancelled: true,
            updated_at: now,
            ..order
        });
    }
    Ok(order)
}
