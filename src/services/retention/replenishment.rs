//! Replenishment reminders. Each counted order's products are kept per member
//! (`product_purchases`, rewritten with the order in its transaction). The daily pass computes
//! every product's usual repurchase interval from the shop's own history (streamed, grouped by
//! customer: `domain::retention::RepurchaseIntervals`), then reminds each customer who bought a
//! product with an interval exactly once, `lead_days` before the interval has passed.
//!
//! A reminder whose day passed more than [`CATCH_UP_DAYS`] ago is not sent: a missed day or two
//! still goes out, but switching reminders on does not mail every single purchase of the past.

use std::collections::BTreeMap;

use chrono::{Days, NaiveDate, NaiveDateTime};
use diesel::prelude::*;

use crate::db::in_list::in_list;
use crate::db::models::{Member, Shop};
use crate::db::schema::product_purchases;
use crate::db::shop_keys::shop_keys;
use crate::db::DbConnection;
use crate::domain::event::OrderFacts;
use crate::domain::mail::Kind;
use crate::domain::retention::{reminder_due, ReplenishmentProgram, RepurchaseIntervals};
use crate::services::program::Program;

use super::facts::counted;

/// How late a reminder may still go.
pub const CATCH_UP_DAYS: u64 = 7;

/// Purchases read per page.
const PAGE: i64 = 5_000;

/// The orders' products as purchases of their members: replaced whole (one delete and one
/// insert for all of them), removed when an order no longer counts (cancelled, fully refunded,
/// a test) or has no member.
pub fn orders_changed(
    conn: &mut DbConnection,
    shop_id: &str,
    changes: &[super::rollups::Changed],
) -> QueryResult<()> {
    if changes.is_empty() {
        return Ok(());
    }
    let ids: Vec<&str> = changes
        .iter()
        .map(|c| c.order.platform_order_id.as_str())
        .collect();
    diesel::delete(product_purchases::table.filter(shop_keys(
        product_purchases::shop_id,
        shop_id,
        product_purchases::platform_order_id,
        &ids,
    )))
    .execute(conn)?;
    let mut rows = Vec::new();
    for change in changes {
        let order = &change.order;
        let (Some(member_id), Some(counted)) =
            (order.member_id.as_deref(), counted(order, change.zone))
        else {
            continue;
        };
        // A redacted order keeps no snapshot: nothing to remember of it.
        let Ok(facts) = serde_json::from_str::<OrderFacts>(&order.snapshot) else {
            continue;
        };
        let mut products: BTreeMap<String, Option<String>> = BTreeMap::new();
        for line in facts
            .lines
            .into_iter()
            .filter(|l| l.quantity > 0 && !l.gift_card)
        {
            if let Some(product) = line.product_id {
                let title = products.entry(product.as_str().to_owned()).or_default();
                if title.is_none() {
                    *title = line.title;
                }
            }
        }
        rows.extend(products.into_iter().map(|(product, title)| {
            (
                product_purchases::shop_id.eq(shop_id.to_owned()),
                product_purchases::platform_order_id.eq(order.platform_order_id.clone()),
                product_purchases::product_id.eq(product),
                product_purchases::member_id.eq(member_id.to_owned()),
                product_purchases::purchased_on.eq(counted.date),
                product_purchases::title.eq(title),
            )
        }));
    }
    // Bound the statement's parameters (SQLite allows 32,766).
    for chunk in rows.chunks(1_000) {
        crate::per_backend!(&mut *conn, |c| diesel::insert_into(
            product_purchases::table
        )
        .values(chunk)
        .execute(c))?;
    }
    Ok(())
}

/// Forgets the purchases of these members (customer redact).
pub fn forget(conn: &mut DbConnection, shop_id: &str, member_ids: &[String]) -> QueryResult<usize> {
    diesel::delete(
        product_purchases::table
            .filter(product_purchases::shop_id.eq(shop_id))
            .filter(in_list(product_purchases::member_id, member_ids)),
    )
    .execute(conn)
}

/// What one pass did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct ReplenishmentReport {
    /// Products with a usual interval, and the interval in days.
    pub intervals: BTreeMap<String, u32>,
    pub reminders: u64,
}

/// `(product_id, member_id, platform_order_id, purchased_on, title)`.
type Purchase = (String, String, String, NaiveDate, Option<String>);

/// The daily replenishment pass on the shop's local day `today`.
pub fn run(
    conn: &mut DbConnection,
    shop: &Shop,
    settings: &ReplenishmentProgram,
    today: NaiveDate,
    now: NaiveDateTime,
) -> QueryResult<ReplenishmentReport> {
    let mut report = ReplenishmentReport {
        intervals: intervals(conn, &shop.id)?,
        reminders: 0,
    };
    if !settings.enabled {
        return Ok(report);
    }
    let program = Program::of(shop);
    for (product, interval) in &report.intervals {
        // Bought on `day`, reminded on `day + interval − lead`: the days whose reminder falls
        // in the catch-up window up to today.
        let Some(offset) = interval.checked_sub(settings.lead_days).filter(|o| *o > 0) else {
            continue;
        };
        let latest = today.checked_sub_days(Days::new(u64::from(offset)));
        let earliest = latest.and_then(|d| d.checked_sub_days(Days::new(CATCH_UP_DAYS)));
        let (Some(earliest), Some(latest)) = (earliest, latest) else {
            continue;
        };
        let candidates: Vec<(String, NaiveDate, Option<String>)> = product_purchases::table
            .filter(product_purchases::shop_id.eq(&shop.id))
            .filter(product_purchases::product_id.eq(product))
            .filter(product_purchases::purchased_on.between(earliest, latest))
            .select((
                product_purchases::member_id,
                product_purchases::purchased_on,
                product_purchases::title,
            ))
            .load(conn)?;
        for (member_id, bought_on, title) in candidates {
            let days: Vec<NaiveDate> = product_purchases::table
                .filter(product_purchases::shop_id.eq(&shop.id))
                .filter(product_purchases::product_id.eq(product))
                .filter(product_purchases::member_id.eq(&member_id))
                .select(product_purchases::purchased_on)
                .distinct()
                .limit(2)
                .load(conn)?;
            let times = u32::try_from(days.len()).unwrap_or(u32::MAX);
            let Some(due) = reminder_due(bought_on, times, *interval, settings.lead_days) else {
                continue;
            };
            if due > today {
                continue;
            }
            let member = Member::find(conn, &shop.id, &member_id)?;
            let queued = crate::services::mail::queue(
                conn,
                shop,
                &program,
                &member,
                Kind::Replenishment,
                &format!("replenishment:{product}:{bought_on}"),
                serde_json::json!({ "product_title": title }),
                now,
            )?;
            report.reminders += u64::from(queued);
        }
    }
    Ok(report)
}

/// Every product's usual interval, from one streamed read of the shop's purchases in
/// (product, customer) order; memory holds one customer's days of one product at a time.
pub fn intervals(conn: &mut DbConnection, shop_id: &str) -> QueryResult<BTreeMap<String, u32>> {
    let mut out = BTreeMap::new();
    let mut current: Option<(String, RepurchaseIntervals<String>)> = None;
    let mut after: Option<(String, String, String)> = None;
    loop {
        let mut query = product_purchases::table
            .filter(product_purchases::shop_id.eq(shop_id))
            .order((
                product_purchases::product_id,
                product_purchases::member_id,
                product_purchases::platform_order_id,
            ))
            .limit(PAGE)
            .select((
                product_purchases::product_id,
                product_purchases::member_id,
                product_purchases::platform_order_id,
                product_purchases::purchased_on,
                product_purchases::title,
            ))
            .into_boxed();
        if let Some((p, m, o)) = &after {
            // Keyset: strictly after (product, member, order).
            query = query.filter(
                product_purchases::product_id
                    .gt(p.clone())
                    .or(product_purchases::product_id
                        .eq(p.clone())
                        .and(product_purchases::member_id.gt(m.clone())))
                    .or(product_purchases::product_id
                        .eq(p.clone())
                        .and(product_purchases::member_id.eq(m.clone()))
                        .and(product_purchases::platform_order_id.gt(o.clone()))),
            );
        }
        let rows: Vec<Purchase> = query.load(conn)?;
        let full = rows.len() as i64 == PAGE;
        for (product, member, order, day, _) in &rows {
            match &mut current {
                Some((p, intervals)) if p == product => intervals.push(member.clone(), *day),
                _ => {
                    if let Some((p, intervals)) = current.take() {
                        if let Some(days) = intervals.finish() {
                            out.insert(p, days);
                        }
                    }
                    let mut intervals = RepurchaseIntervals::new();
                    intervals.push(member.clone(), *day);
                    current = Some((product.clone(), intervals));
                }
            }
            after = Some((product.clone(), member.clone(), order.clone()));
        }
        if !full {
            break;
        }
    }
    if let Some((p, intervals)) = current {
        if let Some(days) = intervals.finish() {
            out.insert(p, days);
        }
    }
    Ok(out)
}
