//! Keeps the metric roll-ups current in the transaction that changes an order row or a ledger
//! line: `metric_orders` (what each counted order counts for), `metric_days` (the daily sums,
//! by the order's own day, so a refund or cancellation arriving later corrects the day the
//! order is dated on) and `metric_spells` (each customer's runs of activity, for churn).
//!
//! A change to an order recounts its customer whole: their orders are read (one indexed range),
//! their deltas before and after are computed by `domain::retention::metrics`, and only the
//! difference is written. Changed orders come in sets (an applier batch's, see `rollups`), so
//! each table is read and written once per set. Replays change nothing (the stored row equals
//! the new one).

use std::collections::{BTreeMap, BTreeSet};

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use diesel::upsert::excluded;

use crate::db::models::Order;
use crate::db::schema::{
    members, metric_day_changes, metric_days, metric_orders, metric_spells, shops,
};
use crate::db::DbConnection;
use crate::domain::calendar;
use crate::domain::points::{LedgerKind, LedgerStatus};
use crate::domain::retention::{
    customer_deltas, merge, order_delta, spells, CustomerOrder, DayDelta, DayDeltas,
};

/// One stored counted order.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable)]
#[diesel(table_name = metric_orders)]
#[diesel(treat_none_as_default_value = false)]
pub struct MetricOrder {
    pub shop_id: String,
    pub order_id: String,
    pub customer_id: Option<String>,
    pub ordered_on: NaiveDate,
    pub net_minor: i64,
    pub member: bool,
}

#[derive(Insertable)]
#[diesel(table_name = metric_days)]
struct DayRow<'a> {
    shop_id: &'a str,
    day: NaiveDate,
    orders: i64,
    revenue_minor: i64,
    member_orders: i64,
    member_revenue_minor: i64,
    first_revenue_minor: i64,
    new_customers: i64,
    window_1: i64,
    window_2: i64,
    window_3: i64,
    window_4: i64,
    window_5: i64,
    clv_customers: i64,
    clv_revenue_minor: i64,
    points_earned: i64,
    points_spent: i64,
}

impl<'a> DayRow<'a> {
    fn of(shop_id: &'a str, day: NaiveDate, d: &DayDelta) -> Self {
        let [window_1, window_2, window_3, window_4, window_5] = d.windows;
        Self {
            shop_id,
            day,
            orders: d.orders,
            revenue_minor: d.revenue_minor,
            member_orders: d.member_orders,
            member_revenue_minor: d.member_revenue_minor,
            first_revenue_minor: d.first_revenue_minor,
            new_customers: d.new_customers,
            window_1,
            window_2,
            window_3,
            window_4,
            window_5,
            clv_customers: d.clv_customers,
            clv_revenue_minor: d.clv_revenue_minor,
            points_earned: d.points_earned,
            points_spent: d.points_spent,
        }
    }
}

/// A day's change as applying an order or a ledger line records it (see `metric_day_changes`).
#[derive(Insertable)]
#[diesel(table_name = metric_day_changes)]
struct ChangeRow<'a> {
    id: String,
    shop_id: &'a str,
    day: NaiveDate,
    orders: i64,
    revenue_minor: i64,
    member_orders: i64,
    member_revenue_minor: i64,
    first_revenue_minor: i64,
    new_customers: i64,
    window_1: i64,
    window_2: i64,
    window_3: i64,
    window_4: i64,
    window_5: i64,
    clv_customers: i64,
    clv_revenue_minor: i64,
    points_earned: i64,
    points_spent: i64,
}

impl<'a> From<DayRow<'a>> for ChangeRow<'a> {
    fn from(r: DayRow<'a>) -> Self {
        Self {
            id: crate::db::new_id(),
            shop_id: r.shop_id,
            day: r.day,
            orders: r.orders,
            revenue_minor: r.revenue_minor,
            member_orders: r.member_orders,
            member_revenue_minor: r.member_revenue_minor,
            first_revenue_minor: r.first_revenue_minor,
            new_customers: r.new_customers,
            window_1: r.window_1,
            window_2: r.window_2,
            window_3: r.window_3,
            window_4: r.window_4,
            window_5: r.window_5,
            clv_customers: r.clv_customers,
            clv_revenue_minor: r.clv_revenue_minor,
            points_earned: r.points_earned,
            points_spent: r.points_spent,
        }
    }
}

/// Records the deltas as changes (appended, never a shared row updated: see the migration),
/// for the metrics to read beside `metric_days` until the daily pass folds them in.
pub fn record_days(conn: &mut DbConnection, shop_id: &str, deltas: &DayDeltas) -> QueryResult<()> {
    let rows: Vec<ChangeRow> = deltas
        .iter()
        .filter(|(_, d)| !d.is_zero())
        .map(|(day, d)| ChangeRow::from(DayRow::of(shop_id, *day, d)))
        .collect();
    if rows.is_empty() {
        return Ok(());
    }
    crate::per_backend!(&mut *conn, |c| diesel::insert_into(
        metric_day_changes::table
    )
    .values(&rows)
    .execute(c))?;
    Ok(())
}

type ChangeValues = (
    i64,
    i64,
    i64,
    i64,
    i64,
    i64,
    i64,
    i64,
    i64,
    i64,
    i64,
    i64,
    i64,
    i64,
    i64,
);

/// Recorded changes of the shop (up to `to`, at most `limit`), oldest id first.
fn load_changes(
    conn: &mut DbConnection,
    shop_id: &str,
    to: Option<NaiveDate>,
    limit: i64,
) -> QueryResult<Vec<(String, NaiveDate, DayDelta)>> {
    use metric_day_changes as c;
    let mut query = c::table
        .filter(c::shop_id.eq(shop_id))
        .order(c::id)
        .limit(limit)
        .select((
            c::id,
            c::day,
            (
                c::orders,
                c::revenue_minor,
                c::member_orders,
                c::member_revenue_minor,
                c::first_revenue_minor,
                c::new_customers,
                c::window_1,
                c::window_2,
                c::window_3,
                c::window_4,
                c::window_5,
                c::clv_customers,
                c::clv_revenue_minor,
                c::points_earned,
                c::points_spent,
            ),
        ))
        .into_boxed();
    if let Some(to) = to {
        query = query.filter(c::day.le(to));
    }
    let rows: Vec<(String, NaiveDate, ChangeValues)> = query.load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(id, day, v)| {
            let delta = DayDelta {
                orders: v.0,
                revenue_minor: v.1,
                member_orders: v.2,
                member_revenue_minor: v.3,
                first_revenue_minor: v.4,
                new_customers: v.5,
                windows: [v.6, v.7, v.8, v.9, v.10],
                clv_customers: v.11,
                clv_revenue_minor: v.12,
                points_earned: v.13,
                points_spent: v.14,
            };
            (id, day, delta)
        })
        .collect())
}

fn sum_by_day(changes: &[(String, NaiveDate, DayDelta)]) -> DayDeltas {
    let mut days: DayDeltas = BTreeMap::new();
    for (_, day, delta) in changes {
        days.entry(*day).or_default().add(delta, 1);
    }
    days
}

/// The changes recorded and not folded yet, summed by day (the metrics add them to the days).
pub fn unfolded_changes(
    conn: &mut DbConnection,
    shop_id: &str,
    to: NaiveDate,
) -> QueryResult<DayDeltas> {
    Ok(sum_by_day(&load_changes(
        conn,
        shop_id,
        Some(to),
        i64::MAX,
    )?))
}

/// Folds the shop's recorded changes into `metric_days` (the daily pass): the changes read are
/// deleted by id, so one recorded while this runs is folded next time, never lost or doubled.
pub fn fold_changes(conn: &mut DbConnection, shop_id: &str) -> QueryResult<usize> {
    let mut folded = 0;
    loop {
        let changes = load_changes(conn, shop_id, None, 5_000)?;
        if changes.is_empty() {
            return Ok(folded);
        }
        add_days(conn, shop_id, &sum_by_day(&changes))?;
        let ids: Vec<&String> = changes.iter().map(|(id, _, _)| id).collect();
        for chunk in ids.chunks(500) {
            diesel::delete(metric_day_changes::table.filter(metric_day_changes::id.eq_any(chunk)))
                .execute(conn)?;
        }
        folded += changes.len();
    }
}

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

/// Adds the deltas to the shop's days (rows are created at zero and added to).
pub fn add_days(conn: &mut DbConnection, shop_id: &str, deltas: &DayDeltas) -> QueryResult<()> {
    let rows: Vec<DayRow> = deltas
        .iter()
        .filter(|(_, d)| !d.is_zero())
        .map(|(day, d)| DayRow::of(shop_id, *day, d))
        .collect();
    // One statement per day: a change touches a few days, a full build a few thousand.
    for row in rows {
        use metric_days as m;
        crate::per_backend!(&mut *conn, |c| diesel::insert_into(m::table)
            .values(&row)
            .on_conflict((m::shop_id, m::day))
            .do_update()
            .set((
                m::orders.eq(m::orders + excluded(m::orders)),
                m::revenue_minor.eq(m::revenue_minor + excluded(m::revenue_minor)),
                m::member_orders.eq(m::member_orders + excluded(m::member_orders)),
                m::member_revenue_minor
                    .eq(m::member_revenue_minor + excluded(m::member_revenue_minor)),
                m::first_revenue_minor
                    .eq(m::first_revenue_minor + excluded(m::first_revenue_minor)),
                m::new_customers.eq(m::new_customers + excluded(m::new_customers)),
                m::window_1.eq(m::window_1 + excluded(m::window_1)),
                m::window_2.eq(m::window_2 + excluded(m::window_2)),
                m::window_3.eq(m::window_3 + excluded(m::window_3)),
                m::window_4.eq(m::window_4 + excluded(m::window_4)),
                m::window_5.eq(m::window_5 + excluded(m::window_5)),
                m::clv_customers.eq(m::clv_customers + excluded(m::clv_customers)),
                m::clv_revenue_minor.eq(m::clv_revenue_minor + excluded(m::clv_revenue_minor)),
                m::points_earned.eq(m::points_earned + excluded(m::points_earned)),
                m::points_spent.eq(m::points_spent + excluded(m::points_spent)),
            ))
            .execute(c))?;
    }
    Ok(())
}

/// These customers' counted orders, each customer's by day and then key (sorted here, so the
/// order never depends on the database's collation).
fn orders_of_customers(
    conn: &mut DbConnection,
    shop_id: &str,
    customers: &[&str],
) -> QueryResult<BTreeMap<String, Vec<CustomerOrder>>> {
    let rows: Vec<(Option<String>, NaiveDate, String, i64, bool)> = metric_orders::table
        .filter(metric_orders::shop_id.eq(shop_id))
        .filter(metric_orders::customer_id.eq_any(customers))
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
        orders.sort_by(|a, b| (a.day, &a.key).cmp(&(b.day, &b.key)));
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
    diesel::delete(
        metric_spells::table
            .filter(metric_spells::shop_id.eq(shop_id))
            .filter(metric_spells::customer_id.eq_any(&ids)),
    )
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
/// a fixed order so two transactions never wait on each other crosswise, makes them take turns. SQLite has a single
/// writer, so nothing is needed there.
fn lock_customers(conn: &mut DbConnection, shop_id: &str, customers: &[&str]) -> QueryResult<()> {
    crate::db::lock_keys(
        conn,
        customers
            .iter()
            .map(|customer| format!("metrics:{shop_id}:{customer}"))
            .collect(),
    )
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
        .filter(members::shop_id.eq(shop_id))
        .filter(members::id.eq_any(member_ids))
        .filter(members::platform_customer_id.is_not_null())
        .select(members::id)
        .load(conn)?;
    Ok(rows.into_iter().collect())
}

/// Order rows were written: their counted state moves the roll-ups. Call in the same
/// transaction. Each order is given once (its latest row).
///
/// The stored rows of all of them are read together, then the orders of every customer whose
/// figures move, and each table is written once: however many orders, about seven statements.
pub fn orders_changed(
    conn: &mut DbConnection,
    shop_id: &str,
    changes: &[super::rollups::Changed],
) -> QueryResult<()> {
    if changes.is_empty() {
        return Ok(());
    }
    let ids: Vec<&str> = changes.iter().map(|c| c.order.id.as_str()).collect();
    let stored: BTreeMap<String, MetricOrder> = metric_orders::table
        .filter(metric_orders::shop_id.eq(shop_id))
        .filter(metric_orders::order_id.eq_any(&ids))
        .select(MetricOrder::as_select())
        .load(conn)?
        .into_iter()
        .map(|row: MetricOrder| (row.order_id.clone(), row))
        .collect();
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
    let mut moved: Vec<(Option<&MetricOrder>, Option<MetricOrder>)> = Vec::new();
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
                    order
                        .member_id
                        .as_ref()
                        .is_some_and(|id| accounts.contains(id))
                }),
        });
        let before = stored.get(&order.id);
        if before != now.as_ref() {
            moved.push((before, now));
        }
    }
    if moved.is_empty() {
        return Ok(());
    }
    let mut deltas = DayDeltas::new();
    for (before, now) in &moved {
        for (row, sign) in [(*before, -1), (now.as_ref(), 1)] {
            if let Some(r) = row {
                let anonymous = r.customer_id.is_none();
                order_delta(
                    &mut deltas,
                    r.ordered_on,
                    r.net_minor,
                    (r.member, anonymous),
                    sign,
                );
            }
        }
    }
    let customers: BTreeSet<&str> = moved
        .iter()
        .flat_map(|(before, now)| {
            [
                before.and_then(|r| r.customer_id.as_deref()),
                now.as_ref().and_then(|r| r.customer_id.as_deref()),
            ]
        })
        .flatten()
        .collect();
    let customer_list: Vec<&str> = customers.iter().copied().collect();
    lock_customers(conn, shop_id, &customer_list)?;
    let before = orders_of_customers(conn, shop_id, &customer_list)?;
    let mut after = before.clone();
    for (old, new) in &moved {
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
    let mut respelled: Vec<(&str, Vec<CustomerOrder>)> = Vec::new();
    for customer in &customers {
        let old = before.get(*customer).map(Vec::as_slice).unwrap_or_default();
        let mut new = after.remove(*customer).unwrap_or_default();
        new.sort_by(|a, b| (a.day, &a.key).cmp(&(b.day, &b.key)));
        if new.as_slice() == old {
            continue;
        }
        merge(&mut deltas, &customer_deltas(old), -1);
        merge(&mut deltas, &customer_deltas(&new), 1);
        respelled.push((customer, new));
    }
    let moved_ids: Vec<&str> = moved
        .iter()
        .map(|(before, now)| {
            before
                .map(|r| r.order_id.as_str())
                .or(now.as_ref().map(|r| r.order_id.as_str()))
                .unwrap_or_default()
        })
        .collect();
    diesel::delete(
        metric_orders::table
            .filter(metric_orders::shop_id.eq(shop_id))
            .filter(metric_orders::order_id.eq_any(&moved_ids)),
    )
    .execute(conn)?;
    let rows: Vec<&MetricOrder> = moved.iter().filter_map(|(_, now)| now.as_ref()).collect();
    if !rows.is_empty() {
        crate::per_backend!(&mut *conn, |c| diesel::insert_into(metric_orders::table)
            .values(rows.into_iter().cloned().collect::<Vec<_>>())
            .execute(c))?;
    }
    replace_spells_of(conn, shop_id, &respelled)?;
    record_days(conn, shop_id, &deltas)
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
    super::rollups::flush(conn)?;
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

/// What a confirmed ledger line adds to its day's points: earned (points for orders, sign-up,
/// birthdays, referrals) or spent (redemptions, less what failed redemptions gave back).
pub fn points_of(kind: &str, status: &str, delta: i64) -> Option<DayDelta> {
    if status != LedgerStatus::Confirmed.as_str() {
        return None;
    }
    let kind: LedgerKind = kind.parse().ok()?;
    let (earned, spent) = match kind {
        LedgerKind::Earn | LedgerKind::Signup | LedgerKind::Birthday | LedgerKind::Referral
            if delta > 0 =>
        {
            (delta, 0)
        }
        LedgerKind::Redeem | LedgerKind::RedeemRefund => (0, -delta),
        _ => return None,
    };
    Some(DayDelta {
        points_earned: earned,
        points_spent: spent,
        ..DayDelta::default()
    })
}

/// A ledger line became confirmed (written confirmed, or confirmed later): its points count on
/// the shop-local day it was created.
pub fn ledger_confirmed(
    conn: &mut DbConnection,
    shop_id: &str,
    created_at: NaiveDateTime,
    kind: &str,
    delta: i64,
) -> QueryResult<()> {
    let Some(points) = points_of(kind, LedgerStatus::Confirmed.as_str(), delta) else {
        return Ok(());
    };
    let timezone: String = shops::table
        .find(shop_id)
        .select(shops::timezone)
        .first(conn)?;
    let day = calendar::local_date(calendar::zone(&timezone), created_at);
    record_days(conn, shop_id, &BTreeMap::from([(day, points)]))
}
