//! The win-back report: the lapses that entered in a period, treated against hold-out, with
//! each customer's orders in the 30 days from entry, read from the stored entries and purchase
//! facts only (never the orders table), a page at a time.

use chrono::NaiveDate;
use diesel::prelude::*;

use crate::db::models::win_back_entry::WinBackEntry;
use crate::db::schema::{customer_facts, win_back_entries};
use crate::db::DbConnection;
use crate::domain::retention::{
    Group, Participant, Purchase, PurchaseFacts, WinBackReport, WinBackReportBuilder,
};

const PAGE: i64 = 1_000;

/// The report over the entries dated `from..=to` (the shop's days).
pub fn report(
    conn: &mut DbConnection,
    shop_id: &str,
    from: NaiveDate,
    to: NaiveDate,
) -> QueryResult<WinBackReport> {
    let mut builder = WinBackReportBuilder::new();
    let mut after = String::new();
    loop {
        let rows: Vec<(WinBackEntry, Option<String>)> = win_back_entries::table
            .left_join(
                customer_facts::table.on(customer_facts::member_id.eq(win_back_entries::member_id)),
            )
            .filter(win_back_entries::shop_id.eq(shop_id))
            .filter(win_back_entries::entered_on.ge(from))
            .filter(win_back_entries::entered_on.le(to))
            .filter(win_back_entries::id.gt(&after))
            .order(win_back_entries::id)
            .limit(PAGE)
            .select((WinBackEntry::as_select(), customer_facts::orders.nullable()))
            .load(conn)?;
        let Some((last, _)) = rows.last() else { break };
        after = last.id.clone();
        for (entry, orders) in &rows {
            builder.add(&participant(entry, orders.as_deref()));
        }
    }
    Ok(builder.finish())
}

fn participant(entry: &WinBackEntry, orders: Option<&str>) -> Participant {
    // A redacted customer's facts are gone: they still count as a customer without orders.
    let facts: PurchaseFacts = orders
        .and_then(|o| serde_json::from_str(o).ok())
        .unwrap_or_default();
    Participant {
        group: if entry.holdout {
            Group::Holdout
        } else {
            Group::Treated
        },
        entered_on: entry.entered_on,
        variant: entry.variant.clone(),
        mailed: !entry.holdout && entry.steps_sent > 0,
        orders: facts
            .recent_orders()
            .map(|o| Purchase {
                date: o.date,
                revenue_minor: o.net_minor,
            })
            .collect(),
    }
}
