//! Keeps the metric roll-ups current in the transaction that changes an order row or a ledger
//! line: `metric_orders` (what each counted order counts for), `metric_days` (the daily sums,
//! by the order's own day, so a refund or cancellation arriving later corrects the day the
//! order is dated on) and `metric_spells` (each customer's runs of activity, for churn).
//!
//! A change to an order recounts its customer whole: their orders are read (one indexed range),
//! their deltas before and after are computed by `domain::retention::metrics`, and only the
//! difference is written. Replays change nothing (the stored row equals the new one).

use std::collections::BTreeMap;

use chrono::{NaiveDate, NaiveDateTime};
use chrono_tz::Tz;
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

fn customer_orders(
    conn: &mut DbConnection,
    shop_id: &str,
    customer_id: &str,
) -> QueryResult<Vec<CustomerOrder>> {
    let rows: Vec<(NaiveDate, String, i64, bool)> = metric_orders::table
        .filter(metric_orders::shop_id.eq(shop_id))
        .filter(metric_orders::customer_id.eq(customer_id))
        .order((metric_orders::ordered_on, metric_orders::order_id))
        .select((
            metric_orders::ordered_on,
            metric_orders::order_id,
            metric_orders::net_minor,
            metric_orders::member,
        ))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(day, key, net_minor, member)| CustomerOrder {
            day,
            key,
            net_minor,
            member,
        })
        .collect())
}

/// Writes the customer's runs of activity whole.
fn replace_spells(
    conn: &mut DbConnection,
    shop_id: &str,
    customer_id: &str,
    orders: &[CustomerOrder],
) -> QueryResult<()> {
    diesel::delete(
        metric_spells::table
            .filter(metric_spells::shop_id.eq(shop_id))
            .filter(metric_spells::customer_id.eq(customer_id)),
    )
    .execute(conn)?;
    let rows: Vec<SpellRow> = spells(orders)
        .into_iter()
        .map(|s| SpellRow {
            shop_id,
            customer_id,
            started_on: s.started_on,
            last_order_on: s.last_order_on,
            ended_on: s.ended_on,
            member: s.member,
        })
        .collect();
    for row in rows {
        diesel::insert_into(metric_spells::table)
            .values(row)
            .execute(conn)?;
    }
    Ok(())
}

/// On PostgreSQL, holds each customer's roll-ups for the rest of the transaction.
///
/// A customer's roll-ups are read, recomputed from their orders and written whole. Two
/// transactions doing that for one customer at once (two instances, or two job workers,
/// applying two of their orders) would each compute from the orders they can see: the later
/// commit would either collide on a spell's key or, worse, write spells that miss the other's
/// order. A transaction-scoped advisory lock per (shop, customer), taken in a fixed order so two
/// transactions never wait on each other crosswise, makes them take turns. SQLite has a single
/// writer, so nothing is needed there.
fn lock_customers(conn: &mut DbConnection, shop_id: &str, customers: &[&str]) -> QueryResult<()> {
    let DbConnection::Postgresql(pg) = conn else {
        return Ok(());
    };
    let mut keys: Vec<String> = customers
        .iter()
        .map(|customer| format!("metrics:{shop_id}:{customer}"))
        .collect();
    keys.sort();
    keys.dedup();
    for key in keys {
        diesel::sql_query("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))")
            .bind::<diesel::sql_types::Text, _>(key)
            .execute(pg)?;
    }
    Ok(())
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
    let mut before = Vec::with_capacity(customers.len());
    for customer in customers {
        before.push(customer_orders(conn, shop_id, customer)?);
    }
    change(conn)?;
    for (customer, old) in customers.iter().zip(before) {
        let new = customer_orders(conn, shop_id, customer)?;
        if new == old {
            continue;
        }
        merge(&mut deltas, &customer_deltas(&old), -1);
        merge(&mut deltas, &customer_deltas(&new), 1);
        replace_spells(conn, shop_id, customer, &new)?;
    }
    record_days(conn, shop_id, &deltas)
}

/// Whether the members row is an account (a guest who never claimed is not a member).
fn is_account(conn: &mut DbConnection, shop_id: &str, member_id: &str) -> QueryResult<bool> {
    let account: Option<Option<String>> = members::table
        .filter(members::shop_id.eq(shop_id))
        .filter(members::id.eq(member_id))
        .select(members::platform_customer_id)
        .first(conn)
        .optional()?;
    Ok(account.flatten().is_some())
}

/// An order row was written: its counted state moves the roll-ups. Call in the same transaction.
pub fn order_changed(
    conn: &mut DbConnection,
    shop_id: &str,
    zone: Tz,
    order: &Order,
    member_in_hand: Option<&crate::db::models::Member>,
) -> QueryResult<()> {
    let stored: Option<MetricOrder> = metric_orders::table
        .filter(metric_orders::shop_id.eq(shop_id))
        .filter(metric_orders::order_id.eq(&order.id))
        .select(MetricOrder::as_select())
        .first(conn)
        .optional()?;
    let now = match super::facts::counted(order, zone) {
        None => None,
        Some(counted) => {
            // Membership is the order's, at the time it first counted: a guest's old orders do
            // not become members' orders when the guest later claims an account.
            let member = match &stored {
                Some(s) if s.customer_id == order.member_id => s.member,
                _ => match (order.member_id.as_deref(), member_in_hand) {
                    (Some(id), Some(m)) if m.id == id => m.platform_customer_id.is_some(),
                    (Some(id), _) => is_account(conn, shop_id, id)?,
                    (None, _) => false,
                },
            };
            Some(MetricOrder {
                shop_id: shop_id.to_owned(),
                order_id: order.id.clone(),
                customer_id: order.member_id.clone(),
                ordered_on: counted.date,
                net_minor: counted.net_minor,
                member,
            })
        }
    };
    if stored == now {
        return Ok(());
    }
    let mut deltas = DayDeltas::new();
    for (row, sign) in [(&stored, -1), (&now, 1)] {
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
    let mut customers: Vec<&str> = [&stored, &now]
        .into_iter()
        .filter_map(|r| r.as_ref().and_then(|r| r.customer_id.as_deref()))
        .collect();
    customers.dedup();
    recount(conn, shop_id, &customers, deltas, |c| {
        let target = metric_orders::table
            .filter(metric_orders::shop_id.eq(shop_id))
            .filter(metric_orders::order_id.eq(&order.id));
        diesel::delete(target).execute(c)?;
        if let Some(row) = &now {
            diesel::insert_into(metric_orders::table)
                .values(row)
                .execute(c)?;
        }
        Ok(())
    })
}

/// A guest's orders moved to an account (the account claimed them): both are recounted; the
/// orders keep the membership they were placed with.
pub fn customer_moved(
    conn: &mut DbConnection,
    shop_id: &str,
    from: &str,
    to: &str,
) -> QueryResult<()> {
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
