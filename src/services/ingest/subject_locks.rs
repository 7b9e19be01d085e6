//! The appliers' locks on what the events they apply are about (PostgreSQL).
//!
//! Every instance applies events: its writer applies a small batch in the storing transaction,
//! its applier thread applies pending events, and jobs apply the order documents they read.
//! Two of those applying events of the same customer at once lock that member's rows (and its
//! metric roll-ups) in whatever order their events come, and two batches taking the same two
//! customers crosswise deadlock: PostgreSQL aborts one event, which is then left to a job
//! (seconds later, and never when the instance runs no jobs). So before applying, each takes a
//! transaction-scoped advisory lock per customer the batch is about (per order, for an event
//! without a customer), all in one statement and in one order (the lock's key): batches about
//! the same customers take turns, batches about others run side by side. SQLite has one
//! writer; nothing is needed there.

use diesel::prelude::*;
use diesel::sql_types::Text;

use crate::db::DbConnection;

/// Takes the locks of `subjects` (each an event's customer id and order id), held until the
/// transaction ends. Re-taking a lock the transaction holds is free.
pub fn lock_subjects<'a>(
    conn: &mut DbConnection,
    subjects: impl IntoIterator<Item = (Option<&'a str>, Option<&'a str>)>,
) -> QueryResult<()> {
    crate::db::lock_keys(conn, subject_keys(subjects))
}

/// Takes each shop's lock before the subjects' (every applier does, so the order of the two
/// kinds never crosses): alone for a batch with an event that changes the shop itself (an
/// uninstall, a redaction, new settings), shared otherwise. So an order of a shop is never
/// applied beside that shop's redaction: it is applied before it (and erased by it) or after it
/// (and sees the shop redacted). `shops` are (shop id, whether the event changes the shop).
pub fn lock_shops<'a>(
    conn: &mut DbConnection,
    shops: impl IntoIterator<Item = (&'a str, bool)>,
) -> QueryResult<()> {
    let DbConnection::Postgresql(pg) = conn else {
        return Ok(());
    };
    for (key, alone) in shop_keys(shops) {
        let lock = if alone {
            "SELECT pg_advisory_xact_lock(hashtextextended($1, 0))"
        } else {
            "SELECT pg_advisory_xact_lock_shared(hashtextextended($1, 0))"
        };
        diesel::sql_query(lock).bind::<Text, _>(key).execute(pg)?;
    }
    Ok(())
}

/// Each shop's lock key once, in key order, held alone if any of its events asks for that.
fn shop_keys<'a>(shops: impl IntoIterator<Item = (&'a str, bool)>) -> Vec<(String, bool)> {
    let mut keys: std::collections::BTreeMap<String, bool> = std::collections::BTreeMap::new();
    for (shop, alone) in shops {
        *keys.entry(format!("apply:shop:{shop}")).or_default() |= alone;
    }
    keys.into_iter().collect()
}

/// The lock keys of `subjects`: the customer's, or the order's for an event without one.
/// Platform ids are unique per platform's shop; two shops sharing one only share a turn.
fn subject_keys<'a>(
    subjects: impl IntoIterator<Item = (Option<&'a str>, Option<&'a str>)>,
) -> Vec<String> {
    let mut keys: Vec<String> = subjects
        .into_iter()
        .filter_map(|subject| match subject {
            (Some(customer), _) => Some(format!("apply:customer:{customer}")),
            (None, Some(order)) => Some(format!("apply:order:{order}")),
            (None, None) => None,
        })
        .collect();
    keys.sort_unstable();
    keys.dedup();
    keys
}

#[cfg(test)]
mod tests {
    use super::{shop_keys, subject_keys};

    #[test]
    fn a_shop_is_locked_once_and_alone_when_any_of_its_events_asks() {
        let keys = shop_keys([("b", false), ("a", false), ("b", true), ("a", false)]);
        assert_eq!(
            keys,
            vec![
                ("apply:shop:a".to_owned(), false),
                ("apply:shop:b".to_owned(), true)
            ]
        );
    }

    #[test]
    fn a_customer_is_locked_once_and_orders_only_without_one() {
        let keys = subject_keys([
            (Some("7"), Some("100")),
            (Some("7"), Some("101")),
            (None, Some("102")),
            (None, None),
            (Some("3"), None),
        ]);
        assert_eq!(
            keys,
            vec![
                "apply:customer:3".to_owned(),
                "apply:customer:7".to_owned(),
                "apply:order:102".to_owned()
            ]
        );
    }
}
