//! The metric roll-ups built whole from a shop's orders and confirmed ledger lines: once per
//! shop for the orders stored before the roll-ups were kept (an upgraded instance: the daily
//! pass, or the first metrics request, whichever comes first), and by the benchmark. One write
//! transaction: what was there is replaced, so a build racing a webhook cannot double count.

use std::collections::HashMap;

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;

use crate::db::models::Order;
use crate::db::schema::{
    ledger_entries, members, metric_day_changes, metric_days, metric_orders, metric_spells, shops,
};
use crate::db::{write_transaction, DbConnection};
use crate::domain::calendar;
use crate::domain::points::LedgerStatus;
use crate::domain::retention::{customer_deltas, merge, order_delta, spells, CustomerOrder};

use super::metrics::{add_days, points_of, MetricOrder};
use super::metrics_customers::SpellRow;

const PAGE: i64 = 5_000;
const INSERT_CHUNK: usize = 1_000;

/// Builds the roll-ups unless they were built before; the orders walked (`None`: built before).
pub fn build_once(
    conn: &mut DbConnection,
    shop_id: &str,
    now: NaiveDateTime,
) -> QueryResult<Option<u64>> {
    let (built, timezone): (Option<NaiveDateTime>, String) = shops::table
        .find(shop_id)
        .select((shops::metrics_built_at, shops::timezone))
        .first(conn)?;
    if built.is_some() {
        return Ok(None);
    }
    write_transaction(conn, |c| {
        let walked = rebuild(c, shop_id, &timezone)?;
        diesel::update(shops::table.find(shop_id))
            .set(shops::metrics_built_at.eq(Some(now)))
            .execute(c)?;
        Ok(Some(walked))
    })
}

/// Replaces the shop's roll-ups with ones built from its orders and ledger; the orders walked.
/// Call in a write transaction.
pub fn rebuild(conn: &mut DbConnection, shop_id: &str, timezone: &str) -> QueryResult<u64> {
    let zone = calendar::zone(timezone);
    diesel::delete(metric_orders::table.filter(metric_orders::shop_id.eq(shop_id)))
        .execute(conn)?;
    diesel::delete(metric_days::table.filter(metric_days::shop_id.eq(shop_id))).execute(conn)?;
    diesel::delete(metric_day_changes::table.filter(metric_day_changes::shop_id.eq(shop_id)))
        .execute(conn)?;
    diesel::delete(metric_spells::table.filter(metric_spells::shop_id.eq(shop_id)))
        .execute(conn)?;
    let mut days = crate::domain::retention::DayDeltas::new();
    let mut customers: HashMap<String, Vec<CustomerOrder>> = HashMap::new();
    let mut walked = 0u64;
    let mut after = String::new();
    loop {
        let page: Vec<(Order, Option<String>)> = orders_page(conn, shop_id, &after)?;
        let Some((last, _)) = page.last() else { break };
        after = last.id.clone();
        walked += page.len() as u64;
        let mut rows = Vec::with_capacity(page.len());
        for (order, account) in page {
            let Some(counted) = super::facts::counted(&order, zone) else {
                continue;
            };
            let member = order.member_id.is_some() && account.is_some();
            let anonymous = order.member_id.is_none();
            order_delta(
                &mut days,
                counted.date,
                counted.net_minor,
                (member, anonymous),
                1,
            );
            if let Some(customer) = &order.member_id {
                customers
                    .entry(customer.clone())
                    .or_default()
                    .push(CustomerOrder {
                        day: counted.date,
                        key: order.id.clone(),
                        net_minor: counted.net_minor,
                        member,
                    });
            }
            rows.push(MetricOrder {
                shop_id: shop_id.to_owned(),
                order_id: order.id,
                customer_id: order.member_id,
                ordered_on: counted.date,
                net_minor: counted.net_minor,
                member,
            });
        }
        for chunk in rows.chunks(INSERT_CHUNK) {
            crate::per_backend!(&mut *conn, |c| diesel::insert_into(metric_orders::table)
                .values(chunk)
                .execute(c))?;
        }
    }
    let mut spell_rows = Vec::new();
    for (customer, orders) in &customers {
        merge(&mut days, &customer_deltas(orders), 1);
        for s in spells(orders) {
            spell_rows.push(SpellRow {
                shop_id,
                customer_id: customer.as_str(),
                started_on: s.started_on,
                last_order_on: s.last_order_on,
                ended_on: s.ended_on,
                member: s.member,
            });
        }
    }
    for chunk in spell_rows.chunks(INSERT_CHUNK) {
        crate::per_backend!(&mut *conn, |c| diesel::insert_into(metric_spells::table)
            .values(chunk)
            .execute(c))?;
    }
    for (day, points) in confirmed_points(conn, shop_id, zone)? {
        days.entry(day).or_default().add(&points, 1);
    }
    add_days(conn, shop_id, &days)?;
    super::metrics_engagement::rebuild(conn, shop_id, timezone, None)?;
    Ok(walked)
}

/// A page of the shop's orders after `after` (by id), each with its member's account id.
fn orders_page(
    conn: &mut DbConnection,
    shop_id: &str,
    after: &str,
) -> QueryResult<Vec<(Order, Option<String>)>> {
    use crate::db::schema::orders;
    orders::table
        .left_join(members::table.on(members::id.nullable().eq(orders::member_id)))
        .filter(orders::shop_id.eq(shop_id))
        .filter(orders::id.gt(after))
        .order(orders::id)
        .limit(PAGE)
        .select((Order::as_select(), members::platform_customer_id.nullable()))
        .load(conn)
}

/// The confirmed points of the shop's ledger, per shop-local day.
fn confirmed_points(
    conn: &mut DbConnection,
    shop_id: &str,
    zone: chrono_tz::Tz,
) -> QueryResult<Vec<(NaiveDate, crate::domain::retention::DayDelta)>> {
    let lines: Vec<(NaiveDateTime, String, i64)> = ledger_entries::table
        .filter(ledger_entries::shop_id.eq(shop_id))
        .filter(ledger_entries::status.eq(LedgerStatus::Confirmed.as_str()))
        .select((
            ledger_entries::created_at,
            ledger_entries::kind,
            ledger_entries::delta,
        ))
        .load(conn)?;
    Ok(lines
        .into_iter()
        .filter_map(|(at, kind, delta)| {
            points_of(&kind, LedgerStatus::Confirmed.as_str(), delta)
                .map(|p| (calendar::local_date(zone, at), p))
        })
        .collect())
}
