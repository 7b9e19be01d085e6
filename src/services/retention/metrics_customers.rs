//! Each customer's side of the metric roll-ups: their counted orders (`metric_orders`) and runs
//! of activity (`metric_spells`, for churn), recounted whole when orders of theirs change or a
//! guest's orders move to an account. A change reads the customers' orders (one indexed range
//! for all of them), computes their deltas before and after with `domain::retention::metrics`,
//! and writes only the difference; changed orders come in sets (an applier batch's, see
//! `rollups`), so each table is read and written once per set. Replays change nothing (the
//! stored row equals the new one).

use std::collections::{BTreeMap, BTreeSet};

use chrono::NaiveDate;
use diesel::prelude::*;

use super::metrics::{record_days, MetricOrder};
use super::rollups::Changed;
use crate::db::in_list::in_list;
use crate::db::models::Order;
use crate::db::schema::{members, metric_orders, metric_spells};
use crate::db::shop_keys::shop_keys;
use crate::db::DbConnection;
use crate::domain::retention::{
    customer_deltas, merge, order_delta, spells, CustomerOrder, DayDeltas,
};

#[derive(Insertable)]
#[diesel(table_name = metric_spells)]
pub struct SpellRow<'a> {
    pub shop_id: &'a str,
    pub customer_id: &'a str,
    pub started_on: NaiveDate,
    pub last_order_on: NaiveDate,
    pub ended_on: NaiveDate,
    pub member: bool,
}

/// These customers' counted orders, each customer's by day and then key (sorted here, so the
/// order never depends on the database's collation).
fn orders_of_customers(
    conn: &mut DbConnection,
    shop_id: &str,
    customers: &[&str],
) -> QueryResult<BTreeMap<String, Vec<CustomerOrder>>> {
    let rows: Vec<(Option<String>, NaiveDate, String, i64, bool)> = metric_orders::table
        .filter(shop_keys(
            metric_orders::shop_id,
            shop_id,
            metric_orders::customer_id,
            customers,
        ))
        .select((
            metric_orders::customer_id,
            metric_orders::ordered_on,
            metric_orders::order_id,
            metric_orders::net_minor,
            metric_orders::member,
        ))
        .load(conn)?;
    let mut by_customer: BTreeMap<String, Vec<CustomerOrder>> = BTreeMap::new();
    for (customer, day, key, net_minor, member) in rows {
        let Some(customer) = customer else { continue };
        by_customer
            .entry(customer)
            .or_default()
            .push(CustomerOrder {
                day,
                key,
                net_minor,
                member,
            });
    }
    for orders in by_customer.values_mut() {
        sort_orders(orders);
    }
    Ok(by_customer)
}

/// Writes these customers' runs of activity whole.
fn replace_spells_of(
    conn: &mut DbConnection,
    shop_id: &str,
    customers: &[(&str, Vec<CustomerOrder>)],
) -> QueryResult<()> {
    if customers.is_empty() {
        return Ok(());
    }
    let ids: Vec<&str> = customers.iter().map(|(id, _)| *id).collect();
    diesel::delete(metric_spells::table.filter(shop_keys(
        metric_spells::shop_id,
        shop_id,
        metric_spells::customer_id,
        &ids,
    )))
    .execute(conn)?;
    let rows: Vec<SpellRow> = customers
        .iter()
        .flat_map(|(customer_id, orders)| {
            spells(orders).into_iter().map(move |s| SpellRow {
                shop_id,
                customer_id,
                started_on: s.started_on,
                last_order_on: s.last_order_on,
                ended_on: s.ended_on,
                member: s.member,
            })
        })
        .collect();
    // Bound the statement's parameters (SQLite allows 32,766).
    for chunk in rows.chunks(1_000) {
        crate::per_backend!(&mut *conn, |c| diesel::insert_into(metric_spells::table)
            .values(chunk)
            .execute(c))?;
    }
    Ok(())
}

/// On PostgreSQL, holds each customer's roll-ups for the rest of the transaction.
///
/// A customer's roll-ups are read, recomputed from their orders and written whole. Two
/// transactions doing that for one customer at once (two instances, or two job workers,
/// applying two of their orders) would each compute from the orders they can see: the later
/// commit would either collide on a spell's key or, worse, write spells that miss the other's
/// order. A transaction-scoped advisory lock per (shop, customer), all taken in one statement in
/// a fixed order so two transactions never wait on each other crosswise, makes them take turns.
/// SQLite has a single writer, so nothing is needed there.
fn lock_customers(conn: &mut DbConnection, shop_id: &str, customers: &[&str]) -> QueryResult<()> {
    crate::db::lock_keys(
        conn,
        customers
            .iter()
            .map(|customer| customer_lock_key(shop_id, customer))
            .collect(),
    )
}

/// The advisory lock key of a customer's roll-ups (`lock_customers`); `rollups` takes all of a
/// transaction's at once ahead of the writes, whose own takes are then free.
pub(super) fn customer_lock_key(shop_id: &str, customer: &str) -> String {
    format!("metrics:{shop_id}:{customer}")
}

/// Applies `change` to `metric_orders` and moves the roll-ups of the customers it touches from
/// their orders before to their orders after.
fn recount(
    conn: &mut DbConnection,
    shop_id: &str,
    customers: &[&str],
    mut deltas: DayDeltas,
    change: impl FnOnce(&mut DbConnection) -> QueryResult<()>,
) -> QueryResult<()> {
    lock_customers(conn, shop_id, customers)?;
    let mut before = orders_of_customers(conn, shop_id, customers)?;
    change(conn)?;
    let mut after = orders_of_customers(conn, shop_id, customers)?;
    let mut respelled = Vec::new();
    for customer in customers {
        let old = before.remove(*customer).unwrap_or_default();
        let new = after.remove(*customer).unwrap_or_default();
        if new == old {
            continue;
        }
        merge(&mut deltas, &customer_deltas(&old), -1);
        merge(&mut deltas, &customer_deltas(&new), 1);
        respelled.push((*customer, new));
    }
    replace_spells_of(conn, shop_id, &respelled)?;
    record_days(conn, shop_id, &deltas)
}

/// Which of these members rows are accounts (a guest who never claimed is not a member).
fn accounts(
    conn: &mut DbConnection,
    shop_id: &str,
    member_ids: &BTreeSet<&str>,
) -> QueryResult<BTreeSet<String>> {
    if member_ids.is_empty() {
        return Ok(BTreeSet::new());
    }
    let rows: Vec<String> = members::table
        .filter(shop_keys(
            members::shop_id,
            shop_id,
            members::id,
            member_ids,
        ))
        .filter(members::platform_customer_id.is_not_null())
        .select(members::id)
        .load(conn)?;
    Ok(rows.into_iter().collect())
}

/// An order's metric row before and after a change (`None`: it did not count).
type Move<'a> = (Option<&'a MetricOrder>, Option<MetricOrder>);

/// Order rows were written: their counted state moves the roll-ups. Call in the same
/// transaction. Each order is given once (its latest row).
///
/// The stored rows of all of them are read together, then the orders of every customer whose
/// figures move, and each table is written once: however many orders, about seven statements.
pub fn orders_changed(
    conn: &mut DbConnection,
    shop_id: &str,
    changes: &[Changed],
) -> QueryResult<()> {
    if changes.is_empty() {
        return Ok(());
    }
    let ids: Vec<&str> = changes.iter().map(|c| c.order.id.as_str()).collect();
    let stored: BTreeMap<String, MetricOrder> = metric_orders::table
        .filter(shop_keys(
            metric_orders::shop_id,
            shop_id,
            metric_orders::order_id,
            &ids,
        ))
        .select(MetricOrder::as_select())
        .load(conn)?
        .into_iter()
        .map(|row: MetricOrder| (row.order_id.clone(), row))
        .collect();
    let moved = moves(conn, shop_id, changes, &stored)?;
    if moved.is_empty() {
        return Ok(());
    }
    let mut deltas = DayDeltas::new();
    for (before, now) in &moved {
        for (row, sign) in [(*before, -1), (now.as_ref(), 1)] {
            if let Some(r) = row {
                let anonymous = r.customer_id.is_none();
                let day = r.ordered_on;
                order_delta(&mut deltas, day, r.net_minor, (r.member, anonymous), sign);
            }
        }
    }
    let customers: Vec<&str> = moved
        .iter()
        .flat_map(|(before, now)| {
            [
                before.and_then(|r| r.customer_id.as_deref()),
                now.as_ref().and_then(|r| r.customer_id.as_deref()),
            ]
        })
        .flatten()
        .collect::<BTreeSet<&str>>()
        .into_iter()
        .collect();
    lock_customers(conn, shop_id, &customers)?;
    let before = orders_of_customers(conn, shop_id, &customers)?;
    let mut after = orders_after(&before, &moved);
    let mut respelled: Vec<(&str, Vec<CustomerOrder>)> = Vec::new();
    for customer in customers {
        let old = before.get(customer).map(Vec::as_slice).unwrap_or_default();
        let new = after.remove(customer).unwrap_or_default();
        if new.as_slice() == old {
            continue;
        }
        merge(&mut deltas, &customer_deltas(old), -1);
        merge(&mut deltas, &customer_deltas(&new), 1);
        respelled.push((customer, new));
    }
    replace_spells_of(conn, shop_id, &respelled)?;
    // Orders that stop counting lose their row; the others are written over by their key.
    // (Deleting every moved row and inserting them again read the shop's whole range of rows
    // on PostgreSQL once per batch, and a `ctid` probe is no fit for a delete: see
    // `db::shop_keys`.)
    let gone: Vec<&str> = moved
        .iter()
        .filter(|(_, now)| now.is_none())
        .filter_map(|(before, _)| before.map(|r| r.order_id.as_str()))
        .collect();
    if !gone.is_empty() {
        diesel::delete(
            metric_orders::table
                .filter(metric_orders::shop_id.eq(shop_id))
                .filter(in_list(metric_orders::order_id, &gone)),
        )
        .execute(conn)?;
    }
    let rows: Vec<MetricOrder> = moved.into_iter().filter_map(|(_, now)| now).collect();
    if !rows.is_empty() {
        use diesel::upsert::excluded;
        use metric_orders as m;
        crate::per_backend!(&mut *conn, |c| diesel::insert_into(m::table)
            .values(&rows)
            .on_conflict((m::shop_id, m::order_id))
            .do_update()
            .set((
                m::customer_id.eq(excluded(m::customer_id)),
                m::ordered_on.eq(excluded(m::ordered_on)),
                m::net_minor.eq(excluded(m::net_minor)),
                m::member.eq(excluded(m::member)),
            ))
            .execute(c))?;
    }
    record_days(conn, shop_id, &deltas)
}

/// The orders whose metric row changes, with the row as stored and as it should be now.
fn moves<'a>(
    conn: &mut DbConnection,
    shop_id: &str,
    changes: &[Changed],
    stored: &'a BTreeMap<String, MetricOrder>,
) -> QueryResult<Vec<Move<'a>>> {
    // Membership is the order's, at the time it first counted: a guest's old orders do not
    // become members' orders when the guest later claims an account.
    let keeps_membership = |order: &Order| {
        stored
            .get(&order.id)
            .filter(|s| s.customer_id == order.member_id)
            .map(|s| s.member)
    };
    let unknown: BTreeSet<&str> = changes
        .iter()
        .filter(|c| keeps_membership(&c.order).is_none() && c.member_is_account.is_none())
        .filter_map(|c| c.order.member_id.as_deref())
        .collect();
    let accounts = accounts(conn, shop_id, &unknown)?;
    let mut moved = Vec::new();
    for change in changes {
        let order = &change.order;
        let now = super::facts::counted(order, change.zone).map(|counted| MetricOrder {
            shop_id: shop_id.to_owned(),
            order_id: order.id.clone(),
            customer_id: order.member_id.clone(),
            ordered_on: counted.date,
            net_minor: counted.net_minor,
            member: keeps_membership(order)
                .or(change.member_is_account)
                .unwrap_or_else(|| {
                    let id = order.member_id.as_ref();
                    id.is_some_and(|id| accounts.contains(id))
                }),
        });
        let before = stored.get(&order.id);
        if before != now.as_ref() {
            moved.push((before, now));
        }
    }
    Ok(moved)
}

/// Each customer's orders once the moves are made: a moved order leaves the customer it was
/// counted for and joins the one it counts for now; each list by day, then key.
fn orders_after(
    before: &BTreeMap<String, Vec<CustomerOrder>>,
    moved: &[Move<'_>],
) -> BTreeMap<String, Vec<CustomerOrder>> {
    let mut after = before.clone();
    for (old, new) in moved {
        if let Some(old) = old {
            if let Some(list) = old.customer_id.as_ref().and_then(|c| after.get_mut(c)) {
                list.retain(|o| o.key != old.order_id);
            }
        }
        if let Some(new) = new {
            if let Some(customer) = &new.customer_id {
                after
                    .entry(customer.clone())
                    .or_default()
                    .push(CustomerOrder {
                        day: new.ordered_on,
                        key: new.order_id.clone(),
                        net_minor: new.net_minor,
                        member: new.member,
                    });
            }
        }
    }
    for orders in after.values_mut() {
        sort_orders(orders);
    }
    after
}

/// By day, then key, compared as bytes (not by the database's collation).
fn sort_orders(orders: &mut [CustomerOrder]) {
    orders.sort_by(|a, b| (a.day, &a.key).cmp(&(b.day, &b.key)));
}

/// A guest's orders moved to an account (the account claimed them): both are recounted; the
/// orders keep the membership they were placed with.
pub fn customer_moved(
    conn: &mut DbConnection,
    shop_id: &str,
    from: &str,
    to: &str,
) -> QueryResult<()> {
    // The guest's orders collected by an open batch are written before they are moved.
    super::rollups::flush(conn, shop_id)?;
    recount(conn, shop_id, &[from, to], DayDeltas::new(), |c| {
        diesel::update(
            metric_orders::table
                .filter(metric_orders::shop_id.eq(shop_id))
                .filter(metric_orders::customer_id.eq(from)),
        )
        .set(metric_orders::customer_id.eq(to))
        .execute(c)
        .map(|_| ())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(order: &str, customer: Option<&str>, day: u32, net_minor: i64) -> MetricOrder {
        MetricOrder {
            shop_id: "s".into(),
            order_id: order.into(),
            customer_id: customer.map(Into::into),
            ordered_on: NaiveDate::from_ymd_opt(2026, 1, day).unwrap(),
            net_minor,
            member: true,
        }
    }

    fn counted(order: &str, day: u32, net_minor: i64) -> CustomerOrder {
        CustomerOrder {
            day: NaiveDate::from_ymd_opt(2026, 1, day).unwrap(),
            key: order.into(),
            net_minor,
            member: true,
        }
    }

    #[test]
    fn moved_orders_leave_their_old_customer_and_join_the_new_one_in_day_order() {
        let before = BTreeMap::from([
            (
                "a".to_owned(),
                vec![counted("o1", 1, 100), counted("o3", 5, 300)],
            ),
            ("b".to_owned(), vec![counted("o2", 2, 200)]),
        ]);
        let o1 = row("o1", Some("a"), 1, 100);
        let o3 = row("o3", Some("a"), 5, 300);
        let moved: Vec<Move<'_>> = vec![
            // Refunded in part: stays with a, counts less.
            (Some(&o1), Some(row("o1", Some("a"), 1, 60))),
            // Moved to b (a claim), dated before b's order.
            (Some(&o3), Some(row("o3", Some("b"), 1, 300))),
            // A new order of c; an anonymous one touches no customer.
            (None, Some(row("o4", Some("c"), 9, 50))),
            (None, Some(row("o5", None, 9, 70))),
        ];
        let after = orders_after(&before, &moved);
        assert_eq!(after["a"], vec![counted("o1", 1, 60)]);
        assert_eq!(
            after["b"],
            vec![counted("o3", 1, 300), counted("o2", 2, 200)]
        );
        assert_eq!(after["c"], vec![counted("o4", 9, 50)]);
        assert_eq!(after.len(), 3);
    }

    #[test]
    fn an_order_that_stops_counting_leaves_its_customer() {
        let before = BTreeMap::from([(
            "a".to_owned(),
            vec![counted("o1", 1, 100), counted("o2", 1, 50)],
        )]);
        let o1 = row("o1", Some("a"), 1, 100);
        let after = orders_after(&before, &[(Some(&o1), None)]);
        assert_eq!(after["a"], vec![counted("o2", 1, 50)]);
    }

    #[test]
    fn same_day_orders_sort_by_key_as_bytes() {
        let mut orders = vec![counted("b", 1, 1), counted("B", 1, 1), counted("a", 1, 1)];
        sort_orders(&mut orders);
        let keys: Vec<&str> = orders.iter().map(|o| o.key.as_str()).collect();
        assert_eq!(keys, ["B", "a", "b"]);
    }
}
