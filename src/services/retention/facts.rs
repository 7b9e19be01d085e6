//! Keeps `customer_facts` current in the transaction that changes an order row: the caller
//! passes the row as it was before the change and as it is after, and the member's
//! [`PurchaseFacts`] move from what the order counted for before to what it counts for now.
//! Replays change nothing (the row says `before == after`, and the facts remember the order by
//! key); reordered deliveries converge because each change moves from the stored state.
//! Guests (orders without a member) have no facts. Facts that no longer know a date
//! (`needs_rebuild`) are rebuilt from the member's order rows.

use std::collections::{BTreeSet, HashMap};

use chrono::NaiveDateTime;
use chrono_tz::Tz;
use diesel::prelude::*;
use serde::Deserialize;

use crate::db::in_list::in_list;
use crate::db::models::{CustomerFact, Order};
use crate::db::schema::{customer_facts, orders};
use crate::db::shop_keys::shop_keys;
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
    let change = |member: &str, before, after| FactChange {
        member_id: member.to_owned(),
        key,
        before,
        after,
    };
    let changes = match (was, is) {
        (Some((old_member, old)), Some((new_member, new))) if old_member == new_member => {
            vec![change(new_member, old, new)]
        }
        (was, is) => was
            .map(|(old_member, old)| change(old_member, old, None))
            .into_iter()
            .chain(is.map(|(new_member, new)| change(new_member, None, new)))
            .collect(),
    };
    super::rollups::facts_changed(conn, shop_id, zone, changes, now)
}

/// The segment a member's facts row keeps, and since when (the daily pass sets it).
type Segment = Option<(String, chrono::NaiveDate)>;

/// One member's purchase facts moving for one order: from what the order counted for before
/// to what it counts for now (`None`: nothing).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct FactChange {
    pub member_id: String,
    pub key: u64,
    pub before: Option<CountedOrder>,
    pub after: Option<CountedOrder>,
}

/// The members' facts move by these changes, in order. Their stored facts are read together,
/// their open win-back entries too, and the facts written in one statement; a member whose
/// facts must be built whole from their order rows (their first counted order, or facts that
/// lost a date they need) is rebuilt from the rows as they are now, which include every change.
pub fn members_changed(
    conn: &mut DbConnection,
    shop_id: &str,
    zone: Tz,
    changes: &[FactChange],
    now: NaiveDateTime,
) -> QueryResult<()> {
    let changes: Vec<&FactChange> = changes
        .iter()
        .filter(|c| c.before.is_some() || c.after.is_some())
        .collect();
    if changes.is_empty() {
        return Ok(());
    }
    let members: BTreeSet<&str> = changes.iter().map(|c| c.member_id.as_str()).collect();
    let stored = load_all(conn, shop_id, &members)?;
    let mut rebuild = Vec::new();
    let mut save = Vec::new();
    for member in members {
        let stored = stored.get(member);
        let mut facts = stored.map(|(facts, _)| facts.clone()).unwrap_or_default();
        let mut whole = false;
        for c in changes.iter().filter(|c| c.member_id == member) {
            if stored.is_none() && c.after.is_some() {
                // A member's first counted order, or one whose orders predate the facts
                // (stored before this table existed): built whole from their order rows.
                whole = true;
                break;
            }
            facts.apply(c.key, c.before, c.after);
            whole |= facts.needs_rebuild();
        }
        if whole {
            rebuild.push(member);
        } else if stored.is_none_or(|(old, _)| *old != facts) {
            let segment = stored.and_then(|(_, row)| row.segment.clone().zip(row.segment_on));
            save.push((member, facts, segment));
        }
    }
    // Members built whole from their order rows: one read for all of them, written with the
    // others (each keeps the segment its row has).
    let built = from_order_rows(conn, shop_id, zone, &rebuild)?;
    for (member, facts) in rebuild.into_iter().zip(built) {
        let segment = stored
            .get(member)
            .and_then(|(_, row)| row.segment.clone().zip(row.segment_on));
        save.push((member, facts, segment));
    }
    save_all(conn, shop_id, &save, now)
}

/// The facts of each of `members` built from their order rows, in the order given.
fn from_order_rows(
    conn: &mut DbConnection,
    shop_id: &str,
    zone: Tz,
    members: &[&str],
) -> QueryResult<Vec<PurchaseFacts>> {
    if members.is_empty() {
        return Ok(Vec::new());
    }
    // Orders an applier batch holds are read too.
    crate::services::ledger::write_held(conn)?;
    let rows: Vec<Order> = orders::table
        .filter(shop_keys(
            orders::shop_id,
            shop_id,
            orders::member_id,
            members,
        ))
        .select(Order::as_select())
        .load(conn)?;
    Ok(members
        .iter()
        .map(|member| {
            PurchaseFacts::from_orders(
                rows.iter()
                    .filter(|o| o.member_id.as_deref() == Some(*member))
                    .filter_map(|o| counted(o, zone).map(|c| (order_key(&o.platform_order_id), c))),
            )
        })
        .collect())
}

/// These members' stored facts and rows, by member.
fn load_all(
    conn: &mut DbConnection,
    shop_id: &str,
    members: &BTreeSet<&str>,
) -> QueryResult<HashMap<String, (PurchaseFacts, CustomerFact)>> {
    let rows: Vec<CustomerFact> = customer_facts::table
        .filter(shop_keys(
            customer_facts::shop_id,
            shop_id,
            customer_facts::member_id,
            members,
        ))
        .select(CustomerFact::as_select())
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|row| {
            // A row that cannot be read is rebuilt by the next change (it reads as empty here).
            let facts = serde_json::from_str(&row.orders).unwrap_or_default();
            (row.member_id.clone(), (facts, row))
        })
        .collect())
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

/// Writes these members' facts (each with the segment its row keeps): rows of members with no
/// counted order left are deleted, the others upserted, all in one statement each; an order
/// after a lapse ends the member's win-back sequence, in this same transaction.
fn save_all(
    conn: &mut DbConnection,
    shop_id: &str,
    members: &[(&str, PurchaseFacts, Segment)],
    now: NaiveDateTime,
) -> QueryResult<()> {
    if members.is_empty() {
        return Ok(());
    }
    let facts: Vec<(&str, &PurchaseFacts)> = members.iter().map(|(m, f, _)| (*m, f)).collect();
    super::winback::end_on_orders(conn, &facts, now)?;
    let gone: Vec<&str> = members
        .iter()
        .filter(|(_, facts, _)| facts.order_count() == 0)
        .map(|(member, _, _)| *member)
        .collect();
    if !gone.is_empty() {
        // Not `shop_keys`: a row the segments pass updated meanwhile would be left (see
        // `db::shop_keys`).
        diesel::delete(
            customer_facts::table
                .filter(customer_facts::shop_id.eq(shop_id))
                .filter(in_list(customer_facts::member_id, &gone)),
        )
        .execute(conn)?;
    }
    let rows: Vec<CustomerFact> = members
        .iter()
        .filter(|(_, facts, _)| facts.order_count() > 0)
        .map(|(member, facts, segment)| row_of(shop_id, member, facts, segment.clone(), now))
        .collect();
    if rows.is_empty() {
        return Ok(());
    }
    use customer_facts as f;
    use diesel::upsert::excluded;
    crate::per_backend!(&mut *conn, |c| diesel::insert_into(f::table)
        .values(&rows)
        .on_conflict(f::member_id)
        .do_update()
        .set((
            f::first_order_on.eq(excluded(f::first_order_on)),
            f::last_order_on.eq(excluded(f::last_order_on)),
            f::order_count.eq(excluded(f::order_count)),
            f::net_spend_minor.eq(excluded(f::net_spend_minor)),
            f::median_gap_days.eq(excluded(f::median_gap_days)),
            f::orders.eq(excluded(f::orders)),
            f::updated_at.eq(excluded(f::updated_at)),
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
    // Built from the rows as they are: changes an open batch collected must not apply again.
    super::rollups::flush(conn, shop_id)?;
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
    let facts = from_order_rows(conn, shop_id, zone, &[member_id])?
        .pop()
        .unwrap_or_default();
    let segment = load_all(conn, shop_id, &BTreeSet::from([member_id]))?
        .remove(member_id)
        .and_then(|(_, row)| row.segment.zip(row.segment_on));
    save_all(conn, shop_id, &[(member_id, facts, segment)], now)
}

/// Forgets the facts of these members (customer redact).
pub fn forget(conn: &mut DbConnection, shop_id: &str, member_ids: &[String]) -> QueryResult<usize> {
    // Changes an open batch collected must not bring the facts back after this.
    super::rollups::flush(conn, shop_id)?;
    diesel::delete(
        customer_facts::table
            .filter(customer_facts::shop_id.eq(shop_id))
            .filter(in_list(customer_facts::member_id, member_ids)),
    )
    .execute(conn)
}
