//! `GET /export/customers.csv`: every live member, a page at a time, in a CSV a spreadsheet
//! opens.
//!
//! The balance and tier columns are named `points_balance` and `current_tier`, not the import's
//! `points` and `tier`: the import *adds* its points, so an export sent back to the import by
//! mistake would credit every balance a second time. Sent back, it changes nothing (a
//! birthday is only ever filled in where none is known).

use diesel::QueryResult;

use crate::db::models::Member;
use crate::db::DbConnection;
use crate::services::customers::search::{self, Filter};

pub const HEADER: [&str; 12] = [
    "customer_id",
    "email",
    "first_name",
    "last_name",
    "points_balance",
    "pending_points",
    "lifetime_points",
    "current_tier",
    "birthday",
    "segment",
    "accepts_marketing",
    "created_at",
];

/// Members per page read from the database (each page is one chunk of the response).
pub const PAGE: i64 = 1_000;

/// The header line.
pub fn header() -> Vec<u8> {
    let mut w = csv::Writer::from_writer(Vec::new());
    // Writing to a Vec cannot fail.
    let _ = w.write_record(HEADER);
    w.into_inner().unwrap_or_default()
}

/// A field a spreadsheet would run as a formula (`=`, `+`, `-`, `@`, tab, CR first) is given a
/// leading apostrophe: a shopper's name must not become a command on the owner's computer.
fn cell(text: &str) -> String {
    match text.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{text}"),
        _ => text.to_owned(),
    }
}

fn record(m: &Member, segment: Option<&str>) -> [String; 12] {
    [
        m.platform_customer_id.clone().unwrap_or_default(),
        cell(m.email.as_deref().unwrap_or("")),
        cell(m.first_name.as_deref().unwrap_or("")),
        cell(m.last_name.as_deref().unwrap_or("")),
        m.points_balance.to_string(),
        m.pending_points.to_string(),
        m.lifetime_points.to_string(),
        m.tier.clone().unwrap_or_default(),
        m.birthday.map(|d| d.to_string()).unwrap_or_default(),
        segment.unwrap_or("").to_owned(),
        m.accepts_marketing.to_string(),
        crate::services::customers::rfc3339(m.created_at),
    ]
}

/// The CSV lines of the page of members after `after`, and the cursor of the next page
/// (`None` after the last).
pub fn page(
    conn: &mut DbConnection,
    shop_id: &str,
    after: Option<&str>,
) -> QueryResult<(Vec<u8>, Option<String>)> {
    let members = search::page(conn, shop_id, &Filter::default(), after, PAGE)?;
    let next = (members.len() as i64 == PAGE)
        .then(|| members.last().map(|(m, _)| m.id.clone()))
        .flatten();
    let mut w = csv::Writer::from_writer(Vec::new());
    for (m, segment) in &members {
        let _ = w.write_record(record(m, segment.as_deref()));
    }
    Ok((w.into_inner().unwrap_or_default(), next))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formulas_are_defused_and_plain_text_is_kept() {
        assert_eq!(cell("=HYPERLINK(\"x\")"), "'=HYPERLINK(\"x\")");
        assert_eq!(cell("+1"), "'+1");
        assert_eq!(cell("-2"), "'-2");
        assert_eq!(cell("@sum"), "'@sum");
        assert_eq!(cell("Ann"), "Ann");
        assert_eq!(cell("ليلى"), "ليلى");
        assert_eq!(cell(""), "");
    }

    #[test]
    fn the_header_never_names_the_columns_the_import_adds_from() {
        let header = String::from_utf8(header()).unwrap();
        let columns: Vec<&str> = header.trim_end().split(',').collect();
        assert_eq!(columns, HEADER);
        assert!(!columns.contains(&"points") && !columns.contains(&"tier"));
    }
}
