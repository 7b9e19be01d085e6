//! What the owner reads of the segments: the count per segment (the customers of one are listed
//! by `services::customers::search`).

use diesel::prelude::*;

use crate::db::schema::customer_facts;
use crate::db::DbConnection;
use crate::domain::retention::Segment;

/// Customers per segment (every segment, zero when empty), from the stored segments.
pub fn counts(conn: &mut DbConnection, shop_id: &str) -> QueryResult<Vec<(Segment, i64)>> {
    let rows: Vec<(Option<String>, i64)> = customer_facts::table
        .filter(customer_facts::shop_id.eq(shop_id))
        .filter(customer_facts::segment.is_not_null())
        .group_by(customer_facts::segment)
        .select((customer_facts::segment, diesel::dsl::count_star()))
        .load(conn)?;
    Ok(Segment::ALL
        .into_iter()
        .map(|segment| {
            let n = rows
                .iter()
                .filter(|(s, _)| s.as_deref() == Some(segment.as_str()))
                .map(|(_, n)| *n)
                .sum();
            (segment, n)
        })
        .collect())
}
