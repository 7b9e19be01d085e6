//! The roll-ups an order row moves (the retention metrics' `metric_orders`, `metric_spells` and
//! `metric_day_changes`, replenishment's `product_purchases`, and the members' purchase facts
//! in `customer_facts`), written at once or, inside an applier batch, once for the whole batch.
//!
//! The engagement roll-up's days (`metric_engagement`) are collected the same way.
//!
//! Per order these are about fourteen statements (read the stored metric row and the
//! customer's orders twice, delete and insert the metric row, the spells and the purchases,
//! record the day, read and upsert the facts, read the open win-back entries). An applier batch (16 to 256 orders) collects the changed rows instead and writes each
//! table once when the batch ends: one read of the stored rows, one of the customers' orders,
//! one delete and one multi-row insert per table. Nothing else in an order's application reads
//! these tables, so writing them at the end of the same transaction changes no outcome; what
//! does read or rewrite them (a guest claimed by an account, a redaction, any event that is not
//! an order or a refund) calls [`flush`] first. The batch itself is `services::batch`.
//!
//! A batch still working through a backlog of deliveries does not write them at all: it keeps
//! them in `rollup_backlog` for a batch that finds the inbox caught up (`backlog`).

use std::collections::{BTreeMap, BTreeSet};

use chrono::{NaiveDate, NaiveDateTime};
use chrono_tz::Tz;
use diesel::QueryResult;

use super::facts::FactChange;
use crate::db::models::{Member, Order};
use crate::db::DbConnection;
use crate::services::batch;
use crate::services::mail::Queued;

/// One order row as written, with what the caller knew of its member.
#[derive(Debug, Clone)]
pub struct Changed {
    pub order: Order,
    pub zone: Tz,
    /// Whether the order's member is an account, when the caller had the member in hand
    /// (`None`: read it when writing).
    pub member_is_account: Option<bool>,
}

impl Changed {
    pub fn new(order: &Order, zone: Tz, member_in_hand: Option<&Member>) -> Self {
        Self {
            order: order.clone(),
            zone,
            member_is_account: is_account(
                order.member_id.as_deref(),
                member_in_hand.map(|m| (m.id.as_str(), m.platform_customer_id.is_some())),
            ),
        }
    }
}

/// Whether the order's member is an account, as far as the member in hand (id, is an account)
/// tells: an order without a member is nobody's; another member's row tells nothing.
fn is_account(order_member: Option<&str>, in_hand: Option<(&str, bool)>) -> Option<bool> {
    match (order_member, in_hand) {
        (None, _) => Some(false),
        (Some(id), Some((hand, account))) if hand == id => Some(account),
        (Some(_), _) => None,
    }
}

/// Changes collected by an applier batch.
#[derive(Debug, Default)]
pub(crate) struct Pending {
    /// By (shop, order id): the last row of an order wins, since its roll-ups follow from the
    /// row alone.
    pub(super) orders: BTreeMap<(String, String), Changed>,
    /// Purchase facts moves by shop, in the order they were made (each moves from the last).
    pub(super) facts: BTreeMap<String, ShopFacts>,
    /// The engagement roll-up's days, by shop and member (`metrics_engagement`).
    pub(super) engaged: BTreeMap<String, BTreeMap<String, BTreeSet<NaiveDate>>>,
}

impl Pending {
    /// Keeps an order's latest row (see [`keep`]).
    pub(super) fn keep_order(&mut self, shop_id: &str, change: Changed) {
        keep(&mut self.orders, shop_id, change);
    }
}

#[derive(Debug)]
pub(super) struct ShopFacts {
    pub(super) zone: Tz,
    pub(super) changes: Vec<FactChange>,
    pub(super) now: NaiveDateTime,
}

/// An order row was written: its roll-ups follow, now or at the end of the open batch.
pub fn order_changed(conn: &mut DbConnection, shop_id: &str, change: Changed) -> QueryResult<()> {
    let change = batch::with_state(|state| match state {
        Some(state) => {
            keep(&mut state.rollups.orders, shop_id, change);
            None
        }
        None => Some(change),
    });
    match change {
        Some(change) => write(conn, shop_id, &[change]),
        None => Ok(()),
    }
}

/// Keeps the order's latest row, with the membership it first had in the batch (an order
/// counts with the membership it first counted with) unless it moved to another member.
fn keep(pending: &mut BTreeMap<(String, String), Changed>, shop_id: &str, change: Changed) {
    let key = (shop_id.to_owned(), change.order.id.clone());
    let change = match pending.remove(&key) {
        Some(earlier) if earlier.order.member_id == change.order.member_id => Changed {
            member_is_account: earlier.member_is_account.or(change.member_is_account),
            ..change
        },
        _ => change,
    };
    pending.insert(key, change);
}

/// Brings the shop's roll-ups up to date before something reads or rewrites them: its backlog
/// rows, then what the open batch collected (for every shop); the batch stays open.
pub fn flush(conn: &mut DbConnection, shop_id: &str) -> QueryResult<()> {
    super::backlog::catch_up_shop(conn, shop_id)?;
    let pending = batch::with_state(|state| state.map(|s| std::mem::take(&mut s.rollups)));
    match pending {
        Some(pending) => write_pending(conn, pending, None),
        None => Ok(()),
    }
}

/// At the end of an applier batch: what it collected is written now with some of the backlog
/// (`keep_back` is `None`: the inbox is caught up, or the backlog is due), or kept as a backlog
/// row with the messages `keep_back` holds. Returns how many backlog rows were written.
pub(crate) fn finish_batch(
    conn: &mut DbConnection,
    keep_back: Option<Vec<Queued>>,
) -> QueryResult<usize> {
    let pending = batch::with_state(|state| state.map(|s| std::mem::take(&mut s.rollups)))
        .unwrap_or_default();
    if let Some(messages) = keep_back {
        super::backlog::defer(conn, pending, messages)?;
        return Ok(0);
    }
    // The backlog's customers and the batch's are locked together (see `lock_customers_of`).
    let caught_up = super::backlog::catch_up_with(conn, &pending)?;
    write_pending(conn, pending, None)?;
    Ok(caught_up)
}

/// On PostgreSQL, takes the roll-up locks of every customer the changes are about, in one
/// statement (`db::lock_keys`, in the locks' own order), before any is written.
///
/// Each shop's write locks its customers again (free once held), but a transaction that
/// locked shop by shop, or the backlog's customers and then its batch's, held some locks while
/// it waited for others: two appliers doing that crosswise deadlocked (seen with two
/// instances on one database, docs/PERFORMANCE.md, twenty-seventh session). Taken in one
/// statement, in the locks' own order, no two transactions can each hold one the other waits
/// for. An order that moved to another customer since its stored roll-up row was written
/// still has that customer locked on its own, later (a deadlock there is retried whole by the
/// applier, `ingest::pending`).
fn lock_customers_of(conn: &mut DbConnection, changes: &[&Pending]) -> QueryResult<()> {
    if !matches!(conn, DbConnection::Postgresql(_)) {
        return Ok(());
    }
    let keys: BTreeSet<String> = changes
        .iter()
        .flat_map(|pending| pending.orders.iter())
        .filter_map(|((shop_id, _), change)| {
            let customer = change.order.member_id.as_deref()?;
            Some(super::metrics_customers::customer_lock_key(
                shop_id, customer,
            ))
        })
        .collect();
    crate::db::lock_keys(conn, keys.into_iter().collect())
}

/// Writes collected changes, having locked their customers' roll-ups and those of `also` (what
/// the same transaction writes next) in one go (see [`lock_customers_of`]).
pub(super) fn write_pending(
    conn: &mut DbConnection,
    pending: Pending,
    also: Option<&Pending>,
) -> QueryResult<()> {
    let mut customers_of = vec![&pending];
    customers_of.extend(also);
    lock_customers_of(conn, &customers_of)?;
    let mut by_shop: BTreeMap<String, Vec<Changed>> = BTreeMap::new();
    for ((shop_id, _), change) in pending.orders {
        by_shop.entry(shop_id).or_default().push(change);
    }
    for (shop_id, changes) in by_shop {
        write(conn, &shop_id, &changes)?;
    }
    for (shop_id, facts) in pending.facts {
        super::facts::members_changed(conn, &shop_id, facts.zone, &facts.changes, facts.now)?;
    }
    for (shop_id, days) in pending.engaged {
        super::metrics_engagement::add_days(conn, &shop_id, &days)?;
    }
    Ok(())
}

/// A member was engaged on a shop-local day: kept for the end of the open batch (true), or
/// false outside one (the caller writes it now).
pub(super) fn day_engaged(shop_id: &str, member_id: &str, day: NaiveDate) -> bool {
    batch::with_state(|state| {
        state.is_some_and(|state| {
            state
                .rollups
                .engaged
                .entry(shop_id.to_owned())
                .or_default()
                .entry(member_id.to_owned())
                .or_default()
                .insert(day);
            true
        })
    })
}

/// Members' purchase facts move for an order (see `facts`): now, or at the end of the open
/// batch, in the order they were made.
pub fn facts_changed(
    conn: &mut DbConnection,
    shop_id: &str,
    zone: Tz,
    changes: Vec<FactChange>,
    now: NaiveDateTime,
) -> QueryResult<()> {
    let changes = batch::with_state(|state| match state {
        Some(state) => {
            let shop = state
                .rollups
                .facts
                .entry(shop_id.to_owned())
                .or_insert_with(|| ShopFacts {
                    zone,
                    changes: Vec::new(),
                    now,
                });
            shop.zone = zone;
            shop.now = now;
            shop.changes.extend(changes);
            None
        }
        None => Some(changes),
    });
    match changes {
        Some(changes) => super::facts::members_changed(conn, shop_id, zone, &changes, now),
        None => Ok(()),
    }
}

fn write(conn: &mut DbConnection, shop_id: &str, changes: &[Changed]) -> QueryResult<()> {
    super::replenishment::orders_changed(conn, shop_id, changes)?;
    super::metrics_customers::orders_changed(conn, shop_id, changes)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn order(id: &str, member: Option<&str>) -> Order {
        Order::for_tests(id, member)
    }

    fn pending() -> Vec<(String, Option<bool>, i64)> {
        batch::with_state(|state| {
            state
                .map(|state| {
                    state
                        .rollups
                        .orders
                        .values()
                        .map(|c| {
                            (
                                c.order.id.clone(),
                                c.member_is_account,
                                c.order.refunded_minor,
                            )
                        })
                        .collect()
                })
                .unwrap_or_default()
        })
    }

    fn collect(change: Changed) {
        batch::with_state(|state| {
            keep(
                &mut state.expect("a batch is open").rollups.orders,
                "s",
                change,
            )
        });
    }

    #[test]
    fn a_batch_keeps_the_last_row_of_an_order_with_the_membership_it_first_had() {
        let batch = batch::Batch::begin();
        let zone = chrono_tz::UTC;
        let first = Changed {
            member_is_account: Some(false),
            ..Changed::new(&order("o1", Some("m1")), zone, None)
        };
        collect(first);
        let mut refunded = order("o1", Some("m1"));
        refunded.refunded_minor = 40;
        collect(Changed {
            member_is_account: Some(true),
            ..Changed::new(&refunded, zone, None)
        });
        collect(Changed::new(&order("o2", None), zone, None));
        assert_eq!(
            pending(),
            vec![
                ("o1".into(), Some(false), 40),
                ("o2".into(), Some(false), 0)
            ]
        );
        drop(batch);
        assert!(
            pending().is_empty(),
            "a dropped batch forgets what it collected"
        );
    }

    #[test]
    fn an_order_moved_to_another_member_in_the_batch_takes_the_new_members_standing() {
        let _batch = batch::Batch::begin();
        let zone = chrono_tz::UTC;
        collect(Changed {
            member_is_account: Some(false),
            ..Changed::new(&order("o1", Some("guest")), zone, None)
        });
        collect(Changed {
            member_is_account: Some(true),
            ..Changed::new(&order("o1", Some("account")), zone, None)
        });
        assert_eq!(pending(), vec![("o1".into(), Some(true), 0)]);
    }

    #[test]
    fn the_member_in_hand_decides_membership_only_when_it_is_the_orders_member() {
        assert_eq!(is_account(Some("m1"), Some(("m1", true))), Some(true));
        assert_eq!(is_account(Some("m1"), Some(("m1", false))), Some(false));
        assert_eq!(is_account(Some("m1"), Some(("m2", true))), None);
        assert_eq!(is_account(Some("m1"), None), None);
        assert_eq!(is_account(None, Some(("m1", true))), Some(false));
        assert_eq!(is_account(None, None), Some(false));
    }
}
