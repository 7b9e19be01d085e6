//! The writer's side of the arrivals file: storing deliveries once across it and the inbox.

use std::collections::{BTreeMap, HashSet};

use diesel::prelude::*;
use diesel::sqlite::SqliteConnection;

use super::arrivals;
use crate::db::in_list::in_list;
use crate::db::models::inbox_event::AboutRow;
use crate::db::schema::inbox_events;
use crate::db::stored_body::StoredBody;
use crate::db::types::Platform;
use crate::db::DbConnection;

#[derive(Insertable)]
#[diesel(table_name = arrivals)]
#[diesel(treat_none_as_default_value = false)]
struct NewArrival {
    id: String,
    shop_id: String,
    platform: String,
    topic: String,
    delivery_id: String,
    event_id: Option<String>,
    api_version: Option<String>,
    triggered_at: Option<chrono::NaiveDateTime>,
    #[diesel(serialize_as = StoredBody)]
    payload: String,
    received_at: chrono::NaiveDateTime,
    customer_id: Option<String>,
    order_id: Option<String>,
}

/// Stores the rows whose delivery neither the inbox nor the arrivals file holds yet, inside
/// [`arrivals_transaction`]; returns the ids of the rows stored (of equal rows, the first).
pub fn insert_all_once_about(
    conn: &mut DbConnection,
    rows: &[AboutRow<'_>],
) -> QueryResult<HashSet<String>> {
    let DbConnection::Sqlite(sqlite) = conn else {
        return Err(diesel::result::Error::QueryBuilderError(
            "the arrivals file is SQLite's alone".into(),
        ));
    };
    let in_inbox = held_by_inbox(sqlite, rows)?;
    let new: Vec<NewArrival> = rows
        .iter()
        .filter(|(row, ..)| !in_inbox.contains(&row.id))
        .map(|(row, customer_id, order_id)| NewArrival {
            id: row.id.clone(),
            shop_id: row.shop_id.clone(),
            platform: row.platform.as_str().to_owned(),
            topic: row.topic.clone(),
            delivery_id: row.delivery_id.clone(),
            event_id: row.event_id.clone(),
            api_version: row.api_version.clone(),
            triggered_at: row.triggered_at,
            payload: row.payload.clone(),
            received_at: row.received_at,
            customer_id: customer_id.map(str::to_owned),
            order_id: order_id.map(str::to_owned),
        })
        .collect();
    let mut stored = HashSet::with_capacity(new.len());
    // 12 columns: 512 rows stay well under SQLite's 32,766 bound values per statement.
    let mut new = new.into_iter().peekable();
    while new.peek().is_some() {
        let chunk: Vec<NewArrival> = new.by_ref().take(512).collect();
        let ids: Vec<String> = diesel::insert_into(arrivals::table)
            .values(chunk)
            .on_conflict_do_nothing()
            .returning(arrivals::id)
            .get_results(sqlite)?;
        stored.extend(ids);
    }
    Ok(stored)
}

/// The ids of `rows` whose delivery the inbox already holds: by (shop, platform, delivery id),
/// and for WooCommerce also by its delivery header (`event_id`), as the inbox's unique keys.
fn held_by_inbox(
    conn: &mut SqliteConnection,
    rows: &[AboutRow<'_>],
) -> QueryResult<HashSet<String>> {
    let mut groups: BTreeMap<(&str, String), Vec<&AboutRow<'_>>> = BTreeMap::new();
    for row in rows {
        groups
            .entry((row.0.shop_id.as_str(), row.0.platform.as_str().to_owned()))
            .or_default()
            .push(row);
    }
    let mut held = HashSet::new();
    for ((shop_id, platform), rows) in groups {
        let deliveries: Vec<&str> = rows.iter().map(|r| r.0.delivery_id.as_str()).collect();
        let found: HashSet<String> = inbox_events::table
            .filter(inbox_events::shop_id.eq(shop_id))
            .filter(inbox_events::platform.eq(&platform))
            .filter(in_list(inbox_events::delivery_id, &deliveries))
            .select(inbox_events::delivery_id)
            .load::<String>(conn)?
            .into_iter()
            .collect();
        held.extend(
            rows.iter()
                .filter(|r| found.contains(&r.0.delivery_id))
                .map(|r| r.0.id.clone()),
        );
        if platform != Platform::WooCommerce.as_str() {
            continue;
        }
        let events: Vec<&str> = rows
            .iter()
            .filter_map(|r| r.0.event_id.as_deref())
            .collect();
        if events.is_empty() {
            continue;
        }
        let found: HashSet<String> = inbox_events::table
            .filter(inbox_events::shop_id.eq(shop_id))
            .filter(inbox_events::platform.eq(&platform))
            .filter(in_list(inbox_events::event_id, &events))
            .select(inbox_events::event_id.assume_not_null())
            .load::<String>(conn)?
            .into_iter()
            .collect();
        held.extend(
            rows.iter()
                .filter(|r| r.0.event_id.as_ref().is_some_and(|e| found.contains(e)))
                .map(|r| r.0.id.clone()),
        );
    }
    Ok(held)
}

/// Whether the arrivals file holds this delivery (for a delivery stored straight into the
/// inbox: a lone one, applied as it is stored). `false` on PostgreSQL.
pub fn holds(
    conn: &mut DbConnection,
    shop_id: &str,
    platform: Platform,
    delivery_id: &str,
    event_id: Option<&str>,
) -> QueryResult<bool> {
    let DbConnection::Sqlite(sqlite) = conn else {
        return Ok(false);
    };
    let platform = platform.as_str().to_owned();
    let by_delivery = arrivals::table
        .filter(arrivals::shop_id.eq(shop_id))
        .filter(arrivals::platform.eq(&platform))
        .filter(arrivals::delivery_id.eq(delivery_id));
    if diesel::select(diesel::dsl::exists(by_delivery)).get_result(sqlite)? {
        return Ok(true);
    }
    match event_id {
        Some(event_id) if platform == Platform::WooCommerce.as_str() => {
            let by_event = arrivals::table
                .filter(arrivals::shop_id.eq(shop_id))
                .filter(arrivals::platform.eq(&platform))
                .filter(arrivals::event_id.eq(event_id));
            diesel::select(diesel::dsl::exists(by_event)).get_result(sqlite)
        }
        _ => Ok(false),
    }
}
