//! What the owner reads of the segments: the count per segment and the customers of one, paged.

use diesel::prelude::*;

use crate::db::models::Member;
use crate::db::schema::{customer_facts, members};
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

/// The members of `segment` after the cursor (a member id), oldest id first, at most `limit`.
pub fn members_in(
    conn: &mut DbConnection,
    shop_id: &str,
    segment: Segment,
    after: Option<&str>,
    limit: i64,
) -> QueryResult<Vec<Member>> {
    let mut query = customer_facts::table
        .inner_join(members::table.on(members::id.eq(customer_facts::member_id)))
        .filter(customer_facts::shop_id.eq(shop_id))
        .filter(members::shop_id.eq(shop_id))
        .filter(customer_facts::segment.eq(segment.as_str()))
        .order(customer_facts::member_id)
        .limit(limit)
        .select(Member::as_select())
        .into_boxed();
    if let Some(after) = after {
        query = query.filter(customer_facts::member_id.gt(after.to_owned()));
    }
    query.load(conn)
}
