//! Finding customers for the owner: by e-mail, name or platform id (`GET /customers?q=`), in a
//! segment, or all of them, a page at a time by member id.
//!
//! Matching is a case-insensitive substring of the e-mail or of "first last", or the exact
//! platform id: what an owner types from a support e-mail or an order page. SQL `lower()` folds
//! ASCII only on SQLite; names in other scripts (Arabic has no case) match as typed.

use diesel::dsl::sql;
use diesel::prelude::*;
use diesel::sql_types::{Bool, Text};

use crate::db::models::Member;
use crate::db::schema::{customer_facts, members};
use crate::db::DbConnection;
use crate::domain::retention::Segment;

/// The longest search text accepted (longer is not a name or an address anyone types).
pub const MAX_QUERY_CHARS: usize = 200;

/// What to list.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    /// Search text, trimmed and non-empty.
    pub q: Option<String>,
    pub segment: Option<Segment>,
}

/// Why a search request cannot run.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SearchError {
    #[error("q must be 1–{MAX_QUERY_CHARS} characters")]
    BadQuery,
}

impl Filter {
    /// The filter for a raw `q` (blank means no search) and segment.
    pub fn new(q: Option<&str>, segment: Option<Segment>) -> Result<Self, SearchError> {
        let q = match q.map(str::trim) {
            None | Some("") => None,
            Some(t) if t.chars().count() > MAX_QUERY_CHARS || t.contains('\0') => {
                return Err(SearchError::BadQuery)
            }
            Some(t) => Some(t.to_owned()),
        };
        Ok(Self { q, segment })
    }
}

/// `text` as a LIKE pattern matching it anywhere, lowercased, with `%`, `_` and the escape
/// character itself taken literally.
fn contains_pattern(text: &str) -> String {
    let mut p = String::with_capacity(text.len() + 2);
    p.push('%');
    for ch in text.to_lowercase().chars() {
        if matches!(ch, '%' | '_' | '\\') {
            p.push('\\');
        }
        p.push(ch);
    }
    p.push('%');
    p
}

/// A page of live members (not merged away, not erased) matching `filter`, after the cursor (a
/// member id), with each one's segment.
pub fn page(
    conn: &mut DbConnection,
    shop_id: &str,
    filter: &Filter,
    after: Option<&str>,
    limit: i64,
) -> QueryResult<Vec<(Member, Option<String>)>> {
    let mut query = members::table
        .left_join(
            customer_facts::table.on(customer_facts::member_id
                .eq(members::id)
                .and(customer_facts::shop_id.eq(shop_id))),
        )
        .filter(members::shop_id.eq(shop_id))
        .filter(members::merged_into.is_null())
        .filter(members::redacted_at.is_null())
        .order(members::id)
        .limit(limit)
        .select((Member::as_select(), customer_facts::segment.nullable()))
        .into_boxed();
    if let Some(segment) = filter.segment {
        query = query.filter(customer_facts::segment.eq(segment.as_str()));
    }
    if let Some(after) = after {
        query = query.filter(members::id.gt(after.to_owned()));
    }
    if let Some(q) = &filter.q {
        let pattern = contains_pattern(q);
        // Both backends: `||` concatenates, `lower` folds, `ESCAPE` names our escape character.
        let name = sql::<Bool>(
            "lower(coalesce(members.first_name, '') || ' ' || coalesce(members.last_name, '')) \
             LIKE ",
        )
        .bind::<Text, _>(pattern.clone())
        .sql(" ESCAPE '\\'");
        let email = sql::<Bool>("lower(coalesce(members.email, '')) LIKE ")
            .bind::<Text, _>(pattern)
            .sql(" ESCAPE '\\'");
        query = query.filter(
            members::platform_customer_id
                .eq(q.clone())
                .or(name)
                .or(email),
        );
    }
    query.load(conn)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns_take_wildcards_literally_and_fold_case() {
        assert_eq!(contains_pattern("Ann"), "%ann%");
        assert_eq!(contains_pattern("50%_off\\"), "%50\\%\\_off\\\\%");
        assert_eq!(contains_pattern("ليلى"), "%ليلى%");
    }

    #[test]
    fn blank_searches_list_everyone_and_oversized_ones_are_refused() {
        assert_eq!(Filter::new(Some("  "), None).unwrap().q, None);
        assert_eq!(Filter::new(None, None).unwrap().q, None);
        assert_eq!(
            Filter::new(Some(" a@b.c "), None).unwrap().q.as_deref(),
            Some("a@b.c")
        );
        let long = "x".repeat(MAX_QUERY_CHARS + 1);
        assert_eq!(
            Filter::new(Some(&long), None).unwrap_err(),
            SearchError::BadQuery
        );
        assert_eq!(
            Filter::new(Some("a\0b"), None).unwrap_err(),
            SearchError::BadQuery
        );
    }
}
