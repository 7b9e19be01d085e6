//! Arrivals not moved yet, as the inbox's readers see them: pending events.

use diesel::prelude::*;

use super::{arrivals, file_id, moved_upto};
use crate::db::models::InboxEvent;
use crate::db::stored_body::StoredBody;
use crate::db::types::InboxStatus;
use crate::db::DbConnection;

/// How many arrivals wait to be moved into the inbox (0 on PostgreSQL): acknowledged deliveries
/// pending as much as the inbox's own pending rows.
pub fn waiting(conn: &mut DbConnection) -> QueryResult<i64> {
    let DbConnection::Sqlite(sqlite) = conn else {
        return Ok(0);
    };
    let Some(file) = file_id(sqlite)? else {
        return Ok(0);
    };
    let from = moved_upto(sqlite, &file)?;
    arrivals::table
        .filter(arrivals::seq.gt(from))
        .count()
        .get_result(sqlite)
}

/// The shop's oldest arrivals not moved yet, as the pending inbox events they will become
/// (empty on PostgreSQL).
pub fn waiting_for_shop(
    conn: &mut DbConnection,
    shop_id: &str,
    limit: i64,
) -> QueryResult<Vec<InboxEvent>> {
    let DbConnection::Sqlite(sqlite) = conn else {
        return Ok(Vec::new());
    };
    let Some(file) = file_id(sqlite)? else {
        return Ok(Vec::new());
    };
    let from = moved_upto(sqlite, &file)?;
    type Row = (
        String,
        String,
        String,
        String,
        String,
        Option<String>,
        Option<String>,
        Option<chrono::NaiveDateTime>,
        StoredBody,
        chrono::NaiveDateTime,
    );
    let rows: Vec<Row> = arrivals::table
        .filter(arrivals::shop_id.eq(shop_id))
        .filter(arrivals::seq.gt(from))
        .order(arrivals::seq.asc())
        .limit(limit)
        .select((
            arrivals::id,
            arrivals::shop_id,
            arrivals::platform,
            arrivals::topic,
            arrivals::delivery_id,
            arrivals::event_id,
            arrivals::api_version,
            arrivals::triggered_at,
            arrivals::payload,
            arrivals::received_at,
        ))
        .load(sqlite)?;
    rows.into_iter()
        .map(|row| {
            Ok(InboxEvent {
                id: row.0,
                shop_id: row.1,
                platform: row
                    .2
                    .parse()
                    .map_err(|e| diesel::result::Error::DeserializationError(Box::new(e)))?,
                topic: row.3,
                delivery_id: row.4,
                event_id: row.5,
                api_version: row.6,
                triggered_at: row.7,
                payload: row.8 .0,
                status: InboxStatus::Pending,
                error: None,
                attempts: 0,
                received_at: row.9,
                processed_at: None,
                body_erased_at: None,
            })
        })
        .collect()
}
