//! The appliers' locks on what the events they apply are about (PostgreSQL).
//!
//! Every instance applies events: its writer applies a delivery that arrives alone in the
//! storing transaction, its applier threads apply pending events, and jobs apply the order
//! documents they read and retry the events the others could not apply.
//! Two of those applying events of the same customer at once lock that member's rows (and its
//! metric roll-ups) in whatever order their events come, and two batches taking the same two
//! customers crosswise deadlock: PostgreSQL aborts one event, which is then left to a job
//! (seconds later, and never when the instance runs no jobs). So before applying, each takes a
//! transaction-scoped advisory lock per customer and per order the batch is about, all in one
//! statement and in one order (the lock's key): batches about the same customers or orders
//! take turns, batches about others run side by side. The keys name the shop: platform ids are
//! unique only within a shop on WooCommerce (customer 5 of one store is not customer 5 of
//! another), and one shop's burst must not hold up another's events. SQLite has one
//! writer; nothing is needed there.

use std::collections::HashSet;

use diesel::prelude::*;
use diesel::sql_types::Text;

use crate::db::DbConnection;
use crate::services::compliance::Subject;

/// What an event is about, for the appliers' locks: its shop, and the customer and order its
/// delivery names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ShopSubject<'a> {
    pub shop_id: &'a str,
    pub customer_id: Option<&'a str>,
    pub order_id: Option<&'a str>,
}

impl<'a> ShopSubject<'a> {
    /// The customer and order a delivery to `shop_id` names.
    pub fn of(shop_id: &'a str, subject: &'a Subject) -> Self {
        Self {
            shop_id,
            customer_id: subject.customer_id.as_deref(),
            order_id: subject.order_id.as_deref(),
        }
    }
}

/// Takes the locks of `subjects`, held until the transaction ends. Re-taking a lock the
/// transaction holds is free.
pub fn lock_subjects<'a>(
    conn: &mut DbConnection,
    subjects: impl IntoIterator<Item = ShopSubject<'a>>,
) -> QueryResult<()> {
    crate::db::lock_keys(conn, subject_keys(subjects))
}

/// Takes the locks of `subjects` that no other transaction holds, without waiting; returns, for
/// each subject, whether its event may be applied now. An applier claiming a batch leaves the
/// events of subjects another applier is busy with for a later batch instead of waiting for
/// that one to commit (two appliers taking the oldest events would otherwise take turns on
/// their shared customers, and a second applier would add little). SQLite has one writer:
/// every subject is free there.
pub fn try_lock_subjects(
    conn: &mut DbConnection,
    subjects: &[ShopSubject<'_>],
) -> QueryResult<Vec<bool>> {
    let DbConnection::Postgresql(pg) = conn else {
        return Ok(vec![true; subjects.len()]);
    };
    // Each subject's keys, formatted once: sorted and deduplicated to be taken, then used again
    // to tell which events wait.
    let each: Vec<Vec<String>> = subjects.iter().map(|s| keys_of(*s).collect()).collect();
    let keys = sorted_unique(each.iter().flatten().cloned());
    if keys.is_empty() {
        return Ok(vec![true; subjects.len()]);
    }
    #[derive(QueryableByName)]
    struct Held {
        #[diesel(sql_type = Text)]
        key: String,
    }
    let held_elsewhere: Vec<Held> = diesel::sql_query(
        "SELECT k AS key FROM unnest($1::text[]) AS k \
         WHERE NOT pg_try_advisory_xact_lock(hashtextextended(k, 0))",
    )
    .bind::<diesel::sql_types::Array<Text>, _>(keys)
    .load(pg)?;
    Ok(free_now(
        &each,
        &held_elsewhere.into_iter().map(|h| h.key).collect(),
    ))
}

/// Whether each subject's event may be applied now: none of its keys is held by another
/// applier, and none is shared with an event left for later for that reason (the later event
/// of a customer would otherwise overtake the earlier one of the same customer).
/// `keys` are each subject's ([`keys_of`]).
fn free_now(keys: &[Vec<String>], held_elsewhere: &HashSet<String>) -> Vec<bool> {
    let left: HashSet<&String> = keys
        .iter()
        .filter(|keys| keys.iter().any(|k| held_elsewhere.contains(k)))
        .flatten()
        .collect();
    keys.iter()
        .map(|keys| keys.iter().all(|k| !left.contains(k)))
        .collect()
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

/// The lock keys of `subjects`, sorted and each once ([`keys_of`]).
fn subject_keys<'a>(subjects: impl IntoIterator<Item = ShopSubject<'a>>) -> Vec<String> {
    sorted_unique(subjects.into_iter().flat_map(keys_of))
}

/// A subject's lock keys: the customer's and the order's, each within its shop. Both, because
/// the events of one order do not all name its customer (Shopify's `refunds/create` names only
/// the order): an order and its refund applied side by side would each miss the other's
/// uncommitted rows (the award not reversed).
fn keys_of(s: ShopSubject<'_>) -> impl Iterator<Item = String> {
    [
        s.customer_id
            .map(|c| format!("apply:customer:{}:{c}", s.shop_id)),
        s.order_id.map(|o| format!("apply:order:{}:{o}", s.shop_id)),
    ]
    .into_iter()
    .flatten()
}

/// Keys in one order (every applier takes its locks in the same order) and each once.
fn sorted_unique(keys: impl IntoIterator<Item = String>) -> Vec<String> {
    let mut keys: Vec<String> = keys.into_iter().collect();
    keys.sort_unstable();
    keys.dedup();
    keys
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::{free_now, keys_of, shop_keys, subject_keys, ShopSubject};

    /// Each subject's keys, as `try_lock_subjects` hands them to `free_now`.
    fn each(subjects: &[ShopSubject<'_>]) -> Vec<Vec<String>> {
        subjects.iter().map(|s| keys_of(*s).collect()).collect()
    }

    fn about<'a>(
        shop_id: &'a str,
        customer: Option<&'a str>,
        order: Option<&'a str>,
    ) -> ShopSubject<'a> {
        ShopSubject {
            shop_id,
            customer_id: customer,
            order_id: order,
        }
    }

    #[test]
    fn events_sharing_a_customer_or_order_with_one_held_elsewhere_wait_with_it() {
        let subjects = [
            about("s", Some("7"), Some("100")),
            about("s", None, Some("101")),
            about("s", Some("8"), Some("102")),
            about("s", None, None),
            about("s", Some("7"), Some("103")),
            about("s", None, Some("101")),
        ];
        let held: HashSet<String> = ["apply:order:s:100", "apply:order:s:101"]
            .map(str::to_owned)
            .into();
        assert_eq!(
            free_now(&each(&subjects), &held),
            [false, false, true, true, false, false]
        );
        assert_eq!(free_now(&each(&subjects), &HashSet::new()), [true; 6]);
    }

    #[test]
    fn the_same_ids_in_another_shop_are_another_subject() {
        // WooCommerce numbers customers and orders per store: customer 7 and order 100 of
        // store `b` have nothing to do with store `a`'s, held by another applier.
        let subjects = [
            about("a", Some("7"), Some("100")),
            about("b", Some("7"), Some("100")),
        ];
        let held: HashSet<String> = ["apply:customer:a:7"].map(str::to_owned).into();
        assert_eq!(free_now(&each(&subjects), &held), [false, true]);
    }

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
    fn a_customer_is_locked_once_and_so_is_every_order() {
        let keys = subject_keys([
            about("s", Some("7"), Some("100")),
            about("s", Some("7"), Some("101")),
            about("s", None, Some("102")),
            about("s", None, None),
            about("s", Some("3"), None),
            about("t", Some("3"), None),
        ]);
        assert_eq!(
            keys,
            vec![
                "apply:customer:s:3".to_owned(),
                "apply:customer:s:7".to_owned(),
                "apply:customer:t:3".to_owned(),
                "apply:order:s:100".to_owned(),
                "apply:order:s:101".to_owned(),
                "apply:order:s:102".to_owned()
            ]
        );
    }
}
