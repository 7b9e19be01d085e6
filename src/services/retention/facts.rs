//! Keeps `customer_facts` current in the transaction that changes an order row: the caller
//! passes the row as it was before the change and as it is after, and the member's
//! [`PurchaseFacts`] move from what the order counted for before to what it counts for now.
//! Replays change nothing (the row says `before == after`, and the facts remember the order by
//! key); reordered deliveries converge because each change moves from the stored state.
//! Guests (orders without a member) have no facts. Facts that no longer know a date
//! (`needs_rebuild`) are rebuilt from the member's order rows.

use chrono::NaiveDateTime;
use chrono_tz::Tz;
use diesel::prelude::*;
use serde::Deserialize;

use crate::db::models::{CustomerFact, Order};
use crate::db::schema::{customer_facts, orders};
use crate::db::DbConnection;
use crate::domain::calendar;
use crate::domain::event::FinancialStatus;
use crate::domain::retention::{order_key, CountedOrder, PurchaseFacts};

/// Only the `test` flag of an order's stored snapshot.
#[derive(Deserialize)]
struct TestFlag {
    #[serde(default)]
    test: bool,
}

/// What an order row counts for: paid, not cancelled, not a test order, not fully refunded;
/// dated on its own day (`placed_at`: processed, else created) in the shop's time zone.
pub fn counted(order: &Order, zone: Tz) -> Option<CountedOrder> {
    if !FinancialStatus::from(order.financial_status.as_str()).has_been_paid() {
        return None;
    }
    let test = serde_json::from_str::<TestFlag>(&order.snapshot).is_ok_and(|f| f.test);
    if test {
        return None;
    }
    CountedOrder::of(
        calendar::local_date(zone, order.placed_at),
        order.total_minor,
        order.refunded_minor,
        order.cancelled,
    )
}

/// One order row's change, as [`order_changed`] takes it.
#[derive(Debug, Clone, Copy)]
pub struct OrderChange<'a> {
    /// The row before (`None`: it did not exist).
    pub before: Option<&'a Order>,
    /// The row as written.
    pub after: &'a Order,
    /// The order's member, when the caller has its row in hand: spares reading it again.
    pub member: Option<&'a crate::db::models::Member>,
}

/// An order row changed from `before` (`None`: it did not exist) to `after`: the facts of its
/// member (and of its former member, if it moved) follow. Call in the transaction that wrote it.
pub fn order_changed(
    conn: &mut DbConnection,
    shop_id: &str,
    timezone: &str,
    change: OrderChange<'_>,
    now: NaiveDateTime,
) -> QueryResult<()> {
    let OrderChange {
        before,
        after,
        member,
    } = change;
    let zone = calendar::zone(timezone);
    super::rollups::order_changed(
        conn,
        shop_id,
        super::rollups::Changed::new(after, zone, member),
    )?;
    let key = order_key(&after.platform_order_id);
    let was = before.and_then(|o| o.member_id.as_deref().map(|m| (m, counted(o, zone))));
    let is = after
        .member_id
        .as_deref()
        .map(|m| (m, counted(after, zone)));
    match (was, is) {
        (Some((old_member, old)), Some((new_member, new))) if old_member == new_member => {
            apply(conn, shop_id, zone, new_member, key, old, new, now)
        }
        (was, is) => {
            if let Some((old_member, old)) = was {
                apply(conn, shop_id, zone, old_member, key, old, None, now)?;
            }
            if let Some((new_member, new)) = is {
                apply(conn, shop_id, zone, new_member, key, None, new, now)?;
            }
            Ok(())
        }
    }
}

#[expect(
    clippy::too_many_arguments,
    reason = "one order's change, passed through"
)]
fn apply(
    conn: &mut DbConnection,
    shop_id: &str,
    zone: Tz,
    member_id: &str,
    key: u64,
    before: Option<CountedOrder>,
    after: Option<CountedOrder>,
    now: NaiveDateTime,
) -> QueryResult<()> {
    if before.is_none() && after.is_none() {
        return Ok(());
    }
    let stored = load(conn, shop_id, member_id)?;
    if stored.is_none() && after.is_some() {
        // A member's first counted order, or one whose orders predate the facts (stored before
        // this table existed): built whole from their order rows, which include this one.
        return rebuild_in(conn, shop_id, zone, member_id, now);
    }
    let mut facts = stored
        .as_ref()
        .map(|(facts, _)| facts.clone())
        .unwrap_or_default();
    facts.apply(key, before, after);
    if stored.as_ref().is_some_and(|(old, _)| *old == facts) {
        return Ok(());
    }
    if facts.needs_rebuild() {
        return rebuild_in(conn, shop_id, zone, member_id, now);
    }
    let segment = stored.and_then(|(_, row)| row.segment.zip(row.segment_on));
    save(conn, shop_id, member_id, &facts, segment, now)
}

/// The member's stored facts and row, if any.
fn load(
    conn: &mut DbConnection,
    shop_id: &str,
    member_id: &str,
) -> QueryResult<Option<(PurchaseFacts, CustomerFact)>> {
    let row = customer_facts::table
        .filter(customer_facts::shop_id.eq(shop_id))
        .filter(customer_facts::member_id.eq(member_id))
        .select(CustomerFact::as_select())
        .first(conn)
        .optional()?;
    Ok(row.map(|row| {
        // A row that cannot be read is rebuilt by the next change (it reads as empty here).
        let facts = serde_json::from_str(&row.orders).unwrap_or_default();
        (facts, row)
    }))
}

/// The row of `facts`: written whole, or deleted when no order counts (no facts, no segment).
pub fn row_of(
    shop_id: &str,
    member_id: &str,
    facts: &PurchaseFacts,
    segment: Option<(String, chrono::NaiveDate)>,
    now: NaiveDateTime,
) -> CustomerFact {
    let (segment, segment_on) = segment.unzip();
    CustomerFact {
        member_id: member_id.to_owned(),
        shop_id: shop_id.to_owned(),
        first_order_on: facts.first_order(),
        last_order_on: facts.last_order(),
        order_count: i64::from(facts.order_count()),
        net_spend_minor: facts.net_spend_minor(),
        median_gap_days: facts.median_gap_days(),
        orders: serde_json::to_string(facts).unwrap_or_else(|_| "{}".to_owned()),
        segment,
        segment_on,
        updated_at: now,
    }
}

fn save(
    conn: &mut DbConnection,
    shop_id: &str,
    member_id: &str,
    facts: &PurchaseFacts,
    segment: Option<(String, chrono::NaiveDate)>,
    now: NaiveDateTime,
) -> QueryResult<()> {
    // An order after the lapse ends the member's win-back sequence, in this same transaction.
    super::winback::end_on_order(conn, member_id, facts, now)?;
    let target = customer_facts::table
        .filter(customer_facts::shop_id.eq(shop_id))
        .filter(customer_facts::member_id.eq(member_id));
    if facts.order_count() == 0 {
        diesel::delete(target).execute(conn)?;
        return Ok(());
    }
    let row = row_of(shop_id, member_id, facts, segment, now);
    crate::per_backend!(&mut *conn, |c| diesel::insert_into(customer_facts::table)
        .values(row.clone())
        .on_conflict(customer_facts::member_id)
        .do_update()
        .set((
            customer_facts::first_order_on.eq(row.first_order_on),
            customer_facts::last_order_on.eq(row.last_order_on),
            customer_facts::order_count.eq(row.order_count),
            customer_facts::net_spend_minor.eq(row.net_spend_minor),
            customer_facts::median_gap_days.eq(row.median_gap_days),
            customer_facts::orders.eq(&row.orders),
            customer_facts::updated_at.eq(row.updated_at),
        ))
        .execute(c))?;
    Ok(())
}

/// Rebuilds a member's facts from their order rows (after a merge, or when the facts lost a
/// date they need).
pub fn rebuild(
    conn: &mut DbConnection,
    shop_id: &str,
    member_id: &str,
    now: NaiveDateTime,
) -> QueryResult<()> {
    let timezone: String = crate::db::schema::shops::table
        .find(shop_id)
        .select(crate::db::schema::shops::timezone)
        .first(conn)?;
    rebuild_in(conn, shop_id, calendar::zone(&timezone), member_id, now)
}

fn rebuild_in(
    conn: &mut DbConnection,
    shop_id: &str,
    zone: Tz,
    member_id: &str,
    now: NaiveDateTime,
) -> QueryResult<()> {
    let rows: Vec<Order> = orders::table
        .filter(orders::shop_id.eq(shop_id))
        .filter(orders::member_id.eq(member_id))
        .select(Order::as_select())
        .load(conn)?;
    let facts = PurchaseFacts::from_orders(
        rows.iter()
            .filter_map(|o| counted(o, zone).map(|c| (order_key(&o.platform_order_id), c))),
    );
    let segment =
        load(conn, shop_id, member_id)?.and_then(|(_, row)| row.segment.zip(row.segment_on));
    save(conn, shop_id, member_id, &facts, segment, now)
}

/// Forgets the facts of these members (customer redact).
pub fn forget(conn: &mut DbConnection, shop_id: &str, member_ids: &[String]) -> QueryResult<usize> {
    diesel::delete(
        customer_facts::table
            .filter(customer_facts::shop_id.eq(shop_id))
            .filter(customer_facts::member_id.eq_any(member_ids)),
    )
    .execute(conn)
}
