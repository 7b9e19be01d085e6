//! Once per shop, the purchase facts and product purchases of orders stored before they were
//! kept (an instance upgraded with shops already installed): the first daily pass walks the
//! shop's orders in pages, each page in one write transaction, and marks the shop done.

use std::collections::BTreeSet;

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::models::{Order, Shop};
use crate::db::schema::{orders, shops};
use crate::db::{write_transaction, DbConnection};
use crate::domain::calendar;

const PAGE: i64 = 2_000;

/// Builds what is missing unless the shop was done before; the orders walked (`None`: done
/// before).
pub fn backfill_once(
    conn: &mut DbConnection,
    shop: &Shop,
    now: NaiveDateTime,
) -> QueryResult<Option<u64>> {
    let done: Option<NaiveDateTime> = shops::table
        .find(&shop.id)
        .select(shops::facts_backfilled_at)
        .first(conn)?;
    if done.is_some() {
        return Ok(None);
    }
    let zone = calendar::zone(&shop.timezone);
    let mut walked = 0u64;
    let mut after = String::new();
    loop {
        let page: Vec<Order> = orders::table
            .filter(orders::shop_id.eq(&shop.id))
            .filter(orders::member_id.is_not_null())
            .filter(orders::id.gt(&after))
            .order(orders::id)
            .limit(PAGE)
            .select(Order::as_select())
            .load(conn)?;
        let Some(last) = page.last() else { break };
        after = last.id.clone();
        walked += page.len() as u64;
        write_transaction(conn, |c| {
            let changes: Vec<_> = page
                .iter()
                .map(|order| super::rollups::Changed::new(order, zone, None))
                .collect();
            super::replenishment::orders_changed(c, &shop.id, &changes)?;
            let mut members = BTreeSet::new();
            for order in &page {
                members.extend(order.member_id.as_deref());
            }
            for member in members {
                super::facts::rebuild(c, &shop.id, member, now)?;
            }
            Ok::<_, diesel::result::Error>(())
        })?;
    }
    mark_done(conn, &shop.id, now)?;
    Ok(Some(walked))
}

/// Marks the shop's facts as built (a shop whose facts were written whole, e.g. seeded).
pub fn mark_done(conn: &mut DbConnection, shop_id: &str, now: NaiveDateTime) -> QueryResult<()> {
    diesel::update(shops::table.find(shop_id))
        .set(shops::facts_backfilled_at.eq(Some(now)))
        .execute(conn)?;
    Ok(())
}
