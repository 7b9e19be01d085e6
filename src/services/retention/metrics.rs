//! Keeps the metric roll-ups current in the transaction that changes an order row or a ledger
//! line: `metric_orders` (what each counted order counts for), `metric_days` (the daily sums,
//! by the order's own day, so a refund or cancellation arriving later corrects the day the
//! order is dated on) and `metric_spells` (each customer's runs of activity, for churn).
//!
//! The customers' side (their orders and spells, recounted when an order changes) is in
//! `metrics_customers`; this keeps the days: the changes orders and ledger lines record, and
//! the daily pass that folds them in.

use std::collections::BTreeMap;

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use diesel::upsert::excluded;

use crate::db::schema::{metric_day_changes, metric_days, metric_orders};
use crate::db::DbConnection;
use crate::domain::calendar;
use crate::domain::points::{LedgerKind, LedgerStatus};
use crate::domain::retention::{DayDelta, DayDeltas};

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
    let timezone = crate::services::batch::shop_timezone(conn, shop_id)?;
    let day = calendar::local_date(calendar::zone(&timezone), created_at);
    record_days(conn, shop_id, &BTreeMap::from([(day, points)]))
}
